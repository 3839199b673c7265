//! protoc-gen-cloudrun generates, from gRPC service definitions, the Rust code of a service ready
//! for Google Cloud Run: [prost] messages, [tonic] clients and servers, and for every service a
//! small Cloud Run module that serves it through the `cloudrun-runtime` crate.
//!
//! [prost]: https://docs.rs/prost
//! [tonic]: https://docs.rs/tonic
//!
//! # Running it
//!
//! With buf, in `buf.gen.yaml`:
//!
//! ```yaml
//! version: v2
//! plugins:
//!   - local: protoc-gen-cloudrun
//!     out: src/gen
//!     strategy: all    # recommended when protos live in several directories, see below
//!     opt:
//!       - client=false
//! ```
//!
//! With protoc: `protoc -I proto --cloudrun_out=src/gen --cloudrun_opt=client=false proto/*.proto`.
//!
//! Without either, from `build.rs` (feature `build`, on by default; see [`build`]):
//!
//! ```no_run
//! # fn main() -> Result<(), protoc_gen_cloudrun::Error> {
//! protoc_gen_cloudrun::build::Builder::new().compile(&["proto/catalog.proto"], &["proto"])?;
//! # Ok(()) }
//! ```
//!
//! `protoc-gen-cloudrun --version` prints the version. The plugin declares support for proto3
//! `optional` fields. Every failure is reported in the response's `error` field, which protoc and
//! buf print, naming the file, option or value at fault.
//!
//! # What it writes
//!
//! - One file per proto package, named after the package: `catalog.v1.rs`, and `_.rs` for files
//!   without a `package`. Each holds the package's messages and enums (prost-build), the client
//!   and server of each service (tonic-build), the Cloud Run glue of each service, and
//!   `FILE_DESCRIPTOR_SET`: the encoded `FileDescriptorSet` of the package and all it imports,
//!   for gRPC reflection.
//! - `mod.rs`, which declares the whole module tree (`google.api` becomes `google::api`), so that
//!   `mod gen;` is all a crate writes (`mod r#gen;` in edition 2024, where `gen` is reserved).
//!   Items of files without a package sit at the root of that tree.
//!
//! The glue of a service `catalog.ProductCatalog` is a module `product_catalog_cloudrun` with
//! `SERVICE_NAME`, `METHODS` (each RPC's path, `idempotency_level` and streaming, for the
//! runtime), for the server `service(impl) -> ServiceDef` and `async fn serve(impl)`:
//!
//! ```text
//! mod gen;
//!
//! #[tokio::main]
//! async fn main() -> Result<(), cloudrun_runtime::Error> {
//!     gen::catalog::product_catalog_cloudrun::serve(MyCatalog::default()).await
//! }
//! ```
//!
//! and for the client a `Client` type (tonic's client over the runtime's channel: TLS, Google ID
//! tokens cached per lifetime, deadlines, retries of safe methods) with three constructors:
//!
//! ```text
//! let trainer = gen::trainer::trainer_service_cloudrun::client("https://trainer-xyz-uc.a.run.app").await?;
//! let users = gen::users::users_service_cloudrun::client_from_env().await?; // USERS_GRPC_ADDR
//! let custom = gen::users::users_service_cloudrun::client_with(config).await?;
//! ```
//!
//! `client_from_env` follows seed 001's convention: the address comes from `ADDRESS_ENV`, the
//! service name without a trailing `Service` in upper snake case followed by `_GRPC_ADDR`
//! (`TrainerService` reads `TRAINER_GRPC_ADDR`, `ProductCatalog` reads
//! `PRODUCT_CATALOG_GRPC_ADDR`), and `GRPC_NO_TLS=1` gives plaintext h2c without tokens.
//! Services of the same name in different packages share the variable; give one of them its own
//! with `client_with(ClientConfig::from_env("OTHER_GRPC_ADDR")?)`.
//!
//! # Caller rules
//!
//! Who may call a method is declared in the proto with the options of `cloudrun/auth.proto`,
//! which this crate ships ([`AUTH_PROTO`]; copy it into your proto root, or let the build.rs
//! API provide it):
//!
//! ```text
//! import "cloudrun/auth.proto";
//!
//! service TrainerService {
//!   rpc UpdateHour(UpdateHourRequest) returns (EmptyResponse) {
//!     option (cloudrun.auth.method) = {
//!       allowed_principals: ["trainings@my-project.iam.gserviceaccount.com"]
//!       required_claims: [{ name: "email_verified" value: "true" }]
//!     };
//!   }
//!   rpc Status(StatusRequest) returns (StatusResponse) {
//!     option (cloudrun.auth.method) = { allow_unauthenticated: true };
//!   }
//! }
//! ```
//!
//! `(cloudrun.auth.service)` sets the rule of every method of a service that has none of its
//! own. The rules land in `METHODS` as static data, and the runtime enforces them when
//! `CLOUDRUN_AUTH_MODE` is `verify` or `platform`. A principal the runtime could never match
//! (`ops-team`, `domain:`) fails generation with a message naming the file, the method and the
//! value. No code is generated for `cloudrun/auth.proto` itself.
//!
//! The generated code needs `cloudrun-runtime` (for the glue), `prost`, `prost-types`, `tonic`
//! and `tonic-prost`. It compiles without warnings in editions 2021 and 2024; proto comments
//! become documentation, with code blocks turned into `text` blocks so that none becomes a
//! failing doctest. Deprecated files, services, methods, messages, fields and enum values are
//! `#[deprecated]`. Output is deterministic and starts with an `@generated` header.
//!
//! `mod.rs` is laid out as rustfmt would lay it out, so `cargo fmt` leaves it alone (buf's
//! default strategy drops its final newline, see below). The package files keep the layout
//! prost-build and tonic-build give them (the message code as prost-build writes it, long lines
//! included); rustfmt does not reach them, as they are `include!`d.
//!
//! ## buf's default strategy
//!
//! With protos in one directory, buf's default works as is. With several, set `strategy: all`.
//!
//! buf runs a local plugin once per directory by default (`strategy: directory`), concurrently,
//! each run seeing only that directory's files and their imports, and keeps only the first of
//! identically named files. No run knows every package, so the module tree reaches `mod.rs`
//! through a protoc insertion point, each run adding its own packages. That assembles a working
//! tree when each directory holds top-level packages of its own (`alpha`, `beta.v1`), with three
//! blemishes: buf warns `duplicate generated file name "mod.rs"` for every directory but one, the
//! order of the runs' blocks varies from run to run, and the file loses its final newline. A
//! tree cannot be assembled at all when directories share a top-level module (`acme.a` and
//! `acme.b` both need the one `acme` module): rustc then reports the module defined twice in
//! `mod.rs`, whose header says to use `strategy: all`. And when a directory's code uses a type
//! from another directory, the plugin stops before writing anything, naming the type, the file
//! and `strategy: all`.
//!
//! # Options
//!
//! Options are comma-separated `key=value` entries (`opt:` in `buf.gen.yaml`,
//! `--cloudrun_opt=` for protoc). A bare key means `key=true`. Commas inside brackets or quotes
//! belong to the value. An unknown option or an unusable value fails generation with a message
//! naming it and what is allowed.
//!
//! | Option | Default | Effect |
//! |---|---|---|
//! | `client=true\|false` | `true` | Generate the tonic client of each service and its Cloud Run constructors (`client`, `client_from_env`, `client_with`). |
//! | `server=true\|false` | `true` | Generate the tonic server of each service and its Cloud Run entry points (`service`, `serve`). |
//! | `runtime_crate=PATH` | `::cloudrun_runtime` | Path of the runtime crate in the glue, for a renamed dependency or a re-export. |
//! | `extern_path=.proto.path=::rust::path` | none | Use existing Rust code for a package or type instead of generating it (repeatable). The Rust path must start with `::` or `crate::`. |
//! | `compile_well_known_types` | `false` | Generate `google.protobuf` types instead of using prost-types (the files must then be generated too: buf's `include_imports` and `include_wkt`). |
//! | `type_attribute=.path=#[attr]` | none | Attribute on matching messages, enums and oneofs (repeatable; paths as in prost-build, `.` for all). |
//! | `message_attribute=.path=#[attr]` | none | Attribute on matching messages (repeatable). |
//! | `enum_attribute=.path=#[attr]` | none | Attribute on matching enums and oneofs (repeatable). |
//! | `field_attribute=.path.field=#[attr]` | none | Attribute on matching fields (repeatable). |
//! | `bytes=.path` | none | `bytes::Bytes` instead of `Vec<u8>` for matching `bytes` fields (repeatable). |
//! | `btree_map=.path` | none | `BTreeMap` instead of `HashMap` for matching map fields (repeatable). |
//! | `boxed=.path.field` | none | Box matching message fields (repeatable). |
//! | `disable_comments=.path` | none | Leave out the doc comments of matching items (repeatable): prost-build paths for messages, enums and fields; `.pkg.Service` and `.pkg.Service.Method` exactly for services and methods. |
//! | `retain_enum_prefix` | `false` | Keep the enum name as prefix of variant names. |
//! | `enable_type_names` | `false` | Implement `prost::Name` for messages. |
//! | `mod_file=NAME` | `mod.rs` | Name of the file declaring the module tree (`lib.rs` for a crate of its own). |
//!
//! Well-known types (`google.protobuf.*`) map to prost-types unless `compile_well_known_types`
//! is set; files of that package passed for generation are then skipped.
//!
//! Every type the generated code uses must be generated in the same run or mapped with
//! `extern_path`; otherwise generation stops and says which file to add.

mod auth;
pub mod breaking;
#[cfg(feature = "build")]
pub mod build;
mod comments;
mod generate;
mod glue;
mod ident;
mod input;
mod model;
mod params;
mod services;

pub use auth::{AUTH_PROTO, AUTH_PROTO_NAME};
pub use generate::{GeneratedFile, INSERTION_POINT, ModFile, Output};
pub use input::{Input, InputError};
pub use params::{DEFAULT_MOD_FILE, DEFAULT_RUNTIME_CRATE, Params, ParamsError, names};

use prost::Message;
use prost_types::compiler::{CodeGeneratorResponse, code_generator_response};

/// The version written into every generated file's header.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Why nothing was generated.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request or descriptor set cannot be read.
    #[error(transparent)]
    Input(#[from] InputError),
    /// An option is unknown or has an unusable value.
    #[error(transparent)]
    Params(#[from] ParamsError),
    /// A file uses something the generators do not support.
    #[error("{file}: {what} is not supported")]
    Unsupported {
        /// The file.
        file: String,
        /// What it uses.
        what: String,
    },
    /// A `(cloudrun.auth.*)` option holds a rule the runtime could not enforce.
    #[error("{file}: {target}: {problem}")]
    AuthRule {
        /// The file.
        file: String,
        /// The service or method carrying the option.
        target: String,
        /// What is wrong and what is expected.
        problem: String,
    },
    /// The generated code would use a type that is not generated.
    #[error("{0}")]
    Unresolved(String),
    /// Two things would get the same Rust name or file.
    #[error("{0}")]
    Conflict(String),
    /// prost-build or tonic-build failed.
    #[error("code generation failed: {0}")]
    Generate(String),
    /// `.proto` files could not be compiled (build.rs API).
    #[error("{0}")]
    Compile(String),
    /// An output file could not be written (build.rs API).
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: std::path::PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// `CodeGeneratorResponse.Feature.FEATURE_PROTO3_OPTIONAL`.
const FEATURE_PROTO3_OPTIONAL: u64 = 1;

/// Runs the plugin on an encoded `CodeGeneratorRequest`. Never panics: every failure is in the
/// response's `error` field.
pub fn execute(request_bytes: &[u8]) -> CodeGeneratorResponse {
    let mut response = CodeGeneratorResponse {
        supported_features: Some(FEATURE_PROTO3_OPTIONAL),
        ..CodeGeneratorResponse::default()
    };
    match respond(request_bytes) {
        Ok(files) => response.file = files,
        Err(error) => response.error = Some(error.to_string()),
    }
    response
}

/// [`execute`], encoded: the bytes to write to stdout.
pub fn execute_to_bytes(request_bytes: &[u8]) -> Vec<u8> {
    execute(request_bytes).encode_to_vec()
}

fn respond(request_bytes: &[u8]) -> Result<Vec<code_generator_response::File>, Error> {
    let input = Input::from_request_bytes(request_bytes)?;
    let params: Params = input.parameter.parse()?;
    let output = generate::generate(&input, &params)?;
    let file = |name: &str, content: String, insertion_point: Option<&str>| {
        code_generator_response::File {
            name: Some(name.to_string()),
            insertion_point: insertion_point.map(str::to_string),
            content: Some(content),
            generated_code_info: None,
        }
    };
    let mut files: Vec<_> = output
        .files
        .into_iter()
        .map(|f| file(&f.name, f.content, None))
        .collect();
    let mod_file = &output.mod_file;
    if input.compiler_version.is_some() {
        // protoc runs a plugin once with every file: the whole tree is known.
        files.push(file(&mod_file.name, mod_file.complete(), None));
    } else {
        // buf (which sends no compiler version) may run it once per directory: each run adds
        // its packages to the tree at the insertion point.
        files.push(file(&mod_file.name, mod_file.base_for_insertion(), None));
        files.push(file(
            &mod_file.name,
            mod_file.tree.clone(),
            Some(INSERTION_POINT),
        ));
    }
    Ok(files)
}

/// Generates the code for already decoded input, as the plugin and the build API do.
pub fn generate(input: &Input, params: &Params) -> Result<Output, Error> {
    generate::generate(input, params)
}
