//! Imported files that are not generated: prost-build still decides the derives of generated
//! messages from the imported messages they contain, and nothing of the imports is output.

mod common;

use std::collections::BTreeMap;

const DEP_PROTO: &str = r#"syntax = "proto3";
package dep;

message Exact {
  int64 units = 1;
}

message Approx {
  double value = 1;
}

message Named {
  string name = 1;
  Exact exact = 2;
}

enum Unit {
  UNIT_UNSPECIFIED = 0;
}

service DepService {
  rpc Get(Exact) returns (Exact);
}
"#;

const APP_PROTO: &str = r#"syntax = "proto3";
package app;

import "dep.proto";

message WithExact {
  dep.Exact exact = 1;
}

message WithApprox {
  dep.Approx approx = 1;
}

message WithNamed {
  dep.Named named = 1;
}
"#;

/// The generated files for `files` (of the two above), with `parameter`.
fn generate(files: &[&str], parameter: &str) -> BTreeMap<String, String> {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("dep.proto"), DEP_PROTO).expect("write");
    std::fs::write(dir.path().join("app.proto"), APP_PROTO).expect("write");
    let files: Vec<String> = files.iter().map(|f| f.to_string()).collect();
    common::apply(&protoc_gen_cloudrun::execute(&common::request_for(
        dir.path(),
        &files,
        parameter,
        true,
    )))
}

/// The `#[derive(...)]` line of each `pub struct` in `code`, by struct name.
fn derives(code: &str) -> BTreeMap<String, String> {
    let lines: Vec<&str> = code.lines().collect();
    lines
        .iter()
        .enumerate()
        .filter_map(|(index, line)| {
            let name = line.trim().strip_prefix("pub struct ")?;
            let derive = lines[..index]
                .iter()
                .rev()
                .find(|line| line.trim_start().starts_with("#[derive("))?;
            Some((
                name.trim_end_matches(" {").to_string(),
                derive.trim().to_string(),
            ))
        })
        .collect()
}

#[test]
fn derives_follow_imported_messages_as_they_follow_generated_ones() {
    let both = generate(&["dep.proto", "app.proto"], "");
    let app_only = generate(&["app.proto"], "extern_path=.dep=::dep");

    assert_eq!(
        app_only.keys().collect::<Vec<_>>(),
        ["app.rs", "mod.rs"],
        "nothing of the imported file is output"
    );
    let code = &app_only["app.rs"];
    assert!(
        code.contains("pub exact: ::core::option::Option<::dep::Exact>"),
        "the imported type is referred to by its extern path:\n{code}"
    );
    let items = code
        .split("pub const FILE_DESCRIPTOR_SET")
        .next()
        .unwrap_or_default();
    for item in ["pub enum Unit", "pub mod dep_service", "pub struct Exact"] {
        assert!(
            !items.contains(item),
            "`{item}` of the imported file is generated:\n{items}"
        );
    }

    let expected = derives(&both["app.rs"]);
    assert_eq!(
        expected["WithExact"],
        "#[derive(Clone, Copy, PartialEq, Eq, Hash, ::prost::Message)]"
    );
    assert_eq!(
        expected["WithApprox"],
        "#[derive(Clone, Copy, PartialEq, ::prost::Message)]"
    );
    assert_eq!(
        expected["WithNamed"],
        "#[derive(Clone, PartialEq, Eq, Hash, ::prost::Message)]"
    );
    assert_eq!(derives(code), expected);
}
