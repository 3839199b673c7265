//! What every example's Cloud Run deployment files must satisfy, whatever the service: shared by
//! the tests of the catalog's files and of seed 001's.

use cloudrun_tests::workspace_root;

/// A file of the repository, by its path from the root.
pub fn read(path: &str) -> String {
    std::fs::read_to_string(workspace_root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The manifest's one container.
pub fn container(doc: &serde_yaml::Value) -> &serde_yaml::Value {
    let containers = doc["spec"]["template"]["spec"]["containers"]
        .as_sequence()
        .expect("containers list");
    assert_eq!(containers.len(), 1, "one container per service");
    &containers[0]
}

/// The runtime's serving contract, as a Knative service manifest states it: one port, named
/// `h2c` (end-to-end HTTP/2), on the runtime's default 8080; startup and liveness probes that
/// ask gRPC health for the whole server on that port; a sane concurrency. `what` names the
/// manifest in failures.
pub fn assert_serves_h2c_with_grpc_probes(doc: &serde_yaml::Value, what: &str) {
    assert_eq!(doc["apiVersion"], "serving.knative.dev/v1", "{what}");
    assert_eq!(doc["kind"], "Service", "{what}");
    let container = container(doc);
    let ports = container["ports"].as_sequence().expect("ports list");
    assert_eq!(
        ports.len(),
        1,
        "{what}: Cloud Run takes exactly one container port"
    );
    assert_eq!(
        ports[0]["name"], "h2c",
        "{what}: the port must be named h2c for end-to-end HTTP/2"
    );
    let port = ports[0]["containerPort"]
        .as_u64()
        .expect("numeric containerPort");
    assert_eq!(port, 8080, "{what}: the runtime's default PORT");
    for probe in ["startupProbe", "livenessProbe"] {
        let grpc = &container[probe]["grpc"];
        assert!(grpc.is_mapping(), "{what}: {probe} must be a gRPC probe");
        assert_eq!(
            grpc["port"].as_u64(),
            Some(port),
            "{what}: {probe} probes the serving port"
        );
        assert_eq!(
            grpc["service"].as_str().unwrap_or(""),
            "",
            "{what}: {probe} checks the whole server"
        );
    }
    let concurrency = doc["spec"]["template"]["spec"]["containerConcurrency"]
        .as_u64()
        .expect("containerConcurrency");
    assert!((1..=1000).contains(&concurrency), "{what}");
}

/// A Dockerfile's instructions as (upper-case op, arguments), comments dropped and continuation
/// lines joined; an instruction this kind of image has no use for fails.
pub fn instructions(dockerfile: &str) -> Vec<(String, String)> {
    let mut logical = Vec::new();
    let mut pending = String::new();
    for line in dockerfile.lines().map(str::trim) {
        if line.starts_with('#') || (line.is_empty() && pending.is_empty()) {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(head) => {
                pending.push_str(head);
                pending.push(' ');
            }
            None => {
                pending.push_str(line);
                logical.push(std::mem::take(&mut pending));
            }
        }
    }
    assert!(
        pending.is_empty(),
        "the Dockerfile ends inside a continuation"
    );
    let known = [
        "FROM",
        "WORKDIR",
        "COPY",
        "RUN",
        "ENV",
        "EXPOSE",
        "ENTRYPOINT",
        "CMD",
        "USER",
        "ARG",
    ];
    logical
        .iter()
        .map(|l| {
            let (op, rest) = l.split_once(char::is_whitespace).unwrap_or((l, ""));
            let op = op.to_ascii_uppercase();
            assert!(
                known.contains(&op.as_str()),
                "unexpected Dockerfile instruction {op}"
            );
            (op, rest.trim().to_string())
        })
        .collect()
}

/// The build stage's image (`rust:1.95-bookworm`) can build the workspace: its Rust is at least
/// the workspace's `rust-version`.
pub fn assert_toolchain_builds_the_workspace(toolchain: &str) {
    let toolchain_version = toolchain
        .trim_start_matches("rust:")
        .split('-')
        .next()
        .unwrap();
    let manifest = read("Cargo.toml");
    let msrv = manifest
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = "))
        .expect("workspace rust-version");
    let parse = |v: &str| {
        v.trim_matches('"')
            .split('.')
            .map(|p| p.parse::<u32>().unwrap())
            .collect::<Vec<_>>()
    };
    assert!(
        parse(toolchain_version) >= parse(msrv),
        "rust:{toolchain_version} is older than rust-version {msrv}"
    );
}
