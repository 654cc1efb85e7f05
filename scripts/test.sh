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

echo "== Python package: build ./python into target/pyenv, then pytest"
bash scripts/python-env.sh
cargo build -p shmframe-cli # the Python tests drive the `shmframe` command too
# pytest exits 5 when it collects no test: like any non-zero exit, that fails here.
SHMFRAME_CLI="$PWD/target/debug/shmframe" target/pyenv/bin/pytest -q python/tests
