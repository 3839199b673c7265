//! The `grpc-timeout` header (gRPC over HTTP/2: at most eight digits and a unit). tonic writes it
//! for `Request::set_timeout` but keeps its parser and formatter private.

use std::time::Duration;

use http::HeaderValue;

/// The header's name.
pub(crate) const GRPC_TIMEOUT: &str = "grpc-timeout";

/// Reads a `grpc-timeout` value; `None` when it is malformed.
pub(crate) fn parse(value: &HeaderValue) -> Option<Duration> {
    let text = value.to_str().ok()?;
    let unit_at = text.len().checked_sub(1)?;
    let (digits, unit) = text.split_at(unit_at);
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n * 3600),
        "M" => Duration::from_secs(n * 60),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

/// Writes `timeout` with the finest unit that fits in eight digits.
pub(crate) fn format(timeout: Duration) -> HeaderValue {
    const MAX: u128 = 99_999_999;
    let (value, unit) = if timeout.as_nanos() <= MAX {
        (timeout.as_nanos(), 'n')
    } else if timeout.as_micros() <= MAX {
        (timeout.as_micros(), 'u')
    } else if timeout.as_millis() <= MAX {
        (timeout.as_millis(), 'm')
    } else if u128::from(timeout.as_secs()) <= MAX {
        (u128::from(timeout.as_secs()), 'S')
    } else if u128::from(timeout.as_secs() / 60) <= MAX {
        (u128::from(timeout.as_secs() / 60), 'M')
    } else {
        (u128::from(timeout.as_secs() / 3600).min(MAX), 'H')
    };
    HeaderValue::try_from(format!("{value}{unit}"))
        .expect("digits and an ASCII letter are a valid header value")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_then_parses_back() {
        for timeout in [
            Duration::from_nanos(5),
            Duration::from_millis(250),
            Duration::from_secs(30),
            Duration::from_secs(3 * 3600),
            Duration::from_secs(400 * 24 * 3600),
        ] {
            let header = format(timeout);
            assert!(header.len() <= 9, "{header:?}");
            let back = parse(&header).unwrap();
            // Coarser units round down; never by more than the unit.
            assert!(
                back <= timeout && timeout - back < Duration::from_secs(60),
                "{timeout:?}"
            );
        }
        assert_eq!(format(Duration::from_secs(30)), "30000000u");
    }

    #[test]
    fn malformed_values_are_rejected() {
        for bad in ["", "m", "10", "123456789m", "10x", "-1S", "1.5S", "1 S"] {
            assert_eq!(parse(&HeaderValue::from_static(bad)), None, "{bad:?}");
        }
        assert_eq!(
            parse(&HeaderValue::from_static("2S")),
            Some(Duration::from_secs(2))
        );
    }
}
