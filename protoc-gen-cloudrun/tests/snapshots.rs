//! Reviewed snapshots of the generated code for each fixture set (tests/fixtures/*), generated
//! from protox-compiled CodeGeneratorRequests through the plugin's `execute`.

mod common;

#[test]
fn generated_code_matches_the_reviewed_snapshots() {
    for set in common::SNAPSHOT_SETS {
        let files = common::generate(set, "");
        for (name, content) in &files {
            insta::assert_snapshot!(format!("{set}__{name}"), content);
        }
    }
}

#[test]
fn options_change_what_is_generated() {
    let files = common::generate(
        "basic",
        "client=false,runtime_crate=crate::rt,mod_file=lib.rs,btree_map=.,bytes=.shop.v1.Item.thumbnail,\
         type_attribute=.shop.v1.Offer=#[must_use = \"offers expire\"]",
    );
    assert_eq!(
        files.keys().collect::<Vec<_>>(),
        ["lib.rs", "shop.v1.rs"],
        "mod_file renames the module tree file"
    );
    let code = &files["shop.v1.rs"];
    assert!(
        !code.contains("pub mod catalog_client"),
        "client=false drops the client"
    );
    assert!(code.contains("pub mod catalog_server"), "the server stays");
    assert!(
        code.contains("-> crate::rt::ServiceDef"),
        "runtime_crate renames the glue's paths"
    );
    assert!(
        code.contains("::prost::alloc::collections::BTreeMap<"),
        "btree_map"
    );
    assert!(
        code.contains("pub thumbnail: ::prost::bytes::Bytes"),
        "bytes"
    );
    assert!(
        code.contains("#[must_use = \"offers expire\"]\n#[derive(Clone, PartialEq, Eq, Hash, ::prost::Message)]\npub struct Offer"),
        "type_attribute"
    );

    let files = common::generate(
        "basic",
        "mod_file=src/gen/lib.rs,disable_comments=.shop.v1.Catalog,disable_comments=.shop.v1.Item",
    );
    assert_eq!(
        files.keys().collect::<Vec<_>>(),
        ["shop.v1.rs", "src/gen/lib.rs"]
    );
    // include! paths are relative to the including file.
    assert!(files["src/gen/lib.rs"].contains("include!(\"../../shop.v1.rs\");"));
    let code = &files["shop.v1.rs"];
    assert!(
        !code.contains("Browses and edits the catalog."),
        "service comments disabled"
    );
    assert!(
        !code.contains("/// An item for sale."),
        "message comments disabled"
    );
    assert!(
        code.contains("/// Unary: one item by id."),
        "only for the paths given"
    );

    let files = common::generate("basic", "server=false");
    let code = &files["shop.v1.rs"];
    assert!(code.contains("pub mod catalog_client"));
    assert!(
        !code.contains("pub mod catalog_server"),
        "server=false drops the server"
    );
    assert!(
        !code.contains("pub fn service<") && !code.contains("pub async fn serve<"),
        "and the glue's server entry points"
    );
    assert!(
        code.contains("pub async fn client_from_env()"),
        "the glue keeps the client constructors"
    );

    let files = common::generate("basic", "client=false");
    let code = &files["shop.v1.rs"];
    assert!(!code.contains("pub mod catalog_client"));
    assert!(code.contains("pub async fn serve<"));
    assert!(
        !code.contains("client_from_env"),
        "client=false drops the client constructors"
    );
    assert!(
        code.contains("pub static METHODS"),
        "both sides use the method table"
    );
}

#[test]
fn buf_and_protoc_style_responses_give_the_same_files() {
    let as_protoc = common::apply(&protoc_gen_cloudrun::execute(&common::request(
        "multi", "", true,
    )));
    let response = protoc_gen_cloudrun::execute(&common::request("multi", "", false));
    // Without a compiler version (buf), the module tree arrives through the insertion point.
    assert!(
        response
            .file
            .iter()
            .any(|f| f.insertion_point.as_deref() == Some("cloudrun_modules"))
    );
    let as_buf = common::apply_as_buf(&response);
    assert_eq!(as_protoc, as_buf);
}

#[test]
fn output_is_deterministic() {
    let first = common::generate("googleapis", "");
    let second = common::generate("googleapis", "");
    assert_eq!(first, second);
}

#[test]
fn a_package_of_services_only_generates_with_neither_client_nor_server() {
    let files = common::generate("services_only", "client=false,server=false");
    let code = &files["only.v1.rs"];
    assert!(
        !code.contains("pinger_client") && !code.contains("pinger_server"),
        "{code}"
    );
    assert!(
        !code.contains("pinger_cloudrun"),
        "no glue without a server: {code}"
    );
    let files = common::generate("services_only", "");
    let code = &files["only.v1.rs"];
    assert!(
        code.contains("pub mod pinger_client") && code.contains("pub mod pinger_cloudrun"),
        "{code}"
    );
}
