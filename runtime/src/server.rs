//! The server: configuration ([`Server`]), binding ([`Listening`]), the accept loop, and the
//! graceful drain.
//!
//! Connections are served by hyper's HTTP/2 server directly (prior knowledge only: Cloud Run's
//! `--use-http2` sends h2c without an upgrade), so the runtime owns every connection task and can
//! send GOAWAY on all of them, wait for their calls with a deadline, and cut what is left.

use std::fmt;
use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http2;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tonic::service::Routes;
use tonic::transport::server::TcpConnectInfo;
use tonic_health::ServingStatus;
use tower_http::catch_panic::CatchPanic;
use tracing_subscriber::fmt::MakeWriter;

use crate::Error;
use crate::auth::AuthConfig;
use crate::auth::layer::{AuthState, Authenticate};
use crate::call_log::{CallLog, Calls};
use crate::config::{self, Settings};
use crate::connect_info::ConnectInfo;
use crate::deadline::Deadline;
use crate::health::{HEALTH_SERVICE, Health};
use crate::logging::{Logging, Sink};
use crate::panic::GrpcInternalOnPanic;
use crate::reflection::{Descriptors, REFLECTION_V1, REFLECTION_V1ALPHA};
use crate::service::{ServiceDef, is_full_proto_name};
use crate::shutdown::Signals;

/// How long to wait, after the grace period, for cut calls to be dropped and logged.
const CUT_LOG_WAIT: Duration = Duration::from_secs(1);
/// Pause after an accept error such as EMFILE, so a full descriptor table does not spin the loop.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(50);

type ShutdownHook = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The full service stack every connection serves.
// Deadlines wrap authentication too: a slow JWKS fetch must not outlive the caller's deadline.
type Stack = CallLog<CatchPanic<Deadline<Authenticate<Routes>>, GrpcInternalOnPanic>>;

/// A gRPC server configured for Cloud Run.
///
/// [`Server::from_env`] reads the container contract's environment; the setters override it.
///
/// | Setting | Environment variable | Default |
/// |---|---|---|
/// | [`port`](Self::port) | `PORT` | 8080 (`0` picks a free port) |
/// | [`host`](Self::host) | `CLOUDRUN_HOST` | `::` (falls back to `0.0.0.0` where IPv6 is off) |
/// | [`shutdown_grace`](Self::shutdown_grace) | `CLOUDRUN_SHUTDOWN_GRACE_SECONDS` | 8 s |
/// | [`max_decoding_message_size`](Self::max_decoding_message_size) | `CLOUDRUN_MAX_RECV_MESSAGE_BYTES` | 4 MiB |
/// | [`max_encoding_message_size`](Self::max_encoding_message_size) | `CLOUDRUN_MAX_SEND_MESSAGE_BYTES` | 32 MiB |
/// | [`http2_keepalive_interval`](Self::http2_keepalive_interval) | `CLOUDRUN_KEEPALIVE_INTERVAL_SECONDS` (`0`: off) | off |
/// | [`http2_keepalive_timeout`](Self::http2_keepalive_timeout) | `CLOUDRUN_KEEPALIVE_TIMEOUT_SECONDS` | 20 s |
/// | [`tcp_keepalive`](Self::tcp_keepalive) | | 60 s |
/// | [`log_filter`](Self::log_filter) | `CLOUDRUN_LOG_LEVEL` | `info` |
/// | [`project_id`](Self::project_id) | `GOOGLE_CLOUD_PROJECT`, `GCP_PROJECT`, `CLOUDSDK_CORE_PROJECT` | none |
/// | [`tcp_nodelay`](Self::tcp_nodelay) | | on |
/// | [`auth`](Self::auth) | `CLOUDRUN_AUTH_MODE`, `CLOUDRUN_AUTH_AUDIENCE`, `CLOUDRUN_AUTH_ISSUER`, `CLOUDRUN_AUTH_JWKS_URL`, `CLOUDRUN_AUTH_ALLOWED` (see [`auth`](crate::auth)) | off |
///
/// `K_SERVICE` and `K_REVISION`, set by Cloud Run, are logged at start-up.
///
/// ```no_run
/// # async fn run(catalog: cloudrun_runtime::ServiceDef) -> Result<(), cloudrun_runtime::Error> {
/// use std::time::Duration;
/// cloudrun_runtime::Server::from_env()?
///     .shutdown_grace(Duration::from_secs(5))
///     .add_service(catalog)
///     .serve()
///     .await
/// # }
/// ```
pub struct Server {
    settings: Settings,
    /// Whether the host was chosen (by env or setter); only the default falls back to IPv4.
    host_chosen: bool,
    services: Vec<ServiceDef>,
    log_sink: Option<Sink>,
    shutdown_hook: Option<ShutdownHook>,
    auth: AuthConfig,
}

impl Default for Server {
    fn default() -> Self {
        Server::new()
    }
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("settings", &self.settings)
            .field("services", &self.services)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// A server with the defaults, ignoring the environment.
    pub fn new() -> Self {
        Server {
            settings: Settings::default(),
            host_chosen: false,
            services: Vec::new(),
            log_sink: None,
            shutdown_hook: None,
            auth: AuthConfig::off(),
        }
    }

    /// A server configured from the environment (see the table above); a bad value is an
    /// [`Error`] naming the variable, its value and what is allowed.
    pub fn from_env() -> Result<Self, Error> {
        let settings = Settings::from_lookup(|name| std::env::var_os(name))?;
        let host_chosen = std::env::var_os(config::HOST).is_some_and(|v| !v.is_empty());
        Ok(Server {
            settings,
            host_chosen,
            auth: AuthConfig::from_env()?,
            ..Server::new()
        })
    }

    /// Serves `service` too. Services are served under their full proto names.
    pub fn add_service(mut self, service: ServiceDef) -> Self {
        self.services.push(service);
        self
    }

    /// Port to listen on; `0` asks the system for a free one (see [`Listening::local_addr`]).
    pub fn port(mut self, port: u16) -> Self {
        self.settings.port = port;
        self
    }

    /// Address to listen on, `::` by default.
    pub fn host(mut self, host: IpAddr) -> Self {
        self.settings.host = host;
        self.host_chosen = true;
        self
    }

    /// How long in-flight calls may keep running after SIGTERM before they are cut. Keep it under
    /// Cloud Run's 10 s between SIGTERM and SIGKILL.
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.settings.shutdown_grace = grace;
        self
    }

    /// Largest request message accepted, in bytes.
    pub fn max_decoding_message_size(mut self, bytes: usize) -> Self {
        self.settings.limits.max_decoding_message_size = bytes;
        self
    }

    /// Largest response message sent, in bytes.
    pub fn max_encoding_message_size(mut self, bytes: usize) -> Self {
        self.settings.limits.max_encoding_message_size = bytes;
        self
    }

    /// Interval of HTTP/2 PINGs on each connection; `None` (the default) sends none.
    ///
    /// Off by default because on Cloud Run the connection's peer is the platform's front end,
    /// which answers PINGs itself: they say nothing about the client. With PINGs on, hyper also
    /// takes a lock and reads the clock on every frame received. Worth turning on where clients
    /// connect directly and may vanish behind NATs; [`tcp_keepalive`](Self::tcp_keepalive)
    /// already finds peers that are gone.
    pub fn http2_keepalive_interval(mut self, interval: Option<Duration>) -> Self {
        self.settings.keepalive_interval = interval;
        self
    }

    /// How long a PING may go unanswered before the connection is closed.
    pub fn http2_keepalive_timeout(mut self, timeout: Duration) -> Self {
        self.settings.keepalive_timeout = timeout;
        self
    }

    /// Idle time after which the kernel probes an accepted connection (TCP keepalive), so that
    /// connections to peers that vanished are closed; `None` turns it off. 60 s by default. It
    /// costs nothing while a connection is busy.
    pub fn tcp_keepalive(mut self, idle: Option<Duration>) -> Self {
        self.settings.tcp_keepalive = idle;
        self
    }

    /// Whether accepted sockets set `TCP_NODELAY` (on by default: gRPC messages are small and
    /// latency-bound).
    pub fn tcp_nodelay(mut self, enabled: bool) -> Self {
        self.settings.tcp_nodelay = enabled;
        self
    }

    /// Which events are logged: a level (`info`) or `tracing` `EnvFilter` directives
    /// (`warn,cloudrun_runtime::rpc=info`). A directive without `=` must be a level.
    pub fn log_filter(mut self, filter: &str) -> Result<Self, Error> {
        config::parse_log_filter(filter).map_err(|expected| Error::InvalidSetting {
            setting: "Server::log_filter",
            value: filter.to_owned(),
            expected,
        })?;
        filter.clone_into(&mut self.settings.log_filter);
        Ok(self)
    }

    /// The Google Cloud project the logs belong to; with it, each call's line carries
    /// `logging.googleapis.com/trace` from the `traceparent` or `X-Cloud-Trace-Context` header.
    pub fn project_id(mut self, project_id: Option<&str>) -> Self {
        self.settings.project_id = project_id.map(str::to_owned);
        self
    }

    /// How callers are identified (see [`auth`](crate::auth)); `CLOUDRUN_AUTH_*` unless set.
    pub fn auth(mut self, config: AuthConfig) -> Self {
        self.auth = config;
        self
    }

    /// Where log lines go instead of stdout (one JSON object per line either way).
    pub fn log_writer<W>(mut self, writer: W) -> Self
    where
        W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
    {
        self.log_sink = Some(Sink::custom(writer));
        self
    }

    /// Also shut down gracefully when `signal` completes, exactly as on SIGTERM. For embedding
    /// the server (and for tests); SIGTERM and SIGINT are handled either way.
    pub fn shutdown_signal<F>(mut self, signal: F) -> Self
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.shutdown_hook = Some(Box::pin(signal));
        self
    }

    /// Binds the listener and reports SERVING, without accepting yet; [`Listening::serve`] does.
    /// Connections arriving in between wait in the listen backlog.
    pub async fn bind(self) -> Result<Listening, Error> {
        let Server {
            settings,
            host_chosen,
            services,
            log_sink,
            shutdown_hook,
            auth,
        } = self;

        let filter = config::parse_log_filter(&settings.log_filter).map_err(|expected| {
            Error::InvalidSetting {
                setting: "Server::log_filter",
                value: settings.log_filter.clone(),
                expected,
            }
        })?;
        let sink = log_sink.unwrap_or_else(Sink::stdout);
        let logging = Logging::install(filter, sink.clone(), settings.project_id.as_deref());

        check_service_names(&services)?;
        let names: Vec<&'static str> = services.iter().map(ServiceDef::name).collect();
        let (health, health_server) = Health::new(names.iter().copied()).await;
        let mut descriptors = Descriptors::default();
        for service in &services {
            descriptors.add_service(
                service.name(),
                service.encoded_file_descriptor_set(),
                &mut |file| {
                    logging.scope(|| {
                        tracing::warn!(
                            file,
                            service = service.name(),
                            "two registered services embed different versions of {file}; \
                             reflection describes the first (regenerate all services together)"
                        )
                    })
                },
            )?;
        }
        let auth = AuthState::build(&auth, &services, &logging)?;
        let mut routes = descriptors.add_reflection(Routes::new(health_server))?;
        for service in services {
            routes = service.add_to(&settings.limits, routes);
        }
        let calls = Arc::new(Calls::new(logging, settings.project_id.is_some()));
        let stack = CallLog::new(
            CatchPanic::custom(
                Deadline::new(Authenticate::new(routes.prepare(), auth)),
                GrpcInternalOnPanic,
            ),
            Arc::clone(&calls),
        );

        let signals = Signals::install()?;
        let listener = listen(settings.host, settings.port, host_chosen).await?;
        let local_addr = listener
            .local_addr()
            .map_err(|e| Error::bind(SocketAddr::new(settings.host, settings.port), e))?;

        health.set_all(ServingStatus::Serving).await;
        let services_text = if names.is_empty() {
            "health and reflection only".to_owned()
        } else {
            names.join(", ")
        };
        calls.logging().scope(|| {
            let port = u64::from(local_addr.port());
            let address = local_addr.to_string();
            match (&settings.k_service, &settings.k_revision) {
                (None, None) => tracing::info!(
                    port,
                    address,
                    services = services_text,
                    "listening on {local_addr} (h2c), serving {services_text}"
                ),
                (service, revision) => tracing::info!(
                    port,
                    address,
                    services = services_text,
                    k_service = service.as_deref().unwrap_or_default(),
                    k_revision = revision.as_deref().unwrap_or_default(),
                    "listening on {local_addr} (h2c), serving {services_text}"
                ),
            }
        });

        let mut h2 = http2::Builder::new(TokioExecutor::new());
        h2.timer(TokioTimer::new())
            .keep_alive_interval(settings.keepalive_interval)
            .keep_alive_timeout(settings.keepalive_timeout)
            // gRPC has no use for a Date header; skipping it saves work on every response.
            .auto_date_header(false);

        Ok(Listening {
            listener,
            sink,
            local_addr,
            stack,
            calls,
            health,
            signals,
            shutdown_hook,
            h2: Arc::new(h2),
            tcp_nodelay: settings.tcp_nodelay,
            tcp_keepalive: settings.tcp_keepalive.map(|idle| {
                // Probes every 10 s once idle; the kernel's default count (9) of failures closes.
                socket2::TcpKeepalive::new()
                    .with_time(idle)
                    .with_interval(Duration::from_secs(10))
            }),
            shutdown_grace: settings.shutdown_grace,
        })
    }

    /// Binds, serves until SIGTERM, SIGINT or the [`shutdown_signal`](Self::shutdown_signal)
    /// hook, drains, and returns `Ok(())` after a clean drain (calls cut at the deadline are
    /// logged, and still give `Ok`: the process should exit 0 either way).
    pub async fn serve(self) -> Result<(), Error> {
        self.bind().await?.serve().await
    }
}

/// Rejects what would make the router panic or serve something other than what reflection and
/// health announce.
fn check_service_names(services: &[ServiceDef]) -> Result<(), Error> {
    let mut seen = std::collections::HashSet::new();
    for service in services {
        let name = service.name();
        if !is_full_proto_name(name) {
            return Err(Error::service(
                name,
                "not a full proto name such as \"catalog.ProductCatalog\" (package and service \
                 name joined by dots)",
            ));
        }
        if service.routed_name() != name {
            return Err(Error::service(
                name,
                format!(
                    "the tonic server it wraps routes as {:?} (its NamedService::NAME); the two \
                     names must match: regenerate the code",
                    service.routed_name()
                ),
            ));
        }
        if [HEALTH_SERVICE, REFLECTION_V1, REFLECTION_V1ALPHA].contains(&name) {
            return Err(Error::service(
                name,
                "the runtime serves it itself; do not register it",
            ));
        }
        if !seen.insert(name) {
            return Err(Error::service(name, "registered twice; register it once"));
        }
    }
    Ok(())
}

/// Binds `host:port`. The default host `::` falls back to `0.0.0.0` on machines without IPv6
/// (some container runtimes disable it); a host that was asked for is never swapped.
async fn listen(host: IpAddr, port: u16, host_chosen: bool) -> Result<TcpListener, Error> {
    let address = SocketAddr::new(host, port);
    match TcpListener::bind(address).await {
        Ok(listener) => Ok(listener),
        Err(e)
            if !host_chosen
                && host.is_unspecified()
                && host.is_ipv6()
                && !matches!(
                    e.kind(),
                    io::ErrorKind::AddrInUse | io::ErrorKind::PermissionDenied
                ) =>
        {
            let v4 = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port);
            TcpListener::bind(v4).await.map_err(|e| Error::bind(v4, e))
        }
        Err(e) => Err(Error::bind(address, e)),
    }
}

/// A bound server, reporting SERVING, about to accept connections.
pub struct Listening {
    listener: TcpListener,
    sink: Sink,
    local_addr: SocketAddr,
    stack: Stack,
    calls: Arc<Calls>,
    health: Health,
    signals: Signals,
    shutdown_hook: Option<ShutdownHook>,
    h2: Arc<http2::Builder<TokioExecutor>>,
    tcp_nodelay: bool,
    tcp_keepalive: Option<socket2::TcpKeepalive>,
    shutdown_grace: Duration,
}

impl fmt::Debug for Listening {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Listening")
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}

impl Listening {
    /// The address actually bound: with port `0`, the port the system picked.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Accepts and serves connections until SIGTERM, SIGINT or the shutdown hook, then drains:
    /// every health status turns NOT_SERVING, the listener closes, every connection gets a
    /// GOAWAY (no new streams), and in-flight calls get the grace period to finish. Calls still
    /// running then are cut and logged. Returns `Ok(())` either way.
    pub async fn serve(self) -> Result<(), Error> {
        let Listening {
            listener,
            sink,
            local_addr: _,
            stack,
            calls,
            health,
            mut signals,
            mut shutdown_hook,
            h2,
            tcp_nodelay,
            tcp_keepalive,
            shutdown_grace,
        } = self;

        // Lines are batched while serving; the start-up line above went out at once.
        let batching = sink.serving();
        let mut connections = JoinSet::new();
        let (drain_tx, drain_rx) = watch::channel(());
        let cause = loop {
            tokio::select! {
                signal = signals.recv() => break signal,
                () = wait_for_hook(&mut shutdown_hook) => break "shutdown signal",
                accepted = listener.accept() => match accepted {
                    Ok((tcp, peer)) => {
                        if tcp_nodelay {
                            // Best effort: the connection works without it, only slower.
                            let _ = tcp.set_nodelay(true);
                        }
                        if let Some(keepalive) = &tcp_keepalive {
                            // Best effort too: without it a vanished peer is found later.
                            let _ = socket2::SockRef::from(&tcp).set_tcp_keepalive(keepalive);
                        }
                        // What tonic's server gives handlers as Request::remote_addr/local_addr.
                        let info = TcpConnectInfo {
                            local_addr: tcp.local_addr().ok(),
                            remote_addr: Some(peer),
                        };
                        connections.spawn(serve_connection(
                            tcp,
                            ConnectInfo::new(stack.clone(), info),
                            Arc::clone(&h2),
                            drain_rx.clone(),
                        ));
                    }
                    Err(e) => accept_failed(&calls, &e).await,
                },
                // Reap finished connection tasks so the set does not grow with every client.
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        };

        let started = Instant::now();
        // Before anything else: load balancers and probes must see NOT_SERVING from here on.
        health.start_shutdown().await;
        calls.logging().scope(|| {
            tracing::info!(
                cause,
                grace_ms = u64::try_from(shutdown_grace.as_millis()).unwrap_or(u64::MAX),
                in_flight = calls.in_flight() as u64,
                "shutting down ({cause}): NOT_SERVING, no new connections or streams, draining \
                 in-flight calls"
            )
        });
        drop(listener);
        calls.start_draining();
        // Every connection task sees the change and sends GOAWAY.
        drop(drain_rx);
        let _ = drain_tx.send(());
        // Open Watch streams would hold their connections (and so the drain) open until the
        // deadline; they have been sent NOT_SERVING and end now.
        health.end_watches().await;

        let deadline = started + shutdown_grace;
        let drained = tokio::select! {
            () = drain(&mut connections, &calls) => true,
            () = tokio::time::sleep_until(deadline) => false,
            signal = signals.recv() => {
                calls.logging().scope(|| {
                    tracing::warn!(signal, "{signal} again: cutting the drain short")
                });
                false
            }
        };

        let mut cut = 0;
        if !drained {
            cut = calls.in_flight();
            calls.mark_cut();
            calls.logging().scope(|| {
                tracing::warn!(
                    cut = cut as u64,
                    "grace period over: cutting {cut} calls still running"
                )
            });
            // Dropping a connection resets its streams; hyper then drops their calls, and each
            // call logs itself as cut.
            connections.abort_all();
            while connections.join_next().await.is_some() {}
            let _ = tokio::time::timeout(CUT_LOG_WAIT, calls.wait_idle()).await;
        }

        calls.logging().scope(|| {
            tracing::info!(
                drained,
                cut = cut as u64,
                elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                "shutdown complete"
            )
        });
        // Writes every line still buffered before the process can exit.
        drop(batching);
        Ok(())
    }
}

async fn wait_for_hook(hook: &mut Option<ShutdownHook>) {
    match hook {
        Some(signal) => signal.await,
        None => std::future::pending().await,
    }
}

async fn drain(connections: &mut JoinSet<()>, calls: &Calls) {
    while connections.join_next().await.is_some() {}
    calls.wait_idle().await;
}

async fn accept_failed(calls: &Calls, error: &io::Error) {
    // A client that gave up during the handshake concerns only itself.
    if matches!(
        error.kind(),
        io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
    ) {
        return;
    }
    calls.logging().scope(
        || tracing::warn!(error = %error, "accepting a connection failed; retrying shortly"),
    );
    tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
}

/// Serves one connection until it closes, sending GOAWAY once the drain starts. Aborting the
/// task (at the end of the grace period) drops the connection and with it every call on it.
async fn serve_connection(
    tcp: TcpStream,
    stack: ConnectInfo<Stack>,
    h2: Arc<http2::Builder<TokioExecutor>>,
    mut drain: watch::Receiver<()>,
) {
    let connection = h2.serve_connection(TokioIo::new(tcp), TowerToHyperService::new(stack));
    tokio::pin!(connection);
    tokio::select! {
        result = connection.as_mut() => {
            if let Err(e) = result {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            return;
        }
        _ = drain.changed() => {}
    }
    connection.as_mut().graceful_shutdown();
    if let Err(e) = connection.await {
        tracing::debug!(error = %e, "connection ended with an error while draining");
    }
}
