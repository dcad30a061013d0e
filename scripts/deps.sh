#!/usr/bin/env bash
# Installs the Debian 12 packages Parley needs to build, test and run,
# only those missing. Uses sudo when not root.
set -euo pipefail

packages=(
  gcc pkg-config meson ninja-build
  libsodium-dev libwebsockets-dev libwebsockets-evlib-ev libev-dev libssl-dev
  libprotobuf-c-dev protobuf-c-compiler libsqlite3-dev sqlite3
  libncurses-dev tmux curl openssl
  nats-server libnats-dev
  libstemmer-dev publicsuffix
)
packages+=("$@") # more that a caller needs (bench/relay/deps.sh)

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
