//! The build.rs API: same options, same output as the plugin, errors that name the file and
//! position; and a real crate whose build script uses it and includes the result from OUT_DIR.

mod common;

use protoc_gen_cloudrun::build::Builder;

fn multi_protos() -> Vec<String> {
    common::protos_under(&common::fixtures().join("multi"))
}

#[test]
fn writes_what_the_plugin_writes() {
    let out = tempfile::tempdir().expect("tempdir");
    let output = Builder::new()
        .out_dir(out.path())
        .emit_rerun_if_changed(false)
        .client(false)
        .type_attribute(".acme", "#[non_exhaustive]")
        .compile(&multi_protos(), &[common::fixtures().join("multi")])
        .expect("compile");
    let written = common::read_files(out.path());
    let from_plugin = common::generate(
        "multi",
        "client=false,type_attribute=.acme=#[non_exhaustive]",
    );
    assert_eq!(written, from_plugin);
    assert_eq!(output.mod_file.name, "mod.rs");
    assert_eq!(output.files.len(), written.len() - 1);
}

#[test]
fn cloudrun_auth_proto_is_provided_without_a_copy_and_not_generated() {
    let out = tempfile::tempdir().expect("tempdir");
    Builder::new()
        .out_dir(out.path())
        .emit_rerun_if_changed(false)
        .compile(&["doors.proto"], &[common::fixtures().join("auth")])
        .expect("compile");
    let written = common::read_files(out.path());
    assert_eq!(
        written.keys().collect::<Vec<_>>(),
        ["doors.v1.rs", "mod.rs"],
        "no code for the options' own package"
    );
    assert_eq!(written, common::generate("auth", ""));
}

#[test]
fn imports_are_generated_unless_mapped_elsewhere() {
    let include = common::fixtures().join("multi");
    let out = tempfile::tempdir().expect("tempdir");
    Builder::new()
        .out_dir(out.path())
        .emit_rerun_if_changed(false)
        .compile(&["acme/shop/v1/shop.proto"], &[&include])
        .expect("compile");
    let names: Vec<String> = common::read_files(out.path()).into_keys().collect();
    assert_eq!(
        names,
        [
            "acme.common.v1.rs",
            "acme.shop.v1.rs",
            "mod.rs",
            "type.v1.rs"
        ]
    );

    let out = tempfile::tempdir().expect("tempdir");
    Builder::new()
        .out_dir(out.path())
        .emit_rerun_if_changed(false)
        .extern_path(".acme.common", "::money")
        .compile(&["acme/shop/v1/shop.proto"], &[&include])
        .expect("compile");
    let files = common::read_files(out.path());
    let names: Vec<&String> = files.keys().collect();
    assert_eq!(names, ["acme.shop.v1.rs", "mod.rs", "type.v1.rs"]);
    assert!(files["acme.shop.v1.rs"].contains("::core::option::Option<::money::v1::Money>"));
}

#[test]
fn errors_name_the_file_and_position() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("broken.proto"),
        "syntax = \"proto3\";\npackage broken;\nmessage M {\n  strin name = 1;\n}\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("importer.proto"),
        "syntax = \"proto3\";\npackage importer;\nimport \"missing/nowhere.proto\";\n",
    )
    .expect("write");
    let compile = |file: &str| {
        Builder::new()
            .out_dir(dir.path().join("out"))
            .emit_rerun_if_changed(false)
            .compile(&[file], &[dir.path()])
            .expect_err("an error")
            .to_string()
    };
    assert_eq!(
        compile("broken.proto"),
        "broken.proto:4:3: name 'strin' is not defined"
    );
    assert_eq!(
        compile("importer.proto"),
        "importer.proto:3:1: import 'missing/nowhere.proto' not found"
    );
    let error = Builder::new()
        .out_dir(dir.path().join("out"))
        .option("colour", Some("red"))
        .compile(&["broken.proto"], &[dir.path()])
        .expect_err("an error");
    assert!(
        error
            .to_string()
            .starts_with("unknown option `colour`; the options are: client, ")
    );
    let error = Builder::new()
        .out_dir(dir.path().join("out"))
        .runtime_crate("not a path")
        .compile(&["broken.proto"], &[dir.path()])
        .expect_err("an error");
    assert_eq!(
        error.to_string(),
        "option `runtime_crate`: `not a path` is not a Rust path such as `::my_crate::module`"
    );
}

#[test]
fn a_build_script_generates_into_out_dir() {
    let workspace = common::workspace_root();
    let dir = common::check_crate_dir("build-api");
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            r#"[package]
name = "build-api-check"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
cloudrun-runtime = {{ path = "{runtime}" }}
prost = "0.14.4"
prost-types = "0.14.4"
tonic = {{ version = "0.14.9", default-features = false }}
tonic-prost = "0.14.9"

[build-dependencies]
protoc-gen-cloudrun = {{ path = "{plugin}" }}

[workspace]
"#,
            runtime = workspace.join("runtime").display(),
            plugin = workspace.join("protoc-gen-cloudrun").display(),
        ),
    )
    .expect("manifest");
    std::fs::copy(workspace.join("Cargo.lock"), dir.join("Cargo.lock")).expect("lock");
    common::copy_fixture("multi", &dir.join("proto"));
    std::fs::write(
        dir.join("build.rs"),
        r#"fn main() -> Result<(), Box<dyn std::error::Error>> {
    protoc_gen_cloudrun::build::Builder::new().compile(
        &["proto/acme/shop/v1/admin/admin.proto", "proto/type/v1/type.proto"],
        &["proto"],
    )?;
    Ok(())
}
"#,
    )
    .expect("build.rs");
    std::fs::create_dir_all(dir.join("src")).expect("src");
    std::fs::write(
        dir.join("src/lib.rs"),
        r#"#![deny(warnings)]
//! Uses code generated by its build script.

mod gen {
    include!(concat!(env!("OUT_DIR"), "/mod.rs"));
}

pub fn service_names() -> [&'static str; 4] {
    [
        gen::acme::shop::v1::admin::admin_cloudrun::SERVICE_NAME,
        gen::acme::shop::v1::orders_cloudrun::SERVICE_NAME,
        gen::r#type::v1::type_service_cloudrun::SERVICE_NAME,
        gen::rootless_cloudrun::SERVICE_NAME,
    ]
}

pub fn money() -> gen::acme::common::v1::Money {
    gen::acme::common::v1::Money::default()
}
"#,
    )
    .expect("lib.rs");

    let build = common::cargo(&dir, &["build", "--lib"]);
    let stderr = String::from_utf8_lossy(&build.stderr);
    assert!(build.status.success(), "cargo build failed:\n{stderr}");
    // Imports are generated too (they have to be, for the code to compile), and every .proto
    // read is watched: the build script's output lists them.
    let output = build_script_output("build-api-check");
    for proto in [
        "proto/acme/shop/v1/admin/admin.proto",
        "proto/acme/shop/v1/shop.proto",
        "proto/acme/common/v1/money.proto",
        "proto/nopkg.proto",
        "proto/type/v1/type.proto",
    ] {
        let line = format!("cargo:rerun-if-changed={proto}");
        assert!(
            output.lines().any(|l| l == line),
            "no `{line}` in:\n{output}"
        );
    }
}

/// What the last run of a package's build script printed, as cargo keeps it.
fn build_script_output(package: &str) -> String {
    let build = common::target_dir().join("debug/build");
    let newest = std::fs::read_dir(&build)
        .expect("build directory")
        .filter_map(Result::ok)
        .filter(|entry| {
            entry
                .file_name()
                .to_string_lossy()
                .starts_with(&format!("{package}-"))
        })
        .map(|entry| entry.path().join("output"))
        .filter(|output| output.exists())
        .max_by_key(|output| output.metadata().and_then(|m| m.modified()).ok())
        .expect("a build script output");
    std::fs::read_to_string(newest).expect("read the output")
}
