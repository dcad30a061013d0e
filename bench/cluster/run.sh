#!/usr/bin/env bash
# Cluster benchmark: parley-relay on its embedded sqlite store beside relay
# nodes sharing a NATS JetStream store, driven over WebSocket on loopback by
# the relay benchmark's load generator (bench/relay/parley-loadgen):
#   sqlite       one relay, --db (the default store)
#   n1-r1-1      one relay on a one-server JetStream (R1)
#   n1-r1-2      two relays on it: senders on one, receivers on the other
#   n3-r3-1      one relay on a three-server JetStream cluster (R3)
#   n3-r3-2      two relays on it, senders and receivers apart
# Workloads (1 KiB envelopes, one recipient per sender/receiver pair):
#   capacity: 20 pairs, 8 envelopes in flight per pair;
#   latency:  20 pairs paced at 200 envelopes/s in total, 500 idle connections.
# CPU per envelope is split between the relay process(es) and the
# nats-server process(es): their utime + stime over the whole run (warm-up,
# measured window and drain) divided by the envelopes received.
# Recovery: the relay-cluster test's relay_killed case (build/tests/cluster),
# whose client reconnects to the other node after kill -9 of its own; it
# prints the time from the kill to the first envelope acknowledged there.
#
# Usage: bench/cluster/run.sh [--runs N] [--relay RELAY] [--baseline RELAY] [--configs LIST]
#                             [--write]
#   --runs N          runs per configuration and workload (default 3: median, min, max)
#   --relay RELAY     the parley-relay measured (default: this tree's, built in release)
#   --baseline RELAY  also run every JetStream configuration with this parley-relay
#                     (one built from an earlier commit), interleaved with this tree's,
#                     for a before/after comparison in one run: rows "... (before)"
#   --configs LIST    only these configurations (space-separated, names as above)
#   --write           replace the cluster section of docs/performance.md with the results
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=$ROOT/build-benchrelay
HERE=$ROOT/bench/relay
DOC=$ROOT/docs/performance.md
SECTION="## Relay cluster: sqlite and NATS JetStream stores"
COMMAND="bench/cluster/run.sh${*:+ $*}"
RUNS=3
WRITE=0
BASELINE=
RELAY_GIVEN=
CONFIGS="sqlite n1-r1-1 n1-r1-2 n3-r3-1 n3-r3-2"
while [ $# -gt 0 ]; do
    case "$1" in
    --runs) RUNS=${2:?--runs needs a number}; shift ;;
    --relay) RELAY_GIVEN=${2:?--relay needs a parley-relay}; shift ;;
    --baseline) BASELINE=${2:?--baseline needs a parley-relay}; shift ;;
    --configs) CONFIGS=${2:?--configs needs a list}; shift ;;
    --write) WRITE=1 ;;
    -h | --help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
case "$RUNS" in '' | *[!0-9]* | 0) echo "run.sh: --runs needs a positive number" >&2; exit 2 ;; esac
for given in "$BASELINE" "$RELAY_GIVEN"; do
    [ -z "$given" ] || [ -x "$given" ] || { echo "run.sh: $given is not a program" >&2; exit 2; }
done
[ -z "$BASELINE" ] || BASELINE=$(cd "$(dirname "$BASELINE")" && pwd)/$(basename "$BASELINE")

. "$HERE/lib.sh"
install_deps
build_loadgen
if [ -n "$RELAY_GIVEN" ]; then
    RELAY=$(cd "$(dirname "$RELAY_GIVEN")" && pwd)/$(basename "$RELAY_GIVEN")
else
    build_relay
fi
setup_limits 4000
USE_RT=0
setup_priority
make_tmp
CONF=$ROOT/tests/cluster/nats-node.conf
NATS_PIDS=()
RELAY_PIDS=()
RELAY_PORTS=()

stop_cluster() {
    local pid
    for pid in "${RELAY_PIDS[@]}" "${NATS_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${RELAY_PIDS[@]}" "${NATS_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    RELAY_PIDS=()
    RELAY_PORTS=()
    NATS_PIDS=()
}
trap 'stop_cluster; cleanup' EXIT

# start_nats N DIR: N servers (1: JetStream alone, 3: one cluster); sets STORE_SPEC.
start_nats() {
    local n=$1 dir=$2 i ports=() cports=() hports=()
    for i in $(seq "$n"); do ports+=("$(free_port)"); cports+=("$(free_port)"); hports+=("$(free_port)"); done
    STORE_SPEC=nats://
    for i in $(seq 0 $((n - 1))); do
        mkdir -p "$dir/n$i"
        if [ "$n" = 1 ]; then
            nats-server -js -sd "$dir/n$i" -a 127.0.0.1 -p "${ports[$i]}" -m "${hports[$i]}" \
                >"$dir/n$i.log" 2>&1 &
        else
            PARLEY_NATS_NAME=n$i PARLEY_NATS_PORT=${ports[$i]} PARLEY_NATS_HTTP=127.0.0.1:${hports[$i]} \
                PARLEY_NATS_CLUSTER=127.0.0.1:${cports[$i]} PARLEY_NATS_STORE=$dir/n$i \
                PARLEY_NATS_ROUTE1=nats-route://127.0.0.1:${cports[0]} \
                PARLEY_NATS_ROUTE2=nats-route://127.0.0.1:${cports[1]} \
                PARLEY_NATS_ROUTE3=nats-route://127.0.0.1:${cports[2]} \
                nats-server -c "$CONF" >"$dir/n$i.log" 2>&1 &
        fi
        NATS_PIDS+=($!)
        STORE_SPEC="$STORE_SPEC$([ "$i" = 0 ] || echo ,)127.0.0.1:${ports[$i]}"
    done
    for i in $(seq 0 $((n - 1))); do
        for _ in $(seq 300); do
            curl -sf -o /dev/null --max-time 1 "http://127.0.0.1:${hports[$i]}/healthz" && break
            sleep 0.1
        done
    done
}

# start_relay STORE DIR I: a relay node on STORE (a --store spec).
start_relay() {
    local store=$1 dir=$2 i=$3
    rm -f "$dir/relay$i.port"
    "$RELAY_BIN" --listen 127.0.0.1 --port 0 --port-file "$dir/relay$i.port" --store "$store" \
        --audit-log "$dir/relay$i.audit" --max-conn-per-ip 20000 --rate 1000000 --burst 1000000 \
        --quota-count 1000000 --sender-count 0 --sender-bytes 0 >"$dir/relay$i.log" 2>&1 &
    RELAY_PIDS+=($!)
    for _ in $(seq 600); do
        [ -s "$dir/relay$i.port" ] && break
        sleep 0.1
    done
    RELAY_PORTS+=("$(cat "$dir/relay$i.port")")
}

cpu_ticks() { # utime + stime of the processes given
    local pid total=0
    for pid in "$@"; do
        total=$((total + $(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || echo 0)))
    done
    echo "$total"
}

RESULTS=$TMP/results # lines: config metric value
: >"$RESULTS"
HZ=$(getconf CLK_TCK)

# bench_one CONFIG WORKLOAD RUN (CONFIG@before: with the --baseline relay)
bench_one() {
    local config=$1 workload=$2 run=$3 dir=$TMP/$1-$2-$3 out rc=0 r0 n0 r1 n1 rx_port=()
    mkdir -p "$dir"
    RELAY_BIN=$RELAY
    case "$config" in *@before) RELAY_BIN=$BASELINE ;; esac
    case "${config%@before}" in
    sqlite) start_relay "sqlite:$dir/relay.db" "$dir" 0 ;;
    n1-r1-*) start_nats 1 "$dir" ;;
    n3-r3-*) start_nats 3 "$dir" ;;
    esac
    case "${config%@before}" in
    *-1) start_relay "$STORE_SPEC" "$dir" 0 ;;
    *-2) start_relay "$STORE_SPEC" "$dir" 0; start_relay "$STORE_SPEC" "$dir" 1
         rx_port=(--rx-port "${RELAY_PORTS[1]}") ;;
    esac
    r0=$(cpu_ticks "${RELAY_PIDS[@]}"); n0=$(cpu_ticks "${NATS_PIDS[@]}")
    out=$dir/out
    timeout 600 "$LOADGEN" --proto parley --port "${RELAY_PORTS[0]}" "${rx_port[@]}" \
        --server-pid "${RELAY_PIDS[0]}" --workload "$workload" --pairs 20 --window 8 \
        --rate 200 --idle 500 --warmup 2 --duration 8 --drain 15 >"$out" 2>"$out.err" || rc=$?
    r1=$(cpu_ticks "${RELAY_PIDS[@]}"); n1=$(cpu_ticks "${NATS_PIDS[@]}")
    stop_cluster
    sed 's/^/    /' "$out" >&2
    if [ "$rc" != 0 ]; then
        sed 's/^/    /' "$out.err" >&2
        echo "$config ${workload}_failed 1" >>"$RESULTS"
        return 0
    fi
    awk -v c="$config" -v w="$workload" -v rt=$((r1 - r0)) -v nt=$((n1 - n0)) -v hz="$HZ" '
        $1 == "result" {
            delete kv
            for (i = 2; i <= NF; i++) { n = index($i, "="); kv[substr($i, 1, n - 1)] = substr($i, n + 1) }
            if (kv["workload"] != w) next
            got = kv["received"] + 0
            if (w == "capacity") print c, "cap_rate", kv["msgs_per_s"]
            else { print c, "lat_p50", kv["p50_us"]; print c, "lat_p99", kv["p99_us"] }
            if (got > 0) {
                print c, w "_relay_us", rt / hz * 1e6 / got
                print c, w "_nats_us", nt / hz * 1e6 / got
            }
        }' "$out" >>"$RESULTS"
}

RUN_CONFIGS=
for config in $CONFIGS; do
    case "$config" in
    sqlite | n1-r1-1 | n1-r1-2 | n3-r3-1 | n3-r3-2) ;;
    *) echo "run.sh: unknown configuration $config" >&2; exit 2 ;;
    esac
    RUN_CONFIGS="$RUN_CONFIGS $config"
    [ -z "$BASELINE" ] || [ "$config" = sqlite ] || RUN_CONFIGS="$RUN_CONFIGS $config@before"
done
START=$(date +%s)
for run in $(seq "$RUNS"); do
    for config in $RUN_CONFIGS; do
        for workload in capacity latency; do
            log "run $run/$RUNS: $config $workload"
            bench_one "$config" "$workload" "$run"
        done
    done
done

# Recovery after kill -9 of a relay node: the relay-cluster test's relay_killed case,
# with the relay measured above.
[ -x "$ROOT/build/tests/cluster/relay-cluster" ] || ninja -C "$ROOT/build" tests/cluster/relay-cluster >&2
for run in $(seq "$RUNS"); do
    log "run $run/$RUNS: recovery"
    PARLEY_NATS_SERVER=$(command -v nats-server) PARLEY_NATS_CONF=$CONF \
        "$ROOT/build/tests/cluster/relay-cluster" "$RELAY" relay_killed \
        >"$TMP/recovery-$run" 2>&1 || true
    sed -n 's/.*served again by the other node in \([0-9]*\) ms.*/recovery recover_ms \1/p' \
        "$TMP/recovery-$run" >>"$RESULTS"
done
log "benchmark took $(($(date +%s) - START)) s"

# --- table ----------------------------------------------------------------
med() { # med CONFIG METRIC: "median (min-max)" over the runs, or "-"
    awk -v c="$1" -v m="$2" '$1 == c && $2 == m { v[n++] = $3 } END {
        if (n == 0) { print "-"; exit }
        for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
        m = n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2
        if (n == 1) printf "%.0f\n", m; else printf "%.0f (%.0f-%.0f)\n", m, v[0], v[n - 1] }' "$RESULTS"
}
NAMES="sqlite:sqlite, one relay
n1-r1-1:JetStream 1 server R1, one relay
n1-r1-2:JetStream 1 server R1, two relays
n3-r3-1:JetStream 3 servers R3, one relay
n3-r3-2:JetStream 3 servers R3, two relays"
TABLE=$TMP/table
{
    echo "$SECTION"
    echo
    echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores ($(lscpu | sed -n 's/^Model name: *//p' | head -n 1)),"
    echo "commit $(git -C "$ROOT" rev-parse --short HEAD)${RELAY_GIVEN:+ (relay: $(basename "$RELAY"))}, nats-server $(nats-server --version | sed 's/^nats-server: *//'),"
    echo "load average $(cut -d' ' -f1-3 /proc/loadavg) at the end: the machine is shared with other"
    echo "builds and tests, every process (relays, nats-servers, generator) on its two cores, so"
    echo "these figures compare the stores side by side in one run; they are not capacities of a"
    echo "dedicated machine, and no scaling with nodes can show on two shared cores. Medians of"
    echo "$RUNS runs (min-max). Command: \`$COMMAND\`."
    echo
    echo "| store | capacity (envelopes/s) | p50 / p99 at 200/s (µs) | CPU µs per envelope, relay / nats-server (capacity) |"
    echo "|---|---|---|---|"
    while IFS=: read -r c name; do
        for v in "$c" "$c@before"; do
            case " $RUN_CONFIGS " in *" $v "*) ;; *) continue ;; esac
            label=$name
            [ "$v" = "$c" ] || label="$name (before: $(basename "$BASELINE"))"
            echo "| $label | $(med "$v" cap_rate) | $(med "$v" lat_p50) / $(med "$v" lat_p99) | $(med "$v" capacity_relay_us) / $(med "$v" capacity_nats_us) |"
        done
    done <<<"$NAMES"
    echo
    echo "Projection for N machines. A relay node pipelines each batch of envelope ops: it"
    echo "publishes all of its envelopes at once and collects the acknowledgements, then reads"
    echo "and deletes in rounds (docs/cluster.md §8), so a batch costs a few round trips to the"
    echo "envelope stream's leader whatever its size, and batches grow with the load. Nodes add"
    echo "up until that leader is busy, since every envelope of a partition goes through it"
    echo "(docs/cluster.md §3.3). With K partitions on N >= K servers the cluster takes about K"
    echo "times one leader's rate; relay nodes scale with connections, TLS and signature"
    echo "checks, which they do not share. On these two shared cores relays, servers and the"
    echo "generator compete for the same CPU, so two relays cannot show more than one here."
    echo
    echo "Recovery after kill -9 of a client's relay node (three servers R3, two relays): the"
    echo "client is connected and authenticated on the other node $(med recovery recover_ms) ms"
    echo "after the kill (relay-cluster's relay_killed case; the client reconnects at once)."
} >"$TABLE"
cat "$TABLE"
if [ "$WRITE" = 1 ]; then
    . "$ROOT/bench/section.sh"
    write_section "$DOC" "$SECTION" "$TABLE"
fi
