#!/bin/sh
# Lays out the widget as a web server serves it (the relay's --web-root,
# or a brand's CDN): the loader at the top, the chat panel beside it in
# parley/, the engine and its wasm module in parley/engine/.
#   web-root.sh OUT SOURCE_ROOT MODULE_JS
#   OUT/parley-widget.js             the loader (widget/loader)
#   OUT/parley/panel.html ...        the panel (widget/ui)
#   OUT/parley/engine/*.js           the engine (widget/engine)
#   OUT/parley/engine/parley-widget.{js,wasm}   the module built from libparley
set -eu
out=$1 src=$2 module=$3
rm -rf "$out.new"
mkdir -p "$out.new/parley/engine"
cp "$src/widget/loader/parley-widget.js" "$out.new/"
cp "$src"/widget/ui/*.html "$src"/widget/ui/*.css "$src"/widget/ui/*.js "$out.new/parley/"
cp "$src"/widget/engine/*.js "$out.new/parley/engine/"
cp "$module" "${module%.js}.wasm" "$out.new/parley/engine/"
rm -rf "$out"
mv "$out.new" "$out"
