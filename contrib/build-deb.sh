#!/bin/sh
# build-deb: a Debian package of peakq (peakq_VERSION-1_ARCH.deb) with
# dpkg-buildpackage, from this source tree:
#   1. make dist: the release tarball is the upstream source;
#   2. unpack it and copy contrib/debian in as debian/;
#   3. dpkg-buildpackage -us -uc -b (the unit tests run unless
#      DEB_BUILD_OPTIONS=nocheck);
#   4. copy the .deb (and .buildinfo, .changes) into OUTDIR (default: .).
# Installs what is missing (debhelper, build dependencies) with apt-get
# when run as root.  Usage: contrib/build-deb.sh [OUTDIR]
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
out=$(mkdir -p "${1:-.}" && cd "${1:-.}" && pwd)
if [ "$(id -u)" -eq 0 ]; then
	missing=
	for p in debhelper dpkg-dev fakeroot pkg-config libetpan-dev \
		libcurl4-gnutls-dev libsqlite3-dev libyaml-dev libgnutls28-dev \
		libsystemd-dev autoconf automake; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
			missing="$missing $p"
	done
	if [ -n "$missing" ]; then
		echo "build-deb: installing$missing" >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing >&2
	fi
fi
work=$(mktemp -d /tmp/peakq-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT
(cd "$src" && { [ -x configure ] || autoreconf -fi >&2; })
mkdir "$work/dist"
(cd "$work/dist" && "$src/configure" -q >&2 && make -s dist >&2)
tarball=$(ls "$work"/dist/peakq-*.tar.gz)
tar -xzf "$tarball" -C "$work"
dir=$(ls -d "$work"/peakq-*/)
cp -r "$src/contrib/debian" "$dir/debian"
(cd "$dir" && dpkg-buildpackage -us -uc -b >&2)
for f in "$work"/*.deb "$work"/*.buildinfo "$work"/*.changes; do
	[ -e "$f" ] && cp "$f" "$out/"
done
ls "$out"/peakq_*.deb
