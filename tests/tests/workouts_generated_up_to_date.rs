//! The seed 001 API's committed generated code is exactly what `buf generate` with this
//! workspace's plugin writes today, and its copy of cloudrun/auth.proto is the shipped one.

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

fn copy_tree(from: &Path, to: &Path) {
    for (name, content) in files_under(from) {
        let path = to.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
}

#[test]
fn committed_generated_code_matches_a_fresh_buf_generate() {
    let plugin = cargo_bin("protoc-gen-cloudrun", "protoc-gen-cloudrun");
    let example = workspace_root().join("examples/workouts-api");
    let scratch = tempfile::tempdir().unwrap();
    for f in ["buf.gen.yaml", "buf.yaml"] {
        std::fs::copy(example.join(f), scratch.path().join(f)).unwrap();
    }
    copy_tree(&example.join("proto"), &scratch.path().join("proto"));
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
        out.status.success() && out.stderr.is_empty(),
        "buf generate: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let fresh = files_under(&scratch.path().join("src/gen"));
    let committed = files_under(&example.join("src/gen"));
    assert_eq!(
        committed.keys().collect::<Vec<_>>(),
        ["mod.rs", "trainer.rs", "trainings.rs", "users.rs"],
        "no code for cloudrun/auth.proto"
    );
    assert_eq!(
        committed.keys().collect::<Vec<_>>(),
        fresh.keys().collect::<Vec<_>>(),
        "file set differs; regenerate with `cd examples/workouts-api && buf generate`"
    );
    for (name, content) in &fresh {
        assert!(
            committed[name] == *content,
            "examples/workouts-api/src/gen/{name} is stale; regenerate with \
             `cd examples/workouts-api && buf generate`"
        );
    }
}

#[test]
fn the_examples_copy_of_the_options_file_is_the_shipped_one() {
    let root = workspace_root();
    let shipped =
        std::fs::read_to_string(root.join("protoc-gen-cloudrun/proto/cloudrun/auth.proto"))
            .unwrap();
    let copy =
        std::fs::read_to_string(root.join("examples/workouts-api/proto/cloudrun/auth.proto"))
            .unwrap();
    assert!(
        shipped == copy,
        "examples/workouts-api/proto/cloudrun/auth.proto differs from the shipped file; copy \
         protoc-gen-cloudrun/proto/cloudrun/auth.proto over it"
    );
}
