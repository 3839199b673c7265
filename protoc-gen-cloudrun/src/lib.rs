//! protoc-gen-cloudrun: generates prost messages, tonic services and Cloud Run glue.
pub mod breaking;
