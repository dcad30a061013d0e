# Sourced by bench/relay/run.sh and bench/relay/profile.sh: installing and
# building what they run, starting and stopping one server at a time.
# Expects ROOT (the source tree), HERE (bench/relay), BUILD (the build
# directory) and USE_RT (1: real-time priority wanted) to be set.

log() { printf '%s\n' "$*" >&2; }

# The servers compared, installed as packages, never run as system services.
install_deps() {
    "$HERE/deps.sh" "$@"
    PATH=$PATH:/usr/sbin # nats-server
    if [ -s /run/mosquitto/mosquitto.pid ] && kill -0 "$(cat /run/mosquitto/mosquitto.pid)" 2>/dev/null; then
        log "stopping the mosquitto system service"
        service mosquitto stop >&2 2>/dev/null || kill "$(cat /run/mosquitto/mosquitto.pid)" || true
    fi
}

# Release build, warnings are errors.
build_loadgen() {
    if [ ! -f "$BUILD/build.ninja" ]; then
        meson setup "$BUILD" "$ROOT" -Dbuildtype=release >&2
    fi
    ninja -C "$BUILD" bench/relay/parley-loadgen >&2
    LOADGEN=$BUILD/bench/relay/parley-loadgen
}

build_relay() {
    RELAY=$BUILD/relay/parley-relay
    ninja -C "$BUILD" relay/parley-relay >&2
}

# setup_limits N: at least N open files, or exit.
setup_limits() {
    ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
    if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$1" ]; then
        log "$(basename "$0"): the open-files limit ($(ulimit -n)) is too low ($1 needed)"
        exit 1
    fi
}

# RT: the command prefix that gives servers and generator the same
# real-time priority (empty with USE_RT=0 or when not permitted).
setup_priority() {
    RT=()
    if [ "$USE_RT" = 1 ]; then
        if chrt -r 10 true 2>/dev/null; then
            RT=(chrt -r 10)
        else
            log "chrt -r 10 is not permitted: running at normal priority"
            USE_RT=0
        fi
    fi
}

# TMP: a temporary directory removed at exit, with whatever server runs.
make_tmp() {
    RELAY_WRAP=()
    TMP=$(mktemp -d /tmp/parley-benchrelay.XXXXXX)
    STORE="" # data directory of the running server
    SERVER_PID=""
    trap cleanup EXIT
    trap 'exit 130' INT TERM
}

stop_server() {
    [ -n "$SERVER_PID" ] || return 0
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 100); do
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
    if [ -n "$STORE" ]; then rm -rf "$STORE"; STORE=""; fi
}

cleanup() { stop_server; rm -rf "$TMP"; }

listening() {
    if command -v ss >/dev/null; then
        [ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]
    else
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
    fi
}

free_port() {
    local p
    for _ in $(seq 200); do
        p=$((20000 + RANDOM % 12000))
        if ! listening "$p"; then echo "$p"; return 0; fi
    done
    return 1
}

# Waits until the server listens on $1 (or dies). 0 when ready.
wait_listening() {
    for _ in $(seq 100); do
        kill -0 "$SERVER_PID" 2>/dev/null || return 1
        listening "$1" && return 0
        sleep 0.1
    done
    return 1
}

# start_server SYSTEM TAG: starts SYSTEM on CPU 0 with a fresh data directory
# (STORE) and its log in $TMP/SYSTEM-TAG.log; sets SERVER_PID and WS_PORT.
# 0 once it listens.
start_server() {
    local system=$1 tag=$2 log=$TMP/$1-$2.log conf=$TMP/$1.conf port
    STORE=$TMP/data-$system-$tag
    mkdir -p "$STORE"
    case "$system" in
    nats | jetstream)
        port=$(free_port); WS_PORT=$(free_port)
        sed -e "s/@CLIENT_PORT@/$port/" -e "s/@WS_PORT@/$WS_PORT/" "$HERE/nats.conf" >"$conf"
        if [ "$system" = jetstream ]; then
            sed -e "s|@STORE_DIR@|$STORE|" "$HERE/jetstream.conf" >>"$conf"
        fi
        "${RT[@]}" taskset -c 0 nats-server -c "$conf" >"$log" 2>&1 &
        ;;
    mosquitto | mosquitto-qos1)
        port=$(free_port); WS_PORT=$(free_port)
        sed -e "s/@MQTT_PORT@/$port/" -e "s/@WS_PORT@/$WS_PORT/" "$HERE/mosquitto.conf" >"$conf"
        if [ "$system" = mosquitto-qos1 ]; then
            sed -e "s|@STORE_DIR@|$STORE|" -e "s|@USER@|$(id -un)|" "$HERE/mosquitto-qos1.conf" >>"$conf"
        fi
        "${RT[@]}" taskset -c 0 mosquitto -c "$conf" >"$log" 2>&1 &
        ;;
    parley)
        start_parley "$log"
        return
        ;;
    *)
        log "start_server: unknown system $system"
        return 1
        ;;
    esac
    SERVER_PID=$!
    wait_listening "$WS_PORT"
}

# The benchmark's limits are raised so that only capacity limits the relay.
# RELAY_WRAP, when set, is a command the relay runs under (a profiler).
start_parley() {
    rm -f "$TMP/relay.port"
    "${RT[@]}" taskset -c 0 "${RELAY_WRAP[@]}" "$RELAY" --listen 127.0.0.1 --port 0 \
        --port-file "$TMP/relay.port" --db "$STORE/relay.db" --max-conn-per-ip 20000 \
        --rate 1000000 --burst 1000000 --quota-count 1000000 --sender-count 0 --sender-bytes 0 \
        >"$1" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 600); do
        kill -0 "$SERVER_PID" 2>/dev/null || return 1
        if [ -s "$TMP/relay.port" ]; then
            WS_PORT=$(cat "$TMP/relay.port")
            return 0
        fi
        sleep 0.1
    done
    return 1
}

# parley-loadgen's --proto for a system.
proto_of() {
    case "$1" in
    mosquitto) echo mqtt ;;
    mosquitto-qos1) echo mqtt-qos1 ;;
    *) echo "$1" ;;
    esac
}
