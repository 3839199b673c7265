//! The product catalog of the Cloud Run gRPC guide, served by protoc-gen-cloudrun.
//!
//! Everything Cloud Run needs (the `$PORT` listener over h2c, health, reflection, JSON logs and the
//! SIGTERM drain) comes from the generated glue; this crate holds only the catalog's logic.
//!
//! Run it with `cargo run -p catalog`, then e.g.
//! `buf curl --http2-prior-knowledge --protocol grpc -d '{"id":"1"}' http://localhost:8080/catalog.ProductCatalog/GetProduct`.

mod catalog;
mod gen;

#[tokio::main]
async fn main() -> Result<(), cloudrun_runtime::Error> {
    let catalog = catalog::Catalog::from_env();
    gen::catalog::product_catalog_cloudrun::serve(catalog).await
}
