#!/usr/bin/env bash
# The relay's integration suite on the NATS store: one relay test program
# run with PARLEY_TEST_STORE naming a nats-server started here (JetStream,
# one server, data in a temporary directory, stopped at the end), so that
# every relay it starts stores in NATS, each test directory in its own
# namespace of streams and buckets (tests/relay/relayproc.c).
# Usage: relay_suite_nats.sh NATS_SERVER TEST_PROGRAM PARLEY_RELAY [CASE...]
# (no CASE: all of the program's cases; else each CASE in turn)
set -euo pipefail
nats_server=$1
shift
[ -x "$nats_server" ] || { echo "nats-server cannot run here: skipped"; exit 77; }
dir=$(mktemp -d /tmp/parley-suite-nats.XXXXXX)
pid=
stop() {
  [ -z "$pid" ] || { kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
  rm -rf "$dir"
}
trap stop EXIT
read -r port http <<<"$(python3 -c 'import socket
a, b = socket.socket(), socket.socket()
a.bind(("127.0.0.1", 0)); b.bind(("127.0.0.1", 0))
print(a.getsockname()[1], b.getsockname()[1])')"
"$nats_server" -js -sd "$dir/js" -a 127.0.0.1 -p "$port" -m "$http" >"$dir/nats.log" 2>&1 &
pid=$!
for _ in $(seq 300); do
  curl -sf -o /dev/null --max-time 1 "http://127.0.0.1:$http/healthz" && break
  sleep 0.1
done
curl -sf -o /dev/null --max-time 1 "http://127.0.0.1:$http/healthz" ||
  { echo "nats-server did not start:"; cat "$dir/nats.log"; exit 1; }
# The relay tests' look into the store (tests/relay/testkit.h): its data, its monitor.
export PARLEY_TEST_STORE=nats://127.0.0.1:$port PARLEY_TEST_STORE_DATA=$dir/js \
  PARLEY_TEST_STORE_MONITOR=$http
program=$1 relay=$2
shift 2
# Not exec: the trap stops the server and removes its directory when the program ends.
status=0
if [ $# -eq 0 ]; then
  "$program" "$relay" || status=$?
fi
for case in "$@"; do
  "$program" "$relay" "$case" || status=1
done
exit "$status"
