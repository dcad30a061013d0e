#!/usr/bin/env bash
# Builds libparley for the browser: the same meson.build, cross-compiled
# to wasm32 by Debian's emscripten without the I/O layer and the programs,
# in DIR/wasm (DIR: the native build directory, default build), with
# libsodium and protobuf-c from scripts/wasm-deps.sh DIR/wasm-deps.
# Test it with: meson test -C DIR/wasm (docs/widget.md).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
./scripts/wasm-deps.sh "$dir/wasm-deps"

wasm=$dir/wasm
cross=("$PWD/widget/wasm32-emscripten.ini" "$(cd "$dir/wasm-deps" && pwd)/deps.ini")
# meson does not notice a changed cross file: configure afresh when one
# changed (a new libsodium, another node), keeping a copy to compare.
if [ ! -f "$wasm/build.ninja" ] || ! cat "${cross[@]}" | cmp -s - "$wasm/cross-files"; then
  rm -rf "$wasm"
  meson setup "$wasm" --cross-file "${cross[0]}" --cross-file "${cross[1]}" \
    -Dio=false -Dprograms=false -Dwerror=true >/dev/null
  cat "${cross[@]}" > "$wasm/cross-files"
fi
ninja -C "$wasm" --quiet
