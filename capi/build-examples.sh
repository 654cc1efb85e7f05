#!/usr/bin/env bash
# Builds the C library, installs it into a prefix, and builds every example
# against that installation with CMake, as a user would:
#
#   bash capi/build-examples.sh [PREFIX]     (default target/shmframe-prefix)
#
# The programs land in target/examples/: shmframe-c-writer, shmframe-c-reader,
# shmframe-opencv-edges and shmframe-qt-example.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
prefix=${1:-$target/shmframe-prefix}

bash "$root/capi/install.sh" "$prefix"
cmake -S "$root/capi/examples" -B "$target/examples-build" \
    -U shmframe_DIR -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_RUNTIME_OUTPUT_DIRECTORY="$target/examples"
cmake --build "$target/examples-build" --parallel 2
echo "examples in $target/examples/"
