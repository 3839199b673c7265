//! The catalog's deployment files are ones a user could deploy: the Cloud Run service manifest and
//! the Dockerfile are parsed and checked against the runtime's contract (h2c on 8080, gRPC probes).

mod deploy;

use deploy::{
    assert_serves_h2c_with_grpc_probes, assert_toolchain_builds_the_workspace, instructions, read,
};

#[test]
fn service_yaml_names_the_port_h2c_and_probes_with_grpc_health() {
    let doc: serde_yaml::Value =
        serde_yaml::from_str(&read("examples/catalog/service.yaml")).expect("valid YAML");
    assert_serves_h2c_with_grpc_probes(&doc, "examples/catalog/service.yaml");
}

#[test]
fn dockerfile_builds_the_catalog_and_runs_it_on_8080() {
    let instructions = instructions(&read("examples/catalog/Dockerfile"));
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
    assert_toolchain_builds_the_workspace(toolchain);
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
