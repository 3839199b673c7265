//! What the integration tests share: fixtures compiled with protox into real
//! `CodeGeneratorRequest`s, responses applied to a directory the way protoc and buf apply them,
//! and the outside tools (buf, protoc from grpcio-tools) with loud failures when missing.

#![allow(dead_code)] // each test file uses its own share of these

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use prost::Message;
use prost_types::compiler::{CodeGeneratorRequest, CodeGeneratorResponse, Version};

/// The fixture sets whose generated code is snapshotted and compiled.
pub const SNAPSHOT_SETS: &[&str] = &[
    "basic",
    "multi",
    "deprecated",
    "collisions",
    "methods",
    "auth",
];

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the crate lives in the workspace")
        .to_path_buf()
}

/// Every `.proto` file under `dir`, as names relative to it, sorted.
pub fn protos_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        for entry in
            std::fs::read_dir(&current).unwrap_or_else(|e| panic!("{}: {e}", current.display()))
        {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "proto") {
                let name = path.strip_prefix(dir).expect("under dir");
                out.push(name.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    out.sort();
    out
}

/// The files of a `FileDescriptorSet`, as bytes.
#[derive(Clone, PartialEq, Message)]
struct RawSet {
    #[prost(bytes = "vec", repeated, tag = "1")]
    file: Vec<Vec<u8>>,
}

/// A `CodeGeneratorRequest` for every file of fixture set `set`, as protoc would send it (with
/// `compiler_version`) or as buf would (without).
pub fn request(set: &str, parameter: &str, from_protoc: bool) -> Vec<u8> {
    let dir = fixtures().join(set);
    let files = protos_under(&dir);
    request_for(&dir, &files, parameter, from_protoc)
}

/// A `CodeGeneratorRequest` generating `files` (names under `dir`).
pub fn request_for(dir: &Path, files: &[String], parameter: &str, from_protoc: bool) -> Vec<u8> {
    // The shipped cloudrun/auth.proto is importable, as it is for users who copy it.
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("proto");
    let mut compiler = protox::Compiler::new([dir, &shipped]).expect("include dir");
    compiler.include_imports(true).include_source_info(true);
    for file in files {
        compiler
            .open_file(file)
            .unwrap_or_else(|e| panic!("{file}: {e:?}"));
    }
    let set = RawSet::decode(compiler.encode_file_descriptor_set().as_slice()).expect("set");
    let request = CodeGeneratorRequest {
        file_to_generate: files.to_vec(),
        parameter: (!parameter.is_empty()).then(|| parameter.to_string()),
        compiler_version: from_protoc.then_some(Version {
            major: Some(35),
            minor: Some(1),
            patch: Some(0),
            suffix: Some(String::new()),
        }),
        ..CodeGeneratorRequest::default()
    };
    let mut bytes = request.encode_to_vec();
    // proto_file (15) as the exact bytes protox produced, custom options included.
    for file in set.file {
        bytes.push(0x7a);
        prost::encode_length_delimiter(file.len(), &mut bytes).expect("vec");
        bytes.extend_from_slice(&file);
    }
    bytes
}

/// The files a response produces, insertion points applied as protoc applies them.
pub fn apply(response: &CodeGeneratorResponse) -> BTreeMap<String, String> {
    apply_with(response, false)
}

/// The files a response produces, insertion points applied as buf applies them: buf rewrites a
/// file it inserts into line by line, joined by newlines, so the last line loses its newline.
pub fn apply_as_buf(response: &CodeGeneratorResponse) -> BTreeMap<String, String> {
    apply_with(response, true)
}

fn apply_with(response: &CodeGeneratorResponse, as_buf: bool) -> BTreeMap<String, String> {
    assert_eq!(response.error, None, "the plugin failed");
    let mut files = BTreeMap::new();
    for file in &response.file {
        let name = file.name().to_string();
        match file.insertion_point.as_deref() {
            None => {
                files.insert(name, file.content().to_string());
            }
            Some(point) => {
                let target: &mut String = files
                    .get_mut(&name)
                    .unwrap_or_else(|| panic!("insertion into {name}, which does not exist"));
                let marker = format!("@@protoc_insertion_point({point})");
                let at = target.find(&marker).expect("insertion point present");
                let line_start = target[..at].rfind('\n').map_or(0, |i| i + 1);
                target.insert_str(line_start, file.content());
                if as_buf {
                    *target = target.lines().collect::<Vec<_>>().join("\n");
                }
            }
        }
    }
    files
}

/// Runs the plugin library on fixture set `set` and returns the files, as protoc writes them.
pub fn generate(set: &str, parameter: &str) -> BTreeMap<String, String> {
    let response = protoc_gen_cloudrun::execute(&request(set, parameter, true));
    apply(&response)
}

/// Writes `files` under `dir`.
pub fn write_files(dir: &Path, files: &BTreeMap<String, String>) {
    for (name, content) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("create dir");
        std::fs::write(&path, content).expect("write");
    }
}

/// Every file under `dir`, by relative path.
pub fn read_files(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        for entry in
            std::fs::read_dir(&current).unwrap_or_else(|e| panic!("{}: {e}", current.display()))
        {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let name = path
                    .strip_prefix(dir)
                    .expect("under dir")
                    .to_string_lossy()
                    .into_owned();
                out.insert(name, std::fs::read_to_string(&path).expect("utf-8"));
            }
        }
    }
    out
}

/// The plugin binary cargo built for these tests.
pub fn plugin_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_protoc-gen-cloudrun"))
}

/// buf 1.75.0 from the workspace's npm install.
pub fn buf() -> PathBuf {
    let buf = workspace_root().join("node_modules/.bin/buf");
    assert!(
        buf.exists(),
        "{} is missing: run scripts/setup.sh (installs the pinned buf)",
        buf.display()
    );
    buf
}

/// Python with grpcio-tools, whose `grpc_tools.protoc` is a real protoc.
pub fn python() -> PathBuf {
    let python = workspace_root().join(".venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/setup.sh (installs grpcio-tools, which bundles protoc)",
        python.display()
    );
    python
}

/// `PATH` with the plugin binary's directory first.
pub fn path_with_plugin() -> String {
    format!(
        "{}:{}",
        plugin_binary().parent().expect("bin dir").display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// Runs `buf generate` in `dir` with `buf.gen.yaml` written from `template`; returns
/// (success, stderr).
pub fn buf_generate(dir: &Path, template: &str) -> (bool, String) {
    std::fs::write(dir.join("buf.gen.yaml"), template).expect("write buf.gen.yaml");
    let out = Command::new(buf())
        .arg("generate")
        .current_dir(dir)
        .env("PATH", path_with_plugin())
        .output()
        .expect("run buf");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Copies fixture set `set` into `dir`.
pub fn copy_fixture(set: &str, dir: &Path) {
    let source = fixtures().join(set);
    for name in protos_under(&source) {
        let to = dir.join(&name);
        std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
        std::fs::copy(source.join(&name), to).expect("copy");
    }
}

/// The target directory of this test build, for nested cargo runs to reuse its dependencies.
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    // <target>/<profile>/deps/<test>
    exe.ancestors().nth(3).expect("target dir").to_path_buf()
}

/// A directory for a check crate, at a stable place so that its build is incremental and does
/// not leave one set of artifacts per run in the shared target directory. Emptied first.
pub fn check_crate_dir(name: &str) -> PathBuf {
    let dir = target_dir().join("protoc-gen-cloudrun-checks").join(name);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).expect("empty the check crate directory");
    }
    std::fs::create_dir_all(&dir).expect("create the check crate directory");
    dir
}

/// `cargo` with the environment of a user's build: the shared target directory, offline.
pub fn cargo(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string()))
        .args(args)
        .arg("--offline")
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target_dir())
        .env_remove("RUSTFLAGS")
        .output()
        .expect("run cargo")
}
