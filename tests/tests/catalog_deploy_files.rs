//! The catalog's deployment files are ones a user could deploy: the Cloud Run service manifest and
//! the Dockerfile are parsed and checked against the runtime's contract (h2c on 8080, gRPC probes).

use cloudrun_tests::workspace_root;

fn read(path: &str) -> String {
    std::fs::read_to_string(workspace_root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn service_yaml_names_the_port_h2c_and_probes_with_grpc_health() {
    let doc: serde_yaml::Value =
        serde_yaml::from_str(&read("examples/catalog/service.yaml")).expect("valid YAML");
    assert_eq!(doc["apiVersion"], "serving.knative.dev/v1");
    assert_eq!(doc["kind"], "Service");
    let containers = doc["spec"]["template"]["spec"]["containers"]
        .as_sequence()
        .expect("containers list");
    assert_eq!(containers.len(), 1);
    let container = &containers[0];
    let ports = container["ports"].as_sequence().expect("ports list");
    assert_eq!(ports.len(), 1, "Cloud Run takes exactly one container port");
    assert_eq!(
        ports[0]["name"], "h2c",
        "the port must be named h2c for end-to-end HTTP/2"
    );
    let port = ports[0]["containerPort"]
        .as_u64()
        .expect("numeric containerPort");
    assert_eq!(port, 8080, "the runtime's default PORT");
    for probe in ["startupProbe", "livenessProbe"] {
        let grpc = &container[probe]["grpc"];
        assert!(grpc.is_mapping(), "{probe} must be a gRPC probe");
        assert_eq!(
            grpc["port"].as_u64(),
            Some(port),
            "{probe} probes the serving port"
        );
        assert_eq!(
            grpc["service"].as_str().unwrap_or(""),
            "",
            "{probe} checks the whole server"
        );
    }
    let concurrency = doc["spec"]["template"]["spec"]["containerConcurrency"]
        .as_u64()
        .expect("containerConcurrency");
    assert!((1..=1000).contains(&concurrency));
}

#[test]
fn dockerfile_builds_the_catalog_and_runs_it_on_8080() {
    let dockerfile = read("examples/catalog/Dockerfile");
    let instructions: Vec<(String, String)> = dockerfile
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (op, rest) = l.split_once(char::is_whitespace).unwrap_or((l, ""));
            (op.to_ascii_uppercase(), rest.trim().to_string())
        })
        .collect();
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
    for (op, _) in &instructions {
        assert!(
            known.contains(&op.as_str()),
            "unexpected Dockerfile instruction {op}"
        );
    }
    let froms: Vec<_> = instructions.iter().filter(|(op, _)| op == "FROM").collect();
    assert_eq!(froms.len(), 2, "a build stage and a runtime stage");
    assert!(
        froms[0].1.contains(" AS build"),
        "first stage is named build: {}",
        froms[0].1
    );
    let toolchain = froms[0].1.split_whitespace().next().unwrap();
    assert!(
        toolchain.starts_with("rust:"),
        "built with the Rust image: {toolchain}"
    );
    assert!(
        instructions
            .iter()
            .any(|(op, rest)| op == "RUN"
                && rest.contains("cargo build --release --locked -p catalog")),
        "builds the catalog package in release mode from the lock file"
    );
    let copy = instructions
        .iter()
        .find(|(op, rest)| op == "COPY" && rest.starts_with("--from=build"))
        .expect("copies from the build stage");
    let installed = copy.1.split_whitespace().last().unwrap().to_string();
    assert!(copy.1.contains("target/release/catalog"));
    let entrypoint = instructions
        .iter()
        .find(|(op, _)| op == "ENTRYPOINT")
        .expect("an ENTRYPOINT");
    let argv: Vec<String> = serde_json::from_str(&entrypoint.1).expect("exec-form ENTRYPOINT");
    assert_eq!(argv, [installed]);
    assert!(
        instructions
            .iter()
            .any(|(op, rest)| op == "EXPOSE" && rest == "8080")
    );
    assert!(
        instructions
            .iter()
            .any(|(op, rest)| op == "ENV" && rest == "PORT=8080")
    );
    // The build stage's toolchain must be able to build the workspace.
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

#[test]
fn buf_gen_yaml_runs_this_plugin_into_src_gen() {
    let doc: serde_yaml::Value =
        serde_yaml::from_str(&read("examples/catalog/buf.gen.yaml")).expect("valid YAML");
    assert_eq!(doc["version"], "v2");
    let plugins = doc["plugins"].as_sequence().expect("plugins");
    assert_eq!(plugins.len(), 1);
    assert_eq!(plugins[0]["local"], "protoc-gen-cloudrun");
    assert_eq!(plugins[0]["out"], "src/gen");
}
