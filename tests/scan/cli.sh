#!/bin/bash
# parley-scan prints exactly the expected JSON for a few lines, including
# an empty line and one that is not UTF-8; --help exits 0.
# Usage: cli.sh /path/to/parley-scan cli.in cli.expected
set -euo pipefail
scan=$1
got=$("$scan" <"$2")
want=$(cat "$3")
if [ "$got" != "$want" ]; then
    echo "parley-scan output differs:" >&2
    diff <(echo "$want") <(echo "$got") >&2 || true
    exit 1
fi
"$scan" --help | grep -q '"findings"' || { echo "--help does not describe the output" >&2; exit 1; }
if "$scan" --bogus </dev/null 2>/dev/null; then
    echo "an unknown option was accepted" >&2
    exit 1
fi
[ "$(printf 'no newline at end 06 12 34 56 78' | "$scan")" = \
    '{"line": 1, "findings": [{"category": "phone", "start": 18, "end": 32}]}' ] ||
    { echo "a last line without a newline was not scanned" >&2; exit 1; }
echo ok
