//! Building a `CodeGeneratorRequest` the way protoc/buf hand one to a plugin, so that plugins can be
//! timed on exactly the same bytes.

use std::path::Path;

use anyhow::{Context as _, bail};
use prost::Message as _;
use prost::encoding::{WireType, encode_key, encode_varint};
use prost_types::compiler::CodeGeneratorRequest;
use protox::file::{ChainFileResolver, GoogleFileResolver, IncludeFileResolver};

/// `CodeGeneratorRequest.proto_file`'s field number (google/protobuf/compiler/plugin.proto).
const PROTO_FILE_FIELD: u32 = 15;

/// Which files a request asks the plugin to generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Generate {
    /// Only the named files (protoc with those files on its command line).
    Named,
    /// The named files and everything they import except the well-known types, which every Rust
    /// plugin maps to prost-types (`buf generate --include-imports`): a self-contained crate.
    WithImports,
}

/// The package of the well-known types, never generated (see [`Generate::WithImports`]).
const WELL_KNOWN_PREFIX: &str = "google/protobuf/";

/// The encoded request for `names` (proto file names relative to `root`, like protoc's arguments
/// after `-I root`): `file_to_generate` is chosen by `generate`, `proto_file` is every file needed
/// in dependency order (protoc's include_imports), with source info and extension options kept.
///
/// # Errors
/// A file that does not compile, named together with the file protox reports the error in.
pub fn codegen_request(
    root: &Path,
    names: &[String],
    parameter: &str,
    generate: Generate,
) -> anyhow::Result<Vec<u8>> {
    if names.is_empty() {
        bail!("no .proto files to generate from {}", root.display());
    }
    // The well-known types come from protox itself, ahead of the include root: proto sets such as
    // google-proto-files vendor a newer google/protobuf/descriptor.proto (editions syntax) that
    // protox does not parse, and every protoc ships its own copy of these files anyway.
    let mut resolver = ChainFileResolver::new();
    resolver.add(GoogleFileResolver::new());
    resolver.add(IncludeFileResolver::new(root.to_owned()));
    let mut compiler = protox::Compiler::with_file_resolver(resolver);
    compiler.include_imports(true).include_source_info(true);
    for name in names {
        compiler.open_file(name).map_err(|e| {
            // protox's message alone does not say where; the file it names may be an import.
            let at = e.file().unwrap_or(name);
            anyhow::anyhow!("compiling {name} under {}: in {at}: {e}", root.display())
        })?;
    }

    let pool = compiler.descriptor_pool();
    let file_to_generate = match generate {
        Generate::Named => names.to_vec(),
        Generate::WithImports => pool
            .files()
            .map(|f| f.name().to_owned())
            .filter(|name| !name.starts_with(WELL_KNOWN_PREFIX))
            .collect(),
    };
    let head = CodeGeneratorRequest {
        file_to_generate,
        parameter: (!parameter.is_empty()).then(|| parameter.to_owned()),
        ..Default::default()
    };
    let mut request = head.encode_to_vec();
    // prost_types' FileDescriptorProto drops extension options (google.api.http and friends), which
    // protoc does send; the pool's own encoding keeps them, so each file is appended as field 15 by
    // hand. protoc, too, writes proto_file after the other fields.
    for file in pool.files() {
        let bytes = file.encode_to_vec();
        encode_key(PROTO_FILE_FIELD, WireType::LengthDelimited, &mut request);
        encode_varint(bytes.len() as u64, &mut request);
        request.extend_from_slice(&bytes);
    }
    Ok(request)
}

/// The `.proto` files at `input` (a file, or a directory searched recursively), as names relative
/// to `root`, appended to `names`.
///
/// # Errors
/// When `input` does not exist under `root` or cannot be listed.
pub fn collect_protos(root: &Path, input: &Path, names: &mut Vec<String>) -> anyhow::Result<()> {
    let full = root.join(input);
    let meta = std::fs::metadata(&full).with_context(|| {
        format!(
            "{} (inputs are named relative to the include root)",
            full.display()
        )
    })?;
    if meta.is_file() {
        let name = input
            .to_str()
            .with_context(|| format!("{} is not valid UTF-8", input.display()))?
            .replace('\\', "/");
        names.push(name);
        return Ok(());
    }
    let entries =
        std::fs::read_dir(&full).with_context(|| format!("listing {}", full.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("listing {}", full.display()))?;
        let child = input.join(entry.file_name());
        let file_type = entry
            .file_type()
            .with_context(|| format!("reading {}", child.display()))?;
        if file_type.is_dir() || child.extension().is_some_and(|e| e == "proto") {
            collect_protos(root, &child, names)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn request_lists_imports_first_and_keeps_extension_options() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "opts/tag.proto",
            "syntax = \"proto3\";\npackage opts;\nimport \"google/protobuf/descriptor.proto\";\n\
             extend google.protobuf.FileOptions { string tag = 50000; }\n",
        );
        write(
            dir.path(),
            "app/a.proto",
            "syntax = \"proto3\";\npackage app;\nimport \"opts/tag.proto\";\n\
             option (opts.tag) = \"xyz\";\n// A thing.\nmessage A {}\n",
        );
        let mut names = Vec::new();
        collect_protos(dir.path(), Path::new("app"), &mut names).unwrap();
        assert_eq!(names, ["app/a.proto"]);

        let bytes = codegen_request(dir.path(), &names, "k=v", Generate::Named).unwrap();
        let request = CodeGeneratorRequest::decode(bytes.as_slice()).unwrap();
        assert_eq!(request.file_to_generate, ["app/a.proto"]);
        assert_eq!(request.parameter(), "k=v");
        let files: Vec<&str> = request.proto_file.iter().map(|f| f.name()).collect();
        assert_eq!(
            files,
            [
                "google/protobuf/descriptor.proto",
                "opts/tag.proto",
                "app/a.proto"
            ]
        );
        let a = &request.proto_file[2];
        assert!(
            a.source_code_info.is_some(),
            "source info is what plugins read comments from"
        );
        // Option 50000 as a string: key (50000 << 3 | 2) as a varint, length 3, "xyz".
        let mut option = Vec::new();
        encode_key(50000, WireType::LengthDelimited, &mut option);
        option.extend_from_slice(&[3, b'x', b'y', b'z']);
        assert!(
            bytes.windows(option.len()).any(|w| w == option),
            "the custom option was dropped"
        );
    }

    #[test]
    fn errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "bad.proto", "syntax = \"proto3\";\nmessage {\n");
        let err =
            codegen_request(dir.path(), &["bad.proto".into()], "", Generate::Named).unwrap_err();
        assert!(err.to_string().contains("bad.proto"), "{err}");
        let err = collect_protos(dir.path(), Path::new("missing"), &mut Vec::new()).unwrap_err();
        assert!(err.to_string().contains("missing"), "{err}");
    }
}
