#!/bin/bash
# scan-lexgen compiles a good lexicon, and refuses each malformed one with
# FILE:LINE and its reason, writing nothing the build could pick up.
# Usage: lexgen.sh /path/to/scan-lexgen /path/to/public_suffix_list.dat
set -euo pipefail
gen=$1
psl=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

printf '# a comment\n@self = i\nterm diabetes | self\nnot sick of\n' >"$dir/health.en.lex"
"$gen" --psl "$psl" --out "$dir/ok.c" "$dir/health.en.lex"
grep -q '"ediabet"' "$dir/ok.c" || { echo "the stem of diabetes is not indexed" >&2; exit 1; }
grep -q '"png"' "$dir/ok.c" && { echo "png taken for a top-level domain" >&2; exit 1; }
grep -q '"paris"' "$dir/ok.c" || { echo "the .paris domain is missing" >&2; exit 1; }
grep -q '"xn--' "$dir/ok.c" || { echo "no internationalised domain in punycode" >&2; exit 1; }

# expect_error LINE-CONTENT MESSAGE: a file holding that line is refused.
expect_error() {
    printf '@self = i\n%s\n' "$1" >"$dir/health.en.lex"
    rm -f "$dir/bad.c"
    if "$gen" --psl "$psl" --out "$dir/bad.c" "$dir/health.en.lex" 2>"$dir/err"; then
        echo "accepted: $1" >&2
        exit 1
    fi
    grep -q "health.en.lex:2: .*$2" "$dir/err" || {
        echo "for '$1' wanted '$2' at line 2, got: $(cat "$dir/err")" >&2
        exit 1
    }
    [ ! -e "$dir/bad.c" ] || { echo "output written for a bad lexicon" >&2; exit 1; }
}
expect_error 'diabetes' 'a line starts with term'
expect_error 'term (type) diabetes' 'cannot start with an optional'
expect_error 'term ... diabetes' "cannot start with '...'"
expect_error 'term diabetes ...' "cannot end with '...'"
expect_error 'not sick (of)' 'ending with an optional word'
expect_error 'term ab*' 'a prefix is one word of 3 letters'
expect_error 'term diabetes | sometimes' 'unknown option'
expect_error 'term diabetes | conf=200' 'conf is a number'
expect_error 'term @nowhere' 'never defined'
expect_error 'not sick | self' 'options go with term only'
expect_error 'term a b c d e f g h i j k l m n o p q' 'longer than 16 positions'

printf 'term x\n' >"$dir/weather.en.lex"
if "$gen" --psl "$psl" --out "$dir/bad.c" "$dir/weather.en.lex" 2>/dev/null; then
    echo "an unknown category was accepted" >&2
    exit 1
fi
if "$gen" --psl /dev/null --out "$dir/bad.c" "$dir/health.en.lex" 2>/dev/null; then
    echo "an empty public suffix list was accepted" >&2
    exit 1
fi
echo ok
