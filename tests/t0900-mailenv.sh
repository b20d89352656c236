#!/bin/sh
# t0900-mailenv: smoke test of the test mail environment itself
# (tests/mailenv.sh and tests/imapc.py): real Dovecot + Postfix on loopback,
# the TLS traps (wrong name, self-signed), routing, and a clean stop.
# Self-contained TAP (plan at the end); exit 77 from mailenv.sh = skip.

# shellcheck disable=SC2016 # '$PeakqQueued' and sh -c bodies are literal
# shellcheck source=/dev/null

LC_ALL=C
export LC_ALL

if [ -z "$top_srcdir" ]; then
	top_srcdir=$(cd "$(dirname "$0")/.." && pwd) || exit 1
fi
MAILENV=$top_srcdir/tests/mailenv.sh
IMAPC=$top_srcdir/tests/imapc.py

n=0
failed=0
D=

diag() { printf '# %s\n' "$@"; }

# t DESCRIPTION COMMAND...: one TAP test; on failure show the output.
t() {
	desc=$1
	shift
	n=$((n + 1))
	if "$@" >"$W/out" 2>&1; then
		echo "ok $n - $desc"
	else
		echo "not ok $n - $desc"
		failed=$((failed + 1))
		sed 's/^/#   /' "$W/out" | head -n 30
	fi
}

cleanup() {
	trap - EXIT INT TERM HUP
	if [ -n "$D" ]; then
		"$MAILENV" stop "$D" >/dev/null 2>&1
		if [ "$failed" -eq 0 ]; then
			rm -rf "$D"
		else
			diag "kept $D for inspection"
		fi
	fi
	[ -n "$W" ] && rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

W=$(mktemp -d "${TMPDIR:-/tmp}/t0900.XXXXXX") || exit 1
D=$(mktemp -d /tmp/pq.XXXXXX) || exit 1
chmod 755 "$D"

"$MAILENV" start "$D" 2>"$W/start.err"
rc=$?
if [ "$rc" -eq 77 ]; then
	reason=$(tail -n 1 "$W/start.err" | sed 's/^mailenv: skip: //')
	echo "1..0 # SKIP $reason"
	rmdir "$D" 2>/dev/null || rm -rf "$D"
	D=
	exit 0
fi
n=1
if [ "$rc" -ne 0 ]; then
	echo "not ok 1 - mailenv.sh start"
	failed=1
	sed 's/^/#   /' "$W/start.err"
	echo "1..1"
	exit 1
fi
echo "ok 1 - mailenv.sh start"
sed 's/^/# /' "$W/start.err"

E=$D/env
imapc() { "$IMAPC" "$E" "$@"; }

# --------------------------------------------------------------- env file

check_env() {
	(
		set -e
		. "$E"
		for v in PQ_MAILENV_DIR PQ_HOST PQ_IMAP_PORT PQ_IMAPS_PORT \
			PQ_LMTP_PORT PQ_SMTP_PORT PQ_SMTPS_PORT PQ_CA_FILE \
			PQ_SUPPORT_USER PQ_SUPPORT_PASSWORD PQ_CUSTOMER_USER \
			PQ_CUSTOMER_PASSWORD PQ_POSTFIX_LOG PQ_DOVECOT_LOG \
			PQ_WRONGNAME_HOST PQ_SELFSIGNED_PORT; do
			eval "val=\${$v-}"
			[ -n "$val" ] || { echo "$v missing"; exit 1; }
		done
		[ "$PQ_MAILENV_DIR" = "$(cd "$D" && pwd -P)" ]
		[ "$PQ_HOST" = 127.0.0.1 ] && [ "$PQ_WRONGNAME_HOST" = 127.0.0.2 ]
		[ "$PQ_SUPPORT_USER" = support@example.test ]
		[ "$PQ_CUSTOMER_USER" = customer@example.test ]
		[ -s "$PQ_CA_FILE" ] && [ -e "$PQ_POSTFIX_LOG" ] &&
			[ -e "$PQ_DOVECOT_LOG" ]
	) || return 1
	# Nothing but PQ_ assignments and comments.
	if grep -v -E '^(#.*|PQ_[A-Z0-9_]+=.*|)$' "$E"; then
		echo "unexpected lines in env"
		return 1
	fi
}
t "env file has all PQ_ variables and nothing else" check_env
. "$E"

# --------------------------------------------------------------- IMAP

cat >"$W/m1.eml" <<'EOF'
From: Someone <someone@example.org>
To: support@example.test
Subject: smoke test 1
Message-ID: <t0900-1@example.org>

Hello, this is a test.
EOF

append_count() {
	[ "$(imapc append INBOX "$W/m1.eml")" = 1 ] &&
		[ "$(imapc count INBOX)" = 1 ]
}
t "APPEND to support INBOX over IMAPS, count = 1" append_count

fetch_back() {
	imapc fetch INBOX "$(imapc uids INBOX)" >"$W/got.eml" &&
		sed 's/$/\r/' "$W/m1.eml" | cmp - "$W/got.eml"
}
t "fetch returns the appended message (CRLF)" fetch_back

keyword() {
	uid=$(imapc uids INBOX) &&
		imapc addflag INBOX "$uid" '$PeakqQueued' &&
		imapc flags INBOX | grep -x "$uid .*\\\$PeakqQueued.*"
}
t 'keyword $PeakqQueued can be stored' keyword

permflags() {
	python3 - "$PQ_HOST" "$PQ_IMAPS_PORT" "$PQ_CA_FILE" \
		"$PQ_SUPPORT_USER" "$PQ_SUPPORT_PASSWORD" <<'EOF'
import imaplib, ssl, sys
host, port, ca, user, pw = sys.argv[1:6]
im = imaplib.IMAP4_SSL(host, int(port),
                       ssl_context=ssl.create_default_context(cafile=ca))
im.login(user, pw)
im.select("INBOX")
pf = b" ".join(im.untagged_responses.get("PERMANENTFLAGS", []))
print(pf)
im.logout()
sys.exit(0 if b"\\*" in pf else 1)
EOF
}
t 'PERMANENTFLAGS contains \*' permflags

caps() {
	imapc capability >"$W/caps" || return 1
	for c in IDLE UIDPLUS MOVE; do
		grep -qx "$c" "$W/caps" || { echo "no $c"; return 1; }
	done
}
t "IMAP has IDLE, UIDPLUS, MOVE" caps

folders() {
	imapc list >"$W/list" || return 1
	for f in INBOX Queued Done; do
		grep -qx "$f" "$W/list" || { echo "no $f"; cat "$W/list"; return 1; }
	done
}
t "support has INBOX, Queued, Done" folders

starttls_offered() {
	python3 - "$PQ_HOST" "$PQ_IMAP_PORT" <<'EOF'
import imaplib, sys
im = imaplib.IMAP4(sys.argv[1], int(sys.argv[2]))
print(im.capabilities)
sys.exit(0 if "STARTTLS" in im.capabilities else 1)
EOF
	[ "$(imapc --starttls count INBOX)" = 1 ]
}
t "STARTTLS offered and working on PQ_IMAP_PORT" starttls_offered

t "plain IMAP login on PQ_IMAP_PORT" \
	sh -c '[ "$("$0" "$1" --plain count INBOX)" = 1 ]' "$IMAPC" "$E"

other_names() {
	imapc --servername localhost count INBOX &&
		imapc --servername mail.example.test count INBOX
}
t "server certificate valid for localhost and mail.example.test" other_names

uv() {
	v=$(imapc uidvalidity INBOX) && [ "$v" -gt 0 ] 2>/dev/null
}
t "uidvalidity" uv

# --------------------------------------------------------------- SMTP

smtp_policy() {
	python3 - "$PQ_HOST" "$PQ_SMTP_PORT" "$PQ_CA_FILE" <<'EOF'
import smtplib, ssl, sys
s = smtplib.SMTP(sys.argv[1], int(sys.argv[2]), timeout=10)
s.ehlo("t0900.example.test")
print("before:", sorted(s.esmtp_features))
assert s.has_extn("starttls"), "no STARTTLS"
assert not s.has_extn("auth"), "AUTH offered before STARTTLS"
s.starttls(context=ssl.create_default_context(cafile=sys.argv[3]))
s.ehlo("t0900.example.test")
print("after:", s.esmtp_features.get("auth"))
mechs = s.esmtp_features.get("auth", "").upper().split()
assert "PLAIN" in mechs and "LOGIN" in mechs, "no AUTH PLAIN LOGIN"
s.quit()
EOF
}
t "SMTP: STARTTLS offered, AUTH only after STARTTLS" smtp_policy

cat >"$W/ack.eml" <<'EOF'
From: support@example.test
To: bob@gmail.com
Subject: Re: your request
Auto-Submitted: auto-replied

We got it.
EOF

null_sender() {
	imapc send '<>' bob@gmail.com "$W/ack.eml" &&
		imapc --as customer wait INBOX 1 20 &&
		grep -q '^Return-Path: <>' "$PQ_MAIL_DIR"/example.test/customer/Maildir/new/*
}
t "SMTP+STARTTLS, null sender, bob@gmail.com -> customer INBOX" null_sender

routing() {
	imapc send support@example.test 5vlhxyz@marketplace.amazon.com \
		"$W/ack.eml" &&
		imapc --as customer wait INBOX 2 20 &&
		imapc send bob@gmail.com support@example.test "$W/m1.eml" &&
		imapc wait INBOX 2 20
}
t "routing: any address -> customer, support@ -> support" routing

smtps_auth() {
	imapc --tls --auth send support@example.test bob@gmail.com \
		"$W/ack.eml" &&
		imapc --as customer wait INBOX 3 20 &&
		grep -q 'sasl_username=support@example.test' "$PQ_POSTFIX_LOG"
}
t "SMTPS (implicit TLS) with AUTH as support" smtps_auth

no_auth_plain() {
	! imapc --plain --auth send support@example.test bob@gmail.com \
		"$W/ack.eml"
}
t "no AUTH without TLS on PQ_SMTP_PORT" no_auth_plain

# --------------------------------------------------------------- TLS traps

verify_fails() {	# verify_fails IMAPC-ARGS...: must fail verification
	if imapc "$@" count INBOX 2>"$W/verr"; then
		echo "unexpectedly verified"
		return 1
	fi
	cat "$W/verr"
	grep -qi 'certificate verify failed' "$W/verr"
}
t "IMAPS on 127.0.0.2 fails verification for 127.0.0.2" \
	verify_fails --host "$PQ_WRONGNAME_HOST"
t "STARTTLS on 127.0.0.2 fails verification for 127.0.0.2" \
	verify_fails --host "$PQ_WRONGNAME_HOST" --starttls
t "IMAPS on 127.0.0.2 is the test CA's cert for wrong.example.invalid" \
	imapc --host "$PQ_WRONGNAME_HOST" --servername wrong.example.invalid \
	count INBOX

wrong_san() {
	echo | openssl s_client -connect "$PQ_WRONGNAME_HOST:$PQ_IMAPS_PORT" \
		-servername x 2>/dev/null |
		openssl x509 -noout -ext subjectAltName >"$W/san" || return 1
	cat "$W/san"
	grep -q 'DNS:wrong.example.invalid' "$W/san" &&
		! grep -q -e 127.0.0 -e localhost "$W/san"
}
t "127.0.0.2 presents only DNS:wrong.example.invalid" wrong_san

selfsigned() {
	for _ in 1 2 3; do
		python3 - "$PQ_SELFSIGNED_PORT" "$PQ_CA_FILE" <<'EOF' || return 1
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
try:
    ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1])),
                                             timeout=5),
                    server_hostname="127.0.0.1")
except ssl.SSLCertVerificationError as e:
    print("refused as expected:", e.verify_message)
    sys.exit(0)
sys.exit("self-signed certificate was accepted (or other error)")
EOF
	done
}
t "self-signed port fails verification (3 clients in a row)" selfsigned

# --------------------------------------------------------------- cleanup ops

dump_delete() {
	imapc dump INBOX "$W/dump" &&
		for u in $(imapc uids INBOX); do
			[ -s "$W/dump/$u.eml" ] || return 1
		done &&
		[ "$(find "$W/dump" -type f | wc -l)" = 2 ] &&
		[ "$(imapc delete-all INBOX)" = 2 ] &&
		[ "$(imapc count INBOX)" = 0 ]
}
t "dump and delete-all" dump_delete

t "wait times out with exit 1" \
	sh -c '! "$0" "$1" wait INBOX 1 0.3' "$IMAPC" "$E"

# --------------------------------------------------------------- stop

# Live (non-zombie) processes whose cwd is in DIR or whose command line
# names it.
leftovers() {
	for p in /proc/[0-9]*; do
		pid=${p#/proc/}
		[ "$pid" = $$ ] && continue
		st=$(sed 's/.*) //' "$p/stat" 2>/dev/null | cut -d' ' -f1)
		{ [ -n "$st" ] && [ "$st" != Z ]; } || continue
		cwd=$(readlink "$p/cwd" 2>/dev/null)
		case "$cwd" in
		"$PQ_MAILENV_DIR" | "$PQ_MAILENV_DIR"/*)
			echo "$pid $(tr '\0' ' ' <"$p/cmdline")"
			continue
			;;
		esac
		if tr '\0' ' ' <"$p/cmdline" 2>/dev/null |
			grep -q -F "$PQ_MAILENV_DIR"; then
			echo "$pid $(tr '\0' ' ' <"$p/cmdline")"
		fi
	done
}

stop_clean() {
	"$MAILENV" stop "$D" || return 1
	left=$(leftovers)
	if [ -n "$left" ]; then
		echo "left running: $left"
		return 1
	fi
	left=$("$MAILENV" pids "$D")
	[ -z "$left" ] || { echo "pids: $left"; return 1; }
	python3 - "$PQ_IMAP_PORT" "$PQ_SMTP_PORT" "$PQ_SELFSIGNED_PORT" <<'EOF'
import socket, sys
for p in sys.argv[1:]:
    try:
        socket.create_connection(("127.0.0.1", int(p)), timeout=2).close()
    except OSError:
        continue
    sys.exit("port %s still accepts connections" % p)
EOF
}
t "stop leaves no processes and no listeners" stop_clean
t "stop is idempotent" "$MAILENV" stop "$D"

echo "1..$n"
[ "$failed" -eq 0 ]
