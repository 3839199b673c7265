//! The deprecation policy (the default; `--strict` turns it off): deleting something
//! deprecated in the previous version is a notice, fields and enum values only once both their
//! number and name are reserved; otherwise the error says what to reserve.

#[path = "breaking_common/mod.rs"]
mod common;

use std::process::Command;

use common::{check_fixture, fixtures, run_buf};
use protoc_gen_cloudrun::breaking::{ErrorFormat, Severity, render};

fn summary(dir: &str, strict: bool) -> Vec<(String, u32, Severity, String)> {
    check_fixture(&fixtures().join(dir), None, strict)
        .into_iter()
        .map(|f| {
            let line = f.span.map(|s| s.start_line).unwrap_or(1);
            (f.rule.to_string(), line, f.severity, f.message)
        })
        .collect()
}

const ALLOWED: &str = " It was deprecated, so the deletion is allowed.";
const RESERVED: &str = " It was deprecated and is reserved, so the deletion is allowed.";

#[test]
fn deletions_of_deprecated_elements_follow_the_policy() {
    use Severity::{Error, Notice};
    let expected: Vec<(&str, u32, Severity, String)> = vec![
        ("FILE_NO_DELETE", 1, Notice, format!("Previously present file \"all_deprecated.proto\" was deleted.{ALLOWED}")),
        ("FILE_NO_DELETE", 1, Notice, format!("Previously present file \"old.proto\" was deleted.{ALLOWED}")),
        ("FILE_NO_DELETE", 1, Error, "Previously present file \"plain.proto\" was deleted.".into()),
        ("ENUM_NO_DELETE", 1, Notice, format!("Previously present enum \"OldEnum\" was deleted from file.{ALLOWED}")),
        ("MESSAGE_NO_DELETE", 1, Notice, format!("Previously present message \"Gone\" was deleted from file.{ALLOWED}")),
        ("MESSAGE_NO_DELETE", 1, Error, "Previously present message \"GoneNotDeprecated\" was deleted from file.".into()),
        ("SERVICE_NO_DELETE", 1, Notice, format!("Previously present service \"OldSvc\" was deleted from file.{ALLOWED}")),
        ("FIELD_NO_DELETE", 4, Notice, format!("Previously present field \"2\" with name \"fully_reserved\" on message \"Kept\" was deleted.{RESERVED}")),
        ("FIELD_NO_DELETE", 4, Error, "Previously present field \"3\" with name \"number_only\" on message \"Kept\" was deleted. It was deprecated, so it may be deleted once reserved: reserve \"number_only\".".into()),
        ("FIELD_NO_DELETE", 4, Error, "Previously present field \"4\" with name \"name_only\" on message \"Kept\" was deleted. It was deprecated, so it may be deleted once reserved: reserve 4.".into()),
        ("FIELD_NO_DELETE", 4, Error, "Previously present field \"5\" with name \"nothing\" on message \"Kept\" was deleted. It was deprecated, so it may be deleted once reserved: reserve 5 and \"nothing\".".into()),
        ("FIELD_NO_DELETE", 4, Error, "Previously present field \"6\" with name \"not_deprecated\" on message \"Kept\" was deleted.".into()),
        ("FIELD_NO_DELETE", 4, Notice, format!("Previously present field \"8\" with name \"x\" on message \"Kept\" was deleted.{RESERVED}")),
        ("FIELD_NO_DELETE", 4, Notice, format!("Previously present field \"9\" with name \"y\" on message \"Kept\" was deleted.{RESERVED}")),
        ("ONEOF_NO_DELETE", 4, Notice, format!("Previously present oneof \"choice\" on message \"Kept\" was deleted.{ALLOWED}")),
        // A deprecated field that changes is still breaking.
        ("FIELD_SAME_TYPE", 8, Error, "Field \"7\" with name \"changes_type\" on message \"Kept\" changed type from \"int32\" to \"string\".".into()),
        // Deprecation is inherited from the enclosing message.
        ("FIELD_NO_DELETE", 11, Error, "Previously present field \"1\" with name \"inherited\" on message \"Parent\" was deleted. It was deprecated, so it may be deleted once reserved: reserve 1 and \"inherited\".".into()),
        ("MESSAGE_NO_DELETE", 11, Notice, format!("Previously present message \"Parent.Child\" was deleted from file.{ALLOWED}")),
        ("ENUM_VALUE_NO_DELETE", 15, Notice, format!("Previously present enum value \"1\" on enum \"Color\" was deleted.{RESERVED}")),
        ("ENUM_VALUE_NO_DELETE", 15, Error, "Previously present enum value \"2\" on enum \"Color\" was deleted. It was deprecated, so it may be deleted once reserved: reserve 2 and \"COLOR_BLUE\".".into()),
        ("RPC_NO_DELETE", 21, Error, "Previously present RPC \"Current\" on service \"Svc\" was deleted.".into()),
        ("RPC_NO_DELETE", 21, Notice, format!("Previously present RPC \"Old\" on service \"Svc\" was deleted.{ALLOWED}")),
    ];
    let expected: Vec<(String, u32, Severity, String)> = expected
        .into_iter()
        .map(|(r, l, s, m)| (r.to_string(), l, s, m))
        .collect();
    assert_eq!(summary("deprecation", false), expected);
}

#[test]
fn strict_mode_is_exactly_buf() {
    let dir = fixtures().join("deprecation");
    let findings = check_fixture(&dir, None, true);
    assert!(findings.iter().all(|f| f.severity == Severity::Error));
    let (buf_out, _, buf_code) = run_buf(
        &dir.join("current"),
        &[
            "breaking",
            ".",
            "--against",
            "../previous",
            "--error-format",
            "json",
        ],
    );
    assert_eq!(buf_code, 100);
    assert_eq!(render(&findings, ErrorFormat::Json), buf_out);
}

#[test]
fn allowed_deletions_alone_pass_and_are_reported_as_notices() {
    let findings = summary("deprecation_allowed", false);
    assert_eq!(findings.len(), 4, "{findings:#?}");
    assert!(
        findings.iter().all(|f| f.2 == Severity::Notice),
        "{findings:#?}"
    );

    let dir = fixtures().join("deprecation_allowed");
    let run = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_protoc-gen-cloudrun"))
            .args(["breaking", "current", "--against", "previous"])
            .args(extra)
            .current_dir(&dir)
            .output()
            .expect("binary runs")
    };
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines().all(|l| l.contains(":notice: ")),
        "every line is a notice:\n{text}"
    );
    let out = run(&["--error-format", "json"]);
    let json = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        json.matches(r#","severity":"notice"}"#).count(),
        4,
        "{json}"
    );
    let out = run(&["--error-format", "github-actions"]);
    let gha = String::from_utf8_lossy(&out.stdout);
    assert!(
        gha.lines()
            .all(|l| l.starts_with("::notice file=current/a.proto,")),
        "{gha}"
    );
    // --strict: buf's behaviour, these are breaking changes.
    let out = run(&["--strict"]);
    assert_eq!(out.status.code(), Some(100));
}
