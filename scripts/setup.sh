#!/usr/bin/env bash
# The one set-up: everything the tests need on a fresh Debian 12 machine.
# `bash scripts/test.sh` and `.ci/run` both start here, so they cannot drift.
#
#   bash scripts/setup.sh            # system packages (as root) and the Python venv
#   bash scripts/setup.sh --list     # print the system packages and exit
#
# Only package registries are used: Debian's (apt), PyPI (the venv in
# target/pyenv) and npm (the browser tests' node_modules, kept out of git).
# Run again at any time: what is already there is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

# What each group of system packages is for.
packages=(
    # the viewer's end-to-end tests: a virtual X server, screenshots, X11 client libraries
    xvfb xauth imagemagick libx11-6 libxcursor1
    # video in and recording out (an external program, never linked)
    ffmpeg
    # the Python package and the documented standard-library reader
    python3 python3-venv
    # the bridge's tests across network namespaces
    iproute2
    # the GStreamer plugin (gst/) against GStreamer 1.22
    pkg-config libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev gstreamer1.0-tools
    gstreamer1.0-plugins-base gstreamer1.0-plugins-good
    # shmsink/shmsrc, the peers that shmframe-gst-bench measures against
    gstreamer1.0-plugins-bad
    # the C library's tests and examples (capi/): C/C++ compilers, CMake, Qt 6, OpenCV, valgrind
    gcc g++ cmake qt6-base-dev libopencv-core-dev libopencv-imgproc-dev valgrind
    # the browser tests of `shmframe web`: Debian's Chromium, driven from Node.js
    chromium nodejs npm
)

if [ "${1:-}" = "--list" ]; then
    printf '%s\n' "${packages[@]}"
    exit 0
fi

missing=()
for p in "${packages[@]}"; do
    # `nodejs`/`npm` may come from elsewhere than Debian (a machine image's own Node.js).
    case "$p" in
    nodejs) command -v node >/dev/null && continue ;;
    npm) command -v npm >/dev/null && continue ;;
    esac
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done

if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "setup: installing ${#missing[@]} system packages: ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            "${missing[@]}" >/dev/null
    else
        echo "setup: these system packages are missing; install them as root, then run again:" >&2
        echo "    sudo apt-get install --no-install-recommends ${missing[*]}" >&2
        exit 1
    fi
else
    echo "setup: system packages present"
fi

echo "setup: Python venv in target/pyenv (maturin, numpy, pytest, Pillow) with ./python installed"
bash scripts/python-env.sh "$@"

# Node.js packages of the browser tests, from the npm registry (no browser download).
for dir in web/tests; do
    if [ -f "$dir/package.json" ]; then
        echo "setup: npm packages in $dir"
        (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    fi
done
echo "setup: done"
