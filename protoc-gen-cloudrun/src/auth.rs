//! Caller rules declared with the options of `cloudrun/auth.proto` (shipped as [`AUTH_PROTO`]),
//! read from the descriptors' bytes: prost-types drops extension fields when it decodes, so the
//! few fields needed here are decoded from the bytes protoc sent with messages of their own.

use prost::Message;

use crate::Error;

/// `cloudrun/auth.proto`: the options users import to declare who may call a method.
pub const AUTH_PROTO: &str = include_str!("../proto/cloudrun/auth.proto");
/// Its file name, as imports spell it.
pub const AUTH_PROTO_NAME: &str = "cloudrun/auth.proto";
/// Its package, for which no code is generated (the runtime holds the rules).
pub const AUTH_PACKAGE: &str = "cloudrun.auth";

/// `(cloudrun.auth.method)`; the tag of `RawMethodOptions::rule` (a test checks the file).
#[cfg(test)]
const METHOD_EXTENSION: u32 = 58301;
/// `(cloudrun.auth.service)`; the tag of `RawServiceOptions::rule`.
#[cfg(test)]
const SERVICE_EXTENSION: u32 = 58302;

/// A caller rule, as declared.
#[derive(Clone, PartialEq, Eq, Message)]
pub struct Rule {
    /// Callers without a token are let in.
    #[prost(bool, tag = "1")]
    pub allow_unauthenticated: bool,
    /// Principals allowed; empty means any verified caller.
    #[prost(string, repeated, tag = "2")]
    pub allowed_principals: Vec<String>,
    /// Claims required.
    #[prost(message, repeated, tag = "3")]
    pub required_claims: Vec<Claim>,
}

/// A required claim.
#[derive(Clone, PartialEq, Eq, Message)]
pub struct Claim {
    /// The claim's name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// The value it must have.
    #[prost(string, tag = "2")]
    pub value: String,
}

// Only the fields on the way from a file to its rules; prost skips everything else.

#[derive(Clone, PartialEq, Message)]
struct RawFile {
    #[prost(message, repeated, tag = "6")]
    service: Vec<RawService>,
}

#[derive(Clone, PartialEq, Message)]
struct RawService {
    #[prost(string, optional, tag = "1")]
    name: Option<String>,
    #[prost(message, repeated, tag = "2")]
    method: Vec<RawMethod>,
    #[prost(message, optional, tag = "3")]
    options: Option<RawServiceOptions>,
}

#[derive(Clone, PartialEq, Message)]
struct RawMethod {
    #[prost(string, optional, tag = "1")]
    name: Option<String>,
    #[prost(message, optional, tag = "4")]
    options: Option<RawMethodOptions>,
}

#[derive(Clone, PartialEq, Message)]
struct RawServiceOptions {
    #[prost(message, optional, tag = "58302")]
    rule: Option<Rule>,
}

#[derive(Clone, PartialEq, Message)]
struct RawMethodOptions {
    #[prost(message, optional, tag = "58301")]
    rule: Option<Rule>,
}

/// The rule of every method of every service of a file, in declaration order: the method's own
/// rule, else its service's, else `None`.
pub fn method_rules(file_name: &str, encoded: &[u8]) -> Result<Vec<Vec<Option<Rule>>>, Error> {
    let file = RawFile::decode(encoded).map_err(|e| Error::AuthRule {
        file: file_name.to_owned(),
        target: "the file".to_owned(),
        problem: format!("its descriptor cannot be read for (cloudrun.auth.*) options: {e}"),
    })?;
    let mut rules = Vec::with_capacity(file.service.len());
    for service in file.service {
        let service_name = service.name.clone().unwrap_or_default();
        let service_rule = service.options.and_then(|o| o.rule);
        if let Some(rule) = &service_rule {
            check(
                rule,
                file_name,
                &format!("service `{service_name}`"),
                "service",
            )?;
        }
        let mut methods = Vec::with_capacity(service.method.len());
        for method in service.method {
            let method_rule = method.options.and_then(|o| o.rule);
            if let Some(rule) = &method_rule {
                let target = format!(
                    "method `{service_name}.{}`",
                    method.name.as_deref().unwrap_or_default()
                );
                check(rule, file_name, &target, "method")?;
            }
            methods.push(method_rule.or_else(|| service_rule.clone()));
        }
        rules.push(methods);
    }
    Ok(rules)
}

/// Rejects principals and claims the runtime could never match, naming the option and value.
fn check(rule: &Rule, file: &str, target: &str, option: &str) -> Result<(), Error> {
    let fail = |problem: String| Error::AuthRule {
        file: file.to_owned(),
        target: target.to_owned(),
        problem: format!("(cloudrun.auth.{option}) {problem}"),
    };
    for principal in &rule.allowed_principals {
        if let Err(problem) = check_principal(principal) {
            return Err(fail(format!(
                "allowed_principals entry {principal:?} {problem}"
            )));
        }
    }
    for claim in &rule.required_claims {
        if claim.name.trim().is_empty() {
            return Err(fail(format!(
                "required_claims entry with value {:?} has no name; name the claim, e.g. \
                 {{ name: \"hd\" value: \"example.com\" }}",
                claim.value
            )));
        }
    }
    Ok(())
}

/// Checks one principal's syntax (the runtime's `MethodAuth` documents it).
pub fn check_principal(principal: &str) -> Result<(), String> {
    let expected = "is not a principal: expected an email (alice@example.com), \
                    user:EMAIL, serviceAccount:EMAIL, domain:example.com or subject:SUB";
    if principal.trim() != principal || principal.is_empty() {
        return Err(format!("{expected} (without surrounding spaces)"));
    }
    let (kind, value) = match principal.split_once(':') {
        Some((kind, value)) => (Some(kind), value),
        None => (None, principal),
    };
    let email = |value: &str| {
        value
            .split_once('@')
            .is_some_and(|(user, domain)| !user.is_empty() && domain.contains('.'))
    };
    let ok = match kind {
        None | Some("user") | Some("serviceAccount") => email(value),
        Some("domain") => !value.is_empty() && !value.contains('@'),
        Some("subject") => !value.is_empty(),
        Some(_) => false,
    };
    if ok { Ok(()) } else { Err(expected.to_owned()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principals_are_checked_for_the_forms_the_runtime_matches() {
        for good in [
            "alice@example.com",
            "user:alice@example.com",
            "serviceAccount:sa@p.iam.gserviceaccount.com",
            "domain:example.com",
            "subject:1234",
        ] {
            assert_eq!(check_principal(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "alice",
            " alice@example.com",
            "group:devs@example.com",
            "domain:",
            "domain:a@b.c",
            "subject:",
            "user:alice",
            "@example.com",
        ] {
            assert!(check_principal(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_shipped_file_declares_the_extension_numbers_read_here() {
        assert!(AUTH_PROTO.contains(&format!("Rule method = {METHOD_EXTENSION};")));
        assert!(AUTH_PROTO.contains(&format!("Rule service = {SERVICE_EXTENSION};")));
        assert!(AUTH_PROTO.contains(&format!("package {AUTH_PACKAGE};")));
    }
}
