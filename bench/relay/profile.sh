#!/usr/bin/env bash
# Where parley-relay spends its CPU at capacity: the relay under the
# benchmark's capacity workload (bench/relay/run.sh: 100 sender/receiver
# pairs, 16 messages of 1 KiB in flight per pair, relay on CPU 0, generator
# on CPU 1), profiled, and its time grouped by where the code lives: the
# kernel, sqlite, libc, libsodium, libwebsockets, protobuf-c, the relay's
# own code, the rest; then the top functions.
#
# Usage: bench/relay/profile.sh [--quick] [--write] [--label TEXT] [--tool perf|callgrind] [--no-rt]
#   --quick       a 3 s profile instead of 10 s (callgrind: always short)
#   --write       also write the result to docs/performance.md, as the section
#                 "## Relay CPU profile: LABEL" (replacing one of that label)
#   --label TEXT  what this profile is of (default: "commit <hash>")
#   --tool T      perf (default where it works): perf record -e cpu-clock
#                 over the whole relay process, kernel included;
#                 callgrind (where perf cannot run): instructions executed
#                 in user space only, the kernel's share unseen, on a
#                 shorter and much slower run
#   --no-rt       normal scheduler instead of SCHED_RR priority 10
# The generator must account for every message (all acked, all received
# once), or the profile is discarded.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=$ROOT/build-benchrelay
HERE=$ROOT/bench/relay
DOC=$ROOT/docs/performance.md
COMMAND="bench/relay/profile.sh"
for a in "$@"; do
    case "$a" in *[!A-Za-z0-9_./=,:+-]*) COMMAND="$COMMAND '$a'" ;; *) COMMAND="$COMMAND $a" ;; esac
done

QUICK=0
WRITE=0
LABEL=""
TOOL=""
USE_RT=1
while [ $# -gt 0 ]; do
    case "$1" in
    --quick) QUICK=1 ;;
    --write) WRITE=1 ;;
    --label) LABEL=${2:?--label needs a text}; shift ;;
    --tool) TOOL=${2:?--tool needs perf or callgrind}; shift ;;
    --no-rt) USE_RT=0 ;;
    -h | --help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    *) echo "profile.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
case "$TOOL" in '' | perf | callgrind) ;; *) echo "profile.sh: --tool perf or callgrind" >&2; exit 2 ;; esac

PAIRS=100; WINDOW=16; WARMUP=2; DURATION=10
[ "$QUICK" = 1 ] && DURATION=3

. "$HERE/lib.sh"
install_deps --profile
build_loadgen
build_relay
setup_limits $((2 * PAIRS + 1000))
setup_priority
make_tmp

if [ -z "$TOOL" ]; then
    if perf record -q -e cpu-clock -o "$TMP/probe.data" -- true >/dev/null 2>&1; then
        TOOL=perf
    else
        log "perf cannot record here: profiling with callgrind instead"
        TOOL=callgrind
    fi
fi

# run_loadgen ARGS...: the capacity workload against the running relay;
# fails unless every message was acknowledged and received once.
run_loadgen() {
    local rc=0
    "${RT[@]}" taskset -c 1 "$LOADGEN" --proto parley --port "$WS_PORT" --server-pid "$SERVER_PID" \
        --workload capacity --pairs $PAIRS --window $WINDOW "$@" >"$TMP/loadgen.out" \
        2>"$TMP/loadgen.err" || rc=$?
    sed 's/^/    /' "$TMP/loadgen.out" >&2
    if [ "$rc" != 0 ]; then
        log "profile.sh: parley-loadgen failed (exit $rc):"
        sed 's/^/    /' "$TMP/loadgen.err" >&2
        return 1
    fi
}

PROFILE=$TMP/profile.tsv # lines: percent <TAB> object <TAB> k|u <TAB> function
if [ "$TOOL" = perf ]; then
    start_server parley profile || { log "profile.sh: the relay did not start"; exit 1; }
    sleep 0.5
    run_loadgen --warmup $WARMUP --duration $((DURATION + 1)) &
    LOADGEN_PID=$!
    sleep $((WARMUP + 1)) # connections, then the warm-up
    perf record -q -e cpu-clock -F 2000 -p "$SERVER_PID" -o "$TMP/perf.data" -- sleep "$DURATION" \
        >"$TMP/perf.log" 2>&1 || { cat "$TMP/perf.log" >&2; exit 1; }
    wait "$LOADGEN_PID" || exit 1
    stop_server
    SAMPLES=$(perf report -i "$TMP/perf.data" --stdio 2>/dev/null | sed -n 's/^# Samples: *\([^ ]*\).*/\1/p' | head -n 1)
    perf report -i "$TMP/perf.data" --no-children --sort dso,sym --stdio -q -t $'\t' 2>/dev/null |
        awk -F '\t' 'NF >= 3 {
            pct = $1; sub(/%.*/, "", pct); gsub(/ /, "", pct)
            dso = $2; gsub(/^ +| +$/, "", dso)
            sym = $3; kind = (sym ~ /^\[k\]/) ? "k" : "u"; sub(/^\[.\] /, "", sym)
            print pct "\t" dso "\t" kind "\t" sym
        }' >"$PROFILE"
    METHOD="perf record -e cpu-clock -F 2000 on the relay process (all its threads, kernel included) for $DURATION s after $WARMUP s of load; $SAMPLES samples"
else
    # Under callgrind the relay runs tens of times slower: 20 pairs for a
    # few seconds count enough instructions and stay within the generator's
    # deadlines.
    PAIRS=20; DURATION=5
    CG_OUT=$TMP/callgrind.out
    RELAY_WRAP=(valgrind --tool=callgrind --callgrind-out-file="$CG_OUT")
    start_server parley profile || { log "profile.sh: the relay did not start under callgrind"; exit 1; }
    run_loadgen --warmup 1 --duration $DURATION --drain 60 || exit 1
    stop_server # callgrind writes its profile when the relay exits
    callgrind_annotate --inclusive=no --threshold=100 "$CG_OUT" 2>/dev/null |
        awk '
            /^-+$/ { next }
            $1 ~ /^[0-9,]+$/ && $2 ~ /^\(/ && /\[.*\]$/ {
                ir = $1; gsub(/,/, "", ir); total += ir
                obj = $0; sub(/.*\[/, "", obj); sub(/\]$/, "", obj); n = split(obj, parts, "/"); obj = parts[n]
                fn = $0; sub(/^ *[0-9,]+ +\([^)]*\) +/, "", fn); sub(/ +\[[^]]*\]$/, "", fn); sub(/^[^:]*:/, "", fn)
                rows[++k] = ir "\t" obj "\t" fn
            }
            END {
                for (i = 1; i <= k; i++) {
                    split(rows[i], f, "\t")
                    printf "%.4f\t%s\tu\t%s\n", 100 * f[1] / total, f[2], f[3]
                }
            }' >"$PROFILE"
    METHOD="valgrind --tool=callgrind on the relay (instructions executed in user space; the kernel's share is not seen), $PAIRS pairs for $DURATION s"
fi

if [ ! -s "$PROFILE" ]; then
    log "profile.sh: the profile is empty"
    exit 1
fi

# Where the code lives: kernel, the libraries, the relay itself.
GROUPED=$TMP/grouped.tsv # lines: group <TAB> percent <TAB> function
awk -F '\t' '{
    o = $2
    if ($3 == "k" || o ~ /^\[kernel/) g = "kernel"
    else if (o ~ /libsqlite3/) g = "sqlite"
    else if (o ~ /^libc[.-]/ || o ~ /^libc\.so/) g = "libc"
    else if (o ~ /libsodium/) g = "libsodium"
    else if (o ~ /libwebsockets/) g = "libwebsockets"
    else if (o ~ /libprotobuf-c/) g = "protobuf-c"
    else if (o == "parley-relay") g = "relay (own code)"
    else g = "other (" o ")"
    print g "\t" $1 "\t" $4
}' "$PROFILE" >"$GROUPED"

GROUPS_TABLE=$(awk -F '\t' '
    { share[$1] += $2; if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 } }
    END {
        # "other (...)" lines are summed into one "other" row, naming its objects.
        for (i = 1; i <= n; i++) {
            g = order[i]
            if (g ~ /^other \(/) {
                o = g; sub(/^other \(/, "", o); sub(/\)$/, "", o)
                other += share[g]; if (share[g] >= 0.5) names = names (names ? ", " : "") o
                delete share[g]
            }
        }
        if (other > 0) share["other" (names ? " (" names ")" : "")] = other
        print "| where | share of the relay'"'"'s CPU |"
        print "|---|---:|"
        for (;;) {
            best = ""; for (g in share) if (best == "" || share[g] > share[best]) best = g
            if (best == "") break
            printf "| %s | %.1f %% |\n", best, share[best]
            delete share[best]
        }
    }' "$GROUPED")

TOP_TABLE=$(sort -t $'\t' -k2,2 -g -r "$GROUPED" | awk -F '\t' '
    BEGIN { print "| share | where | function |"; print "|---:|---|---|" }
    NR <= 25 { printf "| %.1f %% | %s | `%s` |\n", $2, $1, $3 }')

printf '\n%s\n\n%s\n\nMethod: %s\n' "$GROUPS_TABLE" "$TOP_TABLE" "$METHOD"

[ "$WRITE" = 1 ] || exit 0

COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo "?")
if [ -n "$(git -C "$ROOT" status --porcelain -- . ':!docs' 2>/dev/null)" ]; then
    COMMIT="$COMMIT plus local changes"
fi
[ -n "$LABEL" ] || LABEL="commit $COMMIT"
HEADING="## Relay CPU profile: $LABEL"
CPU_MODEL=$({ lscpu 2>/dev/null || true; } | sed -n 's/^Model name: *//p' | head -n 1)
RESULT=$(sed -n 's/^result //p' "$TMP/loadgen.out")
OTHERS=$(printf '%s\n' "$RESULT" | tr ' ' '\n' | sed -n 's/^others_cpu_pct=//p')
SECTION_FILE=$TMP/section.md
{
    echo "$HEADING"
    echo
    echo "Where parley-relay spends its CPU at capacity, under the capacity workload"
    echo "of the relay benchmark above ($PAIRS pairs, $WINDOW messages of 1 KiB in flight"
    echo "per pair; relay on CPU 0, \`parley-loadgen\` on CPU 1). Shares are of the"
    echo "relay's own CPU time (all its threads), grouped by the object the code"
    echo "lives in; \"relay (own code)\" is the parley-relay executable, which"
    echo "includes the parts of Parley's core library it links."
    echo
    echo "$GROUPS_TABLE"
    echo
    echo "Top functions:"
    echo
    echo "$TOP_TABLE"
    echo
    echo "- Method: $METHOD"
    echo "- Load during the profile: \`$RESULT\`"
    echo "- The rest of the machine (shared) used ${OTHERS:-?} % of one core meanwhile; the relay"
    [ "$USE_RT" = 1 ] && echo "  and the generator ran at SCHED_RR priority 10, each on its own core"
    [ "$USE_RT" = 1 ] || echo "  and the generator ran at normal priority, each pinned to its own core"
    echo "- Machine: ${CPU_MODEL:-?}, $(nproc) CPUs; kernel $(uname -r)"
    echo "- Relay: commit $COMMIT, \`-Dbuildtype=release\`"
    echo "- Date: $(date -u +%Y-%m-%d)"
    echo "- Command: \`$COMMAND\`"
} >"$SECTION_FILE"
. "$ROOT/bench/section.sh"
write_section "$DOC" "$HEADING" "$SECTION_FILE"
