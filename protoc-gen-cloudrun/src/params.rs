//! The plugin's options: `opt:` entries in `buf.gen.yaml`, `--cloudrun_opt=` for protoc, or the
//! methods of [`crate::build::Builder`]. The crate documentation lists them with their defaults.

use std::fmt;
use std::str::FromStr;

/// Option names, as written in `buf.gen.yaml` or `--cloudrun_opt`.
pub mod names {
    /// `client=true|false`: generate the tonic client and its Cloud Run constructors.
    pub const CLIENT: &str = "client";
    /// `server=true|false`: generate the tonic server and its Cloud Run entry points.
    pub const SERVER: &str = "server";
    /// `runtime_crate=PATH`: path of the runtime crate in the glue.
    pub const RUNTIME_CRATE: &str = "runtime_crate";
    /// `extern_path=.proto.path=::rust::path`: use existing Rust types for a proto package or type.
    pub const EXTERN_PATH: &str = "extern_path";
    /// `compile_well_known_types`: generate `google.protobuf` instead of using prost-types.
    pub const COMPILE_WELL_KNOWN_TYPES: &str = "compile_well_known_types";
    /// `type_attribute=.path=#[attr]`: attribute on matching messages, enums and oneofs.
    pub const TYPE_ATTRIBUTE: &str = "type_attribute";
    /// `message_attribute=.path=#[attr]`: attribute on matching messages.
    pub const MESSAGE_ATTRIBUTE: &str = "message_attribute";
    /// `enum_attribute=.path=#[attr]`: attribute on matching enums and oneofs.
    pub const ENUM_ATTRIBUTE: &str = "enum_attribute";
    /// `field_attribute=.path.field=#[attr]`: attribute on matching fields.
    pub const FIELD_ATTRIBUTE: &str = "field_attribute";
    /// `bytes=.path`: `bytes::Bytes` instead of `Vec<u8>` for matching `bytes` fields.
    pub const BYTES: &str = "bytes";
    /// `btree_map=.path`: `BTreeMap` instead of `HashMap` for matching map fields.
    pub const BTREE_MAP: &str = "btree_map";
    /// `boxed=.path.field`: `Box` matching message fields.
    pub const BOXED: &str = "boxed";
    /// `disable_comments=.path`: no doc comments for matching items.
    pub const DISABLE_COMMENTS: &str = "disable_comments";
    /// `retain_enum_prefix`: keep the enum name prefix on variant names.
    pub const RETAIN_ENUM_PREFIX: &str = "retain_enum_prefix";
    /// `enable_type_names`: implement `prost::Name` for messages.
    pub const ENABLE_TYPE_NAMES: &str = "enable_type_names";
    /// `mod_file=NAME`: name of the file that declares the module tree.
    pub const MOD_FILE: &str = "mod_file";

    /// Every option, in the order the documentation lists them.
    pub const ALL: &[&str] = &[
        CLIENT,
        SERVER,
        RUNTIME_CRATE,
        EXTERN_PATH,
        COMPILE_WELL_KNOWN_TYPES,
        TYPE_ATTRIBUTE,
        MESSAGE_ATTRIBUTE,
        ENUM_ATTRIBUTE,
        FIELD_ATTRIBUTE,
        BYTES,
        BTREE_MAP,
        BOXED,
        DISABLE_COMMENTS,
        RETAIN_ENUM_PREFIX,
        ENABLE_TYPE_NAMES,
        MOD_FILE,
    ];
}

/// The default of [`Params::runtime_crate`].
pub const DEFAULT_RUNTIME_CRATE: &str = "::cloudrun_runtime";
/// The default of [`Params::mod_file`].
pub const DEFAULT_MOD_FILE: &str = "mod.rs";

/// Typed generator options. Parse the plugin parameter with [`str::parse`], or start from
/// [`Params::default`] and set fields.
///
/// ```
/// use protoc_gen_cloudrun::Params;
///
/// let params: Params = "client=false,extern_path=.acme.money=::money".parse()?;
/// assert!(!params.client && params.server);
/// assert_eq!(params.extern_paths, [(".acme.money".to_string(), "::money".to_string())]);
/// # Ok::<(), protoc_gen_cloudrun::ParamsError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Params {
    /// Generate the tonic client and its Cloud Run constructors (`client`, default `true`).
    pub client: bool,
    /// Generate the tonic server and its Cloud Run entry points (`server`, default `true`).
    pub server: bool,
    /// Path of the runtime crate used by the glue (`runtime_crate`, default `::cloudrun_runtime`).
    pub runtime_crate: String,
    /// `(proto path, Rust path)` pairs for types that exist already (`extern_path`).
    pub extern_paths: Vec<(String, String)>,
    /// Generate `google.protobuf` types instead of using prost-types (`compile_well_known_types`).
    pub compile_well_known_types: bool,
    /// `(proto path, attribute)` for messages, enums and oneofs (`type_attribute`).
    pub type_attributes: Vec<(String, String)>,
    /// `(proto path, attribute)` for messages (`message_attribute`).
    pub message_attributes: Vec<(String, String)>,
    /// `(proto path, attribute)` for enums and oneofs (`enum_attribute`).
    pub enum_attributes: Vec<(String, String)>,
    /// `(proto path, attribute)` for fields (`field_attribute`).
    pub field_attributes: Vec<(String, String)>,
    /// Proto paths whose `bytes` fields are `bytes::Bytes` (`bytes`).
    pub bytes: Vec<String>,
    /// Proto paths whose map fields are `BTreeMap` (`btree_map`).
    pub btree_map: Vec<String>,
    /// Proto paths of message fields to box (`boxed`).
    pub boxed: Vec<String>,
    /// Proto paths whose comments are left out (`disable_comments`).
    pub disable_comments: Vec<String>,
    /// Keep enum name prefixes on variants (`retain_enum_prefix`, default `false`).
    pub retain_enum_prefix: bool,
    /// Implement `prost::Name` for messages (`enable_type_names`, default `false`).
    pub enable_type_names: bool,
    /// Name of the file declaring the module tree (`mod_file`, default `mod.rs`).
    pub mod_file: String,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            client: true,
            server: true,
            runtime_crate: DEFAULT_RUNTIME_CRATE.to_string(),
            extern_paths: Vec::new(),
            compile_well_known_types: false,
            type_attributes: Vec::new(),
            message_attributes: Vec::new(),
            enum_attributes: Vec::new(),
            field_attributes: Vec::new(),
            bytes: Vec::new(),
            btree_map: Vec::new(),
            boxed: Vec::new(),
            disable_comments: Vec::new(),
            retain_enum_prefix: false,
            enable_type_names: false,
            mod_file: DEFAULT_MOD_FILE.to_string(),
        }
    }
}

/// A plugin option that is unknown or has a value that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamsError {
    /// The option name is not one of [`names::ALL`].
    #[error("unknown option `{name}`; the options are: {}", names::ALL.join(", "))]
    Unknown {
        /// The name as given.
        name: String,
    },
    /// The option is known but its value is not usable.
    #[error("option `{name}`: {problem}")]
    Invalid {
        /// The option name.
        name: String,
        /// What is wrong with the value and what is expected.
        problem: String,
    },
}

impl ParamsError {
    fn invalid(name: &str, problem: impl Into<String>) -> Self {
        ParamsError::Invalid {
            name: name.to_string(),
            problem: problem.into(),
        }
    }
}

impl FromStr for Params {
    type Err = ParamsError;

    /// Parses a plugin parameter: comma-separated `key=value` entries, a bare key meaning `true`.
    /// Commas inside brackets or quotes belong to the value (`type_attribute=.=#[derive(Eq, Hash)]`).
    fn from_str(parameter: &str) -> Result<Self, Self::Err> {
        let mut params = Params::default();
        for entry in split_entries(parameter) {
            let entry = entry.trim();
            if entry.is_empty() {
                continue;
            }
            let (name, value) = match entry.split_once('=') {
                Some((name, value)) => (name.trim(), Some(value.trim())),
                None => (entry, None),
            };
            params.apply(name, value)?;
        }
        Ok(params)
    }
}

impl Params {
    /// Sets one option from its name and textual value (`None` for a bare key), validating it
    /// as the plugin parameter does.
    pub fn apply(&mut self, name: &str, value: Option<&str>) -> Result<(), ParamsError> {
        use names::*;
        match name {
            CLIENT => self.client = parse_bool(name, value)?,
            SERVER => self.server = parse_bool(name, value)?,
            COMPILE_WELL_KNOWN_TYPES => self.compile_well_known_types = parse_bool(name, value)?,
            RETAIN_ENUM_PREFIX => self.retain_enum_prefix = parse_bool(name, value)?,
            ENABLE_TYPE_NAMES => self.enable_type_names = parse_bool(name, value)?,
            RUNTIME_CRATE => {
                let value = required(name, value, "a Rust path such as `::cloudrun_runtime`")?;
                validate_rust_path(name, value)?;
                self.runtime_crate = value.to_string();
            }
            EXTERN_PATH => {
                let (proto, rust) = pair(name, value, "`.proto.path=::rust::path`")?;
                validate_proto_path(name, proto)?;
                validate_rust_path(name, rust)?;
                if !(rust.starts_with("::") || rust.starts_with("crate::")) {
                    return Err(ParamsError::invalid(
                        name,
                        format!(
                            "Rust path `{rust}` must be absolute, starting with `::` or `crate::`"
                        ),
                    ));
                }
                if let Some((_, previous)) = self.extern_paths.iter().find(|(p, _)| p == proto) {
                    return Err(ParamsError::invalid(
                        name,
                        format!("`{proto}` is mapped twice, to `{previous}` and to `{rust}`"),
                    ));
                }
                self.extern_paths
                    .push((proto.to_string(), rust.to_string()));
            }
            TYPE_ATTRIBUTE | MESSAGE_ATTRIBUTE | ENUM_ATTRIBUTE | FIELD_ATTRIBUTE => {
                let (path, attribute) = pair(name, value, "`.proto.path=#[attribute]`")?;
                validate_attribute(name, attribute)?;
                let list = match name {
                    TYPE_ATTRIBUTE => &mut self.type_attributes,
                    MESSAGE_ATTRIBUTE => &mut self.message_attributes,
                    ENUM_ATTRIBUTE => &mut self.enum_attributes,
                    _ => &mut self.field_attributes,
                };
                list.push((path.to_string(), attribute.to_string()));
            }
            BYTES | BTREE_MAP | BOXED | DISABLE_COMMENTS => {
                let path = required(name, value, "a proto path such as `.` or `.acme.v1.Blob`")?;
                let list = match name {
                    BYTES => &mut self.bytes,
                    BTREE_MAP => &mut self.btree_map,
                    BOXED => &mut self.boxed,
                    _ => &mut self.disable_comments,
                };
                list.push(path.to_string());
            }
            MOD_FILE => {
                let value = required(name, value, "a file name ending in `.rs`, such as `mod.rs`")?;
                let valid = value.ends_with(".rs")
                    && !value.starts_with('/')
                    && !value.contains('\\')
                    && value
                        .split('/')
                        .all(|part| !part.is_empty() && part != "..");
                if !valid {
                    return Err(ParamsError::invalid(
                        name,
                        format!(
                            "`{value}` is not a relative file name ending in `.rs`, such as `mod.rs`"
                        ),
                    ));
                }
                self.mod_file = value.to_string();
            }
            _ => {
                return Err(ParamsError::Unknown {
                    name: name.to_string(),
                });
            }
        }
        Ok(())
    }

    /// The plugin parameter that [`FromStr`] parses back into these options.
    pub fn to_parameter(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use names::*;
        let defaults = Params::default();
        let mut entries: Vec<String> = Vec::new();
        let flags = [
            (CLIENT, self.client, defaults.client),
            (SERVER, self.server, defaults.server),
            (
                COMPILE_WELL_KNOWN_TYPES,
                self.compile_well_known_types,
                defaults.compile_well_known_types,
            ),
            (
                RETAIN_ENUM_PREFIX,
                self.retain_enum_prefix,
                defaults.retain_enum_prefix,
            ),
            (
                ENABLE_TYPE_NAMES,
                self.enable_type_names,
                defaults.enable_type_names,
            ),
        ];
        for (name, value, default) in flags {
            if value != default {
                entries.push(format!("{name}={value}"));
            }
        }
        if self.runtime_crate != defaults.runtime_crate {
            entries.push(format!("{RUNTIME_CRATE}={}", self.runtime_crate));
        }
        if self.mod_file != defaults.mod_file {
            entries.push(format!("{MOD_FILE}={}", self.mod_file));
        }
        let pairs = [
            (EXTERN_PATH, &self.extern_paths),
            (TYPE_ATTRIBUTE, &self.type_attributes),
            (MESSAGE_ATTRIBUTE, &self.message_attributes),
            (ENUM_ATTRIBUTE, &self.enum_attributes),
            (FIELD_ATTRIBUTE, &self.field_attributes),
        ];
        for (name, list) in pairs {
            for (path, value) in list {
                entries.push(format!("{name}={path}={value}"));
            }
        }
        let paths = [
            (BYTES, &self.bytes),
            (BTREE_MAP, &self.btree_map),
            (BOXED, &self.boxed),
            (DISABLE_COMMENTS, &self.disable_comments),
        ];
        for (name, list) in paths {
            for path in list {
                entries.push(format!("{name}={path}"));
            }
        }
        f.write_str(&entries.join(","))
    }
}

/// Splits the parameter on commas that are not inside `()`, `[]`, `{}` or a string literal.
fn split_entries(parameter: &str) -> Vec<&str> {
    let mut entries = Vec::new();
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut start = 0;
    for (i, c) in parameter.char_indices() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                entries.push(&parameter[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    entries.push(&parameter[start..]);
    entries
}

fn parse_bool(name: &str, value: Option<&str>) -> Result<bool, ParamsError> {
    match value {
        None | Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(other) => Err(ParamsError::invalid(
            name,
            format!(
                "invalid value `{other}`; expected `true` or `false` (a bare `{name}` means `true`)"
            ),
        )),
    }
}

fn required<'a>(
    name: &str,
    value: Option<&'a str>,
    expected: &str,
) -> Result<&'a str, ParamsError> {
    match value {
        Some(value) if !value.is_empty() => Ok(value),
        _ => Err(ParamsError::invalid(
            name,
            format!("a value is required: {expected}"),
        )),
    }
}

fn pair<'a>(
    name: &str,
    value: Option<&'a str>,
    expected: &str,
) -> Result<(&'a str, &'a str), ParamsError> {
    let value = required(name, value, expected)?;
    match value.split_once('=') {
        Some((left, right)) if !left.trim().is_empty() && !right.trim().is_empty() => {
            Ok((left.trim(), right.trim()))
        }
        _ => Err(ParamsError::invalid(
            name,
            format!("invalid value `{value}`; expected {expected}"),
        )),
    }
}

fn validate_proto_path(name: &str, path: &str) -> Result<(), ParamsError> {
    let valid = path.starts_with('.')
        && path.len() > 1
        && path[1..]
            .split('.')
            .all(|part| !part.is_empty() && part.chars().all(|c| c.is_alphanumeric() || c == '_'));
    if valid {
        Ok(())
    } else {
        Err(ParamsError::invalid(
            name,
            format!(
                "`{path}` is not a fully qualified proto path such as `.acme.v1` or `.acme.v1.Money`"
            ),
        ))
    }
}

fn validate_rust_path(name: &str, path: &str) -> Result<(), ParamsError> {
    syn::parse_str::<syn::Path>(path).map(drop).map_err(|_| {
        ParamsError::invalid(
            name,
            format!("`{path}` is not a Rust path such as `::my_crate::module`"),
        )
    })
}

fn validate_attribute(name: &str, attribute: &str) -> Result<(), ParamsError> {
    // prost-build pastes attributes into the generated source, which it then parses: anything
    // that is not a sequence of attributes would make the whole package fail later, less clearly.
    let parsed = syn::parse_str::<syn::DeriveInput>(&format!("{attribute}\nstruct S;"));
    match parsed {
        Ok(item) if !item.attrs.is_empty() => Ok(()),
        _ => Err(ParamsError::invalid(
            name,
            format!("`{attribute}` is not a Rust attribute such as `#[derive(Eq, Hash)]`"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_bare_flags() {
        let params: Params = "".parse().unwrap();
        assert_eq!(params, Params::default());
        assert!(params.client && params.server && !params.compile_well_known_types);
        assert_eq!(params.runtime_crate, "::cloudrun_runtime");
        assert_eq!(params.mod_file, "mod.rs");

        let params: Params = "compile_well_known_types,server=false, client=true"
            .parse()
            .unwrap();
        assert!(params.compile_well_known_types && params.client && !params.server);
    }

    #[test]
    fn repeated_and_nested_values() {
        let params: Params = "extern_path=.a=::a,extern_path=.b.C=crate::b::C,\
            type_attribute=.=#[derive(Eq, Hash)],field_attribute=.x.Y.z=#[serde(rename = \"a,b\")],\
            bytes=.,btree_map=.x,boxed=.x.Y.z,mod_file=gen/lib.rs,runtime_crate=crate::rt"
            .parse()
            .unwrap();
        assert_eq!(
            params.extern_paths,
            [
                (".a".to_string(), "::a".to_string()),
                (".b.C".to_string(), "crate::b::C".to_string())
            ]
        );
        assert_eq!(
            params.type_attributes,
            [(".".to_string(), "#[derive(Eq, Hash)]".to_string())]
        );
        assert_eq!(
            params.field_attributes,
            [(
                ".x.Y.z".to_string(),
                "#[serde(rename = \"a,b\")]".to_string()
            )]
        );
        assert_eq!(params.bytes, ["."]);
        assert_eq!(params.btree_map, [".x"]);
        assert_eq!(params.boxed, [".x.Y.z"]);
        assert_eq!(params.mod_file, "gen/lib.rs");
        assert_eq!(params.runtime_crate, "crate::rt");
        // Display writes what FromStr reads back.
        assert_eq!(params.to_string().parse::<Params>().unwrap(), params);
    }

    #[test]
    fn errors_name_the_option_and_the_way_out() {
        let cases = [
            (
                "colour=red",
                "unknown option `colour`; the options are: client, server, runtime_crate, \
                 extern_path, compile_well_known_types, type_attribute, message_attribute, \
                 enum_attribute, field_attribute, bytes, btree_map, boxed, disable_comments, \
                 retain_enum_prefix, enable_type_names, mod_file",
            ),
            (
                "client=maybe",
                "option `client`: invalid value `maybe`; expected `true` or `false` \
                 (a bare `client` means `true`)",
            ),
            (
                "extern_path=acme=::acme",
                "option `extern_path`: `acme` is not a fully qualified proto path such as \
                 `.acme.v1` or `.acme.v1.Money`",
            ),
            (
                "extern_path=.acme",
                "option `extern_path`: invalid value `.acme`; expected `.proto.path=::rust::path`",
            ),
            (
                "extern_path=.acme=acme::v1",
                "option `extern_path`: Rust path `acme::v1` must be absolute, starting with `::` \
                 or `crate::`",
            ),
            (
                "extern_path=.a=::a,extern_path=.a=::b",
                "option `extern_path`: `.a` is mapped twice, to `::a` and to `::b`",
            ),
            (
                "runtime_crate=not a path",
                "option `runtime_crate`: `not a path` is not a Rust path such as `::my_crate::module`",
            ),
            (
                "runtime_crate",
                "option `runtime_crate`: a value is required: a Rust path such as `::cloudrun_runtime`",
            ),
            (
                "type_attribute=.=derive(Eq)",
                "option `type_attribute`: `derive(Eq)` is not a Rust attribute such as \
                 `#[derive(Eq, Hash)]`",
            ),
            (
                "mod_file=../mod.rs",
                "option `mod_file`: `../mod.rs` is not a relative file name ending in `.rs`, \
                 such as `mod.rs`",
            ),
        ];
        for (parameter, expected) in cases {
            let error = parameter.parse::<Params>().unwrap_err();
            assert_eq!(error.to_string(), expected, "parameter {parameter:?}");
        }
    }
}
