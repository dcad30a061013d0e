#!/bin/bash
# parley-keys and its files: --help everywhere, never overwriting without
# --force, all-or-nothing writes with no temp file left behind, key file
# modes, and the directory's version rules. Usage: files.sh /path/to/parley-keys
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh" "$@"

check "--help answers for every command and subcommand, exit 0"
for cmd in "" "brand" "agent" "brand init" "brand client-pin" "brand sign" "brand revoke" \
    "brand directory" \
    "agent request" "show" "verify"; do
    # shellcheck disable=SC2086
    ok $cmd --help
    expect_out "Usage: parley-keys"
    [ -z "$cmd" ] || expect_out "parley-keys $cmd"
done
ok help
expect_out "brand directory"
expect_out "brand client-pin"

check "brand init refuses to overwrite without --force"
new_brand acme brand
key_sum=$(sha256sum brand.key brand.pub brand.client)
nok 1 "brand.key: already exists (use --force)" brand init --brand-id acme --out brand.key \
    "${KDF[@]}" "${PASS[@]}"
[ "$(sha256sum brand.key brand.pub brand.client)" = "$key_sum" ] || fail "brand files changed"
mv brand.pub keep.pub
nok 1 "brand.key: already exists (use --force)" brand init --brand-id acme --out brand.key \
    "${KDF[@]}" "${PASS[@]}"
[ ! -e brand.pub ] || fail "brand.pub written although the key was refused"
mv brand.key keep.key
nok 1 "brand.client: already exists (use --force)" brand init --brand-id acme \
    --out brand.key "${KDF[@]}" "${PASS[@]}"
[ ! -e brand.key ] && [ ! -e brand.pub ] || fail "files written although the client pin was refused"
mv keep.key brand.key
mv keep.pub brand.pub
[ "$(sha256sum brand.key brand.pub brand.client)" = "$key_sum" ] || fail "brand files changed"

check "brand init --force replaces the key and both pins"
ok brand init --brand-id acme --out brand.key --force "${KDF[@]}" "${PASS[@]}"
[ "$(sha256sum brand.key)" != "$(echo "$key_sum" | head -1)" ] || fail "brand.key not replaced"
[ "$(sha256sum brand.pub)" != "$(echo "$key_sum" | sed -n 2p)" ] || fail "brand.pub not replaced"
[ "$(sha256sum brand.client)" != "$(echo "$key_sum" | sed -n 3p)" ] ||
    fail "brand.client not replaced"
[ "$(stat -c %a brand.key)" = 600 ] || fail "replaced brand.key is not mode 600"
ok verify brand.key --brand brand.pub
ok verify brand.key --brand brand.client

check "brand init --pub names the pin file; an existing pin file is not overwritten"
printf 'keep me\n' >taken.pub
nok 1 "taken.pub: already exists (use --force)" brand init --brand-id b2 --out b2.key \
    --pub taken.pub "${KDF[@]}" "${PASS[@]}"
[ ! -e b2.key ] && [ ! -e b2.client ] || fail "b2 files written although its pin was refused"
[ "$(cat taken.pub)" = "keep me" ] || fail "taken.pub overwritten"
ok brand init --brand-id b3 --out b3.secret --pub b3-pin.txt --client-pin b3-client.txt \
    "${KDF[@]}" "${PASS[@]}"
expect_out "relay pin:    b3-pin.txt"
expect_out "client pin:   b3-client.txt"
grep -q '^parley-brand-v1 b3 ' b3-pin.txt || fail "--pub file not written"
grep -qE '^parley-brand-v1 b3 [0-9a-f]{64} [0-9a-f]{64}$' b3-client.txt ||
    fail "--client-pin file not written"
ok brand init --brand-id b4 --out b4.secret "${KDF[@]}" "${PASS[@]}"
[ -e b4.secret.pub ] || fail "default pin name for b4.secret is not b4.secret.pub"
[ -e b4.secret.client ] || fail "default client pin name for b4.secret is not b4.secret.client"
nok 2 "--client-pin and --pub name the same file" brand init --brand-id b7 --out b7.key \
    --pub b7.pin --client-pin b7.pin "${KDF[@]}" "${PASS[@]}"
nok 2 "--client-pin and --out name the same file" brand init --brand-id b7 --out b7.key \
    --client-pin b7.key "${KDF[@]}" "${PASS[@]}"

check "a failed write leaves neither file nor temp file"
nok 1 "cannot create" brand init --brand-id b5 --out b5.key --pub missing-dir/b5.pub \
    "${KDF[@]}" "${PASS[@]}"
[ ! -e b5.key ] && [ ! -e b5.client ] || fail "b5 files left although its pin could not be written"
nok 1 "cannot create" brand init --brand-id b8 --out b8.key --client-pin missing-dir/b8.client \
    "${KDF[@]}" "${PASS[@]}"
[ ! -e b8.key ] && [ ! -e b8.pub ] ||
    fail "b8 files left although its client pin could not be written"
nok 1 "cannot create" brand init --brand-id b6 --out missing-dir/b6.key "${KDF[@]}" "${PASS[@]}"
no_temp_files

check "brand client-pin refuses to overwrite; --force replaces; wrong passphrase writes nothing"
printf 'keep me\n' >taken.client
nok 1 "taken.client: already exists (use --force)" brand client-pin --key brand.key \
    --out taken.client "${PASS[@]}"
[ "$(cat taken.client)" = "keep me" ] || fail "taken.client overwritten"
ok brand client-pin --key brand.key --out taken.client --force "${PASS[@]}"
cmp -s taken.client brand.client || fail "client-pin --force did not write the client pin"
nok 1 "brand.key: wrong passphrase" brand client-pin --key brand.key --out new.client \
    --passphrase-env PLY_WRONG
[ ! -e new.client ] || fail "new.client written with a wrong passphrase"
nok 2 "--key and --out are required" brand client-pin --key brand.key
ok agent request --agent-id zed --name Zed --key zed.key --out zed.req "${KDF[@]}" "${PASS[@]}"
nok 1 "zed.key: not a brand key" brand client-pin --key zed.key --out zed.client "${PASS[@]}"
[ ! -e zed.client ] || fail "zed.client written from an agent key"

check "agent request refuses to overwrite; --force replaces"
new_agent alice "Alice Martin"
req_sum=$(sha256sum alice.key alice.req)
nok 1 "alice.key: already exists (use --force)" agent request --agent-id alice --name A \
    --key alice.key --out other.req "${KDF[@]}" "${PASS[@]}"
nok 1 "alice.req: already exists (use --force)" agent request --agent-id alice --name A \
    --key other.key --out alice.req "${KDF[@]}" "${PASS[@]}"
[ ! -e other.req ] && [ ! -e other.key ] || fail "a file was written by a refused request"
[ "$(sha256sum alice.key alice.req)" = "$req_sum" ] || fail "alice's files changed"
ok agent request --agent-id alice --name "Alice M." --key alice.key --out alice.req --force \
    "${KDF[@]}" "${PASS[@]}"
[ "$(sha256sum alice.key alice.req)" != "$req_sum" ] || fail "alice's files not replaced"

check "brand sign refuses to overwrite a certificate; --force replaces"
sign brand alice --serial 1
nok 1 "alice.cert: already exists (use --force)" brand sign alice.req --key brand.key \
    --out alice.cert --serial 2 "${PASS[@]}"
[ "$(serial_of alice.cert)" = 1 ] || fail "alice.cert was replaced without --force"
sign brand alice --serial 2 --force
[ "$(serial_of alice.cert)" = 2 ] || fail "alice.cert was not replaced with --force"
[ "$(stat -c %a alice.cert)" = 644 ] || fail "certificate mode is $(stat -c %a alice.cert)"

check "failed commands write nothing and leave no temp file"
printf 'We answer within a day.\n' >notice.txt
nok 1 "wrong passphrase" brand sign alice.req --key brand.key --out new.cert \
    --passphrase-env PLY_WRONG
nok 1 "wrong passphrase" brand revoke 3 --key brand.key --revocations new.list \
    --passphrase-env PLY_WRONG
nok 1 "wrong passphrase" brand directory --key brand.key --out new.dir --notice notice.txt \
    --notice-version 1 --purpose support --passphrase-env PLY_WRONG alice.cert
[ ! -e new.cert ] && [ ! -e new.list ] && [ ! -e new.dir ] || fail "a failed command wrote"
no_temp_files

check "directory: another file at --out is not replaced without --force"
printf 'not a directory\n' >plain.dir
dargs=(--key brand.key --notice notice.txt --notice-version 1 --purpose support "${PASS[@]}" alice.cert)
nok 1 "plain.dir: already exists and is not a directory of brand 'acme' (use --force)" \
    brand directory --out plain.dir "${dargs[@]}"
[ "$(cat plain.dir)" = "not a directory" ] || fail "plain.dir overwritten"
ok brand directory --out plain.dir --force "${dargs[@]}"
expect_out "version:      1"

check "directory: another brand's directory at --out is not replaced without --force"
new_brand globex other
ok brand sign alice.req --key other.key --out globex.cert "${PASS[@]}"
ok brand directory --key other.key --out shared.dir --notice notice.txt --notice-version 1 --purpose support \
    --version 7 "${PASS[@]}" globex.cert
nok 1 "shared.dir: already exists and is not a directory of brand 'acme'" \
    brand directory --out shared.dir "${dargs[@]}"
ok brand directory --out shared.dir --force "${dargs[@]}"
expect_out "version:      1"
ok verify shared.dir --brand brand.pub

check "directory: version auto-increments; going back needs --force"
ok brand directory --out d.dir "${dargs[@]}"
expect_out "version:      1"
ok brand directory --out d.dir "${dargs[@]}"
expect_out "version:      2"
ok brand directory --out d.dir --version 5 "${dargs[@]}"
ok verify d.dir --brand brand.pub
expect_out "version 5"
nok 1 "d.dir: holds version 5; version 5 would be refused" brand directory --out d.dir \
    --version 5 "${dargs[@]}"
nok 1 "d.dir: holds version 5; version 3 would be refused" brand directory --out d.dir \
    --version 3 "${dargs[@]}"
ok verify d.dir --brand brand.pub
expect_out "version 5"
ok brand directory --out d.dir --version 3 --force "${dargs[@]}"
ok verify d.dir --brand brand.pub
expect_out "version 3"
ok brand directory --out d.dir "${dargs[@]}"
expect_out "version:      4"

check "revocation list is replaced in place, mode 0644"
ok brand revoke 1 --key brand.key --revocations r.list "${PASS[@]}"
ok brand revoke 2 --key brand.key --revocations r.list "${PASS[@]}"
[ "$(stat -c %a r.list)" = 644 ] || fail "revocation list mode is $(stat -c %a r.list)"
ok verify r.list --brand brand.pub
expect_out "version 2, 2 revoked serials"

no_temp_files
echo "PASS"
