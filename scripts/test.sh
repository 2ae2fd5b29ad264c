#!/usr/bin/env bash
# Runs every test of the workspace: unit, property, golden-data, integration and CLI tests, the
# bounded fuzz smoke (arbitrary-bytes property tests) and a one-iteration run of every benchmark.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo test --workspace --all-targets --locked
