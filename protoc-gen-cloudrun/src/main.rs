//! `protoc-gen-cloudrun`: with no arguments, a protoc plugin (CodeGeneratorRequest on stdin,
//! CodeGeneratorResponse on stdout); `protoc-gen-cloudrun breaking` checks a schema for breaking
//! changes. The manual is the library's documentation.

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
enum Command {
    /// Checks a schema against a previous version for breaking changes (buf's rules, aware of
    /// deprecation).
    Breaking(protoc_gen_cloudrun::breaking::BreakingArgs),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            // Help and version are not errors; bad usage exits 1, as the breaking check's
            // contract says (100 is reserved for "breaking changes found").
            return if error.use_stderr() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match cli.command {
        None => plugin(),
        Some(Command::Breaking(args)) => protoc_gen_cloudrun::breaking::run(&args),
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
