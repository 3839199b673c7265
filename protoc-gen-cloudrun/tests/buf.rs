//! Real `buf generate` runs (buf 1.75.0 from scripts/setup.sh) with both strategies. What buf
//! writes also compiles: tests/compile.rs builds it.

mod common;

const STRATEGY_ALL: &str =
    "version: v2\nplugins:\n  - local: protoc-gen-cloudrun\n    out: out\n    strategy: all\n";
const STRATEGY_DIRECTORY: &str =
    "version: v2\nplugins:\n  - local: protoc-gen-cloudrun\n    out: out\n";

#[test]
fn strategy_all_writes_what_the_plugin_writes_for_protoc_without_warnings() {
    let scratch = tempfile::tempdir().expect("tempdir");
    common::copy_fixture("multi", scratch.path());
    let (ok, stderr) = common::buf_generate(scratch.path(), STRATEGY_ALL);
    assert!(ok, "buf generate failed: {stderr}");
    assert!(stderr.is_empty(), "buf warned: {stderr}");

    let from_buf = common::read_files(&scratch.path().join("out"));
    let from_protoc = common::generate("multi", "");
    assert_eq!(
        from_buf.keys().collect::<Vec<_>>(),
        from_protoc.keys().collect::<Vec<_>>()
    );
    // Byte for byte, embedded descriptors included: buf and protox encode these files alike.
    for (name, content) in &from_protoc {
        assert_eq!(
            &from_buf[name], content,
            "{name} differs between buf and protoc"
        );
    }
}

#[test]
fn strategy_directory_assembles_the_module_tree_of_separate_top_level_packages() {
    let scratch = tempfile::tempdir().expect("tempdir");
    common::copy_fixture("directories", scratch.path());
    let (ok, stderr) = common::buf_generate(scratch.path(), STRATEGY_DIRECTORY);
    assert!(ok, "buf generate failed: {stderr}");
    // One base mod.rs per directory run; buf keeps the first and says so for the other.
    assert_eq!(
        stderr.trim(),
        "duplicate generated file name \"mod.rs\". Generation will continue without error here \
         and drop the second occurrence of this file, but please raise an issue with the \
         maintainer of the plugin."
    );
    let files = common::read_files(&scratch.path().join("out"));
    assert_eq!(
        files.keys().collect::<Vec<_>>(),
        ["alpha.rs", "beta.v1.rs", "mod.rs"]
    );
    // Each run inserted its own packages; their order is the order the runs finished in.
    let tree = &files["mod.rs"];
    assert_eq!(tree.matches("pub mod alpha {").count(), 1, "{tree}");
    assert_eq!(tree.matches("pub mod beta {").count(), 1, "{tree}");
    assert!(tree.contains("include!(\"beta.v1.rs\");"), "{tree}");
}

#[test]
fn strategy_directory_stops_when_a_directory_needs_another_ones_types() {
    let scratch = tempfile::tempdir().expect("tempdir");
    common::copy_fixture("multi", scratch.path());
    let (ok, stderr) = common::buf_generate(scratch.path(), STRATEGY_DIRECTORY);
    assert!(!ok, "buf generate succeeded");
    // buf runs the directories concurrently and reports the first failure; each names its file,
    // the missing import and `strategy: all`.
    assert!(
        stderr.contains(
            "which is not generated in this run, so the generated code could not compile"
        ) && stderr
            .contains("`strategy: all` because buf's default runs this plugin once per directory"),
        "{stderr}"
    );
}
