#!/bin/sh
# t7002: running under systemd. The unit (contrib/systemd/peakqd.service)
# passes `systemd-analyze verify` and scores OK or better in
# `systemd-analyze security`; the daemon speaks the notify protocol
# (READY, STATUS, WATCHDOG at the configured interval, RELOADING and READY
# on SIGHUP, STOPPING) to a NOTIFY_SOCKET the test listens on; and
# password_file: ${CREDENTIALS_DIRECTORY}/... reads LoadCredential= files.
# (Running it as a real service needs systemd as PID 1; see peakqd(8).)
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip_all "python3 not installed"
unit="$top_builddir/contrib/systemd/peakqd.service"
[ -f "$unit" ] || skip_all "the unit was not built"

if command -v systemd-analyze >/dev/null 2>&1; then
	# Documentation= is checked with man: point it at our pages.
	mkdir -p "$T/man/man1" "$T/man/man5" "$T/man/man8"
	cp "$top_srcdir/doc/peakq.1" "$T/man/man1/"
	cp "$top_srcdir/doc/peakq.yaml.5" "$top_srcdir/doc/peakq-rules.5" "$T/man/man5/"
	cp "$top_srcdir/doc/peakqd.8" "$T/man/man8/"
	# The installed path does not exist here: point it at the build.
	sed "s|^\(ExecStart\(Pre\)\{0,1\}=\)[^ ]*/peakqd |\1$top_builddir/peakqd |" \
		"$unit" >"$T/peakqd.service"
	MANPATH="$T/man" systemd-analyze verify "$T/peakqd.service" >"$T/verify.txt" 2>&1
	ok $? "systemd-analyze verify: clean$(test -s "$T/verify.txt" && head -3 "$T/verify.txt" | tr '\n' ';')"
	systemd-analyze security --offline=yes "$T/peakqd.service" >"$T/security.txt" 2>&1
	level=$(sed -n 's/.*Overall exposure level for peakqd.service: \([0-9.]*\) \([A-Z]*\).*/\1 \2/p' "$T/security.txt")
	case "$level" in
	*" OK" | *" SAFE") ok 0 "systemd-analyze security: $level" ;;
	*) ok 1 "systemd-analyze security: '$level' (want OK or SAFE)" ;;
	esac
	grep -q "^Type=notify" "$unit" && grep -q "^ExecReload=/bin/kill -HUP \$MAINPID" "$unit" &&
		grep -q "^StateDirectory=peakq" "$unit" && grep -q "^LoadCredential=" "$unit"
	ok $? "Type=notify, ExecReload -> SIGHUP, StateDirectory, LoadCredential"
else
	ok 0 "# SKIP systemd-analyze not installed"
	ok 0 "# SKIP systemd-analyze not installed"
	ok 0 "# SKIP systemd-analyze not installed"
fi

# Credentials: ${CREDENTIALS_DIRECTORY} in password_file.
mkdir -p "$T/creds"
printf 'secret\n' >"$T/creds/support-imap"
cat >"$T/peakq.yaml" <<EOC
store: $T/peakq.db
rules_dir: $top_srcdir/rules
templates_dir: $top_srcdir/templates
poll_interval: 60s
accounts:
  - name: support
    imap: {host: 127.0.0.1, port: 1, tls: none, user: u,
           password_file: "\${CREDENTIALS_DIRECTORY}/support-imap"}
    mailboxes: [INBOX]
smtp: {url: "smtp://127.0.0.1:1", tls: none, from: "Desk <d@example.test>"}
EOC
CREDENTIALS_DIRECTORY="$T/creds" "$PEAKQD" -n -c "$T/peakq.yaml" >/dev/null 2>&1
ok $? "password_file: \${CREDENTIALS_DIRECTORY}/support-imap with the variable set"
env -u CREDENTIALS_DIRECTORY "$PEAKQD" -n -c "$T/peakq.yaml" >/dev/null 2>"$T/err"
is $? 78 "without it: a configuration error"
grep -q "peakq.yaml:8:[0-9]*: \${CREDENTIALS_DIRECTORY} is not set (run peakqd under systemd with LoadCredential=" "$T/err"
ok $? "that says where and why: $(cat "$T/err")"

# The notify protocol, when built with libsystemd.
if ! grep -q "^#define HAVE_SYSTEMD 1" "$top_builddir/config.h"; then
	ok 0 "# SKIP built without libsystemd"
	done_testing
	exit 0
fi
python3 - "$T/notify.sock" "$T/notify.log" <<'PY' &
import os, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(120)
with open(sys.argv[2], "w") as log:
    end = time.time() + 120
    while time.time() < end:
        try:
            data = s.recv(4096).decode()
        except socket.timeout:
            break
        log.write("%.2f %s\n" % (time.time(), data.replace("\n", " ")))
        log.flush()
        if "STOPPING=1" in data:
            break
PY
listener=$!
wait_until 50 test -S "$T/notify.sock"
NOTIFY_SOCKET="$T/notify.sock" WATCHDOG_USEC=2000000 CREDENTIALS_DIRECTORY="$T/creds" \
	"$PEAKQD" -c "$T/peakq.yaml" --log=stderr >"$T/daemon.log" 2>&1 &
pid=$!
wait_until 300 grep -q "READY=1" "$T/notify.log"
ok $? "READY=1 once started"
sleep 3
n=$(grep -c "WATCHDOG=1" "$T/notify.log")
test "$n" -ge 2
ok $? "WATCHDOG=1 every second (WatchdogSec=2s) although poll_interval is 60s: $n pings in ~3 s"
grep -q "STATUS=.* cases, .* acknowledgements sent" "$T/notify.log"
ok $? "STATUS with counts: $(grep -m1 -o 'STATUS=[^ ].*' "$T/notify.log" | head -c 80)"
kill -HUP $pid
wait_until 300 grep -q "RELOADING=1" "$T/notify.log"
ok $? "SIGHUP: RELOADING=1"
wait_until 300 sh -c "sed -n '/RELOADING=1/,\$p' '$T/notify.log' | grep -q READY=1"
ok $? "then READY=1 again"
kill -TERM $pid
wait $pid
wait_until 300 grep -q "STOPPING=1" "$T/notify.log"
ok $? "SIGTERM: STOPPING=1"
wait $listener 2>/dev/null
done_testing
