//! Logs as Cloud Logging reads them: one JSON object per line on stdout with `severity`, `message`
//! and `time`.
//!
//! Two writers share one [`Sink`]:
//! - `tracing-stackdriver` formats every ordinary `tracing` event (start-up, shutdown, the
//!   service's own `tracing` calls);
//! - [`CallLines`] formats the one line per call that [`call_log`](crate::call_log) reports. It
//!   does not go through `tracing` at all: the stackdriver formatter renames every key to
//!   camelCase (so it cannot write `logging.googleapis.com/trace`) and builds a map of owned JSON
//!   values per event, and even a hand-written `tracing` layer pays for the event dispatch and a
//!   visitor call per field. On a server answering tens of thousands of calls a second, that was
//!   the largest cost the runtime added to a call. The line is written straight from the call's
//!   record into the sink's buffer; the log filter is still obeyed, through levels worked out
//!   once from it when the server starts.

use std::cell::{Cell, RefCell};
use std::io::{self, Write};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tonic::Code;
use tracing::{Dispatch, Level};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::writer::BoxMakeWriter;
use tracing_subscriber::layer::SubscriberExt;

use crate::call_log::code_name;
use crate::stdout_batch::{Serving, StdoutBatch};
use crate::trace_context::TraceContext;

/// The target the per-call lines are filtered under (and named in each line's `target`):
/// `CLOUDRUN_LOG_LEVEL=info,cloudrun_runtime::rpc=warn` keeps only the calls that did not go well.
pub(crate) const RPC_TARGET: &str = "cloudrun_runtime::rpc";

/// Where log lines are written: stdout unless [`Server::log_writer`](crate::Server::log_writer)
/// says otherwise.
#[derive(Clone)]
pub(crate) struct Sink(Arc<SinkKind>);

enum SinkKind {
    /// The process's stdout, batched while serving.
    Stdout(&'static StdoutBatch),
    Custom(BoxMakeWriter),
}

impl Sink {
    pub(crate) fn stdout() -> Self {
        Sink(Arc::new(SinkKind::Stdout(StdoutBatch::get())))
    }

    pub(crate) fn custom<W>(writer: W) -> Self
    where
        W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
    {
        Sink(Arc::new(SinkKind::Custom(BoxMakeWriter::new(writer))))
    }

    /// Batches stdout writes until the guard is dropped (which writes what is left); `None` for
    /// other writers, which get every line as it comes.
    pub(crate) fn serving(&self) -> Option<Serving> {
        match &*self.0 {
            SinkKind::Stdout(batch) => Some(batch.serving()),
            SinkKind::Custom(_) => None,
        }
    }

    /// Writes one line that `fill` appends to a buffer: for stdout, the batch's own buffer, so
    /// the line is formatted where it will be written from; for other writers, a reused
    /// per-thread buffer handed to the writer whole.
    fn write_line(&self, fill: impl FnOnce(&mut Vec<u8>)) {
        match &*self.0 {
            // A closed stdout must not take the server down; the line is lost either way.
            SinkKind::Stdout(batch) => {
                let _ = batch.write_with(fill);
            }
            SinkKind::Custom(make) => {
                thread_local! {
                    static LINE: RefCell<Vec<u8>> = RefCell::new(Vec::with_capacity(512));
                }
                let mut fill = Some(fill);
                let mut write = |buf: &mut Vec<u8>| {
                    buf.clear();
                    if let Some(fill) = fill.take() {
                        fill(buf);
                    }
                    let _ = make.make_writer().write_all(buf);
                };
                // Re-entry (a writer that logs a call line) or a thread that is exiting gets a
                // fresh buffer instead of a panic.
                let reused = LINE.try_with(|line| match line.try_borrow_mut() {
                    Ok(mut buf) => {
                        write(&mut buf);
                        true
                    }
                    Err(_) => false,
                });
                if reused != Ok(true) {
                    write(&mut Vec::new());
                }
            }
        }
    }
}

impl<'a> MakeWriter<'a> for Sink {
    type Writer = SinkWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        match &*self.0 {
            SinkKind::Stdout(batch) => SinkWriter::Stdout(batch),
            SinkKind::Custom(make) => SinkWriter::Custom(make.make_writer()),
        }
    }
}

/// The writer a [`Sink`] hands out for one line.
pub(crate) enum SinkWriter<'a> {
    Stdout(&'static StdoutBatch),
    Custom(Box<dyn Write + 'a>),
}

impl Write for SinkWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            SinkWriter::Stdout(batch) => batch.write(buf).map(|()| buf.len()),
            SinkWriter::Custom(w) => w.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            SinkWriter::Stdout(batch) => batch.write(buf),
            SinkWriter::Custom(w) => w.write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            // Batched lines are written on the batch's own schedule (and at the end of serving).
            SinkWriter::Stdout(_) => Ok(()),
            SinkWriter::Custom(w) => w.flush(),
        }
    }
}

/// How a server logs: its subscriber for ordinary events, and its call lines.
///
/// The subscriber becomes the global default when none is set yet, so the service's own
/// `tracing` events are JSON on stdout too. When one is already set (the application installed
/// its own, or another server in the same process came first), this server's lines still go to
/// its own sink: they are emitted inside [`Logging::scope`].
#[derive(Clone)]
pub(crate) struct Logging {
    dispatch: Dispatch,
    global: bool,
    calls: Arc<CallLines>,
}

impl Logging {
    /// Never fails: an already-set global subscriber is kept and noted, not an error.
    pub(crate) fn install(filter: EnvFilter, sink: Sink, project_id: Option<&str>) -> Self {
        let subscriber = tracing_subscriber::registry()
            .with(filter)
            .with(tracing_stackdriver::layer().with_writer(sink.clone()));
        let dispatch = Dispatch::new(subscriber);
        let global = tracing::dispatcher::set_global_default(dispatch.clone()).is_ok();
        let levels = CallLevels::from_filter_of(&dispatch);
        Logging {
            dispatch,
            global,
            calls: Arc::new(CallLines::new(sink, project_id, levels)),
        }
    }

    /// Runs `f` with this server's subscriber as the default, so events inside reach its sink.
    #[inline]
    pub(crate) fn scope<R>(&self, f: impl FnOnce() -> R) -> R {
        if self.global {
            // Already where events go; skip the thread-local swap.
            f()
        } else {
            tracing::dispatcher::with_default(&self.dispatch, f)
        }
    }

    /// Writes a finished call's line, unless the log filter leaves out its level.
    #[inline]
    pub(crate) fn call(&self, line: &CallLine<'_>) {
        if self.calls.levels.enabled(line.level) {
            self.calls.write(line);
        }
    }
}

/// Which levels of call lines the log filter lets through, worked out once rather than asked of
/// the filter on every call. Directives that depend on the current span cannot apply: call
/// lines are written outside any span.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CallLevels {
    error: bool,
    warn: bool,
    info: bool,
}

impl CallLevels {
    fn from_filter_of(dispatch: &Dispatch) -> Self {
        tracing::dispatcher::with_default(dispatch, || CallLevels {
            error: tracing::enabled!(target: RPC_TARGET, Level::ERROR),
            warn: tracing::enabled!(target: RPC_TARGET, Level::WARN),
            info: tracing::enabled!(target: RPC_TARGET, Level::INFO),
        })
    }

    fn enabled(self, level: Level) -> bool {
        match level {
            Level::ERROR => self.error,
            Level::WARN => self.warn,
            // Call lines are never DEBUG or TRACE.
            _ => self.info,
        }
    }
}

/// One finished call, as its log line reports it.
pub(crate) struct CallLine<'a> {
    pub(crate) level: Level,
    /// The request path: `/package.Service/Method`.
    pub(crate) method: &'a str,
    pub(crate) code: Code,
    pub(crate) latency_us: u64,
    /// The status message, for calls that failed with one.
    pub(crate) status_message: Option<&'a str>,
    /// What the handler panicked with.
    pub(crate) panic: Option<&'a str>,
    /// The verified caller.
    pub(crate) principal: Option<&'a str>,
    pub(crate) trace: Option<&'a TraceContext>,
}

/// Cloud Logging's severity names for `tracing` levels (as tracing-stackdriver maps them).
fn severity(level: Level) -> &'static str {
    match level {
        Level::ERROR => "ERROR",
        Level::WARN => "WARNING",
        Level::INFO => "INFO",
        Level::DEBUG | Level::TRACE => "DEBUG",
    }
}

/// Formats and writes the per-call lines.
pub(crate) struct CallLines {
    sink: Sink,
    /// `"projects/<id>/traces/"`, escaped for JSON, when the project is known; without it Cloud
    /// Logging cannot resolve a trace, so trace fields are left out.
    trace_prefix: Option<Box<str>>,
    levels: CallLevels,
}

impl CallLines {
    pub(crate) fn new(sink: Sink, project_id: Option<&str>, levels: CallLevels) -> Self {
        CallLines {
            sink,
            trace_prefix: project_id.map(|p| {
                let mut escaped = Vec::new();
                write_json_str_contents(&mut escaped, &format!("projects/{p}/traces/"));
                String::from_utf8(escaped)
                    .unwrap_or_default()
                    .into_boxed_str()
            }),
            levels,
        }
    }

    fn write(&self, line: &CallLine<'_>) {
        self.sink.write_line(|buf| self.format(line, buf));
    }

    /// One JSON object and a newline: `time`, `severity`, `target`, the call's fields under
    /// Cloud Logging's keys, and a `message` that reads `/pkg.Service/Method NOT_FOUND 1.234 ms`.
    pub(crate) fn format(&self, line: &CallLine<'_>, buf: &mut Vec<u8>) {
        buf.extend_from_slice(b"{\"time\":\"");
        write_time(buf, SystemTime::now());
        buf.extend_from_slice(b"\",\"severity\":\"");
        buf.extend_from_slice(severity(line.level).as_bytes());
        buf.extend_from_slice(b"\",\"target\":\"");
        buf.extend_from_slice(RPC_TARGET.as_bytes());
        buf.extend_from_slice(b"\",\"method\":\"");
        let method_start = buf.len();
        write_json_str_contents(buf, line.method);
        let method = method_start..buf.len();
        let code = code_name(line.code).as_bytes();
        buf.extend_from_slice(b"\",\"code\":\"");
        buf.extend_from_slice(code);
        buf.extend_from_slice(b"\",\"codeNumber\":");
        write_decimal(buf, line.code as i32 as u64);
        buf.extend_from_slice(b",\"latencyMs\":");
        write_millis(buf, line.latency_us);
        for (key, value) in [
            ("statusMessage", line.status_message),
            ("panic", line.panic),
            ("principal", line.principal),
        ] {
            if let Some(value) = value {
                buf.extend_from_slice(b",\"");
                buf.extend_from_slice(key.as_bytes());
                buf.extend_from_slice(b"\":\"");
                write_json_str_contents(buf, value);
                buf.push(b'"');
            }
        }
        if let (Some(prefix), Some(trace)) = (&self.trace_prefix, line.trace) {
            buf.extend_from_slice(b",\"logging.googleapis.com/trace\":\"");
            buf.extend_from_slice(prefix.as_bytes());
            write_json_str_contents(buf, trace.trace_id());
            buf.push(b'"');
            if let Some(span_id) = trace.span_id() {
                buf.extend_from_slice(b",\"logging.googleapis.com/spanId\":\"");
                write_json_str_contents(buf, span_id);
                buf.push(b'"');
            }
            if trace.sampled() {
                buf.extend_from_slice(b",\"logging.googleapis.com/trace_sampled\":true");
            }
        }
        buf.extend_from_slice(b",\"message\":\"");
        buf.extend_from_within(method);
        buf.push(b' ');
        buf.extend_from_slice(code);
        buf.push(b' ');
        write_millis(buf, line.latency_us);
        buf.extend_from_slice(b" ms\"}\n");
    }
}

/// `value` as the inside of a JSON string. Paths, codes and principals nearly never need
/// escaping, so they are copied as they are; anything else goes through serde_json.
fn write_json_str_contents(buf: &mut Vec<u8>, value: &str) {
    // A fold rather than `any`: without the early exit the check runs on whole vectors of bytes.
    let needs_escaping = value.bytes().fold(false, |found, b| {
        found | (b < 0x20) | (b == b'"') | (b == b'\\')
    });
    if !needs_escaping {
        buf.extend_from_slice(value.as_bytes());
    } else {
        let start = buf.len();
        // Writing JSON into a Vec only fails on invalid UTF-8, which a &str cannot hold.
        let _ = serde_json::to_writer(&mut *buf, value);
        // Without serde_json's quotes: the caller writes its own around the contents.
        buf.remove(start);
        buf.pop();
    }
}

/// RFC 3339 in UTC with nanoseconds, as Cloud Logging reads `time`. The calendar part changes
/// once a second, so each thread formats it once a second and reuses it.
fn write_time(buf: &mut Vec<u8>, now: SystemTime) {
    thread_local! {
        static SECOND: Cell<(u64, [u8; 19])> = const { Cell::new((u64::MAX, [0; 19])) };
    }
    let since_epoch = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let seconds = since_epoch.as_secs();
    let (cached, mut prefix) = SECOND.get();
    if cached != seconds {
        // "2024-05-01T12:34:56Z" for a whole second; its first 19 bytes are the prefix.
        let mut whole = Vec::with_capacity(20);
        let formatted = i64::try_from(seconds)
            .ok()
            .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
            .is_some_and(|t| t.format_into(&mut whole, &Rfc3339).is_ok());
        if !formatted || whole.len() < 19 {
            // Beyond year 9999; not worth a special case.
            buf.extend_from_slice(b"9999-12-31T23:59:59Z");
            return;
        }
        prefix.copy_from_slice(&whole[..19]);
        SECOND.set((seconds, prefix));
    }
    buf.extend_from_slice(&prefix);
    buf.push(b'.');
    write_padded(buf, u64::from(since_epoch.subsec_nanos()), 9);
    buf.push(b'Z');
}

/// `value` in decimal, zero-padded to `width` digits.
fn write_padded(buf: &mut Vec<u8>, mut value: u64, width: usize) {
    let start = buf.len();
    buf.resize(start + width, b'0');
    for slot in buf[start..].iter_mut().rev() {
        // `value % 10` is a single digit.
        *slot = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

/// `value` in decimal.
fn write_decimal(buf: &mut Vec<u8>, value: u64) {
    let digits = value.checked_ilog10().map_or(1, |log| log as usize + 1);
    write_padded(buf, value, digits);
}

/// Microseconds as milliseconds with three decimals: a JSON number such as `12.345`.
fn write_millis(buf: &mut Vec<u8>, micros: u64) {
    write_decimal(buf, micros / 1000);
    buf.push(b'.');
    write_padded(buf, micros % 1000, 3);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// A writer that keeps what it is given.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Captured {
        fn sink(&self) -> Sink {
            let c = self.clone();
            Sink::custom(move || c.clone())
        }

        fn json_lines(&self) -> Vec<serde_json::Value> {
            let text = String::from_utf8(self.0.lock().unwrap().clone()).unwrap();
            text.lines()
                .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
                .collect()
        }
    }

    /// A Logging for `filter` that writes into the returned buffer.
    fn capture(filter: &str, project: Option<&str>) -> (Logging, Captured) {
        let captured = Captured::default();
        let logging = Logging::install(EnvFilter::new(filter), captured.sink(), project);
        (logging, captured)
    }

    fn call(method: &str, code: Code, level: Level) -> CallLine<'_> {
        CallLine {
            level,
            method,
            code,
            latency_us: 1_234,
            status_message: None,
            panic: None,
            principal: None,
            trace: None,
        }
    }

    const TRACEPARENT: &[u8] = b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn a_call_line_carries_cloud_logging_keys() {
        let (logging, out) = capture("info", Some("demo-project"));
        let trace = TraceContext::from_traceparent(TRACEPARENT).unwrap();
        logging.call(&CallLine {
            latency_us: 12_345,
            status_message: Some("no \"such\" thing\n"),
            principal: Some("svc@demo-project.iam.gserviceaccount.com"),
            trace: Some(&trace),
            ..call("/pkg.Svc/Do", Code::NotFound, Level::WARN)
        });
        let out = out.json_lines();
        assert_eq!(out.len(), 1, "{out:?}");
        let line = &out[0];
        assert_eq!(line["severity"], "WARNING");
        assert_eq!(line["target"], RPC_TARGET);
        assert_eq!(line["message"], "/pkg.Svc/Do NOT_FOUND 12.345 ms");
        assert_eq!(line["method"], "/pkg.Svc/Do");
        assert_eq!(line["code"], "NOT_FOUND");
        assert_eq!(line["codeNumber"], 5);
        assert_eq!(line["latencyMs"], 12.345);
        assert_eq!(line["statusMessage"], "no \"such\" thing\n");
        assert_eq!(
            line["principal"],
            "svc@demo-project.iam.gserviceaccount.com"
        );
        assert!(line.get("panic").is_none(), "{line}");
        assert_eq!(
            line["logging.googleapis.com/trace"],
            "projects/demo-project/traces/4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert_eq!(line["logging.googleapis.com/spanId"], "00f067aa0ba902b7");
        assert_eq!(line["logging.googleapis.com/trace_sampled"], true);
        // RFC 3339 in UTC: 2024-05-01T12:34:56.789012345Z
        let time = line["time"].as_str().unwrap().as_bytes();
        assert!(time.len() >= 20 && time.ends_with(b"Z"), "{line}");
        for (i, c) in [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')] {
            assert_eq!(time[i], c, "{line}");
        }
        let year = OffsetDateTime::now_utc().year().to_string();
        assert!(time.starts_with(year.as_bytes()), "{line}");
    }

    #[test]
    fn a_successful_call_has_only_the_fields_it_needs() {
        let (logging, out) = capture("info", None);
        logging.call(&call("/a.B/C", Code::Ok, Level::INFO));
        let out = out.json_lines();
        let keys: Vec<&str> = out[0]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut expected = [
            "time",
            "severity",
            "target",
            "method",
            "code",
            "codeNumber",
            "latencyMs",
            "message",
        ];
        expected.sort_unstable();
        let mut keys = keys;
        keys.sort_unstable();
        assert_eq!(keys, expected);
        assert_eq!(out[0]["message"], "/a.B/C OK 1.234 ms");
        assert_eq!(out[0]["codeNumber"], 0);
    }

    #[test]
    fn anything_a_client_or_handler_controls_is_escaped() {
        let (logging, out) = capture("info", None);
        logging.call(&CallLine {
            status_message: Some("tab\there \\ \u{1} \u{7f} é"),
            panic: Some("index out of bounds: \"len\" is 0"),
            principal: Some("a\"b@c"),
            ..call("/we\"ird\\/Path", Code::Internal, Level::ERROR)
        });
        let line = &out.json_lines()[0];
        assert_eq!(line["method"], "/we\"ird\\/Path");
        assert_eq!(line["message"], "/we\"ird\\/Path INTERNAL 1.234 ms");
        assert_eq!(line["statusMessage"], "tab\there \\ \u{1} \u{7f} é");
        assert_eq!(line["panic"], "index out of bounds: \"len\" is 0");
        assert_eq!(line["principal"], "a\"b@c");
        assert_eq!(line["severity"], "ERROR");
    }

    #[test]
    fn times_are_rfc3339_utc_with_nanoseconds_across_second_boundaries() {
        let at = |secs: u64, nanos: u32| {
            let mut buf = Vec::new();
            write_time(&mut buf, UNIX_EPOCH + std::time::Duration::new(secs, nanos));
            String::from_utf8(buf).unwrap()
        };
        assert_eq!(at(0, 0), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(at(1_700_000_000, 5), "2023-11-14T22:13:20.000000005Z");
        // Same second again (cached prefix), then the next one.
        assert_eq!(
            at(1_700_000_000, 999_999_999),
            "2023-11-14T22:13:20.999999999Z"
        );
        assert_eq!(at(1_700_000_001, 120), "2023-11-14T22:13:21.000000120Z");
    }

    #[test]
    fn latencies_are_milliseconds_with_three_decimals() {
        for (micros, text) in [
            (0, "0.000"),
            (7, "0.007"),
            (1_234, "1.234"),
            (61_000_001, "61000.001"),
            (u64::MAX, "18446744073709551.615"),
        ] {
            let mut buf = Vec::new();
            write_millis(&mut buf, micros);
            assert_eq!(String::from_utf8(buf).unwrap(), text);
        }
    }

    #[test]
    fn without_a_project_there_are_no_trace_fields() {
        let (logging, out) = capture("info", None);
        let trace = TraceContext::from_traceparent(TRACEPARENT).unwrap();
        logging.call(&CallLine {
            trace: Some(&trace),
            ..call("/pkg.Svc/Do", Code::Ok, Level::INFO)
        });
        let line = &out.json_lines()[0];
        assert_eq!(line["method"], "/pkg.Svc/Do");
        for key in [
            "logging.googleapis.com/trace",
            "logging.googleapis.com/spanId",
            "logging.googleapis.com/trace_sampled",
        ] {
            assert!(line.get(key).is_none(), "{key} in {line}");
        }
    }

    #[test]
    fn a_project_id_that_needs_escaping_cannot_break_the_line() {
        let (logging, out) = capture("info", Some("a\"b"));
        let trace = TraceContext::from_traceparent(TRACEPARENT).unwrap();
        logging.call(&CallLine {
            trace: Some(&trace),
            ..call("/pkg.Svc/Do", Code::Ok, Level::INFO)
        });
        assert_eq!(
            out.json_lines()[0]["logging.googleapis.com/trace"],
            "projects/a\"b/traces/4bf92f3577b34da6a3ce929d0e0e4736"
        );
    }

    #[test]
    fn the_log_filter_decides_which_call_lines_are_written() {
        let (logging, out) = capture("info,cloudrun_runtime::rpc=warn", None);
        logging.call(&call("/a.B/Ok", Code::Ok, Level::INFO));
        logging.call(&call("/a.B/Slow", Code::DeadlineExceeded, Level::WARN));
        logging.call(&call("/a.B/Broken", Code::Internal, Level::ERROR));
        let methods: Vec<_> = out
            .json_lines()
            .iter()
            .map(|l| l["method"].clone())
            .collect();
        assert_eq!(methods, ["/a.B/Slow", "/a.B/Broken"]);

        let (logging, out) = capture("off", None);
        logging.call(&call("/a.B/Broken", Code::Internal, Level::ERROR));
        assert!(out.json_lines().is_empty());

        let (logging, out) = capture("warn,cloudrun_runtime::rpc=info", None);
        logging.call(&call("/a.B/Ok", Code::Ok, Level::INFO));
        assert_eq!(out.json_lines().len(), 1);
    }

    #[test]
    fn ordinary_events_go_through_stackdriver_with_the_same_sink() {
        let (logging, out) = capture("info", Some("p"));
        logging.scope(|| {
            tracing::info!(port = 8080u64, "listening");
            tracing::debug!("filtered out by the info filter");
        });
        logging.call(&call("/a.B/C", Code::Ok, Level::INFO));
        let out = out.json_lines();
        assert_eq!(out.len(), 2, "{out:?}");
        assert_eq!(out[0]["message"], "listening");
        assert_eq!(out[0]["port"], 8080);
        assert_eq!(out[0]["severity"], "INFO");
        assert_eq!(out[1]["method"], "/a.B/C");
    }
}
