#!/usr/bin/env bash
# The chaos soak (tests/chaos.rs): a writer and ten readers (four of them
# holding frames in place) as processes, under stops, kills, restarts,
# reconfigures and failing or panicking fills, with every frame checked byte
# for byte (held ones when taken and again when let go). CHAOS_SECONDS (default 25) sets its length;
# CHAOS_RELEASE=1 runs an optimised build (more frames per second).
set -euo pipefail
cd "$(dirname "$0")/.."
profile=()
if [ "${CHAOS_RELEASE:-0}" = 1 ]; then profile=(--release); fi
CHAOS_SECONDS="${CHAOS_SECONDS:-25}" cargo test "${profile[@]}" -p shmframe --test chaos -- \
    --ignored --exact chaos_soak --nocapture
