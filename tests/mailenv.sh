#!/bin/sh
# Throwaway mail environment for the tests: a private Dovecot (IMAP, IMAPS,
# LMTP, SASL) and a private Postfix (SMTP + STARTTLS, SMTPS) on loopback, a
# test CA with its certificates, and an `openssl s_server` with a self-signed
# certificate, all under one short temp directory.  Never touches
# /etc/dovecot or /etc/postfix and never starts the system instances.
#
#   tests/mailenv.sh start DIR   create DIR/..., start, wait, write DIR/env
#   tests/mailenv.sh stop DIR    stop everything started for DIR (idempotent)
#   tests/mailenv.sh pids DIR    print the pids of processes belonging to DIR
#
# Exit 77 (skip) when not root or when a needed program is missing.
# DIR must be absolute, shorter than 55 characters (Unix socket paths) and
# world-traversable, e.g. D=$(mktemp -d /tmp/pq.XXXXXX); chmod 755 "$D".
# PQ_MAILENV_DEADLINE (seconds, default 20) bounds the wait for listeners.
#
# Layout of DIR: env (the PQ_ variables), tls/ (CA, certificates),
# dovecot/ (config, users), run/ (Dovecot base_dir), mail/<domain>/<user>/
# Maildir, postfix/ (main.cf, master.cf, maps), postfix-q/ (queue),
# dovecot.log, postfix.log, *.out (daemons' stderr), s_server.{pid,log}.
# See /work/shared/MAILENV-NOTES.md for the traps this steps around.

LC_ALL=C
export LC_ALL
PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH

ME=mailenv
START_DEADLINE=${PQ_MAILENV_DEADLINE:-20}	# seconds to wait for listeners
STOP_DEADLINE=10
PORT_LOCK=/tmp/.peakq-mailenv-ports.lock
DOVECOT_LIBEXEC=/usr/lib/dovecot

say() { printf '%s: %s\n' "$ME" "$*" >&2; }
die() { say "$*"; exit 1; }
skip() { say "skip: $*"; exit 77; }

usage() {
	echo "usage: $0 start|stop|pids|mta-stop|mta-start DIR" >&2
	exit 2
}

now() { date +%s.%N; }

# Print the tails of all logs (used when start fails).
show_logs() {
	for f in "$D/dovecot.log" "$D/dovecot.out" "$D/postfix.log" \
		"$D/postfix.out" "$D/s_server.log"; do
		[ -s "$f" ] || continue
		printf '%s: ---- tail of %s ----\n' "$ME" "$f" >&2
		tail -n 25 "$f" >&2
	done
}

start_failed() {
	say "start failed: $*"
	show_logs
	do_stop >/dev/null 2>&1
	exit 1
}

# ------------------------------------------------------------ processes

# Every live (non-zombie) process belonging to DIR: the masters of DIR
# (Dovecot's, Postfix's, the s_server: alive and with their cwd inside
# DIR), the members of their sessions (each calls setsid), and any
# Dovecot/Postfix/openssl process whose cwd lies in DIR (children orphaned
# by a dead master).  With "masters", only the masters.  One python3 run,
# not a readlink per process: this is polled while stopping.
dir_pids() {
	python3 - "$D" "${1:-all}" <<'EOF'
import os, sys
d, what = sys.argv[1], sys.argv[2]
def cwd_in(p):
    try:
        c = os.readlink("/proc/%d/cwd" % p)
    except OSError:
        return False
    if c.endswith(" (deleted)"):	# DIR removed before stop
        c = c[:-10]
    return c == d or c.startswith(d + "/")
def stat(p):
    try:
        with open("/proc/%d/stat" % p) as f:
            s = f.read()
    except OSError:
        return None, None
    f = s[s.rindex(")") + 2:].split()
    return f[0], int(f[3])
masters = []
for f in ("run/master.pid", "postfix-q/pid/master.pid", "s_server.pid"):
    try:
        with open(os.path.join(d, f)) as fh:
            p = int(fh.read().split()[0])
    except (OSError, ValueError, IndexError):
        continue
    if p > 1 and stat(p)[0] not in (None, "Z") and cwd_in(p):
        masters.append(p)
out = list(masters)
if what == "all":
    skip = {os.getpid(), os.getppid()}
    for e in os.listdir("/proc"):
        if not e.isdigit() or int(e) in skip:
            continue
        p = int(e)
        state, sid = stat(p)
        if state in (None, "Z") or p in out:
            continue
        if sid in masters:
            out.append(p)
        elif cwd_in(p):
            try:
                exe = os.readlink("/proc/%d/exe" % p)
            except OSError:
                continue
            if exe == "/usr/sbin/dovecot" or \
               exe.startswith(("/usr/lib/dovecot/", "/usr/lib/postfix/")) or \
               os.path.basename(exe) == "openssl":
                out.append(p)
for p in out:
    print(p)
EOF
}

do_stop() {
	# Ask politely: Postfix's master and Dovecot's master stop their
	# children on SIGTERM.  Without masters (they died, or DIR was
	# removed), ask whatever is left.
	m=$(dir_pids masters)
	[ -n "$m" ] || m=$(dir_pids)
	# shellcheck disable=SC2086 # pid lists
	[ -n "$m" ] && kill -TERM $m 2>/dev/null
	deadline=$(($(date +%s) + STOP_DEADLINE))
	while :; do
		left=$(dir_pids)
		[ -z "$left" ] && break
		if [ "$(date +%s)" -ge "$deadline" ]; then
			say "killing leftover processes:" "$left"
			# shellcheck disable=SC2086
			kill -KILL $left 2>/dev/null
			sleep 0.2
			left=$(dir_pids)
			[ -z "$left" ] && break
			say "processes still alive:" "$left"
			return 1
		fi
		sleep 0.05
	done
	rm -f "$D/s_server.pid"
	return 0
}

# ------------------------------------------------------------ checks

check_dir() {
	[ -n "$1" ] || usage
	case "$1" in
	/*) ;;
	*) die "DIR must be an absolute path: $1" ;;
	esac
}

check_prereqs() {
	[ "$(id -u)" = 0 ] || skip "needs root (private Dovecot/Postfix)"
	for b in dovecot doveadm doveconf postfix postconf openssl python3 \
		flock; do
		command -v "$b" >/dev/null 2>&1 || skip "$b not installed"
	done
	[ -x /usr/lib/postfix/sbin/master ] ||
		skip "postfix master not found"
	if ! [ -x "$DOVECOT_LIBEXEC/imap" ] || ! [ -x "$DOVECOT_LIBEXEC/lmtp" ]
	then
		skip "dovecot-imapd/dovecot-lmtpd not installed"
	fi
	for u in mail postfix dovecot dovenull; do
		id "$u" >/dev/null 2>&1 || skip "user $u missing"
	done
	getent group postdrop >/dev/null 2>&1 || skip "group postdrop missing"
}

# ------------------------------------------------------------ pieces

# Pick NUM free TCP ports below the ephemeral range, free on both
# 127.0.0.1 and 127.0.0.2.  The caller holds PORT_LOCK until its servers
# listen, so two concurrent starts never pick the same port.
pick_ports() {
	python3 - "$1" <<'EOF'
import random, socket, sys
n = int(sys.argv[1])
lo, hi = 20000, 32000
start = random.randrange(lo, hi)
out = []
for i in range(hi - lo):
    p = lo + (start - lo + i * 7) % (hi - lo)
    ok = True
    for host in ("127.0.0.1", "127.0.0.2"):
        s = socket.socket()
        try:
            s.bind((host, p))
        except OSError:
            ok = False
        finally:
            s.close()
        if not ok:
            break
    if ok and p not in out:
        out.append(p)
        if len(out) == n:
            break
if len(out) < n:
    sys.exit("no free ports")
print(" ".join(map(str, out)))
EOF
}

make_certs() {
	T=$D/tls
	mkdir -p "$T" && chmod 755 "$T" || return 1
	(
		cd "$T" || exit 1
		exec 2>>openssl.out
		ec="-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
		ser() { od -An -N8 -tx1 /dev/urandom | tr -d ' \n' | sed 's/^/0x7/'; }
		# shellcheck disable=SC2086
		openssl req -x509 $ec -keyout ca.key -out ca.crt -days 30 \
			-subj "/O=peakq tests/CN=peakq test CA $(basename "$D")" \
			-addext "basicConstraints=critical,CA:TRUE" \
			-addext "keyUsage=critical,keyCertSign,cRLSign" \
			>/dev/null || exit 1
		leaf() {	# leaf NAME CN SAN
			# shellcheck disable=SC2086
			openssl req -new $ec -keyout "$1.key" -out "$1.csr" \
				-subj "/CN=$2" >/dev/null || return 1
			cat >"$1.ext" <<-EOF
			basicConstraints = critical,CA:FALSE
			keyUsage = critical,digitalSignature
			extendedKeyUsage = serverAuth
			subjectAltName = $3
			subjectKeyIdentifier = hash
			authorityKeyIdentifier = keyid,issuer
			EOF
			openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key \
				-set_serial "$(ser)" -days 30 -extfile "$1.ext" \
				-out "$1.crt" >/dev/null 2>&1 || return 1
			rm -f "$1.csr" "$1.ext"
		}
		leaf server localhost \
			"DNS:localhost,DNS:mail.example.test,IP:127.0.0.1" || exit 1
		leaf wrong wrong.example.invalid "DNS:wrong.example.invalid" ||
			exit 1
		# Self-signed, NOT from the test CA.
		# shellcheck disable=SC2086
		openssl req -x509 $ec -keyout selfsigned.key \
			-out selfsigned.crt -days 30 -subj "/CN=localhost" \
			-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
			>/dev/null || exit 1
		chmod 644 ./*.crt && chmod 600 ./*.key
	)
}

write_dovecot_conf() {
	mkdir -p "$D/dovecot" "$D/dovecot-state" "$D/mail" || return 1
	chown root:dovecot "$D/dovecot" && chmod 750 "$D/dovecot" &&
		chown mail:mail "$D/mail" && chmod 700 "$D/mail" || return 1
	uid=$(id -u mail) gid=$(id -g mail)
	# user:password:uid:gid:gecos:home:shell
	cat >"$D/dovecot/users" <<EOF
$SUPPORT_USER:{PLAIN}$SUPPORT_PW:$uid:$gid::$D/mail/example.test/support::
$CUSTOMER_USER:{PLAIN}$CUSTOMER_PW:$uid:$gid::$D/mail/example.test/customer::
EOF
	chown root:dovecot "$D/dovecot/users" && chmod 640 "$D/dovecot/users"
	cat >"$D/dovecot/dovecot.conf" <<EOF
# Generated by tests/mailenv.sh for a throwaway test run.
instance_name = $INSTANCE
base_dir = $D/run
state_dir = $D/dovecot-state
log_path = $D/dovecot.log
log_timestamp = "%Y-%m-%d %H:%M:%S "
auth_verbose = yes

protocols = imap lmtp
listen = 127.0.0.1, 127.0.0.2
hostname = mail.example.test
shutdown_clients = yes

ssl = yes
ssl_cert = <$D/tls/server.crt
ssl_key = <$D/tls/server.key
# Same CA, but a certificate for another name only.
local 127.0.0.2 {
  ssl_cert = <$D/tls/wrong.crt
  ssl_key = <$D/tls/wrong.key
}

disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = $uid
first_valid_gid = $gid

passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $D/dovecot/users
}
userdb {
  driver = passwd-file
  args = username_format=%u $D/dovecot/users
}

mail_location = maildir:~/Maildir
namespace inbox {
  inbox = yes
  separator = /
  mailbox Queued {
    auto = subscribe
  }
  mailbox Done {
    auto = subscribe
  }
}

service imap-login {
  inet_listener imap {
    port = $IMAP_PORT
  }
  inet_listener imaps {
    port = $IMAPS_PORT
    ssl = yes
  }
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $LMTP_PORT
  }
}
service auth {
  unix_listener auth-postfix {
    mode = 0666
  }
}
service stats {
  unix_listener stats-writer {
    mode = 0666
  }
}
EOF
}

write_postfix_conf() {
	P=$D/postfix
	Q=$D/postfix-q
	mkdir -p "$P" "$Q" "$D/postfix-data" || return 1
	chmod 755 "$P" "$Q"
	chown postfix:postfix "$D/postfix-data" && chmod 700 "$D/postfix-data"
	# The queue directories, as post-install create-missing would make
	# them from /etc/postfix/postfix-files (which we must not touch).
	mkdir "$Q/pid" && chmod 755 "$Q/pid" || return 1
	for q in active bounce corrupt defer deferred flush hold incoming \
		private saved trace maildrop public; do
		mkdir "$Q/$q" && chown postfix "$Q/$q" && chmod 700 "$Q/$q" ||
			return 1
	done
	chgrp postdrop "$Q/maildrop" "$Q/public" &&
		chmod 730 "$Q/maildrop" && chmod 710 "$Q/public" || return 1
	cat >"$P/virtual" <<'EOF'
# Everybody but support@ is the customer.
/^support@example\.test$/	support@example.test
/^customer@example\.test$/	customer@example.test
/@/	customer@example.test
EOF
	cat >"$P/vmailbox" <<'EOF'
/^support@example\.test$/	example.test/support/
/^customer@example\.test$/	example.test/customer/
EOF
	cat >"$P/main.cf" <<EOF
# Generated by tests/mailenv.sh for a throwaway test run.
compatibility_level = 3.6
queue_directory = $Q
data_directory = $D/postfix-data
mail_owner = postfix
setgid_group = postdrop
maillog_file = $D/postfix.log
maillog_file_prefixes = $D
syslog_name = postfix-$INSTANCE

myhostname = mail.example.test
mydomain = example.test
myorigin = \$myhostname
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relay_domains =
relayhost =
alias_maps =
alias_database =
local_recipient_maps =
local_transport = error:5.1.1 local delivery is disabled
default_transport = error:5.7.1 no outside delivery in tests
biff = no
append_dot_mydomain = no
readme_directory = no
smtputf8_enable = yes

virtual_mailbox_domains = example.test
# Not the default (the alias maps): their catch-all would make every
# domain an alias domain ("User unknown in virtual alias table").
# Aliasing still applies to every recipient.
virtual_alias_domains =
virtual_mailbox_maps = regexp:$P/vmailbox
virtual_alias_maps = regexp:$P/virtual
virtual_transport = lmtp:inet:127.0.0.1:$LMTP_PORT

# No network: never ask DNS.
smtp_dns_support_level = disabled
lmtp_dns_support_level = disabled
lmtp_host_lookup = native
smtp_host_lookup = native
smtpd_peername_lookup = no

# Fast, deterministic tests.
in_flow_delay = 0s
smtpd_error_sleep_time = 0s
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 5s

smtpd_tls_cert_file = $D/tls/server.crt
smtpd_tls_key_file = $D/tls/server.key
smtpd_tls_security_level = may
smtpd_tls_auth_only = yes
smtpd_tls_loglevel = 1
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = $D/run/auth-postfix
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated,
  defer_unauth_destination
EOF
	# No chroot anywhere (column 5 = n).
	cat >"$P/master.cf" <<EOF
# service type  private unpriv  chroot  wakeup  maxproc command + args
$SMTP_PORT inet n       -       n       -       -       smtpd
$SMTPS_PORT inet n      -       n       -       -       smtpd
  -o syslog_name=postfix-$INSTANCE/smtps
  -o smtpd_tls_wrappermode=yes
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
	# Postfix waits (300 ms steps, ~2 s) for main.cf to be at least a
	# second old before it trusts it; we just wrote it, so backdate it.
	touch -d @$(($(date +%s) - 60)) "$P/main.cf" "$P/master.cf" \
		"$P/virtual" "$P/vmailbox"
}

# Wait until every listener answers the way it should.
wait_ready() {
	python3 - "$START_DEADLINE" "$D/tls/ca.crt" "$IMAP_PORT" \
		"$IMAPS_PORT" "$LMTP_PORT" "$SMTP_PORT" "$SMTPS_PORT" \
		"$SELFSIGNED_PORT" <<'EOF'
import socket, ssl, sys, time
deadline = time.monotonic() + float(sys.argv[1])
ca = sys.argv[2]
imap, imaps, lmtp, smtp, smtps, selfsigned = map(int, sys.argv[3:9])
ctx = ssl.create_default_context(cafile=ca)
raw = ssl._create_unverified_context()
checks = [
    # name, host, port, tls context (None = plain), server_hostname, greeting
    ("imap", "127.0.0.1", imap, None, None, b"* OK"),
    ("imaps", "127.0.0.1", imaps, ctx, "127.0.0.1", b"* OK"),
    ("imap@127.0.0.2", "127.0.0.2", imap, None, None, b"* OK"),
    ("imaps@127.0.0.2", "127.0.0.2", imaps, ctx, "wrong.example.invalid",
     b"* OK"),
    ("lmtp", "127.0.0.1", lmtp, None, None, b"220 "),
    ("smtp", "127.0.0.1", smtp, None, None, b"220 "),
    ("smtps", "127.0.0.1", smtps, ctx, "localhost", b"220 "),
    ("selfsigned", "127.0.0.1", selfsigned, raw, None, b""),
]
for name, host, port, tls, sni, greeting in checks:
    last = None
    while True:
        try:
            s = socket.create_connection((host, port), timeout=2)
            try:
                if tls is not None:
                    s = tls.wrap_socket(s, server_hostname=sni)
                if greeting:
                    buf = b""
                    while b"\n" not in buf:
                        d = s.recv(512)
                        if not d:
                            break
                        buf += d
                    if not buf.startswith(greeting):
                        raise OSError("unexpected greeting %r" % buf[:80])
                if name.startswith("smtp") or name == "lmtp":
                    s.sendall(b"QUIT\r\n")
                elif greeting:
                    s.sendall(b"z LOGOUT\r\n")
            finally:
                s.close()
            break
        except (OSError, ssl.SSLError) as e:
            last = e
        if time.monotonic() > deadline:
            sys.exit("%s on %s:%d not ready: %s" % (name, host, port, last))
        time.sleep(0.05)
EOF
}

# ------------------------------------------------------------ start

do_start() {
	t0=$(now)
	mkdir -p "$D" || die "cannot create $D"
	D=$(cd "$D" && pwd -P) || die "cannot enter $D"
	[ ${#D} -lt 55 ] ||
		die "DIR too long (${#D} chars, Unix socket paths): $D"
	# Every directory up to DIR must be traversable by dovecot/postfix/mail.
	p=$D
	while [ -n "$p" ]; do
		case $(stat -L -c %A "$p") in
		*x | *t) ;;
		*) die "$p is not world-traversable (chmod 755 DIR)" ;;
		esac
		p=${p%/*}
	done
	[ -n "$(dir_pids masters)" ] &&
		die "an environment is already running in $D"
	for f in env run dovecot-state mail postfix postfix-q postfix-data \
		tls dovecot.log postfix.log; do
		[ -e "$D/$f" ] && die "$D is not empty ($f exists); use a new DIR"
	done

	INSTANCE=$(basename "$D" | tr -c 'A-Za-z0-9\n' '-')
	case $INSTANCE in pq* | peakq*) ;; *) INSTANCE=pq-$INSTANCE ;; esac
	SUPPORT_USER=support@example.test
	SUPPORT_PW=support-secret
	CUSTOMER_USER=customer@example.test
	CUSTOMER_PW=customer-secret

	make_certs || {
		cat "$D/tls/openssl.out" >&2
		start_failed "certificate generation"
	}

	# From here until the servers listen, hold the port lock.  fd 9 must
	# not leak into the daemons, or they would hold the lock forever.
	exec 9>>"$PORT_LOCK" || die "cannot open $PORT_LOCK"
	flock -w 60 9 || die "cannot lock $PORT_LOCK"
	ports=$(pick_ports 6) || start_failed "no free ports"
	# shellcheck disable=SC2086
	set -- $ports
	IMAP_PORT=$1 IMAPS_PORT=$2 LMTP_PORT=$3 SMTP_PORT=$4 SMTPS_PORT=$5
	SELFSIGNED_PORT=$6

	write_dovecot_conf || start_failed "writing Dovecot config"
	write_postfix_conf || start_failed "writing Postfix config"

	# Dovecot first: Postfix's smtpd needs its auth socket.
	dovecot -c "$D/dovecot/dovecot.conf" 9>&- </dev/null \
		>>"$D/dovecot.out" 2>&1 ||
		start_failed "dovecot did not start"

	# Postfix.  `postfix start` would run post-install create-missing,
	# postsuper and find-based checks first (2+ s); write_postfix_conf
	# made the queue directories those would create, and quick-start
	# skips the checks.
	touch "$D/postfix-q/quick-start"
	postfix -c "$D/postfix" start 9>&- </dev/null \
		>>"$D/postfix.out" 2>&1 || {
		# With maillog_file set, postfix(1) reports early fatal
		# errors only to a terminal: ask again on a pseudo-tty.
		command -v script >/dev/null 2>&1 &&
			script -qec "postfix -c '$D/postfix' status" /dev/null \
				9>&- </dev/null >>"$D/postfix.out" 2>&1
		start_failed "postfix did not start"
	}

	(
		cd "$D" || exit 1
		setsid openssl s_server -accept "127.0.0.1:$SELFSIGNED_PORT" \
			-cert tls/selfsigned.crt -key tls/selfsigned.key -quiet \
			9>&- </dev/null >>s_server.log 2>&1 &
		echo $! >s_server.pid
	) || start_failed "s_server"

	wait_ready 9>&- 2>>"$D/wait.out" || {
		cat "$D/wait.out" >&2
		start_failed "servers not ready"
	}
	exec 9>&-

	t1=$(now)
	secs=$(echo "$t0 $t1" | awk '{ printf "%.2f", $2 - $1 }')
	cat >"$D/env.tmp" <<EOF
# Written by tests/mailenv.sh; source it.  Only PQ_ variables.
PQ_MAILENV_DIR='$D'
PQ_HOST='127.0.0.1'
PQ_IMAP_PORT='$IMAP_PORT'
PQ_IMAPS_PORT='$IMAPS_PORT'
PQ_LMTP_PORT='$LMTP_PORT'
PQ_SMTP_PORT='$SMTP_PORT'
PQ_SMTPS_PORT='$SMTPS_PORT'
PQ_CA_FILE='$D/tls/ca.crt'
PQ_SUPPORT_USER='$SUPPORT_USER'
PQ_SUPPORT_PASSWORD='$SUPPORT_PW'
PQ_CUSTOMER_USER='$CUSTOMER_USER'
PQ_CUSTOMER_PASSWORD='$CUSTOMER_PW'
PQ_POSTFIX_LOG='$D/postfix.log'
PQ_DOVECOT_LOG='$D/dovecot.log'
PQ_WRONGNAME_HOST='127.0.0.2'
PQ_SELFSIGNED_PORT='$SELFSIGNED_PORT'
PQ_MAIL_DIR='$D/mail'
PQ_DOVECOT_CONF='$D/dovecot/dovecot.conf'
PQ_POSTFIX_CONFIG_DIR='$D/postfix'
PQ_STARTUP_SECONDS='$secs'
EOF
	mv "$D/env.tmp" "$D/env"
	say "started in $D in ${secs}s (imap $IMAP_PORT imaps $IMAPS_PORT" \
		"lmtp $LMTP_PORT smtp $SMTP_PORT smtps $SMTPS_PORT" \
		"selfsigned $SELFSIGNED_PORT)"
}

# ------------------------------------------------------------ main

[ $# -eq 2 ] || usage
cmd=$1
check_dir "$2"
D=$2
case "$cmd" in
start)
	check_prereqs
	do_start
	;;
mta-stop)
	# Stop only Postfix (Dovecot keeps running): an MTA outage.
	[ -f "$D/env" ] || die "$D is not a running mailenv"
	postfix -c "$D/postfix" stop 9>&- </dev/null >>"$D/postfix.out" 2>&1
	port=$(. "$D/env" && echo "$PQ_SMTP_PORT")
	deadline=$(($(date +%s) + 10))
	while ss -ltn 2>/dev/null | grep -q "127.0.0.1:$port "; do
		[ "$(date +%s)" -ge "$deadline" ] && die "postfix did not stop"
		sleep 0.1
	done
	;;
mta-start)
	[ -f "$D/env" ] || die "$D is not a running mailenv"
	touch "$D/postfix-q/quick-start"
	postfix -c "$D/postfix" start 9>&- </dev/null >>"$D/postfix.out" 2>&1 ||
		die "postfix did not start again"
	;;
stop | pids)
	# A removed DIR may still have orphaned servers: look for them too.
	if [ -d "$D" ]; then
		D=$(cd "$D" && pwd -P) || exit 1
		if ! [ -d "$D/tls" ] && ! [ -e "$D/env" ]; then
			# Empty: start never got going.  Otherwise refuse to
			# go hunting processes under some unrelated directory.
			[ -z "$(ls -A "$D")" ] && exit 0
			die "$D does not look like a mailenv directory"
		fi
	fi
	if [ "$cmd" = stop ]; then
		do_stop
	else
		dir_pids
	fi
	;;
*)
	usage
	;;
esac
