#!/bin/sh
# End-to-end benchmark: a customer and an agent talking through a real
# parley-relay on loopback (bench-e2e, bench/e2e/bench_e2e.c).
#
# Usage: bench/e2e/run.sh [--write] [--before DIR] [bench-e2e options]
#   --write   also replace the "## End to end: client to client through a
#             relay" section of docs/performance.md with the table, the
#             machine, the date and the command
#   --before DIR
#             first run the same benchmark from DIR, the build directory of
#             an earlier tree (its bench/e2e/bench-e2e and relay/parley-relay,
#             built already, e.g. with -Dbuildtype=release), then this
#             tree's, and print the two side by side: before and after a
#             change, on the same machine in the same invocation
#   --before-name TEXT
#             what the section calls that earlier tree (default: DIR)
# Other options go to bench-e2e: --runs N (default 5), --warmup N,
# --latency-msgs N, --pause-ms N, --throughput-msgs N, --window N,
# --size BYTES, --mode thread|loop.
#
# Builds bench-e2e and the relay in build-e2e at the top of the tree (or
# $BUILD_DIR), -Dbuildtype=release, and runs them with a fresh relay,
# database and client stores in /tmp for every run.
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$root/build-e2e}
doc=$root/docs/performance.md
heading='## End to end: client to client through a relay'
command=$(. "$root/bench/section.sh" && shell_words bench/e2e/run.sh "$@")

write=0
before=
before_name=
n=$#
while [ "$n" -gt 0 ]; do
    arg=$1
    shift
    n=$((n - 1))
    if [ "$arg" = "--write" ]; then
        write=1
    elif [ "$arg" = "--before" ] && [ "$n" -gt 0 ]; then
        before=$1
        shift
        n=$((n - 1))
    elif [ "$arg" = "--before-name" ] && [ "$n" -gt 0 ]; then
        before_name=$1
        shift
        n=$((n - 1))
    else
        set -- "$@" "$arg"
    fi
done
if [ -n "$before" ] && [ ! -x "$before/bench/e2e/bench-e2e" ]; then
    echo "bench/e2e/run.sh: no $before/bench/e2e/bench-e2e (build it first)" >&2
    exit 2
fi

if [ ! -f "$build/build.ninja" ]; then
    meson setup "$build" "$root" -Dbuildtype=release >&2
elif ! grep -q '"name": "buildtype", "value": "release"' \
        "$build/meson-info/intro-buildoptions.json" 2>/dev/null; then
    meson configure "$build" -Dbuildtype=release >&2
fi
ninja -C "$build" bench/e2e/bench-e2e relay/parley-relay >&2

out=$(mktemp)
section=$(mktemp)
earlier=$(mktemp)
trap 'rm -f "$out" "$section" "$earlier" "$doc.tmp"' EXIT

if [ -n "$before" ]; then
    "$before/bench/e2e/bench-e2e" --relay "$before/relay/parley-relay" "$@" >"$earlier"
    "$build/bench/e2e/bench-e2e" --relay "$build/relay/parley-relay" "$@" >"$out"
    # One table: each row of the two, medians (min–max) before and after.
    awk -F'|' '
        function t(s) { gsub(/^ +| +$/, "", s); return s }
        /^\| \(/ { key = $2 "|" $3; cell = t($4) " (" t($5) ")" }
        NR == FNR { if (/^\| \(/) was[key] = cell; next }
        /^\| workload/ { print "| workload | figure | before: median (min–max) | after: median (min–max) |"; next }
        /^\|---/ { print "|---|---|---:|---:|"; next }
        /^\| \(/ { print "|" $2 "|" $3 "| " was[key] " | " cell " |"; next }
        { print }
    ' "$earlier" "$out" >"$out.joined"
    mv "$out.joined" "$out"
else
    "$build/bench/e2e/bench-e2e" --relay "$build/relay/parley-relay" "$@" >"$out"
fi
cat "$out"

if [ "$write" -eq 0 ]; then
    exit 0
fi

cpu=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
fs=$(findmnt -n -o FSTYPE --target /tmp 2>/dev/null || echo '?')
{
    echo "$heading"
    echo
    echo "One customer and one agent (\`parley_client\`, the library's own sqlite"
    echo "stores) talking through a real \`parley-relay\` on 127.0.0.1, all of it in"
    echo "the path of each message: sealing, the customer's outbox, the relay's"
    echo "store, the agent's verification and history, and the delivery receipt the"
    echo "agent's client sends back. Every run starts a fresh relay (temporary"
    echo "database, \`--rate 1000000 --burst 1000000 --quota-count 1000000\` so its"
    echo "limits stay out of the way), a brand, one agent and one customer made in"
    echo "memory (stores under the tests-only \`PARLEY__KDF_TEST_ONLY\`); the customer consents and"
    echo "opens a conversation, the agent claims it, then:"
    echo
    echo "- (1) latency: the customer sends one text at a time with a pause between;"
    echo "  latency is the agent's \`PARLEY_EV_MESSAGE\` callback time minus the"
    echo "  \`CLOCK_MONOTONIC\` time written into the text just before"
    echo "  \`parley_conversation_send_text()\` (same process). The relay ack (\`PARLEY_EV_SENT\`)"
    echo "  and the receipt (\`PARLEY_EV_DELIVERED\`) are timed from the same start."
    echo "- (2a) throughput with an application window: \`parley_conversation_send_text()\` back to"
    echo "  back, but the customer waits while that many messages lack a delivery"
    echo "  receipt: what one conversation sustains without losing anything."
    echo "- (2b) burst: \`parley_conversation_send_text()\` back to back, nothing else; only the"
    echo "  library's outbox window (64 envelopes in flight to the relay) limits it."
    echo "  sent/s is the API rate (each call seals and commits the outbox row);"
    echo "  delivered/s counts the agent's callbacks up to the last one."
    echo
    echo "Clients run in service-thread mode: each has the library's service thread"
    echo "for the network and a host thread that polls \`parley_client_event_fd()\` and"
    echo "calls \`parley_client_dispatch()\` (the customer's host thread makes the API"
    echo "calls). That way the network keeps moving while the customer's host thread"
    echo "is inside \`parley_conversation_send_text()\`, as in an application with a UI thread;"
    echo "\`--mode loop\` runs \`parley_client_run_once()\` loops instead. Nothing is"
    echo "pinned: relay (event loop and writer thread) and both clients (two threads"
    echo "each) share the machine's CPUs. Each cell is the median over the runs,"
    echo "with the lowest and highest run."
    echo
    echo "- Command: \`$command\` (without \`--write\` it only prints the table)"
    echo "- Machine: $cpu, $(nproc) CPUs (nproc), $(uname -sr); stores and relay"
    echo "  database in /tmp ($fs)"
    echo "- Build: \`-Dbuildtype=release\`, $(${CC:-cc} --version | head -n1)"
    echo "- Date: $(date -u +%Y-%m-%d)"
    if [ -n "$before" ]; then
        echo "- Before: ${before_name:-$before}, the same benchmark built from it, run first"
        echo "  in the same invocation; after: this tree"
    fi
    echo
    cat "$out"
} >"$section"
cat >>"$section" <<'EOF'

What a message costs (strace -f -c over a run of 200 latency messages
and 10 throughput ones, perf record -g over a latency run, on the
machine above):

- Durability, not CPU, sets the latency. The path to the agent's
  callback holds one fdatasync: the customer's commit of the outbox row
  inside `parley_conversation_send_text()` (the call's p50 above), which
  must precede the send (an envelope that left before its row was
  durable could be followed, after a crash, by another under the same
  sequence number). The agent's client hands the text to the application
  as soon as it has opened and verified it; its record waits in an open
  transaction that the next arrivals and the outbox rows the relay
  acknowledged join, committed on the next turn of the client's loop
  while the application already has the text; `delivered` goes to the
  relay after that commit (`docs/protocol.md` §11.6). Before that change
  the agent's commit sat in series with the customer's.
- The relay forwards the envelope to the agent while its own commit is
  still running and acks the sender after it, so its fdatasync overlaps
  the rest.
- Syncs: 2,149 fdatasync calls in all processes for that run after the
  change, 2,222 before (about 8 a text: each client's outbox row, the
  received record, the receipt sealed in reply, the acknowledged rows,
  and the relay's commits). At one message at a time the held group
  rarely holds more than one text; in a burst it holds all that arrive
  in one turn of the loop.
- CPU is not the bound: perf puts about half of the clients' time in
  the kernel (the WAL's pwrite and fdatasync, loopback TCP, poll) and
  the rest in sqlite, libsodium (Ed25519 and X25519) and protobuf-c.
- The burst loses nothing: receive keys turn over once per round trip
  (the newest key is announced until the peer has used it), so however
  many payloads one side sends before the other answers, the peer always
  seals to a key that is still held.
EOF

. "$root/bench/section.sh"
write_section "$doc" "$heading" "$section"
