#!/bin/bash
# parley-keys brand order: erasure and access orders signed into 0600
# files, shown and verified, refused when malformed; handed to a real
# relay (a replay refused), their status read back with the agents of the
# directory pending. Usage: order.sh /path/to/parley-keys /path/to/parley-relay
set -euo pipefail
RELAY=${2:?usage: $0 parley-keys parley-relay}
case $RELAY in /*) ;; *) RELAY=$PWD/$RELAY ;; esac
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh" "$1"

relay_pid=
trap '[ -n "$relay_pid" ] && kill "$relay_pid" 2>/dev/null; rm -rf "$T"' EXIT

new_brand acme brand
new_brand globex other
new_agent alice "Alice Martin"
ok brand sign alice.req --key brand.key --out alice.cert "${PASS[@]}"
printf 'We keep your messages 30 days.\n' >notice.txt
ok brand directory --key brand.key --out acme.dir --notice notice.txt --notice-version 1 \
    --purpose support --queue support=alice "${PASS[@]}" alice.cert
customer=$(printf '%064x' 7)

check "brand order erase: a 0600 order file for the customer, 30 days by default"
ok brand order erase --customer "$customer" --key brand.key --out erase.order "${PASS[@]}"
expect_out "(erase) for brand acme"
expect_out "customer:     $customer"
[ "$(stat -c %a erase.order)" = 600 ] || fail "erase.order mode is not 600"
[ "$(head -c 8 erase.order)" = PRLYORD1 ] || fail "erase.order does not start with PRLYORD1"
order_id=$(awk '$1 == "order:" { print $2 }' out.txt)
[ ${#order_id} -eq 32 ] || fail "no order id printed: $order_id"

check "show and verify an order; a foreign pin refuses it"
ok show erase.order
expect_out "order:        $order_id (erase)"
expect_out "signature:    not checked"
ok verify erase.order --brand brand.pub
expect_out "OK order of brand acme, signature valid"
nok 1 "bad signature" verify erase.order --brand other.pub

check "brand order: bad input is a usage error, nothing overwritten without --force"
nok 2 "--customer must be 64 hex digits" brand order export --customer abc --key brand.key \
    --out x.order "${PASS[@]}"
nok 2 "--customer must be 64 hex digits" brand order export --customer "${customer%?}g" \
    --key brand.key --out x.order "${PASS[@]}"
nok 2 "--days must be between 1 and 90" brand order export --customer "$customer" --key brand.key \
    --out x.order --days 91 "${PASS[@]}"
nok 2 "--days must be between 1 and 90" brand order export --customer "$customer" --key brand.key \
    --out x.order --days 0 "${PASS[@]}"
nok 2 "unknown command 'forget'" brand order forget
nok 2 "--relay is required" brand order submit erase.order
nok 1 "already exists" brand order erase --customer "$customer" --key brand.key \
    --out erase.order "${PASS[@]}"
[ ! -e x.order ] || fail "a refused command left x.order"
ok brand order export --customer "$customer" --key brand.key --out export.order --days 2 \
    "${PASS[@]}"
nok 1 "alice.cert" brand order submit alice.cert --relay ws://127.0.0.1:1/
head -c 40 erase.order >torn.order
nok 1 "torn.order" brand order submit torn.order --relay ws://127.0.0.1:1/
nok 1 "erase.order: submit:" brand order submit erase.order --relay ws://127.0.0.1:1/ --timeout 2

check "submit to a real relay: stored once, a replay refused; a forged order refused"
"$RELAY" --brand brand.pub --db relay.db --port 0 --port-file port.txt >relay.log 2>&1 &
relay_pid=$!
for _ in $(seq 100); do [ -s port.txt ] && break; sleep 0.1; done
[ -s port.txt ] || { cat relay.log >&2; fail "the relay did not start"; }
url="ws://127.0.0.1:$(cat port.txt)/"
ok brand order submit erase.order --relay "$url"
expect_out "stored by the relay"
nok 1 "holds this order already" brand order submit erase.order --relay "$url"
# The same order with one bit of its signature flipped.
cp erase.order forged.order
size=$(stat -c %s forged.order)
last=$(tail -c 1 forged.order | od -An -tu1 | tr -d ' ')
printf "$(printf '\\%03o' $((last ^ 1)))" | dd of=forged.order bs=1 seek=$((size - 1)) conv=notrunc 2>/dev/null
nok 1 "refused by the relay" brand order submit forged.order --relay "$url"
ok brand order erase --customer "$customer" --key other.key --out globex.order "${PASS[@]}"
nok 1 "refused by the relay" brand order submit globex.order --relay "$url"

check "status: no receipt yet; with the directory, alice pending (exit 1)"
ok brand order status erase.order --relay "$url" --brand brand.pub
expect_out "0 receipts, 0 pending, 0 invalid"
nok 1 "not an order of brand globex" brand order status erase.order --relay "$url" \
    --brand other.pub
set +e
"$KEYS" brand order status erase.order --relay "$url" --brand brand.client \
    --directory acme.dir >out.txt 2>err.txt
rc=$?
set -e
[ "$rc" -eq 1 ] || { cat out.txt err.txt >&2; fail "status with a pending agent: exit $rc"; }
expect_out "pending  alice"
expect_out "0 receipts, 1 pending"
nok 1 "needs the client pin" brand order status erase.order --relay "$url" --brand brand.pub \
    --directory acme.dir
nok 1 "refused by the relay" brand order status export.order --relay "$url" --brand brand.pub
echo "PASS"
