#!/bin/sh
# t8003: the store's disk fills up, then becomes read-only. The store lives
# on a small tmpfs (root only). When it is full, ingestion stops with a
# clear error, nothing more is flagged on the server, and it resumes by
# itself once space returns (retrying at most every 30 s): every message
# ends up stored exactly once and flagged. A store on a read-only file
# system: exit 75 with a clear error, nothing flagged, fine once writable.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip_all "needs root to mount a small tmpfs"
command -v python3 >/dev/null || skip_all "python3 not installed"
command -v sqlite3 >/dev/null || skip_all "sqlite3 not installed"
mkdir "$T/state"
mount -t tmpfs -o size=16m,mode=0755 tmpfs "$T/state" 2>"$T/mount.err" ||
	skip_all "cannot mount a tmpfs: $(cat "$T/mount.err")"
umount_state() { umount "$T/state" 2>/dev/null || umount -l "$T/state" 2>/dev/null; }
mailenv_start
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; umount_state; cleanup' EXIT
ENV="$T/m/env"
write_config implicit localhost
Y="$T/peakq.yaml"
sed -i "s|^store: .*|store: $T/state/peakq.db|; s/^poll_interval: .*/poll_interval: 1s/" "$Y"
DB="$T/state/peakq.db"
q() { sqlite3 "$DB" "$1" 2>/dev/null; }

# 40 messages of ~60 KB each from 40 customers (a batch of 25 is 1.5 MB).
mkdir "$T/msgs"
python3 - "$T/msgs" <<'PY'
import os, random, sys
out = sys.argv[1]
rnd = random.Random(3)
words = "where is my order gift christmas parcel tracking late please help".split()
for i in range(40):
    body = "\n".join(" ".join(rnd.choice(words) for _ in range(12)) for _ in range(1000))
    open(os.path.join(out, "%02d.eml" % i), "w").write(
        "Return-Path: <c%d@buyer.example>\nFrom: Customer %d <c%d@buyer.example>\n"
        "To: support@example.test\nSubject: Where is my order %d?\n"
        "Message-ID: <disk-%d@buyer.example>\nDate: Mon, 28 Dec 2026 10:00:00 +0000\n\n%s\n"
        % (i, i, i, i, i, body))
PY

"$PEAKQD" -c "$Y" --log=stderr >"$T/daemon.log" 2>&1 &
pid=$!
wait_until 100 test -s "$DB"
# Leave about 300 KB free.
free_kb=$(df -k --output=avail "$T/state" | tail -1)
fallocate -l $(((free_kb - 300) * 1024)) "$T/state/filler" 2>/dev/null ||
	dd if=/dev/zero of="$T/state/filler" bs=1k count=$((free_kb - 300)) 2>/dev/null
$IMAPC "$ENV" append INBOX "$T"/msgs/*.eml >/dev/null
full() { grep -q "database or disk is full" "$T/daemon.log"; }
wait_until 300 full
ok $? "a full disk is reported: $(grep -m1 'disk is full' "$T/daemon.log" | sed 's/^peakqd: //')"
sleep 3
stored=$(q 'SELECT count(*) FROM message')
flagged=$($IMAPC "$ENV" flags INBOX | grep -c PeakqQueued)
diag "while full: $stored stored, $flagged flagged on the server"
[ "$stored" -lt 40 ]
ok $? "ingestion stopped ($stored of 40 stored)"
[ "$flagged" -le "$stored" ]
ok $? "nothing flagged that is not stored ($flagged <= $stored)"
kill -0 $pid
ok $? "the daemon is still running"

rm -f "$T/state/filler"
all_done() {
	[ "$(q 'SELECT count(*) FROM message')" = 40 ] &&
		[ "$($IMAPC "$ENV" flags INBOX | grep -c PeakqQueued)" = 40 ]
}
wait_until 600 all_done
ok $? "space is back: it resumes by itself, all 40 stored and flagged"
# The flags are set on the server before the pass that set them ends
# and logs the recovery: wait for the line (slow under valgrind).
wait_until 300 grep -q "the store works again after [0-9]* failed attempt" "$T/daemon.log"
ok $? "and says so"
! grep -q "retry in \([4-9][0-9]\|[0-9][0-9][0-9]\)s" "$T/daemon.log"
ok $? "retrying at most every 30 s meanwhile (the store's trouble, not the server's)"
is "$(q 'SELECT count(DISTINCT message_id) FROM message')" 40 "each once"
is "$(q 'PRAGMA integrity_check')" ok "integrity_check ok"

# A read-only store (a read-only bind mount of the same folder).
kill -TERM $pid
wait $pid
pid=
mkdir "$T/ro"
mount --bind "$T/state" "$T/ro" && mount -o remount,ro,bind "$T/ro"
ok $? "a read-only view of the store's folder"
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; umount "$T/ro" 2>/dev/null; umount_state; cleanup' EXIT
sed "s|^store: .*|store: $T/ro/peakq.db|" "$Y" >"$T/ro.yaml"
$IMAPC "$ENV" append INBOX "$DATA/holiday/01-late-en.eml" >/dev/null
"$PEAKQD" -c "$T/ro.yaml" --once --log=stderr >"$T/ro.log" 2>&1
is $? 75 "peakqd on a read-only store: exit 75 (temporary)"
grep -q "store: '$T/ro/peakq.db' is on a read-only file system" "$T/ro.log"
ok $? "with a clear error: $(grep -m1 'store' "$T/ro.log" | sed 's/^peakqd: //')"
is "$($IMAPC "$ENV" flags INBOX | grep -c PeakqQueued)" 40 "the new message is not flagged"
umount "$T/ro"
"$PEAKQD" -c "$Y" --log=stderr >"$T/daemon2.log" 2>&1 &
pid=$!
back() { [ "$(q 'SELECT count(*) FROM message')" = 41 ] && [ "$($IMAPC "$ENV" flags INBOX | grep -c PeakqQueued)" = 41 ]; }
wait_until 300 back
ok $? "writable again: the message is stored and flagged"
kill -TERM $pid
wait $pid
is $? 0 "clean stop"
pid=
done_testing
