#!/usr/bin/env bash
# Relay benchmark: parley-relay beside the brokers people would deploy
# instead, in their durable configurations and their fast ones, all driven
# over WebSocket on loopback by the same load generator (parley-loadgen,
# bench/relay/):
#   parley          parley-relay (stores every envelope, fsync before the ack)
#   jetstream       nats-server with JetStream: file storage, R1, publish
#                   with acknowledgement, a consumer with explicit acks
#   mosquitto-qos1  mosquitto, QoS 1, persistent sessions, persistence on
#   nats            core NATS (nothing stored)
#   mosquitto       mosquitto, QoS 0, persistence off (nothing stored)
#
# Usage: bench/relay/run.sh [--quick] [--write] [--runs N] [--only LIST] [--no-rt]
#   --quick    one run per workload and server, shorter phases (smoke test)
#   --write    replace the relay section of docs/performance.md with the results
#   --runs N   runs per workload and server (default 3: median, min, max)
#   --only L   comma-separated subset of the systems above
#   --no-rt    keep the normal scheduler (see "Priority" below)
#
# Workloads (1 KiB messages, one subject/topic/recipient per sender/receiver pair):
#   (a) capacity: 100 pairs, 16 messages in flight per pair;
#   (b) latency: 100 pairs paced at 10,000 messages/s in total, with 5,000
#       idle connections held open;
#   (c) memory: server VmRSS per idle connection, read before and after the
#       5,000 idle connections of (b) are opened (before any message).
# Each workload starts a fresh server with a fresh data directory. Servers
# run on CPU 0, the generator on CPU 1 (taskset). After each load the
# generator stops sending and waits for every message in flight; a system
# that acknowledges messages (Parley, JetStream, mosquitto QoS 1) must then
# have acknowledged and delivered every message exactly once, or the run
# counts as failed.
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
ALL="parley jetstream mosquitto-qos1 nats mosquitto"
ONLY=${ALL// /,}
while [ $# -gt 0 ]; do
    case "$1" in
    --quick) QUICK=1; RUNS=1 ;;
    --write) WRITE=1 ;;
    --runs) RUNS=${2:?--runs needs a number}; shift ;;
    --only) ONLY=${2:?--only needs a list}; shift ;;
    --no-rt) USE_RT=0 ;;
    -h | --help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
case "$RUNS" in '' | *[!0-9]* | 0) echo "run.sh: --runs needs a positive number" >&2; exit 2 ;; esac
for s in ${ONLY//,/ }; do
    case " $ALL " in *" $s "*) ;; *) echo "run.sh: --only: unknown system $s (known: $ALL)" >&2; exit 2 ;; esac
done

if [ "$QUICK" = 1 ]; then
    WARMUP=1; DURATION=3
else
    WARMUP=2; DURATION=10
fi
DRAIN=10
PAIRS=100; WINDOW=16; RATE=10000; IDLE=5000

want() { case ",$ONLY," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }

. "$HERE/lib.sh"
install_deps
build_loadgen
PARLEY_SKIP=""
if want parley; then
    if ! build_relay; then
        PARLEY_SKIP="relay/parley-relay does not build"
        log "SKIPPING Parley: $PARLEY_SKIP"
    fi
fi
setup_limits $((IDLE + 2 * PAIRS + 1000))
setup_priority
make_tmp

RESULTS=$TMP/results # lines: server metric value
: >"$RESULTS"
FAILURES=()

# bench_one SERVER WORKLOAD RUN
bench_one() {
    local server=$1 workload=$2 run=$3 tag="$2-$3" out rc=0
    if ! start_server "$server" "$tag"; then
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
        --warmup $WARMUP --duration $DURATION --drain $DRAIN >"$out" 2>"$out.err" || rc=$?
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
            if (w == "capacity" || w == "latency") {
                p = w == "capacity" ? "cap" : "lat"
                print s, p "_lost", kv["lost"] + 0; print s, p "_dup", kv["duplicates"] + 0
                if ("unacked" in kv) print s, p "_unacked", kv["unacked"]
            }
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
for s in $ALL; do
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

# --- tables -------------------------------------------------------------
NATS_VERSION=$({ nats-server --version 2>/dev/null || true; } | sed 's/^nats-server: *//')
MOSQ_VERSION=$({ mosquitto -h 2>/dev/null || true; } | sed -n '1s/^mosquitto version *//p')
LWS_VERSION=$(dpkg-query -W -f='${Version}' 'libwebsockets17' 2>/dev/null || echo "?")
AUTOSAVE=$(awk '$1 == "autosave_interval" { print $2 }' "$HERE/mosquitto-qos1.conf")
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo "?")
# Only source changes count: the docs are what this script writes.
if [ -n "$(git -C "$ROOT" status --porcelain -- . ':!docs' 2>/dev/null)" ]; then
    COMMIT="$COMMIT plus local changes"
fi
CPU_MODEL=$({ lscpu 2>/dev/null || true; } | sed -n 's/^Model name: *//p' | head -n 1)
FSTYPE=$(findmnt -n -o FSTYPE --target "$TMP" 2>/dev/null || echo '?')
RT_NOTE="normal scheduler (SCHED_OTHER)"
[ "$USE_RT" = 1 ] && RT_NOTE="SCHED_RR priority 10 (chrt -r 10) for servers and generator"
PARLEY_NOTE=""
want parley && [ -n "$PARLEY_SKIP" ] && PARLEY_NOTE="Parley not measured: $PARLEY_SKIP."

# What each system promises for a message it acknowledged (or does not).
SYSTEMS=$TMP/systems # lines: system <TAB> name in the table <TAB> durability
{
    printf 'parley\tparley-relay\t%s\n' "sqlite WAL, synchronous=FULL: an envelope is acked once the group commit holding it is fsynced, or once its recipient, whose client committed it first, confirmed it. A power cut loses nothing acknowledged."
    printf 'jetstream\tNATS JetStream (file, R1, PubAck, explicit acks)\t%s\n' "Each message is written to the stream's file (write(2), page cache) before the PubAck; fsync every 2 min (fixed in $NATS_VERSION). A power cut loses up to the last 2 min of acknowledged messages; a crash of the server alone loses none."
    printf 'mosquitto-qos1\tmosquitto QoS 1, persistence on\t%s\n' "Messages live in memory; the whole store is saved (fsync, rename) every autosave_interval = $AUTOSAVE s and at exit. A power cut or a crash loses every message since the last save."
    printf 'nats\tcore NATS\t%s\n' "Nothing stored, at most once: a message in flight is lost on a crash or a slow consumer."
    printf 'mosquitto\tmosquitto QoS 0, persistence off\t%s\n' "Nothing stored, at most once."
} >"$SYSTEMS"

# awk functions shared by both tables: number formats and run statistics.
AWK_LIB='
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
    sum = 0
    for (i = 1; i <= n; i++) { v[i] = val[s, m, i]; sum += v[i] }
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
    med = (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
    lo = v[1]; hi = v[n]
    return n
}
# The median of the runs, with their min-max; counts of lost messages are summed.
function cell(s, m,   n) {
    n = stats(s, m)
    if (n == 0) return "—"
    if (m ~ /_lost$|_dup$|_unacked$/) return group(sum)
    if (n == 1) return fmt(m, med)
    return fmt(m, med) " (" fmt(m, lo) "–" fmt(m, hi) ")"
}
function ratio(m, peer,   p) {
    if (!stats("parley", m)) return "—"
    p = med
    if (!stats(peer, m) || med == 0) return "—"
    return sprintf(p / med >= 0.1 ? "%.2f" : "%.3f", p / med)
}
{ cnt[$1, $2]++; val[$1, $2, cnt[$1, $2]] = $3 + 0 }
'

# One row per system: the figures a user compares, beside what the system
# promises, and Parley's ratio to each.
fair_table() {
    awk -v systems="$SYSTEMS" -v order="${SERVERS[*]}" "$AWK_LIB"'
    END {
        FS = "\t"
        while ((getline line < systems) > 0) { split(line, f, "\t"); name[f[1]] = f[2]; dur[f[1]] = f[3] }
        print "| system | durability: when it syncs to disk, what a power cut loses | (a) capacity, messages/s | Parley ÷ it | (b) p50 µs | (b) p99 µs | Parley ÷ it, p50 / p99 | (c) KiB per idle connection | Parley ÷ it |"
        print "|---|---|---:|---:|---:|---:|---:|---:|---:|"
        n = split(order, sys, " ")
        for (i = 1; i <= n; i++) {
            s = sys[i]
            if (s == "parley") { rc = "1"; rl = "1 / 1"; rm = "1" }
            else { rc = ratio("cap_rate", s); rl = ratio("lat_p50", s) " / " ratio("lat_p99", s); rm = ratio("mem", s) }
            print "| " name[s] " | " dur[s] " | " cell(s, "cap_rate") " | " rc " | " cell(s, "lat_p50") " | " \
                  cell(s, "lat_p99") " | " rl " | " cell(s, "mem") " | " rm " |"
        }
    }' "$RESULTS"
}

# One column per system: the figures that tell how far to trust the above.
detail_table() {
    awk -v systems="$SYSTEMS" -v order="${SERVERS[*]}" "$AWK_LIB"'
    END {
        while ((getline line < systems) > 0) { split(line, f, "\t"); name[f[1]] = f[2] }
        n = split(order, sys, " ")
        k = split("cap_eff|cap_cpu|cap_gen|cap_noise|cap_lost|cap_unacked|cap_dup|lat_rate|lat_cpu|lat_gen|lat_noise|lat_lost|lat_unacked|lat_dup", ms, "|")
        label["cap_eff"] = "(a) capacity | messages per server CPU-second"
        label["cap_cpu"] = "(a) capacity | server CPU %"
        label["cap_gen"] = "(a) capacity | generator CPU %"
        label["cap_noise"] = "(a) capacity | other processes, CPU % of one core"
        label["cap_lost"] = "(a) capacity | messages never received, all runs"
        label["cap_unacked"] = "(a) capacity | messages never acknowledged, all runs"
        label["cap_dup"] = "(a) capacity | messages received twice, all runs"
        label["lat_rate"] = "(b) latency | messages/s achieved"
        label["lat_cpu"] = "(b) latency | server CPU %"
        label["lat_gen"] = "(b) latency | generator CPU %"
        label["lat_noise"] = "(b) latency | other processes, CPU % of one core"
        label["lat_lost"] = "(b) latency | messages never received, all runs"
        label["lat_unacked"] = "(b) latency | messages never acknowledged, all runs"
        label["lat_dup"] = "(b) latency | messages received twice, all runs"
        head = "| workload | figure"; rule = "|---|---"
        for (i = 1; i <= n; i++) { head = head " | " name[sys[i]]; rule = rule "|---:" }
        print head " |"; print rule "|"
        for (j = 1; j <= k; j++) {
            row = "| " label[ms[j]]
            for (i = 1; i <= n; i++) row = row " | " cell(sys[i], ms[j])
            print row " |"
        }
    }' "$RESULTS"
}

FAIR=$(fair_table)
DETAIL=$(detail_table)
printf '\n%s\n\n%s\n' "$FAIR" "$DETAIL"
if [ -n "$PARLEY_NOTE" ]; then printf '\n%s\n' "$PARLEY_NOTE"; fi
if [ ${#FAILURES[@]} -gt 0 ]; then
    printf '\nFailed runs (left out of the tables):\n'
    printf -- '- %s\n' "${FAILURES[@]}"
fi

if [ "$WRITE" = 1 ]; then
    # --- docs/performance.md: replace only this section -----------------
    SECTION_FILE=$TMP/section.md
    {
        echo "$SECTION"
        echo
        echo "parley-relay beside the brokers one would deploy instead, each in the"
        echo "configuration that keeps messages (JetStream, mosquitto QoS 1 with"
        echo "persistence) and in the one that does not (core NATS, mosquitto QoS 0),"
        echo "all driven by the same load generator (\`parley-loadgen\`, single-threaded"
        echo "epoll, its own WebSocket client) over WebSocket on 127.0.0.1, in one"
        echo "invocation. Messages carry 1 KiB of random bytes; each sender/receiver pair"
        echo "has its own Parley recipient, NATS subject (and JetStream consumer) or MQTT"
        echo "topic. Each figure is the median of $RUNS run(s), with min–max in brackets."
        echo "\"Parley ÷ it\" is Parley's median over the system's: above 1 Parley is"
        echo "higher, which is better for capacity and worse for latency and memory."
        echo
        echo "$FAIR"
        echo
        if [ -n "$PARLEY_NOTE" ]; then echo "**$PARLEY_NOTE**"; echo; fi
        if [ ${#FAILURES[@]} -gt 0 ]; then
            echo "Runs that failed and are left out of the tables:"
            printf -- '- %s\n' "${FAILURES[@]}"
            echo
        fi
        echo "How far to trust the figures above: what the server and the generator"
        echo "used, what the rest of the (shared) machine used meanwhile, and whether"
        echo "every message arrived. Counts of messages never received or never"
        echo "acknowledged are taken after the load, once the generator stopped"
        echo "sending and waited up to $DRAIN s for what was in flight; for the systems"
        echo "that acknowledge (Parley, JetStream, mosquitto QoS 1) a run with any"
        echo "such message, or a duplicate, fails and is not in the tables."
        echo
        echo "$DETAIL"
        echo
        echo "Workloads:"
        echo "- (a) capacity: $PAIRS pairs, $WINDOW messages in flight per pair, ${WARMUP} s warm-up then"
        echo "  ${DURATION} s measured. A message is in flight until it was received and, where"
        echo "  the server acknowledges (Parley's ack, JetStream's PubAck, MQTT's PUBACK),"
        echo "  acknowledged. Messages per server CPU-second divide the messages received"
        echo "  by the server's utime+stime over the same window (/proc/PID/stat)."
        echo "- (b) latency: $PAIRS pairs paced at $RATE messages/s in total, with $IDLE idle"
        echo "  connections held open (Parley: authenticated; NATS: CONNECT answered by PONG;"
        echo "  MQTT: CONNACK received). Latency is receive time minus the send time the sender"
        echo "  wrote (CLOCK_MONOTONIC) into the first 8 bytes of the payload."
        echo "- (c) memory: the server's VmRSS before and after opening the $IDLE idle connections"
        echo "  of (b), on a fresh server and before any message, divided by $IDLE."
        echo
        echo "What each system does for a message:"
        echo "- Parley: the relay stores each envelope in its sqlite database and acks the"
        echo "  sender once the group commit holding it is synced, or once the receiver"
        echo "  confirmed it, whichever comes first (the relay contract); it delivers it and"
        echo "  deletes it when the receiver answers \`delivered\` (one frame per read); an"
        echo "  envelope confirmed before its insert was handed to the store is never written."
        echo "  Limits raised for the benchmark: \`--max-conn-per-ip 20000"
        echo "  --rate 1000000 --burst 1000000 --quota-count 1000000 --sender-count 0"
        echo "  --sender-bytes 0\`."
        echo "- NATS JetStream: one stream (file storage, one replica, work-queue retention:"
        echo "  a message is removed once acknowledged) and one durable push consumer per"
        echo "  pair, filtered on its subject, with explicit acks; the generator creates"
        echo "  them through the JetStream API. The sender publishes with a reply subject"
        echo "  of its own per message and counts the PubAck; the receiver acks every"
        echo "  delivery with +ACK (one frame per read). nats-server $NATS_VERSION has no"
        echo "  setting for the file store's sync: it writes each message to the block file"
        echo "  before the PubAck and fsyncs blocks every 2 minutes, when a block is closed"
        echo "  and at shutdown; a consumer's state (its acks) is rewritten at most 10 times"
        echo "  a second and never synced, so after a power cut acknowledged deliveries can"
        echo "  come again. Configuration: \`bench/relay/nats.conf\` + \`bench/relay/jetstream.conf\`."
        echo "- mosquitto QoS 1: persistent sessions (clean session off), subscriptions and"
        echo "  publishes at QoS 1; the broker PUBACKs the sender once the message is in its"
        echo "  memory and the receiver PUBACKs each delivery (one frame per read)."
        echo "  Persistence is periodic: autosave_interval $AUTOSAVE s (mosquitto's default), so a"
        echo "  run this short never reaches the disk; \`max_queued_messages 0\` so that no"
        echo "  QoS 1 message is dropped from a busy queue. Configuration:"
        echo "  \`bench/relay/mosquitto.conf\` + \`bench/relay/mosquitto-qos1.conf\`."
        echo "- core NATS: publish/subscribe, at most once, nothing stored."
        echo "- mosquitto QoS 0: PUBLISH at QoS 0 (at most once, no acknowledgement), clean"
        echo "  sessions, persistence off."
        echo
        echo "Setup: every server pinned to CPU 0 and the generator to CPU 1 (taskset);"
        echo "$RT_NOTE; a fresh server process and data directory for every workload and"
        echo "run, in $(dirname "$TMP") ($FSTYPE); open-files limit $(ulimit -n). Websocket"
        echo "listeners without TLS or compression."
        if [ "$USE_RT" = 1 ]; then
            echo "Real-time tasks are throttled to 95% of a CPU by the kernel, so a server CPU"
            echo "figure of 94-95% means the server's core was saturated."
        fi
        echo
        echo "- Machine: ${CPU_MODEL:-?}, $(nproc) CPUs; kernel $(uname -r); $(. /etc/os-release && echo "$PRETTY_NAME")"
        echo "- Servers: parley-relay from this tree (commit $COMMIT; audit log on, as by default),"
        echo "  built with \`-Dbuildtype=release\`; nats-server ${NATS_VERSION:-?}; mosquitto ${MOSQ_VERSION:-?}"
        echo "  (libwebsockets $LWS_VERSION)"
        echo "- Date: $(date -u +%Y-%m-%d)"
        echo "- Command: \`$COMMAND\`"
    } >"$SECTION_FILE"
    . "$ROOT/bench/section.sh"
    write_section "$DOC" "$SECTION" "$SECTION_FILE"
fi
[ ${#FAILURES[@]} -eq 0 ]
