#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ briefly, from its committed seed
# corpus (fuzz/corpus/<target>/seed-*), and fails if any target finds a crash,
# a timeout or an out-of-memory input. Needs the nightly toolchain; installs
# cargo-fuzz if it is missing.
#
#   scripts/fuzz-smoke.sh                  # each target for $FUZZ_SECONDS (default 20) seconds
#   FUZZ_SECONDS=600 scripts/fuzz-smoke.sh # longer: ten minutes each
#   FUZZ_TARGETS="decode" scripts/fuzz-smoke.sh
#
# To fuzz for a long time and keep what the fuzzer learns, run a target on
# its own corpus directory instead (new inputs stay there, untracked):
#
#   cd fuzz && cargo +nightly fuzz run decode -- -max_total_time=3600 \
#       -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=30
#
# A finding is written to fuzz/artifacts/<target>/; reproduce it with
# `cargo +nightly fuzz run <target> fuzz/artifacts/<target>/<file>`, fix the
# cause, and copy the file to cli/tests/fuzz-inputs/<target>/ so that
# cli/tests/fuzz_regressions.rs keeps testing it.
set -euo pipefail

cd "$(dirname "$0")/.."
seconds="${FUZZ_SECONDS:-20}"
targets="${FUZZ_TARGETS:-attach mutate decode bridge_message holds}"

if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "fuzz-smoke: the nightly toolchain is not installed (rustup toolchain install nightly)" >&2
    exit 1
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/shmframe-fuzz.XXXXXX")"
trap 'rm -rf "$work"' EXIT

cd fuzz
for target in $targets; do
    cargo +nightly fuzz build "$target"
done

failed=""
for target in $targets; do
    corpus="$work/corpus-$target"
    artifacts="$work/artifacts-$target/"
    mkdir -p "$corpus" "$artifacts"
    # Only the committed seeds: a run never grows the tracked corpus.
    cp corpus/"$target"/seed-* "$corpus"/
    echo "fuzz-smoke: $target for ${seconds}s"
    # -timeout: an input slower than 30 s is a finding (a hang; one frame of the
    # largest GIF canvas the limits allow takes ~10 s under the sanitizer);
    # -malloc_limit_mb: one allocation over 1 GiB is a finding (past the limits).
    if ! cargo +nightly fuzz run "$target" "$corpus" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=1024 \
        -timeout=30 -artifact_prefix="$artifacts" -print_final_stats=1 \
        >"$work/$target.log" 2>&1; then
        failed="$failed $target"
        tail -n 40 "$work/$target.log" >&2
        for finding in "$artifacts"*; do
            [ -e "$finding" ] || continue
            mkdir -p artifacts/"$target"
            cp "$finding" artifacts/"$target"/
            echo "fuzz-smoke: $target finding saved as fuzz/artifacts/$target/$(basename "$finding")" >&2
        done
    fi
    grep -E '^Done [0-9]+ runs' "$work/$target.log" | sed "s/^/fuzz-smoke: $target: /" || true
done

if [ -n "$failed" ]; then
    echo "fuzz-smoke: findings in:$failed" >&2
    exit 1
fi
echo "fuzz-smoke: all targets clean"
