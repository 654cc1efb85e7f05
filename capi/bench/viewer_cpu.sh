#!/usr/bin/env bash
# The viewer's CPU use on a virtual display (Xvfb) showing WxH RGBA at FPS:
# holding each frame in place (the writer grants holds) beside copying it
# (the writer honours none), rounds alternated. Usage:
#   bash capi/bench/viewer_cpu.sh [WIDTH HEIGHT FPS ROUNDS SECONDS]
# Prints each round's CPU (user + system) in percent of one core, then medians.
set -euo pipefail
width=${1:-3840} height=${2:-2160} fps=${3:-30} rounds=${4:-3} seconds=${5:-8}
root="$(cd "$(dirname "$0")/../.." && pwd)"
cargo build --release -p shmframe-capi -p shmframe-viewer --manifest-path "$root/Cargo.toml"
lib="$root/target/release"
out="$(mktemp -d)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$out"
}
trap cleanup EXIT
ln -s "$lib/libshmframe.so" "$out/libshmframe.so.0"
cc -O2 -std=c11 -D_GNU_SOURCE -I "$root/capi/include" "$root/capi/bench/publish_rate.c" \
    -o "$out/publish_rate" -L "$lib" -Wl,-rpath,"$out" -lshmframe
export SHMFRAME_DIR="$out/segments"
mkdir "$SHMFRAME_DIR"

Xvfb -displayfd 1 -screen 0 1920x1080x24 -nolisten tcp > "$out/display" 2>/dev/null &
pids+=($!)
for _ in $(seq 100); do [ -s "$out/display" ] && break; sleep 0.1; done
export DISPLAY=":$(head -1 "$out/display")"

# CPU ticks (user + system) of process $1.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

declare -A results
for round in $(seq "$rounds"); do
    for holds in 4 0; do
        name="viewer-cpu-$holds-$round"
        "$out/publish_rate" "$name" "$width" "$height" "$fps" "$holds" $((seconds + 4)) &
        publisher=$!
        sleep 0.5
        "$lib/shmframe-viewer" --name "$name" > /dev/null 2>&1 &
        viewer=$!
        pids+=("$viewer")
        sleep 2 # the window opens; holds are granted
        before=$(ticks "$viewer")
        sleep "$seconds"
        after=$(ticks "$viewer")
        kill "$viewer"
        wait "$viewer" 2>/dev/null || true
        wait "$publisher"
        cpu=$(( (after - before) * 100 / (hz * seconds) ))
        results[$holds]+="$cpu "
        echo "round $round, writer holds $holds: viewer CPU ${cpu}%"
    done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "median viewer CPU at ${width}x${height} RGBA, ${fps} fps: holding $(echo "${results[4]}" | median)%, copying $(echo "${results[0]}" | median)%"
