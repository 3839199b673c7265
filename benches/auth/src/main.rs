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
    #[arg(long, global = true, default_value_t = 1)]
    seconds: u64,
    /// Measured rounds per arm.
    #[arg(long, global = true, default_value_t = 15)]
    rounds: usize,
    /// Calls in flight at once, over one HTTP/2 connection.
    #[arg(long, global = true, default_value_t = 32)]
    concurrency: usize,
    /// `client` only: call over TLS, as Cloud Run clients always do (the server is then tonic's
    /// TLS server standing in for Cloud Run's frontend, with a certificate from a test CA).
    #[arg(long, global = true)]
    tls: bool,
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

/// Starts tonic's TLS server with the trainer on a loopback port; returns its URL and the CA
/// that signed its certificate, as PEM.
async fn start_tls_server() -> anyhow::Result<(String, String)> {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
    use workouts_api::trainer::trainer_service_server::TrainerServiceServer;

    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "bench CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate()?)?;
    let key = KeyPair::generate()?;
    let cert = CertificateParams::new(vec!["localhost".to_owned()])?.signed_by(&key, &ca)?;
    let identity = tonic::transport::Identity::from_pem(cert.pem(), key.serialize_pem());

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let server = tonic::transport::Server::builder()
        .tls_config(tonic::transport::ServerTlsConfig::new().identity(identity))?
        .add_service(TrainerServiceServer::new(Trainer))
        .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener));
    tokio::spawn(server);
    Ok((format!("https://localhost:{port}"), ca.pem()))
}

/// A plain tonic channel to `url`, trusting `ca` when given.
async fn tonic_channel(url: &str, ca: Option<&str>) -> anyhow::Result<tonic::transport::Channel> {
    let mut endpoint = tonic::transport::Endpoint::from_shared(url.to_owned())?;
    if let Some(ca) = ca {
        endpoint = endpoint.tls_config(
            tonic::transport::ClientTlsConfig::new()
                .ca_certificate(tonic::transport::Certificate::from_pem(ca)),
        )?;
    }
    Ok(endpoint.connect().await?)
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

/// Measurements of every arm, round by round.
struct Rounds(Vec<Vec<f64>>);

impl Rounds {
    /// The median calls/s of arm `arm`.
    fn median(&self, arm: usize) -> f64 {
        median(&self.0[arm])
    }

    /// The median over rounds of arm `a` divided by arm `b` in the same round: arms of one
    /// round run back to back, so a machine whose load changes between rounds (shared with
    /// other work) skews this less than a ratio of medians.
    fn ratio(&self, a: usize, b: usize) -> f64 {
        let ratios: Vec<f64> = self.0[a]
            .iter()
            .zip(&self.0[b])
            .map(|(x, y)| x / y)
            .collect();
        median(&ratios)
    }
}

/// Runs one warm-up round per arm, then `rounds` rounds in alternating order; prints each
/// round.
async fn rounds(arms: &[Arm], rounds: usize) -> Rounds {
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
    Rounds(results)
}

async fn client_bench(args: &Args) -> anyhow::Result<()> {
    let google = FakeGoogle::start().await;
    let (url, ca) = if args.tls {
        let (url, ca) = start_tls_server().await?;
        (url, Some(ca))
    } else {
        (start_server(AuthConfig::off()).await?, None)
    };
    let config = || {
        let config = ClientConfig::new(&url);
        match &ca {
            Some(ca) => config.ca_certificate_pem(ca.as_bytes().to_vec()),
            None => config,
        }
    };
    let authenticated =
        trainer_service_cloudrun::client_with(config().audience(AUDIENCE).token_source(
            GoogleIdToken::metadata_server_at(google.metadata_endpoint()),
        ))
        .await?;
    let unauthenticated = trainer_service_cloudrun::client_with(config().without_token()).await?;
    let plain = TrainerServiceClient::new(
        tonic_channel(&url, ca.as_deref())
            .await
            .context("plain tonic channel")?,
    );
    // The same kind of token the metadata server gives, as a fixed header on a plain tonic
    // client: what carrying it costs any hyper/h2 client, whatever manages the token. In
    // `authorization`, which h2 never adds to the HPACK table, and in the header our client uses.
    let token = google.mint_for(cloudrun_fake_google::DEFAULT_SERVICE_ACCOUNT, AUDIENCE);
    let bearer: tonic::metadata::MetadataValue<_> = format!("Bearer {token}").parse()?;
    let plain_with = async |header: &'static str| -> anyhow::Result<_> {
        let bearer = bearer.clone();
        Ok(TrainerServiceClient::with_interceptor(
            tonic_channel(&url, ca.as_deref())
                .await
                .context("plain tonic channel")?,
            move |mut request: Request<()>| {
                request.metadata_mut().insert(header, bearer.clone());
                Ok(request)
            },
        ))
    };
    let plain_with_authorization = plain_with("authorization").await?;
    let plain_with_serverless = plain_with("x-serverless-authorization").await?;

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
        ("plain-tonic+authorization", {
            let client = plain_with_authorization.clone();
            Box::new(move || Box::pin(load(client.clone(), seconds, concurrency)))
        }),
        ("plain-tonic+x-serverless-authorization", {
            let client = plain_with_serverless.clone();
            Box::new(move || Box::pin(load(client.clone(), seconds, concurrency)))
        }),
    ];
    println!("arm\tround\tcalls/s");
    let results = rounds(&arms, args.rounds).await;
    println!();
    println!(
        "authenticated client: {:.0} calls/s, unauthenticated: {:.0}; plain tonic: {:.0}, with \
         the same token in authorization: {:.0}, in x-serverless-authorization: {:.0} (medians of {})",
        results.median(0),
        results.median(1),
        results.median(2),
        results.median(3),
        results.median(4),
        args.rounds
    );
    let ours = results.ratio(0, 1);
    let in_authorization = results.ratio(3, 2);
    let in_serverless = results.ratio(4, 2);
    println!("ratio authenticated / unauthenticated (median of per-round ratios): {ours:.3}");
    println!(
        "ratio plain tonic with / without the token (same), in authorization: \
         {in_authorization:.3}, in x-serverless-authorization: {in_serverless:.3}"
    );
    println!(
        "our client's cost beyond carrying the header it uses: {:.3}",
        ours / in_serverless
    );
    println!(
        "unauthenticated client / plain tonic (same): {:.3}",
        results.ratio(1, 2)
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
    let results = rounds(&arms, args.rounds).await;
    println!();
    println!(
        "verify-mode server: {:.0} calls/s, off-mode server: {:.0} (medians of {})",
        results.median(0),
        results.median(1),
        args.rounds
    );
    println!(
        "ratio verify / off (median of per-round ratios): {:.3}",
        results.ratio(0, 1)
    );
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
