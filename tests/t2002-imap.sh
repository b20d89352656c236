#!/bin/sh
# t2002: what peakqd does on the IMAP side, against the real Dovecot:
# after_ingest seen and move; the size cap; mail that cannot be parsed still
# becomes a case with its raw bytes; a changed UIDVALIDITY rescans without
# ingesting anything twice.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip_all "python3 not installed"
mailenv_start
ENV="$T/m/env"
once() { # NAME
	"$PEAKQD" -c "$T/peakq.yaml" --once --log=stderr >"$T/$1.log" 2>&1
}
ncases() {
	"$PEAKQ" -c "$T/peakq.yaml" list --json --all |
		python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'
}
fresh() {
	rm -f "$T"/peakq.db*
	write_config implicit localhost
}

# after_ingest: seen
$IMAPC "$ENV" append INBOX "$DATA/holiday/01-late-en.eml" \
	"$DATA/holiday/02-lost-en-qp.eml" >/dev/null
fresh
sed -i 's/^    mailboxes: \[INBOX\]/    mailboxes: [INBOX]\n    after_ingest: seen/' "$T/peakq.yaml"
once seen
is "$?" 0 "after_ingest seen: run ok"
is "$($IMAPC "$ENV" flags INBOX | grep -c '\\Seen')" 2 "both server copies are \\Seen"
grep -q PeakqQueued "$($IMAPC "$ENV" flags INBOX >"$T/f"; echo "$T/f")"
ok $((!$?)) "and carry no keyword"

# after_ingest: move
fresh
sed -i 's/^    mailboxes: \[INBOX\]/    mailboxes: [INBOX]\n    after_ingest: {move: Queued}/' "$T/peakq.yaml"
once move
is "$?" 0 "after_ingest move: run ok"
is "$(ncases)" 2 "move: both messages queued"
is "$($IMAPC "$ENV" count INBOX)" 0 "move: INBOX is empty"
is "$($IMAPC "$ENV" count Queued)" 2 "move: both are in Queued"
once move-again
is "$(ncases)" 2 "move: a second run finds nothing new"

# The size cap: a 300 KB message with max_message_size 64K.
fresh
sed -i 's/^poll_interval: 2s/poll_interval: 2s\nmax_message_size: 64K/' "$T/peakq.yaml"
python3 - "$T/big.eml" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("Return-Path: <big@example.net>\nFrom: big@example.net\n"
            "To: support@example.test\nSubject: photos of the broken vase\n"
            "Message-ID: <big-1@example.net>\nMIME-Version: 1.0\n"
            "Content-Type: multipart/mixed; boundary=b\n\n--b\n"
            "Content-Type: text/plain\n\nThe vase arrived broken, photos "
            "attached. Order 111-2223334-4455566.\n--b\n"
            "Content-Type: image/jpeg\nContent-Transfer-Encoding: base64\n\n")
    for i in range(4000):
        f.write("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2\n")
    f.write("--b--\n")
PY
$IMAPC "$ENV" append INBOX "$T/big.eml" >/dev/null
once big
is "$?" 0 "size cap: run ok"
is "$(ncases)" 1 "size cap: the big message is a case"
"$PEAKQ" -c "$T/peakq.yaml" show --json 1 >"$T/big.json"
python3 - "$T/big.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["case"]["category"] == "damaged", d["case"]
assert d["case"]["order_id"] == "111-2223334-4455566"
assert d["messages"][0]["size"] == 65536, d["messages"][0]["size"]
assert any(e["kind"] == "truncated" for e in d["events"]), d["events"]
PY
ok $? "size cap: stored truncated to 64K, classified from its text, event recorded"
grep -q "stored truncated to 65536" "$T/big.log"
ok $? "size cap: logged"

# Big messages go one per fetch (libetpan holds a whole response in memory).
fresh
$IMAPC "$ENV" delete-all INBOX >/dev/null
for i in 1 2 3; do
	# different orders: the same customer about the same order would be
	# a follow-up of one case
	sed -e "s/big-1@/big-$i-3m@/" -e "s/111-2223334-4455566/111-2223334-445556$i/" \
		"$T/big.eml" >"$T/big$i.eml"
	python3 -c 'import sys
f = open(sys.argv[1], "a")
for i in range(45000): f.write("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2\n")' "$T/big$i.eml"
done
$IMAPC "$ENV" append INBOX "$T/big1.eml" "$T/big2.eml" "$T/big3.eml" >/dev/null
"$PEAKQD" -c "$T/peakq.yaml" --once -v --log=stderr >"$T/big3.log" 2>&1
is "$?" 0 "three 3 MB messages: run ok"
is "$(ncases)" 3 "three 3 MB messages: three cases"
is "$(grep -c 'imap: fetch account=support mailbox=INBOX uids=1 ' "$T/big3.log")" 3 \
	"three 3 MB messages: one fetch each"

# Unparseable mail: still a case, raw bytes kept, never acknowledged.
fresh
$IMAPC "$ENV" delete-all INBOX >/dev/null
printf '\001\002 no header block at all\n\211PNG\n' >"$T/garbage.eml"
$IMAPC "$ENV" append INBOX "$T/garbage.eml" >/dev/null
once garbage
is "$?" 0 "garbage: run ok"
is "$(ncases)" 1 "garbage: it is a case"
is "$(outbox_field 1 state)" suppressed "garbage: no acknowledgement"
is "$(outbox_field 1 reason)" parse-error "garbage: suppressed because it could not be parsed"
"$PEAKQ" -c "$T/peakq.yaml" show --raw 1 >"$T/garbage.out"
python3 - "$T/garbage.eml" "$T/garbage.out" <<'PY'
import sys
a = open(sys.argv[1], "rb").read().replace(b"\n", b"\r\n")
b = open(sys.argv[2], "rb").read()
sys.exit(0 if a == b else "raw differs: %r vs %r" % (a, b))
PY
ok $? "garbage: the raw bytes are kept exactly"
grep -q "message kept unparsed case=1" "$T/garbage.log"
ok $? "garbage: logged"

# UIDVALIDITY changes: the folder is recreated with the same messages.
# (5 acknowledgements so far: seen 2, move 2, size cap 1.)
$IMAPC "$ENV" --as customer wait INBOX 5 30
before=$($IMAPC "$ENV" --as customer count INBOX)
fresh
$IMAPC "$ENV" create Amazon
$IMAPC "$ENV" append Amazon "$DATA/holiday/03-gift-en-html.eml" \
	"$DATA/holiday/04-late-zh-b64.eml" >/dev/null
sed -i 's/^    mailboxes: \[INBOX\]/    mailboxes: [Amazon]/' "$T/peakq.yaml"
once uv1
is "$(ncases)" 2 "uidvalidity: two cases"
uv1=$($IMAPC "$ENV" uidvalidity Amazon)
$IMAPC "$ENV" delete Amazon
sleep 1
$IMAPC "$ENV" create Amazon
$IMAPC "$ENV" append Amazon "$DATA/holiday/03-gift-en-html.eml" \
	"$DATA/holiday/04-late-zh-b64.eml" "$DATA/holiday/05-damaged-zh-gb2312.eml" >/dev/null
uv2=$($IMAPC "$ENV" uidvalidity Amazon)
[ "$uv1" != "$uv2" ]
ok $? "uidvalidity: the server gave the folder a new UIDVALIDITY ($uv1 -> $uv2)"
once uv2
is "$?" 0 "uidvalidity: run ok"
is "$(ncases)" 3 "uidvalidity: only the new message is a new case"
grep -q "UIDVALIDITY of account=support mailbox=Amazon changed" "$T/uv2.log"
ok $? "uidvalidity: the change is logged"
is "$(grep -c 'duplicate of case' "$T/uv2.log")" 2 "uidvalidity: the two copies are recognised"
is "$(grep -c '\$PeakqQueued' "$($IMAPC "$ENV" flags Amazon >"$T/f"; echo "$T/f")")" 3 \
	"uidvalidity: all three copies flagged"
$IMAPC "$ENV" --as customer wait INBOX $((before + 3)) 30
sleep 2
is "$($IMAPC "$ENV" --as customer count INBOX)" $((before + 3)) \
	"uidvalidity: three acknowledgements in all, none twice"

# A server that stops answering: each read gives up after the timeout.
rm -f "$T/imap-peer.port"
python3 "$top_srcdir/tests/servers/imap-peer.py" --stall \
	--port-file "$T/imap-peer.port" --log "$T/imap-peer.log" &
ipid=$!
wait_until 100 test -s "$T/imap-peer.port"
fresh
write_config none 127.0.0.1
sed -i -e "s/port: $PQ_IMAP_PORT/port: $(cat "$T/imap-peer.port")/" \
	-e 's/^      tls: none/      tls: none\n      timeout: 2s/' "$T/peakq.yaml"
start=$(date +%s)
once stall
rc=$?
took=$(($(date +%s) - start))
is "$rc" 75 "stalled server: --once gives up (exit 75)"
[ "$took" -le 10 ]
ok $? "stalled server: within the 2 s read timeout ($took s)"
grep -q "imap: capability.*no answer within the timeout\|no answer within the timeout" "$T/stall.log"
ok $? "stalled server: the error says so"
grep 'error' "$T/stall.log" | sed 's/^/#   /'
kill $ipid 2>/dev/null
wait $ipid 2>/dev/null
done_testing
