//! `protoc-gen-cloudrun`: with no arguments, a protoc plugin (CodeGeneratorRequest on stdin,
//! CodeGeneratorResponse on stdout). The manual is the library's documentation.

use std::io::{IsTerminal, Read, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Generates prost messages, tonic services and Cloud Run glue. Run by `buf generate` or
/// `protoc --cloudrun_out=DIR`, which send a CodeGeneratorRequest on stdin.
#[derive(Parser)]
#[command(version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        None => plugin(),
        Some(command) => match command {},
    }
}

fn plugin() -> ExitCode {
    if std::io::stdin().is_terminal() {
        eprintln!(
            "protoc-gen-cloudrun is a protoc plugin: run it through `buf generate` or `protoc --cloudrun_out=DIR` (see --help)"
        );
        return ExitCode::from(2);
    }
    // Every failure, a panic in a generator included, is reported in the response.
    std::panic::set_hook(Box::new(|_| {}));
    let mut request = Vec::new();
    if let Err(error) = std::io::stdin().read_to_end(&mut request) {
        eprintln!("protoc-gen-cloudrun: cannot read the request from stdin: {error}");
        return ExitCode::FAILURE;
    }
    let response = protoc_gen_cloudrun::execute_to_bytes(&request);
    let mut stdout = std::io::stdout().lock();
    if let Err(error) = stdout.write_all(&response).and_then(|()| stdout.flush()) {
        eprintln!("protoc-gen-cloudrun: cannot write the response to stdout: {error}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
