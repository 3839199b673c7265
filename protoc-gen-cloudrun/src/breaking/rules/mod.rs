//! buf's breaking rules as data: an ID, a purpose, the categories it belongs to (per buf.yaml
//! version), and one handler that judges one matched (previous, current) pair.
//!
//! Matching previous elements to current ones lives in the engine; a handler only sees a
//! pair and reports what changed, in buf's words, at the element buf points at.

mod deletes;
mod enums;
mod fields;
mod files;
mod messages;
mod services;

use super::finding::{Loc, Sink};
use super::model::{FieldView, Index};

/// A rule category, as named in buf.yaml's `use` and `except`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    /// Changes that break generated code per file (buf's default).
    File,
    /// Changes that break generated code per package.
    Package,
    /// Changes that break the wire format or JSON.
    WireJson,
    /// Changes that break the wire format.
    Wire,
    /// Changes that break generated code as used by clients and servers (buf.yaml v2 only).
    Csr,
}

impl Category {
    /// The ID buf.yaml uses.
    pub fn id(self) -> &'static str {
        match self {
            Category::File => "FILE",
            Category::Package => "PACKAGE",
            Category::WireJson => "WIRE_JSON",
            Category::Wire => "WIRE",
            Category::Csr => "CSR",
        }
    }

    /// All categories, in buf's order.
    pub const ALL: [Category; 5] = [
        Category::File,
        Category::Package,
        Category::WireJson,
        Category::Wire,
        Category::Csr,
    ];
}

/// The buf.yaml version a configuration is written in; rule sets and categories differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConfigVersion {
    /// `version: v1` (also what buf assumes when there is no buf.yaml).
    V1,
    /// `version: v2`.
    V2,
}

/// A rule's membership in one buf.yaml version.
#[derive(Clone, Copy, Debug)]
pub struct Membership {
    /// Categories the rule belongs to, in buf's listing order.
    pub categories: &'static [Category],
    /// Whether the rule runs when `use` is empty.
    pub default: bool,
}

/// One breaking rule.
pub struct Rule {
    /// buf's rule ID.
    pub id: &'static str,
    /// One line saying what the rule checks (buf's wording).
    pub purpose: &'static str,
    /// Membership under buf.yaml v1; `None` when v1 does not know the rule.
    pub v1: Option<Membership>,
    /// Membership under buf.yaml v2.
    pub v2: Membership,
    pub(crate) handler: Handler,
}

impl std::fmt::Debug for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rule")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl Rule {
    /// Membership under the given buf.yaml version.
    pub fn membership(&self, version: ConfigVersion) -> Option<Membership> {
        match version {
            ConfigVersion::V1 => self.v1,
            ConfigVersion::V2 => Some(self.v2),
        }
    }
}

/// A deprecated rule ID buf still accepts in buf.yaml, and the rules that replace it.
pub struct DeprecatedRule {
    /// The old ID.
    pub id: &'static str,
    /// The buf.yaml versions that accept it.
    pub versions: &'static [ConfigVersion],
    /// What buf runs instead (possibly nothing).
    pub replacements: &'static [&'static str],
}

/// Deprecated IDs: accepted in configuration, replaced by their successors.
pub const DEPRECATED_RULES: &[DeprecatedRule] = &[
    DeprecatedRule {
        id: "MESSAGE_SAME_MESSAGE_SET_WIRE_FORMAT",
        versions: &[ConfigVersion::V1, ConfigVersion::V2],
        replacements: &[],
    },
    DeprecatedRule {
        id: "FIELD_SAME_CTYPE",
        versions: &[ConfigVersion::V1],
        replacements: &["FIELD_SAME_CPP_STRING_TYPE"],
    },
    DeprecatedRule {
        id: "FIELD_SAME_LABEL",
        versions: &[ConfigVersion::V1],
        replacements: &[
            "FIELD_SAME_CARDINALITY",
            "FIELD_WIRE_COMPATIBLE_CARDINALITY",
            "FIELD_WIRE_JSON_COMPATIBLE_CARDINALITY",
        ],
    },
    DeprecatedRule {
        id: "FILE_SAME_JAVA_STRING_CHECK_UTF8",
        versions: &[ConfigVersion::V1],
        replacements: &["FIELD_SAME_JAVA_UTF8_VALIDATION"],
    },
    DeprecatedRule {
        id: "FILE_SAME_PHP_GENERIC_SERVICES",
        versions: &[ConfigVersion::V1],
        replacements: &[],
    },
];

/// What a handler is given: one matched pair of a given kind.
#[derive(Clone, Copy)]
pub(crate) enum Handler {
    /// Sees both whole versions (file and package deletions).
    Module(fn(&Ctx<'_, '_, '_>, &mut Sink<'_>)),
    /// A file present in both versions, matched by path.
    File(fn(&Ctx<'_, '_, '_>, FilePair, &mut Sink<'_>)),
    /// A message present in both, matched by full name.
    Message(fn(&Ctx<'_, '_, '_>, MessagePair, &mut Sink<'_>)),
    /// A field (by number within a matched message) or an extension (by extendee and number).
    Field(fn(&Ctx<'_, '_, '_>, &FieldPair<'_>, &mut Sink<'_>)),
    /// An enum present in both, matched by full name.
    Enum(fn(&Ctx<'_, '_, '_>, EnumPair, &mut Sink<'_>)),
    /// The values of one number in a matched enum.
    EnumValue(fn(&Ctx<'_, '_, '_>, &EnumValuePair, &mut Sink<'_>)),
    /// A service present in both, matched by full name.
    Service(fn(&Ctx<'_, '_, '_>, ServicePair, &mut Sink<'_>)),
    /// A method present in both, matched by name within a matched service.
    Method(fn(&Ctx<'_, '_, '_>, MethodPair, &mut Sink<'_>)),
}

/// Matched files (indexes into previous and current).
#[derive(Clone, Copy)]
pub(crate) struct FilePair {
    pub prev: u32,
    pub cur: u32,
}

/// Matched messages.
#[derive(Clone, Copy)]
pub(crate) struct MessagePair {
    pub prev: u32,
    pub cur: u32,
}

/// Matched fields.
pub(crate) struct FieldPair<'a> {
    pub prev: FieldView<'a>,
    pub cur: FieldView<'a>,
}

/// Matched enums.
#[derive(Clone, Copy)]
pub(crate) struct EnumPair {
    pub prev: u32,
    pub cur: u32,
}

/// The values carrying one number in matched enums (several with `allow_alias`), as value
/// indexes within each enum.
pub(crate) struct EnumValuePair {
    pub enums: EnumPair,
    pub prev: Vec<usize>,
    pub cur: Vec<usize>,
}

/// Matched services.
#[derive(Clone, Copy)]
pub(crate) struct ServicePair {
    pub prev: u32,
    pub cur: u32,
}

/// Matched methods (method indexes within matched services).
#[derive(Clone, Copy)]
pub(crate) struct MethodPair {
    pub services: ServicePair,
    pub prev: usize,
    pub cur: usize,
}

/// Both versions, for handlers.
pub(crate) struct Ctx<'x, 'p, 'c> {
    pub prev: &'x Index<'p>,
    pub cur: &'x Index<'c>,
}

impl Ctx<'_, '_, '_> {
    /// A location in the current version.
    pub(crate) fn at(&self, file: u32, path: Vec<i32>) -> Option<Loc> {
        Some(Loc {
            file,
            path: Some(path),
        })
    }

    /// The first of `paths` that has a source location in the current file, else the file
    /// itself (buf's `withBackupLocation`, with its fallback to the input file name).
    pub(crate) fn first_of(&self, file: u32, paths: &[Vec<i32>]) -> Option<Loc> {
        let f = self.cur.file(file);
        let path = paths.iter().find(|p| f.has_location(p)).cloned();
        Some(Loc { file, path })
    }

    /// The current file, with no position.
    pub(crate) fn file_only(&self, file: u32) -> Option<Loc> {
        Some(Loc { file, path: None })
    }
}

/// buf's description of a field: `Field "1" with name "foo" on message "Bar"`, or for an
/// extension `Extension "100" with name "pkg.foo" on message ".pkg.Bar"`.
pub(crate) fn field_description(ix: &Index<'_>, f: &FieldView<'_>) -> String {
    let name = match f.extension_full_name {
        Some(full) => full.to_string(),
        None => f.name().to_string(),
    };
    field_description_with_name(ix, f, &name)
}

/// [`field_description`] with a chosen name (empty leaves the name out).
pub(crate) fn field_description_with_name(ix: &Index<'_>, f: &FieldView<'_>, name: &str) -> String {
    use super::gofmt::quote;
    let named = if name.is_empty() {
        String::new()
    } else {
        format!(" with name {}", quote(name))
    };
    let (kind, message) = if f.is_extension() {
        let extendee = f.extendee();
        (
            "Extension",
            extendee.strip_prefix('.').unwrap_or(extendee).to_string(),
        )
    } else {
        let m = f
            .message
            .map(|m| ix.messages[m as usize].name())
            .unwrap_or("");
        ("Field", m.to_string())
    };
    format!(
        "{kind} {}{named} on message {}",
        quote(&f.number().to_string()),
        quote(&message)
    )
}

use Category::{Csr, File, Package, Wire, WireJson};

const fn m(categories: &'static [Category], default: bool) -> Membership {
    Membership {
        categories,
        default,
    }
}

macro_rules! rule {
    ($id:literal, $purpose:literal, v1: $v1:expr, v2: $v2:expr, $handler:expr) => {
        Rule {
            id: $id,
            purpose: $purpose,
            v1: $v1,
            v2: $v2,
            handler: $handler,
        }
    };
}

const F: &[Category] = &[File];
const CF: &[Category] = &[Csr, File];
const FP: &[Category] = &[File, Package];
const CFP: &[Category] = &[Csr, File, Package];
const CFPJ: &[Category] = &[Csr, File, Package, WireJson];
const CFPJW: &[Category] = &[Csr, File, Package, WireJson, Wire];
const FPJ: &[Category] = &[File, Package, WireJson];
const FPJW: &[Category] = &[File, Package, WireJson, Wire];
const P: &[Category] = &[Package];
const CJ: &[Category] = &[Csr, WireJson];
const J: &[Category] = &[WireJson];
const CJW: &[Category] = &[Csr, WireJson, Wire];
const JW: &[Category] = &[WireJson, Wire];
const W: &[Category] = &[Wire];

/// Every rule, in the order `buf config ls-breaking-rules --version v2` lists them.
pub static RULES: &[Rule] = &[
    rule!("EXTENSION_NO_DELETE", "Checks that extensions are not deleted from a given file.",
        v1: None, v2: m(F, true), Handler::File(deletes::extension_no_delete)),
    rule!("SERVICE_NO_DELETE", "Checks that services are not deleted from a given file.",
        v1: Some(m(F, true)), v2: m(F, true), Handler::File(deletes::service_no_delete)),
    rule!("ENUM_NO_DELETE", "Checks that enums are not deleted from a given file.",
        v1: Some(m(F, true)), v2: m(CF, true), Handler::File(deletes::enum_no_delete)),
    rule!("FILE_NO_DELETE", "Checks that files are not deleted.",
        v1: Some(m(F, true)), v2: m(CF, true), Handler::Module(deletes::file_no_delete)),
    rule!("MESSAGE_NO_DELETE", "Checks that messages are not deleted from a given file.",
        v1: Some(m(F, true)), v2: m(CF, true), Handler::File(deletes::message_no_delete)),
    rule!("ENUM_SAME_TYPE", "Checks that enums have the same type (open vs closed).",
        v1: Some(m(FP, true)), v2: m(FP, true), Handler::Enum(enums::same_type)),
    rule!("FIELD_SAME_CARDINALITY", "Checks that fields have the same cardinalities in a given message.",
        v1: Some(m(FP, true)), v2: m(FP, true), Handler::Field(fields::same_cardinality)),
    rule!("FIELD_SAME_CPP_STRING_TYPE", "Checks that fields have the same C++ string type, based on ctype field option or (pb.cpp).string_type feature.",
        v1: Some(m(FP, true)), v2: m(FP, true), Handler::Field(fields::same_cpp_string_type)),
    rule!("FIELD_SAME_JAVA_UTF8_VALIDATION", "Checks that fields have the same Java string UTF8 validation, based on java_string_check_utf8 file option or (pb.java).utf8_validation feature.",
        v1: Some(m(FP, true)), v2: m(FP, true), Handler::Field(fields::same_java_utf8_validation)),
    rule!("FIELD_SAME_JSTYPE", "Checks that fields have the same value for the jstype option.",
        v1: Some(m(FP, true)), v2: m(FP, true), Handler::Field(fields::same_jstype)),
    rule!("FIELD_SAME_UTF8_VALIDATION", "Checks that string fields have the same UTF8 validation mode.",
        v1: Some(m(FP, true)), v2: m(FP, true), Handler::Field(fields::same_utf8_validation)),
    rule!("FILE_SAME_CC_ENABLE_ARENAS", "Checks that files have the same value for the cc_enable_arenas option.",
        v1: Some(m(FP, true)), v2: m(FP, true), Handler::File(files::same_cc_enable_arenas)),
    rule!("FILE_SAME_CC_GENERIC_SERVICES", "Checks that files have the same value for the cc_generic_services option.",
        v1: Some(m(FP, true)), v2: m(FP, true), Handler::File(files::same_cc_generic_services)),
    rule!("FILE_SAME_CSHARP_NAMESPACE", "Checks that files have the same value for the csharp_namespace option.",
        v1: Some(m(FP, true)), v2: m(FP, true), Handler::File(files::same_csharp_namespace)),
    rule!("FILE_SAME_GO_PACKAGE", "Checks that files have the same value for the go_package option.",
        v1: Some(m(FP, true)), v2: m(FP, true), Handler::File(files::same_go_package)),
    rule!("FILE_SAME_JAVA_GENERIC_SERVICES", "Checks that files have the same value for the java_generic_services option.",
        v1: Some(m(FP, true)), v2: m(FP, true), Handler::File(files::same_java_generic_services)),
    rule!("FILE_SAME_JAVA_MULTIPLE_FILES", "Checks that files have the same value for the java_multiple_files option.",
        v1: Some(m(FP, true)), v2: m(FP, true), Handler::File(files::same_java_multiple_files)),
    rule!("FILE_SAME_JAVA_OUTER_CLASSNAME", "Checks that files have the same value for the java_outer_classname option.",
        v1: Some(m(FP, true)), v2: m(FP, true), Handler::File(files::same_java_outer_classname)),
    rule!("FILE_SAME_JAVA_PACKAGE", "Checks that files have the same value for the java_package option.",
        v1: Some(m(FP, true)), v2: m(FP, true), Handler::File(files::same_java_package)),
    rule!("FILE_SAME_OBJC_CLASS_PREFIX", "Checks that files have the same value for the objc_class_prefix option.",
        v1: Some(m(FP, true)), v2: m(FP, true), Handler::File(files::same_objc_class_prefix)),
    rule!("FILE_SAME_OPTIMIZE_FOR", "Checks that files have the same value for the optimize_for option.",
        v1: Some(m(FP, true)), v2: m(FP, true), Handler::File(files::same_optimize_for)),
    rule!("FILE_SAME_PHP_CLASS_PREFIX", "Checks that files have the same value for the php_class_prefix option.",
        v1: Some(m(FP, true)), v2: m(FP, true), Handler::File(files::same_php_class_prefix)),
    rule!("FILE_SAME_PHP_METADATA_NAMESPACE", "Checks that files have the same value for the php_metadata_namespace option.",
        v1: Some(m(FP, true)), v2: m(FP, true), Handler::File(files::same_php_metadata_namespace)),
    rule!("FILE_SAME_PHP_NAMESPACE", "Checks that files have the same value for the php_namespace option.",
        v1: Some(m(FP, true)), v2: m(FP, true), Handler::File(files::same_php_namespace)),
    rule!("FILE_SAME_PY_GENERIC_SERVICES", "Checks that files have the same value for the py_generic_services option.",
        v1: Some(m(FP, true)), v2: m(FP, true), Handler::File(files::same_py_generic_services)),
    rule!("FILE_SAME_RUBY_PACKAGE", "Checks that files have the same value for the ruby_package option.",
        v1: Some(m(FP, true)), v2: m(FP, true), Handler::File(files::same_ruby_package)),
    rule!("FILE_SAME_SWIFT_PREFIX", "Checks that files have the same value for the swift_prefix option.",
        v1: Some(m(FP, true)), v2: m(FP, true), Handler::File(files::same_swift_prefix)),
    rule!("RPC_NO_DELETE", "Checks that rpcs are not deleted from a given service.",
        v1: Some(m(FP, true)), v2: m(FP, true), Handler::Service(services::rpc_no_delete)),
    rule!("ENUM_VALUE_NO_DELETE", "Checks that enum values are not deleted from a given enum.",
        v1: Some(m(FP, true)), v2: m(CFP, true), Handler::Enum(enums::value_no_delete)),
    rule!("EXTENSION_MESSAGE_NO_DELETE", "Checks that extension ranges are not deleted from a given message.",
        v1: Some(m(FP, true)), v2: m(CFP, true), Handler::Message(messages::extension_message_no_delete)),
    rule!("FIELD_NO_DELETE", "Checks that fields are not deleted from a given message.",
        v1: Some(m(FP, true)), v2: m(CFP, true), Handler::Message(messages::field_no_delete)),
    rule!("FIELD_SAME_TYPE", "Checks that fields have the same types in a given message.",
        v1: Some(m(FP, true)), v2: m(CFP, true), Handler::Field(fields::same_type)),
    rule!("FILE_SAME_SYNTAX", "Checks that files have the same syntax.",
        v1: Some(m(FP, true)), v2: m(CFP, true), Handler::File(files::same_syntax)),
    rule!("MESSAGE_NO_REMOVE_STANDARD_DESCRIPTOR_ACCESSOR", "Checks that messages do not change the no_standard_descriptor_accessor option from false or unset to true.",
        v1: Some(m(FP, true)), v2: m(CFP, true), Handler::Message(messages::no_remove_standard_descriptor_accessor)),
    rule!("ONEOF_NO_DELETE", "Checks that oneofs are not deleted from a given message.",
        v1: Some(m(FP, true)), v2: m(CFP, true), Handler::Message(messages::oneof_no_delete)),
    rule!("ENUM_SAME_JSON_FORMAT", "Checks that enums have the same JSON format support.",
        v1: Some(m(FPJ, true)), v2: m(CFPJ, true), Handler::Enum(enums::same_json_format)),
    rule!("ENUM_VALUE_SAME_NAME", "Checks that enum values have the same name.",
        v1: Some(m(FPJ, true)), v2: m(CFPJ, true), Handler::EnumValue(enums::value_same_name)),
    rule!("FIELD_SAME_JSON_NAME", "Checks that fields have the same value for the json_name option.",
        v1: Some(m(FPJ, true)), v2: m(CFPJ, true), Handler::Field(fields::same_json_name)),
    rule!("FIELD_SAME_NAME", "Checks that fields have the same names in a given message.",
        v1: Some(m(FPJ, true)), v2: m(CFPJ, true), Handler::Field(fields::same_name)),
    rule!("MESSAGE_SAME_JSON_FORMAT", "Checks that messages have the same JSON format support.",
        v1: Some(m(FPJ, true)), v2: m(CFPJ, true), Handler::Message(messages::same_json_format)),
    rule!("FIELD_SAME_DEFAULT", "Checks that fields have the same default value, if a default is specified.",
        v1: None, v2: m(CFPJW, true), Handler::Field(fields::same_default)),
    rule!("FIELD_SAME_ONEOF", "Checks that fields have the same oneofs in a given message.",
        v1: Some(m(FPJW, true)), v2: m(CFPJW, true), Handler::Field(fields::same_oneof)),
    rule!("FILE_SAME_PACKAGE", "Checks that files have the same package.",
        v1: Some(m(FPJW, true)), v2: m(CFPJW, true), Handler::File(files::same_package)),
    rule!("MESSAGE_SAME_REQUIRED_FIELDS", "Checks that messages have no added or deleted required fields.",
        v1: Some(m(FPJW, true)), v2: m(CFPJW, true), Handler::Message(messages::same_required_fields)),
    rule!("RESERVED_ENUM_NO_DELETE", "Checks that reserved ranges and names are not deleted from a given enum.",
        v1: Some(m(FPJW, true)), v2: m(CFPJW, true), Handler::Enum(enums::reserved_no_delete)),
    rule!("RESERVED_MESSAGE_NO_DELETE", "Checks that reserved ranges and names are not deleted from a given message.",
        v1: Some(m(FPJW, true)), v2: m(CFPJW, true), Handler::Message(messages::reserved_no_delete)),
    rule!("RPC_SAME_CLIENT_STREAMING", "Checks that rpcs have the same client streaming value.",
        v1: Some(m(FPJW, true)), v2: m(CFPJW, true), Handler::Method(services::same_client_streaming)),
    rule!("RPC_SAME_IDEMPOTENCY_LEVEL", "Checks that rpcs have the same value for the idempotency_level option.",
        v1: Some(m(FPJW, true)), v2: m(CFPJW, true), Handler::Method(services::same_idempotency_level)),
    rule!("RPC_SAME_REQUEST_TYPE", "Checks that rpcs are have the same request type.",
        v1: Some(m(FPJW, true)), v2: m(CFPJW, true), Handler::Method(services::same_request_type)),
    rule!("RPC_SAME_RESPONSE_TYPE", "Checks that rpcs are have the same response type.",
        v1: Some(m(FPJW, true)), v2: m(CFPJW, true), Handler::Method(services::same_response_type)),
    rule!("RPC_SAME_SERVER_STREAMING", "Checks that rpcs have the same server streaming value.",
        v1: Some(m(FPJW, true)), v2: m(CFPJW, true), Handler::Method(services::same_server_streaming)),
    rule!("PACKAGE_ENUM_NO_DELETE", "Checks that enums are not deleted from a given package.",
        v1: Some(m(P, false)), v2: m(P, false), Handler::Module(deletes::package_enum_no_delete)),
    rule!("PACKAGE_EXTENSION_NO_DELETE", "Checks that extensions are not deleted from a given package.",
        v1: None, v2: m(P, false), Handler::Module(deletes::package_extension_no_delete)),
    rule!("PACKAGE_MESSAGE_NO_DELETE", "Checks that messages are not deleted from a given package.",
        v1: Some(m(P, false)), v2: m(P, false), Handler::Module(deletes::package_message_no_delete)),
    rule!("PACKAGE_NO_DELETE", "Checks that packages are not deleted.",
        v1: Some(m(P, false)), v2: m(P, false), Handler::Module(deletes::package_no_delete)),
    rule!("PACKAGE_SERVICE_NO_DELETE", "Checks that services are not deleted from a given package.",
        v1: Some(m(P, false)), v2: m(P, false), Handler::Module(deletes::package_service_no_delete)),
    rule!("ENUM_VALUE_NO_DELETE_UNLESS_NAME_RESERVED", "Checks that enum values are not deleted from a given enum unless the name is reserved.",
        v1: Some(m(J, false)), v2: m(CJ, false), Handler::Enum(enums::value_no_delete_unless_name_reserved)),
    rule!("FIELD_NO_DELETE_UNLESS_NAME_RESERVED", "Checks that fields are not deleted from a given message unless the name is reserved.",
        v1: Some(m(J, false)), v2: m(CJ, false), Handler::Message(messages::field_no_delete_unless_name_reserved)),
    rule!("FIELD_WIRE_JSON_COMPATIBLE_CARDINALITY", "Checks that fields have wire and JSON compatible cardinalities in a given message.",
        v1: Some(m(J, false)), v2: m(CJ, false), Handler::Field(fields::wire_json_compatible_cardinality)),
    rule!("FIELD_WIRE_JSON_COMPATIBLE_TYPE", "Checks that fields have wire and JSON compatible types in a given message.",
        v1: Some(m(J, false)), v2: m(CJ, false), Handler::Field(fields::wire_json_compatible_type)),
    rule!("ENUM_VALUE_NO_DELETE_UNLESS_NUMBER_RESERVED", "Checks that enum values are not deleted from a given enum unless the number is reserved.",
        v1: Some(m(JW, false)), v2: m(CJW, false), Handler::Enum(enums::value_no_delete_unless_number_reserved)),
    rule!("FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED", "Checks that fields are not deleted from a given message unless the number is reserved.",
        v1: Some(m(JW, false)), v2: m(CJW, false), Handler::Message(messages::field_no_delete_unless_number_reserved)),
    rule!("FIELD_WIRE_COMPATIBLE_CARDINALITY", "Checks that fields have wire-compatible cardinalities in a given message.",
        v1: Some(m(W, false)), v2: m(W, false), Handler::Field(fields::wire_compatible_cardinality)),
    rule!("FIELD_WIRE_COMPATIBLE_TYPE", "Checks that fields have wire-compatible types in a given message.",
        v1: Some(m(W, false)), v2: m(W, false), Handler::Field(fields::wire_compatible_type)),
];

/// Looks a rule up by ID.
pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}

/// All rules, in buf's listing order.
pub fn all() -> &'static [Rule] {
    RULES
}
