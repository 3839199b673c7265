//! The build.rs API: the same generated code as the plugin, without protoc or buf. protox
//! compiles the `.proto` files (the well-known types are built in), and the files go to `OUT_DIR`.
//!
//! In `build.rs` (with `protoc-gen-cloudrun` as a build-dependency):
//!
//! ```no_run
//! fn main() -> Result<(), protoc_gen_cloudrun::Error> {
//!     protoc_gen_cloudrun::build::Builder::new()
//!         .client(false)
//!         .compile(&["proto/catalog.proto"], &["proto"])?;
//!     Ok(())
//! }
//! ```
//!
//! and in the crate:
//!
//! ```text
//! mod gen {
//!     include!(concat!(env!("OUT_DIR"), "/mod.rs"));
//! }
//! ```
//!
//! Every option of the plugin has a method of the same name; see the
//! [crate documentation](crate#options) for what they do. `import "cloudrun/auth.proto";` works
//! without a copy of the file: the builder provides it.

use std::path::{Path, PathBuf};

use crate::input::Input;
use crate::params::{Params, ParamsError, names};
use crate::{Error, Output};

/// Compiles `.proto` files and writes the generated code. See the [module documentation](self).
#[derive(Debug, Clone)]
#[must_use]
pub struct Builder {
    params: Params,
    error: Option<ParamsError>,
    out_dir: Option<PathBuf>,
    emit_rerun_if_changed: bool,
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

impl Builder {
    /// A builder with the plugin's defaults, writing to `OUT_DIR`, printing
    /// `cargo:rerun-if-changed` lines when run by cargo.
    pub fn new() -> Builder {
        Builder {
            params: Params::default(),
            error: None,
            out_dir: None,
            emit_rerun_if_changed: std::env::var_os("CARGO").is_some(),
        }
    }

    /// Writes to `dir` instead of `OUT_DIR`.
    pub fn out_dir(mut self, dir: impl Into<PathBuf>) -> Builder {
        self.out_dir = Some(dir.into());
        self
    }

    /// Whether to print `cargo:rerun-if-changed` for every `.proto` file read (default: when
    /// run by cargo).
    pub fn emit_rerun_if_changed(mut self, enable: bool) -> Builder {
        self.emit_rerun_if_changed = enable;
        self
    }

    /// Replaces all options.
    pub fn params(mut self, params: Params) -> Builder {
        self.params = params;
        self
    }

    /// Sets an option by its plugin name (`"client"`, `Some("false")`), as `opt:` would. An
    /// unknown option or bad value is reported by [`Builder::compile`].
    pub fn option(mut self, name: &str, value: Option<&str>) -> Builder {
        if self.error.is_none() {
            if let Err(error) = self.params.apply(name, value) {
                self.error = Some(error);
            }
        }
        self
    }

    fn flag(self, name: &str, enable: bool) -> Builder {
        self.option(name, Some(if enable { "true" } else { "false" }))
    }

    fn pair(self, name: &str, path: &str, value: &str) -> Builder {
        self.option(name, Some(&format!("{path}={value}")))
    }

    /// `client`: generate the tonic client and its Cloud Run constructors (default `true`).
    pub fn client(self, enable: bool) -> Builder {
        self.flag(names::CLIENT, enable)
    }

    /// `server`: generate the tonic server and its Cloud Run entry points (default `true`).
    pub fn server(self, enable: bool) -> Builder {
        self.flag(names::SERVER, enable)
    }

    /// `runtime_crate`: path of the runtime crate in the glue (default `::cloudrun_runtime`).
    pub fn runtime_crate(self, path: &str) -> Builder {
        self.option(names::RUNTIME_CRATE, Some(path))
    }

    /// `extern_path`: existing Rust code for a proto package or type.
    pub fn extern_path(self, proto_path: &str, rust_path: &str) -> Builder {
        self.pair(names::EXTERN_PATH, proto_path, rust_path)
    }

    /// `compile_well_known_types`: generate `google.protobuf` instead of using prost-types.
    pub fn compile_well_known_types(self, enable: bool) -> Builder {
        self.flag(names::COMPILE_WELL_KNOWN_TYPES, enable)
    }

    /// `type_attribute`: attribute on matching messages, enums and oneofs.
    pub fn type_attribute(self, path: &str, attribute: &str) -> Builder {
        self.pair(names::TYPE_ATTRIBUTE, path, attribute)
    }

    /// `message_attribute`: attribute on matching messages.
    pub fn message_attribute(self, path: &str, attribute: &str) -> Builder {
        self.pair(names::MESSAGE_ATTRIBUTE, path, attribute)
    }

    /// `enum_attribute`: attribute on matching enums and oneofs.
    pub fn enum_attribute(self, path: &str, attribute: &str) -> Builder {
        self.pair(names::ENUM_ATTRIBUTE, path, attribute)
    }

    /// `field_attribute`: attribute on matching fields.
    pub fn field_attribute(self, path: &str, attribute: &str) -> Builder {
        self.pair(names::FIELD_ATTRIBUTE, path, attribute)
    }

    /// `bytes`: `bytes::Bytes` for matching `bytes` fields.
    pub fn bytes(self, path: &str) -> Builder {
        self.option(names::BYTES, Some(path))
    }

    /// `btree_map`: `BTreeMap` for matching map fields.
    pub fn btree_map(self, path: &str) -> Builder {
        self.option(names::BTREE_MAP, Some(path))
    }

    /// `boxed`: box matching message fields.
    pub fn boxed(self, path: &str) -> Builder {
        self.option(names::BOXED, Some(path))
    }

    /// `disable_comments`: no doc comments for matching items.
    pub fn disable_comments(self, path: &str) -> Builder {
        self.option(names::DISABLE_COMMENTS, Some(path))
    }

    /// `retain_enum_prefix`: keep enum name prefixes on variants.
    pub fn retain_enum_prefix(self, enable: bool) -> Builder {
        self.flag(names::RETAIN_ENUM_PREFIX, enable)
    }

    /// `enable_type_names`: implement `prost::Name` for messages.
    pub fn enable_type_names(self, enable: bool) -> Builder {
        self.flag(names::ENABLE_TYPE_NAMES, enable)
    }

    /// `mod_file`: name of the file declaring the module tree (default `mod.rs`).
    pub fn mod_file(self, name: &str) -> Builder {
        self.option(names::MOD_FILE, Some(name))
    }

    /// Compiles `protos` (paths, or names relative to an include directory) with imports
    /// resolved in `includes`, and writes the package files and the module tree file.
    pub fn compile(
        &self,
        protos: &[impl AsRef<Path>],
        includes: &[impl AsRef<Path>],
    ) -> Result<Output, Error> {
        if let Some(error) = &self.error {
            return Err(error.clone().into());
        }
        let out_dir = match &self.out_dir {
            Some(dir) => dir.clone(),
            None => std::env::var_os("OUT_DIR")
                .map(PathBuf::from)
                .ok_or_else(|| {
                    Error::Compile(
                        "OUT_DIR is not set: run from a build script, or choose a directory with \
                     Builder::out_dir"
                            .to_string(),
                    )
                })?,
        };
        let input = compile_protos(protos, includes, &self.params)?;
        if self.emit_rerun_if_changed {
            for path in &input.1 {
                println!("cargo:rerun-if-changed={}", path.display());
            }
        }
        let output = crate::generate(&input.0, &self.params)?;
        write_output(&out_dir, &output)?;
        Ok(output)
    }
}

/// Compiles the files with protox; also returns every source file read, for cargo.
///
/// Like prost-build, code is generated for the imports too, as the generated code uses their
/// types; except for packages mapped to existing Rust code with `extern_path` (and the
/// well-known types, which prost-types provides unless `compile_well_known_types` is set).
fn compile_protos(
    protos: &[impl AsRef<Path>],
    includes: &[impl AsRef<Path>],
    params: &Params,
) -> Result<(Input, Vec<PathBuf>), Error> {
    let describe = |error: protox::Error| Error::Compile(format!("{error:?}"));
    // The include paths first (a copy of cloudrun/auth.proto there wins), then the options
    // file this crate ships, then the well-known types.
    let mut resolver = protox::file::ChainFileResolver::new();
    for include in includes {
        resolver.add(protox::file::IncludeFileResolver::new(
            include.as_ref().to_owned(),
        ));
    }
    resolver.add(ShippedProtos);
    resolver.add(protox::file::GoogleFileResolver::new());
    let mut compiler = protox::Compiler::with_file_resolver(resolver);
    compiler.include_imports(true).include_source_info(true);
    for proto in protos {
        compiler.open_file(proto.as_ref()).map_err(describe)?;
    }
    let pool = compiler.descriptor_pool();
    let mapped = |name: &str| {
        let package = pool
            .get_file_by_name(name)
            .map(|file| format!(".{}", file.package_name()))
            .unwrap_or_default();
        params.extern_paths.iter().any(|(proto, _)| {
            package == *proto
                || package
                    .strip_prefix(proto.as_str())
                    .is_some_and(|rest| rest.starts_with('.'))
        })
    };
    let file_to_generate: Vec<String> = compiler
        .files()
        .filter(|file| !file.is_import() || !mapped(file.name()))
        .map(|file| file.name().to_string())
        .collect();
    let sources: Vec<PathBuf> = compiler
        .files()
        .filter_map(|file| file.path().map(Path::to_path_buf))
        .collect();
    let bytes = compiler.encode_file_descriptor_set();
    let input = Input::from_descriptor_set_bytes(&bytes, file_to_generate, String::new())?;
    Ok((input, sources))
}

/// Serves `cloudrun/auth.proto`, so that build scripts need no copy of it.
struct ShippedProtos;

impl protox::file::FileResolver for ShippedProtos {
    fn open_file(&self, name: &str) -> Result<protox::file::File, protox::Error> {
        if name == crate::AUTH_PROTO_NAME {
            protox::file::File::from_source(name, crate::AUTH_PROTO)
        } else {
            Err(protox::Error::file_not_found(name))
        }
    }
}

fn write_output(out_dir: &Path, output: &Output) -> Result<(), Error> {
    let files = output
        .files
        .iter()
        .map(|file| (file.name.as_str(), file.content.clone()))
        .chain(std::iter::once((
            output.mod_file.name.as_str(),
            output.mod_file.complete(),
        )));
    for (name, content) in files {
        let path = out_dir.join(name);
        let write_error = |source| Error::Write {
            path: path.clone(),
            source,
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(write_error)?;
        }
        // Unchanged files keep their modification time, so cargo does not rebuild for nothing.
        if std::fs::read(&path).is_ok_and(|old| old == content.as_bytes()) {
            continue;
        }
        std::fs::write(&path, content).map_err(write_error)?;
    }
    Ok(())
}
