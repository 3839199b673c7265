//! Throughput of authenticated calls, on loopback, in one process, rounds interleaved so that
//! the machine's noise falls on every arm alike.
//!
//! `bench-auth client`: the same trainer server (identity off) called through the runtime's
//! channel with Google ID tokens from a (fake) metadata server, through the same channel
//! without tokens, and through a plain tonic channel; reports calls/s, the ratio of
//! authenticated to unauthenticated, and how many tokens were fetched.
//!
//! `bench-auth server`: the same plain tonic client, sending the same valid ID token, against a
//! server in `verify` mode and one with identity `off`; reports calls/s and their ratio.
//!
//! Every run is bounded: `--rounds` rounds of `--seconds` per arm, after one warm-up round.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Parser, Subcommand};
use cloudrun_fake_google::FakeGoogle;
use cloudrun_runtime::client::{ClientConfig, GoogleIdToken};
use cloudrun_runtime::{AuthConfig, Server};
use prost_types::Timestamp;
use tonic::{Request, Response, Status};
use workouts_api::trainer::trainer_service_client::TrainerServiceClient;
use workouts_api::trainer::trainer_service_cloudrun;
use workouts_api::trainer::trainer_service_server::TrainerService;
use workouts_api::trainer::{
    EmptyResponse, IsHourAvailableRequest, IsHourAvailableResponse, UpdateHourRequest,
};

const AUDIENCE: &str = "https://trainer.bench";

#[derive(Parser)]
#[command(about = "Throughput of authenticated gRPC calls on loopback")]
struct Args {
    #[command(subcommand)]
    which: Which,
    /// Seconds per round.
    #[arg(long, global = true, default_value_t = 3)]
    seconds: u64,
    /// Measured rounds per arm.
    #[arg(long, global = true, default_value_t = 5)]
    rounds: usize,
    /// Calls in flight at once, over one HTTP/2 connection.
    #[arg(long, global = true, default_value_t = 32)]
    concurrency: usize,
}

#[derive(Subcommand, Clone, Copy)]
enum Which {
    /// Authenticated against unauthenticated client calls.
    Client,
    /// A verify-mode server against an off-mode server.
    Server,
}

/// The handler: constant answers, so the measurement is the call path.
struct Trainer;

#[tonic::async_trait]
impl TrainerService for Trainer {
    async fn is_hour_available(
        &self,
        _request: Request<IsHourAvailableRequest>,
    ) -> Result<Response<IsHourAvailableResponse>, Status> {
        Ok(Response::new(IsHourAvailableResponse {
            is_available: true,
        }))
    }

    async fn update_hour(
        &self,
        _request: Request<UpdateHourRequest>,
    ) -> Result<Response<EmptyResponse>, Status> {
        Ok(Response::new(EmptyResponse {}))
    }
}

/// Starts a trainer server on a loopback port with `auth`, logging every call (to nowhere).
async fn start_server(auth: AuthConfig) -> anyhow::Result<String> {
    let listening = Server::new()
        .host("127.0.0.1".parse()?)
        .port(0)
        .auth(auth)
        .log_writer(std::io::sink)
        .add_service(trainer_service_cloudrun::service(Trainer))
        .bind()
        .await?;
    let url = format!("http://{}", listening.local_addr());
    tokio::spawn(listening.serve());
    Ok(url)
}

/// Runs `concurrency` loops of IsHourAvailable for `seconds`; returns calls per second.
async fn load<T>(client: TrainerServiceClient<T>, seconds: u64, concurrency: usize) -> f64
where
    T: tonic::client::GrpcService<tonic::body::Body> + Clone + Send + 'static,
    T::Future: Send,
    T::Error: Into<tonic::codegen::StdError>,
    T::ResponseBody: tonic::codegen::Body<Data = tonic::codegen::Bytes> + Send + 'static,
    <T::ResponseBody as tonic::codegen::Body>::Error: Into<tonic::codegen::StdError> + Send,
{
    let calls = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let mut tasks = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let mut client = client.clone();
        let calls = Arc::clone(&calls);
        tasks.push(tokio::spawn(async move {
            let request = IsHourAvailableRequest {
                time: Some(Timestamp {
                    seconds: 1_893_492_000,
                    nanos: 0,
                }),
            };
            while Instant::now() < deadline {
                let answer = client.is_hour_available(request).await;
                if let Err(status) = answer {
                    panic!("a benchmark call failed: {status:?}");
                }
                calls.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for task in tasks {
        task.await.expect("a load task panicked");
    }
    calls.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    if sorted.len().is_multiple_of(2) {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    } else {
        sorted[mid]
    }
}

type Arm = (
    &'static str,
    Box<dyn Fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = f64>>>>,
);

/// Runs one warm-up round per arm, then `rounds` rounds in alternating order; prints each
/// round and returns the median calls/s per arm.
async fn rounds(arms: &[Arm], rounds: usize) -> Vec<f64> {
    for (_, run) in arms {
        run().await;
    }
    let mut results = vec![Vec::new(); arms.len()];
    for round in 0..rounds {
        let order: Vec<usize> = if round % 2 == 0 {
            (0..arms.len()).collect()
        } else {
            (0..arms.len()).rev().collect()
        };
        for i in order {
            let rate = arms[i].1().await;
            println!("{}\t{}\t{:.0}", arms[i].0, round + 1, rate);
            results[i].push(rate);
        }
    }
    results.iter().map(|r| median(r)).collect()
}

async fn client_bench(args: &Args) -> anyhow::Result<()> {
    let google = FakeGoogle::start().await;
    let url = start_server(AuthConfig::off()).await?;
    let authenticated =
        trainer_service_cloudrun::client_with(
            ClientConfig::new(&url).audience(AUDIENCE).token_source(
                GoogleIdToken::metadata_server_at(google.metadata_endpoint()),
            ),
        )
        .await?;
    let unauthenticated = trainer_service_cloudrun::client_with(ClientConfig::new(&url)).await?;
    let tonic_channel = tonic::transport::Endpoint::from_shared(url.clone())?
        .connect()
        .await
        .context("plain tonic channel")?;
    let plain = TrainerServiceClient::new(tonic_channel);
    // The same kind of token the metadata server gives, as a fixed header on a plain tonic
    // client: what carrying it costs any hyper/h2 client, whatever manages the token.
    let token = google.mint_for(cloudrun_fake_google::DEFAULT_SERVICE_ACCOUNT, AUDIENCE);
    let authorization: tonic::metadata::MetadataValue<_> = format!("Bearer {token}").parse()?;
    let tonic_channel = tonic::transport::Endpoint::from_shared(url.clone())?
        .connect()
        .await
        .context("plain tonic channel")?;
    let plain_with_header =
        TrainerServiceClient::with_interceptor(tonic_channel, move |mut request: Request<()>| {
            request
                .metadata_mut()
                .insert("authorization", authorization.clone());
            Ok(request)
        });

    let (seconds, concurrency) = (args.seconds, args.concurrency);
    let arms: Vec<Arm> = vec![
        ("authenticated", {
            let client = authenticated.clone();
            Box::new(move || Box::pin(load(client.clone(), seconds, concurrency)))
        }),
        ("unauthenticated", {
            let client = unauthenticated.clone();
            Box::new(move || Box::pin(load(client.clone(), seconds, concurrency)))
        }),
        ("plain-tonic", {
            let client = plain.clone();
            Box::new(move || Box::pin(load(client.clone(), seconds, concurrency)))
        }),
        ("plain-tonic+token-header", {
            let client = plain_with_header.clone();
            Box::new(move || Box::pin(load(client.clone(), seconds, concurrency)))
        }),
    ];
    println!("arm\tround\tcalls/s");
    let medians = rounds(&arms, args.rounds).await;
    println!();
    println!(
        "authenticated client: {:.0} calls/s, unauthenticated: {:.0}; plain tonic: {:.0}, with \
         the same token as a fixed header: {:.0} (medians of {})",
        medians[0], medians[1], medians[2], medians[3], args.rounds
    );
    let ours = medians[0] / medians[1];
    let header = medians[3] / medians[2];
    println!("ratio authenticated / unauthenticated: {ours:.3}");
    println!("ratio plain tonic with / without the token header: {header:.3}");
    println!(
        "our client's cost beyond carrying the header: {:.3}",
        ours / header
    );
    println!(
        "token fetches from the metadata server for all those calls: {}",
        google.identity_fetches()
    );
    Ok(())
}

async fn server_bench(args: &Args) -> anyhow::Result<()> {
    let google = FakeGoogle::start().await;
    let verify_url = start_server(AuthConfig::verify([AUDIENCE]).issuer(google.issuer())).await?;
    let off_url = start_server(AuthConfig::off()).await?;
    let token = google.mint_for("caller@fake-project.iam.gserviceaccount.com", AUDIENCE);
    let authorization: tonic::metadata::MetadataValue<_> = format!("Bearer {token}").parse()?;
    let client_for = |url: String| {
        let authorization = authorization.clone();
        async move {
            let channel = tonic::transport::Endpoint::from_shared(url)?
                .connect()
                .await?;
            anyhow::Ok(TrainerServiceClient::with_interceptor(
                channel,
                move |mut request: Request<()>| {
                    request
                        .metadata_mut()
                        .insert("authorization", authorization.clone());
                    Ok(request)
                },
            ))
        }
    };
    let verify = client_for(verify_url).await?;
    let off = client_for(off_url).await?;

    let (seconds, concurrency) = (args.seconds, args.concurrency);
    let arms: Vec<Arm> = vec![
        ("verify-server", {
            let client = verify.clone();
            Box::new(move || Box::pin(load(client.clone(), seconds, concurrency)))
        }),
        ("off-server", {
            let client = off.clone();
            Box::new(move || Box::pin(load(client.clone(), seconds, concurrency)))
        }),
    ];
    println!("arm\tround\tcalls/s");
    let medians = rounds(&arms, args.rounds).await;
    println!();
    println!(
        "verify-mode server: {:.0} calls/s, off-mode server: {:.0} (medians of {})",
        medians[0], medians[1], args.rounds
    );
    println!("ratio verify / off: {:.3}", medians[0] / medians[1]);
    println!(
        "JWKS fetches by the verify-mode server: {}",
        google.jwks_fetches()
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // One runtime for servers and clients, as in a service that also calls others.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        match args.which {
            Which::Client => client_bench(&args).await,
            Which::Server => server_bench(&args).await,
        }
    })
}
