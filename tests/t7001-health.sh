#!/bin/sh
# t7001: health. The running daemon's heartbeat, each mailbox's state
# (one account working, one with a wrong password), the outbox, through
# `peakq status [--json]`, whose exit status is a monitoring check: 0 while
# the daemon reports, 1 once it stopped or hung (SIGKILL, then two poll
# intervals). The Prometheus metrics file: its counters agree with the
# store, the histogram is cumulative, it is replaced atomically.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip_all "python3 not installed"
mailenv_start
ENV="$T/m/env"
write_config implicit localhost
printf 'wrong\n' >"$T/wrong.pass"
python3 - "$T/peakq.yaml" "$T" <<'PY'
import sys
p, t = sys.argv[1], sys.argv[2]
s = open(p).read()
s = s.replace("poll_interval: 2s", "poll_interval: 1s\nmetrics_file: %s/metrics.prom" % t)
# a second account: same server, wrong password
acct = s[s.index("  - name: support"):s.index("smtp:")]
s = s.replace("smtp:", acct.replace("name: support", "name: broken")
              .replace(t + "/support.pass", t + "/wrong.pass") + "smtp:", 1)
open(p, "w").write(s)
PY
Q() { "$PEAKQ" -c "$T/peakq.yaml" "$@"; }
Q status >/dev/null 2>&1
is $? 69 "before the daemon ever ran there is no store: 69"

$IMAPC "$ENV" append INBOX "$DATA"/holiday/01-*.eml "$DATA"/holiday/02-*.eml "$DATA"/holiday/04-*.eml >/dev/null
"$PEAKQD" -c "$T/peakq.yaml" --log=stderr >"$T/daemon.log" 2>&1 &
pid=$!
ready() { Q status --json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
m = {x["account"]: x for x in d["mailboxes"]}
b = m.get("broken", {})
# (caught retrying, the broken account is "connecting", its error kept)
failed = b.get("state") == "error" or (b.get("state") == "connecting" and b.get("last_error"))
sys.exit(0 if d["cases"] >= 3 and m.get("support", {}).get("state") == "idling" and failed and d["outbox"]["waiting"] == 0 else 1)'; }
wait_until 150 ready
ok $? "the daemon ingested the mail and recorded both accounts"
Q status >"$T/status.txt"
is $? 0 "peakq status: 0 while the daemon reports"
grep -q "^peakqd: running, pid $pid" "$T/status.txt"
ok $? "it names the running daemon: $(head -1 "$T/status.txt")"
grep -q "support/INBOX  *idling " "$T/status.txt"
ok $? "support/INBOX idling (Dovecot offers IDLE)"
# The broken account retries (5 s, doubling): caught in a reconnect, its row
# says "connecting", with the last error, for as long as that takes
# (seconds under valgrind).
broken_shown() {
	Q status >"$T/status2.txt" 2>/dev/null
	grep -i "broken/INBOX  *\(error\|connecting .*last error:\) .*\(auth\|login\)" "$T/status2.txt" >/dev/null
}
wait_until 300 broken_shown
ok $? "broken/INBOX: error, with why: $(grep broken "$T/status2.txt" | sed 's/  */ /g')"
Q status --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
ok = d["daemon"] == "running" and d["alive"] is True and d["pid"] > 0 and d["poll_interval"] == 1
ok = ok and {m["account"] for m in d["mailboxes"]} == {"support", "broken"}
ok = ok and all(k in d["outbox"] for k in ("waiting", "failed", "uncertain", "sent"))
sys.exit(0 if ok else 1)'
ok $? "status --json: daemon, mailboxes, outbox"

# The metrics file (written at start, then at most every 10 s).
wait_until 150 test -s "$T/metrics.prom"
ok $? "metrics file written"
wait_until 150 grep -q '^peakq_acks_total{state="sent"} 3$' "$T/metrics.prom"
ok $? "within 10 s it counts the 3 acknowledgements sent"
python3 - "$T/metrics.prom" "$T/peakq.db" <<'PY'
import re, sqlite3, sys
text = open(sys.argv[1]).read()
db = sqlite3.connect(sys.argv[2])
vals = {}
for line in text.splitlines():
    if line.startswith("#") or not line.strip():
        continue
    m = re.fullmatch(r'([a-z_]+)(\{[^}]*\})? (-?[0-9.e+]+)', line)
    assert m, "bad line: " + line
    vals[m.group(1) + (m.group(2) or "")] = float(m.group(3))
bad = []
cats = dict(db.execute("SELECT category, count(*) FROM cases GROUP BY category"))
for c, n in cats.items():
    if vals.get('peakq_cases_total{category="%s"}' % c) != n:
        bad.append("cases " + c)
(msgs,) = db.execute("SELECT count(*) FROM message").fetchone()
if vals.get("peakq_messages_total") != msgs:
    bad.append("messages")
(sent,) = db.execute("SELECT count(*) FROM outbox WHERE kind = 'ack' AND state = 'sent'").fetchone()
if vals.get('peakq_acks_total{state="sent"}', 0) != sent:
    bad.append("acks sent %r vs %r" % (vals.get('peakq_acks_total{state="sent"}'), sent))
b = [vals['peakq_ack_latency_seconds_bucket{le="%s"}' % le] for le in ("1", "2", "5", "10", "30", "60", "300", "3600", "+Inf")]
if b != sorted(b) or b[-1] != vals["peakq_ack_latency_seconds_count"] or b[-1] != sent:
    bad.append("histogram %r" % b)
if vals.get('peakq_mailbox_up{account="broken",mailbox="INBOX"}') != 0 or \
   vals.get('peakq_mailbox_up{account="support",mailbox="INBOX"}') != 1:
    bad.append("mailbox_up")
for k in ('peakq_imap_reconnects_total{account="support"}', "peakq_outbox_backlog", "peakq_heartbeat_timestamp_seconds"):
    if k not in vals:
        bad.append("missing " + k)
print("# %d series; %s" % (len(vals), ", ".join(bad) or "all agree with the store"))
sys.exit(1 if bad else 0)
PY
ok $? "metrics agree with the store (cases by category, messages, acks, latency histogram, mailbox up)"
test ! -e "$T/metrics.prom.tmp"
ok $? "no temporary file left (written, then renamed)"
is "$(stat -c %a "$T/metrics.prom")" 640 "the metrics file is mode 0640 (documented), whatever the umask"

# A clean stop, then a hung daemon.
kill -TERM $pid
wait $pid
ok $? "SIGTERM: the daemon stops cleanly"
Q status >"$T/status.txt" 2>"$T/err"
is $? 1 "status after a clean stop: 1"
grep -q "stopped cleanly" "$T/status.txt"
ok $? "and says so"
"$PEAKQD" -c "$T/peakq.yaml" --log=stderr >>"$T/daemon.log" 2>&1 &
pid=$!
alive() { Q status >/dev/null 2>&1; }
wait_until 100 alive
ok $? "restarted: status 0 again"
kill -KILL $pid
wait $pid 2>/dev/null
sleep 8
Q status >"$T/status.txt" 2>"$T/err"
is $? 1 "SIGKILL and two poll intervals later: 1"
grep -q "NOT REPORTING" "$T/status.txt"
ok $? "$(head -1 "$T/status.txt")"
# A failing mailbox caught reconnecting still shows why it failed; one
# that was fine before its reconnect does not show an old error.
sql() { python3 -c 'import sqlite3, sys; d = sqlite3.connect(sys.argv[1]); d.execute(sys.argv[2]); d.commit()' "$T/peakq.db" "$1"; }
sql "UPDATE mailbox SET state = 'connecting' WHERE account = 'broken'"
Q status >"$T/status.txt" 2>/dev/null
grep -q "broken/INBOX  *connecting .*last error.*\(auth\|login\)" "$T/status.txt"
ok $? "reconnecting after a failure, the row shows the last error: $(grep broken "$T/status.txt" | sed 's/  */ /g')"
sql "UPDATE mailbox SET state = 'connecting', last_ok_at = last_error_at + 1 WHERE account = 'broken'"
Q status >"$T/status.txt" 2>/dev/null
grep "broken/INBOX" "$T/status.txt" | grep -q "last error"
ok $((!$?)) "reconnecting after a success, it does not"
Q status --help | grep -q "monitoring check"
ok $? "status --help"
Q status 1 open >/dev/null 2>&1
ok $? "peakq status N open still changes a case"
done_testing
