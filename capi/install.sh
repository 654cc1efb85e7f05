#!/usr/bin/env bash
# Builds the C library (release) and installs it for C and C++ programs:
#
#   bash capi/install.sh [PREFIX]        (default /usr/local)
#
# PREFIX/lib/libshmframe.so{,.0,.VERSION} and libshmframe.a,
# PREFIX/include/shmframe.h and shmframe.hpp,
# PREFIX/lib/pkgconfig/shmframe.pc (pkg-config --cflags --libs shmframe) and
# PREFIX/lib/cmake/shmframe/ (find_package(shmframe) -> shmframe::shmframe).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
prefix=${1:-/usr/local}
mkdir -p "$prefix"
prefix=$(cd "$prefix" && pwd)

cd "$root"
cargo build --release -p shmframe-capi
built=${CARGO_TARGET_DIR:-$root/target}/release
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' capi/Cargo.toml | head -n 1)

lib=$prefix/lib
install -d "$lib/pkgconfig" "$lib/cmake/shmframe" "$prefix/include"
install -m 0755 "$built/libshmframe.so" "$lib/libshmframe.so.$version"
ln -sfn "libshmframe.so.$version" "$lib/libshmframe.so.0"
ln -sfn "libshmframe.so.0" "$lib/libshmframe.so"
install -m 0644 "$built/libshmframe.a" "$lib/libshmframe.a"
install -m 0644 capi/include/shmframe.h capi/include/shmframe.hpp "$prefix/include/"
fill() { sed -e "s|@PREFIX@|$prefix|g" -e "s|@VERSION@|$version|g" "$1" >"$2"; }
fill capi/shmframe.pc.in "$lib/pkgconfig/shmframe.pc"
fill capi/cmake/shmframeConfig.cmake.in "$lib/cmake/shmframe/shmframeConfig.cmake"
fill capi/cmake/shmframeConfigVersion.cmake.in "$lib/cmake/shmframe/shmframeConfigVersion.cmake"

# The dynamic linker finds a library in a system directory after ldconfig.
if [ "$(id -u)" = 0 ] && command -v ldconfig >/dev/null && [[ "$prefix" == /usr || "$prefix" == /usr/local ]]; then
    ldconfig
fi
echo "installed libshmframe $version into $prefix"
