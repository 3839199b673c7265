//! The catalog's committed generated code is exactly what `buf generate` with this workspace's plugin
//! writes today: a real buf run into a scratch copy, compared file by file.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use cloudrun_tests::{buf, cargo_bin, workspace_root};

fn files_under(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.insert(rel, std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    out
}

#[test]
fn committed_generated_code_matches_a_fresh_buf_generate() {
    let plugin = cargo_bin("protoc-gen-cloudrun", "protoc-gen-cloudrun");
    let example = workspace_root().join("examples/catalog");
    let scratch = tempfile::tempdir().unwrap();
    for f in ["buf.gen.yaml", "proto/catalog.proto"] {
        let to = scratch.path().join(f);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(example.join(f), to).unwrap();
    }
    let path = format!(
        "{}:{}",
        plugin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new(buf())
        .arg("generate")
        .current_dir(scratch.path())
        .env("PATH", path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "buf generate failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "buf generate warned: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let fresh = files_under(&scratch.path().join("src/gen"));
    let committed = files_under(&example.join("src/gen"));
    assert!(
        fresh.contains_key("mod.rs") && fresh.contains_key("catalog.rs"),
        "generated: {:?}",
        fresh.keys()
    );
    assert_eq!(
        committed.keys().collect::<Vec<_>>(),
        fresh.keys().collect::<Vec<_>>(),
        "file set differs; regenerate with `cd examples/catalog && buf generate`"
    );
    for (name, content) in &fresh {
        assert!(
            committed[name] == *content,
            "examples/catalog/src/gen/{name} is stale; regenerate with `cd examples/catalog && buf generate`"
        );
    }
}
