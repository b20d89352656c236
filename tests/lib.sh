# lib.sh: TAP helpers for the shell tests (sourced). Provides ok/check/skip,
# a short temp dir, and the throwaway mail environment.
set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
PEAKQD="$top_builddir/peakqd"
PEAKQ="$top_builddir/peakq"
IMAPC="python3 $top_srcdir/tests/imapc.py"
DATA="$top_srcdir/tests/data"
# MEM_FACTOR: how much more resident memory the programs may use in this
# build: ASan's shadow memory and quarantine, or valgrind's bookkeeping,
# multiply it; tests with a memory bound scale it by this.
MEM_FACTOR=1
if ldd "$PEAKQD" 2>/dev/null | grep -q 'libasan'; then
	MEM_FACTOR=4
fi
[ -z "${PQ_VALGRIND:-}" ] || MEM_FACTOR=8
export LC_ALL=C.UTF-8 TZ=UTC

tap_n=0
tap_failed=0

ok() { # ok STATUS DESCRIPTION
	tap_n=$((tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $tap_n - $2"
	else
		echo "not ok $tap_n - $2"
		tap_failed=$((tap_failed + 1))
	fi
}

check() { # check DESCRIPTION COMMAND...: ok when the command succeeds
	_d=$1
	shift
	if "$@" >"$T/check.out" 2>&1; then
		ok 0 "$_d"
	else
		ok 1 "$_d"
		sed 's/^/# /' "$T/check.out" | head -20
	fi
}

is() { # is GOT EXPECTED DESCRIPTION
	if [ "$1" = "$2" ]; then
		ok 0 "$3"
	else
		ok 1 "$3"
		echo "#   got: '$1'"
		echo "#   expected: '$2'"
	fi
}

diag() { echo "# $*"; }

skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}

done_testing() {
	echo "1..$tap_n"
	[ "$tap_failed" -eq 0 ]
	exit $?
}

# A short, world-traversable temp dir (Unix socket paths are limited).
T=$(mktemp -d /tmp/pq.XXXXXX)
chmod 755 "$T"

# PQ_VALGRIND=1 runs every peakqd and peakq under valgrind (memcheck, leak
# check); any error makes the command fail with status 99.
if [ -n "${PQ_VALGRIND:-}" ]; then
	for _p in peakqd peakq; do
		cat >"$T/$_p" <<EOV
#!/bin/sh
exec valgrind -q --leak-check=full --errors-for-leak-kinds=definite \\
	--error-exitcode=99 --suppressions="$top_srcdir/tests/valgrind.supp" \\
	"$top_builddir/$_p" "\$@"
EOV
		chmod +x "$T/$_p"
	done
	PEAKQD="$T/peakqd"
	PEAKQ="$T/peakq"
fi
MAILENV=
cleanup() {
	peer_stop
	if [ -n "$MAILENV" ]; then
		"$top_srcdir/tests/mailenv.sh" stop "$MAILENV" >/dev/null 2>&1
	fi
	if [ -z "${PQ_KEEP:-}" ]; then
		rm -rf "$T"
	else
		echo "# kept $T" >&2
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# Start Dovecot + Postfix in $T/m and source its env; skip when impossible.
mailenv_start() {
	mkdir -p "$T/m"
	_rc=0
	"$top_srcdir/tests/mailenv.sh" start "$T/m" >"$T/mailenv.log" 2>&1 ||
		_rc=$?
	if [ "$_rc" -eq 77 ]; then
		skip_all "mail environment unavailable: $(tail -1 "$T/mailenv.log")"
	fi
	if [ "$_rc" -ne 0 ]; then
		echo "Bail out! mail environment failed to start:"
		sed 's/^/# /' "$T/mailenv.log" | tail -30
		exit 1
	fi
	MAILENV="$T/m"
	. "$T/m/env"
}

# Write $T/peakq.yaml (and $T/support.pass) for the running mail
# environment. $1: imap tls (implicit|starttls|none), $2: host (localhost).
write_config() {
	"$top_srcdir/tests/peakq-config.sh" "$T/m/env" "$T" "${1:-implicit}" \
		"${2:-localhost}"
}

# wait_until TENTHS COMMAND...: retry COMMAND every 0.1 s, up to TENTHS
# times; its last status.
wait_until() {
	_n=$1
	shift
	while ! "$@" && [ "$_n" -gt 0 ]; do
		sleep 0.1
		_n=$((_n - 1))
	done
	"$@"
}

# Start the scripted SMTP peer (tests/servers/smtp-peer.py) with ARGS; sets
# PEER_PORT and PEER_PID; the transcript goes to $T/peer.log.
peer_start() {
	rm -f "$T/peer.port"
	python3 "$top_srcdir/tests/servers/smtp-peer.py" \
		--port-file "$T/peer.port" --log "$T/peer.log" "$@" &
	PEER_PID=$!
	wait_until 100 test -s "$T/peer.port"
	PEER_PORT=$(cat "$T/peer.port")
}
peer_stop() {
	if [ -n "${PEER_PID:-}" ]; then
		kill "$PEER_PID" 2>/dev/null && wait "$PEER_PID" 2>/dev/null
	fi
	PEER_PID=
}

# Point $T/peakq.yaml's SMTP at 127.0.0.1:PORT in plain text (loopback).
smtp_to_peer() {
	sed -i '/^smtp:/,$d' "$T/peakq.yaml"
	cat >>"$T/peakq.yaml" <<EOC
smtp:
  url: smtp://127.0.0.1:$1
  tls: none
  from: "Holiday Desk <support@example.test>"
EOC
}

# The JSON of case N through the CLI, and one field of its first outbox row.
outbox_field() { # CASE FIELD
	"$PEAKQ" -c "$T/peakq.yaml" show --json "$1" | python3 -c \
		'import json,sys; d=json.load(sys.stdin); print(d["outbox"][0][sys.argv[1]] if d["outbox"] else "-")' "$2"
}

# bash_complete WORDS...: what bash completion (contrib/bash-completion)
# offers for the last word, sorted, on one line.
bash_complete() {
	PATH="$top_builddir:$PATH" bash -c '
. /usr/share/bash-completion/bash_completion
. "$1/contrib/bash-completion/peakq"
shift
COMP_WORDS=("$@")
COMP_CWORD=$(($# - 1))
COMP_LINE="$*"
COMP_POINT=${#COMP_LINE}
_peakq
printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' sh "$top_srcdir" "$@"
}
