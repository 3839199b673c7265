//! The catalog example, running as its own process, against outside clients: Python grpcio (the
//! guide's own client among them) and `buf curl`.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use cloudrun_tests::{CatalogServer, buf, python, python_check, run_python, workspace_root};

#[test]
fn the_guides_client_prints_the_same_against_our_server_as_against_the_guides_server() {
    let ours = CatalogServer::start();
    let (ok, our_output, stderr) = run_python("seed/client.py", &[&ours.target()]);
    assert!(ok, "seed client against our server failed: {stderr}");

    let mut seed_server = Command::new(python())
        .arg(workspace_root().join("tests/python/seed/server.py"))
        .env("PORT", "0")
        .stdout(Stdio::piped())
        .spawn()
        .expect("seed server starts");
    let mut first_line = String::new();
    BufReader::new(seed_server.stdout.take().unwrap())
        .read_line(&mut first_line)
        .unwrap();
    let port = first_line.trim().rsplit(' ').next().unwrap().to_string();
    let (ok, seed_output, stderr) = run_python("seed/client.py", &[&format!("127.0.0.1:{port}")]);
    let _ = seed_server.kill();
    let _ = seed_server.wait();
    assert!(ok, "seed client against the seed server failed: {stderr}");

    assert_eq!(our_output, seed_output);
    // And the output is the catalog's, not two identical failures.
    assert!(
        our_output.contains("Product: Laptop Pro 16, Price: $1299.99"),
        "{our_output}"
    );
    assert!(
        our_output.contains(
            "  Standing Desk: Adjustable standing desk\n  Desk Lamp: LED desk lamp with dimmer"
        ),
        "{our_output}"
    );
}

#[test]
fn python_client_flow_pagination_and_not_found() {
    let server = CatalogServer::start();
    python_check("flow", &[&server.target()]);
}

#[test]
fn health_serves_the_server_and_the_service_and_not_found_for_unknown_names() {
    let server = CatalogServer::start();
    python_check("health", &[&server.target()]);
}

#[test]
fn reflection_v1alpha_from_python_describes_the_catalog() {
    let server = CatalogServer::start();
    python_check("reflection", &[&server.target()]);
}

#[test]
fn buf_curl_calls_get_product_over_reflection_v1_with_no_proto_files() {
    let server = CatalogServer::start();
    let url = format!(
        "http://{}/catalog.ProductCatalog/GetProduct",
        server.target()
    );
    let dir = tempfile::tempdir().unwrap(); // no proto files anywhere near
    let out = Command::new(buf())
        .args([
            "curl",
            "--http2-prior-knowledge",
            "--protocol",
            "grpc",
            "--reflect-protocol",
            "grpc-v1",
        ])
        .args(["-d", r#"{"id":"4"}"#, &url])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "buf curl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let product: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("buf curl prints JSON");
    assert_eq!(product["name"], "Monitor 27 4K");
    assert_eq!(product["price"], 449.99);
    assert_eq!(product["inStock"], true);

    let out = Command::new(buf())
        .args([
            "curl",
            "--http2-prior-knowledge",
            "--protocol",
            "grpc",
            "--reflect-protocol",
            "grpc-v1",
        ])
        .args(["--list-methods", &format!("http://{}", server.target())])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "buf curl --list-methods failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let methods = String::from_utf8_lossy(&out.stdout);
    for m in [
        "catalog.ProductCatalog/GetProduct",
        "catalog.ProductCatalog/ListProducts",
        "catalog.ProductCatalog/SearchProducts",
    ] {
        assert!(
            methods.contains(m),
            "{m} not listed by reflection v1: {methods}"
        );
    }
}

#[test]
fn a_panicking_handler_gives_internal_and_the_server_keeps_serving() {
    let server = CatalogServer::start();
    python_check("panic", &[&server.target()]);
}

#[test]
fn garbage_request_bytes_get_an_error_status_and_the_server_keeps_serving() {
    let server = CatalogServer::start();
    python_check("garbage", &[&server.target()]);
}

#[test]
fn sigterm_lets_the_in_flight_call_finish_refuses_new_calls_and_exits_zero() {
    let mut server = CatalogServer::start();
    python_check("drain", &[&server.target(), &server.pid().to_string()]);
    let status = server.wait_exit(Duration::from_secs(10));
    assert!(status.success(), "exit status after SIGTERM: {status}");
}

#[test]
fn every_stdout_line_is_a_cloud_logging_json_object() {
    let mut server = CatalogServer::start_with(&[("GOOGLE_CLOUD_PROJECT", "demo-project")]);
    python_check("flow", &[&server.target()]);
    python_check("traced", &[&server.target()]);
    send_sigterm(server.pid());
    assert!(server.wait_exit(Duration::from_secs(10)).success());

    let lines = server.stdout_lines();
    assert!(
        lines.len() >= 4,
        "expected start-up, request and shutdown lines: {lines:#?}"
    );
    let entries: Vec<serde_json::Value> = lines
        .iter()
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {l}"))
        })
        .collect();
    for entry in &entries {
        for key in ["severity", "message", "time"] {
            assert!(entry.get(key).is_some(), "log entry without {key}: {entry}");
        }
    }
    let text = lines.join("\n");
    assert!(
        text.contains("catalog-test") && text.contains("catalog-test-00001"),
        "start-up line names K_SERVICE and K_REVISION: {text}"
    );
    let rpc_lines: Vec<_> = entries
        .iter()
        .filter(|e| e.to_string().contains("/catalog.ProductCatalog/GetProduct"))
        .collect();
    assert!(
        !rpc_lines.is_empty(),
        "no per-RPC log line for GetProduct: {text}"
    );
    assert!(
        rpc_lines
            .iter()
            .any(|e| e.to_string().contains("NOT_FOUND")),
        "the NOT_FOUND call's code is logged: {text}"
    );
    let traced = entries
        .iter()
        .find(|e| e.get("logging.googleapis.com/trace").is_some())
        .unwrap_or_else(|| panic!("no entry carries logging.googleapis.com/trace: {text}"));
    assert_eq!(
        traced["logging.googleapis.com/trace"],
        "projects/demo-project/traces/4bf92f3577b34da6a3ce929d0e0e4736"
    );
}

fn send_sigterm(pid: u32) {
    let status = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}
