//! Rust identifiers for proto names, computed exactly as prost-build and tonic-build compute them.
//!
//! The glue refers to items that prost-build and tonic-build generate (`product_catalog_server`,
//! `ProductCatalogServer`, ...), so it must spell their names the way they do: prost-build's
//! `ident.rs` rules for keywords and case, tonic-build's `naive_snake_case` for service modules.
//! Both crates keep those functions private, hence this copy, pinned by table-driven tests.

use heck::{ToSnakeCase, ToUpperCamelCase};

/// Makes `ident` usable as a Rust identifier, like prost-build's `sanitize_identifier`: keywords
/// become raw identifiers, the few that cannot be raw get a trailing `_`, and a leading digit gets
/// a leading `_`.
pub fn sanitize(ident: &str) -> String {
    match ident {
        // Strict and reserved keywords of editions 2015 to 2024.
        "as" | "break" | "const" | "continue" | "else" | "enum" | "false" | "fn" | "for" | "if"
        | "impl" | "in" | "let" | "loop" | "match" | "mod" | "move" | "mut" | "pub" | "ref"
        | "return" | "static" | "struct" | "trait" | "true" | "type" | "unsafe" | "use"
        | "where" | "while" | "dyn" | "abstract" | "become" | "box" | "do" | "final" | "macro"
        | "override" | "priv" | "typeof" | "unsized" | "virtual" | "yield" | "async" | "await"
        | "try" | "gen" => format!("r#{ident}"),
        // Not allowed as raw identifiers.
        "_" | "super" | "self" | "Self" | "extern" | "crate" => format!("{ident}_"),
        s if s.starts_with(|c: char| c.is_numeric()) => format!("_{ident}"),
        _ => ident.to_string(),
    }
}

/// `lower_snake` Rust name of a proto name (fields, methods, package components), as prost-build.
pub fn to_snake(name: &str) -> String {
    sanitize(&name.to_snake_case())
}

/// `UpperCamel` Rust name of a proto name (messages, enums, services), as prost-build.
pub fn to_upper_camel(name: &str) -> String {
    sanitize(&name.to_upper_camel_case())
}

/// tonic-build's snake case for service modules (`ProductCatalog` -> `product_catalog`): every
/// uppercase letter that follows another character starts a new word, so `HTTPProxy` becomes
/// `h_t_t_p_proxy`. Not heck's rules; the names must match what tonic-build generates.
pub fn tonic_snake(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let mut chars = name.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c.to_ascii_lowercase());
        if chars.peek().is_some_and(|next| next.is_uppercase()) {
            out.push('_');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_follows_prost_build() {
        for (input, expected) in [
            ("type", "r#type"),
            ("match", "r#match"),
            ("async", "r#async"),
            ("gen", "r#gen"),
            ("self", "self_"),
            ("Self", "Self_"),
            ("super", "super_"),
            ("crate", "crate_"),
            ("_", "__"),
            ("1st", "_1st"),
            ("plain", "plain"),
        ] {
            assert_eq!(sanitize(input), expected, "sanitize({input:?})");
        }
    }

    #[test]
    fn case_conversions_follow_prost_build() {
        for (input, snake, camel) in [
            ("GetProduct", "get_product", "GetProduct"),
            ("get_product", "get_product", "GetProduct"),
            ("HTTPRule", "http_rule", "HttpRule"),
            ("type", "r#type", "Type"),
            ("Self", "self_", "Self_"),
            ("Serve", "serve", "Serve"),
            ("v1beta1", "v1beta1", "V1beta1"),
        ] {
            assert_eq!(to_snake(input), snake, "to_snake({input:?})");
            assert_eq!(to_upper_camel(input), camel, "to_upper_camel({input:?})");
        }
    }

    #[test]
    fn tonic_snake_follows_tonic_build() {
        for (input, expected) in [
            ("ProductCatalog", "product_catalog"),
            ("Server", "server"),
            ("HttpProxy", "http_proxy"),
            ("HTTPProxy", "h_t_t_p_proxy"),
            ("Self_", "self_"),
            ("V1", "v1"),
        ] {
            assert_eq!(tonic_snake(input), expected, "tonic_snake({input:?})");
        }
    }
}
