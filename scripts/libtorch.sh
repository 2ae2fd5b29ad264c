#!/usr/bin/env bash
# Provisions libtorch for the ML sidecar (`kestrel-ml`, crate `tch` 0.24 = PyTorch 2.11.0) and
# prints the environment a build needs, as shell assignments:
#
#     eval "$(scripts/libtorch.sh)"      # then: cargo build -p kestrel-ml
#
# Idempotent: the first call creates a virtualenv (`.venv/` in the repository, git-ignored; or
# $KESTREL_TORCH_VENV) and installs the `torch==2.11.0` wheel from PyPI into it (about a minute and
# 4.7 GB); later calls only check it. The build then links the wheel's libtorch through
# `LIBTORCH_USE_PYTORCH=1` (torch-sys asks the `python` of the active virtualenv, $VIRTUAL_ENV on
# PATH, where torch lives); the sidecar's build
# script records torch's `lib` folder as the binary's rpath, so nothing is needed at run time.
# Only PyPI is used. Progress goes to stderr; stdout carries only the assignments.
set -euo pipefail
cd "$(dirname "$0")/.."

TORCH_VERSION="2.11.0"
VENV="${KESTREL_TORCH_VENV:-$PWD/.venv}"
PY="$VENV/bin/python"

have_torch() {
    [ -x "$PY" ] && "$PY" - "$TORCH_VERSION" <<'PYEOF' >/dev/null 2>&1
import sys, torch
sys.exit(0 if torch.__version__.split("+")[0] == sys.argv[1] else 1)
PYEOF
}

if ! have_torch; then
    echo "libtorch: installing torch==$TORCH_VERSION into $VENV (first time only)" >&2
    if [ ! -x "$PY" ]; then
        python3 -m venv "$VENV" >&2 || {
            echo "libtorch: python3 -m venv failed; install python3-venv (apt-get install python3-venv)" >&2
            exit 1
        }
    fi
    "$PY" -m pip install --quiet --disable-pip-version-check --no-input \
        "torch==$TORCH_VERSION" >&2
    have_torch || { echo "libtorch: torch $TORCH_VERSION did not import from $VENV" >&2; exit 1; }
fi

TORCH_LIB="$("$PY" -W ignore -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')"
printf 'export LIBTORCH_USE_PYTORCH=1\n'
printf 'export VIRTUAL_ENV=%q\n' "$VENV"
printf 'export KESTREL_TORCH_LIB=%q\n' "$TORCH_LIB"
printf 'export PATH=%q:"$PATH"\n' "$VENV/bin"
