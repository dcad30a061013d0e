#!/usr/bin/env bash
# Builds Parley and runs every test suite. Usage: scripts/test.sh [BUILD_DIR [MESON_SETUP_ARGS...]]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
./scripts/build.sh "$@"
meson test -C "$dir" --print-errorlogs --num-processes 2
