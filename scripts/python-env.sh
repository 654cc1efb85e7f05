#!/usr/bin/env bash
# The Python package's test environment: a venv in target/pyenv (rebuilt from
# nothing but PyPI, removed with the rest of target/) holding maturin, numpy,
# pytest and Pillow, and the package built from ./python and installed into it.
#
#   bash scripts/python-env.sh             # reinstall ./python (reuses the venv's maturin)
#   bash scripts/python-env.sh --isolated  # the plain `pip install ./python` a user runs
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/pyenv
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
# maturin's build hook runs the `maturin` command it finds on PATH.
export PATH="$PWD/$venv/bin:$PATH"
pip=("$venv/bin/python" -m pip --disable-pip-version-check -q)
"${pip[@]}" install maturin numpy pytest Pillow
if [ "${1:-}" = "--isolated" ]; then
    "${pip[@]}" install --force-reinstall --no-deps ./python
else
    "${pip[@]}" install --force-reinstall --no-deps --no-build-isolation ./python
fi
