//! The one error type of the runtime: every way a server can fail to start, each naming the
//! variable, value or address at fault and the way out.

use std::fmt;
use std::io;
use std::net::SocketAddr;

/// Why a server could not start.
///
/// `Debug` prints the same text as `Display`, so `fn main() -> Result<(), Error>` ends with a clean
/// `Error: PORT="abc" is not valid: ...` line and a non-zero exit status.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An environment variable holds a value the runtime cannot use.
    #[error("{variable}={value:?} is not valid: expected {expected}")]
    InvalidEnv {
        /// The variable, e.g. `PORT`.
        variable: &'static str,
        /// Its value as read (lossily converted if it was not UTF-8).
        value: String,
        /// What is allowed, in words.
        expected: String,
    },
    /// A value passed to a [`Server`](crate::Server) setter is not usable.
    #[error("{setting} {value:?} is not valid: expected {expected}")]
    InvalidSetting {
        /// The setter, e.g. `Server::log_filter`.
        setting: &'static str,
        /// The value given.
        value: String,
        /// What is allowed, in words.
        expected: String,
    },
    /// The listening socket could not be opened.
    #[error(
        "cannot listen on {address} (the address comes from CLOUDRUN_HOST and PORT): {source}; {hint}"
    )]
    Bind {
        /// The address that was tried.
        address: SocketAddr,
        /// What the operating system said.
        #[source]
        source: io::Error,
        /// The likely way out, chosen from the kind of failure.
        hint: &'static str,
    },
    /// A registered service cannot be served as declared.
    #[error("cannot serve {service:?}: {reason}")]
    InvalidService {
        /// The service's full proto name as registered.
        service: String,
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// The SIGTERM/SIGINT handlers that drive the graceful shutdown could not be installed.
    #[error("cannot install the SIGTERM and SIGINT handlers that drive graceful shutdown: {0}")]
    Signals(#[source] io::Error),
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Error {
    pub(crate) fn env(variable: &'static str, value: &str, expected: impl Into<String>) -> Self {
        Error::InvalidEnv {
            variable,
            value: value.to_owned(),
            expected: expected.into(),
        }
    }

    pub(crate) fn bind(address: SocketAddr, source: io::Error) -> Self {
        let hint = match source.kind() {
            io::ErrorKind::AddrInUse => {
                "another process is listening there: stop it, or set PORT to a free port (PORT=0 picks one)"
            }
            io::ErrorKind::AddrNotAvailable => {
                "this machine has no such address: set CLOUDRUN_HOST to :: or 0.0.0.0 (every interface) or 127.0.0.1"
            }
            io::ErrorKind::PermissionDenied => {
                "ports below 1024 need privileges: set PORT to 8080 or another port above 1023"
            }
            _ => "check PORT and CLOUDRUN_HOST",
        };
        Error::Bind {
            address,
            source,
            hint,
        }
    }

    pub(crate) fn service(service: &str, reason: impl Into<String>) -> Self {
        Error::InvalidService {
            service: service.to_owned(),
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_prints_like_display_so_main_shows_a_clean_message() {
        let err = Error::env("PORT", "abc", "an integer from 0 to 65535");
        assert_eq!(format!("{err:?}"), format!("{err}"));
        assert_eq!(
            err.to_string(),
            r#"PORT="abc" is not valid: expected an integer from 0 to 65535"#
        );
    }

    #[test]
    fn bind_error_names_the_address_the_variables_and_a_way_out() {
        let addr: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let err = Error::bind(addr, io::Error::from(io::ErrorKind::AddrInUse));
        let text = err.to_string();
        assert!(
            text.starts_with("cannot listen on 127.0.0.1:8080"),
            "{text}"
        );
        assert!(text.contains("CLOUDRUN_HOST and PORT"), "{text}");
        assert!(text.contains("PORT=0 picks one"), "{text}");
    }
}
