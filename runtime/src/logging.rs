//! Logs as Cloud Logging reads them: one JSON object per line on stdout with `severity`, `message`
//! and `time`.
//!
//! One layer, [`CloudLogging`], writes to one [`Sink`]:
//! - `tracing-stackdriver` formats every ordinary event (start-up, shutdown, the service's own
//!   `tracing` calls);
//! - [`CallLines`] formats the one line per call that [`call_log`](crate::call_log) emits. The
//!   stackdriver formatter cannot do this part: it renames every key to camelCase, so it cannot
//!   write `logging.googleapis.com/trace`, and it builds a map of owned JSON values per event,
//!   which is too slow for every call. This layer writes straight into a reused buffer.
//!
//! Routing by target inside one layer, rather than with a per-layer filter, keeps the
//! subscriber's max level known (the `EnvFilter`'s): with a per-layer filter it becomes "unknown",
//! and every `trace!` inside hyper and h2 would be evaluated on every frame.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::io::{self, Write};
use std::ops::Range;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serializer as _;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tonic::Code;
use tracing::field::{Field, Visit};
use tracing::{Dispatch, Event, Level, Subscriber, span};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::writer::BoxMakeWriter;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

use crate::call_log::code_name;
use crate::stdout_batch::{Serving, StdoutBatch};

/// Target of the per-call events; `CLOUDRUN_LOG_LEVEL=info,cloudrun_runtime::rpc=warn` keeps only
/// the calls that did not go well.
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

/// The subscriber a server logs through.
///
/// It becomes the global default when none is set yet, so the service's own `tracing` events are
/// JSON on stdout too. When one is already set (the application installed its own, or another
/// server in the same process came first), this server's lines still go to its own sink: they are
/// emitted inside [`Logging::scope`].
#[derive(Clone)]
pub(crate) struct Logging {
    dispatch: Dispatch,
    global: bool,
}

impl Logging {
    /// Never fails: an already-set global subscriber is kept and noted, not an error.
    pub(crate) fn install(filter: EnvFilter, sink: Sink, project_id: Option<&str>) -> Self {
        let subscriber = tracing_subscriber::registry()
            .with(filter)
            .with(CloudLogging::new(sink, project_id));
        let dispatch = Dispatch::new(subscriber);
        let global = tracing::dispatcher::set_global_default(dispatch.clone()).is_ok();
        Logging { dispatch, global }
    }

    /// Runs `f` with this server's subscriber as the default, so events inside reach its sink.
    #[inline]
    pub(crate) fn scope<R>(&self, f: impl FnOnce() -> R) -> R {
        if self.global {
            // Already where events go; skip the thread-local swap on the per-call path.
            f()
        } else {
            tracing::dispatcher::with_default(&self.dispatch, f)
        }
    }
}

/// Cloud Logging's severity names for `tracing` levels (as tracing-stackdriver maps them).
fn severity(level: &Level) -> &'static str {
    match *level {
        Level::ERROR => "ERROR",
        Level::WARN => "WARNING",
        Level::INFO => "INFO",
        Level::DEBUG | Level::TRACE => "DEBUG",
    }
}

/// Formats the per-call events (target [`RPC_TARGET`]).
pub(crate) struct CallLines {
    sink: Sink,
    /// `"projects/<id>/traces/"` when the project is known; without it Cloud Logging cannot
    /// resolve a trace, so trace fields are left out.
    trace_prefix: Option<Box<str>>,
}

impl CallLines {
    pub(crate) fn new(sink: Sink, project_id: Option<&str>) -> Self {
        CallLines {
            sink,
            trace_prefix: project_id.map(|p| format!("projects/{p}/traces/").into_boxed_str()),
        }
    }

    /// One JSON object and a newline. Known field names get Cloud Logging's keys; any other
    /// field is written under its own name.
    pub(crate) fn format(&self, event: &Event<'_>, buf: &mut Vec<u8>) {
        buf.extend_from_slice(b"{\"time\":\"");
        write_time(buf, SystemTime::now());
        buf.extend_from_slice(b"\",\"severity\":\"");
        buf.extend_from_slice(severity(event.metadata().level()).as_bytes());
        buf.extend_from_slice(b"\",\"target\":\"");
        buf.extend_from_slice(RPC_TARGET.as_bytes());
        buf.push(b'"');
        let mut fields = CallFields {
            buf,
            trace_prefix: self.trace_prefix.as_deref(),
            method: None,
            code_number: None,
            latency_us: None,
        };
        event.record(&mut fields);
        fields.write_message();
        buf.extend_from_slice(b"}\n");
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

/// Microseconds as milliseconds with three decimals: a JSON number such as `12.345`.
fn write_millis(buf: &mut Vec<u8>, micros: u64) {
    let _ = serde_json::to_writer(&mut *buf, &(micros / 1000));
    buf.push(b'.');
    write_padded(buf, micros % 1000, 3);
}

/// The subscriber's one output layer: call events to [`CallLines`], everything else to
/// tracing-stackdriver.
pub(crate) struct CloudLogging<S>
where
    S: Subscriber + for<'span> LookupSpan<'span>,
{
    ordinary: tracing_stackdriver::Layer<S, Sink>,
    calls: CallLines,
}

impl<S> CloudLogging<S>
where
    S: Subscriber + for<'span> LookupSpan<'span>,
{
    pub(crate) fn new(sink: Sink, project_id: Option<&str>) -> Self {
        CloudLogging {
            ordinary: tracing_stackdriver::layer().with_writer(sink.clone()),
            calls: CallLines::new(sink, project_id),
        }
    }
}

// Span methods go to the stackdriver layer, which records span fields for its `span` keys; the
// call lines use no spans.
impl<S> Layer<S> for CloudLogging<S>
where
    S: Subscriber + for<'span> LookupSpan<'span>,
{
    fn on_new_span(&self, attrs: &span::Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
        self.ordinary.on_new_span(attrs, id, ctx);
    }

    fn on_record(&self, id: &span::Id, values: &span::Record<'_>, ctx: Context<'_, S>) {
        self.ordinary.on_record(id, values, ctx);
    }

    fn on_enter(&self, id: &span::Id, ctx: Context<'_, S>) {
        self.ordinary.on_enter(id, ctx);
    }

    fn on_exit(&self, id: &span::Id, ctx: Context<'_, S>) {
        self.ordinary.on_exit(id, ctx);
    }

    fn on_close(&self, id: span::Id, ctx: Context<'_, S>) {
        self.ordinary.on_close(id, ctx);
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if event.metadata().target() == RPC_TARGET {
            self.calls.write(event);
        } else {
            self.ordinary.on_event(event, ctx);
        }
    }
}

impl CallLines {
    fn write(&self, event: &Event<'_>) {
        thread_local! {
            static LINE: RefCell<Vec<u8>> = RefCell::new(Vec::with_capacity(512));
        }
        LINE.with(|line| {
            // Re-entry (a writer that logs) gets a fresh buffer instead of a borrow panic.
            let mut fresh = Vec::new();
            let mut borrowed = line.try_borrow_mut();
            let buf = match borrowed.as_deref_mut() {
                Ok(buf) => buf,
                Err(_) => &mut fresh,
            };
            buf.clear();
            self.format(event, buf);
            // A closed stdout must not take the server down; the line is lost either way.
            let _ = self.sink.make_writer().write_all(buf);
        });
    }
}

/// Writes an event's fields as `,"key":value` pairs.
struct CallFields<'a> {
    buf: &'a mut Vec<u8>,
    trace_prefix: Option<&'a str>,
    /// Where the escaped method sits in `buf`, for the message.
    method: Option<Range<usize>>,
    code_number: Option<i64>,
    latency_us: Option<u64>,
}

impl CallFields<'_> {
    fn key(&mut self, key: &str) {
        self.buf.push(b',');
        // Keys are field names, nearly always plain identifiers: those need no escaping.
        if key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'/'))
        {
            self.buf.push(b'"');
            self.buf.extend_from_slice(key.as_bytes());
            self.buf.push(b'"');
        } else {
            self.string(key);
        }
        self.buf.push(b':');
    }

    fn string(&mut self, value: &str) {
        // Writing JSON into a Vec only fails on invalid UTF-8, which a &str cannot hold.
        let _ = serde_json::to_writer(&mut *self.buf, value);
    }

    fn display(&mut self, value: &dyn fmt::Display) {
        // serde_json escapes a Display value as it is formatted: no intermediate String.
        let _ = serde_json::Serializer::new(&mut *self.buf).collect_str(value);
    }

    /// `"message": "/pkg.Service/Method NOT_FOUND 1.234 ms"`, built from the fields already
    /// written rather than formatted again. Events without those fields keep their own message.
    fn write_message(&mut self) {
        let (Some(method), Some(code), Some(micros)) =
            (self.method.clone(), self.code_number, self.latency_us)
        else {
            return;
        };
        self.buf.extend_from_slice(b",\"message\":\"");
        self.buf.extend_from_within(method);
        self.buf.push(b' ');
        let code = i32::try_from(code).map_or(Code::Unknown, Code::from_i32);
        self.buf.extend_from_slice(code_name(code).as_bytes());
        self.buf.push(b' ');
        write_millis(self.buf, micros);
        self.buf.extend_from_slice(b" ms\"");
    }
}

/// Shows a `Debug` value through `Display` so it can be escaped while formatted.
struct DebugAsDisplay<'a>(&'a dyn fmt::Debug);

impl fmt::Display for DebugAsDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Visit for CallFields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "trace" => {
                let Some(prefix) = self.trace_prefix else {
                    return;
                };
                self.key("logging.googleapis.com/trace");
                self.display(&format_args!("{prefix}{value}"));
            }
            "method" => {
                self.key("method");
                let start = self.buf.len() + 1;
                self.string(value);
                self.method = Some(start..self.buf.len() - 1);
            }
            "span_id" => {
                if self.trace_prefix.is_some() {
                    self.key("logging.googleapis.com/spanId");
                    self.string(value);
                }
            }
            name => {
                self.key(json_key(name));
                self.string(value);
            }
        }
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        if field.name() == "trace_sampled" {
            if self.trace_prefix.is_none() {
                return;
            }
            self.key("logging.googleapis.com/trace_sampled");
        } else {
            self.key(json_key(field.name()));
        }
        self.buf
            .extend_from_slice(if value { b"true" } else { b"false" });
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "latency_us" {
            self.key("latencyMs");
            write_millis(self.buf, value);
            self.latency_us = Some(value);
        } else {
            self.key(json_key(field.name()));
            let _ = serde_json::to_writer(&mut *self.buf, &value);
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if field.name() == "code_number" {
            self.code_number = Some(value);
        }
        self.key(json_key(field.name()));
        let _ = serde_json::to_writer(&mut *self.buf, &value);
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.key(json_key(field.name()));
        self.display(&DebugAsDisplay(value));
    }
}

/// The JSON key for a per-call field: camelCase, like tracing-stackdriver's keys.
fn json_key(field: &str) -> &str {
    match field {
        "code_number" => "codeNumber",
        "status_message" => "statusMessage",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use tracing::level_filters::LevelFilter;

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

    fn lines(project: Option<&str>, emit: impl FnOnce()) -> Vec<serde_json::Value> {
        let captured = Captured::default();
        let sink = Sink::custom({
            let c = captured.clone();
            move || c.clone()
        });
        let subscriber = tracing_subscriber::registry()
            .with(EnvFilter::new("info"))
            .with(CloudLogging::new(sink, project));
        tracing::subscriber::with_default(subscriber, emit);
        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .collect()
    }

    #[test]
    fn a_call_line_carries_cloud_logging_keys() {
        let out = lines(Some("demo-project"), || {
            tracing::event!(
                target: RPC_TARGET,
                Level::WARN,
                method = "/pkg.Svc/Do",
                code = "NOT_FOUND",
                code_number = 5i32,
                latency_us = 12_345u64,
                status_message = "no \"such\" thing\n",
                trace = "4bf92f3577b34da6a3ce929d0e0e4736",
                span_id = "00f067aa0ba902b7",
                trace_sampled = true
            );
        });
        assert_eq!(out.len(), 1, "{out:?}");
        let line = &out[0];
        assert_eq!(line["severity"], "WARNING");
        assert_eq!(line["message"], "/pkg.Svc/Do NOT_FOUND 12.345 ms");
        assert_eq!(line["method"], "/pkg.Svc/Do");
        assert_eq!(line["code"], "NOT_FOUND");
        assert_eq!(line["codeNumber"], 5);
        assert_eq!(line["latencyMs"], 12.345);
        assert_eq!(line["statusMessage"], "no \"such\" thing\n");
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
        ] {
            let mut buf = Vec::new();
            write_millis(&mut buf, micros);
            assert_eq!(String::from_utf8(buf).unwrap(), text);
        }
    }

    #[test]
    fn without_a_project_there_are_no_trace_fields() {
        let out = lines(None, || {
            tracing::event!(
                target: RPC_TARGET,
                Level::INFO,
                method = "/pkg.Svc/Do",
                trace = "4bf92f3577b34da6a3ce929d0e0e4736",
                span_id = "00f067aa0ba902b7",
                trace_sampled = true,
                "x"
            );
        });
        let line = &out[0];
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
        let out = lines(Some("a\"b"), || {
            tracing::event!(target: RPC_TARGET, Level::INFO, trace = "abc", "x");
        });
        assert_eq!(
            out[0]["logging.googleapis.com/trace"],
            "projects/a\"b/traces/abc"
        );
    }

    #[test]
    fn the_subscriber_keeps_the_filter_s_max_level_so_disabled_events_cost_nothing() {
        let subscriber = tracing_subscriber::registry()
            .with(EnvFilter::new("info"))
            .with(CloudLogging::new(Sink::custom(io::sink), None));
        assert_eq!(subscriber.max_level_hint(), Some(LevelFilter::INFO));
    }

    #[test]
    fn ordinary_events_go_through_stackdriver_once_and_call_events_only_through_call_lines() {
        let out = lines(Some("p"), || {
            tracing::info!(port = 8080u64, "listening");
            tracing::event!(target: RPC_TARGET, Level::INFO, method = "/a.B/C", "call");
            tracing::debug!("filtered out by the info filter");
        });
        assert_eq!(out.len(), 2, "{out:?}");
        assert_eq!(out[0]["message"], "listening");
        assert_eq!(out[0]["port"], 8080);
        assert_eq!(out[0]["severity"], "INFO");
        assert_eq!(out[1]["message"], "call");
        assert_eq!(out[1]["method"], "/a.B/C");
    }
}
