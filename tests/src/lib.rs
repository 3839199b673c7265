//! Shared pieces of the end-to-end tests: where the workspace and the pinned outside tools are,
//! building workspace binaries, and running the catalog server as a child process.
//!
//! Outside tools are installed by `scripts/setup.sh` (the README's test command runs it). A missing
//! tool fails the test with that instruction; nothing is skipped.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The repository root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

fn installed_tool(relative: &str) -> PathBuf {
    let path = workspace_root().join(relative);
    assert!(
        path.exists(),
        "{} is missing: run `bash scripts/setup.sh` (the README's test command does) to install the pinned outside tools",
        path.display()
    );
    path
}

/// The venv's Python with grpcio, grpcio-health-checking, grpcio-reflection and grpcio-tools.
pub fn python() -> PathBuf {
    installed_tool(".venv/bin/python")
}

/// The pinned buf CLI from npm.
pub fn buf() -> PathBuf {
    installed_tool("node_modules/.bin/buf")
}

/// Builds a binary of a workspace package (debug profile, like the tests) and returns its path.
pub fn cargo_bin(package: &str, bin: &str) -> PathBuf {
    let status = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "-p", package, "--bin", bin])
        .current_dir(workspace_root())
        .status()
        .expect("cargo runs");
    assert!(
        status.success(),
        "cargo build -p {package} --bin {bin} failed"
    );
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    target.join("debug").join(bin)
}

/// A running catalog server: its address, its stdout lines as they arrive, and the process.
pub struct CatalogServer {
    child: Child,
    pub port: u16,
    lines: Arc<Mutex<Vec<String>>>,
}

impl CatalogServer {
    /// Starts the example on a free loopback port with the demonstration faults on, and waits for
    /// its start-up log line (which names the bound port).
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    pub fn start_with(env: &[(&str, &str)]) -> Self {
        let mut cmd = Command::new(cargo_bin("catalog", "catalog"));
        cmd.env("PORT", "0")
            .env("CLOUDRUN_HOST", "127.0.0.1")
            .env("CATALOG_DEMO_FAULTS", "1")
            .env("K_SERVICE", "catalog-test")
            .env("K_REVISION", "catalog-test-00001")
            // The panic test panics on purpose; its backtrace would only bury real failures.
            .env("RUST_BACKTRACE", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("catalog binary starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = channel();
        let sink = Arc::clone(&lines);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line.clone());
                let _ = tx.send(line);
            }
        });
        let port = wait_for_port(&rx, &mut child);
        Self { child, port, lines }
    }

    pub fn target(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything the server printed on stdout so far.
    pub fn stdout_lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// Waits up to `limit` for the process to exit by itself.
    pub fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                // Let the reader thread collect the last lines.
                std::thread::sleep(Duration::from_millis(100));
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "catalog server did not exit within {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for CatalogServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads start-up output until a JSON line carries the bound port.
fn wait_for_port(rx: &Receiver<String>, child: &mut Child) -> u16 {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                if let Some(port) = startup_port(&line) {
                    return port;
                }
                seen.push(line);
            }
            Err(RecvTimeoutError::Timeout) => {
                panic!("no start-up line with a port within 30 s; stdout: {seen:#?}")
            }
            Err(RecvTimeoutError::Disconnected) => {
                let status = child.wait().expect("wait");
                panic!("catalog exited ({status}) before announcing its port; stdout: {seen:#?}")
            }
        }
    }
}

/// The port named by the runtime's start-up log line, if `line` is that line.
pub fn startup_port(line: &str) -> Option<u16> {
    let value: serde_json::Value = serde_json::from_str(line).ok()?;
    let port = value.get("port")?;
    port.as_u64()
        .or_else(|| port.as_str()?.parse().ok())
        .and_then(|p| u16::try_from(p).ok())
}

/// Runs a Python script from tests/python with the venv's interpreter; returns (success, stdout, stderr).
pub fn run_python(script: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(python())
        .arg(workspace_root().join("tests/python").join(script))
        .args(args)
        .output()
        .expect("python runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs a Python check and fails the test with its output when it fails.
pub fn python_check(check: &str, args: &[&str]) -> String {
    let mut all = vec![check];
    all.extend_from_slice(args);
    let (ok, stdout, stderr) = run_python("catalog_checks.py", &all);
    assert!(
        ok,
        "python check {check} failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    stdout
}

/// A workspace binary serving gRPC as a child process (the seed 001 services): its port, its
/// stdout lines as they arrive, and the process.
pub struct ServiceProcess {
    child: Child,
    pub name: String,
    pub port: u16,
    lines: Arc<Mutex<Vec<String>>>,
}

impl ServiceProcess {
    /// Starts binary `bin` of package `package` on a free loopback port with `env` (and no
    /// Google credentials from this machine: `HOME` is `home`, `GOOGLE_APPLICATION_CREDENTIALS`
    /// and `GCE_METADATA_HOST` are unset unless `env` sets them), and waits for its start-up
    /// line.
    pub fn start(package: &str, bin: &str, home: &Path, env: &[(&str, String)]) -> Self {
        let mut cmd = Command::new(cargo_bin(package, bin));
        cmd.env("PORT", "0")
            .env("CLOUDRUN_HOST", "127.0.0.1")
            .env("HOME", home)
            .env_remove("GOOGLE_APPLICATION_CREDENTIALS")
            .env_remove("GCE_METADATA_HOST")
            .env_remove("GRPC_NO_TLS")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("{bin} starts: {e}"));
        let stdout = child.stdout.take().expect("piped stdout");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = channel();
        let sink = Arc::clone(&lines);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line.clone());
                let _ = tx.send(line);
            }
        });
        let port = wait_for_port(&rx, &mut child);
        Self {
            child,
            name: bin.to_owned(),
            port,
            lines,
        }
    }

    /// `127.0.0.1:PORT`.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Everything the service printed on stdout so far.
    pub fn stdout_lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().expect("try_wait").is_none()
    }
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
