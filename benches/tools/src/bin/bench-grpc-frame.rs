//! Writes the request body h2load sends: one gRPC length-prefixed `GetProductRequest`.
//!
//! `bench-grpc-frame --id 1 --out target/bench/get-product-1.bin`

use std::path::PathBuf;

use anyhow::Context as _;
use bench_tools::{catalog::GetProductRequest, grpc_frame};
use clap::Parser;
use prost::Message as _;

#[derive(Parser)]
#[command(about = "Write a gRPC-framed GetProductRequest for h2load's --data")]
struct Args {
    /// The product id to ask for.
    #[arg(long, default_value = "1")]
    id: String,
    /// Where to write the frame.
    #[arg(long)]
    out: PathBuf,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let message = GetProductRequest { id: args.id }.encode_to_vec();
    let frame = grpc_frame(&message)?;
    std::fs::write(&args.out, &frame).with_context(|| format!("writing {}", args.out.display()))?;
    Ok(())
}
