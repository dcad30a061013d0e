#!/bin/sh
# Builds Parley's fuzz targets with clang, libFuzzer, ASan and UBSan, and
# runs them on a copy of their corpora. The checked-in corpora change only
# with --merge, which adds the inputs that reached new code (minimised
# with libFuzzer's -merge=1) and keeps the named seeds make-corpus wrote.
#
# usage: tests/fuzz/run-libfuzzer.sh [options] TARGET|all [SECONDS]
#   TARGET      envelope sealed inner cert request revlist directory keyfile
#               (client library), ws_request ws_frame config (relay)
#   SECONDS     fuzzing time per target (default 60)
#   --merge     merge new coverage into tests/fuzz/corpus/TARGET
#   --jobs N    with all: run N targets at a time (default 1)
#   --workdir D build and scratch directory (default build-libfuzzer)
#   --coverage  no fuzzing: replay the checked-in corpora with clang's
#               source-based coverage and print llvm-cov's report for
#               the core sources (SECONDS is ignored)
#   -- ARGS     extra libFuzzer flags, e.g. -- -use_value_profile=1
#
# Exit status: 0 when every run ended without a finding, 1 otherwise.
# Crashing inputs are left in WORKDIR/artifacts/TARGET/.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
relay_targets="ws_request ws_frame config"
all_targets="envelope sealed inner cert request revlist directory keyfile $relay_targets"

merge=0
coverage=0
jobs=1
work="$root/build-libfuzzer"
target=""
seconds=60
while [ $# -gt 0 ]; do
    case "$1" in
    --merge) merge=1 ;;
    --coverage) coverage=1 ;;
    --jobs) jobs="$2"; shift ;;
    --workdir) work="$2"; shift ;;
    --) shift; break ;;
    -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *)
        if [ -z "$target" ]; then target="$1"; else seconds="$1"; fi ;;
    esac
    shift
done
extra="$*"
[ -n "$target" ] || { echo "usage: $0 [--merge] [--jobs N] [--workdir D] TARGET|all [SECONDS]" >&2; exit 2; }
if [ "$target" = all ]; then
    targets="$all_targets"
else
    case " $all_targets " in
    *" $target "*) targets="$target" ;;
    *) echo "unknown target $target (one of: $all_targets, all)" >&2; exit 2 ;;
    esac
fi
case "$seconds" in ''|*[!0-9]*) echo "SECONDS must be a number" >&2; exit 2 ;; esac

# Longest input each target is given: a little past the limit it enforces
# where that limit is small, otherwise past the largest valid seed.
max_len() {
    case "$1" in
    cert|request|keyfile) echo 1100 ;;
    envelope|sealed|inner) echo 8192 ;;
    revlist|directory) echo 16384 ;;
    ws_request) echo 9000 ;;
    ws_frame) echo 8192 ;;
    config) echo 4096 ;;
    esac
}

# 1 if $1 is one of the relay's targets (built from relay/ sources).
is_relay() {
    case " $relay_targets " in
    *" $1 "*) return 0 ;;
    *) return 1 ;;
    esac
}

cc=${CC:-clang}
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
cflags="-std=gnu11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer $san"
warn="-Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla -Wno-unused-parameter -Werror"
incs="-I$work/gen -I$root/client-lib/include -I$root/client-lib/src/wire -I$here"
libs=$(pkg-config --libs libsodium libprotobuf-c)
deps_cflags=$(pkg-config --cflags libsodium libprotobuf-c)
# The relay's parsers: ws.c (with libwebsockets' SHA-1 and base64) and config.c.
relay_sources="$root/relay/ws.c $root/relay/config.c"
relay_incs="-I$root/relay -I$root/client-lib/include -I$here"
relay_libs="$(pkg-config --libs libwebsockets libsodium)"
relay_cflags="$(pkg-config --cflags libwebsockets libsodium)"

# The wire layer, as client-lib/meson.build lists it (wire_sources): every
# decoder the targets reach lives there, and it needs only libsodium and
# protobuf-c.
core_sources=$(sed -n '/^wire_sources = files(/,/)/p' "$root/client-lib/meson.build" |
    grep -o "'src/wire/[A-Za-z0-9_]*\.c'" | tr -d "'" | sed "s|^|$root/client-lib/|")
[ -n "$core_sources" ] || { echo "cannot read wire_sources in client-lib/meson.build" >&2; exit 2; }

build() {
    mkdir -p "$work/gen" "$work/obj"
    protoc-c --proto_path="$root/proto" --c_out="$work/gen" "$root/proto/parley.proto"
    # Generated code: its own warnings are protoc-c's business.
    $cc $cflags -fsanitize=fuzzer-no-link $deps_cflags -I"$work/gen" -w \
        -c "$work/gen/parley.pb-c.c" -o "$work/obj/parley.pb-c.o"
    objs="$work/obj/parley.pb-c.o"
    for src in $core_sources; do
        obj="$work/obj/$(basename "$src" .c).o"
        $cc $cflags -fsanitize=fuzzer-no-link $warn $deps_cflags $incs -DPARLEY_BUILDING \
            -c "$src" -o "$obj"
        objs="$objs $obj"
    done
    robjs=""
    for src in $relay_sources; do
        obj="$work/obj/relay-$(basename "$src" .c).o"
        $cc $cflags -fsanitize=fuzzer-no-link $warn $relay_cflags $relay_incs -c "$src" -o "$obj"
        robjs="$robjs $obj"
    done
    for t in $targets; do
        if is_relay "$t"; then
            $cc $cflags -fsanitize=fuzzer $warn $relay_cflags $relay_incs \
                "$here/fuzz_$t.c" $robjs $relay_libs -o "$work/fuzz-$t"
        else
            $cc $cflags -fsanitize=fuzzer $warn $deps_cflags $incs \
                "$here/fuzz_$t.c" $objs $libs -o "$work/fuzz-$t"
        fi
    done
}

# A name libFuzzer gave (SHA-1 of the contents), as opposed to a named seed.
is_hash_name() {
    case "$1" in
    *[!0-9a-f]*) return 1 ;;
    *) [ ${#1} -eq 40 ] ;;
    esac
}

# Adds to the checked-in corpus only inputs that bring new coverage over
# the named seeds and each other; older libFuzzer finds are re-minimised.
merge_back() {
    t="$1"
    dst="$here/corpus/$t"
    tmp="$work/merge/$t"
    rm -rf "$tmp"
    mkdir -p "$tmp"
    for f in "$dst"/*; do
        [ -f "$f" ] || continue
        is_hash_name "$(basename "$f")" || cp "$f" "$tmp/"
    done
    "$work/fuzz-$t" -merge=1 -max_len="$(max_len "$t")" -timeout=10 -rss_limit_mb=2048 \
        "$tmp" "$work/corpus/$t" >"$work/logs/$t.merge.log" 2>&1
    for f in "$dst"/*; do
        [ -f "$f" ] || continue
        if is_hash_name "$(basename "$f")"; then rm -f "$f"; fi
    done
    for f in "$tmp"/*; do
        if is_hash_name "$(basename "$f")"; then cp "$f" "$dst/"; fi
    done
    echo "$t: corpus now $(ls "$dst" | wc -l) files, $(du -sk "$dst" | cut -f1) KiB"
}

run_one() {
    t="$1"
    corpus="$work/corpus/$t"
    arts="$work/artifacts/$t"
    rm -rf "$corpus"
    mkdir -p "$corpus" "$arts" "$work/logs"
    cp "$here/corpus/$t"/* "$corpus/"
    status=0
    # shellcheck disable=SC2086
    ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:symbolize=1" \
    UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
        "$work/fuzz-$t" -max_total_time="$seconds" -max_len="$(max_len "$t")" \
        -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$arts/" $extra "$corpus" >"$work/logs/$t.log" 2>&1 || status=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/logs/$t.log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/logs/$t.log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$work/logs/$t.log" | tail -1)
    ft=$(grep -o 'ft: [0-9]*' "$work/logs/$t.log" | tail -1)
    echo "$t: ${execs:-?} execs, ${rate:-?}/s, $cov, $ft, exit $status (log: $work/logs/$t.log)"
    if [ "$status" -ne 0 ]; then
        echo "$t: FINDING, inputs in $arts:" >&2
        ls "$arts" >&2 || true
        return 1
    fi
    if [ "$merge" -eq 1 ]; then
        merge_back "$t"
    fi
    return 0
}

# Replays each corpus through replay.c in a coverage build.
coverage_report() {
    cov="$work/coverage"
    rm -rf "$cov"
    mkdir -p "$cov/obj"
    protoc-c --proto_path="$root/proto" --c_out="$cov" "$root/proto/parley.proto"
    ccov="-std=gnu11 -D_GNU_SOURCE -g -O0 -fprofile-instr-generate -fcoverage-mapping"
    $cc $ccov $deps_cflags -w -c "$cov/parley.pb-c.c" -o "$cov/obj/parley.pb-c.o"
    objs="$cov/obj/parley.pb-c.o"
    for src in $core_sources; do
        obj="$cov/obj/$(basename "$src" .c).o"
        $cc $ccov $warn $deps_cflags -I"$cov" -I"$root/client-lib/include" \
            -I"$root/client-lib/src/wire" -DPARLEY_BUILDING -c "$src" -o "$obj"
        objs="$objs $obj"
    done
    robjs=""
    for src in $relay_sources; do
        obj="$cov/obj/relay-$(basename "$src" .c).o"
        $cc $ccov $warn $relay_cflags $relay_incs -c "$src" -o "$obj"
        robjs="$robjs $obj"
    done
    bins=""
    for t in $targets; do
        if is_relay "$t"; then
            $cc $ccov $warn $relay_cflags $relay_incs "$here/fuzz_$t.c" "$here/replay.c" \
                $robjs $relay_libs -o "$cov/cov-$t"
        else
            $cc $ccov $warn $deps_cflags -I"$cov" -I"$root/client-lib/include" \
                -I"$root/client-lib/src/wire" -I"$here" "$here/fuzz_$t.c" "$here/replay.c" $objs $libs \
                -o "$cov/cov-$t"
        fi
        LLVM_PROFILE_FILE="$cov/$t.profraw" "$cov/cov-$t" "$here/corpus/$t" >/dev/null
        if [ -z "$bins" ]; then bins="$cov/cov-$t"; else bins="$bins -object $cov/cov-$t"; fi
    done
    llvm-profdata merge -sparse "$cov"/*.profraw -o "$cov/all.profdata"
    # shellcheck disable=SC2086
    llvm-cov report -instr-profile="$cov/all.profdata" $bins $core_sources $relay_sources
    echo "per-line view: llvm-cov show -instr-profile=$cov/all.profdata $bins FILE"
}

if [ "$coverage" -eq 1 ]; then
    coverage_report
    exit 0
fi

build
failed=0
if [ "$jobs" -le 1 ]; then
    for t in $targets; do
        run_one "$t" || failed=1
    done
else
    set -- $targets
    while [ $# -gt 0 ]; do
        pids=""
        n=0
        while [ $# -gt 0 ] && [ "$n" -lt "$jobs" ]; do
            run_one "$1" &
            pids="$pids $!"
            n=$((n + 1))
            shift
        done
        for p in $pids; do
            wait "$p" || failed=1
        done
    done
fi
exit "$failed"
