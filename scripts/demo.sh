#!/usr/bin/env bash
# Parley's demonstration on the embedded defaults: builds, creates a demo
# brand (brand key, relay pin brand.pub, client pin brand.client, two agents
# with certificates, a signed directory) under demo/, starts parley-relay on
# 127.0.0.1:8787 with the relay pin and a fresh sqlite database
# parley-relay.db, and plays a whole support conversation through it with
# parley-demo, whose clients hold the client pin (a customer consents and
# asks; agent alice claims, answers and transfers to bob; bob answers and
# closes), printing what each side saw. It then searches the relay's
# database files and log for every message text, the agents' display names
# and the notice text (sealed in the directory), fails loudly if one is
# found in clear, and stops the relay.
#
# With --widget it also builds the browser widget and, after that, leaves
# the relay serving it with a demo page (--web-root demo/web) and an echo
# agent answering, prints the page's URL and runs until Ctrl-C. Without
# it, the widget is built too when emscripten is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${PARLEY_BUILD_DIR:-build}
widget=0
case "${1:-}" in
  --widget) widget=1 ;;
  "") ;;
  *) echo "usage: $0 [--widget]" >&2; exit 2 ;;
esac
./scripts/build.sh "$build"
if [ "$widget" = 1 ]; then
  ./scripts/wasm-build.sh "$build"
elif command -v emcc >/dev/null; then
  ./scripts/wasm-build.sh "$build" ||
    echo "demo.sh: the browser widget did not build (see above); the demo goes on without it" >&2
fi

relay=$build/relay/parley-relay
demo_bin=$build/tools/parley-demo
demo=demo
db=parley-relay.db
log=$demo/relay.log
export PARLEY_DEMO_PASSPHRASE=${PARLEY_DEMO_PASSPHRASE:-demo passphrase, not for production}
./scripts/demo-keys.sh "$build" "$demo"

if curl -s -o /dev/null --max-time 1 http://127.0.0.1:8787/healthz; then
  echo "demo.sh: something already listens on 127.0.0.1:8787; stop it first" >&2
  exit 1
fi

relay_args=(--brand "$demo/brand.pub" --db "$db" --log "$log")
if [ "$widget" = 1 ]; then
  # The widget as the relay serves it, the brand's signed directory beside
  # the panel (the notice ships with the page), and the demo page.
  web=$demo/web
  rm -rf "$web"
  cp -rp "$build/wasm/widget/ui/web" "$web" # -p: each gzip copy keeps its file's time
  printf '{"directory":"%s"}\n' "$(base64 -w0 "$demo/directory.dir")" > "$web/parley/directory.json"
  mkdir -p "$web/demo"
  cp widget/demo/demo.css "$web/demo/"
  pin=$(grep '^parley-brand-' "$demo/brand.client")
  for lang in en fr; do
    page=$web/demo/index.html
    [ "$lang" = en ] || page=$web/demo/$lang.html
    sed -e "s|@LANG@|$lang|g" -e "s|@WIDGET_ORIGIN@|http://127.0.0.1:8787|g" \
      -e "s|@RELAY@|ws://127.0.0.1:8787/|g" -e "s|@BRAND@|$pin|g" widget/demo/index.html.in > "$page"
  done
  relay_args+=(--web-root "$web")
fi

echo
echo "== parley-relay on ws://127.0.0.1:8787 with the relay pin, fresh database $db, log $log"
rm -f "$db" "$db-wal" "$db-shm" "$log"
"$relay" "${relay_args[@]}" &
relay_pid=$!
agent_pid=
stop_relay() {
  if [ -n "$agent_pid" ]; then
    kill -TERM "$agent_pid" 2>/dev/null || true
    wait "$agent_pid" 2>/dev/null || true
    agent_pid=
  fi
  if [ -n "$relay_pid" ]; then
    kill -TERM "$relay_pid" 2>/dev/null || true
    wait "$relay_pid" 2>/dev/null || true
    relay_pid=
  fi
}
trap stop_relay EXIT
for _ in $(seq 100); do
  curl -sf -o /dev/null --max-time 1 http://127.0.0.1:8787/healthz && break
  kill -0 "$relay_pid" 2>/dev/null || { echo "demo.sh: parley-relay exited; see $log" >&2; exit 1; }
  sleep 0.1
done
curl -sf -o /dev/null --max-time 1 http://127.0.0.1:8787/healthz ||
  { echo "demo.sh: parley-relay did not answer /healthz; see $log" >&2; exit 1; }

echo
texts=$(mktemp)
trap 'stop_relay; rm -f "$texts"' EXIT
"$demo_bin" --relay ws://127.0.0.1:8787/ --demo-dir "$demo" --texts "$texts" --timeout 10

echo
echo "== What the relay kept: searching its database files and log for every message,"
echo "   the agents' display names and the privacy notice (sealed in the directory)"
files=("$log")
for f in "$db" "$db-wal" "$db-shm"; do
  [ -f "$f" ] && files+=("$f")
done
[ -s "$texts" ] || { echo "demo.sh: parley-demo listed no messages" >&2; exit 1; }
leaks=0
# search KIND TEXT: reports TEXT as not found, or counts a leak.
search() {
  local found= f
  for f in "${files[@]}"; do
    if [ "$(grep -a -c -F -- "$2" "$f" || true)" != 0 ]; then
      found="$found $f"
    fi
  done
  if [ -n "$found" ]; then
    echo "!! FOUND IN CLEAR in$found ($1): $2" >&2
    leaks=$((leaks + 1))
  else
    echo "not found in relay db/wal/log ($1): $2"
  fi
}
while IFS= read -r text; do
  search message "$text"
done < "$texts"
search "agent name" "Alice Martin"
search "agent name" "Bob Lefèvre"
search notice "Demo Shop keeps this conversation"
if [ "$leaks" -ne 0 ]; then
  echo "!! demo.sh: $leaks message(s), name(s) or notice text readable at the relay" >&2
  exit 1
fi

if [ "$widget" = 1 ]; then
  # An echo agent for each conversation in turn (one answers one
  # conversation, then exits when it closes or stays silent for an hour).
  (
    echo_pid=
    trap '[ -z "$echo_pid" ] || kill -TERM "$echo_pid" 2>/dev/null; exit 0' TERM
    while kill -0 "$relay_pid" 2>/dev/null; do
      "$demo_bin" --relay ws://127.0.0.1:8787/ --demo-dir "$demo" --echo-agent alice --timeout 3600 \
        >> "$demo/echo-agent.log" 2>&1 &
      echo_pid=$!
      wait "$echo_pid" || sleep 1
    done
  ) &
  agent_pid=$!
  echo
  echo "== The widget: open http://127.0.0.1:8787/demo/ (in French: http://127.0.0.1:8787/demo/fr.html)"
  echo "   The relay serves the demo page, the loader and the chat panel from $web;"
  echo "   the echo agent alice answers each message (log: $demo/echo-agent.log)."
  echo "   Ctrl-C stops the relay and the agent."
  wait "$relay_pid" || true
  relay_pid=
  exit 0
fi

echo
echo "== Stopping the relay (SIGTERM: it drains and exits)"
stop_relay
echo "Done. Searched: ${files[*]}"
