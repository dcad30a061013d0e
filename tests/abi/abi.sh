#!/usr/bin/env bash
# The exported dynamic symbols of libparley.so against the committed list
# (client-lib/libparley.symbols). Usage: abi.sh NM LIBPARLEY_SO SYMBOLS
set -euo pipefail
nm=$1 lib=$2 list=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

grep -v -e '^#' -e '^$' "$list" >"$work/want"
if ! LC_ALL=C sort -u -c "$work/want" 2>"$work/sort.err"; then
    echo "FAIL: $list is not sorted bytewise or repeats a symbol: $(cat "$work/sort.err")"
    echo "      (keep it as 'LC_ALL=C sort -u' leaves it)"
    exit 1
fi
"$nm" -D --defined-only "$lib" | awk '{ print $NF }' | LC_ALL=C sort -u >"$work/got"
[ -s "$work/got" ] || { echo "FAIL: no exported symbol read from $lib"; exit 1; }

if ! diff -U0 "$work/want" "$work/got" >"$work/diff"; then
    echo "FAIL: libparley exports other symbols than $list lists."
    echo "Lines with '+' are exported but not listed; lines with '-' are listed but not exported:"
    grep -E '^[-+][^-+]' "$work/diff" || true
    echo "If this ABI change is intended, update $list in the same commit"
    echo "(and the soversion in client-lib/meson.build when a symbol is removed or changes)."
    exit 1
fi
echo "libparley exports the $(wc -l <"$work/got") symbols listed"
