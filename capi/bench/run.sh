#!/usr/bin/env bash
# Builds the release libshmframe and runs capi/bench/hold_vs_copy.c against it:
# the C API's zero-copy hold beside a copy, at 64 B, 1080p and 4K RGBA.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cargo build --release -p shmframe-capi --manifest-path "$root/Cargo.toml"
lib="$root/target/release"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
ln -s "$lib/libshmframe.so" "$out/libshmframe.so.0"
cc -O2 -std=c11 -D_GNU_SOURCE -I "$root/capi/include" "$root/capi/bench/hold_vs_copy.c" \
    -o "$out/hold_vs_copy" -L "$lib" -Wl,-rpath,"$out" -lshmframe
"$out/hold_vs_copy"
