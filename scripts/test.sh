#!/usr/bin/env bash
# Installs dependencies, builds, and runs every test suite (unit, C API, ABI,
# interop against Debian's libknet1, corosync cluster).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh
cd "${BUILD_DIR:-build}"
ctest --output-on-failure -j"$(nproc)" --timeout 600
