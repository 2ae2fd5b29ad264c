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

# torch's `lib` folder when the virtualenv holds torch $TORCH_VERSION (read from the wheel's
# metadata, without importing torch: the tests call this script many times).
torch_lib() {
    local d
    for d in "$VENV"/lib/python3*/site-packages; do
        if [ -d "$d/torch-$TORCH_VERSION.dist-info" ] && [ -f "$d/torch/lib/libtorch_cpu.so" ]; then
            printf '%s\n' "$d/torch/lib"
            return 0
        fi
    done
    return 1
}

# Free space (GiB) on the file system that will hold the virtualenv.
free_gib() {
    local d="$1"
    while [ ! -d "$d" ]; do d="$(dirname "$d")"; done
    df -Pk "$d" | awk 'NR == 2 { printf "%d\n", $4 / 1048576 }'
}

if ! TORCH_LIB="$(torch_lib)"; then
    echo "libtorch: installing torch==$TORCH_VERSION into $VENV (first time only)" >&2
    # The wheel and its CUDA runtime libraries take 4.7 GB once installed; pip unpacks each wheel
    # beside it. Refuse early, with the figure, rather than fail half-way through pip.
    NEED_GIB=6
    HAVE_GIB="$(free_gib "$VENV")"
    if [ "$HAVE_GIB" -lt "$NEED_GIB" ]; then
        echo "libtorch: $HAVE_GIB GiB free under $(dirname "$VENV"); torch $TORCH_VERSION needs $NEED_GIB GiB." >&2
        echo "libtorch: free some space, or point KESTREL_TORCH_VENV at a larger disk." >&2
        exit 1
    fi
    if [ ! -x "$PY" ]; then
        python3 -m venv "$VENV" >&2 || {
            echo "libtorch: python3 -m venv failed; install python3-venv (apt-get install python3-venv)" >&2
            exit 1
        }
    fi
    # --no-cache-dir: pip's cache would keep a second copy of every wheel (about 3 GB) in ~/.cache.
    # TMPDIR beside the virtualenv: the wheels are unpacked on the disk that receives them, not on
    # a small /tmp.
    mkdir -p "$VENV/.pip-tmp"
    TMPDIR="$VENV/.pip-tmp" "$PY" -m pip install --quiet --no-cache-dir --disable-pip-version-check \
        --no-input "torch==$TORCH_VERSION" >&2 || {
        rm -rf "$VENV/.pip-tmp"
        echo "libtorch: pip install torch==$TORCH_VERSION failed (see above); $(free_gib "$VENV") GiB free now" >&2
        exit 1
    }
    rm -rf "$VENV/.pip-tmp"
    "$PY" -W ignore -c 'import torch' >&2 || {
        echo "libtorch: torch $TORCH_VERSION does not import from $VENV" >&2
        exit 1
    }
    TORCH_LIB="$(torch_lib)" || {
        echo "libtorch: torch $TORCH_VERSION is not in $VENV after pip install" >&2
        exit 1
    }
fi

printf 'export LIBTORCH_USE_PYTORCH=1\n'
printf 'export VIRTUAL_ENV=%q\n' "$VENV"
printf 'export KESTREL_TORCH_LIB=%q\n' "$TORCH_LIB"
printf 'export PATH=%q:"$PATH"\n' "$VENV/bin"
