//! One version of a schema, decoded once and indexed by full name.
//!
//! [`Image`] owns the decoded files; [`Index`] borrows them and flattens every message, enum,
//! service and extension into vectors with hash maps from full name to position, so matching a
//! previous element to its current counterpart is one lookup. Editions features are resolved
//! while flattening (each element inherits its parent's), and deprecation is inherited the same
//! way, so rules never walk up the tree.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use prost::Message as _;

use super::spans::SpanHints;

use super::descriptor::{
    EnumProto, FeatureSet, FieldProto, FileProto, MessageProto, MethodProto, ServiceProto,
    SourceCodeInfo, edition, field_type, label,
};

/// The decoded files of one version: the module's own files and the files they import.
#[derive(Debug, Default)]
pub struct Image {
    pub(crate) files: Vec<FileProto>,
    /// Parallel to `files`: true when the file is only imported by the module.
    pub(crate) imports: Vec<bool>,
    /// Parallel to `files`: what turns a module-relative path into the path users see (buf's
    /// external path): the input as given plus the module directory inside it.
    pub(crate) prefixes: Vec<String>,
    /// For files compiled here (by module-relative path), what aligning their spans with
    /// buf's needs; applied when a file's locations are first used.
    pub(crate) hints: Option<Arc<HashMap<String, SpanHints>>>,
}

impl Image {
    /// Builds an image from decoded files.
    pub(crate) fn new(files: Vec<FileProto>, imports: Vec<bool>, prefixes: Vec<String>) -> Self {
        Image {
            files,
            imports,
            prefixes,
            hints: None,
        }
    }

    /// Number of files, imports included.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// True when the image holds no file at all.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Module-relative paths of the files, imports included.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.files.iter().map(|f| f.name.as_deref().unwrap_or(""))
    }

    /// The path users see for file `i`.
    pub(crate) fn external_path(&self, i: usize) -> String {
        let path = self.files[i].name.as_deref().unwrap_or("");
        match self.prefixes.get(i) {
            Some(prefix) if !prefix.is_empty() => join_clean(prefix, path),
            _ => path.to_string(),
        }
    }
}

/// Joins and cleans two slash paths the way Go's `filepath.Join` does (buf builds its external
/// paths with it, so `./proto` + `a.proto` prints as `proto/a.proto`).
pub(crate) fn join_clean(prefix: &str, path: &str) -> String {
    if prefix.is_empty() {
        return clean(path);
    }
    clean(&format!("{prefix}/{path}"))
}

/// Go's `path.Clean`: collapses `//`, `.` and `..` elements lexically.
pub(crate) fn clean(path: &str) -> String {
    if path.is_empty() {
        return ".".to_string();
    }
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if matches!(parts.last(), Some(last) if *last != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

/// The syntax of a file; no `syntax` statement means proto2.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Syntax {
    Proto2,
    Proto3,
    Editions,
}

impl Syntax {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Syntax::Proto2 => "proto2",
            Syntax::Proto3 => "proto3",
            Syntax::Editions => "editions",
        }
    }
}

/// Feature values after inheritance, as protobuf's `FeatureSet` numbers them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Features {
    pub field_presence: i32,
    pub enum_type: i32,
    pub utf8_validation: i32,
    pub message_encoding: i32,
    pub json_format: i32,
    pub cpp_string_type: i32,
    pub java_utf8_validation: i32,
}

/// `FeatureSet` enum values the rules compare.
pub(crate) mod feature {
    pub const PRESENCE_EXPLICIT: i32 = 1;
    pub const PRESENCE_IMPLICIT: i32 = 2;
    pub const PRESENCE_LEGACY_REQUIRED: i32 = 3;
    pub const ENUM_OPEN: i32 = 1;
    pub const ENUM_CLOSED: i32 = 2;
    pub const UTF8_VERIFY: i32 = 2;
    pub const UTF8_NONE: i32 = 3;
    pub const ENCODING_DELIMITED: i32 = 2;
    pub const JSON_ALLOW: i32 = 1;
    pub const JSON_LEGACY_BEST_EFFORT: i32 = 2;
    pub const CPP_VIEW: i32 = 1;
    pub const CPP_CORD: i32 = 2;
    pub const CPP_STRING: i32 = 3;
    pub const JAVA_DEFAULT: i32 = 1;
    pub const JAVA_VERIFY: i32 = 2;

    pub fn utf8_name(value: i32) -> String {
        match value {
            UTF8_VERIFY => "VERIFY".into(),
            UTF8_NONE => "NONE".into(),
            0 => "UTF8_VALIDATION_UNKNOWN".into(),
            other => other.to_string(),
        }
    }

    pub fn json_name(value: i32) -> String {
        match value {
            JSON_ALLOW => "ALLOW".into(),
            JSON_LEGACY_BEST_EFFORT => "LEGACY_BEST_EFFORT".into(),
            0 => "JSON_FORMAT_UNKNOWN".into(),
            other => other.to_string(),
        }
    }

    pub fn cpp_name(value: i32) -> String {
        match value {
            CPP_VIEW => "VIEW".into(),
            CPP_CORD => "CORD".into(),
            CPP_STRING => "STRING".into(),
            0 => "STRING_TYPE_UNKNOWN".into(),
            other => other.to_string(),
        }
    }
}

impl Features {
    /// The defaults protobuf's descriptor.proto declares for an edition.
    pub(crate) fn for_edition(edition: i32) -> Features {
        use feature::*;
        match edition {
            edition::PROTO2 => Features {
                field_presence: PRESENCE_EXPLICIT,
                enum_type: ENUM_CLOSED,
                utf8_validation: UTF8_NONE,
                message_encoding: 1,
                json_format: JSON_LEGACY_BEST_EFFORT,
                cpp_string_type: CPP_STRING,
                java_utf8_validation: JAVA_DEFAULT,
            },
            edition::PROTO3 => Features {
                field_presence: PRESENCE_IMPLICIT,
                enum_type: ENUM_OPEN,
                utf8_validation: UTF8_VERIFY,
                message_encoding: 1,
                json_format: JSON_ALLOW,
                cpp_string_type: CPP_STRING,
                java_utf8_validation: JAVA_DEFAULT,
            },
            e => Features {
                field_presence: PRESENCE_EXPLICIT,
                enum_type: ENUM_OPEN,
                utf8_validation: UTF8_VERIFY,
                message_encoding: 1,
                json_format: JSON_ALLOW,
                // Edition 2024 switched C++ strings to views.
                cpp_string_type: if e >= edition::E2024 {
                    CPP_VIEW
                } else {
                    CPP_STRING
                },
                java_utf8_validation: JAVA_DEFAULT,
            },
        }
    }

    /// These features overridden by whatever `set` states explicitly.
    pub(crate) fn merge(mut self, set: Option<&FeatureSet>) -> Features {
        let Some(set) = set else { return self };
        fn take(slot: &mut i32, value: Option<i32>) {
            if let Some(v) = value.filter(|v| *v != 0) {
                *slot = v;
            }
        }
        take(&mut self.field_presence, set.field_presence);
        take(&mut self.enum_type, set.enum_type);
        take(&mut self.utf8_validation, set.utf8_validation);
        take(&mut self.message_encoding, set.message_encoding);
        take(&mut self.json_format, set.json_format);
        if let Some(cpp) = &set.cpp {
            take(&mut self.cpp_string_type, cpp.string_type);
        }
        if let Some(java) = &set.java {
            take(&mut self.java_utf8_validation, java.utf8_validation);
        }
        self
    }
}

/// A 1-based span as buf prints it: start line/column, end line/column (end column exclusive).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    /// 1-based first line.
    pub start_line: u32,
    /// 1-based first column.
    pub start_column: u32,
    /// 1-based last line.
    pub end_line: u32,
    /// 1-based column just past the element.
    pub end_column: u32,
}

impl Span {
    /// What buf prints when a file is known but the element has no source location.
    pub const UNKNOWN: Span = Span {
        start_line: 1,
        start_column: 1,
        end_line: 1,
        end_column: 1,
    };
}

/// A file of the image, with what the rules read from it precomputed.
pub(crate) struct FileRef<'a> {
    /// Span alignment data when the file was compiled from source.
    pub hints: Option<&'a SpanHints>,
    pub proto: &'a FileProto,
    /// Position of the file in its image (indexes may hold a subset of the image).
    pub image_index: u32,
    pub path: &'a str,
    pub package: &'a str,
    pub syntax: Syntax,
    pub is_import: bool,
    pub deprecated: bool,
    locations: OnceLock<HashMap<Vec<i32>, Span>>,
}

impl<'a> FileRef<'a> {
    /// The span of the first source location whose path is `path`, as protobuf-go's
    /// `SourceLocations.ByPath` picks it. Source info is decoded on first use.
    pub(crate) fn span(&self, path: &[i32]) -> Option<Span> {
        let map = self.locations.get_or_init(|| self.decode_locations());
        map.get(path).copied()
    }

    fn decode_locations(&self) -> HashMap<Vec<i32>, Span> {
        let Some(bytes) = &self.proto.source_code_info else {
            return HashMap::new();
        };
        // Undecodable source info only costs the positions, like a file without source info.
        let Ok(info) = SourceCodeInfo::decode(bytes.clone()) else {
            return HashMap::new();
        };
        let mut locations = info.location;
        if let Some(hints) = self.hints {
            super::spans::align_with_buf(self.proto, &mut locations, hints);
        }
        let mut map = HashMap::with_capacity(locations.len());
        for loc in locations {
            let s = &loc.span;
            let (start_line, start_col, end_line, end_col) = match s.len() {
                3 => (s[0], s[1], s[0], s[2]),
                4 => (s[0], s[1], s[2], s[3]),
                _ => continue,
            };
            let to = |v: i32| u32::try_from(v).unwrap_or(0).saturating_add(1);
            map.entry(loc.path).or_insert(Span {
                start_line: to(start_line),
                start_column: to(start_col),
                end_line: to(end_line),
                end_column: to(end_col),
            });
        }
        map
    }

    pub(crate) fn has_location(&self, path: &[i32]) -> bool {
        self.span(path).is_some()
    }
}

/// A message (nested ones included, map entries included), flattened.
pub(crate) struct MessageRef<'a> {
    pub file: u32,
    pub proto: &'a MessageProto,
    pub path: Vec<i32>,
    pub full_name: String,
    /// Offset of the nested name (full name without the package) in `full_name`.
    pub nested_start: usize,
    pub parent: Option<u32>,
    pub features: Features,
    /// Deprecated itself or inside something deprecated.
    pub deprecated: bool,
}

impl<'a> MessageRef<'a> {
    pub(crate) fn name(&self) -> &'a str {
        self.proto.name.as_deref().unwrap_or("")
    }
    pub(crate) fn nested_name(&self) -> &str {
        &self.full_name[self.nested_start..]
    }
    pub(crate) fn is_map_entry(&self) -> bool {
        opt_bool(self.proto.options.as_ref().and_then(|o| o.map_entry))
    }
    pub(crate) fn message_set_wire_format(&self) -> bool {
        opt_bool(
            self.proto
                .options
                .as_ref()
                .and_then(|o| o.message_set_wire_format),
        )
    }
}

/// An enum, flattened.
pub(crate) struct EnumRef<'a> {
    pub file: u32,
    pub proto: &'a EnumProto,
    pub path: Vec<i32>,
    pub full_name: String,
    pub nested_start: usize,
    pub features: Features,
    pub deprecated: bool,
}

impl<'a> EnumRef<'a> {
    pub(crate) fn name(&self) -> &'a str {
        self.proto.name.as_deref().unwrap_or("")
    }
    pub(crate) fn nested_name(&self) -> &str {
        &self.full_name[self.nested_start..]
    }
    pub(crate) fn is_closed(&self) -> bool {
        self.features.enum_type == feature::ENUM_CLOSED
    }
}

/// A service.
pub(crate) struct ServiceRef<'a> {
    pub file: u32,
    pub proto: &'a ServiceProto,
    pub path: Vec<i32>,
    pub full_name: String,
    pub deprecated: bool,
}

impl<'a> ServiceRef<'a> {
    pub(crate) fn name(&self) -> &'a str {
        self.proto.name.as_deref().unwrap_or("")
    }
}

/// An extension declaration, at file level or inside a message.
pub(crate) struct ExtensionRef<'a> {
    pub file: u32,
    pub proto: &'a FieldProto,
    pub path: Vec<i32>,
    pub full_name: String,
    pub nested_start: usize,
    /// The message the extension is declared in (its scope), if any.
    pub scope: Option<u32>,
    pub features: Features,
    pub deprecated: bool,
}

impl ExtensionRef<'_> {
    pub(crate) fn nested_name(&self) -> &str {
        &self.full_name[self.nested_start..]
    }
}

/// A field or extension, seen with everything a rule needs to judge it.
#[derive(Clone, Copy)]
pub(crate) struct FieldView<'a> {
    pub file: u32,
    pub proto: &'a FieldProto,
    /// Path of the enclosing message (regular fields) or extension scope; with `own` gives the
    /// field's source path.
    pub base: &'a [i32],
    pub own: [i32; 2],
    /// The message the field belongs to (regular fields only).
    pub message: Option<u32>,
    /// Resolved features of the field itself.
    pub features: Features,
    pub extension_full_name: Option<&'a str>,
    pub deprecated: bool,
}

impl<'a> FieldView<'a> {
    pub(crate) fn path(&self) -> Vec<i32> {
        let mut p = Vec::with_capacity(self.base.len() + 2);
        p.extend_from_slice(self.base);
        p.extend_from_slice(&self.own);
        p
    }
    pub(crate) fn path_with(&self, suffix: &[i32]) -> Vec<i32> {
        let mut p = self.path();
        p.extend_from_slice(suffix);
        p
    }
    pub(crate) fn name(&self) -> &'a str {
        self.proto.name.as_deref().unwrap_or("")
    }
    pub(crate) fn number(&self) -> i32 {
        self.proto.number.unwrap_or(0)
    }
    pub(crate) fn label(&self) -> i32 {
        self.proto.label.unwrap_or(label::OPTIONAL)
    }
    pub(crate) fn proto_type(&self) -> i32 {
        self.proto.r#type.unwrap_or(0)
    }
    pub(crate) fn type_name(&self) -> &'a str {
        self.proto.type_name.as_deref().unwrap_or("")
    }
    pub(crate) fn extendee(&self) -> &'a str {
        self.proto.extendee.as_deref().unwrap_or("")
    }
    pub(crate) fn is_extension(&self) -> bool {
        self.extension_full_name.is_some()
    }
    /// The JSON name as descriptors carry it, or protoc's default when a producer left it out.
    pub(crate) fn json_name(&self) -> String {
        match &self.proto.json_name {
            Some(name) => name.clone(),
            None => default_json_name(self.name()),
        }
    }
    pub(crate) fn jstype(&self) -> i32 {
        self.proto
            .options
            .as_ref()
            .and_then(|o| o.jstype)
            .unwrap_or(0)
    }
    pub(crate) fn ctype(&self) -> Option<i32> {
        self.proto.options.as_ref().and_then(|o| o.ctype)
    }
    pub(crate) fn oneof_index(&self) -> Option<i32> {
        self.proto.oneof_index
    }
}

/// protoc's default JSON name: lowerCamelCase of the field name.
pub(crate) fn default_json_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

pub(crate) fn opt_bool(v: Option<bool>) -> bool {
    v.unwrap_or(false)
}

/// Protobuf-go's `Kind`, which the type rules compare (it tells delimited messages from
/// length-prefixed ones in editions files).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    Double,
    Float,
    Int64,
    Uint64,
    Int32,
    Fixed64,
    Fixed32,
    Bool,
    String,
    Group,
    Message,
    Bytes,
    Uint32,
    Enum,
    Sfixed32,
    Sfixed64,
    Sint32,
    Sint64,
    Unknown(i32),
}

impl Kind {
    pub(crate) fn name(self) -> String {
        match self {
            Kind::Double => "double".into(),
            Kind::Float => "float".into(),
            Kind::Int64 => "int64".into(),
            Kind::Uint64 => "uint64".into(),
            Kind::Int32 => "int32".into(),
            Kind::Fixed64 => "fixed64".into(),
            Kind::Fixed32 => "fixed32".into(),
            Kind::Bool => "bool".into(),
            Kind::String => "string".into(),
            Kind::Group => "group".into(),
            Kind::Message => "message".into(),
            Kind::Bytes => "bytes".into(),
            Kind::Uint32 => "uint32".into(),
            Kind::Enum => "enum".into(),
            Kind::Sfixed32 => "sfixed32".into(),
            Kind::Sfixed64 => "sfixed64".into(),
            Kind::Sint32 => "sint32".into(),
            Kind::Sint64 => "sint64".into(),
            Kind::Unknown(n) => format!("<unknown:{n}>"),
        }
    }

    fn from_type(t: i32) -> Kind {
        use field_type::*;
        match t {
            DOUBLE => Kind::Double,
            FLOAT => Kind::Float,
            INT64 => Kind::Int64,
            UINT64 => Kind::Uint64,
            INT32 => Kind::Int32,
            FIXED64 => Kind::Fixed64,
            FIXED32 => Kind::Fixed32,
            BOOL => Kind::Bool,
            STRING => Kind::String,
            GROUP => Kind::Group,
            MESSAGE => Kind::Message,
            BYTES => Kind::Bytes,
            UINT32 => Kind::Uint32,
            ENUM => Kind::Enum,
            SFIXED32 => Kind::Sfixed32,
            SFIXED64 => Kind::Sfixed64,
            SINT32 => Kind::Sint32,
            SINT64 => Kind::Sint64,
            other => Kind::Unknown(other),
        }
    }
}

/// Field cardinality as buf names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cardinality {
    OptionalExplicit,
    OptionalImplicit,
    Required,
    Repeated,
    Map,
}

impl Cardinality {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Cardinality::OptionalExplicit => "optional with explicit presence",
            Cardinality::OptionalImplicit => "optional with implicit presence",
            Cardinality::Required => "required",
            Cardinality::Repeated => "repeated",
            Cardinality::Map => "map",
        }
    }
}

/// One version, flattened and indexed.
pub(crate) struct Index<'a> {
    pub image: &'a Image,
    pub files: Vec<FileRef<'a>>,
    pub file_by_path: HashMap<&'a str, u32>,
    pub messages: Vec<MessageRef<'a>>,
    pub message_by_name: HashMap<String, u32>,
    pub enums: Vec<EnumRef<'a>>,
    pub enum_by_name: HashMap<String, u32>,
    pub services: Vec<ServiceRef<'a>>,
    pub service_by_name: HashMap<String, u32>,
    pub extensions: Vec<ExtensionRef<'a>>,
    /// Per file, the ranges of `messages`, `enums`, `services` and `extensions` it declares
    /// (flattening goes file by file, so each file's elements are contiguous).
    pub file_ranges: Vec<FileRanges>,
}

/// Where one file's elements sit in the flattened vectors.
#[derive(Clone, Debug, Default)]
pub(crate) struct FileRanges {
    pub messages: std::ops::Range<u32>,
    pub enums: std::ops::Range<u32>,
    pub services: std::ops::Range<u32>,
    pub extensions: std::ops::Range<u32>,
}

impl<'a> Index<'a> {
    /// Flattens and indexes an image in one pass over its descriptors.
    pub(crate) fn new(image: &'a Image) -> Index<'a> {
        let all: Vec<(usize, bool)> = (0..image.files.len())
            .map(|i| (i, image.imports.get(i).copied().unwrap_or(false)))
            .collect();
        Index::of_files(image, &all)
    }

    /// The image as buf sees one module of a workspace: the module's files, plus the files
    /// they import (transitively), which count as imports.
    pub(crate) fn module(
        image: &'a Image,
        module_of_file: &[Option<usize>],
        module: usize,
    ) -> Index<'a> {
        let by_name: HashMap<&str, usize> = image
            .files
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name.as_deref().unwrap_or(""), i))
            .collect();
        let mut selected = vec![false; image.files.len()];
        let mut stack: Vec<usize> = (0..image.files.len())
            .filter(|&i| module_of_file.get(i).copied().flatten() == Some(module))
            .collect();
        while let Some(i) = stack.pop() {
            if std::mem::replace(&mut selected[i], true) {
                continue;
            }
            for dep in &image.files[i].dependency {
                if let Some(&d) = by_name.get(dep.as_str()) {
                    stack.push(d);
                }
            }
        }
        let files: Vec<(usize, bool)> = (0..image.files.len())
            .filter(|&i| selected[i])
            .map(|i| (i, module_of_file.get(i).copied().flatten() != Some(module)))
            .collect();
        Index::of_files(image, &files)
    }

    /// Indexes the given files of an image (image position, whether it is an import).
    fn of_files(image: &'a Image, files: &[(usize, bool)]) -> Index<'a> {
        let mut index = Index {
            image,
            files: Vec::with_capacity(image.files.len()),
            file_by_path: HashMap::with_capacity(image.files.len()),
            messages: Vec::new(),
            message_by_name: HashMap::new(),
            enums: Vec::new(),
            enum_by_name: HashMap::new(),
            services: Vec::new(),
            service_by_name: HashMap::new(),
            extensions: Vec::new(),
            file_ranges: Vec::with_capacity(image.files.len()),
        };
        for (local, &(i, is_import)) in files.iter().enumerate() {
            let start = index.counts();
            index.add_file(local as u32, i as u32, &image.files[i], is_import);
            let end = index.counts();
            index.file_ranges.push(FileRanges {
                messages: start.0..end.0,
                enums: start.1..end.1,
                services: start.2..end.2,
                extensions: start.3..end.3,
            });
        }
        index
    }

    fn counts(&self) -> (u32, u32, u32, u32) {
        (
            self.messages.len() as u32,
            self.enums.len() as u32,
            self.services.len() as u32,
            self.extensions.len() as u32,
        )
    }

    fn add_file(
        &mut self,
        file_index: u32,
        image_index: u32,
        proto: &'a FileProto,
        is_import: bool,
    ) {
        let syntax = match proto.syntax.as_deref() {
            Some("proto3") => Syntax::Proto3,
            Some("editions") => Syntax::Editions,
            _ => Syntax::Proto2,
        };
        let edition = match syntax {
            Syntax::Proto2 => edition::PROTO2,
            Syntax::Proto3 => edition::PROTO3,
            Syntax::Editions => proto.edition.unwrap_or(edition::E2023),
        };
        let options = proto.options.as_ref();
        let features =
            Features::for_edition(edition).merge(options.and_then(|o| o.features.as_ref()));
        let deprecated = opt_bool(options.and_then(|o| o.deprecated));
        let path = proto.name.as_deref().unwrap_or("");
        let package = proto.package.as_deref().unwrap_or("");
        // A duplicate path keeps its first occurrence, like a map insert that never overwrites.
        self.file_by_path.entry(path).or_insert(file_index);
        let hints = self.image.hints.as_ref().and_then(|h| h.get(path));
        self.files.push(FileRef {
            hints,
            proto,
            image_index,
            path,
            package,
            syntax,
            is_import,
            deprecated,
            locations: OnceLock::new(),
        });
        let prefix = if package.is_empty() {
            String::new()
        } else {
            format!("{package}.")
        };
        let nested_start = prefix.len();
        for (i, e) in proto.enum_type.iter().enumerate() {
            self.add_enum(
                file_index,
                e,
                vec![5, i as i32],
                &prefix,
                nested_start,
                features,
                deprecated,
            );
        }
        for (i, m) in proto.message_type.iter().enumerate() {
            self.add_message(
                file_index,
                m,
                vec![4, i as i32],
                &prefix,
                nested_start,
                None,
                features,
                deprecated,
            );
        }
        for (i, s) in proto.service.iter().enumerate() {
            let name = s.name.as_deref().unwrap_or("");
            let full_name = format!("{prefix}{name}");
            let idx = self.services.len() as u32;
            self.service_by_name.entry(full_name.clone()).or_insert(idx);
            self.services.push(ServiceRef {
                file: file_index,
                proto: s,
                path: vec![6, i as i32],
                full_name,
                deprecated: deprecated || opt_bool(s.options.as_ref().and_then(|o| o.deprecated)),
            });
        }
        for (i, x) in proto.extension.iter().enumerate() {
            self.add_extension(
                file_index,
                x,
                vec![7, i as i32],
                &prefix,
                nested_start,
                None,
                features,
                deprecated,
            );
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn add_message(
        &mut self,
        file: u32,
        proto: &'a MessageProto,
        path: Vec<i32>,
        prefix: &str,
        nested_start: usize,
        parent: Option<u32>,
        parent_features: Features,
        parent_deprecated: bool,
    ) {
        let options = proto.options.as_ref();
        let features = parent_features.merge(options.and_then(|o| o.features.as_ref()));
        let deprecated = parent_deprecated || opt_bool(options.and_then(|o| o.deprecated));
        let full_name = format!("{prefix}{}", proto.name.as_deref().unwrap_or(""));
        let idx = self.messages.len() as u32;
        self.message_by_name.entry(full_name.clone()).or_insert(idx);
        let child_prefix = format!("{full_name}.");
        self.messages.push(MessageRef {
            file,
            proto,
            path: path.clone(),
            full_name,
            nested_start,
            parent,
            features,
            deprecated,
        });
        for (i, e) in proto.enum_type.iter().enumerate() {
            let mut p = path.clone();
            p.extend_from_slice(&[4, i as i32]);
            self.add_enum(
                file,
                e,
                p,
                &child_prefix,
                nested_start,
                features,
                deprecated,
            );
        }
        for (i, m) in proto.nested_type.iter().enumerate() {
            let mut p = path.clone();
            p.extend_from_slice(&[3, i as i32]);
            self.add_message(
                file,
                m,
                p,
                &child_prefix,
                nested_start,
                Some(idx),
                features,
                deprecated,
            );
        }
        for (i, x) in proto.extension.iter().enumerate() {
            let mut p = path.clone();
            p.extend_from_slice(&[6, i as i32]);
            self.add_extension(
                file,
                x,
                p,
                &child_prefix,
                nested_start,
                Some(idx),
                features,
                deprecated,
            );
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn add_enum(
        &mut self,
        file: u32,
        proto: &'a EnumProto,
        path: Vec<i32>,
        prefix: &str,
        nested_start: usize,
        parent_features: Features,
        parent_deprecated: bool,
    ) {
        let options = proto.options.as_ref();
        let features = parent_features.merge(options.and_then(|o| o.features.as_ref()));
        let deprecated = parent_deprecated || opt_bool(options.and_then(|o| o.deprecated));
        let full_name = format!("{prefix}{}", proto.name.as_deref().unwrap_or(""));
        let idx = self.enums.len() as u32;
        self.enum_by_name.entry(full_name.clone()).or_insert(idx);
        self.enums.push(EnumRef {
            file,
            proto,
            path,
            full_name,
            nested_start,
            features,
            deprecated,
        });
    }

    #[allow(clippy::too_many_arguments)]
    fn add_extension(
        &mut self,
        file: u32,
        proto: &'a FieldProto,
        path: Vec<i32>,
        prefix: &str,
        nested_start: usize,
        scope: Option<u32>,
        scope_features: Features,
        scope_deprecated: bool,
    ) {
        let options = proto.options.as_ref();
        let features = scope_features.merge(options.and_then(|o| o.features.as_ref()));
        let deprecated = scope_deprecated || opt_bool(options.and_then(|o| o.deprecated));
        self.extensions.push(ExtensionRef {
            file,
            proto,
            path,
            full_name: format!("{prefix}{}", proto.name.as_deref().unwrap_or("")),
            nested_start,
            scope,
            features,
            deprecated,
        });
    }

    pub(crate) fn file(&self, i: u32) -> &FileRef<'a> {
        &self.files[i as usize]
    }

    /// Resolves a type name as descriptors spell it (`.pkg.Msg`) to a message.
    pub(crate) fn message_by_type_name(&self, type_name: &str) -> Option<&MessageRef<'a>> {
        let name = type_name.strip_prefix('.').unwrap_or(type_name);
        self.message_by_name
            .get(name)
            .map(|i| &self.messages[*i as usize])
    }

    /// Resolves a type name as descriptors spell it (`.pkg.Enum`) to an enum.
    pub(crate) fn enum_by_type_name(&self, type_name: &str) -> Option<&EnumRef<'a>> {
        let name = type_name.strip_prefix('.').unwrap_or(type_name);
        self.enum_by_name
            .get(name)
            .map(|i| &self.enums[*i as usize])
    }

    /// A view of field `i` of message `m`.
    pub(crate) fn field(&self, m: u32, i: usize) -> FieldView<'_> {
        let msg = &self.messages[m as usize];
        let proto = &msg.proto.field[i];
        FieldView {
            file: msg.file,
            proto,
            base: &msg.path,
            own: [2, i as i32],
            message: Some(m),
            features: msg
                .features
                .merge(proto.options.as_ref().and_then(|o| o.features.as_ref())),
            extension_full_name: None,
            deprecated: msg.deprecated
                || opt_bool(proto.options.as_ref().and_then(|o| o.deprecated)),
        }
    }

    /// A view of extension `i`.
    pub(crate) fn extension(&self, i: usize) -> FieldView<'_> {
        let ext = &self.extensions[i];
        let (base, own) = ext.path.split_at(ext.path.len() - 2);
        FieldView {
            file: ext.file,
            proto: ext.proto,
            base,
            own: [own[0], own[1]],
            message: None,
            features: ext.features,
            extension_full_name: Some(&ext.full_name),
            deprecated: ext.deprecated,
        }
    }

    /// Protobuf-go's `Kind` of a field: its declared type, with length-prefixed messages that
    /// editions encode delimited counted as groups.
    pub(crate) fn kind(&self, f: &FieldView<'_>) -> Kind {
        let kind = Kind::from_type(f.proto_type());
        if kind == Kind::Message && f.features.message_encoding == feature::ENCODING_DELIMITED {
            let is_map = self
                .message_by_type_name(f.type_name())
                .is_some_and(|m| m.is_map_entry());
            if !is_map {
                return Kind::Group;
            }
        }
        kind
    }

    /// True when the field is a map (repeated, of a map entry message).
    pub(crate) fn is_map(&self, f: &FieldView<'_>) -> bool {
        f.label() == label::REPEATED
            && matches!(f.proto_type(), field_type::MESSAGE)
            && self
                .message_by_type_name(f.type_name())
                .is_some_and(|m| m.is_map_entry())
    }

    /// True when the field sits in a message that is a map entry.
    pub(crate) fn in_map_entry(&self, f: &FieldView<'_>) -> bool {
        f.message
            .is_some_and(|m| self.messages[m as usize].is_map_entry())
    }

    /// The oneof the field belongs to, unless it is proto3's synthetic one for `optional`.
    pub(crate) fn real_oneof(&self, f: &FieldView<'_>) -> Option<&'a str> {
        let m = &self.messages[f.message? as usize];
        let idx = usize::try_from(f.oneof_index()?).ok()?;
        let oneof = m.proto.oneof_decl.get(idx)?;
        if self.is_synthetic_oneof(m, idx) {
            return None;
        }
        Some(oneof.name.as_deref().unwrap_or(""))
    }

    /// Protobuf-go's `IsSynthetic`: a proto3 oneof holding exactly one `optional` field.
    pub(crate) fn is_synthetic_oneof(&self, m: &MessageRef<'_>, oneof: usize) -> bool {
        if self.files[m.file as usize].syntax != Syntax::Proto3 {
            return false;
        }
        let mut members = m
            .proto
            .field
            .iter()
            .filter(|f| f.oneof_index == Some(oneof as i32));
        match (members.next(), members.next()) {
            (Some(only), None) => opt_bool(only.proto3_optional),
            _ => false,
        }
    }

    /// The field's cardinality, as protobuf-go derives it.
    pub(crate) fn cardinality(&self, f: &FieldView<'_>) -> Cardinality {
        if f.label() == label::REPEATED {
            return if self.is_map(f) {
                Cardinality::Map
            } else {
                Cardinality::Repeated
            };
        }
        if f.label() == label::REQUIRED
            || f.features.field_presence == feature::PRESENCE_LEGACY_REQUIRED
        {
            return Cardinality::Required;
        }
        let file = &self.files[f.file as usize];
        let explicit = f.is_extension()
            || file.syntax == Syntax::Proto2
            || (file.syntax == Syntax::Editions
                && f.features.field_presence != feature::PRESENCE_IMPLICIT)
            || matches!(f.proto_type(), field_type::MESSAGE | field_type::GROUP)
            || f.oneof_index().is_some();
        if explicit {
            Cardinality::OptionalExplicit
        } else {
            Cardinality::OptionalImplicit
        }
    }
}

/// The name of a method's service, for messages.
pub(crate) fn method_name(m: &MethodProto) -> &str {
    m.name.as_deref().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_matches_go() {
        assert_eq!(clean("./current"), "current");
        assert_eq!(clean("current/"), "current");
        assert_eq!(clean("a/../b"), "b");
        assert_eq!(clean("../x/a.proto"), "../x/a.proto");
        assert_eq!(clean("/tmp//x/./y"), "/tmp/x/y");
        assert_eq!(clean(""), ".");
        assert_eq!(join_clean(".", "a.proto"), "a.proto");
        assert_eq!(join_clean("", "a/b.proto"), "a/b.proto");
    }

    #[test]
    fn json_names_follow_protoc() {
        assert_eq!(default_json_name("foo_bar_baz"), "fooBarBaz");
        assert_eq!(default_json_name("foo"), "foo");
        assert_eq!(default_json_name("foo__bar"), "fooBar");
    }
}
