#!/usr/bin/env bash
# Benchmarks shmframe-bridge over a veth link between two network namespaces
# (as root): 1080p RGBA frames per second and latency for each codec, beside
# Zenoh putting the same raw bytes with nothing around it (the floor), in one
# run, rounds interleaved. Also each codec's byte ratio on a camera-like video.
#
#   scripts/bridge-bench.sh                # 3 rounds, the clean video
#   ROUNDS=5 SECONDS_EACH=10 scripts/bridge-bench.sh
#   VIDEO=noisy CODECS="raw lossless lz4" scripts/bridge-bench.sh
#
# Needs ffmpeg (for the test video) and python3 (for the table).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${ROUNDS:-3}"
secs="${SECONDS_EACH:-8}"
codecs="${CODECS:-raw lossless lz4 jpeg:85}"
# Throughput: frames offered at this rate (above what the link carries) by the
# source and by the floor's publisher alike; latency: offered at 10 fps.
offered="${OFFERED_FPS:-200}"
# The frames the source loops over: clean (testsrc2) or noisy (with sensor-like noise).
video="${VIDEO:-clean}"
size=1920x1080

cargo build --release -q -p shmframe-bridge
bin="$PWD/target/release"
work="$(mktemp -d "${TMPDIR:-/tmp}/shmframe-bridge-bench.XXXXXX")"
tag="sfbb$$"
cleanup() {
    for ns in "${tag}a" "${tag}b"; do
        ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
    done
    wait 2>/dev/null || true
    ip netns del "${tag}a" 2>/dev/null || true
    ip netns del "${tag}b" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

echo "== test videos (ffmpeg testsrc2, 30 frames of $size RGBA; and with sensor-like noise)"
ffmpeg -v error -f lavfi -i "testsrc2=size=$size:rate=30" -frames:v 30 -pix_fmt rgba -f rawvideo "$work/clean.rgba"
ffmpeg -v error -f lavfi -i "testsrc2=size=$size:rate=30" -vf noise=alls=6:allf=t -frames:v 30 \
    -pix_fmt rgba -f rawvideo "$work/noisy.rgba"
for v in clean noisy; do
    "$bin/shmframe-bridge-probe" codecs --raw "$work/$v.rgba" --size "$size" \
        --codecs raw,lz4,qoi,jpeg:85 | sed "s/^{/{\"video\":\"$v\",/" >>"$work/codecs.jsonl"
done

echo "== namespaces ${tag}a (192.0.2.1) and ${tag}b (192.0.2.2), joined by veth"
ip netns add "${tag}a"
ip netns add "${tag}b"
ip -n "${tag}a" link add veth0 type veth peer name veth0 netns "${tag}b"
ip -n "${tag}a" addr add 192.0.2.1/30 dev veth0
ip -n "${tag}b" addr add 192.0.2.2/30 dev veth0
for ns in "${tag}a" "${tag}b"; do
    ip -n "$ns" link set veth0 up
    ip -n "$ns" link set lo up
done
# `ip netns exec` runs the program in the same process, so $! of
# `in_a ... &` would be a subshell: background jobs are started with env directly.
in_a=(env SHMFRAME_DIR="$work/a" ip netns exec "${tag}a")
in_b=(env SHMFRAME_DIR="$work/b" ip netns exec "${tag}b")
mkdir -p "$work/a" "$work/b"
port=7500

# One measurement: $1 = floor or a codec, $2 = offered fps, $3 = the JSON result.
measure() {
    local what="$1" fps="$2" out="$3"
    port=$((port + 1))
    if [ "$what" = floor ]; then
        "${in_b[@]}" "$bin/shmframe-bridge-probe" floor-sub --key bench/floor --seconds "$secs" \
            --listen "tcp/192.0.2.2:$port" >"$out" &
        local sub=$!
        sleep 1
        "${in_a[@]}" "$bin/shmframe-bridge-probe" floor-pub --key bench/floor --bytes $((1920 * 1080 * 4)) \
            --fps "$fps" --seconds $((secs - 1)) --connect "tcp/192.0.2.2:$port" >/dev/null
        wait "$sub"
    else
        "${in_a[@]}" "$bin/shmframe-bridge-probe" source --name bench --size "$size" --fps "$fps" \
            --raw "$work/$video.rgba" &
        local src=$!
        "${in_a[@]}" "$bin/shmframe-bridge" export --name bench --key bench/frames --codec "$what" \
            --listen "tcp/192.0.2.1:$port" --quiet &
        local exp=$!
        # The first second (connection, first frames) is left out of the window.
        "${in_b[@]}" "$bin/shmframe-bridge" import --name bench --key bench/frames \
            --connect "tcp/192.0.2.1:$port" --quiet --report "$work/import.json" &
        local imp=$!
        sleep 2
        cp "$work/import.json" "$work/start.json"
        sleep "$((secs - 2))"
        cp "$work/import.json" "$work/end.json"
        kill -TERM "$imp" "$exp" "$src"
        wait "$imp" "$exp" "$src" || true
        python3 - "$work/start.json" "$work/end.json" >"$out" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
frames = b["frames"] - a["frames"]
print(json.dumps({"received": frames, "fps": frames / (b["seconds"] - a["seconds"]),
                  "latency_ns": b["latency_ns"], "refused": b["refused"],
                  "ratio": b["frame_bytes"] / max(b["wire_bytes"], 1)}))
PY
    fi
}

for round in $(seq 1 "$rounds"); do
    for what in floor $codecs; do
        echo "round $round: $what"
        measure "$what" "$offered" "$work/tmp.json"
        sed "s/^{/{\"round\":$round,\"what\":\"$what\",\"test\":\"throughput\",/" "$work/tmp.json" >>"$work/runs.jsonl"
        measure "$what" 10 "$work/tmp.json"
        sed "s/^{/{\"round\":$round,\"what\":\"$what\",\"test\":\"latency\",/" "$work/tmp.json" >>"$work/runs.jsonl"
    done
done

python3 - "$work/runs.jsonl" "$work/codecs.jsonl" "$offered" "$video" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
codecs = [json.loads(l) for l in open(sys.argv[2])]
def med(what, test, key):
    vals = [key(r) for r in runs if r["what"] == what and r["test"] == test]
    return statistics.median(vals) if vals else float("nan")
order = []
for r in runs:
    if r["what"] not in order:
        order.append(r["what"])
floor_fps = med("floor", "throughput", lambda r: r["fps"])
floor_lat = med("floor", "latency", lambda r: r["latency_ns"]["p50"])
print()
print(f"| over veth, 1080p RGBA ({sys.argv[4]} video) | fps received ({sys.argv[3]} offered) | x floor | p50 latency at 10 fps | added vs floor | p99 at 10 fps |")
print("|---|---|---|---|---|---|")
for what in order:
    fps = med(what, "throughput", lambda r: r["fps"])
    lat = med(what, "latency", lambda r: r["latency_ns"]["p50"])
    p99 = med(what, "latency", lambda r: r["latency_ns"]["p99"])
    name = "Zenoh put, same bytes (floor)" if what == "floor" else f"bridge `--codec {what}`"
    print(f"| {name} | {fps:.1f} | {fps / floor_fps:.2f}x | {lat / 1e6:.2f} ms | "
          f"{(lat - floor_lat) / 1e6:+.2f} ms | {p99 / 1e6:.2f} ms |")
print()
print("| codec | video | bytes ratio (raw / wire) | encode p50 | decode p50 | worst mean abs error |")
print("|---|---|---|---|---|---|")
for c in codecs:
    print(f"| {c['codec']} | {c['video']} | {c['ratio']:.2f}x | {c['encode_ms_p50']:.1f} ms | "
          f"{c['decode_ms_p50']:.1f} ms | {c['worst_mae']:.2f} |")
print()
print(f"rounds: {max(r['round'] for r in runs)}; each figure is the median over rounds")
PY
