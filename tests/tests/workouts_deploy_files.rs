//! Seed 001's deployment files (one Dockerfile for trainer, users and trainings, and a Cloud Run
//! manifest each) are parsed and checked against the runtime's contract (h2c on 8080, gRPC
//! probes), against how each binary reads its configuration, and against the protos' caller
//! rules, so a deployment made from them serves and lets trainings in.

use std::collections::BTreeMap;
use std::path::Path;

use cloudrun_runtime::AuthMode;
use cloudrun_tests::workspace_root;
use deploy::{
    assert_serves_h2c_with_grpc_probes, assert_toolchain_builds_the_workspace, container,
    instructions, read,
};
use workouts_api::trainer::trainer_service_cloudrun;
use workouts_api::users::users_service_cloudrun;

mod deploy;

const SERVICES: [&str; 3] = ["trainer", "users", "trainings"];

fn manifest(service: &str) -> serde_yaml::Value {
    let path = format!("examples/workouts-api/service-{service}.yaml");
    serde_yaml::from_str(&read(&path)).unwrap_or_else(|e| panic!("{path}: invalid YAML: {e}"))
}

/// The container's environment as name → value; a repeated name or a value that is not a plain
/// string (Cloud Run would reject or ignore it) fails.
fn env(doc: &serde_yaml::Value) -> BTreeMap<String, String> {
    let mut vars = BTreeMap::new();
    for entry in container(doc)["env"].as_sequence().expect("an env list") {
        let name = entry["name"].as_str().expect("env name").to_owned();
        let value = entry["value"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: the value must be a YAML string"))
            .to_owned();
        assert!(
            vars.insert(name.clone(), value).is_none(),
            "{name} is set twice"
        );
    }
    vars
}

#[test]
fn every_manifest_names_the_port_h2c_and_probes_with_grpc_health() {
    for service in SERVICES {
        assert_serves_h2c_with_grpc_probes(&manifest(service), service);
    }
}

#[test]
fn every_service_and_image_placeholder_names_its_service() {
    for service in SERVICES {
        let doc = manifest(service);
        // The trainings manifest's addresses are `https://<name>-...`, so the name is load-bearing.
        assert_eq!(doc["metadata"]["name"], service);
        let image = container(&doc)["image"].as_str().expect("an image");
        let (repository, tag) = image.rsplit_once(':').expect("a tagged image");
        assert!(!tag.is_empty() && !tag.contains('/'), "{image}: tag");
        assert_eq!(
            repository.rsplit('/').next(),
            Some(service),
            "{image} is not the {service} image"
        );
        assert!(
            repository.contains("/PROJECT_ID/"),
            "{image}: the project is a placeholder, as in the catalog's manifest"
        );
    }
}

#[test]
fn trainer_and_users_trust_cloud_run_iam_and_trainings_does_not() {
    let mode = cloudrun_runtime::auth::MODE;
    for service in ["trainer", "users"] {
        let vars = env(&manifest(service));
        assert_eq!(
            vars.get(mode).map(String::as_str),
            Some(AuthMode::Platform.to_string().as_str()),
            "{service} sits behind Cloud Run IAM and must apply the proto's caller rules"
        );
    }
    // Trainings is the public entry point: in platform mode anyone could claim any identity.
    let trainings = env(&manifest("trainings"));
    assert_ne!(
        trainings.get(mode).map(String::as_str),
        Some(AuthMode::Platform.to_string().as_str()),
        "trainings is publicly invocable, so platform mode would trust unverified claims"
    );
}

#[test]
fn trainings_calls_both_services_by_their_https_urls() {
    let vars = env(&manifest("trainings"));
    for (service, variable) in [
        ("trainer", trainer_service_cloudrun::ADDRESS_ENV),
        ("users", users_service_cloudrun::ADDRESS_ENV),
    ] {
        let url = vars
            .get(variable)
            .unwrap_or_else(|| panic!("trainings reads {variable}, which is not set"));
        let host = url
            .strip_prefix("https://")
            .unwrap_or_else(|| panic!("{variable}={url}: Cloud Run is reached with TLS"));
        // The client derives the ID token's audience from the host; a port or path would not
        // be what Cloud Run's IAM check expects.
        assert!(
            !host.contains([':', '/']),
            "{variable}={url}: a bare Cloud Run URL"
        );
        assert!(
            host.starts_with(&format!("{service}-")) && host.ends_with(".run.app"),
            "{variable}={url} is not the {service} service's run.app URL"
        );
    }
    assert!(
        !vars.contains_key(cloudrun_runtime::client::GRPC_NO_TLS),
        "plaintext without tokens cannot pass the callees' IAM check"
    );
}

#[test]
fn trainings_runs_as_the_account_the_protos_allow() {
    let doc = manifest("trainings");
    let account = doc["spec"]["template"]["spec"]["serviceAccountName"]
        .as_str()
        .expect("trainings names its service account");
    let (account_id, domain) = account.split_once('@').expect("a service account email");
    assert_eq!(domain, "PROJECT_ID.iam.gserviceaccount.com", "{account}");
    // The protos name one project; the manifest leaves it a placeholder. The account id and the
    // kind of principal must agree, or trainer and users answer PERMISSION_DENIED.
    let mut rules = 0;
    for method in trainer_service_cloudrun::METHODS
        .iter()
        .chain(users_service_cloudrun::METHODS)
    {
        let principals = method.caller_rule().principals();
        if principals.is_empty() {
            continue;
        }
        rules += 1;
        assert!(
            principals.iter().any(|principal| {
                let email = principal
                    .strip_prefix("serviceAccount:")
                    .unwrap_or(principal);
                email.split_once('@').is_some_and(|(id, domain)| {
                    id == account_id && domain.ends_with(".iam.gserviceaccount.com")
                })
            }),
            "{} allows {principals:?}, not {account}",
            method.path()
        );
    }
    assert!(
        rules > 0,
        "the trainer and users protos declare caller rules"
    );
}

/// Every file under `dir`, recursively.
fn sources(dir: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(std::fs::read_to_string(&path).expect("Rust source"));
        }
    }
}

#[test]
fn every_variable_set_is_one_the_binary_reads() {
    let root = workspace_root();
    for service in SERVICES {
        let mut code = Vec::new();
        for dir in [
            "runtime/src".to_owned(),
            "examples/workouts-api/src".to_owned(),
            format!("examples/{service}/src"),
        ] {
            sources(&root.join(dir), &mut code);
        }
        for name in env(&manifest(service)).keys() {
            let literal = format!("\"{name}\"");
            assert!(
                code.iter().any(|source| source.contains(&literal)),
                "{service} sets {name}, which neither it nor the runtime reads"
            );
        }
    }
}

/// `$SERVICE` or `${SERVICE}`, quoted or not.
fn names_service(word: &str) -> bool {
    let word = word.trim_matches('"');
    word.contains("$SERVICE") || word.contains("${SERVICE}")
}

#[test]
fn dockerfile_builds_the_service_asked_for_and_runs_it_on_8080() {
    let dockerfile = read("examples/workouts-api/Dockerfile");
    let instructions = instructions(&dockerfile);
    let froms: Vec<usize> = instructions
        .iter()
        .enumerate()
        .filter(|(_, (op, _))| op == "FROM")
        .map(|(i, _)| i)
        .collect();
    assert_eq!(froms.len(), 2, "a build stage and a runtime stage");
    let build_stage = &instructions[froms[0]..froms[1]];
    let runtime_stage = &instructions[froms[1]..];
    let build_from = &build_stage[0].1;
    assert!(
        build_from.contains(" AS build"),
        "first stage is named build: {build_from}"
    );
    let toolchain = build_from.split_whitespace().next().unwrap();
    assert!(
        toolchain.starts_with("rust:"),
        "built with the Rust image: {toolchain}"
    );
    let runtime_image = &runtime_stage[0].1;
    assert!(
        runtime_image.starts_with("gcr.io/distroless/cc") && runtime_image.ends_with(":nonroot"),
        "runs from distroless cc as non-root: {runtime_image}"
    );

    // An ARG declared before the first FROM is not visible inside the stage.
    assert!(
        build_stage
            .iter()
            .any(|(op, rest)| op == "ARG" && rest.split('=').next() == Some("SERVICE")),
        "the build stage declares ARG SERVICE"
    );
    assert!(
        build_stage.iter().any(|(op, rest)| {
            op == "RUN"
                && rest
                    .split_once("cargo build --release --locked -p ")
                    .is_some_and(|(_, package)| {
                        names_service(package.split_whitespace().next().unwrap_or(""))
                    })
        }),
        "builds the package SERVICE names, in release mode, from the lock file"
    );
    // The chosen binary must end up at a path that does not depend on SERVICE, since the
    // exec-form ENTRYPOINT cannot expand it.
    let staged = build_stage
        .iter()
        .filter(|(op, _)| op == "RUN" || op == "COPY")
        .find_map(|(_, rest)| {
            let words: Vec<&str> = rest.split_whitespace().collect();
            let source = words
                .iter()
                .position(|w| w.contains("target/release/") && names_service(w))?;
            let target = words.get(source + 1)?.trim_matches('"');
            Some(target.to_owned())
        })
        .expect("copies target/release/$SERVICE to a fixed path");
    assert!(
        !staged.contains('$') && staged.starts_with('/'),
        "{staged}: a fixed absolute path"
    );
    let copy = runtime_stage
        .iter()
        .find(|(op, rest)| op == "COPY" && rest.starts_with("--from=build"))
        .expect("copies from the build stage");
    let words: Vec<&str> = copy.1.split_whitespace().collect();
    assert_eq!(words.len(), 3, "COPY --from=build <binary> <path>");
    assert_eq!(words[1], staged, "copies the binary the build stage staged");
    let installed = words[2];
    assert!(!installed.contains('$'), "{installed}: a fixed path");
    let entrypoint = runtime_stage
        .iter()
        .find(|(op, _)| op == "ENTRYPOINT")
        .expect("an ENTRYPOINT");
    let argv: Vec<String> = serde_json::from_str(&entrypoint.1).expect("exec-form ENTRYPOINT");
    assert_eq!(argv, [installed]);
    assert!(
        runtime_stage
            .iter()
            .any(|(op, rest)| op == "EXPOSE" && rest == "8080")
    );
    assert!(
        runtime_stage
            .iter()
            .any(|(op, rest)| op == "ENV" && rest == "PORT=8080")
    );

    // Each service the header says how to build is a workspace package of that name.
    for service in SERVICES {
        let command = format!(
            "docker build -f examples/workouts-api/Dockerfile --build-arg SERVICE={service} -t {service} ."
        );
        assert!(
            dockerfile.contains(&command),
            "the header shows `{command}`"
        );
        let package = package_name(&read(&format!("examples/{service}/Cargo.toml")));
        assert_eq!(package, service, "examples/{service} builds `{service}`");
        assert!(
            read("Cargo.toml").contains(&format!("\"examples/{service}\"")),
            "examples/{service} is a workspace member"
        );
    }

    assert_toolchain_builds_the_workspace(toolchain);
}

/// The `[package]` name of a Cargo.toml, read line by line (the tests have no TOML parser).
fn package_name(manifest: &str) -> String {
    let mut section = "";
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line;
        } else if let ("[package]", Some(value)) = (section, line.strip_prefix("name = ")) {
            return value.trim_matches('"').to_owned();
        }
    }
    panic!("no [package] name");
}
