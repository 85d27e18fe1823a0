#!/usr/bin/env bash
# Installs dependencies, builds, and runs the demo: nodes on loopback
# exchanging encrypted traffic with a live link-status table.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh >/dev/null
exec "${BUILD_DIR:-build}/tools/knet_demo" "$@"
