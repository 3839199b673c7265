//! What the generator reads: the files of a `CodeGeneratorRequest` (or of a compiled
//! `FileDescriptorSet`), both decoded and as the exact bytes protoc sent.
//!
//! The decoded files drive code generation. The bytes become the embedded descriptor sets that
//! reflection serves: decoding into prost-types and encoding again would drop whatever prost-types
//! does not know, custom options such as `(google.api.http)` first, so the bytes are kept as sent
//! and only `source_code_info` (comments and spans, a large share of the size) is cut out of them
//! at the wire level.

use prost::Message;
use prost_types::FileDescriptorProto;
use prost_types::compiler::CodeGeneratorRequest;

/// Files to generate code for and everything they import.
#[derive(Debug, Clone)]
pub struct Input {
    /// Every file: those to generate and their transitive imports, imports first.
    pub files: Vec<FileDescriptorProto>,
    /// `files[i]` encoded as received, without `source_code_info`.
    pub encoded: Vec<Vec<u8>>,
    /// Names of the files to generate code for.
    pub file_to_generate: Vec<String>,
    /// The plugin parameter (`opt:` / `--cloudrun_opt`).
    pub parameter: String,
    /// The compiler version protoc sends (`35.1`); buf sends none.
    pub compiler_version: Option<String>,
}

/// Input that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The bytes are not a protobuf message of the expected type.
    #[error("cannot decode the {what}: {source}; {hint}")]
    Decode {
        /// What was being decoded.
        what: &'static str,
        /// The decoding error.
        source: prost::DecodeError,
        /// How the bytes are supposed to arrive.
        hint: &'static str,
    },
    /// A file descriptor could not be read at the wire level.
    #[error("cannot read the descriptor of {file}: {problem}")]
    Wire {
        /// The file name, or its position when the name is unreadable.
        file: String,
        /// What is malformed.
        problem: &'static str,
    },
    /// A file to generate is not among the files sent.
    #[error("`{0}` is listed in file_to_generate but its descriptor was not sent in proto_file")]
    MissingFile(String),
    /// Nothing to generate.
    #[error(
        "the CodeGeneratorRequest names no file to generate; protoc-gen-cloudrun is a protoc \
         plugin: run it through `buf generate` or `protoc --cloudrun_out=DIR`, which send the \
         request on stdin (`protoc-gen-cloudrun --help` for more)"
    )]
    NothingToGenerate,
}

const REQUEST_HINT: &str = "protoc-gen-cloudrun reads a CodeGeneratorRequest on stdin, as sent by \
                            `buf generate` or `protoc --cloudrun_out=DIR`";

/// Only the files of a `CodeGeneratorRequest` (field 15), as bytes.
#[derive(Clone, PartialEq, Message)]
struct RawRequestFiles {
    #[prost(bytes = "vec", repeated, tag = "15")]
    proto_file: Vec<Vec<u8>>,
}

/// Only the files of a `FileDescriptorSet` (field 1), as bytes.
#[derive(Clone, PartialEq, Message)]
struct RawDescriptorSet {
    #[prost(bytes = "vec", repeated, tag = "1")]
    file: Vec<Vec<u8>>,
}

/// `FileDescriptorProto.source_code_info`.
const SOURCE_CODE_INFO_FIELD: u64 = 9;

impl Input {
    /// Reads an encoded `CodeGeneratorRequest`.
    pub fn from_request_bytes(bytes: &[u8]) -> Result<Input, InputError> {
        let decode_error = |source| InputError::Decode {
            what: "CodeGeneratorRequest",
            source,
            hint: REQUEST_HINT,
        };
        let request = CodeGeneratorRequest::decode(bytes).map_err(decode_error)?;
        let raw = RawRequestFiles::decode(bytes).map_err(decode_error)?;
        let mut input = Input::new(
            request.proto_file,
            raw.proto_file,
            request.file_to_generate,
            request.parameter.unwrap_or_default(),
        )?;
        input.compiler_version = request.compiler_version.map(|v| {
            let mut version = format!("{}.{}", v.major(), v.minor());
            if v.patch() != 0 {
                version.push_str(&format!(".{}", v.patch()));
            }
            version.push_str(v.suffix());
            version
        });
        Ok(input)
    }

    /// Reads an encoded `FileDescriptorSet` (as `protox` or `buf build -o` write it), generating
    /// code for `file_to_generate`.
    pub fn from_descriptor_set_bytes(
        bytes: &[u8],
        file_to_generate: Vec<String>,
        parameter: String,
    ) -> Result<Input, InputError> {
        let decode_error = |source| InputError::Decode {
            what: "FileDescriptorSet",
            source,
            hint: "expected an encoded google.protobuf.FileDescriptorSet",
        };
        let set = prost_types::FileDescriptorSet::decode(bytes).map_err(decode_error)?;
        let raw = RawDescriptorSet::decode(bytes).map_err(decode_error)?;
        Input::new(set.file, raw.file, file_to_generate, parameter)
    }

    fn new(
        files: Vec<FileDescriptorProto>,
        raw: Vec<Vec<u8>>,
        file_to_generate: Vec<String>,
        parameter: String,
    ) -> Result<Input, InputError> {
        let encoded = files
            .iter()
            .zip(&raw)
            .enumerate()
            .map(|(index, (file, bytes))| {
                strip_field(bytes, SOURCE_CODE_INFO_FIELD).map_err(|problem| InputError::Wire {
                    file: file
                        .name
                        .clone()
                        .unwrap_or_else(|| format!("proto_file #{index}")),
                    problem,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if file_to_generate.is_empty() {
            return Err(InputError::NothingToGenerate);
        }
        for name in &file_to_generate {
            if !files.iter().any(|file| file.name() == name) {
                return Err(InputError::MissingFile(name.clone()));
            }
        }
        Ok(Input {
            files,
            encoded,
            file_to_generate,
            parameter,
            compiler_version: None,
        })
    }
}

/// `message` without any occurrence of field `field`, every other byte as it was.
fn strip_field(message: &[u8], field: u64) -> Result<Vec<u8>, &'static str> {
    let mut out = Vec::with_capacity(message.len());
    let mut rest = message;
    while !rest.is_empty() {
        let start = rest;
        let key = read_varint(&mut rest)?;
        match key & 7 {
            0 => {
                read_varint(&mut rest)?;
            }
            1 => advance(&mut rest, 8)?,
            2 => {
                let len = read_varint(&mut rest)?;
                let len = usize::try_from(len).map_err(|_| "length out of range")?;
                advance(&mut rest, len)?;
            }
            5 => advance(&mut rest, 4)?,
            // Groups do not occur in descriptors.
            _ => return Err("unsupported wire type"),
        }
        if key >> 3 != field {
            out.extend_from_slice(&start[..start.len() - rest.len()]);
        }
    }
    Ok(out)
}

fn read_varint(buf: &mut &[u8]) -> Result<u64, &'static str> {
    let mut value = 0u64;
    for (i, byte) in buf.iter().enumerate().take(10) {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            *buf = &buf[i + 1..];
            return Ok(value);
        }
    }
    Err("truncated or overlong varint")
}

fn advance(buf: &mut &[u8], len: usize) -> Result<(), &'static str> {
    if buf.len() < len {
        return Err("truncated field");
    }
    *buf = &buf[len..];
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost_types::{SourceCodeInfo, source_code_info::Location};

    #[test]
    fn strips_only_source_info_and_keeps_unknown_fields() {
        let file = FileDescriptorProto {
            name: Some("a.proto".into()),
            package: Some("a".into()),
            source_code_info: Some(SourceCodeInfo {
                location: vec![Location {
                    path: vec![4, 0],
                    span: vec![1, 2, 3],
                    leading_comments: Some(" hi".into()),
                    ..Location::default()
                }],
            }),
            syntax: Some("proto3".into()),
            ..FileDescriptorProto::default()
        };
        let mut bytes = file.encode_to_vec();
        // An extension prost-types does not know: field 9999, varint 7.
        bytes.extend_from_slice(&[0xf8, 0xf0, 0x04, 0x07]);
        let stripped = strip_field(&bytes, SOURCE_CODE_INFO_FIELD).unwrap();
        assert!(stripped.ends_with(&[0xf8, 0xf0, 0x04, 0x07]));
        let decoded = FileDescriptorProto::decode(stripped.as_slice()).unwrap();
        assert_eq!(
            decoded,
            FileDescriptorProto {
                source_code_info: None,
                ..file
            }
        );
    }

    #[test]
    fn malformed_bytes_are_errors() {
        assert_eq!(strip_field(&[0x0a, 0x05, 0x61], 9), Err("truncated field"));
        assert_eq!(strip_field(&[0x08], 9), Err("truncated or overlong varint"));
        assert_eq!(strip_field(&[0x0b], 9), Err("unsupported wire type"));
    }
}
