#!/bin/sh
# Lays out the widget as a web server serves it (the relay's --web-root,
# or a brand's CDN): the loader at the top, the chat panel beside it in
# parley/, the engine and its wasm module in parley/engine/.
#   web-root.sh OUT SOURCE_ROOT MODULE_JS
#   OUT/parley-widget.js             the loader (widget/loader)
#   OUT/parley/panel.html ...        the panel (widget/ui)
#   OUT/parley/engine/*.js           the engine (widget/engine)
#   OUT/parley/engine/parley-widget.{js,wasm}   the module built from libparley
# and beside each file its gzip copy, NAME.gz (gzip -9, no name or time in
# it, the file's modification time), which parley-relay sends to browsers
# that accept gzip (docs/operations.md, "Serving the widget").
set -eu
out=$1 src=$2 module=$3
rm -rf "$out.new"
mkdir -p "$out.new/parley/engine"
cp "$src/widget/loader/parley-widget.js" "$out.new/"
cp "$src"/widget/ui/*.html "$src"/widget/ui/*.css "$src"/widget/ui/*.js "$out.new/parley/"
cp "$src"/widget/engine/*.js "$out.new/parley/engine/"
cp "$module" "${module%.js}.wasm" "$out.new/parley/engine/"
find "$out.new" -type f ! -name '*.gz' -exec gzip -9 -n -k -f {} +
rm -rf "$out"
mv "$out.new" "$out"
