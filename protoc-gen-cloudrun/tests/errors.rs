//! Failures are reported in `CodeGeneratorResponse.error`, with exact, actionable text; the
//! binary exits 0 whatever the request, as protoc expects, and never panics.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use prost::Message;
use prost_types::compiler::CodeGeneratorResponse;

fn error_of(request: &[u8]) -> String {
    let response = protoc_gen_cloudrun::execute(request);
    assert!(response.file.is_empty(), "no files alongside an error");
    assert_eq!(
        response.supported_features,
        Some(1),
        "proto3 optional support is declared"
    );
    response.error.expect("an error")
}

const ALL_OPTIONS: &str = "client, server, runtime_crate, extern_path, compile_well_known_types, \
    type_attribute, message_attribute, enum_attribute, field_attribute, bytes, btree_map, boxed, \
    disable_comments, retain_enum_prefix, enable_type_names, mod_file";

#[test]
fn unknown_option() {
    assert_eq!(
        error_of(&common::request("basic", "server=true,colour=red", true)),
        format!("unknown option `colour`; the options are: {ALL_OPTIONS}")
    );
}

#[test]
fn malformed_option_value() {
    assert_eq!(
        error_of(&common::request("basic", "client=yes", true)),
        "option `client`: invalid value `yes`; expected `true` or `false` (a bare `client` means `true`)"
    );
    assert_eq!(
        error_of(&common::request("basic", "extern_path=.acme.v1", true)),
        "option `extern_path`: invalid value `.acme.v1`; expected `.proto.path=::rust::path`"
    );
}

#[test]
fn malformed_request_bytes() {
    assert_eq!(
        error_of(b"\x0a\xff\xff"),
        "cannot decode the CodeGeneratorRequest: failed to decode Protobuf message: \
         CodeGeneratorRequest.file_to_generate: invalid varint; protoc-gen-cloudrun reads a CodeGeneratorRequest on stdin, as sent by \
         `buf generate` or `protoc --cloudrun_out=DIR`"
    );
}

#[test]
fn empty_request() {
    assert_eq!(
        error_of(b""),
        "the CodeGeneratorRequest names no file to generate; protoc-gen-cloudrun is a protoc \
         plugin: run it through `buf generate` or `protoc --cloudrun_out=DIR`, which send the \
         request on stdin (`protoc-gen-cloudrun --help` for more)"
    );
}

#[test]
fn a_type_from_a_file_not_generated_names_the_file_and_the_ways_out() {
    // What buf's default strategy sends for one directory: its files, and imports to read only.
    let dir = common::fixtures().join("multi");
    let request = common::request_for(&dir, &["acme/shop/v1/shop.proto".to_string()], "", false);
    assert_eq!(
        error_of(&request),
        "acme/shop/v1/shop.proto: field `acme.shop.v1.Order.total` uses `.acme.common.v1.Money` \
         from acme/common/v1/money.proto, which is not generated in this run, so the generated \
         code could not compile. Generate acme/common/v1/money.proto too (protoc: list it; buf: \
         `include_imports: true` if it comes from a dependency, and `strategy: all` because buf's \
         default runs this plugin once per directory), or map its package to existing Rust code \
         with `extern_path=.acme.common.v1=::some_crate::acme::common::v1`"
    );
    // Mapping the packages away is the other way out.
    let request = common::request_for(
        &dir,
        &["acme/shop/v1/shop.proto".to_string()],
        "extern_path=.acme.common.v1=::money::v1,extern_path=.type.v1=::kinds",
        false,
    );
    let response = protoc_gen_cloudrun::execute(&request);
    assert_eq!(response.error, None);
    let files = common::apply(&response);
    assert!(files["acme.shop.v1.rs"].contains("::core::option::Option<::money::v1::Money>"));
}

#[test]
fn a_generator_panic_becomes_an_error() {
    // Both values become the variant `Bar` once prost-build strips the enum name prefix, which
    // prost-build answers with a panic.
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("clash.proto"),
        "syntax = \"proto3\";\npackage clash;\nenum Foo {\n  FOO_BAR = 0;\n  BAR = 1;\n}\n",
    )
    .expect("write");
    let request = common::request_for(dir.path(), &["clash.proto".to_string()], "", true);
    assert_eq!(
        error_of(&request),
        "code generation failed: prost-build or tonic-build stopped: Generated enum variant names \
         overlap: `Bar` variant name to be used both by `FOO_BAR` and `BAR` ProtoBuf enum values"
    );
}

#[test]
fn a_module_name_clash_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, package) in [("a.proto", "foo_bar"), ("b.proto", "fooBar")] {
        std::fs::write(
            dir.path().join(name),
            format!("syntax = \"proto3\";\npackage {package};\nmessage M {{}}\n"),
        )
        .expect("write");
    }
    let files = ["a.proto".to_string(), "b.proto".to_string()];
    assert_eq!(
        error_of(&common::request_for(dir.path(), &files, "", true)),
        "packages `fooBar` and `foo_bar` both become the Rust module `foo_bar`; rename one of \
         them or generate them separately"
    );
}

fn run_binary(request: &[u8]) -> (std::process::ExitStatus, CodeGeneratorResponse, String) {
    let mut child = Command::new(common::plugin_binary())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the plugin");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(request)
        .expect("write the request");
    let output = child.wait_with_output().expect("plugin output");
    let response = CodeGeneratorResponse::decode(output.stdout.as_slice()).expect("a response");
    (
        output.status,
        response,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn the_binary_answers_on_stdout_and_exits_zero() {
    let (status, response, stderr) = run_binary(&common::request("basic", "colour=red", true));
    assert!(status.success());
    assert!(stderr.is_empty(), "{stderr}");
    assert_eq!(
        response.error.as_deref(),
        Some(format!("unknown option `colour`; the options are: {ALL_OPTIONS}").as_str())
    );

    let (status, response, _) = run_binary(b"\xff");
    assert!(status.success());
    assert!(
        response
            .error
            .expect("error")
            .starts_with("cannot decode the CodeGeneratorRequest")
    );

    let (status, response, stderr) = run_binary(&common::request("basic", "", true));
    assert!(status.success());
    assert!(stderr.is_empty(), "{stderr}");
    assert_eq!(response.error, None);
    let names: Vec<&str> = response.file.iter().map(|f| f.name()).collect();
    assert_eq!(names, ["shop.v1.rs", "mod.rs"]);
}

#[test]
fn the_binary_is_deterministic() {
    // Two processes, two hash seeds: identical bytes.
    let request = common::request("googleapis", "", true);
    let (_, first, _) = run_binary(&request);
    let (_, second, _) = run_binary(&request);
    assert_eq!(first.error, None);
    assert_eq!(first, second);
}

#[test]
fn version_flag() {
    let output = Command::new(common::plugin_binary())
        .arg("--version")
        .output()
        .expect("run --version");
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        format!("protoc-gen-cloudrun {}\n", env!("CARGO_PKG_VERSION"))
    );
}

/// A request for one file `rules.proto` holding `body` after an import of cloudrun/auth.proto.
fn rules_request(body: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("rules.proto"),
        format!(
            "syntax = \"proto3\";\npackage rules;\nimport \"cloudrun/auth.proto\";\n\
             message M {{}}\n{body}\n"
        ),
    )
    .expect("write");
    common::request_for(dir.path(), &["rules.proto".to_string()], "", true)
}

#[test]
fn caller_rules_that_could_never_match_name_the_method_and_the_value() {
    assert_eq!(
        error_of(&rules_request(
            "service S { rpc Call(M) returns (M) { option (cloudrun.auth.method) = \
             { allowed_principals: [\"ops-team\"] }; } }"
        )),
        "rules.proto: method `S.Call`: (cloudrun.auth.method) allowed_principals entry \
         \"ops-team\" is not a principal: expected an email (alice@example.com), user:EMAIL, \
         serviceAccount:EMAIL, domain:example.com or subject:SUB"
    );
    assert_eq!(
        error_of(&rules_request(
            "service S { option (cloudrun.auth.service) = { allowed_principals: \
             [\"domain:\"] }; rpc Call(M) returns (M); }"
        )),
        "rules.proto: service `S`: (cloudrun.auth.service) allowed_principals entry \
         \"domain:\" is not a principal: expected an email (alice@example.com), user:EMAIL, \
         serviceAccount:EMAIL, domain:example.com or subject:SUB"
    );
    assert_eq!(
        error_of(&rules_request(
            "service S { rpc Call(M) returns (M) { option (cloudrun.auth.method) = \
             { required_claims: [{ value: \"x\" }] }; } }"
        )),
        "rules.proto: method `S.Call`: (cloudrun.auth.method) required_claims entry with \
         value \"x\" has no name; name the claim, e.g. { name: \"hd\" value: \"example.com\" }"
    );
}
