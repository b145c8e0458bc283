#!/usr/bin/env bash
# The C ABI suite: builds libhealbot (debug), checks that the committed header
# healbot-ffi/include/healbot.h is what cbindgen generates now, stages an
# install (lib/, include/, lib/pkgconfig/healbot.pc) under target/healbot-c,
# checks the shared library's SONAME, then compiles tests/c/test_healbot.c with
# -std=c99 -Wall -Wextra -Werror against the shared library (through
# pkg-config) and the static one, and runs it under valgrind.
#
# Usage: scripts/test-c.sh           run the suite
#        scripts/test-c.sh --bless   regenerate the committed header first
# Needs Rust stable, gcc and valgrind (pkg-config when present); installs cbindgen into
# target/tools itself.
set -euo pipefail
export RUST_BACKTRACE=0
cd "$(dirname "$0")/.."
ROOT=$(pwd)
CBINDGEN_VERSION=0.29.4
TOOLS="$ROOT/target/tools"
LIBDIR="$ROOT/target/debug"
STAGE="$ROOT/target/healbot-c"
BLESS=0
if [ "${1:-}" = "--bless" ]; then BLESS=1; fi

step() { printf '\n--> %s\n' "$*"; }

step "cargo build -p healbot-ffi"
cargo build -p healbot-ffi --quiet

step "header is current (cbindgen $CBINDGEN_VERSION)"
if ! "$TOOLS/bin/cbindgen" --version 2>/dev/null | grep -qx "cbindgen $CBINDGEN_VERSION"; then
  cargo install cbindgen --locked --version "$CBINDGEN_VERSION" --root "$TOOLS" --quiet
fi
GENERATED=$(mktemp)
trap 'rm -f "$GENERATED"' EXIT
(cd healbot-ffi && "$TOOLS/bin/cbindgen" --quiet --config cbindgen.toml --crate healbot-ffi --output "$GENERATED" .)
if [ "$BLESS" = 1 ]; then
  cp "$GENERATED" healbot-ffi/include/healbot.h
  echo "blessed healbot-ffi/include/healbot.h"
elif ! diff -u healbot-ffi/include/healbot.h "$GENERATED"; then
  echo "healbot-ffi/include/healbot.h is stale: run scripts/test-c.sh --bless and commit it" >&2
  exit 1
fi

step "stage an install under target/healbot-c"
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
rm -rf "$STAGE"
mkdir -p "$STAGE/lib/pkgconfig" "$STAGE/include" "$STAGE/bin"
cp "$LIBDIR/libhealbot.so" "$STAGE/lib/libhealbot.so.$VERSION"
ln -s "libhealbot.so.$VERSION" "$STAGE/lib/libhealbot.so.0"
ln -s "libhealbot.so.0" "$STAGE/lib/libhealbot.so"
cp "$LIBDIR/libhealbot.a" "$STAGE/lib/"
cp healbot-ffi/include/healbot.h "$STAGE/include/"
sed -e "s|@PREFIX@|$STAGE|" -e "s|@VERSION@|$VERSION|" healbot-ffi/healbot.pc.in >"$STAGE/lib/pkgconfig/healbot.pc"
SONAME=$(readelf -d "$STAGE/lib/libhealbot.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
if [ "$SONAME" != "libhealbot.so.0" ]; then
  echo "libhealbot.so has SONAME '$SONAME', expected libhealbot.so.0" >&2
  exit 1
fi
# pkg-config reads the staged healbot.pc; on a machine without it, a small
# stand-in answers the same three questions from that file.
if ! command -v pkg-config >/dev/null 2>&1; then
  pkg-config() {
    local pc="$STAGE/lib/pkgconfig/healbot.pc" prefix
    prefix=$(sed -n 's/^prefix=//p' "$pc")
    case "$*" in
      *--modversion*) sed -n 's/^Version: //p' "$pc" ;;
      *--cflags*) echo "-I$prefix/include" ;;
      *--static*) echo "-lhealbot $(sed -n 's/^Libs.private: //p' "$pc")" ;;
      *--libs*) echo "-L$prefix/lib -lhealbot" ;;
    esac
  }
fi
echo "SONAME $SONAME, pkg-config version $(PKG_CONFIG_PATH="$STAGE/lib/pkgconfig" pkg-config --modversion healbot)"

step "compile tests/c/test_healbot.c (-std=c99 -Wall -Wextra -Werror)"
CFLAGS=(-std=c99 -Wall -Wextra -Werror -pedantic -Wno-overlength-strings -g)
export PKG_CONFIG_PATH="$STAGE/lib/pkgconfig"
# shellcheck disable=SC2046
gcc "${CFLAGS[@]}" $(pkg-config --cflags healbot) healbot-ffi/tests/c/test_healbot.c \
  $(pkg-config --libs healbot) -Wl,-rpath,"$STAGE/lib" -o "$STAGE/bin/test_healbot"
# shellcheck disable=SC2046
gcc "${CFLAGS[@]}" $(pkg-config --cflags healbot) healbot-ffi/tests/c/test_healbot.c \
  "$STAGE/lib/libhealbot.a" $(pkg-config --static --libs-only-l healbot | sed 's/-lhealbot//') \
  -o "$STAGE/bin/test_healbot_static"
if ! readelf -d "$STAGE/bin/test_healbot" | grep -q 'NEEDED.*\[libhealbot.so.0\]'; then
  echo "test_healbot does not record libhealbot.so.0 as NEEDED" >&2
  exit 1
fi

step "compile and run the program in docs/c-api.md"
awk '/^```c$/{on=1;next} /^```$/{on=0} on' docs/c-api.md >"$STAGE/bin/doc_example.c"
# shellcheck disable=SC2046
gcc "${CFLAGS[@]}" $(pkg-config --cflags healbot) "$STAGE/bin/doc_example.c" \
  $(pkg-config --libs healbot) -Wl,-rpath,"$STAGE/lib" -o "$STAGE/bin/doc_example"
"$STAGE/bin/doc_example"

step "run the static build"
"$STAGE/bin/test_healbot_static" examples/shop

step "run the shared build under valgrind"
valgrind --quiet --leak-check=full --show-possibly-lost=no --errors-for-leak-kinds=definite,indirect --error-exitcode=1 \
  "$STAGE/bin/test_healbot" examples/shop
