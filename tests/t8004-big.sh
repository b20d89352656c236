#!/bin/sh
# t8004: big inputs. 10,000 messages (PQ_BIG_N) waiting in the INBOX when
# peakqd starts, plus one 50 MB message: every message becomes a case and
# is flagged, the 50 MB one stored truncated to max_message_size (32M)
# with an event saying so; ingestion does not wait for the 10,000
# acknowledgements (sent to a scripted MTA that takes 0.25 s to accept
# each, so the acknowledgements cannot keep up), which wait until the
# backlog is stored (or 30 s); the daemon's peak memory stays
# bounded; SIGTERM with acknowledgements still queued stops cleanly and
# keeps them queued.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip_all "python3 not installed"
command -v sqlite3 >/dev/null || skip_all "sqlite3 not installed"
N=${PQ_BIG_N:-10000}
# Under valgrind (every program 20-50 times slower) a tenth will do.
[ -z "${PQ_VALGRIND:-}" ] || N=${PQ_BIG_N:-1000}
mailenv_start
ENV="$T/m/env"
write_config implicit localhost
Y="$T/peakq.yaml"
# A slow MTA: were ingestion to wait for SMTP it would take N/4 s at least.
peer_start --delay 0.25
smtp_to_peer "$PEER_PORT"
DB="$T/peakq.db"
q() { sqlite3 "$DB" "$1" 2>/dev/null; }

# N small messages straight into the Maildir, as its owner (APPENDing
# 10,000 would take longer than the test), and one of 50 MB over IMAP.
$IMAPC "$ENV" count INBOX >/dev/null # Dovecot creates the Maildir
python3 - "$PQ_MAIL_DIR" "$N" <<'PY'
import os, sys, time
base, n = sys.argv[1], int(sys.argv[2])
md = None
for root, dirs, files in os.walk(base):
    if os.path.basename(root) == "Maildir" and "/support" in root:
        md = root
        break
assert md, "no Maildir for support under " + base
st = os.stat(md)
now = int(time.time())
for i in range(n):
    name = "%d.M%dP%d.peakq-test" % (now, i, os.getpid())
    path = os.path.join(md, "new", name)
    with open(path, "w") as f:
        f.write("Return-Path: <b%d@buyer.example>\nFrom: Buyer %d <b%d@buyer.example>\n"
                "To: support@example.test\nSubject: Where is my order %d?\n"
                "Message-ID: <big-%d@buyer.example>\nDate: Mon, 28 Dec 2026 10:00:00 +0000\n\n"
                "My Christmas gift has not arrived. Order 112-4839201-%07d.\n" % (i, i, i, i, i, i))
    os.chown(path, st.st_uid, st.st_gid)
PY
is "$($IMAPC "$ENV" count INBOX)" "$N" "$N messages waiting in the INBOX"
python3 - "$T/big.eml" <<'PY'
import base64, os, sys
with open(sys.argv[1], "w") as f:
    f.write("Return-Path: <huge@buyer.example>\nFrom: Huge <huge@buyer.example>\n"
            "To: support@example.test\nSubject: Photos of the damaged parcel\n"
            "Message-ID: <big-huge@buyer.example>\nMIME-Version: 1.0\n"
            "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\n"
            "The parcel arrived crushed, photos attached.\n--b\n"
            "Content-Type: image/jpeg\nContent-Transfer-Encoding: base64\n\n")
    raw = os.urandom(57 * 1024)
    line = base64.encodebytes(raw).decode()
    for _ in range(50 * 1024 * 1024 // len(line) + 1):
        f.write(line)
    f.write("--b--\n")
PY
$IMAPC "$ENV" append INBOX "$T/big.eml" >/dev/null
ok $? "a $(($(stat -c %s "$T/big.eml") / 1048576)) MB message appended"
total=$((N + 1))

start=$(date +%s)
"$PEAKQD" -c "$Y" --log=stderr >"$T/daemon.log" 2>&1 &
pid=$!
ingested() { [ "$(q 'SELECT count(*) FROM message WHERE imap_done = 1')" = "$total" ]; }
wait_until 3000 ingested
ok $? "all $total stored and flagged in $(($(date +%s) - start)) s"
left=$(q "SELECT count(*) FROM outbox WHERE state = 'pending'")
[ "$left" -gt $((total / 2)) ]
ok $? "ingestion did not wait for SMTP: $left acknowledgements still queued when it finished"
# While the backlog is stored the acks wait (at most PQ_ACK_HOLD_SECS, 30):
# the cases go in first. The poll (2 s here) would otherwise send them.
early=$(q "SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL AND sent_at < (SELECT max(ingested_at) FROM message) AND sent_at - created_at < 29")
is "$early" 0 "no acknowledgement left while the backlog was stored, unless it had waited 30 s"
grep -q "storing a backlog: its acknowledgements wait" "$T/daemon.log"
ok $? "the log says the acknowledgements wait for the backlog"
hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$pid/status")
diag "peakqd peak resident memory: $((hwm / 1024)) MiB"
[ "$hwm" -lt $((400 * MEM_FACTOR * 1024)) ]
ok $? "peak memory with a 50 MB message and $N waiting: $((hwm / 1024)) MiB (< $((400 * MEM_FACTOR)))"
is "$(q 'SELECT count(*) FROM cases')" "$total" "one case each"
is "$($IMAPC "$ENV" flags INBOX | grep -c PeakqQueued)" "$total" "every server copy flagged"
trunc=$(q "SELECT count(*) FROM event e JOIN message m ON m.case_id = e.case_id WHERE e.kind = 'truncated' AND m.message_id = 'big-huge@buyer.example'")
is "$trunc" 1 "the 50 MB message is stored truncated, with an event saying so"
size=$(q "SELECT raw_size FROM message WHERE message_id = 'big-huge@buyer.example'")
is "$size" 33554432 "stored size: max_message_size (32M)"
kill -TERM $pid
wait $pid
is $? 0 "SIGTERM with acknowledgements queued: clean stop"
pending=$(q "SELECT count(*) FROM outbox WHERE state IN ('pending','temp_fail')")
unc=$(q "SELECT count(*) FROM outbox WHERE state IN ('sending','uncertain')")
sent=$(q "SELECT count(*) FROM outbox WHERE state = 'sent'")
diag "outbox after the stop: $sent sent, $pending queued, $unc uncertain"
is "$unc" 0 "no acknowledgement left half-sent by a clean stop"
is "$(q 'PRAGMA integrity_check')" ok "integrity_check ok"
done_testing
