//! The product catalog served by plain tonic, as a team would hand-write it: the same handler
//! source as `examples/catalog`, the tonic server tonic-prost-build generates, and
//! `Server::builder().add_service(...)` on `127.0.0.1:$PORT` — no health, reflection or logging.
//! The benchmarks in BENCHMARKS.md measure the generated catalog server against this binary.
//!
//! Run it with `PORT=50051 cargo run --release -p tonic-baseline`.

#[path = "../../../examples/catalog/src/catalog.rs"]
mod catalog;

/// The module tree the handler source expects (`crate::gen::catalog::...`), filled by build.rs.
mod gen {
    pub mod catalog {
        tonic::include_proto!("catalog");
    }
}

use std::net::{Ipv4Addr, SocketAddr};

use gen::catalog::product_catalog_server::ProductCatalogServer;

/// The port Cloud Run's contract defaults to when `PORT` is unset.
const DEFAULT_PORT: u16 = 8080;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = match std::env::var("PORT") {
        Ok(value) => value
            .parse::<u16>()
            .map_err(|_| format!("PORT must be a TCP port number (0-65535), got {value:?}"))?,
        Err(_) => DEFAULT_PORT,
    };
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    tonic::transport::Server::builder()
        .add_service(ProductCatalogServer::new(catalog::Catalog::from_env()))
        .serve(addr)
        .await
        .map_err(|e| format!("serving on {addr}: {e}"))?;
    Ok(())
}
