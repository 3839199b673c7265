//! The trace a call belongs to, read from the request headers Cloud Run forwards: W3C
//! `traceparent`, else Google's `X-Cloud-Trace-Context`. Cloud Logging groups log lines under a
//! request's trace when they carry `logging.googleapis.com/trace`.
//!
//! Parsing copies into fixed-size arrays: no allocation on the per-call path.

use http::HeaderMap;

/// A trace id, the caller's span id when known, and whether the trace is sampled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TraceContext {
    /// 32 lowercase hex digits.
    trace_id: [u8; 32],
    /// 16 lowercase hex digits: the form Cloud Logging's `spanId` takes.
    span_id: Option<[u8; 16]>,
    sampled: bool,
}

impl TraceContext {
    /// `traceparent` wins when valid; an invalid one falls back to `X-Cloud-Trace-Context`.
    pub(crate) fn from_headers(headers: &HeaderMap) -> Option<Self> {
        if let Some(ctx) = headers
            .get("traceparent")
            .and_then(|v| Self::from_traceparent(v.as_bytes()))
        {
            return Some(ctx);
        }
        headers
            .get("x-cloud-trace-context")
            .and_then(|v| Self::from_cloud_trace_context(v.as_bytes()))
    }

    /// `VERSION-TRACEID-PARENTID-FLAGS`, e.g. `00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01`.
    /// Future versions may append fields after the flags; version `ff` is invalid.
    pub(crate) fn from_traceparent(value: &[u8]) -> Option<Self> {
        if value.len() < 55 || value[2] != b'-' || value[35] != b'-' || value[52] != b'-' {
            return None;
        }
        let version = &value[0..2];
        if !is_lower_hex(version) || version == b"ff" || (version == b"00" && value.len() != 55) {
            return None;
        }
        if value.len() > 55 && value[55] != b'-' {
            return None;
        }
        let trace_id: [u8; 32] = value[3..35].try_into().ok()?;
        let span_id: [u8; 16] = value[36..52].try_into().ok()?;
        let flags = &value[53..55];
        if !is_lower_hex(&trace_id) || !is_lower_hex(&span_id) || !is_lower_hex(flags) {
            return None;
        }
        if trace_id.iter().all(|&b| b == b'0') || span_id.iter().all(|&b| b == b'0') {
            return None;
        }
        let sampled = hex_value(flags[1]) & 1 == 1;
        Some(TraceContext {
            trace_id,
            span_id: Some(span_id),
            sampled,
        })
    }

    /// `TRACE_ID/SPAN_ID;o=OPTIONS` with a decimal span id, e.g.
    /// `105445aa7843bc8bf206b12000100000/1;o=1`; the span id and options are optional.
    pub(crate) fn from_cloud_trace_context(value: &[u8]) -> Option<Self> {
        let (ids, options) = match value.iter().position(|&b| b == b';') {
            Some(i) => (&value[..i], Some(&value[i + 1..])),
            None => (value, None),
        };
        let (trace, span) = match ids.iter().position(|&b| b == b'/') {
            Some(i) => (&ids[..i], Some(&ids[i + 1..])),
            None => (ids, None),
        };
        let mut trace_id: [u8; 32] = trace.try_into().ok()?;
        if !trace_id.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        trace_id.make_ascii_lowercase();
        if trace_id.iter().all(|&b| b == b'0') {
            return None;
        }
        let span_id = match span {
            None | Some(b"") => None,
            Some(digits) => {
                let span = std::str::from_utf8(digits).ok()?.parse::<u64>().ok()?;
                (span != 0).then(|| hex16(span))
            }
        };
        let sampled = options.is_some_and(|o| o == b"o=1");
        Some(TraceContext {
            trace_id,
            span_id,
            sampled,
        })
    }

    pub(crate) fn trace_id(&self) -> &str {
        // Only ASCII hex digits are ever stored.
        std::str::from_utf8(&self.trace_id).unwrap_or_default()
    }

    pub(crate) fn span_id(&self) -> Option<&str> {
        self.span_id
            .as_ref()
            .map(|s| std::str::from_utf8(s).unwrap_or_default())
    }

    pub(crate) fn sampled(&self) -> bool {
        self.sampled
    }
}

fn is_lower_hex(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
}

fn hex_value(digit: u8) -> u8 {
    match digit {
        b'0'..=b'9' => digit - b'0',
        _ => digit.to_ascii_lowercase() - b'a' + 10,
    }
}

fn hex16(value: u64) -> [u8; 16] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = [b'0'; 16];
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = DIGITS[((value >> ((15 - i) * 4)) & 0xf) as usize];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

    #[test]
    fn traceparent_gives_trace_span_and_sampling() {
        let ctx = TraceContext::from_traceparent(
            b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .unwrap();
        assert_eq!(ctx.trace_id(), TRACE);
        assert_eq!(ctx.span_id(), Some("00f067aa0ba902b7"));
        assert!(ctx.sampled());
        let unsampled = TraceContext::from_traceparent(
            b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
        )
        .unwrap();
        assert!(!unsampled.sampled());
    }

    #[test]
    fn traceparent_from_a_future_version_may_carry_more_fields() {
        let ctx = TraceContext::from_traceparent(
            b"cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        )
        .unwrap();
        assert_eq!(ctx.trace_id(), TRACE);
    }

    #[test]
    fn invalid_traceparents_are_ignored() {
        for bad in [
            &b""[..],
            b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            b"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            b"00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            b"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            b"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",
            b"00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",
            b"00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
        ] {
            assert_eq!(
                TraceContext::from_traceparent(bad),
                None,
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn cloud_trace_context_turns_the_decimal_span_into_hex() {
        let ctx = TraceContext::from_cloud_trace_context(
            b"4BF92F3577B34DA6A3CE929D0E0E4736/1311768467294899695;o=1",
        )
        .unwrap();
        assert_eq!(ctx.trace_id(), TRACE);
        assert_eq!(ctx.span_id(), Some("1234567890abcdef"));
        assert!(ctx.sampled());
    }

    #[test]
    fn cloud_trace_context_span_and_options_are_optional() {
        let ctx = TraceContext::from_cloud_trace_context(TRACE.as_bytes()).unwrap();
        assert_eq!(ctx.trace_id(), TRACE);
        assert_eq!(ctx.span_id(), None);
        assert!(!ctx.sampled());
        let ctx =
            TraceContext::from_cloud_trace_context(format!("{TRACE}/;o=0").as_bytes()).unwrap();
        assert_eq!(ctx.span_id(), None);
    }

    #[test]
    fn invalid_cloud_trace_contexts_are_ignored() {
        for bad in [
            "",
            "short/1",
            "4bf92f3577b34da6a3ce929d0e0e473z/1",
            "4bf92f3577b34da6a3ce929d0e0e4736/abc",
            "4bf92f3577b34da6a3ce929d0e0e4736/-1",
            "00000000000000000000000000000000/1",
        ] {
            assert_eq!(
                TraceContext::from_cloud_trace_context(bad.as_bytes()),
                None,
                "{bad}"
            );
        }
    }

    #[test]
    fn traceparent_wins_and_a_bad_one_falls_back() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-cloud-trace-context",
            "105445aa7843bc8bf206b12000100000/1;o=1".parse().unwrap(),
        );
        headers.insert(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
                .parse()
                .unwrap(),
        );
        assert_eq!(
            TraceContext::from_headers(&headers).unwrap().trace_id(),
            TRACE
        );
        headers.insert("traceparent", "garbage".parse().unwrap());
        let ctx = TraceContext::from_headers(&headers).unwrap();
        assert_eq!(ctx.trace_id(), "105445aa7843bc8bf206b12000100000");
        assert_eq!(ctx.span_id(), Some("0000000000000001"));
        assert_eq!(TraceContext::from_headers(&HeaderMap::new()), None);
    }
}
