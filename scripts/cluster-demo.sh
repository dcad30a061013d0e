#!/usr/bin/env bash
# Parley's demonstration on the clustered store: builds, makes the demo
# brand (scripts/demo-keys.sh), starts a three-node NATS JetStream cluster
# on free loopback ports (tests/cluster/nats-node.conf, data in a
# temporary directory) and three parley-relay nodes sharing it, then plays
# the demo conversation across them with parley-demo: the customer on the
# first node, agent alice on the second, bob (to whom alice transfers) on
# the third. It then searches the relays' logs and the NATS servers' data
# directories for every message text, the agents' names and the notice,
# fails loudly if one is found in clear, and stops everything.
# docs/operations.md ("A relay cluster on NATS JetStream") explains it.
# The relay-cluster-demo test runs it with PARLEY_CLUSTER_DEMO_BUILT=1 (the
# build in PARLEY_BUILD_DIR is current) and PARLEY_DEMO_DIR (its own keys).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${PARLEY_BUILD_DIR:-build}
[ "${PARLEY_CLUSTER_DEMO_BUILT:-0}" = 1 ] || ./scripts/build.sh "$build"
relay=$build/relay/parley-relay
demo_bin=$build/tools/parley-demo
demo=${PARLEY_DEMO_DIR:-demo}
export PARLEY_DEMO_PASSPHRASE=${PARLEY_DEMO_PASSPHRASE:-demo passphrase, not for production}
./scripts/demo-keys.sh "$build" "$demo"
nats_server=$(command -v nats-server || echo /usr/sbin/nats-server)
conf=$PWD/tests/cluster/nats-node.conf


work=$(mktemp -d /tmp/parley-cluster-demo.XXXXXX)
pids=()
stop_all() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pids=()
}
trap 'stop_all; rm -rf "$work"' EXIT

# wait_healthy URL WHAT LOG: until URL answers 200 (30 s at most).
wait_healthy() {
  for _ in $(seq 300); do
    curl -sf -o /dev/null --max-time 1 "$1" && return 0
    sleep 0.1
  done
  echo "cluster-demo.sh: $2 not healthy; see $3" >&2
  exit 1
}
# Free loopback ports: client, route and monitoring port of each NATS node.
read -r -a ports <<<"$(python3 -c 'import socket
socks = [socket.socket() for _ in range(9)]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))')"

echo "== Three nats-server nodes (JetStream, one cluster) on loopback, data in $work"
for i in 0 1 2; do
  mkdir -p "$work/n$i"
  PARLEY_NATS_NAME=n$i PARLEY_NATS_PORT=${ports[$i]} PARLEY_NATS_HTTP=127.0.0.1:${ports[$((6 + i))]} \
    PARLEY_NATS_CLUSTER=127.0.0.1:${ports[$((3 + i))]} PARLEY_NATS_STORE=$work/n$i \
    PARLEY_NATS_ROUTE1=nats-route://127.0.0.1:${ports[3]} \
    PARLEY_NATS_ROUTE2=nats-route://127.0.0.1:${ports[4]} \
    PARLEY_NATS_ROUTE3=nats-route://127.0.0.1:${ports[5]} \
    "$nats_server" -c "$conf" >"$work/n$i.log" 2>&1 &
  pids+=($!)
done
store=nats://127.0.0.1:${ports[0]},127.0.0.1:${ports[1]},127.0.0.1:${ports[2]}
for i in 0 1 2; do
  wait_healthy "http://127.0.0.1:${ports[$((6 + i))]}/healthz" "nats-server n$i" "$work/n$i.log"
done

echo "== Three parley-relay nodes, all --store $store"
urls=()
for i in 0 1 2; do
  "$relay" --brand "$demo/brand.pub" --store "$store" --port 0 --port-file "$work/relay$i.port" \
    --log "$work/relay$i.log" --audit-log "$work/relay$i.audit" &
  pids+=($!)
  for _ in $(seq 300); do
    [ -s "$work/relay$i.port" ] && break
    sleep 0.1
  done
  [ -s "$work/relay$i.port" ] ||
    { echo "cluster-demo.sh: relay node $i did not start; see $work/relay$i.log" >&2; exit 1; }
  urls+=("ws://127.0.0.1:$(cat "$work/relay$i.port")/")
  wait_healthy "http://127.0.0.1:$(cat "$work/relay$i.port")/healthz" "relay node $i" \
    "$work/relay$i.log"
  echo "   node $i: ${urls[$i]}"
done

echo
texts=$work/texts
"$demo_bin" --relay "${urls[0]}" --agent-relay "alice=${urls[1]}" --agent-relay "bob=${urls[2]}" \
  --demo-dir "$demo" --texts "$texts" --timeout 20

echo
echo "== What the cluster kept: searching the relays' logs and the NATS servers' data"
echo "   directories for every message, the agents' display names and the privacy notice"
[ -s "$texts" ] || { echo "cluster-demo.sh: parley-demo listed no messages" >&2; exit 1; }
leaks=0
# search KIND TEXT: reports TEXT as not found, or counts a leak; a search that
# cannot read a directory or log (grep's status 2) stops the script.
search() {
  local rc=0
  grep -r -a -l -F -- "$2" "$work"/n0 "$work"/n1 "$work"/n2 "$work"/relay*.log >/dev/null || rc=$?
  if [ "$rc" -eq 0 ]; then
    echo "!! FOUND IN CLEAR ($1): $2" >&2
    leaks=$((leaks + 1))
  elif [ "$rc" -eq 1 ]; then
    echo "not found in NATS data or relay logs ($1): $2"
  else
    echo "cluster-demo.sh: cannot search the NATS data directories and relay logs" >&2
    exit 1
  fi
}
while IFS= read -r text; do
  search message "$text"
done < "$texts"
search "agent name" "Alice Martin"
search "agent name" "Bob Lefèvre"
search notice "Demo Shop keeps this conversation"
if [ "$leaks" -ne 0 ]; then
  echo "!! cluster-demo.sh: $leaks message(s), name(s) or notice text readable in the cluster" >&2
  exit 1
fi
echo
echo "== Stopping the relays and the NATS servers"
stop_all
echo "Done."
