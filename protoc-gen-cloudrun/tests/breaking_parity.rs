//! Parity with the pinned buf: every fixture under `tests/breaking/{rules,scenarios}` is
//! checked by buf and by us, in each category and with buf's no-config (v1) defaults, and the
//! JSON output must be byte-for-byte equal, exit status included. Text and github-actions
//! output are compared too. Fails loudly when buf is missing (run scripts/setup.sh).

mod common;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use common::{check_fixture, fixtures, run_buf};
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
    let findings = check_fixture(dir, config, true);
    let ours = render(&findings, format);
    let our_code = if findings.iter().any(|f| f.severity == Severity::Error) {
        100
    } else {
        0
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
