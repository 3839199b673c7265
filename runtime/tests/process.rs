//! The runtime as a process, the way Cloud Run runs it: real SIGTERM and SIGINT, stdout that
//! carries nothing but JSON lines, exit status 0 after a drain and non-zero for bad settings.
//!
//! This file is its own `main` (`harness = false`): run with `CLOUDRUN_RUNTIME_TEST_CHILD` set it
//! is the server (the probe service behind `cloudrun_runtime::serve`, as generated code calls
//! it); otherwise it runs the tests below, each against such a child.

#[path = "serving/probe.rs"]
mod probe;

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use serde_json::Value;
use tonic::transport::{Channel, Endpoint};

const CHILD: &str = "CLOUDRUN_RUNTIME_TEST_CHILD";

fn main() {
    if std::env::var_os(CHILD).is_some() {
        // Exactly what `fn main() -> Result<(), Error>` does with an error.
        if let Err(e) = serve() {
            eprintln!("Error: {e:?}");
            std::process::exit(1);
        }
        return;
    }

    let tests: [(&str, fn()); 7] = [
        (
            "sigterm_lets_in_flight_calls_finish_and_exits_zero_with_only_json_on_stdout",
            sigterm_drains,
        ),
        ("sigint_drains_and_exits_zero_too", sigint_drains),
        (
            "a_handler_panic_is_an_error_line_on_stdout_naming_the_method",
            handler_panic_on_stdout,
        ),
        (
            "every_call_gets_exactly_one_line_on_stdout_under_concurrent_load",
            one_line_per_call,
        ),
        (
            "a_second_sigterm_cuts_the_drain_short_and_the_cut_call_is_logged",
            second_sigterm_cuts,
        ),
        (
            "bad_environment_values_exit_non_zero_naming_the_variable",
            bad_env_exits_non_zero,
        ),
        (
            "a_port_in_use_exits_non_zero_naming_the_address",
            port_in_use_exits_non_zero,
        ),
    ];
    // `cargo test -- NAME` passes NAME through; flags are for the default harness, not this one.
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let selected: Vec<_> = tests
        .iter()
        .filter(|(name, _)| filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str())))
        .collect();
    println!("\nrunning {} tests", selected.len());
    let mut failed = Vec::new();
    for (name, test) in &selected {
        let outcome = catch_unwind(AssertUnwindSafe(test));
        println!(
            "test {name} ... {}",
            if outcome.is_ok() { "ok" } else { "FAILED" }
        );
        if outcome.is_err() {
            failed.push(*name);
        }
    }
    println!(
        "\ntest result: {}. {} passed; {} failed\n",
        if failed.is_empty() { "ok" } else { "FAILED" },
        selected.len() - failed.len(),
        failed.len()
    );
    if !failed.is_empty() {
        std::process::exit(1);
    }
}

fn serve() -> Result<(), cloudrun_runtime::Error> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
        .block_on(cloudrun_runtime::serve(probe::service()))
}

/// A child server and what it printed.
struct Server {
    child: Child,
    lines: Receiver<String>,
    stdout: Vec<String>,
    port: u16,
}

fn command(env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(std::env::current_exe().expect("the test binary's path"));
    command
        .env(CHILD, "1")
        .env("PORT", "0")
        .env("CLOUDRUN_HOST", "127.0.0.1")
        .env_remove("K_SERVICE")
        .env_remove("K_REVISION")
        .env_remove("CLOUDRUN_LOG_LEVEL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in env {
        command.env(key, value);
    }
    command
}

impl Server {
    /// Starts a child and waits for its start-up line.
    fn start(env: &[(&str, &str)]) -> Server {
        let mut child = command(env).spawn().expect("the child starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let (send, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        let mut server = Server {
            child,
            lines,
            stdout: Vec::new(),
            port: 0,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while server.port == 0 {
            let line = server.next_line(deadline);
            let value = parse(&line);
            if let Some(port) = value.get("port").and_then(Value::as_u64) {
                server.port = u16::try_from(port).expect("a port");
            }
        }
        server
    }

    fn next_line(&mut self, deadline: Instant) -> String {
        let wait = deadline.saturating_duration_since(Instant::now());
        match self.lines.recv_timeout(wait) {
            Ok(line) => {
                self.stdout.push(line.clone());
                line
            }
            Err(RecvTimeoutError::Timeout) => {
                panic!("no new stdout line in time; so far: {:#?}", self.stdout)
            }
            Err(RecvTimeoutError::Disconnected) => {
                let status = self.child.wait().expect("wait");
                panic!(
                    "the child exited ({status}); stdout: {:#?}; stderr: {}",
                    self.stdout,
                    stderr(&mut self.child)
                )
            }
        }
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{name} failed");
    }

    /// Waits for the exit (at most `limit`) and returns the status and every stdout line, each
    /// of which must be a JSON object.
    fn exit(mut self, limit: Duration) -> (ExitStatus, Vec<Value>, String) {
        let status = wait(&mut self.child, limit);
        self.stdout.extend(self.lines.iter());
        let lines = self.stdout.iter().map(|l| parse(l)).collect();
        let stderr = stderr(&mut self.child);
        (status, lines, stderr)
    }

    fn channel(&self, runtime: &tokio::runtime::Runtime) -> Channel {
        runtime.block_on(async {
            Endpoint::from_shared(format!("http://127.0.0.1:{}", self.port))
                .unwrap()
                .connect()
                .await
                .expect("connects to the child")
        })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn parse(line: &str) -> Value {
    let value: Value = serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {line}"));
    for key in ["severity", "message", "time"] {
        assert!(
            value.get(key).is_some(),
            "stdout line without {key}: {line}"
        );
    }
    value
}

fn wait(child: &mut Child, limit: Duration) -> ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "the child did not exit within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn stderr(child: &mut Child) -> String {
    let mut text = String::new();
    if let Some(mut err) = child.stderr.take() {
        let _ = err.read_to_string(&mut text);
    }
    text
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn find<'a>(lines: &'a [Value], what: &str, pred: impl Fn(&Value) -> bool) -> &'a Value {
    lines
        .iter()
        .find(|l| pred(l))
        .unwrap_or_else(|| panic!("no line {what} in {lines:#?}"))
}

fn sigterm_drains() {
    let server = Server::start(&[
        ("K_SERVICE", "probe"),
        ("K_REVISION", "probe-00001-abc"),
        ("GOOGLE_CLOUD_PROJECT", "demo-project"),
        ("CLOUDRUN_SHUTDOWN_GRACE_SECONDS", "5"),
    ]);
    let rt = runtime();
    let _in_runtime = rt.enter();
    let channel = server.channel(&rt);
    let in_flight = rt.spawn({
        let channel = channel.clone();
        async move { probe::echo(&channel, "sleep:700").await }
    });
    rt.block_on(tokio::time::sleep(Duration::from_millis(200)));
    let signalled = Instant::now();
    server.signal("TERM");
    let answer = rt.block_on(in_flight).unwrap();
    assert_eq!(
        answer.unwrap(),
        "slept",
        "the in-flight call finished during the drain"
    );

    let (status, lines, stderr) = server.exit(Duration::from_secs(5));
    assert!(status.success(), "exit status {status}; stderr: {stderr}");
    assert!(
        signalled.elapsed() < Duration::from_secs(4),
        "drained in {:?}",
        signalled.elapsed()
    );
    assert!(!stderr.contains("panicked"), "{stderr}");

    let start = &lines[0];
    assert_eq!(start["kService"], "probe", "{start}");
    assert_eq!(start["kRevision"], "probe-00001-abc", "{start}");
    let call = find(&lines, "for the call", |l| l["method"] == probe::ECHO_PATH);
    assert_eq!(call["code"], "OK");
    find(&lines, "announcing the shutdown", |l| {
        l["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("shutting down (SIGTERM)"))
    });
    let done = find(&lines, "at the end", |l| {
        l["message"] == "shutdown complete"
    });
    assert_eq!(done["drained"], true);
}

fn sigint_drains() {
    let server = Server::start(&[]);
    server.signal("INT");
    let (status, lines, stderr) = server.exit(Duration::from_secs(5));
    assert!(status.success(), "exit status {status}; stderr: {stderr}");
    find(&lines, "announcing the shutdown", |l| {
        l["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("shutting down (SIGINT)"))
    });
    // Not on Cloud Run: no service or revision to name.
    assert!(lines[0].get("kService").is_none(), "{}", lines[0]);
}

fn second_sigterm_cuts() {
    let server = Server::start(&[("CLOUDRUN_SHUTDOWN_GRACE_SECONDS", "30")]);
    let rt = runtime();
    let _in_runtime = rt.enter();
    let channel = server.channel(&rt);
    let in_flight = rt.spawn({
        let channel = channel.clone();
        async move { probe::echo(&channel, "sleep:20000").await }
    });
    rt.block_on(tokio::time::sleep(Duration::from_millis(200)));
    let signalled = Instant::now();
    server.signal("TERM");
    rt.block_on(tokio::time::sleep(Duration::from_millis(300)));
    server.signal("TERM");
    let (status, lines, stderr) = server.exit(Duration::from_secs(5));
    assert!(status.success(), "exit status {status}; stderr: {stderr}");
    assert!(
        signalled.elapsed() < Duration::from_secs(4),
        "took {:?}",
        signalled.elapsed()
    );
    assert!(
        rt.block_on(in_flight).unwrap().is_err(),
        "the cut call failed on the client"
    );
    let cut = find(&lines, "for the cut call", |l| {
        l["method"] == probe::ECHO_PATH
    });
    assert_eq!(cut["code"], "UNAVAILABLE", "{cut}");
    let done = find(&lines, "at the end", |l| {
        l["message"] == "shutdown complete"
    });
    assert_eq!(done["drained"], false);
    assert_eq!(done["cut"], 1);
}

fn bad_env_exits_non_zero() {
    for (variable, value) in [
        ("PORT", "abc"),
        ("PORT", "70000"),
        ("CLOUDRUN_HOST", "localhost"),
        ("CLOUDRUN_SHUTDOWN_GRACE_SECONDS", "-1"),
        ("CLOUDRUN_MAX_RECV_MESSAGE_BYTES", "lots"),
        ("CLOUDRUN_LOG_LEVEL", "verbose"),
    ] {
        let mut child = command(&[(variable, value)]).spawn().unwrap();
        let status = wait(&mut child, Duration::from_secs(10));
        let mut stdout = String::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut stdout)
            .unwrap();
        let stderr = stderr(&mut child);
        assert_eq!(
            status.code(),
            Some(1),
            "{variable}={value}: {status}; stderr: {stderr}"
        );
        let expected = format!("Error: {variable}={value:?} is not valid: expected ");
        assert!(
            stderr.starts_with(&expected),
            "{variable}={value}: {stderr}"
        );
        assert!(stdout.is_empty(), "nothing on stdout: {stdout}");
    }
}

fn port_in_use_exits_non_zero() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let mut child = command(&[("PORT", &port)]).spawn().unwrap();
    let status = wait(&mut child, Duration::from_secs(10));
    let stderr = stderr(&mut child);
    assert_eq!(status.code(), Some(1), "{status}; stderr: {stderr}");
    assert!(
        stderr.contains(&format!("cannot listen on 127.0.0.1:{port}")),
        "{stderr}"
    );
    assert!(stderr.contains("PORT=0 picks one"), "{stderr}");
}

fn one_line_per_call() {
    const TASKS: usize = 8;
    const CALLS: usize = 50;
    let server = Server::start(&[]);
    {
        let rt = runtime();
        let _in_runtime = rt.enter();
        let channel = server.channel(&rt);
        let tasks: Vec<_> = (0..TASKS)
            .map(|t| {
                let channel = channel.clone();
                rt.spawn(async move {
                    for c in 0..CALLS {
                        let text = format!("call-{t}-{c}");
                        assert_eq!(probe::echo(&channel, &text).await.unwrap(), text);
                    }
                })
            })
            .collect();
        for task in tasks {
            rt.block_on(task).unwrap();
        }
        // The client's runtime stops here, closing its connection: a connection whose client
        // no longer answers would hold the drain open until the grace period ends.
    }
    server.signal("TERM");
    let (status, lines, stderr) = server.exit(Duration::from_secs(5));
    assert!(status.success(), "exit status {status}; stderr: {stderr}");
    let calls = lines
        .iter()
        .filter(|l| l["method"] == probe::ECHO_PATH && l["code"] == "OK")
        .count();
    assert_eq!(
        calls,
        TASKS * CALLS,
        "one line per call, none lost or doubled"
    );
    assert_eq!(
        lines.last().unwrap()["message"],
        "shutdown complete",
        "the last line is the last one logged"
    );
}

fn handler_panic_on_stdout() {
    let server = Server::start(&[]);
    {
        let rt = runtime();
        let _in_runtime = rt.enter();
        let channel = server.channel(&rt);
        let unary = rt.block_on(probe::echo(&channel, "panic")).unwrap_err();
        assert_eq!(unary.code(), tonic::Code::Internal, "{unary:?}");
        let (items, end) = rt.block_on(probe::count(&channel, "5,panic@3"));
        assert_eq!(items, ["1", "2"]);
        assert_eq!(end.unwrap_err().code(), tonic::Code::Internal);
        // The client's runtime stops here, closing its connection, so the drain need not wait
        // for a client that no longer answers.
    }
    server.signal("TERM");
    let (status, lines, stderr) = server.exit(Duration::from_secs(5));
    assert!(status.success(), "exit status {status}; stderr: {stderr}");

    // Every stdout line parsed as JSON (`exit` checks that); the panics are among them, as
    // ERROR lines that name the method, whatever the default panic hook wrote to stderr.
    for (method, panic) in [
        (probe::ECHO_PATH, probe::PANIC_TEXT.to_owned()),
        (
            probe::COUNT_PATH,
            format!("{} at item 3", probe::PANIC_TEXT),
        ),
    ] {
        let line = find(&lines, "for the panic", |l| l["method"] == method);
        assert_eq!(line["severity"], "ERROR", "{line}");
        assert_eq!(line["code"], "INTERNAL", "{line}");
        assert_eq!(line["panic"], panic.as_str(), "{line}");
        assert!(
            line["message"]
                .as_str()
                .is_some_and(|m| m.starts_with(method)),
            "{line}"
        );
    }
}
