//! protoc-gen-cloudrun: generates prost messages, tonic services and Cloud Run glue.
use std::process::ExitCode;

use clap::Parser;

#[derive(Parser)]
#[command(version)]
enum Cli {
    /// Checks a schema against a previous version for breaking changes.
    Breaking(protoc_gen_cloudrun::breaking::BreakingArgs),
}

fn main() -> ExitCode {
    // Without arguments this is a protoc plugin.
    if std::env::args_os().len() <= 1 {
        return ExitCode::SUCCESS;
    }
    match Cli::try_parse() {
        Ok(Cli::Breaking(args)) => protoc_gen_cloudrun::breaking::run(&args),
        Err(e) => {
            let _ = e.print();
            // Help and version are not errors; bad usage exits 1 as the contract says.
            if e.use_stderr() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
    }
}
