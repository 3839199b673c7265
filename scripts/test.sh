#!/usr/bin/env bash
# Runs every test: installs the pinned outside peers (buf, Python grpcio) first, then the whole
# workspace's tests, doctests included. Any missing tool fails loudly; nothing is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo fmt --all -- --check
cargo test --workspace --locked
