//! Server settings, their defaults, and reading them from the environment the way Cloud Run
//! configures a container. Every bad value is an [`Error`] naming the variable, the value and what
//! is allowed.

use std::ffi::OsString;
use std::net::{IpAddr, Ipv6Addr};
use std::time::Duration;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::LevelFilter;

use crate::Error;
use crate::service::Limits;

/// Port to listen on; set by Cloud Run. `0` asks the system for a free port.
pub(crate) const PORT: &str = "PORT";
/// Address to listen on.
pub(crate) const HOST: &str = "CLOUDRUN_HOST";
/// How long in-flight calls may run after SIGTERM, in (decimal) seconds.
pub(crate) const SHUTDOWN_GRACE: &str = "CLOUDRUN_SHUTDOWN_GRACE_SECONDS";
pub(crate) const MAX_RECV: &str = "CLOUDRUN_MAX_RECV_MESSAGE_BYTES";
pub(crate) const MAX_SEND: &str = "CLOUDRUN_MAX_SEND_MESSAGE_BYTES";
pub(crate) const KEEPALIVE_INTERVAL: &str = "CLOUDRUN_KEEPALIVE_INTERVAL_SECONDS";
pub(crate) const KEEPALIVE_TIMEOUT: &str = "CLOUDRUN_KEEPALIVE_TIMEOUT_SECONDS";
pub(crate) const LOG_LEVEL: &str = "CLOUDRUN_LOG_LEVEL";
/// Where the Cloud project id is looked up, first found wins (the variables Google's client
/// libraries read).
pub(crate) const PROJECT_VARIABLES: [&str; 3] = [
    "GOOGLE_CLOUD_PROJECT",
    "GCP_PROJECT",
    "CLOUDSDK_CORE_PROJECT",
];
/// Set by Cloud Run: the service and revision names, logged at start-up.
pub(crate) const K_SERVICE: &str = "K_SERVICE";
pub(crate) const K_REVISION: &str = "K_REVISION";

pub(crate) const DEFAULT_PORT: u16 = 8080;
/// Cloud Run sends SIGKILL 10 s after SIGTERM; 8 s leaves time to log and exit.
pub(crate) const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(8);
/// TCP keepalive on accepted connections: the kernel probes a connection idle this long, so a
/// peer that vanished without closing is found at no cost to live connections.
pub(crate) const DEFAULT_TCP_KEEPALIVE: Duration = Duration::from_secs(60);
/// How long a PING may go unanswered before the connection is closed (gRPC's own default).
pub(crate) const DEFAULT_KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(20);
pub(crate) const DEFAULT_LOG_FILTER: &str = "info";

/// Everything a [`Server`](crate::Server) can be configured with.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    pub host: IpAddr,
    pub port: u16,
    pub shutdown_grace: Duration,
    pub limits: Limits,
    /// HTTP/2 PINGs: off unless asked for. On Cloud Run the connection's peer is the platform's
    /// front end, which answers PINGs itself, so they say nothing about the client; and with
    /// them on, hyper takes a lock and reads the clock on every frame received (measured at
    /// about 1.5% of a unary call's server CPU). Dead peers are found by TCP keepalive instead.
    pub keepalive_interval: Option<Duration>,
    pub keepalive_timeout: Duration,
    pub tcp_keepalive: Option<Duration>,
    pub tcp_nodelay: bool,
    /// Validated by [`parse_log_filter`]; kept as text because `EnvFilter` is not `Clone`.
    pub log_filter: String,
    pub project_id: Option<String>,
    pub k_service: Option<String>,
    pub k_revision: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            host: IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            port: DEFAULT_PORT,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
            limits: Limits::default(),
            keepalive_interval: None,
            keepalive_timeout: DEFAULT_KEEPALIVE_TIMEOUT,
            tcp_keepalive: Some(DEFAULT_TCP_KEEPALIVE),
            tcp_nodelay: true,
            log_filter: DEFAULT_LOG_FILTER.to_owned(),
            project_id: None,
            k_service: None,
            k_revision: None,
        }
    }
}

impl Settings {
    /// Defaults overridden by whatever `lookup` finds. `lookup` is `std::env::var_os` in
    /// production; tests pass a map so they never touch the process environment.
    pub(crate) fn from_lookup(lookup: impl Fn(&str) -> Option<OsString>) -> Result<Self, Error> {
        let var = |name: &'static str| -> Result<Option<String>, Error> {
            let Some(raw) = lookup(name) else {
                return Ok(None);
            };
            let text = raw
                .into_string()
                .map_err(|raw| Error::env(name, &raw.to_string_lossy(), "valid UTF-8 text"))?;
            let text = text.trim();
            // An empty value counts as unset, as it does for most tools (`PORT=` in a compose file).
            Ok((!text.is_empty()).then(|| text.to_owned()))
        };

        let mut settings = Settings::default();
        if let Some(v) = var(PORT)? {
            settings.port = parse_port(&v).map_err(|expected| Error::env(PORT, &v, expected))?;
        }
        if let Some(v) = var(HOST)? {
            settings.host = parse_host(&v).map_err(|expected| Error::env(HOST, &v, expected))?;
        }
        if let Some(v) = var(SHUTDOWN_GRACE)? {
            settings.shutdown_grace = parse_seconds(&v, true)
                .map_err(|expected| Error::env(SHUTDOWN_GRACE, &v, expected))?;
        }
        if let Some(v) = var(MAX_RECV)? {
            settings.limits.max_decoding_message_size =
                parse_bytes(&v).map_err(|expected| Error::env(MAX_RECV, &v, expected))?;
        }
        if let Some(v) = var(MAX_SEND)? {
            settings.limits.max_encoding_message_size =
                parse_bytes(&v).map_err(|expected| Error::env(MAX_SEND, &v, expected))?;
        }
        if let Some(v) = var(KEEPALIVE_INTERVAL)? {
            let interval = parse_seconds(&v, true).map_err(|expected| {
                Error::env(
                    KEEPALIVE_INTERVAL,
                    &v,
                    format!("{expected}; 0 turns PINGs off"),
                )
            })?;
            settings.keepalive_interval = (!interval.is_zero()).then_some(interval);
        }
        if let Some(v) = var(KEEPALIVE_TIMEOUT)? {
            settings.keepalive_timeout = parse_seconds(&v, false)
                .map_err(|expected| Error::env(KEEPALIVE_TIMEOUT, &v, expected))?;
        }
        if let Some(v) = var(LOG_LEVEL)? {
            parse_log_filter(&v).map_err(|expected| Error::env(LOG_LEVEL, &v, expected))?;
            settings.log_filter = v;
        }
        for name in PROJECT_VARIABLES {
            if let Some(v) = var(name)? {
                settings.project_id = Some(v);
                break;
            }
        }
        settings.k_service = var(K_SERVICE)?;
        settings.k_revision = var(K_REVISION)?;
        Ok(settings)
    }
}

/// Errors are the "expected ..." half of the message; the caller names the variable or setter.
pub(crate) fn parse_port(text: &str) -> Result<u16, String> {
    text.parse::<u16>()
        .map_err(|_| "an integer from 0 to 65535 (0 picks a free port)".to_owned())
}

pub(crate) fn parse_host(text: &str) -> Result<IpAddr, String> {
    // `[::1]` is how people write IPv6 next to a port; accept it without the port.
    let bare = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(text);
    bare.parse::<IpAddr>().map_err(|_| {
        "an IP address such as :: (every interface, the default), 0.0.0.0 or 127.0.0.1; host names are not resolved"
            .to_owned()
    })
}

/// Plain decimal seconds (`8`, `0.5`, `2.25`): no sign, exponent, `inf` or `nan`, which `f64`
/// parsing would otherwise let through.
pub(crate) fn parse_seconds(text: &str, allow_zero: bool) -> Result<Duration, String> {
    let expected = if allow_zero {
        "a number of seconds such as 8 or 0.5 (0 or more)"
    } else {
        "a number of seconds such as 20 or 0.5 (more than 0)"
    };
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits_only = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() && fraction.is_empty()
        || !digits_only(whole)
        || !digits_only(fraction)
        || (text.contains('.') && fraction.is_empty())
    {
        return Err(expected.to_owned());
    }
    let seconds: f64 = text.parse().map_err(|_| expected.to_owned())?;
    let duration = Duration::try_from_secs_f64(seconds).map_err(|_| expected.to_owned())?;
    if duration.is_zero() && !allow_zero {
        return Err(expected.to_owned());
    }
    Ok(duration)
}

pub(crate) fn parse_bytes(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!(
            "a positive number of bytes such as 4194304 (4 MiB), at most {}",
            usize::MAX
        )),
    }
}

/// `tracing` `EnvFilter` directives, with one tightening: a directive without `=` must be a level.
/// `EnvFilter` reads a bare word as a target to log at TRACE, so a typo such as `inof` or
/// `verbose` would silently turn logging off; here it is an error.
pub(crate) fn parse_log_filter(text: &str) -> Result<EnvFilter, String> {
    const EXPECTED: &str = "a level (error, warn, info, debug, trace or off) or tracing EnvFilter \
                            directives such as info,cloudrun_runtime::rpc=warn";
    // EnvFilter itself splits on every comma.
    for directive in text.split(',') {
        let directive = directive.trim();
        if directive.is_empty() || directive.contains('=') || directive.contains('[') {
            continue;
        }
        if directive.parse::<LevelFilter>().is_err() {
            return Err(format!(
                "{EXPECTED} ({directive:?} is not a level; write target=level to filter a target)"
            ));
        }
    }
    EnvFilter::builder()
        .parse(text)
        .map_err(|e| format!("{EXPECTED} ({e})"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, Error> {
        let map: HashMap<String, OsString> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), OsString::from(v)))
            .collect();
        Settings::from_lookup(|name| map.get(name).cloned())
    }

    fn error_text(vars: &[(&str, &str)]) -> String {
        match settings(vars) {
            Ok(s) => panic!("{vars:?} accepted: {s:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn defaults_match_the_cloud_run_contract() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.port, 8080);
        assert_eq!(s.host, "::".parse::<IpAddr>().unwrap());
        assert_eq!(s.shutdown_grace, Duration::from_secs(8));
        assert_eq!(s.limits.max_decoding_message_size, 4 * 1024 * 1024);
        assert_eq!(s.limits.max_encoding_message_size, 32 * 1024 * 1024);
        assert_eq!(s.keepalive_interval, None);
        assert_eq!(s.tcp_keepalive, Some(Duration::from_secs(60)));
        assert_eq!(s.keepalive_timeout, Duration::from_secs(20));
        assert!(s.tcp_nodelay);
        assert_eq!(s.log_filter, "info");
        assert_eq!(s.project_id, None);
    }

    #[test]
    fn every_variable_is_read() {
        let s = settings(&[
            ("PORT", "0"),
            ("CLOUDRUN_HOST", "127.0.0.1"),
            ("CLOUDRUN_SHUTDOWN_GRACE_SECONDS", "2.5"),
            ("CLOUDRUN_MAX_RECV_MESSAGE_BYTES", "1024"),
            ("CLOUDRUN_MAX_SEND_MESSAGE_BYTES", "2048"),
            ("CLOUDRUN_KEEPALIVE_INTERVAL_SECONDS", "30"),
            ("CLOUDRUN_KEEPALIVE_TIMEOUT_SECONDS", "0.25"),
            ("CLOUDRUN_LOG_LEVEL", "warn,cloudrun_runtime::rpc=info"),
            ("GCP_PROJECT", "second"),
            ("CLOUDSDK_CORE_PROJECT", "third"),
            ("K_SERVICE", "catalog"),
            ("K_REVISION", "catalog-00001-abc"),
        ])
        .unwrap();
        assert_eq!(s.port, 0);
        assert_eq!(s.host, "127.0.0.1".parse::<IpAddr>().unwrap());
        assert_eq!(s.shutdown_grace, Duration::from_millis(2500));
        assert_eq!(s.limits.max_decoding_message_size, 1024);
        assert_eq!(s.limits.max_encoding_message_size, 2048);
        assert_eq!(s.keepalive_interval, Some(Duration::from_secs(30)));
        assert_eq!(s.keepalive_timeout, Duration::from_millis(250));
        assert_eq!(s.log_filter, "warn,cloudrun_runtime::rpc=info");
        assert_eq!(s.project_id.as_deref(), Some("second"));
        assert_eq!(s.k_service.as_deref(), Some("catalog"));
        assert_eq!(s.k_revision.as_deref(), Some("catalog-00001-abc"));
    }

    #[test]
    fn google_cloud_project_wins_over_the_older_variables() {
        let s = settings(&[("GOOGLE_CLOUD_PROJECT", "first"), ("GCP_PROJECT", "second")]).unwrap();
        assert_eq!(s.project_id.as_deref(), Some("first"));
    }

    #[test]
    fn empty_values_count_as_unset() {
        let s = settings(&[("PORT", ""), ("CLOUDRUN_LOG_LEVEL", " ")]).unwrap();
        assert_eq!(s.port, 8080);
        assert_eq!(s.log_filter, "info");
    }

    #[test]
    fn bracketed_ipv6_hosts_are_accepted() {
        let s = settings(&[("CLOUDRUN_HOST", "[::1]")]).unwrap();
        assert_eq!(s.host, "::1".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn bad_values_name_the_variable_the_value_and_what_is_allowed() {
        let cases: &[(&str, &str, &str)] = &[
            ("PORT", "abc", "an integer from 0 to 65535"),
            ("PORT", "70000", "an integer from 0 to 65535"),
            ("PORT", "-1", "an integer from 0 to 65535"),
            ("CLOUDRUN_HOST", "localhost", "an IP address"),
            (
                "CLOUDRUN_SHUTDOWN_GRACE_SECONDS",
                "-1",
                "a number of seconds",
            ),
            (
                "CLOUDRUN_SHUTDOWN_GRACE_SECONDS",
                "8s",
                "a number of seconds",
            ),
            (
                "CLOUDRUN_SHUTDOWN_GRACE_SECONDS",
                "inf",
                "a number of seconds",
            ),
            (
                "CLOUDRUN_SHUTDOWN_GRACE_SECONDS",
                "1e3",
                "a number of seconds",
            ),
            (
                "CLOUDRUN_SHUTDOWN_GRACE_SECONDS",
                "1.",
                "a number of seconds",
            ),
            (
                "CLOUDRUN_SHUTDOWN_GRACE_SECONDS",
                ".",
                "a number of seconds",
            ),
            (
                "CLOUDRUN_SHUTDOWN_GRACE_SECONDS",
                "99999999999999999999999",
                "a number of seconds",
            ),
            (
                "CLOUDRUN_MAX_RECV_MESSAGE_BYTES",
                "0",
                "a positive number of bytes",
            ),
            (
                "CLOUDRUN_MAX_RECV_MESSAGE_BYTES",
                "4MiB",
                "a positive number of bytes",
            ),
            (
                "CLOUDRUN_MAX_SEND_MESSAGE_BYTES",
                "-5",
                "a positive number of bytes",
            ),
            (
                "CLOUDRUN_KEEPALIVE_INTERVAL_SECONDS",
                "soon",
                "0 turns PINGs off",
            ),
            ("CLOUDRUN_KEEPALIVE_TIMEOUT_SECONDS", "0", "more than 0"),
            (
                "CLOUDRUN_LOG_LEVEL",
                "verbose",
                "\"verbose\" is not a level",
            ),
            ("CLOUDRUN_LOG_LEVEL", "inof", "\"inof\" is not a level"),
            (
                "CLOUDRUN_LOG_LEVEL",
                "info,hyper=loud",
                "a level (error, warn",
            ),
        ];
        for (variable, value, expected) in cases {
            let text = error_text(&[(variable, value)]);
            assert!(
                text.starts_with(&format!("{variable}={value:?} is not valid: expected ")),
                "{text}"
            );
            assert!(text.contains(expected), "{variable}={value}: {text}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_values_are_an_error_not_a_panic() {
        use std::os::unix::ffi::OsStringExt;
        let bad = OsString::from_vec(vec![0x38, 0xff]);
        let err = Settings::from_lookup(|name| (name == "PORT").then(|| bad.clone())).unwrap_err();
        assert!(err.to_string().contains("valid UTF-8"), "{err}");
    }

    #[test]
    fn log_filters_accept_levels_targets_and_span_fields() {
        for good in [
            "info",
            "DEBUG",
            "off",
            "warn,cloudrun_runtime::rpc=info",
            "info,my_app[request{id=1}]=debug",
            "3",
        ] {
            assert!(
                parse_log_filter(good).is_ok(),
                "{good}: {:?}",
                parse_log_filter(good).err()
            );
        }
    }

    #[test]
    fn seconds_accept_plain_decimals() {
        assert_eq!(parse_seconds("8", true), Ok(Duration::from_secs(8)));
        assert_eq!(parse_seconds("0.5", true), Ok(Duration::from_millis(500)));
        assert_eq!(parse_seconds(".5", true), Ok(Duration::from_millis(500)));
        assert_eq!(parse_seconds("0", true), Ok(Duration::ZERO));
        assert!(parse_seconds("0.0", false).is_err());
    }
}
