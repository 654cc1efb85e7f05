#!/usr/bin/env bash
# The test suite: unit, integration and end-to-end tests of the whole
# workspace, then the loom models of the protocol.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo test --workspace"
cargo test --workspace

echo "== chaos soak (25 s)"
CHAOS_SECONDS=25 bash scripts/chaos.sh

echo "== loom models (RUSTFLAGS=--cfg loom)"
RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom \
    cargo test -p loom-tests --release --test protocol
