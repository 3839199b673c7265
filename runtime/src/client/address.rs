//! Where a client connects, how, and for which audience, from an address as users write it:
//! `https://svc-hash-uc.a.run.app`, `svc-hash-uc.a.run.app:443` (seed 001's `TRAINER_GRPC_ADDR`
//! style), or `http://trainer:3000` for a local compose setup.

use http::Uri;

use super::ClientError;

/// A parsed address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Target {
    /// What tonic connects to: `https://host:port` or `http://host:port`.
    pub(crate) uri: Uri,
    /// Whether the connection uses TLS.
    pub(crate) tls: bool,
    /// Whether the address said `http://` itself (rather than `GRPC_NO_TLS` turning TLS off).
    pub(crate) explicit_http: bool,
    /// The host as written (IPv6 addresses keep their brackets).
    pub(crate) host: String,
}

impl Target {
    /// Cloud Run's audience for the host: `https://<host>`, without port or path, whatever the
    /// scheme used to connect (Cloud Run IAM checks the audience against the service's URL).
    pub(crate) fn default_audience(&self) -> String {
        format!("https://{}", self.host)
    }
}

/// Parses `address`; `no_tls` (from `GRPC_NO_TLS`) turns TLS off whatever the scheme says.
pub(crate) fn parse(address: &str, no_tls: bool) -> Result<Target, ClientError> {
    let bad = |reason: &str| ClientError::InvalidAddress {
        address: address.to_owned(),
        reason: reason.to_owned(),
    };
    let trimmed = address.trim();
    if trimmed.is_empty() {
        return Err(bad(
            "it is empty; give a Cloud Run URL such as https://svc-hash-uc.a.run.app",
        ));
    }
    let (scheme, rest) = match trimmed.split_once("://") {
        Some((scheme, rest)) => (Some(scheme.to_ascii_lowercase()), rest),
        None => (None, trimmed),
    };
    let explicit_http = match scheme.as_deref() {
        Some("https") | None => false,
        Some("http") => true,
        Some(other) => {
            return Err(bad(&format!(
                "the scheme {other:?} is not supported; use https:// (TLS) or http:// (plaintext h2c)"
            )));
        }
    };
    let (authority, path) = match rest.find(['/', '?', '#']) {
        Some(at) => rest.split_at(at),
        None => (rest, ""),
    };
    if !(path.is_empty() || path == "/") {
        return Err(bad(
            "it has a path, query or fragment; gRPC calls go to /package.Service/Method at the \
             root of the host, so give only the scheme, host and port",
        ));
    }
    if authority.contains('@') {
        return Err(bad(
            "it carries user information (user@host); credentials come from the token source, \
             not the address",
        ));
    }
    let tls = !explicit_http && !no_tls;
    let parsed: http::uri::Authority = authority
        .parse()
        .map_err(|_| bad("the host or port is not valid"))?;
    let host = parsed.host();
    if host.is_empty() {
        return Err(bad("it names no host"));
    }
    // http's Authority accepts any text after the colon; a port must be a number.
    let port_text = authority.get(host.len()..).unwrap_or_default();
    let port = match port_text.strip_prefix(':') {
        Some("") => return Err(bad("the port after ':' is missing")),
        Some(digits) => digits
            .parse::<u16>()
            .ok()
            .filter(|_| digits.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| bad("the host or port is not valid: a port is a number up to 65535"))?,
        None if tls || scheme.as_deref() == Some("https") || scheme.is_none() => 443,
        None => 80,
    };
    // http::uri::Authority::host keeps IPv6 brackets, which the URI needs back.
    let host = host.to_owned();
    let uri = Uri::builder()
        .scheme(if tls { "https" } else { "http" })
        .authority(format!("{host}:{port}"))
        .path_and_query("/")
        .build()
        .map_err(|_| bad("the host or port is not valid"))?;
    Ok(Target {
        uri,
        tls,
        explicit_http,
        host,
    })
}

/// Parses a boolean environment value the way seed 001's Go code does (`strconv.ParseBool`):
/// `1`, `t`, `T`, `TRUE`, `true`, `True` and their false counterparts; empty is false.
pub(crate) fn parse_bool(value: &str) -> Option<bool> {
    match value {
        "" => Some(false),
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(address: &str, no_tls: bool) -> Target {
        parse(address, no_tls).unwrap_or_else(|e| panic!("{address}: {e}"))
    }

    #[test]
    fn cloud_run_urls_get_tls_on_443_and_an_audience_without_port_or_path() {
        let t = ok("https://trainer-xyz-uc.a.run.app", false);
        assert_eq!(t.uri, "https://trainer-xyz-uc.a.run.app:443/");
        assert!(t.tls);
        assert_eq!(t.default_audience(), "https://trainer-xyz-uc.a.run.app");

        let t = ok("https://api.example.com:8443/", false);
        assert_eq!(t.uri, "https://api.example.com:8443/");
        assert_eq!(t.default_audience(), "https://api.example.com");
    }

    #[test]
    fn seed_style_host_and_port_means_tls() {
        let t = ok("trainer-grpc-xyz-uc.a.run.app:443", false);
        assert!(t.tls);
        assert_eq!(t.uri, "https://trainer-grpc-xyz-uc.a.run.app:443/");
        let t = ok("trainer-grpc-xyz-uc.a.run.app", false);
        assert_eq!(t.uri.port_u16(), Some(443));
    }

    #[test]
    fn grpc_no_tls_and_http_urls_are_plaintext() {
        let t = ok("trainer-grpc:3000", true);
        assert!(!t.tls && !t.explicit_http);
        assert_eq!(t.uri, "http://trainer-grpc:3000/");

        let t = ok("http://127.0.0.1:8080", false);
        assert!(!t.tls && t.explicit_http);
        assert_eq!(t.default_audience(), "https://127.0.0.1");

        let t = ok("http://localhost", false);
        assert_eq!(t.uri.port_u16(), Some(80));

        let t = ok("http://[::1]:9000", false);
        assert_eq!(t.uri, "http://[::1]:9000/");
        assert_eq!(t.default_audience(), "https://[::1]");
    }

    #[test]
    fn unusable_addresses_are_errors_that_say_why() {
        for (address, expected) in [
            ("", "empty"),
            ("ftp://x", "scheme \"ftp\""),
            ("https://x.run.app/v1", "path"),
            ("https://x.run.app?x=1", "path, query"),
            ("https://user:pw@x.run.app", "user information"),
            ("https://x.run.app:notaport", "not valid"),
            ("https://x.run.app:", "port after ':' is missing"),
            ("https://:443", "names no host"),
        ] {
            let err = parse(address, false).unwrap_err().to_string();
            assert!(err.contains(expected), "{address}: {err}");
            assert!(err.contains(&format!("{address:?}")), "{address}: {err}");
        }
    }

    #[test]
    fn booleans_parse_like_go() {
        for v in ["1", "t", "T", "TRUE", "true", "True"] {
            assert_eq!(parse_bool(v), Some(true), "{v}");
        }
        for v in ["", "0", "f", "F", "FALSE", "false", "False"] {
            assert_eq!(parse_bool(v), Some(false), "{v}");
        }
        assert_eq!(parse_bool("yes"), None);
    }
}
