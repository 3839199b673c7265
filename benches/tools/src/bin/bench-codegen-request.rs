//! Builds one `CodeGeneratorRequest` the way protoc/buf would hand it to a plugin, so that plugins
//! can be timed on exactly the same bytes: `file_to_generate` is the given set, `proto_file` is every
//! file it needs in dependency order (include_imports), with source info and extension options kept.
//!
//! `bench-codegen-request --proto-path /tmp/gpf/package --out req.bin --with-imports google/cloud/aiplatform/v1`

use std::path::PathBuf;

use anyhow::Context as _;
use bench_tools::codegen::{Generate, codegen_request, collect_protos};
use clap::Parser;
use prost::Message as _;
use prost_types::compiler::CodeGeneratorRequest;

#[derive(Parser)]
#[command(about = "Compile a proto set with protox and write the encoded CodeGeneratorRequest")]
struct Args {
    /// The include root every input is named relative to (like protoc's -I).
    #[arg(long)]
    proto_path: PathBuf,
    /// Where to write the encoded request.
    #[arg(long)]
    out: PathBuf,
    /// The plugin parameter string (protoc's `--x_opt`), empty by default.
    #[arg(long, default_value = "")]
    parameter: String,
    /// Also generate every imported file except the well-known types (a self-contained set, as
    /// `buf generate --include-imports`); plugins that check that every referenced type is
    /// generated need it.
    #[arg(long)]
    with_imports: bool,
    /// Files or directories (searched recursively for *.proto), relative to --proto-path.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut names = Vec::new();
    for input in &args.inputs {
        collect_protos(&args.proto_path, input, &mut names)?;
    }
    names.sort();
    names.dedup();
    let generate = if args.with_imports {
        Generate::WithImports
    } else {
        Generate::Named
    };
    let request = codegen_request(&args.proto_path, &names, &args.parameter, generate)?;
    let summary =
        CodeGeneratorRequest::decode(request.as_slice()).context("re-reading the built request")?;
    std::fs::write(&args.out, &request)
        .with_context(|| format!("writing {}", args.out.display()))?;
    eprintln!(
        "{}: {} files to generate, {} proto files, {} bytes",
        args.out.display(),
        summary.file_to_generate.len(),
        summary.proto_file.len(),
        request.len()
    );
    Ok(())
}
