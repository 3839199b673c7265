//! The deprecation policy: which deletions of deprecated elements are allowed, and what to tell
//! the user when one is not yet. See the module documentation of [`crate::breaking`].

use super::finding::{Deleted, RawFinding, Severity};
use super::gofmt::{join_quoted, quote};

/// Decides the severity of a finding and amends its message when the deprecation policy
/// applies. Findings that are not deletions of deprecated elements stay errors, unchanged.
pub(crate) fn apply(finding: &mut RawFinding) -> Severity {
    let Some(deletion) = &finding.deletion else {
        return Severity::Error;
    };
    if !deletion.deprecated {
        return Severity::Error;
    }
    match &deletion.what {
        Deleted::Element => {
            finding
                .message
                .push_str(" It was deprecated, so the deletion is allowed.");
            Severity::Notice
        }
        Deleted::Field {
            number,
            name,
            number_reserved,
            name_reserved,
        } => reserved_or_not(
            &mut finding.message,
            *number,
            &[name.as_str()],
            *number_reserved,
            *name_reserved,
        ),
        Deleted::EnumValue {
            number,
            names,
            number_reserved,
            names_reserved,
        } => reserved_or_not(
            &mut finding.message,
            *number,
            &names.iter().map(String::as_str).collect::<Vec<_>>(),
            *number_reserved,
            *names_reserved,
        ),
    }
}

/// Fields and enum values may go only once both their number and name are reserved, so that
/// neither can be reused with another meaning; otherwise say exactly what is missing.
fn reserved_or_not(
    message: &mut String,
    number: i32,
    names: &[&str],
    number_reserved: bool,
    names_reserved: bool,
) -> Severity {
    if number_reserved && names_reserved {
        message.push_str(" It was deprecated and is reserved, so the deletion is allowed.");
        return Severity::Notice;
    }
    let quoted = if names.len() == 1 {
        quote(names[0])
    } else {
        join_quoted(names.iter().copied(), ", ")
    };
    let missing = match (number_reserved, names_reserved) {
        (false, false) => format!("{number} and {quoted}"),
        (false, true) => number.to_string(),
        _ => quoted,
    };
    message.push_str(&format!(
        " It was deprecated, so it may be deleted once reserved: reserve {missing}."
    ));
    Severity::Error
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::breaking::finding::Deletion;

    fn field(deprecated: bool, number_reserved: bool, name_reserved: bool) -> RawFinding {
        RawFinding {
            rule: "FIELD_NO_DELETE",
            loc: None,
            against_file: None,
            message: "Gone.".into(),
            deletion: Some(Deletion {
                what: Deleted::Field {
                    number: 3,
                    name: "foo".into(),
                    number_reserved,
                    name_reserved,
                },
                deprecated,
            }),
        }
    }

    #[test]
    fn says_what_to_reserve() {
        let mut f = field(true, false, false);
        assert_eq!(apply(&mut f), Severity::Error);
        assert!(
            f.message.ends_with(r#"reserve 3 and "foo"."#),
            "{}",
            f.message
        );
        let mut f = field(true, true, false);
        assert_eq!(apply(&mut f), Severity::Error);
        assert!(f.message.ends_with(r#"reserve "foo"."#), "{}", f.message);
        let mut f = field(true, false, true);
        assert_eq!(apply(&mut f), Severity::Error);
        assert!(f.message.ends_with("reserve 3."), "{}", f.message);
        let mut f = field(true, true, true);
        assert_eq!(apply(&mut f), Severity::Notice);
        let mut f = field(false, true, true);
        assert_eq!(apply(&mut f), Severity::Error);
        assert_eq!(f.message, "Gone.");
    }
}
