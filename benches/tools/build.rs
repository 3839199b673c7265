//! Generates the catalog's messages and client (the probe calls the catalog like any client would).

use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/catalog/proto");
    let proto = proto_dir.join("catalog.proto");
    println!("cargo:rerun-if-changed={}", proto.display());
    let fds = protox::compile([&proto], [&proto_dir])
        .map_err(|e| format!("compiling {} with protox: {e}", proto.display()))?;
    tonic_prost_build::configure()
        .build_server(false)
        .compile_fds(fds)
        .map_err(|e| format!("generating tonic code for {}: {e}", proto.display()))?;
    Ok(())
}
