#!/usr/bin/env bash
# Installs what Kestrel needs on a fresh Debian machine with a Rust toolchain (rustup) on PATH.
# Idempotent: only installs what is missing. Nothing here downloads anything but crates and Debian
# packages.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
{ command -v cc && command -v c++; } >/dev/null 2>&1 || need_apt+=(build-essential) # c++: torch-sys
command -v pkg-config >/dev/null 2>&1 || need_apt+=(pkg-config)
# The ML sidecar's libtorch comes as the torch wheel in a virtualenv (scripts/libtorch.sh).
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || need_apt+=(python3-venv)
if [ "${#need_apt[@]}" -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && apt-get install -y -qq "${need_apt[@]}"
    else
        echo "setup: missing ${need_apt[*]}; install them with apt-get (needs root)" >&2
        exit 1
    fi
fi

if ! command -v cargo >/dev/null 2>&1; then
    echo "setup: cargo not found; install Rust 1.95+ with rustup first" >&2
    exit 1
fi
cargo fetch --locked -q 2>/dev/null || cargo fetch -q
