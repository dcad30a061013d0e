#!/bin/bash
# parley-keys, the whole life of a brand: init, agent requests, signing,
# revocation, directories with growing versions, and show/verify of every
# file kind. Usage: flow.sh /path/to/parley-keys
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh" "$@"

check "brand init writes a 0600 key file, the relay pin and the client pin"
new_brand acme brand
expect_out "brand id:     acme"
expect_out "fingerprint:"
expect_out "relay pin:    brand.pub (give it to relay operators"
expect_out "client pin:   brand.client (ship it with widgets and agent clients; never to a relay)"
[ "$(stat -c %a brand.key)" = 600 ] || fail "brand.key mode is $(stat -c %a brand.key), not 600"
[ "$(head -c 8 brand.key)" = PRLYKEY1 ] || fail "brand.key does not start with PRLYKEY1"
grep -qE '^parley-brand-v1 acme [0-9a-f]{64}$' brand.pub || fail "bad pin line: $(cat brand.pub)"
[ "$(wc -l <brand.pub)" -eq 1 ] || fail "pin file is not one line"
grep -qE '^parley-brand-v1 acme [0-9a-f]{64} [0-9a-f]{64}$' brand.client ||
    fail "bad client pin line: $(cat brand.client)"
[ "$(wc -l <brand.client)" -eq 1 ] || fail "client pin file is not one line"
pin_hex=$(awk '{ print $3 }' brand.pub)
dir_key_hex=$(awk '{ print $4 }' brand.client)
[ "$(awk '{ print $1, $2, $3 }' brand.client)" = "$(cat brand.pub)" ] ||
    fail "the client pin does not pin the relay pin's brand key"
[ "$dir_key_hex" != "$pin_hex" ] || fail "the directory key is the brand public key"
expect_out "public key:   $pin_hex"
init_fp=$(awk -F':  *' '$1 == "fingerprint" { print $2 }' out.txt)

check "the relay pin never holds the directory key; init never prints it"
if grep -qF "$dir_key_hex" brand.pub; then fail "brand.pub holds the directory key"; fi
if grep -qF "$dir_key_hex" out.txt; then fail "brand init printed the directory key"; fi

check "brand client-pin writes the same client pin as init, from the brand key"
ok brand client-pin --key brand.key --out again.client "${PASS[@]}"
expect_out "client pin:   again.client"
cmp -s brand.client again.client || fail "client-pin wrote $(cat again.client), not brand.client"
if grep -qF "$dir_key_hex" out.txt; then fail "brand client-pin printed the directory key"; fi

check "show brand.key: label, public key and fingerprint, without a passphrase"
ok show brand.key
expect_out "kind:         key file"
expect_out "label:        brand acme"
expect_out "signing key:  $pin_hex"
expect_out "fingerprint:  $init_fp"

check "show brand.pub and brand.client say which pin they are, not the directory key"
ok show brand.pub
expect_out "pin:          relay pin"
expect_out "brand id:     acme"
expect_out "signing key:  $pin_hex"
ok show brand.client
expect_out "pin:          client pin"
expect_out "brand id:     acme"
expect_out "signing key:  $pin_hex"
if grep -qF "$dir_key_hex" out.txt; then fail "show printed the directory key"; fi

check "verify brand.key matches its pin"
ok verify brand.key --brand brand.pub
expect_out "OK key file holds the pinned key of brand acme"
ok verify brand.key --brand brand.client
expect_out "OK key file holds the pinned key of brand acme"

check "agent request: key file 0600 and a self-signed request"
new_agent alice "Alice Martin"
[ "$(stat -c %a alice.key)" = 600 ] || fail "alice.key mode is not 600"
[ "$(head -c 8 alice.req)" = PRLYREQ1 ] || fail "alice.req does not start with PRLYREQ1"
alice_fp=$(awk -F':  *' '$1 == "fingerprint" { print $2 }' out.txt)
ok show alice.req
expect_out "agent id:     alice"
expect_out "name:         Alice Martin"
expect_out "fingerprint:  $alice_fp"
expect_out "self-signature: valid"
ok verify alice.req
expect_out "OK certificate request from agent alice (Alice Martin)"
new_agent bob "Bob Dupont"
new_agent chloe "Chloé Durand"

check "brand sign: serial, agent, fingerprint and validity printed"
sign brand alice --days 30 --not-before 1700000000
expect_out "agent id:     alice"
expect_out "name:         Alice Martin"
expect_out "fingerprint:  $alice_fp"
expect_out "valid from:   2023-11-14T22:13:20Z (1700000000)"
expect_out "valid until:  2023-12-14T22:13:20Z (1702592000, exclusive)"
serial=$(awk '$1 == "serial:" { print $2 }' out.txt)
[ -n "$serial" ] && [ "$serial" != 0 ] || fail "no serial printed"
[ "$serial" -le 9223372036854775807 ] || fail "random serial $serial is over 63 bits"
[ "$(head -c 8 alice.cert)" = PRLYCRT1 ] || fail "alice.cert does not start with PRLYCRT1"

check "brand sign: --name overrides the request, --serial is used, default 365 days"
sign brand bob --name "Bob D." --serial 4242
expect_out "serial:       4242"
expect_out "name:         Bob D."
nb=$(awk '$1 == "valid" && $2 == "from:" { gsub(/[()]/, "", $4); print $4 }' out.txt)
na=$(awk '$1 == "valid" && $2 == "until:" { gsub(/[(),]/, "", $4); print $4 }' out.txt)
[ $((na - nb)) -eq $((365 * 86400)) ] || fail "default validity is $((na - nb)) s, not 365 days"
now=$(date +%s)
[ $((nb - now)) -le 5 ] && [ $((now - nb)) -le 60 ] || fail "default not-before $nb is not now"
sign brand chloe --serial 99

check "two random serials differ"
s2=$(serial_of bob.cert)
[ "$s2" = 4242 ] || fail "bob.cert serial is $s2"
ok brand sign alice.req --key brand.key --out alice2.cert "${PASS[@]}"
[ "$(serial_of alice2.cert)" != "$serial" ] || fail "two random serials are equal"

check "show certificate says the signature was not checked"
ok show bob.cert
expect_out "kind:         certificate"
expect_out "serial:       4242"
expect_out "brand id:     acme"
expect_out "not checked"

check "verify certificate at a time inside its window"
ok verify alice.cert --brand brand.pub --at 1701000000
expect_out "OK certificate serial $serial for agent alice (Alice Martin) of brand acme"
ok verify bob.cert --brand brand.pub
expect_out "OK certificate serial 4242 for agent bob (Bob D.)"

check "revoke creates the list at version 1, then bumps the version"
ok brand revoke 4242 --key brand.key --revocations revoked.list "${PASS[@]}"
expect_out "version 1, 1 serial"
[ "$(head -c 8 revoked.list)" = PRLYREV1 ] || fail "revoked.list does not start with PRLYREV1"
ok brand revoke 7 --key brand.key --revocations revoked.list "${PASS[@]}"
expect_out "version 2, 2 serials"
ok verify revoked.list --brand brand.pub
expect_out "OK revocation list of brand acme, version 2, 2 revoked serials"
expect_out "serial 4242"
expect_out "serial 7"
ok show revoked.list --brand brand.pub
expect_out "serial 4242"

check "revoking a serial twice leaves the list as it is"
before=$(sha256sum revoked.list)
ok brand revoke 7 --key brand.key --revocations revoked.list "${PASS[@]}"
expect_out "already revoked"
[ "$(sha256sum revoked.list)" = "$before" ] || fail "revoked.list changed"

check "verify reports a revoked certificate, and passes one not on the list"
nok 1 "bob.cert: revoked" verify bob.cert --brand brand.pub --revocations revoked.list
ok verify chloe.cert --brand brand.pub --revocations revoked.list
expect_out "not revoked"

check "brand directory: version 1, then auto-increments"
printf 'We keep your messages 30 days to answer you.\n' >notice.txt
dir_args=(--key brand.key --out directory.dir --notice notice.txt --notice-version 3
    --purpose support --purpose billing --revocations revoked.list
    --queue sales=alice,chloe --queue support=bob "${PASS[@]}" alice.cert bob.cert chloe.cert)
ok brand directory "${dir_args[@]}"
expect_out "version:      1"
[ "$(head -c 8 directory.dir)" = PRLYDIR1 ] || fail "directory.dir does not start with PRLYDIR1"
ok brand directory "${dir_args[@]}"
expect_out "version:      2"
ok brand directory "${dir_args[@]}" --version 10
expect_out "version:      10"
ok brand directory "${dir_args[@]}"
expect_out "version:      11"

check "brand directory: valid 30 days by default, --valid-days N otherwise; refused from then on"
# until_of: the Unix seconds of the "valid until:" line of the last output.
until_of() {
    sed -n 's/^valid until:  [^(]*(\([0-9]*\), exclusive; clients refuse it from then on)$/\1/p' out.txt
}
ok verify directory.dir --brand brand.client
until30=$(until_of)
[ -n "$until30" ] || fail "no expiry shown for the directory"
ok brand directory "${dir_args[@]}" --out short.dir --valid-days 2
expect_out "version:      1"
until2=$(until_of)
[ $((until30 - until2)) -ge $((28 * 86400 - 60)) ] && [ $((until30 - until2)) -le $((28 * 86400 + 60)) ] ||
    fail "--valid-days 2 expires at $until2, 30 days expire at $until30"
ok verify short.dir --brand brand.client --at $((until2 - 1))
nok 1 "short.dir: expired (valid until" verify short.dir --brand brand.client --at "$until2"
nok 1 "short.dir: expired (valid until" verify short.dir --brand brand.pub --at "$until2"
ok verify short.dir --brand brand.pub --at $((until2 - 1))
expect_out "valid until:"
nok 2 "--valid-days must be between 1 and 365" brand directory "${dir_args[@]}" --out x.dir \
    --valid-days 0
nok 2 "--valid-days must be between 1 and 365" brand directory "${dir_args[@]}" --out x.dir \
    --valid-days 366
[ ! -e x.dir ] || fail "x.dir written despite the error"

check "brand directory: the brand's guard policy, history retention and legal hold, signed"
ok brand directory "${dir_args[@]}" --out policy.dir --guard card=block,iban=redact \
    --guard health=confirm --history-days 30 --legal-hold-days 400
ok verify policy.dir --brand brand.client
expect_out "guard:        health=confirm card=block iban=redact"
expect_out "history:      devices keep messages 30 days after receiving them"
expect_out "legal hold:   400 days after an erasure request, then deleted"
expect_out "on erasure:   agents keep (marked)"
ok verify directory.dir --brand brand.client
expect_out "guard:        (none: each client's own policy)"
expect_out "history:      devices keep messages 180 days after receiving them"
nok 2 "--guard: unknown action" brand directory "${dir_args[@]}" --out x.dir --guard card=shout
nok 2 "--history-days must be between 1 and 36500" brand directory "${dir_args[@]}" --out x.dir \
    --history-days 0
nok 2 "--legal-hold-days must be between 1 and 36500" brand directory "${dir_args[@]}" \
    --out x.dir --legal-hold-days 36501
[ ! -e x.dir ] || fail "x.dir written despite the error"

check "verify directory with the client pin lists each agent with its status"
ok verify directory.dir --brand brand.client
expect_out "OK directory of brand acme, version 11, 3 agents, 1 valid"
expect_out "agent alice (Alice Martin) serial $serial: expired"
expect_out "agent bob (Bob D.) serial 4242: revoked"
expect_out "agent chloe (Chloé Durand) serial 99: valid"
expect_out "queue sales: alice,chloe"
expect_out "queue support: bob"
expect_out "notice:       version 3"
expect_out "purposes:     support billing"

check "optional purposes: flagged in the directory, each with the sentence customers are asked"
ok brand directory --key brand.key --out optional.dir --notice notice.txt --notice-version 3 \
    --purpose "support=Answering your questions" --optional-purpose "surveys=A survey after the chat" \
    --optional-purpose marketing "${PASS[@]}" chloe.cert
expect_out "purposes:     support surveys (optional) marketing (optional)"
ok verify optional.dir --brand brand.client
expect_out "purposes:     support surveys (optional) marketing (optional)"
ok verify directory.dir --brand brand.client --at 1701000000
expect_out "agent alice (Alice Martin) serial $serial: valid"
ok show directory.dir --brand brand.client
expect_out "agent chloe (Chloé Durand) serial 99: valid"

# no_content: what a relay pin printed names no agent and quotes no notice.
no_content() {
    local text
    for text in Alice Martin "Bob D." Chloé alice chloe "We keep your messages" billing; do
        if grep -qF -- "$text" out.txt; then
            cat out.txt >&2
            fail "the relay pin showed sealed content: $text"
        fi
    done
}

check "verify directory with the relay pin: signature valid, content sealed"
ok verify directory.dir --brand brand.pub
expect_out "OK directory of brand acme, version 11, signature valid, content sealed"
expect_out "revocations:  valid"
expect_out "content:      sealed (give the client pin to read agents and notice)"
no_content
ok show directory.dir --brand brand.pub
expect_out "brand id:     acme (signature valid)"
expect_out "version:      11"
expect_out "content:      sealed (give the client pin to read agents and notice)"
no_content

check "the directory file itself does not hold names or notice in clear"
for text in "Alice Martin" "Chloé Durand" "We keep your messages"; do
    if grep -qaF -- "$text" directory.dir; then fail "directory.dir holds '$text' in clear"; fi
done

check "a client pin with another directory key is refused: bad seal"
new_brand globex other
paste -d' ' <(cut -d' ' -f1-3 brand.client) <(cut -d' ' -f4 other.client) >wrongkey.client
nok 1 "directory.dir: bad seal (directory key does not match)" verify directory.dir \
    --brand wrongkey.client
nok 1 "directory.dir: bad seal (directory key does not match)" show directory.dir \
    --brand wrongkey.client
ok verify alice.cert --brand wrongkey.client --at 1701000000

check "show revocation list and directory without the pin says what they are"
ok show directory.dir
expect_out "kind:         directory"
ok show revoked.list
expect_out "kind:         revocation list"

check "a queue naming an agent without a certificate is refused"
nok 1 "agent 'zoe' has no certificate" brand directory --key brand.key --out d2.dir \
    --notice notice.txt --notice-version 1 --purpose support --queue sales=zoe "${PASS[@]}" chloe.cert
[ ! -e d2.dir ] || fail "d2.dir written despite the error"

check "passphrase from a file (first line, newline stripped; CRLF too)"
printf '%s\nsecond line ignored\n' "$PLY_PASS" >pass.txt
ok brand sign alice.req --key brand.key --out alice3.cert --passphrase-file pass.txt
printf '%s\r\n' "$PLY_PASS" >pass-crlf.txt
ok brand sign alice.req --key brand.key --out alice4.cert --passphrase-file pass-crlf.txt
ok agent request --agent-id dan --name Dan --key dan.key --out dan.req "${KDF[@]}" \
    --passphrase-file pass.txt
ok brand sign dan.req --key brand.key --out dan.cert "${PASS[@]}"
ok verify dan.cert --brand brand.pub

no_temp_files
echo "PASS"
