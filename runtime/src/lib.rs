//! Runtime for protoc-gen-cloudrun generated services.
