//! Printers for findings, byte for byte in buf's formats (plus a severity for notices).

use std::fmt::Write as _;

use super::finding::{Finding, Severity};
use super::gofmt::json_string;
use super::model::Span;

/// How findings are printed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ErrorFormat {
    /// `path:line:column:message`, one per line (buf's `text`).
    #[default]
    Text,
    /// One JSON object per line with buf's keys (`path`, `start_line`, `start_column`,
    /// `end_line`, `end_column`, `type`, `message`), plus `"severity":"notice"` on notices.
    Json,
    /// GitHub Actions workflow commands (`::error file=…::message`, `::notice` for notices).
    GithubActions,
}

/// Prints findings in the chosen format, one per line, each line ending in a newline.
pub fn render(findings: &[Finding], format: ErrorFormat) -> String {
    let mut out = String::new();
    for f in findings {
        match format {
            ErrorFormat::Text => text(&mut out, f),
            ErrorFormat::Json => json(&mut out, f),
            ErrorFormat::GithubActions => github(&mut out, f),
        }
        out.push('\n');
    }
    out
}

fn span_or_unknown(f: &Finding) -> Span {
    f.span.unwrap_or(Span::UNKNOWN)
}

fn text(out: &mut String, f: &Finding) {
    let span = span_or_unknown(f);
    let path = f.path.as_deref().unwrap_or("<input>");
    let _ = write!(out, "{path}:{}:{}:", span.start_line, span.start_column);
    if f.severity == Severity::Notice {
        out.push_str("notice: ");
    }
    out.push_str(&f.message);
}

fn json(out: &mut String, f: &Finding) {
    let span = span_or_unknown(f);
    out.push('{');
    if let Some(path) = &f.path {
        let _ = write!(out, "\"path\":{},", json_string(path));
    }
    let _ = write!(
        out,
        "\"start_line\":{},\"start_column\":{},\"end_line\":{},\"end_column\":{},\"type\":{},\"message\":{}",
        span.start_line,
        span.start_column,
        span.end_line,
        span.end_column,
        json_string(f.rule),
        json_string(&f.message)
    );
    if f.severity == Severity::Notice {
        out.push_str(",\"severity\":\"notice\"");
    }
    out.push('}');
}

fn github(out: &mut String, f: &Finding) {
    out.push_str(match f.severity {
        Severity::Error => "::error file=",
        Severity::Notice => "::notice file=",
    });
    match (&f.path, f.span) {
        (Some(path), span) => {
            let span = span.unwrap_or(Span::UNKNOWN);
            let _ = write!(
                out,
                "{path},line={},col={},endLine={},endColumn={}",
                span.start_line, span.start_column, span.end_line, span.end_column
            );
        }
        (None, _) => out.push_str("<input>"),
    }
    out.push_str("::");
    out.push_str(&f.message);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(path: Option<&str>, severity: Severity) -> Finding {
        Finding {
            rule: "FIELD_NO_DELETE",
            path: path.map(str::to_string),
            span: path.map(|_| Span {
                start_line: 4,
                start_column: 1,
                end_line: 6,
                end_column: 2,
            }),
            message: "Previously present field \"2\" was deleted.".into(),
            severity,
        }
    }

    #[test]
    fn formats_match_buf() {
        let f = [
            finding(Some("a.proto"), Severity::Error),
            finding(None, Severity::Error),
        ];
        assert_eq!(
            render(&f, ErrorFormat::Text),
            "a.proto:4:1:Previously present field \"2\" was deleted.\n<input>:1:1:Previously present field \"2\" was deleted.\n"
        );
        assert_eq!(
            render(&f, ErrorFormat::Json),
            "{\"path\":\"a.proto\",\"start_line\":4,\"start_column\":1,\"end_line\":6,\"end_column\":2,\"type\":\"FIELD_NO_DELETE\",\"message\":\"Previously present field \\\"2\\\" was deleted.\"}\n\
             {\"start_line\":1,\"start_column\":1,\"end_line\":1,\"end_column\":1,\"type\":\"FIELD_NO_DELETE\",\"message\":\"Previously present field \\\"2\\\" was deleted.\"}\n"
        );
        assert_eq!(
            render(&f, ErrorFormat::GithubActions),
            "::error file=a.proto,line=4,col=1,endLine=6,endColumn=2::Previously present field \"2\" was deleted.\n::error file=<input>::Previously present field \"2\" was deleted.\n"
        );
    }

    #[test]
    fn notices_are_marked() {
        let f = [finding(Some("a.proto"), Severity::Notice)];
        assert!(render(&f, ErrorFormat::Text).starts_with("a.proto:4:1:notice: "));
        assert!(render(&f, ErrorFormat::Json).contains(",\"severity\":\"notice\"}"));
        assert!(render(&f, ErrorFormat::GithubActions).starts_with("::notice file=a.proto,"));
    }
}
