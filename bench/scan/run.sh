#!/bin/sh
# Sensitive-data guard benchmark: parley_scan() throughput on the corpus
# messages and its worst cases on adversarial texts.
#
# Configures a release build directory if needed (build-bench at the top of
# the tree, or $BUILD_DIR), builds bench-scan, runs it on both parts of the
# labelled corpus and prints a markdown table. With --write it also
# replaces the "## Sensitive-data guard: parley_scan" section of
# docs/performance.md with the table, the machine, the compiler and the
# date. Other arguments go to bench-scan (--runs N).
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$root/build-bench}
doc=$root/docs/performance.md
heading='## Sensitive-data guard: parley_scan'

write=0
n=$#
while [ "$n" -gt 0 ]; do
    arg=$1
    shift
    if [ "$arg" = "--write" ]; then
        write=1
    else
        set -- "$@" "$arg"
    fi
    n=$((n - 1))
done

if [ ! -f "$build/build.ninja" ]; then
    meson setup "$build" "$root" -Dbuildtype=release >&2
elif ! grep -q '"name": "buildtype", "value": "release"' \
        "$build/meson-info/intro-buildoptions.json" 2>/dev/null; then
    meson configure "$build" -Dbuildtype=release >&2
fi
ninja -C "$build" bench/scan/bench-scan >&2

out=$(mktemp)
section=$(mktemp)
trap 'rm -f "$out" "$section" "$doc.tmp"' EXIT

"$build/bench/scan/bench-scan" "$@" "$root/tests/scan/dev.tsv" "$root/tests/scan/heldout.tsv" >"$out"
cat "$out"

if [ "$write" -eq 0 ]; then
    exit 0
fi

cpu=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
compiler=$(${CC:-cc} --version | head -n1)
{
    echo "$heading"
    echo
    echo "What the guard costs on the device: \`parley_scan()\` (identifiers, then the"
    echo "compiled French and English lexicons with Snowball stemming) on the"
    echo "messages of the labelled corpus (\`tests/scan/dev.tsv\` and \`heldout.tsv\`),"
    echo "each scanned by its own call as a client does before sending, then on"
    echo "adversarial texts: one sentence of near-matches with no sentence mark,"
    echo "words that start many rules, a term on every word, near-valid card"
    echo "numbers, digit groups, '@' signs with no known domain, one word as long as"
    echo "the text, invalid UTF-8. Each adversarial text is scanned at 64 KiB and at"
    echo "1 MiB (\`PARLEY_SCAN_MAX_TEXT\`); a time ratio near 16 means the cost grows"
    echo "linearly with the text, with no backtracking blow-up. Figures are medians"
    echo "of several runs in process CPU time; KB is 1000 bytes."
    echo
    echo "- Command: \`bench/scan/run.sh --write\` (\`bench/scan/run.sh\` alone prints the"
    echo "  tables without touching this file)"
    echo "- Machine: $cpu, $(nproc) CPUs (nproc), $(uname -sr)"
    echo "- Compiler: $compiler, \`-Dbuildtype=release\`"
    echo "- Date: $(date -u +%Y-%m-%d)"
    echo
    cat "$out"
    echo
    echo "The matcher's cost per word is bounded: a word is stemmed at most twice,"
    echo "the rules it can start are found in a sorted index, a pattern has at most"
    echo "16 positions and two gaps of 3 words, lists are looked up by their first"
    echo "word, and a rule tried at one word stops after a budget of 4096 steps."
    echo "Timings vary between runs on a shared machine; no test asserts them."
} >"$section"

. "$root/bench/section.sh"
write_section "$doc" "$heading" "$section"
