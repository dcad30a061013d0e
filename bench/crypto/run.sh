#!/bin/sh
# Crypto benchmark: Parley's seal and open beside raw libsodium.
#
# Configures a release build directory if needed (build-bench at the top of
# the tree, or $BUILD_DIR), builds bench-crypto, runs it and prints a
# markdown table. With --write it also replaces the "## Crypto: seal and
# open" section of docs/performance.md (creating the file if needed) with
# the table, the machine, the compiler and the date. Other arguments go to
# bench-crypto (--batches N, --ops N, --clock cpu|wall).
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$root/build-bench}
doc=$root/docs/performance.md
heading='## Crypto: seal and open'

write=0
for arg in "$@"; do
    if [ "$arg" = "--write" ]; then
        write=1
    fi
done
# Drop --write from the arguments passed on to the benchmark.
n=$#
while [ "$n" -gt 0 ]; do
    arg=$1
    shift
    if [ "$arg" != "--write" ]; then
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
ninja -C "$build" bench/crypto/bench-crypto >&2

out=$(mktemp)
section=$(mktemp)
trap 'rm -f "$out" "$section" "$doc.tmp"' EXIT

"$build/bench/crypto/bench-crypto" "$@" >"$out"
cat "$out"

if [ "$write" -eq 0 ]; then
    exit 0
fi

cpu=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
compiler=$(${CC:-cc} --version | head -n1)
{
    echo "$heading"
    echo
    echo "Per-message cost of \`parley_seal_text()\` (encode, sign, pad, seal, envelope)"
    echo "and \`parley_open()\` (envelope decode, unseal, unpad, decode, verify), beside"
    echo "the raw libsodium calls they are built on, on the same text sizes:"
    echo "\`crypto_sign_detached\` + \`crypto_box_seal\` of signature || text, and"
    echo "\`crypto_box_seal_open\` + \`crypto_sign_verify_detached\`. The customer lines"
    echo "(a sender without a certificate) are the comparison the goal applies to:"
    echo "overhead = Parley / raw - 1, at most 20 % at 256 B and 10 % at 4 KiB."
    echo "The agent lines seal with a certificate and open with \`require_agent\`; their"
    echo "open baseline adds the one more Ed25519 verification a certificate costs."
    echo
    echo "Parley and raw batches alternate in one process (the order flips every"
    echo "batch) after a warm-up, so machine noise lands on both sides. Each figure"
    echo "is the median ns/op over the batches, with the fastest and slowest batch;"
    echo "\"per-batch range\" is the spread of the overhead between batches run"
    echo "side by side. Parley calls include freeing their result (\`parley_free\`,"
    echo "\`parley_opened_clear\`), which the API requires; the raw calls write into"
    echo "buffers allocated once."
    echo
    echo "- Command: \`bench/crypto/run.sh --write\` (\`bench/crypto/run.sh\` alone prints"
    echo "  the table without touching this file)"
    echo "- Machine: $cpu, $(nproc) CPUs (nproc), $(uname -sr)"
    echo "- Compiler: $compiler, \`-Dbuildtype=release\`"
    echo "- Date: $(date -u +%Y-%m-%d)"
    echo
    cat "$out"
    echo
    echo "Envelopes are larger than the raw sealed box: the signed payload carries"
    echo "the sender and recipient keys, the conversation id, sequence number and"
    echo "time (and the certificate, for agents), and is padded to a multiple of"
    echo "256 bytes before sealing. Signing and sealing those extra bytes accounts"
    echo "for a fifth to a half of the customer overhead. The rest is a roughly"
    echo "constant cost per message, measured separately on the machine above:"
    echo "\`sodium_pad\` and \`sodium_unpad\` (about 0.5 us each, constant-time over"
    echo "the 256-byte block), a \`getrandom\` system call for the envelope id (about"
    echo "0.4 us; libsodium 1.0.18 makes one per \`randombytes_buf\`, and"
    echo "\`crypto_box_seal\` makes another for its ephemeral key in both columns),"
    echo "the BLAKE2b routing id (about 0.2 us), then protobuf encoding, copies,"
    echo "allocations and wiping. Timings vary between runs on a shared machine;"
    echo "no test asserts them."
} >"$section"

. "$root/bench/section.sh"
write_section "$doc" "$heading" "$section"
