#!/usr/bin/env bash
# Integration test of parley-customer and parley-demo. Makes a brand with
# parley-keys, starts parley-relay on an ephemeral port in a temp dir with
# the relay pin (brand.pub); clients get the client pin (brand.client). Then:
#   0. a client given the relay pin refuses it, naming the client pin;
#   1. parley-demo plays the README demonstration; both sides' transcripts
#      must hold every message, and the relay's files none of them, nor the
#      agents' display names or the notice text (sealed in the directory);
#   2. a customer who refuses consent exits 0 and the relay stores nothing;
#   2b. with the directory shipped with the page (--directory), the notice
#      comes before any key, store or connection: a refusal creates no
#      store and leaves the relay's audit log and log as they were;
#   3. a scripted customer talks to parley-demo --echo-agent: open, claim,
#      echoes, "bye", closed by the agent;
#   3b/3c. the agents' keys it remembers are not in its store in clear;
#      --export (or the export command) writes the store as JSON, mode
#      0600 under any umask; --withdraw-consent and the erase command
#      get the relay's confirmation; the customer's own copy stays exportable;
#   3d. erase --local wipes the store after the relay's confirmation and
#      deletes its files;
#   4. a wait that cannot end exits 3 once --timeout expires;
#   6. the sensitive-data guard: with --guard card=warn a card number is
#      held back on "no", sent on "yes"; refused by --guard card=block;
#      replaced by a marker by default (as the support widget does); a bad
#      --guard is a usage error;
#   6e. special-category data (health) goes only after the customer typed
#      its explicit consent for that category, asked on its own; the agent
#      hears the signed consent before the text; asked once per conversation.
# Usage: customer_test.sh PARLEY_RELAY PARLEY_KEYS PARLEY_CUSTOMER PARLEY_DEMO
set -euo pipefail

relay_bin=$1 keys_bin=$2 customer_bin=$3 demo_bin=$4
dir=$(mktemp -d /tmp/parley-customer-test-XXXXXX)
relay_pid=
side_pid=

cleanup() {
  for pid in $relay_pid $side_pid; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [ -z "${PARLEY_KEEP_TEST_DIR:-}" ]; then rm -rf "$dir"; else echo "kept $dir"; fi
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# must_contain FILE TEXT...: each TEXT is a fixed string that must occur in FILE.
must_contain() {
  local file=$1
  shift
  for text in "$@"; do
    grep -q -F -- "$text" "$file" || { cat "$file" >&2; fail "$file lacks: $text"; }
  done
}

# must_lack FILE TEXT...: no TEXT may occur in FILE.
must_lack() {
  local file=$1
  shift
  for text in "$@"; do
    if grep -q -F -- "$text" "$file"; then cat "$file" >&2; fail "$file has: $text"; fi
  done
}

stored() {
  curl -sf "http://127.0.0.1:$port/metrics" | awk '$1 == "parley_envelopes_stored_total" { print $2 }'
}

export PARLEY_DEMO_PASSPHRASE="test passphrase"
export CUSTOMER_PASS="customer store passphrase"
pass=(--passphrase-env PARLEY_DEMO_PASSPHRASE)
brand=$dir/brand
mkdir "$brand"

echo "== brand with agents alice, bob (queue support) and carol (queue help)"
"$keys_bin" brand init --brand-id test-shop --out "$brand/brand.key" --pub "$brand/brand.pub" \
  --client-pin "$brand/brand.client" --kdf interactive "${pass[@]}" >/dev/null
for agent in alice bob carol; do
  "$keys_bin" agent request --agent-id "$agent" --name "Agent ${agent^}" \
    --key "$brand/$agent.key" --out "$brand/$agent.req" --kdf interactive "${pass[@]}" >/dev/null
  "$keys_bin" brand sign "$brand/$agent.req" --key "$brand/brand.key" \
    --out "$brand/$agent.cert" "${pass[@]}" >/dev/null
done
printf 'Test Shop keeps this conversation to answer you.\nNotice for tests.\n' > "$brand/notice.txt"
"$keys_bin" brand directory --key "$brand/brand.key" --out "$brand/directory.dir" \
  --notice "$brand/notice.txt" --notice-version 3 --purpose support \
  --optional-purpose "surveys=A short survey after the chat" --optional-purpose marketing \
  --queue support=alice,bob --queue help=carol "${pass[@]}" \
  "$brand/alice.cert" "$brand/bob.cert" "$brand/carol.cert" >/dev/null

echo "== relay on an ephemeral port"
"$relay_bin" --port 0 --port-file "$dir/port" --db "$dir/relay.db" --brand "$brand/brand.pub" \
  --log "$dir/relay.log" &
relay_pid=$!
for _ in $(seq 200); do
  [ -s "$dir/port" ] && break
  kill -0 "$relay_pid" 2>/dev/null || fail "relay exited"
  sleep 0.05
done
[ -s "$dir/port" ] || fail "relay did not write its port"
port=$(cat "$dir/port")
url="ws://127.0.0.1:$port/"

echo "== 0. a client given the relay pin refuses it"
set +e
"$customer_bin" --relay "$url" --brand "$brand/brand.pub" --store "$dir/relaypin.db" \
  --passphrase-env CUSTOMER_PASS --script /dev/null --timeout 5 > "$dir/relaypin.out" \
  2> "$dir/relaypin.err"
rc=$?
set -e
[ "$rc" -eq 1 ] || { cat "$dir/relaypin.err" >&2; fail "relay pin: exit $rc, not 1"; }
must_contain "$dir/relaypin.err" \
  "$brand/brand.pub: this is a relay pin; clients need the client pin ($brand/brand.client)"
[ ! -e "$dir/relaypin.db" ] || fail "a store was created with a relay pin"

echo "== 1. parley-demo: consent, question, claim, transfer, answer, close"
"$demo_bin" --relay "$url" --demo-dir "$brand" --texts "$dir/texts" --timeout 20 \
  > "$dir/demo.out" 2> "$dir/demo.err" || { cat "$dir/demo.out" "$dir/demo.err" >&2; fail "parley-demo"; }
[ "$(wc -l < "$dir/texts")" -eq 6 ] || fail "parley-demo did not list six messages"
customer_view=$(sed -n '/^---- What the customer saw/,/^---- What agent alice/p' "$dir/demo.out")
alice_view=$(sed -n '/^---- What agent alice/,/^---- What agent bob/p' "$dir/demo.out")
bob_view=$(sed -n '/^---- What agent bob/,$p' "$dir/demo.out")
printf '%s\n' "$customer_view" > "$dir/customer.view"
printf '%s\n' "$alice_view" > "$dir/alice.view"
printf '%s\n' "$bob_view" > "$dir/bob.view"
must_contain "$dir/customer.view" "privacy notice version 3" "Test Shop keeps this conversation" \
  "active: Agent Alice (agent alice" "transferring: Agent Bob (agent bob" \
  "Agent Alice: Hi, Alice here." "Agent Bob: Bob here:" "conversation closed"
must_contain "$dir/alice.view" "Customer: Hello, my order 4471" "Customer: Thank you!" \
  "conversation transferred"
must_contain "$dir/bob.view" "Customer: Hello, my order 4471" "taken by a colleague" \
  "Customer: Perfect, thanks Bob." "conversation closed"
# alice left before the customer's last message: she must not have it.
if grep -q -F "Perfect, thanks Bob" "$dir/alice.view"; then fail "alice saw bob's conversation"; fi
must_contain "$dir/demo.out" "== Demo complete"
if grep -q -F '!!' "$dir/demo.out"; then fail "parley-demo reported a warning"; fi
# The messages, and what the sealed directory holds: names and notice.
{
  cat "$dir/texts"
  printf '%s\n' "Agent Alice" "Agent Bob" "Agent Carol" "Test Shop keeps this conversation" \
    "Notice for tests"
} > "$dir/secrets"
while IFS= read -r text; do
  for f in "$dir"/relay.db* "$dir/relay.log"; do
    if grep -a -q -F -- "$text" "$f"; then fail "in clear in $(basename "$f"): $text"; fi
  done
done < "$dir/secrets"

echo "== 2. consent refused: exit 0, nothing sent"
before=$(stored)
printf 'consent no\nThis must never leave the device\n' > "$dir/refuse.script"
"$customer_bin" --relay "$url" --brand "$brand/brand.client" --store "$dir/refuse.db" \
  --passphrase-env CUSTOMER_PASS --script "$dir/refuse.script" --timeout 10 > "$dir/refuse.out" \
  || fail "refusing consent did not exit 0"
must_contain "$dir/refuse.out" "Privacy notice of test-shop, version 3" \
  "Test Shop keeps this conversation" "Do you agree? [y/N] n" "nothing was sent"
if grep -q -F "This must never" "$dir/refuse.out"; then fail "sent after refusal"; fi
[ "$(stored)" = "$before" ] || fail "the relay stored envelopes after a refusal ($before -> $(stored))"

echo "== 2b. the notice first, from the directory shipped with the page: a refusal leaves no trace"
# No key, no store, no connection: the relay's audit log and log stay as they were, and it
# stores nothing more. (Its database files are not compared byte for byte: the relay's own
# upkeep may write to them at any time; that nothing of this customer can be in them follows
# from no connection having been made.)
relay_files() { cat "$dir"/relay.db.audit* "$dir/relay.log" | sha256sum; }
# Once every earlier connection's close is in the audit log (step 2's customer just left).
for _ in $(seq 200); do
  opens=$(cat "$dir"/relay.db.audit* | grep -c '"conn_open"' || true)
  closes=$(cat "$dir"/relay.db.audit* | grep -c '"conn_close"' || true)
  [ "$opens" -gt 0 ] && [ "$opens" = "$closes" ] && break
  sleep 0.05
done
[ "$opens" = "$closes" ] || fail "the relay's audit log never recorded every close ($opens opens, $closes closes)"
before=$(stored) files_before=$(relay_files)
"$customer_bin" --relay "$url" --brand "$brand/brand.client" --store "$dir/refuse2.db" \
  --directory "$brand/directory.dir" --passphrase-env CUSTOMER_PASS --script "$dir/refuse.script" \
  --timeout 10 > "$dir/refuse2.out" || fail "refusing the shipped notice did not exit 0"
must_contain "$dir/refuse2.out" "Privacy notice of test-shop, version 3" \
  "Test Shop keeps this conversation" "Do you agree? [y/N] n" "no key was made"
must_lack "$dir/refuse2.out" "connecting to"
[ ! -e "$dir/refuse2.db" ] || fail "a store was created before consent"
[ "$(relay_files)" = "$files_before" ] || fail "the relay's audit log or log changed after a refusal"
[ "$(stored)" = "$before" ] || fail "the relay stored envelopes after a refusal"
# A directory that does not verify against the pin is refused before anything, too.
head -c 100 "$brand/directory.dir" > "$dir/cut.dir"
"$customer_bin" --relay "$url" --brand "$brand/brand.client" --store "$dir/refuse3.db" \
  --directory "$dir/cut.dir" --passphrase-env CUSTOMER_PASS --script "$dir/refuse.script" \
  > /dev/null 2> "$dir/refuse3.err" && fail "a damaged shipped directory was accepted"
must_contain "$dir/refuse3.err" "cut.dir"
[ ! -e "$dir/refuse3.db" ] || fail "a store was created for a damaged directory"

echo "== 3. scripted exchange with an echo agent"
"$demo_bin" --relay "$url" --demo-dir "$brand" --echo-agent carol --timeout 20 \
  > "$dir/echo.out" 2>&1 &
echo_pid=$!
for _ in $(seq 200); do
  grep -q '^ready:' "$dir/echo.out" && break
  sleep 0.05
done
cat > "$dir/chat.script" <<'SCRIPT'
# opens the conversation in queue help
Bonjour, une question sur ma facture
wait-agent
wait-text echo: Bonjour, une question
sleep 50
say close the ticket please
wait-text echo: close the ticket please
bye
expect-closed
SCRIPT
"$customer_bin" --relay "$url" --brand "$brand/brand.client" --store "$dir/chat.db" --queue help \
  --passphrase-file <(printf '%s\n' "$CUSTOMER_PASS") --script "$dir/chat.script" --timeout 20 \
  --accept surveys --directory "$brand/directory.dir" \
  > "$dir/chat.out" 2> "$dir/chat.err" || { cat "$dir/chat.out" "$dir/chat.err" >&2; fail "scripted chat"; }
wait "$echo_pid" || { cat "$dir/echo.out" >&2; fail "echo agent"; }
must_contain "$dir/chat.out" "Do you agree? [y/N] y" "You (#1): Bonjour, une question sur ma facture" \
  "* Agent Carol joined (agent carol, fingerprint " \
  "] Agent Carol: echo: Bonjour, une question sur ma facture" \
  "] Agent Carol: echo: close the ticket please" "You (" "): bye" "* conversation closed"
fp=$("$keys_bin" show "$brand/carol.cert" | awk -F': +' '/fingerprint/ { print $2; exit }')
[ -n "$fp" ] || fail "no fingerprint from parley-keys show"
must_contain "$dir/chat.out" "fingerprint $fp"
must_contain "$dir/echo.out" "Customer: Bonjour, une question sur ma facture" "Customer: bye"
if grep -q -F '!!' "$dir/chat.out" "$dir/chat.err"; then fail "warnings in a clean exchange"; fi

echo "== 3b. export for an access request: the conversation and the consent receipt, as JSON"
# The agents' keys the customer remembers are sealed records, not "brand/agent" rows in clear.
for f in "$dir"/chat.db*; do
  if grep -a -q -F "test-shop/carol" "$f"; then fail "agent id in clear in $(basename "$f")"; fi
done
# Under umask 000 the export is still private to its owner (0600).
(umask 000 && "$customer_bin" --relay "$url" --brand "$brand/brand.client" --store "$dir/chat.db" \
  --passphrase-file <(printf '%s\n' "$CUSTOMER_PASS") --export "$dir/export.json") \
  2> "$dir/export.err" || { cat "$dir/export.err" >&2; fail "export"; }
mode=$(stat -c %a "$dir/export.json")
[ "$mode" = 600 ] || fail "export: mode $mode under umask 000, not 600"
python3 - "$dir/export.json" <<'PY' || fail "export content"
import json, sys
docs = json.load(open(sys.argv[1], encoding="utf-8"))
assert len(docs) == 1, docs
d = docs[0]
assert d["format"] == "parley-export-v1" and d["state"] == "closed", d
assert d["agent"]["agent_id"] == "carol", d["agent"]
assert d["consent"]["signature_valid"] is True, d["consent"]
# Exactly what was accepted: the purpose the service needs and --accept surveys, not marketing.
assert d["consent"]["purposes"] == ["support", "surveys"], d["consent"]
assert d["consent"]["withdrawn_purposes"] == [], d["consent"]
texts = [m["text"] for m in d["messages"]]
for want in ("Bonjour, une question sur ma facture", "echo: close the ticket please", "bye"):
    assert want in texts, (want, texts)
PY

echo "== 3b'. one optional purpose withdrawn: the receipt (every copy) changes, nothing is erased"
"$customer_bin" --relay "$url" --brand "$brand/brand.client" --store "$dir/chat.db" \
  --passphrase-env CUSTOMER_PASS --withdraw-purpose surveys --timeout 20 \
  > "$dir/withdraw-surveys.out" 2> "$dir/withdraw-surveys.err" \
  || { cat "$dir/withdraw-surveys.out" "$dir/withdraw-surveys.err" >&2; fail "withdraw surveys"; }
must_contain "$dir/withdraw-surveys.out" "* consent to surveys withdrawn"
must_lack "$dir/withdraw-surveys.out" "erased"
"$customer_bin" export - --relay "$url" --brand "$brand/brand.client" --store "$dir/chat.db" \
  --passphrase-env CUSTOMER_PASS > "$dir/export-surveys.json" 2> "$dir/export-surveys.err" \
  || { cat "$dir/export-surveys.err" >&2; fail "export after withdrawing surveys"; }
python3 - "$dir/export-surveys.json" <<'PY' || fail "export after withdrawing surveys"
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))[0]
assert d["consent"]["purposes"] == ["support"], d["consent"]
assert d["consent"]["withdrawn_purposes"] == ["surveys"], d["consent"]
assert len(d["messages"]) > 0, d
PY
"$customer_bin" --relay "$url" --brand "$brand/brand.client" --store "$dir/chat.db" \
  --passphrase-env CUSTOMER_PASS --withdraw-purpose nothing --timeout 20 \
  > /dev/null 2> "$dir/withdraw-nothing.err" && fail "withdrawing an unknown purpose succeeded"
must_contain "$dir/withdraw-nothing.err" "cannot withdraw nothing: not a purpose of the notice"

echo "== 3c. consent withdrawn, then erasure: the relay confirms; the device keeps its own copy"
"$customer_bin" --relay "$url" --brand "$brand/brand.client" --store "$dir/chat.db" \
  --passphrase-env CUSTOMER_PASS --withdraw-consent --timeout 20 \
  > "$dir/withdraw.out" 2> "$dir/withdraw.err" \
  || { cat "$dir/withdraw.out" "$dir/withdraw.err" >&2; fail "withdraw consent"; }
must_contain "$dir/withdraw.out" "* consent withdrawn" "* the relay erased what it held for you"
must_lack "$dir/withdraw.out" "Do you agree?"
# An existing, readable file is narrowed to 0600 before the export goes in.
install -m 644 /dev/null "$dir/export2.json"
"$customer_bin" export "$dir/export2.json" --relay "$url" --brand "$brand/brand.client" --store "$dir/chat.db" \
  --passphrase-env CUSTOMER_PASS 2> "$dir/export2.err" \
  || { cat "$dir/export2.err" >&2; fail "export after withdrawal"; }
mode=$(stat -c %a "$dir/export2.json")
[ "$mode" = 600 ] || fail "export over a 0644 file: mode $mode, not 600"
python3 - "$dir/export2.json" <<'PY' || fail "export after withdrawal"
import json, sys
docs = json.load(open(sys.argv[1], encoding="utf-8"))
assert len(docs) == 1 and docs[0]["messages"], docs
PY
"$customer_bin" erase --relay "$url" --brand "$brand/brand.client" --store "$dir/chat.db" \
  --passphrase-env CUSTOMER_PASS --timeout 20 > "$dir/erase.out" 2> "$dir/erase.err" \
  || { cat "$dir/erase.out" "$dir/erase.err" >&2; fail "erase"; }
must_contain "$dir/erase.out" "* the relay erased what it held for you ("
[ -e "$dir/chat.db" ] || fail "erase without --local deleted the store"
echo "== 3d. erase --local: after the relay's confirmation the store is wiped and deleted"
cp "$dir/chat.db" "$dir/local.db"
"$customer_bin" erase --local --relay "$url" --brand "$brand/brand.client" --store "$dir/local.db" \
  --passphrase-env CUSTOMER_PASS --timeout 20 > "$dir/local.out" 2> "$dir/local.err" \
  || { cat "$dir/local.out" "$dir/local.err" >&2; fail "erase --local"; }
must_contain "$dir/local.out" "* the relay erased what it held for you (" \
  "* this device's store was wiped" "* the store's files are deleted: $dir/local.db"
for f in "$dir/local.db" "$dir/local.db-wal" "$dir/local.db-shm"; do
  [ ! -e "$f" ] || fail "erase --local left $f"
done
set +e
"$customer_bin" export --local --relay "$url" --brand "$brand/brand.client" --store "$dir/chat.db" \
  --passphrase-env CUSTOMER_PASS > /dev/null 2> "$dir/local2.err"
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "--local without erase: exit $rc, not 2"
must_contain "$dir/local2.err" "--local goes with erase or withdraw-consent"
set +e
"$customer_bin" --relay "$url" --brand "$brand/brand.client" --store "$dir/chat.db" \
  --passphrase-env CUSTOMER_PASS --erase --export - > /dev/null 2> "$dir/both.err"
rc=$?
"$customer_bin" --relay "$url" --brand "$brand/brand.client" --store "$dir/chat.db" \
  --passphrase-env CUSTOMER_PASS --history-days 0 > /dev/null 2> "$dir/days.err"
rc2=$?
"$customer_bin" delete --brand "$brand/brand.client" --store "$dir/chat.db" 2> "$dir/cmd.err"
rc3=$?
set -e
[ "$rc" -eq 2 ] && [ "$rc2" -eq 2 ] && [ "$rc3" -eq 2 ] \
  || fail "usage errors exit $rc, $rc2 and $rc3, not 2"
must_contain "$dir/both.err" "exclude each other"
must_contain "$dir/days.err" "--history-days takes days"
must_contain "$dir/cmd.err" "unknown command 'delete'"

echo "== 4. a wait that cannot end: exit 3 after --timeout"
printf 'Is anyone there?\nwait-text never going to be said\n' > "$dir/timeout.script"
start=$(date +%s)
set +e
"$customer_bin" --relay "$url" --brand "$brand/brand.client" --store "$dir/timeout.db" \
  --queue help --passphrase-env CUSTOMER_PASS --script "$dir/timeout.script" --timeout 2 \
  > "$dir/timeout.out" 2> "$dir/timeout.err"
rc=$?
set -e
elapsed=$(($(date +%s) - start))
[ "$rc" -eq 3 ] || { cat "$dir/timeout.out" "$dir/timeout.err" >&2; fail "timeout exit $rc, not 3"; }
[ "$elapsed" -le 10 ] || fail "timeout took ${elapsed}s"
must_contain "$dir/timeout.err" "timed out after 2 s waiting for a message containing"

echo "== 5. wrong store passphrase: exit 1, no chat"
set +e
CUSTOMER_PASS=wrong "$customer_bin" --relay "$url" --brand "$brand/brand.client" \
  --store "$dir/chat.db" --passphrase-env CUSTOMER_PASS --script "$dir/chat.script" \
  > "$dir/wrong.out" 2> "$dir/wrong.err"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "wrong passphrase exit $rc, not 1"
must_contain "$dir/wrong.err" "wrong passphrase"

# echo_chat NAME SCRIPT-TEXT [CUSTOMER-OPTION...]: plays the script with an
# echo agent (carol, queue help); NAME.out, NAME.err, NAME.echo are kept.
# Each run has a relay of its own: an echo agent's store lives for one
# run, so the one-time prekeys an earlier one left on a relay would be
# sealed to but never opened.
echo_chat() {
  local name=$1 text=$2 pid side_url
  shift 2
  "$relay_bin" --port 0 --port-file "$dir/$name.port" --db "$dir/$name-relay.db" \
    --brand "$brand/brand.pub" --log "$dir/$name-relay.log" &
  side_pid=$!
  for _ in $(seq 200); do
    [ -s "$dir/$name.port" ] && break
    kill -0 "$side_pid" 2>/dev/null || fail "$name: relay exited"
    sleep 0.05
  done
  [ -s "$dir/$name.port" ] || fail "$name: relay did not write its port"
  side_url="ws://127.0.0.1:$(cat "$dir/$name.port")/"
  "$demo_bin" --relay "$side_url" --demo-dir "$brand" --echo-agent carol --timeout 20 \
    > "$dir/$name.echo" 2>&1 &
  pid=$!
  for _ in $(seq 200); do
    grep -q '^ready:' "$dir/$name.echo" && break
    sleep 0.05
  done
  printf '%s\n' "$text" > "$dir/$name.script"
  "$customer_bin" --relay "$side_url" --brand "$brand/brand.client" --store "$dir/$name.db" \
    --queue help --passphrase-env CUSTOMER_PASS --script "$dir/$name.script" --timeout 20 "$@" \
    > "$dir/$name.out" 2> "$dir/$name.err" \
    || { cat "$dir/$name.out" "$dir/$name.err" >&2; fail "$name: customer"; }
  wait "$pid" || { cat "$dir/$name.echo" >&2; fail "$name: echo agent"; }
  kill "$side_pid" 2>/dev/null || true
  wait "$side_pid" 2>/dev/null || true
  side_pid=
}

card="4970 1012 3456 7893" # Visa range, Luhn-valid
# What must never show, as typed or run together: not a lone group of four,
# which a random fingerprint printed in the same transcript can contain.
card_digits="3456 7893"
card_compact=4970101234567893

echo "== 6a. --guard card=warn: a card number held back on no (the default answer), sent on yes"
echo_chat guardwarn "Hello, a question about a payment
wait-agent
wait-text echo: Hello, a question
Here is my card $card for the refund
say plain line after the refusal
wait-text echo: plain line after the refusal
guard-answer yes
My card is $card, please refund it
wait-text echo: My card is $card
guard-answer no
Card again: $card
bye
expect-closed" --guard card=warn
must_contain "$dir/guardwarn.out" \
  "!! this message contains what looks like a payment card number (card) — send anyway? [y/N/e(dit)] n (script)" \
  "!! this message contains what looks like a payment card number (card) — send anyway? [y/N/e(dit)] y (script)" \
  "* not sent" "] Agent Carol: echo: My card is $card, please refund it" \
  "] Agent Carol: echo: plain line after the refusal"
must_lack "$dir/guardwarn.out" "Here is my card" "Card again"
must_lack "$dir/guardwarn.echo" "Here is my card" "Card again"
must_contain "$dir/guardwarn.echo" "Customer: My card is $card, please refund it"
# Warnings to the person stay on the transcript: nothing of the scan on stderr.
must_lack "$dir/guardwarn.err" "card" "$card_digits" "$card_compact"

echo "== 6b. --guard card=block: refused, nothing sent"
echo_chat guardblock "Hello, a question about a payment
wait-agent
wait-text echo: Hello, a question
My card is $card
say after the blocked line
wait-text echo: after the blocked line
bye
expect-closed" --guard card=block
must_contain "$dir/guardblock.out" \
  "!! not sent: this message contains what looks like a payment card number (card)"
must_lack "$dir/guardblock.out" "): My card" "echo: My card"
must_lack "$dir/guardblock.echo" "$card_digits" "$card_compact"

echo "== 6c. by default a card number is replaced by a marker: the digits never leave"
echo_chat guardredact "Hello, a question about a payment
wait-agent
wait-text echo: Hello, a question
My card is $card, thanks
wait-text echo: My card is [card], thanks
bye
expect-closed"
must_contain "$dir/guardredact.out" "): My card is [card], thanks" \
  "* sent with a payment card number (card) replaced by a marker" \
  "] Agent Carol: echo: My card is [card], thanks"
must_lack "$dir/guardredact.out" "$card_digits" "$card_compact"
must_lack "$dir/guardredact.echo" "$card_digits" "$card_compact"

echo "== 6e. health data: sent only after explicit consent for that category, once"
echo_chat special "Hello, a question about a delivery
wait-agent
wait-text echo: Hello, a question
I'm diabetic, please leave it at the door
say plain line after the refusal
wait-text echo: plain line after the refusal
special-answer yes
I'm diabetic, please leave it at the door
say plain line 2
wait-text echo: plain line 2
special-answer consent health
I'm diabetic and cannot take the stairs
wait-text echo: I'm diabetic and cannot
I take insulin every morning
wait-text echo: I take insulin
bye
expect-closed"
ask="health information (health), a special category of personal data (GDPR art. 9)"
must_contain "$dir/special.out" "$ask" "To consent, type: consent health >  (script)" \
  "To consent, type: consent health > yes (script)" \
  "* not sent: no explicit consent to sending health" \
  "* your consent to sending health in this conversation is recorded" \
  "] Agent Carol: echo: I take insulin every morning"
[ "$(grep -c -F "$ask" "$dir/special.out")" -eq 3 ] || fail "special: asked other than 3 times"
must_lack "$dir/special.out" "leave it at the door"
must_lack "$dir/special.echo" "leave it at the door"
must_contain "$dir/special.echo" "* the customer explicitly consented (art. 9) to send: health"
[ "$(grep -c -F "heard: explicit consent (art. 9) to send health" "$dir/special.echo")" -eq 1 ] ||
  fail "special: the agent heard other than one consent"
consent_line=$(grep -n -F "* the customer explicitly consented (art. 9) to send: health" "$dir/special.echo" | cut -d: -f1)
text_line=$(grep -n -F "Customer: I'm diabetic and cannot" "$dir/special.echo" | head -1 | cut -d: -f1)
[ -n "$text_line" ] && [ "$consent_line" -lt "$text_line" ] || fail "special: consent not before the text"
must_lack "$dir/special.err" "diabetic" "health"

echo "== 6d. a bad --guard is a usage error"
for spec in "cards=warn" "card=shout" "card" "card=warn,"; do
  set +e
  "$customer_bin" --relay "$url" --brand "$brand/brand.client" --store "$dir/badguard.db" \
    --passphrase-env CUSTOMER_PASS --guard "$spec" > /dev/null 2> "$dir/badguard.err"
  rc=$?
  set -e
  [ "$rc" -eq 2 ] || fail "--guard $spec: exit $rc, not 2"
  must_contain "$dir/badguard.err" "parley-customer: --guard: "
  [ ! -e "$dir/badguard.db" ] || fail "--guard $spec: a store was created"
done

echo "ok"
