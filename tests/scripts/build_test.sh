#!/usr/bin/env bash
# scripts/build.sh on a small meson project of its own (a copy of the
# script beside a deps.sh that installs nothing), so its handling of a build directory is
# checked without building Parley: the first run sets the directory up
# with warnings as errors and the arguments given; a later run with other
# arguments applies them to the existing directory; a run without
# arguments keeps what the directory has; a directory set up by hand gets
# warnings as errors. Usage: build_test.sh scripts/build.sh
set -euo pipefail
script=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

mkdir -p "$work/scripts"
cp "$script" "$work/scripts/build.sh"
printf '#!/bin/sh\nexit 0\n' >"$work/scripts/deps.sh"
chmod +x "$work/scripts/deps.sh" "$work/scripts/build.sh"
cat >"$work/meson.build" <<'MESON'
project('t', 'c')
configure_file(output: 'options.txt', configuration: {
  'werror': get_option('werror').to_string(), 'flavour': get_option('flavour') })
executable('t', 'main.c')
MESON
echo "option('flavour', type: 'string', value: 'plain')" >"$work/meson_options.txt"
echo 'int main(void) { return 0; }' >"$work/main.c"

# The options a build directory holds, as meson configure reports them.
opt() { meson configure "$work/$1" | awk -v o="$2" '$1 == o { print $2; exit }'; }

"$work/scripts/build.sh" b -Dflavour=salt
[ -x "$work/b/t" ] || fail "first run built nothing"
[ "$(opt b werror)" = true ] || fail "first run: werror is $(opt b werror)"
[ "$(opt b flavour)" = salt ] || fail "first run: flavour is $(opt b flavour)"

"$work/scripts/build.sh" b -Dflavour=pepper
[ "$(opt b flavour)" = pepper ] || fail "new arguments not applied: flavour is $(opt b flavour)"
[ "$(opt b werror)" = true ] || fail "reconfigured without werror"

"$work/scripts/build.sh" b
[ "$(opt b flavour)" = pepper ] || fail "a run without arguments reset flavour to $(opt b flavour)"

"$work/scripts/build.sh" b -Dbuildtype=release
[ "$(opt b buildtype)" = release ] || fail "buildtype not applied"
[ "$(opt b flavour)" = pepper ] || fail "an option not named lost its value"

(cd "$work" && meson setup byhand -Dflavour=salt >/dev/null)
"$work/scripts/build.sh" byhand
[ "$(opt byhand werror)" = true ] || fail "a directory set up by hand kept werror off"
[ "$(opt byhand flavour)" = salt ] || fail "a directory set up by hand lost its options"
echo "scripts/build.sh: ok"
