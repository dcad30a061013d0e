#!/bin/bash
# parley-agent end to end: a brand made with parley-keys, a real relay on
# an ephemeral port, two parley-agent instances in two tmux windows and a
# scripted customer. Drives the agents with send-keys and checks their
# screens with capture-pane: queue, claim, messages both ways, read marks,
# the customer's explicit consent to special-category data in the header,
# a card number held until a second Enter, relay restart with a message
# kept in the outbox, exports of the conversation and of all its
# customer's conversations private to their owner whatever the umask,
# transfer, close; the agents' access log verified by parley-audit.
#
#   e2e.sh PARLEY-RELAY PARLEY-KEYS PARLEY-AGENT CUSTOMER-SCRIPT PARLEY-AUDIT
# PARLEY_TUI_CAPTURE_DIR=DIR keeps screen captures of each step there.
set -u

relay_bin=$1 keys_bin=$2 agent_bin=$3 customer_bin=$4 audit_bin=$5
work=$(mktemp -d /tmp/parley-tui-e2e-XXXXXX)
sock="parley-tui-e2e-$$-$RANDOM"
relay_pid=
customer_pid=
export LANG=C.UTF-8 LC_ALL=C.UTF-8
export E2E_PASS="agent pass phrase"

cleanup() {
    tmux -L "$sock" kill-server 2>/dev/null
    [ -n "$customer_pid" ] && kill "$customer_pid" 2>/dev/null
    [ -n "$relay_pid" ] && kill "$relay_pid" 2>/dev/null
    wait 2>/dev/null
    if [ -z "${PARLEY_KEEP_TEST_DIR:-}" ]; then rm -rf "$work"; else echo "kept $work"; fi
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*"
    for w in alice bob; do
        echo "---- screen of $w ----"
        tmux -L "$sock" capture-pane -p -t "e2e:$w" 2>/dev/null
    done
    echo "---- customer ----"; cat "$work/customer.out" 2>/dev/null
    echo "---- agent stderr ----"; cat "$work"/*.err 2>/dev/null
    exit 1
}

screen() { tmux -L "$sock" capture-pane -p -t "e2e:$1"; }

# wait_screen WINDOW TEXT [SECONDS]: polls the window until TEXT shows.
wait_screen() {
    local i
    for ((i = 0; i < ${3:-20} * 10; i++)); do
        screen "$1" | grep -qF -- "$2" && return 0
        sleep 0.1
    done
    fail "window $1 never showed: $2"
}

# wait_file FILE TEXT [SECONDS]
wait_file() {
    local i
    for ((i = 0; i < ${3:-20} * 10; i++)); do
        grep -qF -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    fail "$1 never had: $2"
}

type_line() { # type_line WINDOW TEXT: types TEXT literally, then Enter
    tmux -L "$sock" send-keys -t "e2e:$1" -l -- "$2"
    tmux -L "$sock" send-keys -t "e2e:$1" Enter
}

capture() { # capture NAME WINDOW: keeps a capture when asked to
    [ -n "${PARLEY_TUI_CAPTURE_DIR:-}" ] && screen "$2" > "$PARLEY_TUI_CAPTURE_DIR/$1.txt"
    return 0
}

start_relay() {
    rm -f "$work/port"
    "$relay_bin" --port "$1" --port-file "$work/port" --db "$work/relay.db" \
        --brand "$work/acme.pub" --log "$work/relay.log" &
    relay_pid=$!
    for ((i = 0; i < 150; i++)); do
        [ -s "$work/port" ] && break
        sleep 0.1
    done
    [ -s "$work/port" ] || fail "relay did not start"
    port=$(cat "$work/port")
}

# ---- the brand: keys, certificates, directory ----
K=(--kdf interactive --passphrase-env E2E_PASS)
"$keys_bin" brand init --brand-id acme --out "$work/acme.key" "${K[@]}" >/dev/null ||
    fail "brand init"
"$keys_bin" agent request --agent-id alice --name "Alice Martin" --key "$work/alice.key" \
    --out "$work/alice.req" "${K[@]}" >/dev/null || fail "agent request alice"
"$keys_bin" agent request --agent-id bob --name "Bob Lefèvre" --key "$work/bob.key" \
    --out "$work/bob.req" "${K[@]}" >/dev/null || fail "agent request bob"
for a in alice bob; do
    "$keys_bin" brand sign "$work/$a.req" --key "$work/acme.key" --out "$work/$a.cert" \
        --passphrase-env E2E_PASS >/dev/null || fail "brand sign $a"
done
echo "Acme keeps this conversation to answer you." > "$work/notice.txt"
"$keys_bin" brand directory --key "$work/acme.key" --out "$work/acme.dir" \
    --notice "$work/notice.txt" --notice-version 1 --purpose support \
    --queue support=alice,bob --passphrase-env E2E_PASS \
    "$work/alice.cert" "$work/bob.cert" >/dev/null || fail "brand directory"

start_relay 0
url="ws://127.0.0.1:$port/"
echo "relay on port $port"

agent_cmd() { # agent_cmd NAME EXTRA...: the command line of one agent
    local n=$1
    shift
    printf '%q ' env LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=tmux-256color E2E_PASS="$E2E_PASS" \
        "$agent_bin" --relay "$url" --brand "$work/acme.client" --key "$work/$n.key" \
        --cert "$work/$n.cert" --store "$work/$n.db" --kdf interactive "$@"
    printf '2>%q' "$work/$n.err"
}

# Alice runs with umask 000: her /export must still be private to her (0600).
tmux -L "$sock" -f /dev/null new-session -d -x 100 -y 30 -s e2e -n alice \
    "umask 000; $(agent_cmd alice --directory "$work/acme.dir" --passphrase-env E2E_PASS)" ||
    fail "tmux"
tmux -L "$sock" set-option -g remain-on-exit on >/dev/null
# Bob types his passphrase: a wrong one first.
tmux -L "$sock" new-window -d -t e2e -n bob "$(agent_cmd bob)"

wait_screen bob "Passphrase"
type_line bob "not my passphrase"
wait_screen bob "Wrong passphrase. 2 tries left."
type_line bob "$E2E_PASS"
wait_screen alice "connected"
wait_screen bob "connected"
capture 01-alice-start alice

# ---- commands that only answer on the status bar ----
type_line alice "/frobnicate"
wait_screen alice "unknown command /frobnicate"
type_line alice "/transfer"
wait_screen alice "usage: /transfer AGENT"
type_line alice "/help"
wait_screen alice "/verify"
tmux -L "$sock" send-keys -t e2e:alice Escape
type_line alice "/canned add hello Bonjour, je m'occupe de votre demande."
wait_screen alice 'saved reply "hello"'

# ---- a customer arrives ----
"$customer_bin" "$url" "$work/acme.client" "$work/customer.db" \
    "open:support:Bonjour, ma commande n'est pas arrivée 📦" \
    "expect:je m'occupe" "typing" "pause:1500" "say:Merci 🙏 commande 4471, שלום" \
    "special:health" "say:Je suis diabétique, livrez au rez-de-chaussée svp" \
    "expect:still here" "agent:bob" "expect:Bob ici" "say:Super, merci Bob" "closed" \
    > "$work/customer.out" 2>&1 &
customer_pid=$!

wait_screen alice "QUEUED 1"
wait_screen alice "ma commande n'est pas arrivée"
wait_screen alice "/claim to take it"
wait_screen bob "QUEUED 1"
capture 02-alice-queued alice

type_line alice "/claim"
wait_screen alice "MINE 1"
wait_screen bob "taken by"
tmux -L "$sock" send-keys -t e2e:alice -l "/canned hello"
tmux -L "$sock" send-keys -t e2e:alice Enter
wait_screen alice "> Bonjour, je m'occupe de votre demande."
tmux -L "$sock" send-keys -t e2e:alice Enter
wait_file "$work/customer.out" "message from Alice Martin: Bonjour, je m'occupe"
wait_screen alice "customer is typing"
wait_screen alice "Merci 🙏 commande 4471"
# The customer's explicit consent to health data (art. 9): a marker in the header.
wait_screen alice "Je suis diabétique"
wait_screen alice "consent: support; art. 9 consent: health"
wait_screen alice "✓✓"
capture 03-alice-talking alice

type_line alice "/verify"
wait_screen alice "customer fingerprint:"
wait_screen alice "verified ✓"

# ---- the sensitive-data guard: a card number waits for a second Enter ----
card_line="Votre carte 4970 1012 3456 7893 est bien enregistrée"
type_line alice "$card_line"
wait_screen alice "sensitive: card — Enter again to send, Esc to edit"
wait_screen alice "> $card_line"
capture 03b-alice-guard alice
# An edit drops the confirmation: the next Enter warns again.
tmux -L "$sock" send-keys -t e2e:alice -l "x"
wait_screen alice "> ${card_line}x" # the edit is on screen, and with it the status bar
screen alice | grep -qF "sensitive: card" && fail "the warning outlived an edit"
tmux -L "$sock" send-keys -t e2e:alice BSpace
tmux -L "$sock" send-keys -t e2e:alice Enter
wait_screen alice "sensitive: card — Enter again to send, Esc to edit"
sleep 0.5
grep -qF "4970 1012" "$work/customer.out" && fail "sent before the second Enter"
tmux -L "$sock" send-keys -t e2e:alice Enter
wait_file "$work/customer.out" "message from Alice Martin: $card_line"
wait_screen alice "> "
screen alice | grep -qF "> Votre carte" && fail "the input line kept a sent message"

# ---- the relay goes away; a message typed meanwhile waits in the outbox ----
kill "$relay_pid"
wait "$relay_pid" 2>/dev/null
relay_pid=
wait_screen alice "reconnecting in"
type_line alice "Are you still here? (typed while offline)"
wait_screen alice "(typed while offline) …"
wait_screen alice "│ outbox "
capture 04-alice-offline alice
start_relay "$port"
wait_screen alice "connected" 40
wait_file "$work/customer.out" "message from Alice Martin: Are you still here?" 40

# ---- search, transfer, the colleague answers and closes ----
type_line alice "/search commande"
wait_screen alice "Search \"commande\": 2 matches"
tmux -L "$sock" send-keys -t e2e:alice Escape
type_line alice "/export $work/export.json"
wait_screen alice "exported #"
grep -q '"signature_valid":true' "$work/export.json" || fail "/export: no verified consent receipt"
grep -q 'Merci' "$work/export.json" || fail "/export: the customer's message is missing"
grep -q '"special_consents":\[{"categories":\["health"\]' "$work/export.json" ||
    fail "/export: no consent to special categories"
mode=$(stat -c %a "$work/export.json")
[ "$mode" = 600 ] || fail "/export: mode $mode under umask 000, not 600"
type_line alice "/export $work/export.json"
wait_screen alice "/export: the file already exists ("
type_line alice "/export --customer $work/customer-export.json"
wait_screen alice "exported the customer of #"
grep -q '"format":"parley-customer-export-v1"' "$work/customer-export.json" ||
  fail "/export --customer: not a customer export"
grep -q 'Merci' "$work/customer-export.json" || fail "/export --customer: the message is missing"
grep -q '"processing":{"controller":' "$work/customer-export.json" ||
  fail "/export --customer: no purposes, recipients, retention and source"
mode=$(stat -c %a "$work/customer-export.json")
[ "$mode" = 600 ] || fail "/export --customer: mode $mode under umask 000, not 600"
type_line alice "/transfer carol"
wait_screen alice 'no valid agent "carol"'
type_line alice "/transfer bob"
wait_screen alice "TRANSFERRED 1"
wait_file "$work/customer.out" "state 2 agent bob"
wait_screen bob "MINE 1"
wait_screen bob "Merci 🙏 commande 4471"
wait_screen bob "art. 9 consent: health" # handed over with the conversation, verified
type_line alice "too late"
wait_screen alice "transferred: no longer yours"
type_line bob "Bob ici, votre colis est parti ce matin."
wait_file "$work/customer.out" "message from Bob Lefèvre: Bob ici"
wait_screen bob "Super, merci Bob"
capture 05-bob-talking bob
type_line bob "/close"
wait_screen bob "CLOSED 1"
wait_file "$work/customer.out" "DONE"
wait "$customer_pid" || fail "customer script failed"
grep -qE "^(rejected|relay error)" "$work/customer.out" && fail "the customer saw a rejected envelope or a relay error"
customer_pid=
capture 06-bob-closed bob

# ---- resize keeps the screen whole; /quit leaves ----
tmux -L "$sock" resize-window -t e2e:alice -x 80 -y 24 2>/dev/null
wait_screen alice "TRANSFERRED 1"
capture 07-alice-80x24 alice
[ "$(screen alice | wc -L)" -le 80 ] || fail "a line is wider than 80 columns"
[ "$(screen alice | wc -l)" -le 24 ] || fail "more than 24 lines"
type_line alice "/quit"
type_line bob "/quit"
for ((i = 0; i < 100; i++)); do
    dead=$(tmux -L "$sock" list-panes -a -F '#{pane_dead}' 2>/dev/null | grep -c 1)
    [ "$dead" = 2 ] && break
    sleep 0.1
done
[ "$dead" = 2 ] || fail "parley-agent did not quit"

# ---- the access log: verified by parley-audit, ids only ----
"$audit_bin" verify "$work/alice.db.access" > "$work/access.out" 2>&1 ||
  { cat "$work/access.out" >&2; fail "alice's access log does not verify"; }
for ev in viewed searched exported; do
  grep -q "\"event\":\"$ev\",\"agent\":\"alice\"" "$work/alice.db.access" ||
    fail "access log: no $ev entry"
done
if grep -qiE "commande|Merci|Alice Martin" "$work/alice.db.access"; then
  fail "the access log holds a search term, a text or a name"
fi
echo "ok"
