#!/bin/sh
# Build peakq out of tree in $PEAKQ_BUILD (default: _build in the source
# tree). Extra arguments go to configure. Reconfigures only when needed.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
build=${PEAKQ_BUILD:-$src/_build}
cd "$src"
[ -x configure ] && [ configure -nt configure.ac ] && [ Makefile.in -nt Makefile.am ] ||
	autoreconf -fi >&2
mkdir -p "$build"
cd "$build"
if [ ! -f config.status ] || [ "$*" != "$(cat .peakq-configure-args 2>/dev/null)" ]; then
	"$src/configure" -q "$@" >&2
	printf '%s' "$*" >.peakq-configure-args
fi
make -j"$(nproc)" >&2
