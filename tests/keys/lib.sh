# Shared helpers for the parley-keys tests. Sourced by each test script
# with the path of the parley-keys binary as $1. Every test runs in its own
# temp directory, removed on exit, with the cheapest passphrase hashing
# parley-keys offers (interactive).

KEYS=${1:?usage: $0 /path/to/parley-keys}
case $KEYS in /*) ;; *) KEYS=$PWD/$KEYS ;; esac
[ -x "$KEYS" ] || { echo "FAIL: $KEYS is not executable" >&2; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"

export PLY_PASS='correct horse battery staple'
export PLY_WRONG='not the passphrase'
PASS=(--passphrase-env PLY_PASS)
KDF=(--kdf interactive)

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

check() {
    echo "--- $*"
}

# ok ARGS...: parley-keys must succeed; its stdout is kept in out.txt.
ok() {
    if ! "$KEYS" "$@" >out.txt 2>err.txt; then
        cat out.txt err.txt >&2
        fail "expected success: parley-keys $*"
    fi
}

# nok CODE MESSAGE ARGS...: parley-keys must exit with CODE and print one
# error line on stderr containing MESSAGE.
nok() {
    local code=$1 msg=$2 rc
    shift 2
    set +e
    "$KEYS" "$@" >out.txt 2>err.txt
    rc=$?
    set -e
    if [ "$rc" -ne "$code" ]; then
        cat out.txt err.txt >&2
        fail "parley-keys $*: exit status $rc, expected $code"
    fi
    if ! grep -qF -- "$msg" err.txt; then
        cat err.txt >&2
        fail "parley-keys $*: error does not say '$msg'"
    fi
    if [ "$(wc -l <err.txt)" -ne 1 ]; then
        cat err.txt >&2
        fail "parley-keys $*: expected exactly one error line"
    fi
}

# expect_out TEXT: the last command's stdout contains TEXT.
expect_out() {
    if ! grep -qF -- "$1" out.txt; then
        cat out.txt >&2
        fail "output does not contain '$1'"
    fi
}

# no_temp_files: no temp file of an atomic write is left anywhere in the test dir.
no_temp_files() {
    local left
    left=$(find "$T" -name '.*.tmp-*')
    [ -z "$left" ] || fail "temp files left behind: $left"
}

# flip FILE OFFSET OUT: copies FILE to OUT with one bit of byte OFFSET flipped.
flip() {
    local b
    cp "$1" "$3"
    b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
    [ -n "$b" ] || fail "flip: $1 has no byte at offset $2"
    # shellcheck disable=SC2059
    printf "$(printf '\\%03o' $((b ^ 1)))" | dd of="$3" bs=1 seek="$2" conv=notrunc status=none
}

size_of() {
    wc -c <"$1" | tr -d ' '
}

# serial_of CERT: the serial a certificate holds, read through 'show'.
serial_of() {
    "$KEYS" show "$1" | awk '$1 == "serial:" { print $2 }'
}

# new_brand ID PREFIX: brand key PREFIX.key, relay pin PREFIX.pub, client pin PREFIX.client.
new_brand() {
    ok brand init --brand-id "$1" --out "$2.key" "${KDF[@]}" "${PASS[@]}"
}

# new_agent ID NAME: agent key ID.key and request ID.req.
new_agent() {
    ok agent request --agent-id "$1" --name "$2" --key "$1.key" --out "$1.req" "${KDF[@]}" \
        "${PASS[@]}"
}

# sign BRANDPREFIX AGENT [OPTIONS...]: certificate AGENT.cert.
sign() {
    local b=$1 a=$2
    shift 2
    ok brand sign "$a.req" --key "$b.key" --out "$a.cert" "${PASS[@]}" "$@"
}
