#!/bin/sh
# The relay under abuse (bench-limits, bench/limits/bench_limits.c):
#   erasure      a bystander's acknowledgement latency while three customers
#                each erase 4,096 conversations of a 100,000-envelope database;
#   slow-reader  a reader at 20 KB/s and 300 ms round trip draining a full
#                queue (10,000 envelopes of 1,500 bytes) while a sender keeps
#                adding to it, for 20 s.
#
# Usage: bench/limits/run.sh [--write] [--runs N] [--only erasure|slow-reader]
#   --write   also replace the "## Relay under abuse: erasure floods and slow
#             readers" section of docs/performance.md with the medians, the
#             machine, the date and the command, and the figures measured
#             before (bench/limits/before.md)
#   --runs N  runs of each (default 3: median, lowest, highest)
#
# Builds bench-limits and the relay in build-limits at the top of the tree
# (or $BUILD_DIR), -Dbuildtype=release; each run starts a fresh relay with a
# database in /tmp.
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$root/build-limits}
doc=$root/docs/performance.md
heading='## Relay under abuse: erasure floods and slow readers'
command=$(. "$root/bench/section.sh" && shell_words bench/limits/run.sh "$@")
write=0
runs=3
only="erasure slow-reader"

while [ $# -gt 0 ]; do
    case "$1" in
    --write) write=1 ;;
    --runs) runs=${2:?--runs needs a number}; shift ;;
    --only) only=${2:?--only needs erasure or slow-reader}; shift ;;
    -h | --help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done

if [ ! -f "$build/build.ninja" ]; then
    meson setup "$build" "$root" -Dbuildtype=release >&2
fi
ninja -C "$build" bench/limits/bench-limits relay/parley-relay >&2

out=$(mktemp)
section=$(mktemp)
trap 'rm -f "$out" "$out".* "$section"' EXIT

# One line of key=value figures per run, in $out.<mode>.
for mode in $only; do
    : >"$out.$mode"
    i=1
    while [ "$i" -le "$runs" ]; do
        echo "$mode: run $i of $runs" >&2
        "$build/bench/limits/bench-limits" "$mode" --relay "$build/relay/parley-relay" \
            2>"$out.err" | tee -a "$out.$mode" || { cat "$out.err" >&2; exit 1; }
        i=$((i + 1))
    done
done

# median (lowest-highest) of field $2 over the lines of file $1
stat() {
    tr ' ' '\n' <"$1" | sed -n "s/^$2[>=]*//p" | sort -g |
        awk '{ v[NR] = $1 } END { if (NR == 0) { print "?"; exit }
                                  printf "%s (%s-%s)", v[int((NR + 1) / 2)], v[1], v[NR] }'
}

{
    if [ -s "$out.erasure" ]; then
        f=$out.erasure
        echo "| erasure flood, after | median (lowest-highest) |"
        echo "|---|---|"
        echo "| bystander acks during the flood, p50 ms | $(stat "$f" p50_ms) |"
        echo "| bystander acks during the flood, p99 ms | $(stat "$f" p99_ms) |"
        echo "| bystander acks during the flood, max ms | $(stat "$f" max_ms) |"
        echo "| bystander acks before the flood, p99 ms | $(stat "$f" quiet_p99_ms) |"
        echo "| all three erasures done, s | $(stat "$f" erasures_done_s) |"
        echo "| envelopes erased | $(stat "$f" erased) |"
        echo
    fi
    if [ -s "$out.slow-reader" ]; then
        f=$out.slow-reader
        echo "| slow reader, after | median (lowest-highest) |"
        echo "|---|---|"
        echo "| envelopes received in 20 s | $(stat "$f" received) |"
        echo "| acknowledged by the reader | $(stat "$f" acked_by_reader) |"
        echo "| deleted by the relay (drain) | $(stat "$f" deleted_by_relay) |"
        echo "| drain rate, envelopes/s | $(stat "$f" drain_per_s) |"
        echo "| cut off (4003) | $(stat "$f" cutoffs) |"
        echo "| sender's envelopes stored / refused | $(stat "$f" sender_acked) / $(stat "$f" sender_refused) |"
        echo
    fi
} >"$out"
cat "$out"

if [ "$write" -eq 0 ]; then
    exit 0
fi

. "$root/bench/section.sh"
cpu=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
fs=$(findmnt -n -o FSTYPE --target /tmp 2>/dev/null || echo '?')
{
    echo "$heading"
    echo
    echo "A real \`parley-relay\` on 127.0.0.1 under two kinds of abuse, driven by"
    echo "\`bench-limits\` (bench/limits/bench_limits.c):"
    echo
    echo "- Erasure flood: 100,000 envelopes of 1 KiB are stored (50 senders,"
    echo "  random recipients and conversations, shuffled), among them, for each"
    echo "  of three customers, 2 envelopes in each of 1,024 of its conversations,"
    echo "  100 to it and 100 from it. A bystander then sends an envelope every"
    echo "  10 ms (open loop) for 2 s alone, and on as the three customers each"
    echo "  send, at once, an erasure request naming 4,096 of their conversations"
    echo "  (with their salts; \`--max-frame 262144\`, since such a request is larger"
    echo "  than the default). Latency: from the bystander's send to its \`ack\`,"
    echo "  over the envelopes sent from the requests until the last \`erased\`."
    echo "  The relay's storage limits are lifted for the senders (\`--rate\`,"
    echo "  \`--burst\`, \`--quota-count\`, \`--quota-bytes\`, \`--sender-count 0"
    echo "  --sender-bytes 0\`): only the erasures slow the bystander."
    echo "- Slow reader: a recipient's queue is filled to the default quota"
    echo "  (10,000 envelopes of 1,500 bytes, 25 senders); the recipient connects"
    echo "  with a 16 KiB receive buffer and reads at 20,000 bytes a second,"
    echo "  sending each \`delivered\` 300 ms after the envelope came in (a phone on"
    echo "  a poor mobile link), while another sender tries to add an envelope"
    echo "  every 50 ms. After 20 s: envelopes the relay delivered and deleted, and"
    echo "  how often it cut the reader off (the reader then reconnects after 1 s;"
    echo "  the library waits up to that long at first). Relay defaults throughout."
    echo
    echo "- Command: \`$command\` (without \`--write\` it only prints the tables)"
    echo "- Machine: $cpu, $(nproc) CPUs (nproc), $(uname -sr); relay database in"
    echo "  /tmp ($fs); load average when run: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "- Build: \`-Dbuildtype=release\`, $(${CC:-cc} --version | head -n1)"
    echo "- Date: $(date -u +%Y-%m-%d)"
    echo
    cat "$out"
    cat "$root/bench/limits/before.md"
} >"$section"
write_section "$doc" "$heading" "$section"
