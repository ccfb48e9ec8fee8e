#!/usr/bin/env bash
# Builds basalt-loadgen (release) and prints the binary's path on stdout.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
cargo build --release -p basalt-loadgen >&2
echo "$ROOT/target/release/basalt-loadgen"
