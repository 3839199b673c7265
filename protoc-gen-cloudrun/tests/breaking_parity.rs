//! Parity with the pinned buf: every fixture under `tests/breaking/{rules,scenarios}` is
//! checked by buf and by us, in each category and with buf's no-config (v1) defaults, and the
//! JSON output must be byte-for-byte equal, exit status included. Text and github-actions
//! output are compared too. Fails loudly when buf is missing (run scripts/setup.sh).

#[path = "breaking_common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use common::{fixtures, run_buf, try_check_fixture};
use protoc_gen_cloudrun::breaking::{ErrorFormat, Severity, render};

/// Every fixture directory (one holding previous/ and current/).
fn fixture_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    for group in ["rules", "scenarios"] {
        let Ok(entries) = std::fs::read_dir(fixtures().join(group)) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("readable fixture dir").path();
            if path.join("current").is_dir() && path.join("previous").is_dir() {
                dirs.push(path);
            }
        }
    }
    dirs.sort();
    assert!(dirs.len() >= 64, "expected at least one fixture per rule");
    dirs
}

fn config_for(category_or_rule: &str) -> String {
    format!(r#"{{"version":"v2","breaking":{{"use":["{category_or_rule}"]}}}}"#)
}

/// Compares one fixture under one configuration; returns a description of any mismatch.
fn compare(dir: &Path, config: Option<&str>, format: ErrorFormat) -> Option<String> {
    let format_flag = match format {
        ErrorFormat::Text => "text",
        ErrorFormat::Json => "json",
        ErrorFormat::GithubActions => "github-actions",
    };
    let mut args = vec![
        "breaking",
        ".",
        "--against",
        "../previous",
        "--error-format",
        format_flag,
    ];
    if let Some(c) = config {
        args.extend(["--config", c]);
    }
    let (buf_out, buf_err, buf_code) = run_buf(&dir.join("current"), &args);
    // Both may refuse an input (then only the exit code is compared: messages are our own).
    let (ours, our_code) = match try_check_fixture(dir, config, true) {
        Ok(findings) => {
            let failed = findings.iter().any(|f| f.severity == Severity::Error);
            (render(&findings, format), if failed { 100 } else { 0 })
        }
        Err(e) => (format!("error: {e}\n"), 1),
    };
    let ours = if our_code == 1 && buf_code == 1 {
        buf_out.clone()
    } else {
        ours
    };
    if ours != buf_out || our_code != buf_code {
        return Some(format!(
            "{} with config {:?} ({format_flag}):\n--- buf (exit {buf_code}) ---\n{buf_out}{buf_err}--- ours (exit {our_code}) ---\n{ours}",
            dir.display(),
            config
        ));
    }
    None
}

#[test]
fn findings_match_buf_for_every_fixture_category_and_format() {
    let dirs = fixture_dirs();
    let mut jobs: Vec<(PathBuf, Option<String>, ErrorFormat)> = Vec::new();
    for dir in &dirs {
        let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if dir.parent().is_some_and(|p| p.ends_with("rules")) {
            jobs.push((dir.clone(), Some(config_for(name)), ErrorFormat::Json));
        }
        for category in ["FILE", "PACKAGE", "WIRE_JSON", "WIRE", "CSR"] {
            jobs.push((dir.clone(), Some(config_for(category)), ErrorFormat::Json));
        }
        // No configuration at all: buf's v1 defaults.
        jobs.push((dir.clone(), None, ErrorFormat::Json));
        jobs.push((dir.clone(), Some(config_for("PACKAGE")), ErrorFormat::Text));
        jobs.push((
            dir.clone(),
            Some(config_for("PACKAGE")),
            ErrorFormat::GithubActions,
        ));
    }
    let jobs = Mutex::new(jobs);
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                loop {
                    let Some((dir, config, format)) = jobs.lock().unwrap().pop() else {
                        break;
                    };
                    if let Some(diff) = compare(&dir, config.as_deref(), format) {
                        failures.lock().unwrap().push(diff);
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{} mismatches with buf:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Builds `dir/{previous,current}` into images with the pinned buf (with or without source
/// info) and compares buf's and our findings on the images in every category.
fn compare_images(dir: &Path, source_info: bool) -> Vec<String> {
    let tmp = tempfile::tempdir().expect("temp dir");
    for side in ["previous", "current"] {
        let out = tmp.path().join(format!("{side}.binpb"));
        let mut args = vec![
            "build".to_string(),
            dir.join(side).display().to_string(),
            "-o".to_string(),
            out.display().to_string(),
        ];
        if !source_info {
            args.push("--exclude-source-info".into());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (_, err, code) = run_buf(tmp.path(), &args);
        assert_eq!(code, 0, "buf build {side} failed: {err}");
    }
    let mut failures = Vec::new();
    for category in ["FILE", "PACKAGE", "WIRE_JSON", "WIRE", "CSR"] {
        let config = config_for(category);
        let (buf_out, buf_err, buf_code) = run_buf(
            tmp.path(),
            &[
                "breaking",
                "current.binpb",
                "--against",
                "previous.binpb",
                "--config",
                &config,
                "--error-format",
                "json",
            ],
        );
        let options = protoc_gen_cloudrun::breaking::CheckOptions {
            strict: true,
            exclude_imports: false,
        };
        let cur = tmp.path().join("current.binpb");
        let prev = tmp.path().join("previous.binpb");
        let findings = protoc_gen_cloudrun::breaking::check_inputs(
            cur.to_str().unwrap(),
            prev.to_str().unwrap(),
            Some(&config),
            &options,
        )
        .expect("images load");
        let ours = render(&findings, ErrorFormat::Json);
        let our_code = if findings.is_empty() { 0 } else { 100 };
        if ours != buf_out || our_code != buf_code {
            failures.push(format!(
                "{} images (source info: {source_info}), {category}:\n--- buf (exit {buf_code}) ---\n{buf_out}{buf_err}--- ours ---\n{ours}",
                dir.display()
            ));
        }
    }
    failures
}

#[test]
fn image_findings_match_buf_with_editions_and_without_source_info() {
    let mut failures = Vec::new();
    let dirs = [
        fixtures().join("editions"),
        fixtures().join("scenarios/formatting"),
        fixtures().join("rules/FIELD_SAME_TYPE"),
        fixtures().join("rules/MESSAGE_NO_DELETE"),
        fixtures().join("rules/FIELD_SAME_DEFAULT"),
        fixtures().join("rules/PACKAGE_EXTENSION_NO_DELETE"),
    ];
    for dir in &dirs {
        for source_info in [true, false] {
            failures.extend(compare_images(dir, source_info));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
