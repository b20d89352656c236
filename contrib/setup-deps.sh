#!/bin/sh
# Install what peakq needs to build, run and test on Debian 12, if missing.
# Uses sudo when not run as root. Safe to run again.
set -eu

BUILD="autoconf automake make gcc pkg-config libc6-dev
libetpan-dev libcurl4-gnutls-dev libsqlite3-dev libyaml-dev libgnutls28-dev
libsystemd-dev"
RUNTIME="ca-certificates"
TEST="dovecot-imapd dovecot-lmtpd postfix openssl python3 sqlite3 clang-format valgrind
bash-completion chromium fonts-noto-cjk systemd debhelper dpkg-dev fakeroot"

want=""
for p in $BUILD $RUNTIME $TEST; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q "install ok installed"; then
		want="$want $p"
	fi
done
[ -z "$want" ] && exit 0

SUDO=
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null 2>&1 || {
		echo "setup-deps: need root (or sudo) to install:$want" >&2
		exit 1
	}
	SUDO=sudo
fi
echo "setup-deps: installing:$want" >&2
# Postfix asks how to configure itself; the tests run their own instance.
echo "postfix postfix/main_mailer_type select No configuration" |
	$SUDO debconf-set-selections 2>/dev/null || true
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
# shellcheck disable=SC2086
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	--no-install-recommends $want >&2
