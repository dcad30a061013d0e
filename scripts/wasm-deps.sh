#!/usr/bin/env bash
# Builds libsodium, protobuf-c and libstemmer for wasm32 from Debian's own
# source packages, the same versions as the native -dev packages, and writes
# DIR/deps.ini, the part of the meson cross file that says where they are
# and how to run a wasm program under Node.
#   scripts/wasm-deps.sh DIR      (scripts/wasm-build.sh uses BUILD/wasm-deps)
# Each library is cached in DIR under its Debian version and a hash of its
# build recipe and of the emscripten version, and rebuilt only when that
# directory is missing. The sources come through a private apt source list
# under DIR/apt; the system's apt configuration is never touched.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
mkdir -p "$1"
out=$(cd "$1" && pwd)

"$root/scripts/deps.sh" wasm

# emcc runs its JavaScript optimiser under the node on PATH; a node that is
# not Debian's does not look in /usr/share/nodejs, where acorn is.
export NODE_PATH=/usr/share/nodejs${NODE_PATH:+:$NODE_PATH}
node=$(command -v node)
emcc_version=$(emcc -dumpversion)
jobs=$(nproc)

exec 9>"$out/lock"
flock 9

# --- Debian source packages through a private source list ---------------
apt_dir=$out/apt
apt_opts=(
  -o Dir::Etc::SourceList="$apt_dir/src.list" -o Dir::Etc::SourceParts=/dev/null
  -o Dir::State::Lists="$apt_dir/lists" -o Dir::Cache="$apt_dir/cache"
  -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=
)
# As root apt hands downloads to the _apt user, who cannot write here.
[ "$(id -u)" -ne 0 ] || apt_opts+=(-o APT::Sandbox::User=root)

# deb-src lines for the Debian mirrors and suites the system already uses.
source_list() {
  local f=/etc/apt/sources.list.d/debian.sources
  if [ -f "$f" ]; then
    awk '
      function flush(  u, s, i, j) {
        if (uris != "" && suites != "" && types ~ /deb/) {
          split(uris, u, " "); split(suites, s, " ")
          for (i in u) for (j in s)
            printf "deb-src [signed-by=%s] %s %s %s\n", key, u[i], s[j], comps
        }
        types = uris = suites = comps = ""
        key = "/usr/share/keyrings/debian-archive-keyring.gpg"
      }
      BEGIN { flush() }
      /^[ \t]*$/ { flush(); next }
      function rest() { sub(/^[^:]*:[ \t]*/, ""); return $0 }
      /^Types:/ { types = rest() }
      /^URIs:/ { uris = rest() }
      /^Suites:/ { suites = rest() }
      /^Components:/ { comps = rest() }
      /^Signed-By:/ { key = $2 }
      END { flush() }' "$f"
  fi
  if [ -f /etc/apt/sources.list ]; then
    sed -n 's/^deb \(.*debian.*\)$/deb-src \1/p' /etc/apt/sources.list
  fi
}

apt_update() {
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
  source_list > "$apt_dir/src.list"
  [ -s "$apt_dir/src.list" ] || { echo "wasm-deps.sh: no Debian mirror in /etc/apt" >&2; exit 1; }
  apt-get -qq "${apt_opts[@]}" update
}

# fetch PKG VERSION WORKDIR: the Debian source package, patches applied, in WORKDIR/src.
fetch() {
  local pkg=$1 version=$2 work=$3
  mkdir -p "$apt_dir/src"
  if [ ! -f "$apt_dir/src.list" ] ||
    ! (cd "$apt_dir/src" && apt-get -qq "${apt_opts[@]}" source --download-only "$pkg=$version"); then
    apt_update
    (cd "$apt_dir/src" && apt-get -qq "${apt_opts[@]}" source --download-only "$pkg=$version")
  fi
  rm -rf "$work"
  mkdir -p "$work"
  dpkg-source -x "$apt_dir/src/${pkg}_${version#*:}.dsc" "$work/src"
}

# --- build recipes: run in the unpacked source, install into $1 ---------
build_libsodium() {
  ./autogen.sh -s
  emconfigure ./configure --host=wasm32-unknown-emscripten --disable-shared --enable-static \
    --disable-asm --disable-ssp --disable-pie --without-pthreads --prefix="$1"
  emmake make -j"$jobs"
  emmake make install
}

build_protobuf_c() {
  # The runtime is one C file; the compiler (protoc-c) stays native.
  local version
  version=$(sed -n 's/^#define PROTOBUF_C_VERSION[ \t]*"\(.*\)"/\1/p' protobuf-c/protobuf-c.h)
  mkdir -p "$1/include/protobuf-c" "$1/lib/pkgconfig"
  emcc -O2 -Wall -c protobuf-c/protobuf-c.c -o protobuf-c.o
  emar rcs "$1/lib/libprotobuf-c.a" protobuf-c.o
  cp protobuf-c/protobuf-c.h "$1/include/protobuf-c/"
  cat > "$1/lib/pkgconfig/libprotobuf-c.pc" <<EOF
prefix=$1
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: libprotobuf-c
Description: Protocol Buffers C runtime library (wasm32)
Version: $version
Libs: -L\${libdir} -lprotobuf-c
Cflags: -I\${includedir}
EOF
}

build_libstemmer() {
  # The sensitive-data scanner stems English and French only (scan_stem.c):
  # the browser gets those two stemmers, generated from Debian's sources by
  # the snowball compiler (built natively here) as Debian's own are.
  local src objs=()
  printf '%s\n' 'english UTF_8 english,en,eng' 'french UTF_8 french,fr,fre,fra' \
    > libstemmer/modules.txt
  make -j"$jobs" snowball libstemmer/libstemmer.c libstemmer/modules.h \
    src_c/stem_UTF_8_english.c src_c/stem_UTF_8_french.c
  mkdir -p "$1/include" "$1/lib"
  for src in runtime/api.c runtime/utilities.c libstemmer/libstemmer.c \
    src_c/stem_UTF_8_english.c src_c/stem_UTF_8_french.c; do
    emcc -O2 -Iinclude -c "$src" -o "${src//\//_}.o"
    objs+=("${src//\//_}.o")
  done
  emar rcs "$1/lib/libstemmer.a" "${objs[@]}"
  cp include/libstemmer.h "$1/include/"
}

# cached NAME PKG DEVPKG: builds source package PKG at the version of the
# installed DEVPKG with build_NAME unless cached; prints the prefix.
cached() {
  local name=$1 pkg=$2 dev=$3 version key prefix start
  version=$(dpkg-query -W -f='${source:Version}' "$dev")
  key=$( (declare -f "build_$name"; echo "emcc $emcc_version") | sha256sum | cut -c1-12)
  prefix=$out/$name-${version//:/_}-$key
  if [ ! -f "$prefix/.complete" ]; then
    echo "wasm-deps.sh: building $pkg $version for wasm32" >&2
    start=$SECONDS
    rm -rf "$prefix"
    mkdir -p "$out/work"
    (fetch "$pkg" "$version" "$out/work/$name" &&
      cd "$out/work/$name/src" && "build_$name" "$prefix") > "$out/work/$name.log" 2>&1 || {
      tail -n 40 "$out/work/$name.log" >&2
      echo "wasm-deps.sh: building $pkg failed; full log: $out/work/$name.log" >&2
      exit 1
    }
    rm -rf "$out/work/$name"
    touch "$prefix/.complete"
    echo "wasm-deps.sh: $pkg $version built in $((SECONDS - start)) s" >&2
  fi
  # Older versions or recipes of this library are not needed any more.
  for old in "$out/$name"-*; do
    [ "$old" = "$prefix" ] || rm -rf "$old"
  done
  echo "$prefix"
}

sodium=$(cached libsodium libsodium libsodium-dev)
protobufc=$(cached protobuf_c protobuf-c libprotobuf-c-dev)
stemmer=$(cached libstemmer snowball libstemmer-dev)

# emscripten 3.1.6's Node glue loads the .wasm with fetch() when Node has
# one (Node >= 18), and fetch() does not take file paths.
wrapper="'$node'"
if [ "$("$node" -p 'process.versions.node.split(".")[0]')" -ge 18 ]; then
  wrapper="$wrapper, '--no-experimental-fetch'"
fi

# libsodium and protobuf-c are found through pkg-config, libstemmer (which
# has no .pc) through the compiler's search paths.
ini=$out/deps.ini
cat > "$ini.new" <<EOF
# Written by scripts/wasm-deps.sh; used after widget/wasm32-emscripten.ini.
[properties]
pkg_config_libdir = ['$sodium/lib/pkgconfig', '$protobufc/lib/pkgconfig']

[built-in options]
c_args = ['-I$stemmer/include']
c_link_args = test_link_args + ['-L$stemmer/lib']

[binaries]
exe_wrapper = [$wrapper]
EOF
if cmp -s "$ini.new" "$ini"; then rm "$ini.new"; else mv "$ini.new" "$ini"; fi
