//! Reads a plugin's `CodeGeneratorResponse` from stdin and fails when it carries an error or no
//! files: a plugin that answers "error" fast must not look fast in a timing.
//!
//! `protoc-gen-prost < req.bin | bench-codegen-response --label prost`

use std::io::Read as _;

use anyhow::{Context as _, bail};
use clap::Parser;
use prost::Message as _;
use prost_types::compiler::CodeGeneratorResponse;

#[derive(Parser)]
#[command(about = "Check and summarise a CodeGeneratorResponse read from stdin")]
struct Args {
    /// Names the plugin in the summary and in errors.
    #[arg(long)]
    label: String,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut bytes = Vec::new();
    std::io::stdin()
        .read_to_end(&mut bytes)
        .context("reading the response from stdin")?;
    let response = CodeGeneratorResponse::decode(bytes.as_slice())
        .with_context(|| format!("{}: stdout is not a CodeGeneratorResponse", args.label))?;
    if let Some(error) = &response.error {
        bail!("{}: the plugin reported an error: {error}", args.label);
    }
    if response.file.is_empty() {
        bail!("{}: the plugin generated no files", args.label);
    }
    let content: usize = response.file.iter().map(|f| f.content().len()).sum();
    println!(
        "{}: {} files, {} bytes of code",
        args.label,
        response.file.len(),
        content
    );
    Ok(())
}
