#!/bin/sh
# t9002: peakqd as a long-running daemon: it keeps polling, logs in the
# journal format when JOURNAL_STREAM is set, refuses a broken reload on
# SIGHUP and keeps working, takes a good one, and stops cleanly on SIGTERM.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip_all "python3 not installed"
mailenv_start
ENV="$T/m/env"
write_config implicit localhost
cp -r "$top_srcdir/rules" "$T/rules"
sed -i "s|^rules_dir: .*|rules_dir: $T/rules|; s|^poll_interval: .*|poll_interval: 1s|" \
	"$T/peakq.yaml"
ncases() {
	if [ -f "$T/peakq.db" ]; then
		"$PEAKQ" -c "$T/peakq.yaml" list --json --all 2>/dev/null |
			python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'
	else
		echo 0
	fi
}
has_cases() { [ "$(ncases)" -ge "$1" ]; }
wait_cases() { wait_until 150 has_cases "$1"; }

JOURNAL_STREAM=8:1234 "$PEAKQD" -c "$T/peakq.yaml" >"$T/daemon.log" 2>&1 &
pid=$!
$IMAPC "$ENV" append INBOX "$DATA/holiday/01-late-en.eml" >/dev/null
wait_cases 1
ok $? "the running daemon picks up a new message"
$IMAPC "$ENV" append INBOX "$DATA/holiday/04-late-zh-b64.eml" >/dev/null
wait_cases 2
ok $? "and the next one"
grep -q '^<6>ingest: case 1 created' "$T/daemon.log"
ok $? "journal format: <6> priority prefix, no timestamp"

# A broken rules file: the reload is refused and the old rules stay.
printf 'rules:\n  - name: [oops\n' >"$T/rules/20-broken.yaml"
kill -HUP "$pid"
wait_until 100 grep -q "reload refused" "$T/daemon.log"
grep -q "^<3>reload refused, keeping the running configuration: $T/rules/20-broken.yaml:" "$T/daemon.log"
ok $? "a broken reload is refused with the file and position"
$IMAPC "$ENV" append INBOX "$DATA/holiday/05-damaged-zh-gb2312.eml" >/dev/null
wait_cases 3
ok $? "the daemon keeps working with the old rules"

# A good reload.
rm "$T/rules/20-broken.yaml"
kill -HUP "$pid"
wait_until 100 grep -q "reloaded: 1 account(s), [0-9]* rule(s)" "$T/daemon.log"
ok $? "a good reload is taken"

# SIGTERM: a clean stop, exit 0.
kill -TERM "$pid"
gone() { ! kill -0 "$pid" 2>/dev/null; }
wait_until 100 gone
ok $? "SIGTERM stops the daemon within 10 s"
wait "$pid"
is "$?" 0 "exit status 0"
grep -q "peakqd stopping" "$T/daemon.log"
ok $? "it says it is stopping"
if grep -q "$PQ_SUPPORT_PASSWORD" "$T/daemon.log"; then ok 1 "no password in the log"; else ok 0 "no password in the log"; fi
done_testing
