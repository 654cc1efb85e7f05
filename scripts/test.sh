#!/usr/bin/env bash
# The test suite: unit, integration and end-to-end tests of the whole
# workspace, then the loom models of the protocol.
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages, the Python venv and the browser tests' npm packages: the one
# set-up script (.ci/run has already run it when it sets SHMFRAME_SETUP_DONE).
if [ "${SHMFRAME_SETUP_DONE:-0}" != 1 ]; then
    echo "== set-up (scripts/setup.sh)"
    bash scripts/setup.sh
fi

echo "== cargo test --workspace"
cargo test --workspace

echo "== chaos soak (25 s)"
CHAOS_SECONDS=25 bash scripts/chaos.sh

echo "== loom models (RUSTFLAGS=--cfg loom)"
RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom \
    cargo test -p loom-tests --release --test protocol

echo "== Python package (built into target/pyenv by the set-up): pytest"
cargo build -p shmframe-cli # the Python tests drive the `shmframe` command too
# pytest exits 5 when it collects no test: like any non-zero exit, that fails here.
SHMFRAME_CLI="$PWD/target/debug/shmframe" target/pyenv/bin/pytest -q python/tests

echo "== shmframe web in headless Chromium and with the Foxglove client (node --test in web/tests)"
# Needs node, Debian's chromium and web/tests/node_modules (scripts/setup.sh
# installs all three). Missing on CI is a failure; elsewhere a loud skip.
if command -v node >/dev/null && [ -x "${CHROMIUM:-/usr/bin/chromium}" ] && [ -d web/tests/node_modules ]; then
    cargo build -p shmframe-cli
    (cd web/tests && SHMFRAME_CLI="$PWD/../../target/debug/shmframe" node --test browser.test.mjs foxglove.test.mjs)
    echo "screenshots: target/web-screenshots/"
elif [ "${CI:-}" = true ]; then
    echo "FAIL: the browser tests need node, chromium and web/tests/node_modules (scripts/setup.sh installs them)" >&2
    exit 1
else
    echo "SKIPPED: browser tests of shmframe web: node, ${CHROMIUM:-/usr/bin/chromium} or web/tests/node_modules is missing (run bash scripts/setup.sh)"
fi
