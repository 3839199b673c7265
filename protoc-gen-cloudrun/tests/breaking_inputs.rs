//! Each kind of input (directory, image written by `buf build -o`, git reference in a
//! temporary repository), through the binary, compared with the pinned buf where buf accepts
//! the same input; and bad inputs, each of which gets one clear message and exit code 1.

#[path = "breaking_common/mod.rs"]
mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{fixtures, run_buf};

fn ours(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_protoc-gen-cloudrun"))
        .arg("breaking")
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Copies a fixture side into `to`.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn git(cwd: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", stderr(&out));
    stdout(&out).trim().to_string()
}

/// Asserts that we print what buf prints and exit as buf exits.
fn assert_same_as_buf(cwd: &Path, args: &[&str]) {
    let mine = ours(cwd, args);
    let mut buf_args = vec!["breaking"];
    buf_args.extend_from_slice(args);
    let (buf_out, buf_err, buf_code) = run_buf(cwd, &buf_args);
    assert_eq!(
        (stdout(&mine), mine.status.code()),
        (buf_out, Some(buf_code)),
        "args {args:?}; buf stderr: {buf_err}; our stderr: {}",
        stderr(&mine)
    );
}

#[test]
fn directories_default_to_dot_and_exit_0_or_100() {
    let dir = fixtures().join("rules/FIELD_SAME_TYPE");
    assert_same_as_buf(&dir, &["current", "--against", "previous"]);
    assert_same_as_buf(&dir.join("current"), &["--against", "../previous"]);
    let same = ours(&dir, &["current", "--against", "current"]);
    assert_eq!(same.status.code(), Some(0), "{}", stderr(&same));
    assert_eq!(stdout(&same), "");
}

#[test]
fn images_built_by_buf_match_buf_alone_and_mixed_with_directories() {
    let tmp = tempfile::tempdir().unwrap();
    let fixture = fixtures().join("rules/MESSAGE_NO_DELETE");
    copy_dir(&fixture, tmp.path());
    for side in ["previous", "current"] {
        let (_, err, code) = run_buf(tmp.path(), &["build", side, "-o", &format!("{side}.binpb")]);
        assert_eq!(code, 0, "{err}");
    }
    assert_same_as_buf(
        tmp.path(),
        &["current.binpb", "--against", "previous.binpb"],
    );
    assert_same_as_buf(tmp.path(), &["current", "--against", "previous.binpb"]);
    assert_same_as_buf(
        tmp.path(),
        &[
            "current.binpb",
            "--against",
            "previous",
            "--error-format",
            "json",
        ],
    );
    // buf's format suffix is understood too.
    let explicit = ours(
        tmp.path(),
        &["current.binpb#format=binpb", "--against", "previous.binpb"],
    );
    assert_eq!(explicit.status.code(), Some(100), "{}", stderr(&explicit));
}

#[test]
fn git_references_match_buf() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path();
    let fixture = fixtures().join("rules/FIELD_SAME_ONEOF");
    git(repo, &["init", "-q", "-b", "main"]);
    copy_dir(&fixture.join("previous"), &repo.join("proto"));
    git(repo, &["add", "."]);
    git(repo, &["commit", "-q", "-m", "previous"]);
    git(repo, &["tag", "v1"]);
    let first = git(repo, &["rev-parse", "HEAD"]);
    git(repo, &["checkout", "-q", "-b", "feature"]);
    std::fs::remove_dir_all(repo.join("proto")).unwrap();
    copy_dir(&fixture.join("current"), &repo.join("proto"));
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-q", "-m", "current"]);

    for against in [
        ".git#branch=main,subdir=proto".to_string(),
        ".git#tag=v1,subdir=proto".to_string(),
        format!(".git#ref={first},subdir=proto"),
    ] {
        assert_same_as_buf(repo, &["proto", "--against", &against]);
    }
    // Both sides from git, whole repository (paths keep their proto/ prefix).
    assert_same_as_buf(repo, &[".git#branch=feature", "--against", ".git#tag=v1"]);
    assert_same_as_buf(
        repo,
        &[
            ".git#branch=feature,subdir=proto",
            "--against",
            ".git#ref=HEAD~1,subdir=proto",
        ],
    );

    // The work tree is never touched: uncommitted edits do not change what a ref reads.
    std::fs::write(repo.join("proto/a.proto"), "not protobuf at all").unwrap();
    let mine = ours(
        repo,
        &[
            ".git#branch=feature,subdir=proto",
            "--against",
            ".git#tag=v1,subdir=proto",
        ],
    );
    assert_eq!(mine.status.code(), Some(100), "{}", stderr(&mine));
    assert_eq!(git(repo, &["status", "--porcelain"]), "M proto/a.proto");

    // A linked worktree has a .git file, not a directory.
    let linked = tmp.path().join("linked");
    git(
        repo,
        &["worktree", "add", "-q", linked.to_str().unwrap(), "v1"],
    );
    let from_worktree = ours(
        &linked,
        &["proto", "--against", ".git#branch=feature,subdir=proto"],
    );
    assert_eq!(
        from_worktree.status.code(),
        Some(100),
        "{}",
        stderr(&from_worktree)
    );
}

/// Runs a bad invocation: exit 1, no panic, one line on stderr containing `expected`.
fn assert_bad(cwd: &Path, args: &[&str], expected: &str) {
    let out = ours(cwd, args);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "args {args:?}: {err}");
    assert!(!err.contains("panicked"), "args {args:?} panicked: {err}");
    assert!(
        err.contains(expected),
        "args {args:?}: expected {expected:?} in {err:?}"
    );
    assert_eq!(stdout(&out), "", "nothing on stdout for bad input");
}

#[test]
fn bad_inputs_get_one_clear_message() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    std::fs::create_dir_all(t.join("ok")).unwrap();
    std::fs::write(
        t.join("ok/a.proto"),
        "syntax = \"proto3\";\npackage ok;\nmessage A {}\n",
    )
    .unwrap();
    std::fs::create_dir_all(t.join("syntax")).unwrap();
    std::fs::write(
        t.join("syntax/a.proto"),
        "syntax = \"proto3\";\npackage ok;\nmessage A {\n  int32 a = 1\n}\n",
    )
    .unwrap();
    std::fs::create_dir_all(t.join("unknown_type")).unwrap();
    std::fs::write(
        t.join("unknown_type/b.proto"),
        "syntax = \"proto3\";\nmessage B {\n  Missing m = 1;\n}\n",
    )
    .unwrap();
    std::fs::write(t.join("corrupt.binpb"), [0x0b, 0xff, 0xff, 0x01, 0x02]).unwrap();
    std::fs::create_dir_all(t.join("badyaml")).unwrap();
    std::fs::write(
        t.join("badyaml/buf.yaml"),
        "version: v2\nbreaking:\n  usee: [FILE]\n",
    )
    .unwrap();
    git(t, &["init", "-q", "-b", "main"]);

    assert_bad(t, &["syntax", "--against", "ok"], "syntax/a.proto:5:1: ");
    assert_bad(t, &["ok", "--against", "syntax"], "syntax/a.proto:5:1: ");
    assert_bad(
        t,
        &["unknown_type", "--against", "ok"],
        "unknown_type/b.proto:3:3: ",
    );
    assert_bad(
        t,
        &["ok", "--against", "missing"],
        "input \"missing\" does not exist",
    );
    assert_bad(
        t,
        &["ok", "--against", "corrupt.binpb"],
        "corrupt.binpb is not a valid binary image",
    );
    assert_bad(
        t,
        &["ok", "--against", ".git#branch=nope"],
        "branch \"nope\" not found",
    );
    assert_bad(
        t,
        &["ok", "--against", "nowhere/.git#branch=main"],
        "git repository \"nowhere/.git\" does not exist",
    );
    assert_bad(
        t,
        &["ok", "--against", ".git#color=red"],
        "unknown git option \"color\"",
    );
    assert_bad(
        t,
        &[
            "ok",
            "--against",
            "ok",
            "--config",
            r#"{"version":"v2","breaking":{"use":["NOPE"]}}"#,
        ],
        "\"NOPE\" is not a known rule or category ID",
    );
    assert_bad(t, &["badyaml", "--against", "ok"], "unknown field `usee`");
    assert_bad(
        t,
        &["ok", "--against", "ok", "--config", "missing.yaml"],
        "config file \"missing.yaml\" does not exist",
    );
    assert_bad(t, &["ok"], "--against");
    assert_bad(
        t,
        &["ok", "--against", "ok", "--error-format", "xml"],
        "xml",
    );
}

#[test]
fn rule_listing_matches_buf() {
    let tmp = tempfile::tempdir().unwrap();
    let (v2, _, _) = run_buf(
        tmp.path(),
        &["config", "ls-breaking-rules", "--version", "v2"],
    );
    assert_eq!(stdout(&ours(tmp.path(), &["--list-rules"])), v2);
    let (v1, _, _) = run_buf(
        tmp.path(),
        &["config", "ls-breaking-rules", "--version", "v1"],
    );
    assert_eq!(
        stdout(&ours(
            tmp.path(),
            &["--list-rules", "--config", r#"{"version":"v1"}"#]
        )),
        v1
    );
}

#[test]
fn imports_are_checked_unless_excluded_as_buf_does() {
    let dir = fixtures().join("scenarios/imports");
    // A dropped import of a well-known type is a deleted (imported) file to buf...
    assert_same_as_buf(
        &dir,
        &["current", "--against", "previous", "--error-format", "json"],
    );
    let with = ours(&dir, &["current", "--against", "previous"]);
    assert!(
        stdout(&with).contains("google/protobuf/timestamp.proto"),
        "{}",
        stdout(&with)
    );
    // ...unless imports are excluded.
    assert_same_as_buf(
        &dir,
        &[
            "current",
            "--against",
            "previous",
            "--exclude-imports",
            "--error-format",
            "json",
        ],
    );
    let without = ours(
        &dir,
        &["current", "--against", "previous", "--exclude-imports"],
    );
    assert_eq!(without.status.code(), Some(100), "{}", stderr(&without));
    assert!(
        !stdout(&without).contains("timestamp"),
        "{}",
        stdout(&without)
    );
}
