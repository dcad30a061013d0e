#!/usr/bin/env bash
# Builds Parley in build DIR (default: build), with warnings as errors.
# Usage: scripts/build.sh [DIR [MESON_SETUP_ARGS...]]
# Installs what is missing first (scripts/deps.sh). The first run sets DIR
# up with the arguments; a later run with other arguments applies them to
# the existing DIR (meson setup --reconfigure: options not named keep their
# values), and a run without arguments keeps DIR's configuration (a DIR
# this script did not set up gets -Dwerror=true first).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
./scripts/deps.sh
args=(-Dwerror=true "$@")
stamp=$dir/.parley-setup-args
if [ ! -f "$dir/build.ninja" ]; then
  meson setup "$dir" "${args[@]}" >/dev/null
  printf '%s\n' "${args[@]}" >"$stamp"
elif [ ! -f "$stamp" ] || { [ "$#" -gt 0 ] && ! printf '%s\n' "${args[@]}" | cmp -s - "$stamp"; }; then
  meson setup --reconfigure "$dir" "${args[@]}" >/dev/null
  printf '%s\n' "${args[@]}" >"$stamp"
fi
ninja -C "$dir" >/dev/null
