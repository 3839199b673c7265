//! The embedded `FILE_DESCRIPTOR_SET` of a package: its files and everything they import, as the
//! compiler produced them (custom options included), without source info.

mod common;

use prost::Message;
use prost_reflect::{DescriptorPool, Value};

/// The bytes of the `FILE_DESCRIPTOR_SET` literal in a generated file.
fn embedded_set(code: &str) -> Vec<u8> {
    let start = code
        .find("pub const FILE_DESCRIPTOR_SET: &[u8] = ")
        .expect("the constant");
    let literal = &code[start + "pub const FILE_DESCRIPTOR_SET: &[u8] = ".len()..];
    let literal = &literal[..literal.find("\";\n").expect("end of literal") + 1];
    syn::parse_str::<syn::LitByteStr>(literal)
        .expect("a byte string literal")
        .value()
}

#[test]
fn a_package_embeds_its_import_closure_with_custom_options_and_without_source_info() {
    let files = common::generate("googleapis", "");
    let bytes = embedded_set(&files["google.cloud.run.v2.rs"]);
    let set = prost_types::FileDescriptorSet::decode(bytes.as_slice()).expect("a descriptor set");

    // The same closure, computed by protox on its own: run v2 and every transitive import.
    let dir = common::fixtures().join("googleapis");
    let mut compiler = protox::Compiler::new([&dir]).expect("compiler");
    compiler.include_imports(true);
    let run_v2: Vec<String> = common::protos_under(&dir)
        .into_iter()
        .filter(|name| name.starts_with("google/cloud/run/v2/"))
        .collect();
    compiler.open_files(&run_v2).expect("compile run v2");
    let mut expected: Vec<String> = compiler
        .file_descriptor_set()
        .file
        .into_iter()
        .map(|file| file.name().to_string())
        .collect();
    expected.sort();
    let embedded: Vec<String> = set.file.iter().map(|f| f.name().to_string()).collect();
    let mut sorted = embedded.clone();
    sorted.sort();
    assert_eq!(sorted, expected);
    // Imports come before the files importing them.
    for (position, file) in set.file.iter().enumerate() {
        for dependency in &file.dependency {
            let at = embedded.iter().position(|name| name == dependency);
            assert!(
                at.is_some_and(|at| at < position),
                "{} before {dependency}",
                file.name()
            );
        }
    }
    assert!(embedded.contains(&"google/api/http.proto".to_string()));
    assert!(embedded.contains(&"google/protobuf/duration.proto".to_string()));
    assert!(set.file.iter().all(|file| file.source_code_info.is_none()));

    // `(google.api.http)` is an extension prost-types cannot represent: it survives only because
    // the bytes are the compiler's.
    let pool = DescriptorPool::decode(bytes.as_slice()).expect("a pool");
    let method = pool
        .get_service_by_name("google.cloud.run.v2.Services")
        .expect("the Services service")
        .methods()
        .find(|m| m.name() == "GetService")
        .expect("GetService");
    let http = pool
        .get_extension_by_name("google.api.http")
        .expect("the extension");
    let rule = method.options().get_extension(&http).into_owned();
    let Value::Message(rule) = rule else {
        panic!("not a message: {rule:?}")
    };
    assert_eq!(
        rule.get_field_by_name("get").map(|v| v.into_owned()),
        Some(Value::String(
            "/v2/{name=projects/*/locations/*/services/*}".into()
        ))
    );
}

#[test]
fn every_package_embeds_a_set_that_stands_on_its_own() {
    for (name, code) in common::generate("googleapis", "") {
        if name == "mod.rs" {
            continue;
        }
        let bytes = embedded_set(&code);
        // A pool only builds when every import is in the set.
        DescriptorPool::decode(bytes.as_slice()).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}
