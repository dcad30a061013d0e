#!/usr/bin/env bash
# Configures (once) and builds Parley in build DIR (default: build).
# Extra arguments go to `meson setup`.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
./scripts/deps.sh
if [ ! -f "$dir/build.ninja" ]; then
  meson setup "$dir" "$@" >/dev/null
fi
ninja -C "$dir" >/dev/null
