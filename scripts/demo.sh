#!/usr/bin/env bash
# Parley's main job on the embedded defaults: builds, creates a demo brand
# (brand key, two agents with certificates, a signed directory) under demo/,
# and runs parley-relay on 127.0.0.1:8787 with its sqlite database
# parley-relay.db, serving that brand. Ctrl-C stops the relay (it drains).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh build

keys=build/keys/parley-keys
relay=build/relay/parley-relay
demo=demo
export PARLEY_DEMO_PASSPHRASE=${PARLEY_DEMO_PASSPHRASE:-demo passphrase, not for production}
pass=(--passphrase-env PARLEY_DEMO_PASSPHRASE)

if [ ! -f "$demo/brand.key" ]; then
  mkdir -p "$demo"
  echo "== A brand admin creates the brand key (secret half encrypted under a passphrase)"
  "$keys" brand init --brand-id demo-shop --out "$demo/brand.key" --pub "$demo/brand.pub" \
    --kdf minimum "${pass[@]}"
  for agent in alice bob; do
    name=$([ "$agent" = alice ] && echo "Alice Martin" || echo "Bob Lefèvre")
    echo "== Agent $agent creates keys and a signing request on their own machine"
    "$keys" agent request --agent-id "$agent" --name "$name" --key "$demo/$agent.key" \
      --out "$demo/$agent.req" --kdf minimum "${pass[@]}"
    echo "== The brand admin signs $agent's request"
    "$keys" brand sign "$demo/$agent.req" --key "$demo/brand.key" --out "$demo/$agent.cert" \
      --days 365 "${pass[@]}"
  done
  cat > "$demo/notice.txt" <<'NOTICE'
Demo Shop keeps this conversation to answer your question. Messages are
end-to-end encrypted; the relay stores them for at most 30 days.
NOTICE
  echo "== The brand admin signs the directory customers will verify"
  "$keys" brand directory --key "$demo/brand.key" --out "$demo/directory.dir" \
    --notice "$demo/notice.txt" --notice-version 1 --purpose support \
    --queue support=alice,bob "${pass[@]}" "$demo/alice.cert" "$demo/bob.cert"
fi
echo "== Verifying the directory against the pinned brand key"
"$keys" verify "$demo/directory.dir" --brand "$demo/brand.pub"

echo
echo "== parley-relay on ws://127.0.0.1:8787 (subprotocol parley.v1), database parley-relay.db"
echo "   health:  curl http://127.0.0.1:8787/healthz"
echo "   metrics: curl http://127.0.0.1:8787/metrics"
echo "   Ctrl-C drains and stops it."
exec "$relay" --brand "$demo/brand.pub"
