//! Shared helpers for the breaking-change tests: fixture paths, running the pinned buf, and
//! running our checker with findings made relative to the fixture.

#![allow(dead_code)] // Each test crate uses a different subset.

use std::path::{Path, PathBuf};
use std::process::Command;

use protoc_gen_cloudrun::breaking::{CheckOptions, Error, Finding, Severity, check_inputs};

/// `protoc-gen-cloudrun/tests/breaking`.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/breaking")
}

/// The fixture directory of one rule.
pub fn rule_dir(rule: &str) -> PathBuf {
    fixtures().join("rules").join(rule)
}

/// The pinned buf; a test that needs it fails loudly when it is missing.
pub fn buf() -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../node_modules/.bin/buf");
    assert!(
        path.exists(),
        "buf not found at {}: run scripts/setup.sh (it installs the pinned buf 1.75.0)",
        path.display()
    );
    path
}

/// Runs buf with `args` in `cwd`; returns stdout, stderr and the exit code.
pub fn run_buf(cwd: &Path, args: &[&str]) -> (String, String, i32) {
    let out = Command::new(buf())
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("buf runs");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

/// Our findings for `dir/current` against `dir/previous`, with paths relative to `dir/current`
/// (what buf prints when run there with input `.`).
pub fn check_fixture(dir: &Path, config: Option<&str>, strict: bool) -> Vec<Finding> {
    try_check_fixture(dir, config, strict)
        .unwrap_or_else(|e| panic!("checking {} failed: {e}", dir.display()))
}

/// [`check_fixture`], returning errors.
pub fn try_check_fixture(
    dir: &Path,
    config: Option<&str>,
    strict: bool,
) -> Result<Vec<Finding>, Error> {
    let current = dir.join("current");
    let previous = dir.join("previous");
    let options = CheckOptions {
        strict,
        exclude_imports: false,
    };
    let findings = check_inputs(
        current.to_str().expect("utf-8 path"),
        previous.to_str().expect("utf-8 path"),
        config,
        &options,
    )?;
    let prefix = format!("{}/", current.display());
    Ok(findings
        .into_iter()
        .map(|mut f| {
            if let Some(p) = &f.path {
                f.path = Some(p.strip_prefix(&prefix).unwrap_or(p).to_string());
            }
            f
        })
        .collect())
}

/// (path, line, column, rule) of each finding of one rule's fixture checked with that rule
/// alone, as buf would run it (strict).
pub fn rule_tuples(rule: &str) -> Vec<(Option<String>, u32, u32, &'static str)> {
    let config = format!(r#"{{"version":"v2","breaking":{{"use":["{rule}"]}}}}"#);
    check_fixture(&rule_dir(rule), Some(&config), true)
        .into_iter()
        .map(|f| {
            assert_eq!(f.severity, Severity::Error);
            let span = f.span.unwrap_or_default();
            (
                f.path,
                span.start_line.max(1),
                span.start_column.max(1),
                f.rule,
            )
        })
        .collect()
}
