#!/usr/bin/env bash
# Runs every test of the workspace: unit, property, golden-data, integration and CLI tests, the
# bounded fuzz smoke (arbitrary-bytes property tests) and a one-iteration run of every benchmark.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# The ML sidecar (kestrel-ml) links libtorch: provision it once (the torch wheel in .venv/, see
# scripts/libtorch.sh) so that --workspace builds and tests it too, on CPU.
# Two steps, so that a failed provisioning stops the run here (`eval "$(...)"` would hide it).
TORCH_ENV="$(scripts/libtorch.sh)"
eval "$TORCH_ENV"
cargo test --workspace --all-targets --locked
