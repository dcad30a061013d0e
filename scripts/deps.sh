#!/usr/bin/env bash
# Installs the Debian 12 packages Parley needs to build, test and run,
# only those missing. Uses sudo when not root.
#   scripts/deps.sh              the native build, its tests and the demo
#   scripts/deps.sh wasm         also the browser build's toolchain (emscripten,
#                                autotools for libsodium, dpkg-source, node)
#   scripts/deps.sh browser      also the browser tests' Chromium and npm
#   scripts/deps.sh PACKAGE...   also these packages
set -euo pipefail

packages=(
  gcc pkg-config meson ninja-build
  libsodium-dev libwebsockets-dev libwebsockets-evlib-ev libev-dev libssl-dev
  libprotobuf-c-dev protobuf-c-compiler libsqlite3-dev sqlite3
  libncurses-dev tmux curl openssl
  nats-server libnats-dev
  libstemmer-dev publicsuffix
)
# Arguments: more packages a caller needs (bench/relay/deps.sh), or a group.
for arg in "$@"; do
  case $arg in
    wasm) packages+=(emscripten autoconf automake libtool dpkg-dev) ;;
    browser) packages+=(chromium) ;;
    *) packages+=("$arg"); continue ;;
  esac
  # Node.js runs emscripten, the wasm tests and playwright: Debian's, unless
  # the machine already has a node (and npm) of its own on PATH.
  command -v node >/dev/null || packages+=(nodejs)
  [ "$arg" != browser ] || command -v npm >/dev/null || packages+=(npm)
done

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ "${#missing[@]}" -eq 0 ] && exit 0

sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
echo "installing: ${missing[*]}" >&2
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
