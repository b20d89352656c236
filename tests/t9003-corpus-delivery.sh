#!/bin/sh
# t9003: real robot and human mail through the real servers. A sample of
# the corpus (../shared/corpus/real: bounces, auto-replies, lists, human and
# CJK mail) is delivered through Postfix -> LMTP -> Dovecot with each
# message's own envelope sender (<> for bounces), then `peakqd --once`.
# Checked as a user would: every message is queued, each case's
# acknowledgement is sent or held back exactly as `peakq rules test`
# predicted on the delivered copy, and the customer mailbox receives those
# acknowledgements and no others. Skipped without the corpus.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip_all "python3 not installed"
CORPUS=${PEAKQ_CORPUS:-$top_srcdir/../shared/corpus/real}
[ -f "$CORPUS/labels.tsv" ] || skip_all "no corpus at $CORPUS"

# The sample: the first messages of each class in name order, one per
# sender (so the per-sender limit does not enter), no mbox files, ASCII
# envelope senders. "PATH<TAB>ENVELOPE-SENDER" per line.
python3 - "$CORPUS" >"$T/sample" <<'PY'
import email, email.policy, email.utils, os, sys
base = sys.argv[1]
want = {"bounce": 20, "autoreply": 12, "list": 12, "human": 12, "cjk": 10,
        "mime-edge": 6}
rows = []
for line in open(os.path.join(base, "labels.tsv"), encoding="utf-8"):
    f = line.rstrip("\n").split("\t")
    if f[0] != "path" and len(f) >= 3:
        rows.append((f[0], f[1], f[2]))
seen, taken = set(), {}
for path, cls, must in sorted(rows):
    if taken.get(cls, 0) >= want.get(cls, 0):
        continue
    if cls == "mime-edge" and must != "yes":
        continue
    full = os.path.join(base, path)
    raw = open(full, "rb").read()
    if raw.startswith(b"From ") or len(raw) > 512 * 1024:
        continue
    m = email.message_from_bytes(raw, policy=email.policy.compat32)
    frm = email.utils.parseaddr(m.get("From", ""))[1].lower()
    rp = m.get("Return-Path")
    env = email.utils.parseaddr(rp)[1] if rp else frm
    if rp is not None and rp.strip() in ("<>", ""):
        env = "<>"
    if not env or not env.isascii() or " " in env or frm in seen:
        continue
    seen.add(frm)
    taken[cls] = taken.get(cls, 0) + 1
    print("%s\t%s" % (full, env))
PY
n=$(wc -l <"$T/sample" | tr -d ' ')
[ "$n" -ge 50 ]
ok $? "a sample of $n corpus messages"

mailenv_start
write_config implicit localhost
ENV="$T/m/env"
sent=0
while IFS='	' read -r path envfrom; do
	if $IMAPC "$ENV" send "$envfrom" support@example.test "$path" \
		>>"$T/send.log" 2>&1; then
		sent=$((sent + 1))
	else
		diag "the MTA refused $path (envelope $envfrom)"
	fi
done <"$T/sample"
[ "$sent" -ge $((n - 2)) ]
ok $? "$sent of $n accepted by Postfix"
$IMAPC "$ENV" wait INBOX "$sent" 60
ok $? "all $sent delivered to the support INBOX"

# What the dry run says about the copies as delivered (with the
# Return-Path LMTP added), keyed by UID.
$IMAPC "$ENV" dump INBOX "$T/delivered" >/dev/null
"$PEAKQ" rules test --rules "$top_srcdir/rules" --json "$T/delivered" \
	>"$T/dry.json" 2>"$T/dry.err"
ok $? "peakq rules test on the delivered copies"

"$PEAKQD" -c "$T/peakq.yaml" --once --log=stderr >"$T/run.log" 2>&1
ok $? "peakqd --once"

"$PEAKQ" -c "$T/peakq.yaml" list --json --all >"$T/list.json"
python3 -c 'import json,sys
for c in json.load(open(sys.argv[1])): print(c["id"])' "$T/list.json" >"$T/ids"
: >"$T/shows"
while read -r id; do
	"$PEAKQ" -c "$T/peakq.yaml" show --json "$id" >>"$T/shows" || echo "# show $id failed"
	echo >>"$T/shows"
done <"$T/ids"

python3 - "$T/dry.json" "$T/shows" "$sent" >"$T/cmp" <<'PY'
import json, os, sys
dry = {}
for line in open(sys.argv[1], encoding="utf-8"):
    r = json.loads(line)
    dry[int(os.path.basename(r["file"]).split(".")[0])] = r
shows, buf = [], ""
for line in open(sys.argv[2], encoding="utf-8"):
    if line.strip():
        buf += line
    elif buf:
        shows.append(json.loads(buf)); buf = ""
if buf:
    shows.append(json.loads(buf))
nmsg = sum(len(s["messages"]) for s in shows)
print("%d every message queued (%d in %d cases)"
      % (nmsg != int(sys.argv[3]), nmsg, len(shows)))
bad, acked, held = [], [], 0
for s in shows:
    first = s["messages"][0]
    d = dry.get(first["uid"])
    acks = [o for o in s["outbox"] if o["kind"] == "ack"]
    real = bool(acks) and acks[0]["state"] == "sent"
    if d is None:
        bad.append("case %d: uid %s not in the dry run" % (s["case"]["id"], first["uid"]))
        continue
    if real != bool(d["ack"]):
        bad.append("case %d (uid %d): dry run %s, real %s" % (
            s["case"]["id"], first["uid"], d["suppressed"] or "ack",
            acks[0]["state"] + "/" + str(acks[0]["reason"]) if acks else "no row"))
    if real:
        acked.append((acks[0]["rcpt"], acks[0]["message_id"], first["message_id"]))
    else:
        held += 1
    for m in s["messages"][1:]:
        print("#   uid %d joined case %d (a follow-up, not acknowledged)"
              % (m["uid"], s["case"]["id"]))
for b in bad:
    print("#   " + b)
print("%d every ack sent or held back as the dry run said (%d sent, %d held back)"
      % (bool(bad), len(acked), held))
with open(os.path.join(os.path.dirname(sys.argv[1]), "acked.tsv"), "w") as f:
    for a in acked:
        f.write("\t".join(x or "" for x in a) + "\n")
PY
while read -r status what; do
	case $status in
	'#') echo "$status $what" ;;
	*) ok "$status" "$what" ;;
	esac
done <"$T/cmp"

# The customer mailbox (every outside address lands there) holds exactly
# the acknowledgements sent, each to the right address and in reply to its
# message.
nacks=$(wc -l <"$T/acked.tsv" | tr -d ' ')
if [ "$nacks" -gt 0 ]; then
	$IMAPC "$ENV" --as customer wait INBOX "$nacks" 60
	ok $? "$nacks acknowledgements arrive"
fi
sleep 1
$IMAPC "$ENV" --as customer dump INBOX "$T/acks" >/dev/null
python3 - "$T/acks" "$T/acked.tsv" <<'PY'
import email, email.policy, glob, os, sys
want = {}
for line in open(sys.argv[2], encoding="utf-8"):
    rcpt, ack_id, orig = line.rstrip("\n").split("\t")
    want[ack_id.strip("<>")] = (rcpt.lower(), orig.strip("<>"))
got = {}
for f in glob.glob(os.path.join(sys.argv[1], "*.eml")):
    m = email.message_from_bytes(open(f, "rb").read(), policy=email.policy.default)
    got[(m["Message-ID"] or "").strip().strip("<>")] = m
problems = []
for ack_id, (rcpt, orig) in want.items():
    m = got.pop(ack_id, None)
    if m is None:
        problems.append("ack %s to %s never arrived" % (ack_id, rcpt))
        continue
    to = m["To"].addresses[0].addr_spec.lower() if m["To"] and m["To"].addresses else ""
    if to != rcpt:
        problems.append("ack %s: To %s, outbox says %s" % (ack_id, to, rcpt))
    if orig and (m["In-Reply-To"] or "").strip().strip("<>") != orig:
        problems.append("ack %s: In-Reply-To %r, want %r" % (ack_id, m["In-Reply-To"], orig))
for ack_id in got:
    problems.append("an acknowledgement nobody sent: %s" % ack_id)
for p in problems:
    print("#   " + p)
sys.exit(1 if problems else 0)
PY
ok $? "the customer mailbox holds exactly those acknowledgements"
done_testing
