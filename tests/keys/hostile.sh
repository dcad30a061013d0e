#!/bin/bash
# parley-keys against bad input: wrong passphrase, truncated and altered
# files, files of the wrong kind, another brand's objects, certificates
# outside their window or revoked. Each must fail with one line naming the
# file and the problem, a non-zero exit, and no file written.
# Usage: hostile.sh /path/to/parley-keys
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh" "$@"

new_brand acme brand
new_brand globex other
new_agent alice "Alice Martin"
sign brand alice --serial 11
printf 'Notice.\n' >notice.txt
ok brand revoke 5 --key brand.key --revocations revoked.list "${PASS[@]}"
ok brand directory --key brand.key --out directory.dir --notice notice.txt --notice-version 1 --purpose support \
    "${PASS[@]}" alice.cert

check "wrong passphrase: refused, says so, writes nothing"
nok 1 "brand.key: wrong passphrase" brand sign alice.req --key brand.key --out x.cert \
    --passphrase-env PLY_WRONG
[ ! -e x.cert ] || fail "x.cert written with a wrong passphrase"
printf 'nope\n' >wrong-pass.txt
nok 1 "brand.key: wrong passphrase" brand revoke 9 --key brand.key \
    --revocations revoked.list --passphrase-file wrong-pass.txt
ok verify revoked.list --brand brand.pub
expect_out "version 1"

check "missing passphrase sources are errors"
nok 1 "PLY_UNSET is not set" brand sign alice.req --key brand.key --out x.cert \
    --passphrase-env PLY_UNSET
nok 1 "nothing.txt: cannot read passphrase file" brand sign alice.req --key brand.key \
    --out x.cert --passphrase-file nothing.txt
if command -v setsid >/dev/null; then
    check "no terminal and no passphrase option: a clear error, not a hang"
    set +e
    setsid -w "$KEYS" brand sign alice.req --key brand.key --out x.cert \
        </dev/null >out.txt 2>err.txt
    rc=$?
    set -e
    [ "$rc" -eq 1 ] || fail "exit $rc without a terminal"
    grep -qF "no terminal" err.txt || fail "no-terminal error missing: $(cat err.txt)"
fi
[ ! -e x.cert ] || fail "x.cert written"

check "empty passphrase refused for a new key"
export PLY_EMPTY=
nok 1 "empty passphrase" brand init --brand-id e --out e.key --kdf interactive \
    --passphrase-env PLY_EMPTY
[ ! -e e.key ] || fail "e.key written with an empty passphrase"

# cut FILE: every cut length below its size, at a few representative points.
cuts() {
    local n
    n=$(size_of "$1")
    echo 0 1 7 8 9 $((n / 3)) $((n / 2)) $((n - 64)) $((n - 1)) | tr ' ' '\n' | awk -v n="$n" '$1 >= 0 && $1 < n' | sort -un
}

check "truncated key file, at several lengths"
for len in $(cuts brand.key); do
    head -c "$len" brand.key >cut.key
    nok 1 "cut.key:" brand sign alice.req --key cut.key --out x.cert "${PASS[@]}"
done

check "truncated request, certificate, revocation list, directory"
for len in $(cuts alice.req); do
    head -c "$len" alice.req >cut.req
    nok 1 "cut.req:" brand sign cut.req --key brand.key --out x.cert "${PASS[@]}"
done
for len in $(cuts alice.cert); do
    head -c "$len" alice.cert >cut.cert
    nok 1 "cut.cert:" verify cut.cert --brand brand.pub
done
for len in $(cuts revoked.list); do
    head -c "$len" revoked.list >cut.list
    nok 1 "cut.list:" verify cut.list --brand brand.pub
done
for len in $(cuts directory.dir); do
    head -c "$len" directory.dir >cut.dir
    nok 1 "cut.dir:" verify cut.dir --brand brand.client
    nok 1 "cut.dir:" verify cut.dir --brand brand.pub
done
head -c 20 brand.pub >cut.pub
nok 1 "cut.pub: malformed" verify alice.cert --brand cut.pub
n=$(size_of brand.client)
head -c $((n - 2)) brand.client >cut.client
nok 1 "cut.client: malformed" verify alice.cert --brand cut.client
[ ! -e x.cert ] || fail "x.cert written from a truncated input"

check "flipped bytes"
n=$(size_of alice.cert)
flip alice.cert $((n - 1)) flip.cert
nok 1 "flip.cert: bad signature" verify flip.cert --brand brand.pub
flip alice.cert 20 flip.cert
nok 1 "flip.cert:" verify flip.cert --brand brand.pub
flip alice.cert 2 flip.cert
nok 1 "flip.cert: not a Parley file" verify flip.cert --brand brand.pub
n=$(size_of brand.key)
flip brand.key $((n - 1)) flip.key
nok 1 "flip.key: wrong passphrase" brand sign alice.req --key flip.key --out x.cert \
    "${PASS[@]}"
n=$(size_of directory.dir)
flip directory.dir $((n - 1)) flip.dir
nok 1 "flip.dir: bad signature" verify flip.dir --brand brand.pub
nok 1 "flip.dir: bad signature" verify flip.dir --brand brand.client
flip directory.dir $((n / 2)) flip.dir
nok 1 "flip.dir:" verify flip.dir --brand brand.client
nok 1 "flip.dir:" verify flip.dir --brand brand.pub
n=$(size_of revoked.list)
flip revoked.list $((n - 1)) flip.list
nok 1 "flip.list: bad signature" verify flip.list --brand brand.pub
nok 1 "flip.list: bad signature" brand revoke 9 --key brand.key --revocations flip.list \
    "${PASS[@]}"
n=$(size_of alice.req)
flip alice.req $((n - 1)) flip.req
nok 1 "flip.req: bad signature" brand sign flip.req --key brand.key --out x.cert "${PASS[@]}"
sed 's/ acme / acmf /' brand.pub >flip.pub
nok 1 "alice.cert: another brand" verify alice.cert --brand flip.pub
awk '{ k = $3; c = substr(k, 64, 1) == "0" ? "1" : "0"; print $1, $2, substr(k, 1, 63) c }' \
    brand.pub >flipkey.pub
nok 1 "alice.cert: bad signature" verify alice.cert --brand flipkey.pub
[ ! -e x.cert ] || fail "x.cert written from an altered input"

check "malformed pin lines: extra, uppercase or short fields, double spaces"
dk=$(awk '{ print $4 }' brand.client)
line=$(cat brand.pub)
for bad in "$line $dk $dk" "$line ${dk^^}" "$line ${dk:0:63}" "$line  $dk" "$line $dk " \
    "$line ${dk}0"; do
    printf '%s\n' "$bad" >bad.client
    nok 1 "bad.client: malformed brand pin line" verify directory.dir --brand bad.client
done

check "a directory key that does not open the content: bad seal"
paste -d' ' <(cut -d' ' -f1-3 brand.client) <(cut -d' ' -f4 other.client) >wrongkey.client
nok 1 "directory.dir: bad seal (directory key does not match)" verify directory.dir \
    --brand wrongkey.client
nok 1 "directory.dir: bad seal (directory key does not match)" show directory.dir \
    --brand wrongkey.client
nok 1 "directory.dir: bad signature" verify directory.dir --brand other.client

check "files of the wrong kind"
nok 1 "alice.cert: wrong kind of file (it is a certificate, not a certificate request)" \
    brand sign alice.cert --key brand.key --out x.cert "${PASS[@]}"
nok 1 "alice.req: wrong kind of file (it is a certificate request, not a key file)" \
    brand sign alice.req --key alice.req --out x.cert "${PASS[@]}"
nok 1 "alice.key: not a brand key" brand sign alice.req --key alice.key --out x.cert "${PASS[@]}"
nok 1 "alice.cert: wrong kind of file" verify revoked.list --brand alice.cert
nok 1 "directory.dir: wrong kind of file" brand revoke 9 --key brand.key \
    --revocations directory.dir "${PASS[@]}"
nok 1 "alice.req: wrong kind of file" brand directory --key brand.key --out d.dir \
    --notice notice.txt --notice-version 1 --purpose support "${PASS[@]}" alice.req
nok 1 "notice.txt: not a Parley file" show notice.txt
nok 1 "brand.pub: a brand pin file" verify brand.pub --brand brand.pub
nok 1 "brand.client: a brand pin file" verify brand.client --brand brand.client
nok 1 "alice.cert: wrong kind of file" verify directory.dir --brand alice.cert
# A certificate's bytes behind a request's magic.
{ printf PRLYREQ1; tail -c +9 alice.cert; } >fake.req
nok 1 "fake.req:" brand sign fake.req --key brand.key --out x.cert "${PASS[@]}"
[ ! -e x.cert ] && [ ! -e d.dir ] || fail "output written from a file of the wrong kind"

check "another brand's certificate against our pin"
ok brand sign alice.req --key other.key --out globex.cert "${PASS[@]}"
nok 1 "globex.cert: another brand" verify globex.cert --brand brand.pub
ok verify globex.cert --brand other.pub
nok 1 "globex.cert: another brand" brand directory --key brand.key --out d.dir \
    --notice notice.txt --notice-version 1 --purpose support "${PASS[@]}" globex.cert
[ ! -e d.dir ] || fail "a directory was signed with another brand's certificate"

check "another brand's revocation list and directory against our pin"
ok brand revoke 5 --key other.key --revocations globex.list "${PASS[@]}"
nok 1 "globex.list: bad signature" verify globex.list --brand brand.pub
before=$(sha256sum globex.list)
nok 1 "globex.list: bad signature" brand revoke 6 --key brand.key --revocations globex.list \
    "${PASS[@]}"
[ "$(sha256sum globex.list)" = "$before" ] || fail "another brand's list was replaced"
ok brand directory --key other.key --out globex.dir --notice notice.txt --notice-version 1 --purpose support \
    "${PASS[@]}" globex.cert
nok 1 "globex.dir: bad signature" verify globex.dir --brand brand.pub
nok 1 "other.key: not the key pinned in brand.pub" verify other.key --brand brand.pub
nok 1 "globex.list: bad signature" brand directory --key brand.key --out d.dir \
    --notice notice.txt --notice-version 1 --purpose support --revocations globex.list "${PASS[@]}" alice.cert

check "expired and not-yet-valid certificates"
ok brand sign alice.req --key brand.key --out old.cert --not-before 1000000000 --days 2 \
    "${PASS[@]}"
nok 1 "old.cert: expired" verify old.cert --brand brand.pub
ok verify old.cert --brand brand.pub --at 1000086400
nok 1 "old.cert: expired" verify old.cert --brand brand.pub --at 1000172800
nok 1 "old.cert: not yet valid" verify old.cert --brand brand.pub --at 999999999
future=$(($(date +%s) + 400 * 86400))
nok 1 "alice.cert: expired" verify alice.cert --brand brand.pub --at "$future"

check "revoked certificate"
ok brand revoke 11 --key brand.key --revocations revoked.list "${PASS[@]}"
nok 1 "alice.cert: revoked" verify alice.cert --brand brand.pub --revocations revoked.list
nok 1 "globex.list: bad signature" verify alice.cert --brand brand.pub \
    --revocations globex.list

check "brand directory refuses an empty notice and an empty purpose list"
printf ' \n\t\n' >blank.txt
: >empty.txt
nok 1 "empty.txt: the notice is empty" brand directory --key brand.key --out d.dir \
    --notice empty.txt --notice-version 1 --purpose support "${PASS[@]}" alice.cert
nok 1 "blank.txt: the notice is empty" brand directory --key brand.key --out d.dir \
    --notice blank.txt --notice-version 1 --purpose support "${PASS[@]}" alice.cert
nok 2 "at least one --purpose is required" brand directory --key brand.key --out d.dir \
    --notice notice.txt --notice-version 1 "${PASS[@]}" alice.cert
nok 2 "at least one --purpose is required" brand directory --key brand.key --out d.dir \
    --notice notice.txt --notice-version 1 --optional-purpose marketing "${PASS[@]}" alice.cert
nok 2 "purpose support is given twice" brand directory --key brand.key --out d.dir \
    --notice notice.txt --notice-version 1 --purpose support --optional-purpose support \
    "${PASS[@]}" alice.cert
nok 2 "purpose 'Support Chat': not an id" brand directory --key brand.key --out d.dir \
    --notice notice.txt --notice-version 1 --purpose "Support Chat" "${PASS[@]}" alice.cert
long=$(head -c 1025 /dev/zero | tr '\0' x)
nok 2 "purpose surveys: its text is over 1024 bytes" brand directory --key brand.key --out d.dir \
    --notice notice.txt --notice-version 1 --purpose support --optional-purpose "surveys=$long" \
    "${PASS[@]}" alice.cert
[ ! -e d.dir ] || fail "a directory was written without a notice or a purpose"

check "usage errors exit 2"
nok 2 "unknown option --bogus" brand sign alice.req --bogus
nok 2 "--key and --out are required" brand sign alice.req
nok 2 "give exactly one REQUEST" brand sign --key brand.key --out x.cert
nok 2 "--days must be between" brand sign alice.req --key brand.key --out x.cert --days 0
nok 2 "--serial wants a decimal number" brand sign alice.req --key brand.key --out x.cert \
    --serial -3
nok 2 "invalid brand id" brand init --brand-id 'Bad Id' --out b.key
nok 2 "--kdf wants" brand init --brand-id b --out b.key --kdf fast
nok 2 "unknown command 'frobnicate'" frobnicate
nok 2 "unknown command 'sing'" brand sing

no_temp_files
echo "PASS"
