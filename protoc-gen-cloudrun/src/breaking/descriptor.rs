//! The slice of `google/protobuf/descriptor.proto` the rules read, decoded straight from the wire.
//!
//! These are our own prost messages rather than `prost_types`, for three reasons:
//! - a buf image (`buf.alpha.image.v1.Image`) is wire-compatible with a `FileDescriptorSet` except
//!   for its `buf_extension` (field 8042 of each file), which tells imports apart; declaring it here
//!   lets one decode read both formats;
//! - editions keep the C++ and Java features as extensions of `FeatureSet` (`pb.cpp` = 1000,
//!   `pb.java` = 1001), which `prost_types` drops as unknown fields; here they are plain fields;
//! - everything the rules never read (most options, custom options) is skipped by the decoder
//!   instead of being allocated, and source info is kept as undecoded bytes (a slice of the
//!   input, no copy) until a finding needs a location in that file, which matters on large
//!   inputs.
//!
//! Field numbers are descriptor.proto's; unknown fields are ignored, as buf does.

use prost::Message;

/// A `FileDescriptorSet`, or a buf image: both keep their files in field 1.
#[derive(Clone, PartialEq, Message)]
pub struct FileSet {
    /// The files, dependencies before dependents when the producer sorted them.
    #[prost(message, repeated, tag = "1")]
    pub file: Vec<FileProto>,
}

/// `FileDescriptorProto`, plus buf's image extension.
#[derive(Clone, PartialEq, Message)]
pub struct FileProto {
    #[prost(string, optional, tag = "1")]
    pub name: Option<String>,
    #[prost(string, optional, tag = "2")]
    pub package: Option<String>,
    #[prost(string, repeated, tag = "3")]
    pub dependency: Vec<String>,
    #[prost(message, repeated, tag = "4")]
    pub message_type: Vec<MessageProto>,
    #[prost(message, repeated, tag = "5")]
    pub enum_type: Vec<EnumProto>,
    #[prost(message, repeated, tag = "6")]
    pub service: Vec<ServiceProto>,
    #[prost(message, repeated, tag = "7")]
    pub extension: Vec<FieldProto>,
    #[prost(message, optional, tag = "8")]
    pub options: Option<FileOptions>,
    /// The encoded `SourceCodeInfo`, decoded on demand ([`SourceCodeInfo`]).
    #[prost(bytes = "bytes", optional, tag = "9")]
    pub source_code_info: Option<bytes::Bytes>,
    #[prost(int32, repeated, packed = "false", tag = "10")]
    pub public_dependency: Vec<i32>,
    #[prost(string, optional, tag = "12")]
    pub syntax: Option<String>,
    #[prost(int32, optional, tag = "14")]
    pub edition: Option<i32>,
    /// `buf.alpha.image.v1.ImageFileExtension`, present in images written by `buf build`.
    #[prost(message, optional, tag = "8042")]
    pub buf_extension: Option<ImageFileExtension>,
}

/// The part of buf's per-file image extension that matters here.
#[derive(Clone, PartialEq, Message)]
pub struct ImageFileExtension {
    /// The file is not part of the module being built, only imported by it.
    #[prost(bool, optional, tag = "1")]
    pub is_import: Option<bool>,
}

#[derive(Clone, PartialEq, Message)]
pub struct MessageProto {
    #[prost(string, optional, tag = "1")]
    pub name: Option<String>,
    #[prost(message, repeated, tag = "2")]
    pub field: Vec<FieldProto>,
    #[prost(message, repeated, tag = "3")]
    pub nested_type: Vec<MessageProto>,
    #[prost(message, repeated, tag = "4")]
    pub enum_type: Vec<EnumProto>,
    #[prost(message, repeated, tag = "5")]
    pub extension_range: Vec<Range>,
    #[prost(message, repeated, tag = "6")]
    pub extension: Vec<FieldProto>,
    #[prost(message, optional, tag = "7")]
    pub options: Option<MessageOptions>,
    #[prost(message, repeated, tag = "8")]
    pub oneof_decl: Vec<OneofProto>,
    #[prost(message, repeated, tag = "9")]
    pub reserved_range: Vec<Range>,
    #[prost(string, repeated, tag = "10")]
    pub reserved_name: Vec<String>,
}

/// A reserved or extension range; messages store `end` exclusive, enums inclusive.
#[derive(Clone, PartialEq, Message)]
pub struct Range {
    #[prost(int32, optional, tag = "1")]
    pub start: Option<i32>,
    #[prost(int32, optional, tag = "2")]
    pub end: Option<i32>,
}

#[derive(Clone, PartialEq, Message)]
pub struct FieldProto {
    #[prost(string, optional, tag = "1")]
    pub name: Option<String>,
    #[prost(string, optional, tag = "2")]
    pub extendee: Option<String>,
    #[prost(int32, optional, tag = "3")]
    pub number: Option<i32>,
    #[prost(int32, optional, tag = "4")]
    pub label: Option<i32>,
    #[prost(int32, optional, tag = "5")]
    pub r#type: Option<i32>,
    #[prost(string, optional, tag = "6")]
    pub type_name: Option<String>,
    #[prost(string, optional, tag = "7")]
    pub default_value: Option<String>,
    #[prost(message, optional, tag = "8")]
    pub options: Option<FieldOptions>,
    #[prost(int32, optional, tag = "9")]
    pub oneof_index: Option<i32>,
    #[prost(string, optional, tag = "10")]
    pub json_name: Option<String>,
    #[prost(bool, optional, tag = "17")]
    pub proto3_optional: Option<bool>,
}

#[derive(Clone, PartialEq, Message)]
pub struct OneofProto {
    #[prost(string, optional, tag = "1")]
    pub name: Option<String>,
}

#[derive(Clone, PartialEq, Message)]
pub struct EnumProto {
    #[prost(string, optional, tag = "1")]
    pub name: Option<String>,
    #[prost(message, repeated, tag = "2")]
    pub value: Vec<EnumValueProto>,
    #[prost(message, optional, tag = "3")]
    pub options: Option<EnumOptions>,
    #[prost(message, repeated, tag = "4")]
    pub reserved_range: Vec<Range>,
    #[prost(string, repeated, tag = "5")]
    pub reserved_name: Vec<String>,
}

#[derive(Clone, PartialEq, Message)]
pub struct EnumValueProto {
    #[prost(string, optional, tag = "1")]
    pub name: Option<String>,
    #[prost(int32, optional, tag = "2")]
    pub number: Option<i32>,
    #[prost(message, optional, tag = "3")]
    pub options: Option<EnumValueOptions>,
}

#[derive(Clone, PartialEq, Message)]
pub struct ServiceProto {
    #[prost(string, optional, tag = "1")]
    pub name: Option<String>,
    #[prost(message, repeated, tag = "2")]
    pub method: Vec<MethodProto>,
    #[prost(message, optional, tag = "3")]
    pub options: Option<ServiceOptions>,
}

#[derive(Clone, PartialEq, Message)]
pub struct MethodProto {
    #[prost(string, optional, tag = "1")]
    pub name: Option<String>,
    #[prost(string, optional, tag = "2")]
    pub input_type: Option<String>,
    #[prost(string, optional, tag = "3")]
    pub output_type: Option<String>,
    #[prost(message, optional, tag = "4")]
    pub options: Option<MethodOptions>,
    #[prost(bool, optional, tag = "5")]
    pub client_streaming: Option<bool>,
    #[prost(bool, optional, tag = "6")]
    pub server_streaming: Option<bool>,
}

#[derive(Clone, PartialEq, Message)]
pub struct FileOptions {
    #[prost(string, optional, tag = "1")]
    pub java_package: Option<String>,
    #[prost(string, optional, tag = "8")]
    pub java_outer_classname: Option<String>,
    #[prost(int32, optional, tag = "9")]
    pub optimize_for: Option<i32>,
    #[prost(bool, optional, tag = "10")]
    pub java_multiple_files: Option<bool>,
    #[prost(string, optional, tag = "11")]
    pub go_package: Option<String>,
    #[prost(bool, optional, tag = "16")]
    pub cc_generic_services: Option<bool>,
    #[prost(bool, optional, tag = "17")]
    pub java_generic_services: Option<bool>,
    #[prost(bool, optional, tag = "18")]
    pub py_generic_services: Option<bool>,
    #[prost(bool, optional, tag = "23")]
    pub deprecated: Option<bool>,
    #[prost(bool, optional, tag = "27")]
    pub java_string_check_utf8: Option<bool>,
    #[prost(bool, optional, tag = "31")]
    pub cc_enable_arenas: Option<bool>,
    #[prost(string, optional, tag = "36")]
    pub objc_class_prefix: Option<String>,
    #[prost(string, optional, tag = "37")]
    pub csharp_namespace: Option<String>,
    #[prost(string, optional, tag = "39")]
    pub swift_prefix: Option<String>,
    #[prost(string, optional, tag = "40")]
    pub php_class_prefix: Option<String>,
    #[prost(string, optional, tag = "41")]
    pub php_namespace: Option<String>,
    #[prost(string, optional, tag = "44")]
    pub php_metadata_namespace: Option<String>,
    #[prost(string, optional, tag = "45")]
    pub ruby_package: Option<String>,
    #[prost(message, optional, tag = "50")]
    pub features: Option<FeatureSet>,
}

#[derive(Clone, PartialEq, Message)]
pub struct MessageOptions {
    #[prost(bool, optional, tag = "1")]
    pub message_set_wire_format: Option<bool>,
    #[prost(bool, optional, tag = "2")]
    pub no_standard_descriptor_accessor: Option<bool>,
    #[prost(bool, optional, tag = "3")]
    pub deprecated: Option<bool>,
    #[prost(bool, optional, tag = "7")]
    pub map_entry: Option<bool>,
    #[prost(message, optional, tag = "12")]
    pub features: Option<FeatureSet>,
}

#[derive(Clone, PartialEq, Message)]
pub struct FieldOptions {
    #[prost(int32, optional, tag = "1")]
    pub ctype: Option<i32>,
    #[prost(bool, optional, tag = "3")]
    pub deprecated: Option<bool>,
    #[prost(int32, optional, tag = "6")]
    pub jstype: Option<i32>,
    #[prost(message, optional, tag = "21")]
    pub features: Option<FeatureSet>,
}

#[derive(Clone, PartialEq, Message)]
pub struct EnumOptions {
    #[prost(bool, optional, tag = "3")]
    pub deprecated: Option<bool>,
    #[prost(message, optional, tag = "7")]
    pub features: Option<FeatureSet>,
}

#[derive(Clone, PartialEq, Message)]
pub struct EnumValueOptions {
    #[prost(bool, optional, tag = "1")]
    pub deprecated: Option<bool>,
}

#[derive(Clone, PartialEq, Message)]
pub struct ServiceOptions {
    #[prost(bool, optional, tag = "33")]
    pub deprecated: Option<bool>,
}

#[derive(Clone, PartialEq, Message)]
pub struct MethodOptions {
    #[prost(bool, optional, tag = "33")]
    pub deprecated: Option<bool>,
    #[prost(int32, optional, tag = "34")]
    pub idempotency_level: Option<i32>,
}

/// `google.protobuf.FeatureSet` with the C++ and Java language features inlined.
#[derive(Clone, PartialEq, Message)]
pub struct FeatureSet {
    #[prost(int32, optional, tag = "1")]
    pub field_presence: Option<i32>,
    #[prost(int32, optional, tag = "2")]
    pub enum_type: Option<i32>,
    #[prost(int32, optional, tag = "4")]
    pub utf8_validation: Option<i32>,
    #[prost(int32, optional, tag = "5")]
    pub message_encoding: Option<i32>,
    #[prost(int32, optional, tag = "6")]
    pub json_format: Option<i32>,
    /// `(pb.cpp)`: `pb.CppFeatures`.
    #[prost(message, optional, tag = "1000")]
    pub cpp: Option<CppFeatures>,
    /// `(pb.java)`: `pb.JavaFeatures`.
    #[prost(message, optional, tag = "1001")]
    pub java: Option<JavaFeatures>,
}

#[derive(Clone, PartialEq, Message)]
pub struct CppFeatures {
    #[prost(int32, optional, tag = "2")]
    pub string_type: Option<i32>,
}

#[derive(Clone, PartialEq, Message)]
pub struct JavaFeatures {
    #[prost(int32, optional, tag = "2")]
    pub utf8_validation: Option<i32>,
}

#[derive(Clone, PartialEq, Message)]
pub struct SourceCodeInfo {
    #[prost(message, repeated, tag = "1")]
    pub location: Vec<Location>,
}

/// One source location; comments (fields 3, 4, 6) are skipped on purpose.
#[derive(Clone, PartialEq, Message)]
pub struct Location {
    #[prost(int32, repeated, tag = "1")]
    pub path: Vec<i32>,
    #[prost(int32, repeated, tag = "2")]
    pub span: Vec<i32>,
}

/// `FieldDescriptorProto.Type` values.
pub mod field_type {
    pub const DOUBLE: i32 = 1;
    pub const FLOAT: i32 = 2;
    pub const INT64: i32 = 3;
    pub const UINT64: i32 = 4;
    pub const INT32: i32 = 5;
    pub const FIXED64: i32 = 6;
    pub const FIXED32: i32 = 7;
    pub const BOOL: i32 = 8;
    pub const STRING: i32 = 9;
    pub const GROUP: i32 = 10;
    pub const MESSAGE: i32 = 11;
    pub const BYTES: i32 = 12;
    pub const UINT32: i32 = 13;
    pub const ENUM: i32 = 14;
    pub const SFIXED32: i32 = 15;
    pub const SFIXED64: i32 = 16;
    pub const SINT32: i32 = 17;
    pub const SINT64: i32 = 18;
}

/// `FieldDescriptorProto.Label` values.
pub mod label {
    pub const OPTIONAL: i32 = 1;
    pub const REQUIRED: i32 = 2;
    pub const REPEATED: i32 = 3;
}

/// `Edition` values.
pub mod edition {
    pub const PROTO2: i32 = 998;
    pub const PROTO3: i32 = 999;
    pub const E2023: i32 = 1000;
    pub const E2024: i32 = 1001;
}

/// Decodes a `FileDescriptorSet` or buf image. Source info stays in `bytes` (shared, not
/// copied).
pub fn decode_file_set(bytes: bytes::Bytes) -> Result<FileSet, prost::DecodeError> {
    FileSet::decode(bytes)
}
