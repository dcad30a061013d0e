#!/usr/bin/env bash
# The browser widget's figures, written to docs/performance.md ("## Browser
# widget"): time from the loader's arrival to an interactive panel and what
# a first visit transfers (bench/widget/load.mjs), the page's memory with a
# 1,000-message conversation in the panel (bench/widget/memory.mjs), and
# the engine's measurements
# (tests/widget/widget_bench.mjs: module size, seal and open in Chromium
# beside native, session start).
#   bench/widget/run.sh [BUILD_DIR [RUNS]]   (after scripts/test.sh BUILD_DIR)
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/section.sh
build=${1:-build}
runs=${2:-7}
web=$build/wasm/widget/ui/web
[ -f "$web/parley-widget.js" ] || { echo "run.sh: no widget in $web: run scripts/test.sh $build first" >&2; exit 1; }

load=$(node bench/widget/load.mjs "$web" "$build" "$runs" | grep -v '^bench: ok')
memory=$(node bench/widget/memory.mjs "$web" "$build" 1000 "$runs" | grep -v '^memory: ok')
engine=$(node tests/widget/widget_bench.mjs "$build" | sed 's/^## /### /')

section=$(mktemp)
trap 'rm -f "$section"' EXIT
{
  echo "## Browser widget"
  echo
  echo "Measured $(date -u +%Y-%m-%d) on commit $(git rev-parse --short HEAD), $(nproc) cores"
  echo "($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), Debian's Chromium $(/usr/bin/chromium --version 2>/dev/null | awk '{print $2}') headless."
  echo "The machine is shared with other builds and tests (load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "at the end of the run): read these figures as an order of magnitude, and compare"
  echo "lines of one run with each other only."
  echo "Command: \`bench/widget/run.sh $build $runs\`."
  echo
  echo "### From the loader's arrival to an interactive panel"
  echo
  echo "The brand's page on one origin, the widget from parley-relay --web-root on"
  echo "another, both on loopback; times on the page's clock from navigation start."
  echo "The panel is ready when the notice (first visit) or the conversation"
  echo "(returning customer: the engine unlocks the stored installation, Argon2id)"
  echo "is drawn and answers. Medians of $runs page loads each."
  echo
  echo "$load"
  echo
  echo "### The page with a 1,000-message conversation"
  echo
  echo "The brand's page and the panel as above, 500 messages typed in the panel and"
  echo "500 answers of the echo agent, all shown; after a garbage collection, medians of"
  echo "$runs readings each. The page and the panel share one renderer process (both"
  echo "from 127.0.0.1); its anonymous resident memory is its own (the module's linear"
  echo "memory, 64 MiB of it for Argon2id, among it), the rest mostly Chromium's code."
  echo
  echo "$memory"
  echo
  echo "$engine"
} > "$section"
write_section docs/performance.md "## Browser widget" "$section"
