#!/usr/bin/env bash
# The demo brand under DEMO_DIR (default demo/), made once with BUILD_DIR's
# parley-keys: a brand key (relay pin brand.pub, client pin brand.client),
# agents alice and bob with certificates, and a signed directory with a
# privacy notice; then checked with both pins. Used by scripts/demo.sh and
# scripts/cluster-demo.sh. The agents' key passphrase is
# PARLEY_DEMO_PASSPHRASE (a demo default when unset).
# Usage: scripts/demo-keys.sh BUILD_DIR [DEMO_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
keys=$1/keys/parley-keys
demo=${2:-demo}
export PARLEY_DEMO_PASSPHRASE=${PARLEY_DEMO_PASSPHRASE:-demo passphrase, not for production}
pass=(--passphrase-env PARLEY_DEMO_PASSPHRASE)

if [ ! -f "$demo/brand.key" ]; then
  mkdir -p "$demo"
  echo "== A brand admin creates the brand key (secret half encrypted under a passphrase)"
  echo "   (brand.pub, the relay pin, goes to relay operators; brand.client, the client pin,"
  echo "    to widgets and agent clients)"
  "$keys" brand init --brand-id demo-shop --out "$demo/brand.key" --pub "$demo/brand.pub" \
    --client-pin "$demo/brand.client" --kdf interactive "${pass[@]}"
  for agent in alice bob; do
    name=$([ "$agent" = alice ] && echo "Alice Martin" || echo "Bob Lefèvre")
    echo "== Agent $agent creates keys and a signing request on their own machine"
    "$keys" agent request --agent-id "$agent" --name "$name" --key "$demo/$agent.key" \
      --out "$demo/$agent.req" --kdf interactive "${pass[@]}"
    echo "== The brand admin signs $agent's request"
    "$keys" brand sign "$demo/$agent.req" --key "$demo/brand.key" --out "$demo/$agent.cert" \
      --days 365 "${pass[@]}"
  done
  cat > "$demo/notice.txt" <<'NOTICE'
Demo Shop keeps this conversation to answer your question. Messages are
end-to-end encrypted; the relay stores them for at most 30 days.
NOTICE
fi
if [ ! -f "$demo/brand.client" ]; then
  # A demo/ made before directories were sealed: the client pin comes from the brand key.
  echo "== The brand admin writes the client pin from the brand key"
  "$keys" brand client-pin --key "$demo/brand.key" --out "$demo/brand.client" "${pass[@]}"
fi
if ! "$keys" verify "$demo/directory.dir" --brand "$demo/brand.client" >/dev/null 2>&1; then
  echo "== The brand admin signs the directory customers will verify (content sealed)"
  "$keys" brand directory --key "$demo/brand.key" --out "$demo/directory.dir" --force \
    --notice "$demo/notice.txt" --notice-version 1 --purpose support \
    --queue support=alice,bob "${pass[@]}" "$demo/alice.cert" "$demo/bob.cert"
fi
echo "== Verifying the directory with the client pin (what widgets and agents read)"
"$keys" verify "$demo/directory.dir" --brand "$demo/brand.client"
echo "== Verifying it with the relay pin (what the relay can check; the content stays sealed)"
"$keys" verify "$demo/directory.dir" --brand "$demo/brand.pub"
