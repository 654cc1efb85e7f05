#!/usr/bin/env bash
# Builds the C library, installs it into a prefix, and builds every example
# against that installation with CMake, as a user would:
#
#   bash capi/build-examples.sh [PREFIX [OUT]]
#
# PREFIX defaults to target/shmframe-prefix, OUT to target/examples, where the
# programs land: shmframe-c-writer, shmframe-c-reader, shmframe-opencv-edges
# and shmframe-qt-example (CMake's build tree is OUT/cmake-build).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
prefix=${1:-$target/shmframe-prefix}
out=${2:-$target/examples}

bash "$root/capi/install.sh" "$prefix"
cmake -S "$root/capi/examples" -B "$out/cmake-build" \
    -U shmframe_DIR -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_RUNTIME_OUTPUT_DIRECTORY="$out"
cmake --build "$out/cmake-build" --parallel 2
echo "examples in $out/"
