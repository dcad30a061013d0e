#!/usr/bin/env bash
# The relay's NATS client settings (docs/operations.md, "A relay cluster on
# NATS JetStream"): against a nats-server that wants TLS with a client
# certificate and a user with a password, one that wants a token, one that
# knows its user by an NKey, and one in operator mode (JWT accounts, with
# JetStream) that wants a .creds file, the relay connects with the right
# settings (its /healthz answers "ok") and, with wrong or missing ones,
# refuses to start, naming what NATS said. Certificates come from openssl,
# NKeys and JWTs from nkey-make, made here for the test.
# Usage: relay_nats_auth.sh NATS_SERVER PARLEY_RELAY NKEY_MAKE
set -euo pipefail
nats_server=$1 relay=$2 nkey_make=$3
[ -x "$nats_server" ] || { echo "nats-server cannot run here: skipped"; exit 77; }
command -v openssl >/dev/null || { echo "openssl cannot run here: skipped"; exit 77; }
dir=$(mktemp -d /tmp/parley-nats-auth.XXXXXX)
pids=()
stop() {
    local pid
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$dir"
}
trap stop EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

free_ports() {
    python3 -c 'import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])'
}

# cert NAME CA: a key and a certificate for 127.0.0.1 signed by CA (none: a CA itself).
cert() {
    local name=$1 ca=${2:-}
    openssl req -new -newkey rsa:2048 -nodes -keyout "$dir/$name.key" -out "$dir/$name.csr" \
        -subj "/CN=$name" >/dev/null 2>&1
    if [ -z "$ca" ]; then
        openssl x509 -req -in "$dir/$name.csr" -signkey "$dir/$name.key" -days 2 \
            -extfile <(printf 'basicConstraints=critical,CA:true\nkeyUsage=keyCertSign\n') \
            -out "$dir/$name.pem" >/dev/null 2>&1
    else
        openssl x509 -req -in "$dir/$name.csr" -CA "$dir/$ca.pem" -CAkey "$dir/$ca.key" \
            -CAcreateserial -days 2 -out "$dir/$name.pem" \
            -extfile <(printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n') \
            >/dev/null 2>&1
    fi
}
cert ca
cert other-ca
cert server ca
cert client ca
cert stranger other-ca

# start_nats NAME CONF-BODY: a JetStream server on free ports; sets PORT.
start_nats() {
    local name=$1 body=$2 http
    read -r PORT http <<<"$(free_ports)"
    cat >"$dir/$name.conf" <<EOF
host: 127.0.0.1
port: $PORT
http: 127.0.0.1:$http
jetstream { store_dir: "$dir/$name-js" }
$body
EOF
    "$nats_server" -c "$dir/$name.conf" >"$dir/$name.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 300); do
        curl -sf -o /dev/null --max-time 1 "http://127.0.0.1:$http/healthz" && return 0
        sleep 0.1
    done
    echo "nats-server $name did not start:"; cat "$dir/$name.log"; exit 1
}

start_nats tls "tls {
  cert_file: \"$dir/server.pem\"
  key_file: \"$dir/server.key\"
  ca_file: \"$dir/ca.pem\"
  verify: true
}
authorization { users = [ { user: relay, password: \"right-password\" } ] }"
TLS_PORT=$PORT
start_nats token 'authorization { token: "right-token" }'
TOKEN_PORT=$PORT
nkey_pub=$("$nkey_make" nkey "$dir/relay.nk")
"$nkey_make" nkey "$dir/stranger.nk" >/dev/null
chmod 600 "$dir/relay.nk" "$dir/stranger.nk"
start_nats nkey "authorization { users = [ { nkey: $nkey_pub } ] }"
NKEY_PORT=$PORT
mkdir "$dir/jwt" "$dir/other-jwt"
"$nkey_make" jwt "$dir/jwt"
"$nkey_make" jwt "$dir/other-jwt"
chmod 600 "$dir/jwt/relay.creds" "$dir/other-jwt/relay.creds"
start_nats jwt 'include "jwt/resolver.conf"'
JWT_PORT=$PORT

# connects NAME PORT ARGS...: the relay starts on that server and answers /healthz "ok".
connects() {
    local name=$1 port=$2 pid
    shift 2
    "$relay" --listen 127.0.0.1 --port 0 --port-file "$dir/$name.port" \
        --store "nats://127.0.0.1:$port/$name" --audit-log "$dir/$name.audit" "$@" \
        >"$dir/$name.out" 2>&1 &
    pid=$!
    for _ in $(seq 300); do
        [ -s "$dir/$name.port" ] || { kill -0 "$pid" 2>/dev/null && sleep 0.1 && continue; break; }
        if [ "$(curl -s --max-time 2 "http://127.0.0.1:$(cat "$dir/$name.port")/healthz")" = ok ]; then
            echo "ok $name: connected"
            kill -TERM "$pid"
            wait "$pid" || true
            return 0
        fi
        sleep 0.1
    done
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    fail "$name: the relay did not come up"
    sed 's/^/    /' "$dir/$name.out"
}

# refused NAME PORT PATTERN ARGS...: the relay exits non-zero (WANT_STATUS, when set), its
# stderr matching PATTERN.
refused() {
    local name=$1 port=$2 pattern=$3 status=0
    shift 3
    timeout 30 "$relay" --listen 127.0.0.1 --port 0 --store "nats://127.0.0.1:$port/$name" \
        --audit-log "$dir/$name.audit" "$@" >"$dir/$name.out" 2>&1 || status=$?
    if [ "$status" = 0 ] || [ "$status" = 124 ]; then
        fail "$name: the relay did not refuse (status $status)"
    elif [ -n "${WANT_STATUS:-}" ] && [ "$status" != "$WANT_STATUS" ]; then
        fail "$name: the relay exited $status, not $WANT_STATUS"
    elif ! grep -qiE "$pattern" "$dir/$name.out"; then
        fail "$name: the refusal does not say /$pattern/"
    else
        echo "ok $name: refused ($(grep -iE "$pattern" "$dir/$name.out" | head -n 1))"
        return 0
    fi
    sed 's/^/    /' "$dir/$name.out"
}

good=(--nats-tls-ca "$dir/ca.pem" --nats-tls-cert "$dir/client.pem"
      --nats-tls-key "$dir/client.key")
connects tls_user "$TLS_PORT" "${good[@]}" --nats-user relay --nats-password right-password
refused wrong_password "$TLS_PORT" "store.*authorization violation" "${good[@]}" \
    --nats-user relay --nats-password wrong-password
refused no_user "$TLS_PORT" "store.*authorization violation" "${good[@]}"
refused no_tls "$TLS_PORT" "store.*SSL handshake error.*local issuer" \
    --nats-user relay --nats-password right-password
refused no_client_cert "$TLS_PORT" "store.*closed the connection.*client certificate" \
    --nats-tls-ca "$dir/ca.pem" --nats-user relay --nats-password right-password
refused wrong_ca "$TLS_PORT" "store.*SSL handshake error.*local issuer" \
    --nats-tls-ca "$dir/other-ca.pem" --nats-tls-cert "$dir/client.pem" \
    --nats-tls-key "$dir/client.key" --nats-user relay --nats-password right-password
refused stranger_cert "$TLS_PORT" "store.*closed the connection.*client certificate" \
    --nats-tls-ca "$dir/ca.pem" --nats-tls-cert "$dir/stranger.pem" \
    --nats-tls-key "$dir/stranger.key" --nats-user relay --nats-password right-password
refused missing_ca_file "$TLS_PORT" "store.*$dir/none.pem: no such file" \
    --nats-tls-ca "$dir/none.pem"

connects token "$TOKEN_PORT" --nats-token right-token
refused wrong_token "$TOKEN_PORT" "store.*authorization violation" --nats-token wrong-token
refused no_token "$TOKEN_PORT" "store.*authorization violation"

connects nkey "$NKEY_PORT" --nats-nkey "$dir/relay.nk"
refused wrong_nkey "$NKEY_PORT" "store.*authorization violation" --nats-nkey "$dir/stranger.nk"
refused no_nkey "$NKEY_PORT" "store.*authorization violation"
refused missing_nkey_file "$NKEY_PORT" "store.*nats-nkey $dir/none.nk: no such file" \
    --nats-nkey "$dir/none.nk"
install -m 600 "$dir/ca.pem" "$dir/not-a-seed.pem"
refused nkey_not_a_seed "$NKEY_PORT" "store.*nats-nkey $dir/not-a-seed.pem: no user seed" \
    --nats-nkey "$dir/not-a-seed.pem"
# Secret files: only the owner may read or write them, regular files only, a key's size at most.
install -m 644 "$dir/relay.nk" "$dir/open.nk"
WANT_STATUS=1 refused nkey_mode_0644 "$NKEY_PORT" \
    "store.*nats-nkey $dir/open.nk: mode 0644 lets its group or others read or write it.*chmod 600" \
    --nats-nkey "$dir/open.nk"
install -m 640 "$dir/relay.nk" "$dir/group.nk"
WANT_STATUS=1 refused nkey_mode_0640 "$NKEY_PORT" "store.*nats-nkey $dir/group.nk: mode 0640 lets its group" \
    --nats-nkey "$dir/group.nk"
WANT_STATUS=1 refused nkey_dev_zero "$NKEY_PORT" "store.*nats-nkey /dev/zero: not a regular file" \
    --nats-nkey /dev/zero
head -c 9000 /dev/zero | tr '\0' A >"$dir/big.nk"
chmod 600 "$dir/big.nk"
WANT_STATUS=1 refused nkey_too_large "$NKEY_PORT" "store.*nats-nkey $dir/big.nk: larger than a key file" \
    --nats-nkey "$dir/big.nk"

connects creds "$JWT_PORT" --nats-creds "$dir/jwt/relay.creds"
refused other_operator_creds "$JWT_PORT" "store.*authorization violation" \
    --nats-creds "$dir/other-jwt/relay.creds"
refused no_creds "$JWT_PORT" "store.*authorization violation"
refused missing_creds_file "$JWT_PORT" "store.*nats-creds $dir/none.creds: no such file" \
    --nats-creds "$dir/none.creds"
refused creds_without_jwt "$JWT_PORT" "store.*nats-creds $dir/relay.nk: no user JWT" \
    --nats-creds "$dir/relay.nk"
install -m 644 "$dir/jwt/relay.creds" "$dir/open.creds"
WANT_STATUS=1 refused creds_mode_0644 "$JWT_PORT" \
    "store.*nats-creds $dir/open.creds: mode 0644 lets its group or others read or write it" \
    --nats-creds "$dir/open.creds"
WANT_STATUS=1 refused creds_dev_zero "$JWT_PORT" "store.*nats-creds /dev/zero: not a regular file" \
    --nats-creds /dev/zero

# Settings that cannot go together, refused before anything is opened.
refused user_alone "$TOKEN_PORT" "nats-user and nats-password go together" --nats-user relay
refused user_and_token "$TOKEN_PORT" "one of nats-user, nats-token, nats-creds and nats-nkey" \
    --nats-token t --nats-user relay --nats-password p
refused creds_and_nkey "$TOKEN_PORT" "one of nats-user, nats-token, nats-creds and nats-nkey" \
    --nats-creds "$dir/jwt/relay.creds" --nats-nkey "$dir/relay.nk"
refused cert_alone "$TOKEN_PORT" "nats-tls-cert and nats-tls-key go together" \
    --nats-tls-cert "$dir/client.pem"
status=0
"$relay" --store "sqlite:$dir/relay.db" --nats-token t >"$dir/sqlite.out" 2>&1 || status=$?
if [ "$status" != 0 ] && grep -q "nats-\* settings are for a nats:// store" "$dir/sqlite.out"; then
    echo "ok sqlite_with_nats_settings: refused"
else
    fail "sqlite_with_nats_settings: status $status"
    sed 's/^/    /' "$dir/sqlite.out"
fi

# Nothing secret in what the relay printed: passwords, tokens, seeds.
grep -h '^SU' "$dir"/*.nk "$dir"/jwt/relay.creds >"$dir/secrets"
printf 'right-password\nright-token\n' >>"$dir/secrets"
if grep -l -F -f "$dir/secrets" "$dir"/*.out >/dev/null 2>&1; then
    fail "a secret appears in the relay's output"
fi
[ "$failures" = 0 ] || { echo "$failures case(s) failed"; exit 1; }
echo "all cases passed"
