#!/usr/bin/env bash
# Installs the Debian 12 packages the relay benchmark needs beyond Parley's
# own, with Parley's (scripts/deps.sh), only those missing.
#
# Usage: bench/relay/deps.sh [--profile]
#   the peers the relay is compared with: nats-server (core NATS and
#   JetStream) and mosquitto;
#   --profile  also what bench/relay/profile.sh records with: perf
#              (linux-perf) and valgrind (callgrind, where perf cannot run)
# The packages are installed, never started as system services by the
# benchmark.
set -euo pipefail

packages=(nats-server mosquitto)
if [ "${1:-}" = --profile ]; then
    packages+=(linux-perf valgrind)
elif [ $# -gt 0 ]; then
    echo "deps.sh: unknown option $1" >&2
    exit 2
fi
exec "$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/scripts/deps.sh" "${packages[@]}"
