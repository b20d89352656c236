#!/bin/sh
# build.sh BUILDDIR: build the libFuzzer targets (clang,
# -fsanitize=fuzzer,address,undefined) into BUILDDIR/fuzz/, from the
# library modules (every daemon/*.c but the main programs and the CLI)
# and tests/fuzz/fuzz-*.c. BUILDDIR is a configured build (for config.h).
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-.}" && pwd)
CC=${FUZZ_CC:-clang}
command -v "$CC" >/dev/null || { echo "fuzz: $CC not found (apt-get install clang)" >&2; exit 77; }
out="$build/fuzz"
mkdir -p "$out/obj"
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
CFLAGS="-g -O1 -fno-omit-frame-pointer $SAN -I$build -I$src/daemon -DFUZZ_SRCDIR=\"$src\" -DSYSCONFDIR=\"/etc\" -DLOCALSTATEDIR=\"/var\" -DPKGDATADIR=\"/usr/share/peakq\""
PKGS="libetpan libcurl sqlite3 yaml-0.1 gnutls"
DEP_CFLAGS=$(pkg-config --cflags $PKGS | sed 's/-specs=[^ ]*//g')
DEP_LIBS=$(pkg-config --libs $PKGS | sed -e 's/-specs=[^ ]*//g' -e 's/-Wl,-z,relro//g' -e 's/-Wl,-z,now//g')
objs=
for f in "$src"/daemon/*.c; do
	case $(basename "$f") in peakqd.c | peakq.c | cli_*.c) continue ;; esac
	o="$out/obj/$(basename "$f" .c).o"
	if [ ! -e "$o" ] || [ "$f" -nt "$o" ]; then
		# shellcheck disable=SC2086
		$CC $CFLAGS -fsanitize=fuzzer-no-link $DEP_CFLAGS -c "$f" -o "$o"
	fi
	objs="$objs $o"
done
for f in "$src"/tests/fuzz/fuzz-*.c; do
	t=$(basename "$f" .c)
	# shellcheck disable=SC2086
	$CC $CFLAGS -fsanitize=fuzzer $DEP_CFLAGS "$f" $objs $DEP_LIBS -lpthread -o "$out/$t"
	echo "$out/$t"
done
