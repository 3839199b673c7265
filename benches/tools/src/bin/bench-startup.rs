//! Measures start-up and idle memory of gRPC servers the way Cloud Run meets them: spawn the binary
//! with `PORT=<free port>`, poll it over h2c as fast as possible until it answers, and report the
//! time from just before the spawn to that first good answer; then make a few real calls, let it
//! settle and read `VmRSS` from `/proc/<pid>/status`. Targets are measured in alternation, run after
//! run, so that a noisy neighbour on the machine hits all of them alike.
//!
//! ```text
//! bench-startup --runs 20 \
//!   --target catalog:health:target/release/catalog \
//!   --target tonic-baseline:get-product:target/release/tonic-baseline
//! ```
//!
//! Probes: `health` waits for `grpc.health.v1.Health/Check("")` to say SERVING; `get-product` waits
//! for `catalog.ProductCatalog/GetProduct("1")` to succeed (for servers without health). The
//! server's stdout goes to /dev/null, its stderr to a temporary file shown if it fails, and
//! `RUST_LOG` and `CLOUDRUN_LOG_LEVEL` are removed from its environment so that it runs at its
//! default log level. `--env CLOUDRUN_HOST=127.0.0.1` keeps a Cloud Run server on loopback.

use std::fs::File;
use std::io::{Read as _, Seek as _, SeekFrom};
use std::net::{Ipv4Addr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use bench_tools::catalog::product_catalog_client::ProductCatalogClient;
use bench_tools::catalog::{GetProductRequest, ListProductsRequest, SearchRequest};
use bench_tools::median;
use clap::Parser;
use tokio_stream::StreamExt as _;
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

#[derive(Parser)]
#[command(about = "Time gRPC servers from spawn to first good answer, then read their idle RSS")]
struct Args {
    /// LABEL:PROBE:PATH, PROBE being `health` or `get-product`; repeat for each server.
    #[arg(long = "target", required = true)]
    targets: Vec<Target>,
    /// Measured runs per target.
    #[arg(long, default_value_t = 20)]
    runs: usize,
    /// Unmeasured runs per target first (page cache, dynamic loader).
    #[arg(long, default_value_t = 2)]
    warmup: usize,
    /// Real calls (GetProduct, ListProducts, SearchProducts each) made before reading the RSS.
    #[arg(long, default_value_t = 5)]
    calls: usize,
    /// Quiet time after the calls before reading the RSS, in milliseconds.
    #[arg(long, default_value_t = 200)]
    settle_ms: u64,
    /// KEY=VALUE set in every server's environment (repeatable).
    #[arg(long = "env", value_parser = parse_env)]
    envs: Vec<(String, String)>,
    /// Give up on a server that has not answered within this many milliseconds.
    #[arg(long, default_value_t = 5000)]
    timeout_ms: u64,
}

/// Variables that would change a server's log level from its default.
const LOG_LEVEL_VARIABLES: [&str; 2] = ["RUST_LOG", "CLOUDRUN_LOG_LEVEL"];

fn parse_env(spec: &str) -> Result<(String, String), String> {
    match spec.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => Err(format!("--env {spec:?} must be KEY=VALUE")),
    }
}

/// What tells that a server is ready.
#[derive(Clone, Copy, PartialEq)]
enum Probe {
    Health,
    GetProduct,
}

#[derive(Clone)]
struct Target {
    label: String,
    probe: Probe,
    path: PathBuf,
}

impl FromStr for Target {
    type Err = String;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let mut parts = spec.splitn(3, ':');
        let (Some(label), Some(probe), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(format!("--target {spec:?} must be LABEL:PROBE:PATH"));
        };
        let probe = match probe {
            "health" => Probe::Health,
            "get-product" => Probe::GetProduct,
            other => {
                return Err(format!(
                    "--target {spec:?}: probe {other:?} is not one of health, get-product"
                ));
            }
        };
        Ok(Target {
            label: label.to_owned(),
            probe,
            path: PathBuf::from(path),
        })
    }
}

/// One measured start.
struct Sample {
    ready: Duration,
    rss_kib: u64,
}

/// Kills the server when a measurement ends, however it ends.
struct Server {
    child: Child,
    stderr: File,
}

impl Drop for Server {
    fn drop(&mut self) {
        // Already gone is fine; the point is that no server outlives its run.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn stderr_text(&mut self) -> String {
        let mut text = String::new();
        if self.stderr.seek(SeekFrom::Start(0)).is_ok() {
            let _ = self.stderr.read_to_string(&mut text);
        }
        text
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    for target in &args.targets {
        if !target.path.is_file() {
            bail!(
                "{}: no server binary at {} (build it with cargo build --release)",
                target.label,
                target.path.display()
            );
        }
    }
    let mut samples: Vec<Vec<Sample>> = args.targets.iter().map(|_| Vec::new()).collect();
    for run in 0..args.warmup + args.runs {
        for (target, samples) in args.targets.iter().zip(&mut samples) {
            let sample = measure(target, &args)
                .await
                .with_context(|| format!("{} (run {})", target.label, run + 1))?;
            if run >= args.warmup {
                samples.push(sample);
            }
        }
    }
    for (target, samples) in args.targets.iter().zip(&samples) {
        report(target, samples);
    }
    Ok(())
}

fn report(target: &Target, samples: &[Sample]) {
    let ready: Vec<Duration> = samples.iter().map(|s| s.ready).collect();
    let mut rss: Vec<u64> = samples.iter().map(|s| s.rss_kib).collect();
    rss.sort_unstable();
    let ms = |d: Option<Duration>| d.map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0);
    let all: Vec<String> = ready
        .iter()
        .map(|d| format!("{:.2}", ms(Some(*d))))
        .collect();
    println!(
        "startup label={} probe={} runs={} median_ms={:.2} min_ms={:.2} max_ms={:.2} rss_median_kib={} rss_min_kib={} rss_max_kib={} ready_ms=[{}]",
        target.label,
        match target.probe {
            Probe::Health => "health",
            Probe::GetProduct => "get-product",
        },
        samples.len(),
        ms(median(&ready)),
        ms(ready.iter().min().copied()),
        ms(ready.iter().max().copied()),
        rss.get(rss.len() / 2).copied().unwrap_or_default(),
        rss.first().copied().unwrap_or_default(),
        rss.last().copied().unwrap_or_default(),
        all.join(" "),
    );
}

/// Spawns the server once, times it to its first good answer, exercises it and reads its RSS.
async fn measure(target: &Target, args: &Args) -> anyhow::Result<Sample> {
    let port = free_port()?;
    let stderr = tempfile::tempfile().context("creating a file for the server's stderr")?;
    let endpoint = Endpoint::from_shared(format!("http://127.0.0.1:{port}"))
        .context("building the endpoint")?;
    let timeout = Duration::from_millis(args.timeout_ms);

    let mut command = Command::new(&target.path);
    for name in LOG_LEVEL_VARIABLES {
        command.env_remove(name);
    }
    command
        .envs(args.envs.iter().map(|(k, v)| (k, v)))
        .env("PORT", port.to_string());

    let start = Instant::now();
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr.try_clone().context("sharing the stderr file")?)
        .spawn()
        .with_context(|| format!("starting {}", target.path.display()))?;
    let mut server = Server { child, stderr };

    let channel = loop {
        if let Some(status) = server.child.try_wait().context("checking on the server")? {
            bail!(
                "exited ({status}) before answering; its stderr:\n{}",
                server.stderr_text()
            );
        }
        if start.elapsed() > timeout {
            bail!(
                "no good answer on port {port} within {timeout:?}; its stderr:\n{}",
                server.stderr_text()
            );
        }
        // Connection refused comes back at once while the server is not listening yet; no sleep,
        // so the measurement's resolution is one connect attempt.
        let Ok(channel) = endpoint.connect().await else {
            continue;
        };
        if probe(target.probe, channel.clone()).await {
            break channel;
        }
    };
    let ready = start.elapsed();

    exercise(target.probe, channel, args.calls).await?;
    tokio::time::sleep(Duration::from_millis(args.settle_ms)).await;
    let rss_kib = vm_rss_kib(server.child.id())?;
    Ok(Sample { ready, rss_kib })
}

/// Whether the server gave the probe's good answer.
async fn probe(probe: Probe, channel: Channel) -> bool {
    match probe {
        Probe::Health => HealthClient::new(channel)
            .check(HealthCheckRequest {
                service: String::new(),
            })
            .await
            .is_ok_and(|r| r.get_ref().status == ServingStatus::Serving as i32),
        Probe::GetProduct => ProductCatalogClient::new(channel)
            .get_product(GetProductRequest { id: "1".into() })
            .await
            .is_ok(),
    }
}

/// A few real calls of each kind, so the RSS is that of a server that has served, not just started.
async fn exercise(probe: Probe, channel: Channel, calls: usize) -> anyhow::Result<()> {
    let mut catalog = ProductCatalogClient::new(channel.clone());
    let mut health = HealthClient::new(channel);
    for _ in 0..calls {
        let product = catalog
            .get_product(GetProductRequest { id: "1".into() })
            .await
            .context("GetProduct(\"1\")")?;
        if product.get_ref().id != "1" {
            bail!(
                "GetProduct(\"1\") answered product {:?}",
                product.get_ref().id
            );
        }
        catalog
            .list_products(ListProductsRequest::default())
            .await
            .context("ListProducts")?;
        let search = SearchRequest {
            query: "desk".into(),
            max_results: 0,
        };
        let mut stream = catalog
            .search_products(search)
            .await
            .context("SearchProducts")?
            .into_inner();
        while let Some(item) = stream.next().await {
            item.context("SearchProducts stream")?;
        }
        if probe == Probe::Health {
            health
                .check(HealthCheckRequest {
                    service: String::new(),
                })
                .await
                .context("Health/Check")?;
        }
    }
    Ok(())
}

/// A port nobody listens on right now (the kernel's pick for an ephemeral bind).
fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("finding a free port")?;
    Ok(listener.local_addr().context("finding a free port")?.port())
}

/// The resident set size the kernel reports for `pid`, in KiB.
fn vm_rss_kib(pid: u32) -> anyhow::Result<u64> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    let line = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .with_context(|| format!("no VmRSS line in {path}"))?;
    let kib = line.trim().trim_end_matches("kB").trim();
    kib.parse()
        .with_context(|| format!("VmRSS {kib:?} in {path} is not a number of kB"))
}
