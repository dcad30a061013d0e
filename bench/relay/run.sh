#!/usr/bin/env bash
# Relay benchmark: parley-relay beside nats-server and mosquitto, the
# brokers people would deploy instead, all driven over WebSocket on
# loopback by the same load generator (parley-loadgen, bench/relay/).
#
# Usage: bench/relay/run.sh [--quick] [--write] [--runs N] [--only LIST] [--no-rt]
#   --quick    one run per workload and server, shorter phases (smoke test)
#   --write    replace the relay section of docs/performance.md with the results
#   --runs N   runs per workload and server (default 3: median, min, max)
#   --only L   comma-separated subset of: parley,nats,mosquitto
#   --no-rt    keep the normal scheduler (see "Priority" below)
#
# Workloads (1 KiB messages, one subject/topic/recipient per sender/receiver pair):
#   (a) capacity: 100 pairs, 16 messages in flight per pair;
#   (b) latency: 100 pairs paced at 10,000 messages/s in total, with 5,000
#       idle connections held open;
#   (c) memory: server VmRSS per idle connection, read before and after the
#       5,000 idle connections of (b) are opened (before any message).
# Each workload starts a fresh server. Servers run on CPU 0, the generator
# on CPU 1 (taskset).
#
# Priority: the machine is shared (builds, fuzzers). Unless --no-rt is given,
# servers and generator run under SCHED_RR priority 10 (chrt), the same for
# every server, so that a CPU-bound neighbour does not decide the figures;
# the kernel's real-time throttling still leaves 5% of each CPU to others.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=$ROOT/build-benchrelay
HERE=$ROOT/bench/relay
DOC=$ROOT/docs/performance.md
SECTION="## Relay: throughput, latency, memory"
COMMAND="bench/relay/run.sh${*:+ $*}"

RUNS=3
QUICK=0
WRITE=0
USE_RT=1
ONLY="parley,nats,mosquitto"
while [ $# -gt 0 ]; do
    case "$1" in
    --quick) QUICK=1; RUNS=1 ;;
    --write) WRITE=1 ;;
    --runs) RUNS=${2:?--runs needs a number}; shift ;;
    --only) ONLY=${2:?--only needs a list}; shift ;;
    --no-rt) USE_RT=0 ;;
    -h | --help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
case "$RUNS" in '' | *[!0-9]* | 0) echo "run.sh: --runs needs a positive number" >&2; exit 2 ;; esac

if [ "$QUICK" = 1 ]; then
    WARMUP=1; DURATION=3
else
    WARMUP=2; DURATION=10
fi
PAIRS=100; WINDOW=16; RATE=10000; IDLE=5000

log() { printf '%s\n' "$*" >&2; }
want() { case ",$ONLY," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }

# --- servers installed, never as system services -------------------------
missing=()
command -v nats-server >/dev/null || missing+=(nats-server)
command -v mosquitto >/dev/null || missing+=(mosquitto)
if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]} (apt-get)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" >&2 ||
        { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" >&2; }
fi
if [ -s /run/mosquitto/mosquitto.pid ] && kill -0 "$(cat /run/mosquitto/mosquitto.pid)" 2>/dev/null; then
    log "stopping the mosquitto system service"
    service mosquitto stop >&2 2>/dev/null || kill "$(cat /run/mosquitto/mosquitto.pid)" || true
fi

# --- build (release, warnings are errors) --------------------------------
if [ ! -f "$BUILD/build.ninja" ]; then
    meson setup "$BUILD" "$ROOT" -Dbuildtype=release >&2
fi
ninja -C "$BUILD" bench/relay/parley-loadgen >&2
LOADGEN=$BUILD/bench/relay/parley-loadgen
RELAY=$BUILD/relay/parley-relay
PARLEY_SKIP=""
if want parley; then
    if ! ninja -C "$BUILD" relay/parley-relay >&2; then
        PARLEY_SKIP="relay/parley-relay does not build"
    fi
    if [ -n "$PARLEY_SKIP" ]; then
        log "SKIPPING Parley: $PARLEY_SKIP"
    fi
fi

# --- limits and priority ------------------------------------------------
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((IDLE + 2 * PAIRS + 1000)) ]; then
    log "run.sh: the open-files limit ($(ulimit -n)) is too low for $IDLE idle connections"
    exit 1
fi
RT=()
if [ "$USE_RT" = 1 ]; then
    if chrt -r 10 true 2>/dev/null; then
        RT=(chrt -r 10)
    else
        log "chrt -r 10 is not permitted: running at normal priority"
        USE_RT=0
    fi
fi

TMP=$(mktemp -d /tmp/parley-benchrelay.XXXXXX)
SERVER_PID=""
stop_server() {
    [ -n "$SERVER_PID" ] || return 0
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 100); do
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}
cleanup() { stop_server; rm -rf "$TMP"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

listening() {
    if command -v ss >/dev/null; then
        [ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]
    else
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
    fi
}

free_port() {
    local p
    for _ in $(seq 200); do
        p=$((20000 + RANDOM % 12000))
        if ! listening "$p"; then echo "$p"; return 0; fi
    done
    return 1
}

# Waits until the server listens on $1 (or dies). 0 when ready.
wait_listening() {
    for _ in $(seq 100); do
        kill -0 "$SERVER_PID" 2>/dev/null || return 1
        listening "$1" && return 0
        sleep 0.1
    done
    return 1
}

# start_<server> TAG: sets SERVER_PID and WS_PORT.
start_nats() {
    local cport
    cport=$(free_port); WS_PORT=$(free_port)
    sed -e "s/@CLIENT_PORT@/$cport/" -e "s/@WS_PORT@/$WS_PORT/" "$HERE/nats.conf" >"$TMP/nats.conf"
    "${RT[@]}" taskset -c 0 nats-server -c "$TMP/nats.conf" >"$TMP/nats-$1.log" 2>&1 &
    SERVER_PID=$!
    wait_listening "$WS_PORT"
}

start_mosquitto() {
    local mport
    mport=$(free_port); WS_PORT=$(free_port)
    sed -e "s/@MQTT_PORT@/$mport/" -e "s/@WS_PORT@/$WS_PORT/" "$HERE/mosquitto.conf" >"$TMP/mosquitto.conf"
    "${RT[@]}" taskset -c 0 mosquitto -c "$TMP/mosquitto.conf" >"$TMP/mosquitto-$1.log" 2>&1 &
    SERVER_PID=$!
    wait_listening "$WS_PORT"
}

start_parley() {
    rm -f "$TMP/relay.port"
    "${RT[@]}" taskset -c 0 "$RELAY" --listen 127.0.0.1 --port 0 --port-file "$TMP/relay.port" \
        --db "$TMP/relay-$1.db" --max-conn-per-ip 20000 --rate 1000000 --burst 1000000 \
        --quota-count 1000000 >"$TMP/parley-$1.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 100); do
        kill -0 "$SERVER_PID" 2>/dev/null || return 1
        if [ -s "$TMP/relay.port" ]; then
            WS_PORT=$(cat "$TMP/relay.port")
            return 0
        fi
        sleep 0.1
    done
    return 1
}

proto_of() { case "$1" in parley) echo parley ;; nats) echo nats ;; mosquitto) echo mqtt ;; esac; }

RESULTS=$TMP/results # lines: server metric value
: >"$RESULTS"
FAILURES=()

# bench_one SERVER WORKLOAD RUN
bench_one() {
    local server=$1 workload=$2 run=$3 tag="$2-$3" out rc=0
    if ! "start_$server" "$tag"; then
        log "  $server: server did not start; its log:"
        tail -n 20 "$TMP/$server-$tag.log" >&2 || true
        stop_server
        FAILURES+=("$server $workload run $run: server did not start")
        return 0
    fi
    sleep 0.5
    out=$TMP/out-$server-$tag
    timeout 600 "${RT[@]}" taskset -c 1 "$LOADGEN" --proto "$(proto_of "$server")" \
        --port "$WS_PORT" --server-pid "$SERVER_PID" --workload "$workload" \
        --pairs $PAIRS --window $WINDOW --rate $RATE --idle $IDLE \
        --warmup $WARMUP --duration $DURATION >"$out" 2>"$out.err" || rc=$?
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        log "  $server: the server exited during the run; its log:"
        tail -n 20 "$TMP/$server-$tag.log" >&2 || true
    fi
    stop_server
    sed 's/^/    /' "$out" >&2
    if [ "$rc" != 0 ]; then
        sed 's/^/    /' "$out.err" >&2
        FAILURES+=("$server $workload run $run: parley-loadgen exit $rc: $(head -n 1 "$out.err")")
        return 0
    fi
    awk -v s="$server" '
        $1 == "result" {
            delete kv
            for (i = 2; i <= NF; i++) { n = index($i, "="); kv[substr($i, 1, n - 1)] = substr($i, n + 1) }
            w = kv["workload"]
            if (w == "capacity") {
                print s, "cap_rate", kv["msgs_per_s"]; print s, "cap_eff", kv["msgs_per_cpu_s"]
                print s, "cap_cpu", kv["server_cpu_pct"]; print s, "cap_gen", kv["gen_cpu_pct"]
                print s, "cap_noise", kv["others_cpu_pct"]
            } else if (w == "latency") {
                print s, "lat_p50", kv["p50_us"]; print s, "lat_p99", kv["p99_us"]
                print s, "lat_cpu", kv["server_cpu_pct"]; print s, "lat_rate", kv["msgs_per_s"]
                print s, "lat_gen", kv["gen_cpu_pct"]; print s, "lat_noise", kv["others_cpu_pct"]
            } else if (w == "memory") {
                print s, "mem", kv["bytes_per_conn"]
            }
        }' "$out" >>"$RESULTS"
}

SERVERS=()
for s in parley nats mosquitto; do
    want "$s" || continue
    if [ "$s" = parley ] && [ -n "$PARLEY_SKIP" ]; then continue; fi
    SERVERS+=("$s")
done
if [ ${#SERVERS[@]} -eq 0 ]; then
    log "run.sh: nothing to run"
    exit 1
fi

START=$(date +%s)
for run in $(seq "$RUNS"); do
    for server in "${SERVERS[@]}"; do
        for workload in capacity latency; do
            log "run $run/$RUNS: $server $workload"
            bench_one "$server" "$workload" "$run"
        done
    done
done
log "benchmark took $(($(date +%s) - START)) s"

# --- table --------------------------------------------------------------
NATS_VERSION=$({ nats-server --version 2>/dev/null || true; } | sed 's/^nats-server: *//')
MOSQ_VERSION=$({ mosquitto -h 2>/dev/null || true; } | sed -n '1s/^mosquitto version *//p')
LWS_VERSION=$(dpkg-query -W -f='${Version}' 'libwebsockets17' 2>/dev/null || echo "?")
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo "?")
# Only source changes count: the docs are what this script writes.
if [ -n "$(git -C "$ROOT" status --porcelain -- . ':!docs' 2>/dev/null)" ]; then
    COMMIT="$COMMIT plus local changes"
fi
CPU_MODEL=$({ lscpu 2>/dev/null || true; } | sed -n 's/^Model name: *//p' | head -n 1)
RT_NOTE="normal scheduler (SCHED_OTHER)"
[ "$USE_RT" = 1 ] && RT_NOTE="SCHED_RR priority 10 (chrt -r 10) for servers and generator"
PARLEY_NOTE=""
want parley && [ -n "$PARLEY_SKIP" ] && PARLEY_NOTE="Parley not measured: $PARLEY_SKIP."

table() {
    awk -v runs="$RUNS" -v have_p="$(printf '%s\n' "${SERVERS[@]}" | grep -cx parley || true)" '
    function group(x,   s, neg, out) {
        s = sprintf("%.0f", x); neg = ""; if (substr(s, 1, 1) == "-") { neg = "-"; s = substr(s, 2) }
        out = ""
        while (length(s) > 3) { out = "," substr(s, length(s) - 2) out; s = substr(s, 1, length(s) - 3) }
        return neg s out
    }
    function fmt(m, x) {
        if (m == "mem") return sprintf("%.1f", x / 1024)
        if (m ~ /_p50$|_p99$/) return x < 100 ? sprintf("%.1f", x) : group(x)
        if (m ~ /_cpu$|_gen$|_noise$/) return sprintf("%.0f", x)
        return group(x)
    }
    function stats(s, m,   n, i, j, t, v) {
        n = cnt[s, m]
        if (n == 0) return 0
        for (i = 1; i <= n; i++) v[i] = val[s, m, i]
        for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
        med = (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
        lo = v[1]; hi = v[n]
        return n
    }
    function cell(s, m,   n) {
        n = stats(s, m)
        if (n == 0) return "—"
        if (n == 1) return fmt(m, med)
        return fmt(m, med) " (" fmt(m, lo) "–" fmt(m, hi) ")"
    }
    function ratio(m, peer,   p) {
        if (!(m in compared) || !stats("parley", m)) return ""
        p = med
        if (!stats(peer, m) || med == 0) return "—"
        return sprintf(p / med >= 0.1 ? "%.2f" : "%.3f", p / med)
    }
    { cnt[$1, $2]++; val[$1, $2, cnt[$1, $2]] = $3 + 0 }
    END {
        n = split("cap_rate|cap_eff|cap_cpu|cap_gen|cap_noise|lat_p50|lat_p99|lat_cpu|lat_rate|lat_gen|lat_noise|mem", ms, "|")
        split("cap_rate cap_eff lat_p50 lat_p99 lat_cpu mem", cm, " ")
        for (i in cm) compared[cm[i]] = 1
        label["cap_rate"] = "(a) capacity | messages/s"
        label["cap_eff"] = "(a) capacity | messages per server CPU-second"
        label["cap_cpu"] = "(a) capacity | server CPU %"
        label["cap_gen"] = "(a) capacity | generator CPU %"
        label["lat_p50"] = "(b) latency | p50 µs"
        label["lat_p99"] = "(b) latency | p99 µs"
        label["lat_cpu"] = "(b) latency | server CPU %"
        label["lat_rate"] = "(b) latency | messages/s achieved"
        label["lat_gen"] = "(b) latency | generator CPU %"
        label["mem"] = "(c) memory | KiB per idle connection"
        label["cap_noise"] = "(a) capacity | other processes, CPU % of one core"
        label["lat_noise"] = "(b) latency | other processes, CPU % of one core"
        print "| workload | figure | parley-relay | nats-server | mosquitto | Parley ÷ NATS | Parley ÷ mosquitto |"
        print "|---|---|---:|---:|---:|---:|---:|"
        for (i = 1; i <= n; i++) {
            m = ms[i]
            print "| " label[m] " | " cell("parley", m) " | " cell("nats", m) " | " cell("mosquitto", m) \
                  " | " ratio(m, "nats") " | " ratio(m, "mosquitto") " |"
        }
    }' "$RESULTS"
}

TABLE=$(table)
printf '\n%s\n' "$TABLE"
if [ -n "$PARLEY_NOTE" ]; then printf '\n%s\n' "$PARLEY_NOTE"; fi
if [ ${#FAILURES[@]} -gt 0 ]; then
    printf '\nFailed runs (left out of the table):\n'
    printf -- '- %s\n' "${FAILURES[@]}"
fi

[ "$WRITE" = 1 ] || exit 0

# --- docs/performance.md: replace only our section -----------------------
SECTION_FILE=$TMP/section.md
{
    echo "$SECTION"
    echo
    echo "parley-relay beside nats-server and mosquitto, the brokers one would deploy"
    echo "instead, driven by the same load generator (\`parley-loadgen\`, single-threaded"
    echo "epoll, its own WebSocket client) over WebSocket on 127.0.0.1. Messages carry"
    echo "1 KiB of random bytes; each sender/receiver pair has its own NATS subject,"
    echo "MQTT topic or Parley recipient. Each cell is the median of $RUNS run(s), with"
    echo "min–max in brackets; a ratio is Parley's median over the peer's (above 1:"
    echo "Parley higher, which is better for messages/s and worse for latency, CPU"
    echo "and memory); rows without a ratio are there to judge the measurement."
    echo
    echo "$TABLE"
    echo
    if [ -n "$PARLEY_NOTE" ]; then echo "**$PARLEY_NOTE**"; echo; fi
    if [ ${#FAILURES[@]} -gt 0 ]; then
        echo "Runs that failed and are left out of the table:"
        printf -- '- %s\n' "${FAILURES[@]}"
        echo
    fi
    echo "Workloads:"
    echo "- (a) capacity: $PAIRS pairs, $WINDOW messages in flight per pair, ${WARMUP} s warm-up then"
    echo "  ${DURATION} s measured. Messages per server CPU-second divide the messages received by"
    echo "  the server's utime+stime over the same window (/proc/PID/stat)."
    echo "- (b) latency: $PAIRS pairs paced at $RATE messages/s in total, with $IDLE idle"
    echo "  connections held open (Parley: authenticated; NATS: CONNECT answered by PONG;"
    echo "  MQTT: CONNACK received). Latency is receive time minus the send time the sender"
    echo "  wrote (CLOCK_MONOTONIC) into the first 8 bytes of the payload."
    echo "- (c) memory: the server's VmRSS before and after opening the $IDLE idle connections"
    echo "  of (b), on a fresh server and before any message, divided by $IDLE."
    echo
    echo "What each system does for a message (they are not equivalent):"
    echo "- Parley: the relay stores each envelope durably in its sqlite database before"
    echo "  it acks the sender (the relay contract), delivers it, and deletes it when the"
    echo "  receiver answers \`delivered\` (batched per read). A message is in flight until"
    echo "  both the ack and the delivery arrived. Limits raised for the benchmark:"
    echo "  \`--max-conn-per-ip 20000 --rate 1000000 --burst 1000000 --quota-count 1000000\`;"
    echo "  a fresh database per run in $(dirname "$TMP") ($(findmnt -n -o FSTYPE --target "$TMP" 2>/dev/null || echo '?'))."
    echo "- NATS: core publish/subscribe, at most once, nothing stored (no JetStream)."
    echo "- MQTT: PUBLISH at QoS 0 (at most once, no acknowledgement), clean sessions,"
    echo "  mosquitto with persistence off."
    echo
    echo "Setup: every server pinned to CPU 0 and the generator to CPU 1 (taskset);"
    echo "$RT_NOTE; a fresh server process for every workload and run; open-files limit"
    echo "$(ulimit -n). Server configurations: \`bench/relay/nats.conf\`,"
    echo "\`bench/relay/mosquitto.conf\` (websocket listeners without TLS or compression)."
    if [ "$USE_RT" = 1 ]; then
        echo "Real-time tasks are throttled to 95% of a CPU by the kernel, so a server CPU"
        echo "figure of 94-95% means the server's core was saturated."
    fi
    echo "The \"other processes\" rows show how much CPU the rest of the machine used during"
    echo "the measured window (it is shared): large values mean noisier figures."
    echo
    echo "- Machine: ${CPU_MODEL:-?}, $(nproc) CPUs; kernel $(uname -r); $(. /etc/os-release && echo "$PRETTY_NAME")"
    echo "- Servers: parley-relay from this tree (commit $COMMIT; audit log on, as by default),"
    echo "  built with \`-Dbuildtype=release\`; nats-server ${NATS_VERSION:-?}; mosquitto ${MOSQ_VERSION:-?}"
    echo "  (libwebsockets $LWS_VERSION)"
    echo "- Date: $(date -u +%Y-%m-%d)"
    echo "- Command: \`$COMMAND\`"
} >"$SECTION_FILE"

mkdir -p "$(dirname "$DOC")"
if [ ! -f "$DOC" ]; then
    cp "$SECTION_FILE" "$DOC"
else
    awk -v section="$SECTION" -v file="$SECTION_FILE" '
        function emit(   line) { while ((getline line < file) > 0) print line; close(file); done = 1 }
        $0 == section { emit(); skipping = 1; next }
        skipping && /^## / { skipping = 0; print "" }
        !skipping { print }
        END { if (!done) { print ""; emit() } }' "$DOC" >"$TMP/performance.md"
    cat "$TMP/performance.md" >"$DOC"
fi
log "wrote the relay section of ${DOC#"$ROOT"/}"
