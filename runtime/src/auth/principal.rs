//! Principals in allow-lists, and matching them and required claims against a caller.

use serde_json::Value;

use super::Caller;

/// One allowed principal, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Principal {
    /// An email, lowercased.
    Email(String),
    /// Every email `@` this domain, lowercased.
    Domain(String),
    /// A `sub` claim.
    Subject(String),
}

const EXPECTED: &str = "is not a principal: expected an email (alice@example.com), user:EMAIL, \
                        serviceAccount:EMAIL, domain:example.com or subject:SUB";

impl Principal {
    /// Parses the syntax [`MethodAuth`](crate::MethodAuth) documents; the error says what is
    /// expected.
    pub(crate) fn parse(text: &str) -> Result<Principal, &'static str> {
        if text.trim() != text || text.is_empty() {
            return Err(EXPECTED);
        }
        let (kind, value) = match text.split_once(':') {
            Some((kind, value)) => (Some(kind), value),
            None => (None, text),
        };
        let is_email = |value: &str| {
            value
                .split_once('@')
                .is_some_and(|(user, domain)| !user.is_empty() && domain.contains('.'))
        };
        match kind {
            None | Some("user") | Some("serviceAccount") if is_email(value) => {
                Ok(Principal::Email(value.to_ascii_lowercase()))
            }
            Some("domain") if !value.is_empty() && !value.contains('@') => {
                Ok(Principal::Domain(value.to_ascii_lowercase()))
            }
            Some("subject") if !value.is_empty() => Ok(Principal::Subject(value.to_owned())),
            _ => Err(EXPECTED),
        }
    }

    /// Whether `caller` is this principal. Emails count only when the issuer did not say they
    /// are unverified.
    pub(crate) fn matches(&self, caller: &Caller) -> bool {
        let email = caller
            .email()
            .filter(|_| caller.email_verified() != Some(false))
            .map(str::to_ascii_lowercase);
        match self {
            Principal::Email(expected) => email.as_deref() == Some(expected.as_str()),
            Principal::Domain(domain) => email.as_deref().is_some_and(|email| {
                email
                    .rsplit_once('@')
                    .is_some_and(|(_, email_domain)| email_domain == domain)
            }),
            Principal::Subject(subject) => caller.subject() == subject,
        }
    }
}

/// Whether the caller's claim `name` has `value`: equal to a string claim, contained in an
/// array claim, or the text of a number or boolean claim.
pub(crate) fn has_claim(caller: &Caller, name: &str, value: &str) -> bool {
    fn matches(claim: &Value, value: &str) -> bool {
        match claim {
            Value::String(text) => text == value,
            Value::Bool(flag) => flag.to_string() == value,
            Value::Number(number) => number.to_string() == value,
            Value::Array(items) => items.iter().any(|item| matches(item, value)),
            Value::Null | Value::Object(_) => false,
        }
    }
    caller
        .claim(name)
        .is_some_and(|claim| matches(claim, value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::CallerData;
    use serde_json::json;

    fn caller(email: Option<&str>, verified: Option<bool>, claims: Value) -> Caller {
        Caller::new(CallerData {
            principal: email.unwrap_or("subject:42").to_owned(),
            subject: "42".to_owned(),
            email: email.map(str::to_owned),
            email_verified: verified,
            issuer: None,
            audiences: Vec::new(),
            expires_at: None,
            claims: claims
                .as_object()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .collect(),
        })
    }

    #[test]
    fn principals_parse_in_every_documented_form() {
        assert_eq!(
            Principal::parse("Alice@Example.com"),
            Ok(Principal::Email("alice@example.com".into()))
        );
        assert_eq!(
            Principal::parse("serviceAccount:sa@p.iam.gserviceaccount.com"),
            Ok(Principal::Email("sa@p.iam.gserviceaccount.com".into()))
        );
        assert_eq!(
            Principal::parse("user:bob@example.com"),
            Ok(Principal::Email("bob@example.com".into()))
        );
        assert_eq!(
            Principal::parse("domain:Example.com"),
            Ok(Principal::Domain("example.com".into()))
        );
        assert_eq!(
            Principal::parse("subject:123"),
            Ok(Principal::Subject("123".into()))
        );
        for bad in [
            "",
            "ops",
            " a@b.c",
            "group:a@b.c",
            "domain:",
            "subject:",
            "user:bob",
        ] {
            assert_eq!(Principal::parse(bad), Err(EXPECTED), "{bad:?}");
        }
    }

    #[test]
    fn emails_domains_and_subjects_match_verified_callers() {
        let alice = caller(Some("Alice@Example.com"), Some(true), json!({}));
        assert!(
            Principal::parse("alice@example.com")
                .unwrap()
                .matches(&alice)
        );
        assert!(
            Principal::parse("domain:example.com")
                .unwrap()
                .matches(&alice)
        );
        assert!(
            !Principal::parse("domain:ample.com")
                .unwrap()
                .matches(&alice)
        );
        assert!(Principal::parse("subject:42").unwrap().matches(&alice));
        assert!(!Principal::parse("bob@example.com").unwrap().matches(&alice));

        let unverified = caller(Some("alice@example.com"), Some(false), json!({}));
        assert!(
            !Principal::parse("alice@example.com")
                .unwrap()
                .matches(&unverified)
        );
        assert!(
            !Principal::parse("domain:example.com")
                .unwrap()
                .matches(&unverified)
        );

        let no_email = caller(None, None, json!({}));
        assert!(
            !Principal::parse("domain:example.com")
                .unwrap()
                .matches(&no_email)
        );
    }

    #[test]
    fn claims_match_strings_arrays_numbers_and_booleans() {
        let c = caller(
            None,
            None,
            json!({"hd": "example.com", "groups": ["a", "b"], "level": 3, "admin": true, "o": {}}),
        );
        assert!(has_claim(&c, "hd", "example.com"));
        assert!(!has_claim(&c, "hd", "example.org"));
        assert!(has_claim(&c, "groups", "b"));
        assert!(!has_claim(&c, "groups", "c"));
        assert!(has_claim(&c, "level", "3"));
        assert!(has_claim(&c, "admin", "true"));
        assert!(!has_claim(&c, "o", "{}"));
        assert!(!has_claim(&c, "missing", "x"));
    }
}
