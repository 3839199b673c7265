//! The few Go formatting behaviours buf's messages depend on, reproduced so that our messages
//! match buf's byte for byte: `%q` quoting, `%v` of floats, and `encoding/json` string escaping.

use std::fmt::Write as _;

/// Go's `strconv.Quote` (what `%q` prints for a string).
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if is_go_printable(c) => out.push(c),
            c if (c as u32) < 0x80 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if (c as u32) < 0x10000 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\U{:08x}", c as u32);
            }
        }
    }
    out.push('"');
    out
}

/// An approximation of Go's `strconv.IsPrint`: letters, marks, numbers, punctuation, symbols
/// and the ASCII space. Exact for ASCII, which is what descriptors almost always hold.
fn is_go_printable(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    // Private use, unassigned surrogates cannot occur in a Rust char; format characters such as
    // the zero-width joiner are not printable in Go either.
    !matches!(c as u32, 0xAD | 0x600..=0x605 | 0x61C | 0x6DD | 0x70F | 0x200B..=0x200F
        | 0x2028..=0x202E | 0x2060..=0x2064 | 0x2066..=0x206F | 0xFEFF | 0xFFF9..=0xFFFB
        | 0xE000..=0xF8FF | 0xF0000..=0x10FFFF)
}

/// Go's `%q` of several strings joined by `sep` (buf's `stringutil.JoinSliceQuoted`).
pub(crate) fn join_quoted<'a>(items: impl IntoIterator<Item = &'a str>, sep: &str) -> String {
    items.into_iter().map(quote).collect::<Vec<_>>().join(sep)
}

/// Go's `%v` of a float64: shortest representation, in `%e` form for exponents below -4 or from
/// 6 up (strconv's `'g'` with shortest precision); `+Inf`, `-Inf`, `NaN`.
pub(crate) fn float64(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    shortest_g(&format!("{v:e}"))
}

/// Go's `%v` of a float32 (shortest digits that round-trip as a float32).
pub(crate) fn float32(v: f32) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    shortest_g(&format!("{v:e}"))
}

/// Turns Rust's shortest `{:e}` output (`-1.2345e6`) into Go's `%g` with shortest precision.
fn shortest_g(sci: &str) -> String {
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (neg, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let digits = if digits.trim_start_matches('0').is_empty() {
        "0".to_string()
    } else {
        digits
    };
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if digits == "0" {
        out.push('0');
        return out;
    }
    // strconv uses %e when the exponent is < -4 or >= the precision, which is 6 when shortest.
    if !(-4..6).contains(&exp) {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let _ = write!(out, "{:02}", exp.abs());
        return out;
    }
    if exp < 0 {
        out.push_str("0.");
        for _ in 0..(-exp - 1) {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        let point = exp as usize + 1;
        if digits.len() <= point {
            out.push_str(&digits);
            for _ in digits.len()..point {
                out.push('0');
            }
        } else {
            out.push_str(&digits[..point]);
            out.push('.');
            out.push_str(&digits[point..]);
        }
    }
    out
}

/// A JSON string literal as Go's `encoding/json` writes it: HTML-sensitive characters and the
/// line/paragraph separators are escaped as `\uXXXX`, like buf's JSON output.
pub(crate) fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_like_go() {
        assert_eq!(float64(1e6), "1e+06");
        assert_eq!(float64(1e7), "1e+07");
        assert_eq!(float64(123456.0), "123456");
        assert_eq!(float64(1234567.0), "1.234567e+06");
        assert_eq!(float64(0.00001), "1e-05");
        assert_eq!(float64(0.0001), "0.0001");
        assert_eq!(float64(0.0), "0");
        assert_eq!(float64(-2.5), "-2.5");
        assert_eq!(float64(f64::INFINITY), "+Inf");
        assert_eq!(float64(f64::NEG_INFINITY), "-Inf");
        assert_eq!(float64(f64::NAN), "NaN");
        assert_eq!(float32(0.1), "0.1");
        assert_eq!(float64(1e21), "1e+21");
        assert_eq!(float64(100.0), "100");
    }

    #[test]
    fn quotes_like_go() {
        assert_eq!(quote("a\n\"b"), r#""a\n\"b""#);
        assert_eq!(quote("é"), "\"é\"");
        assert_eq!(quote("\u{1}"), r#""\x01""#);
        assert_eq!(quote("\u{7f}"), r#""\x7f""#);
    }

    #[test]
    fn json_escapes_like_go() {
        assert_eq!(json_string("a<b>&\"c\""), r#""a\u003cb\u003e\u0026\"c\"""#);
    }
}
