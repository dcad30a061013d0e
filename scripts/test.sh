#!/usr/bin/env bash
# Builds Parley and runs every test suite. Usage: scripts/test.sh [BUILD_DIR [MESON_SETUP_ARGS...]]
# Then builds libparley for the browser in BUILD_DIR/wasm (scripts/wasm-build.sh)
# and runs there the suites without I/O under Node and the browser tests in
# Chromium (suite widget). PARLEY_WIDGET=0 leaves the browser build out.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
./scripts/build.sh "$@"
status=0
meson test -C "$dir" --print-errorlogs --num-processes 2 || status=1

if [ "${PARLEY_WIDGET:-1}" != 0 ]; then
  ./scripts/deps.sh wasm browser
  ./scripts/wasm-build.sh "$dir"
  # playwright-core at the version package-lock.json pins, from the npm
  # registry, without install scripts (no browser download: Chromium is Debian's).
  if ! cmp -s package-lock.json node_modules/.installed-package-lock.json; then
    npm ci --ignore-scripts --no-audit --no-fund >/dev/null
    cp package-lock.json node_modules/.installed-package-lock.json
  fi
  PARLEY_WIDGET_REQUIRED=1 meson test -C "$dir/wasm" --print-errorlogs --num-processes 2 || status=1
fi
exit "$status"
