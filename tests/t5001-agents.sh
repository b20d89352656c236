#!/bin/sh
# t5001: the agents' CLI on a queue the real daemon filled (Dovecot +
# Postfix, the sample holiday mail): list filters and formats, next and
# claim (never two owners), release, notes from arguments, stdin and
# $EDITOR, status changes and the first-reply time, escalation, tags,
# priority, search (English, Chinese across scripts, order id, address,
# notes), a customer writing back to a pending case, exit codes (busy
# store: 75), and CJK text aligned in the table.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip_all "python3 not installed"
mailenv_start
write_config implicit localhost
echo "escalate_to: [Sam Supervisor <sam@shop.example>, lead@shop.example]" >>"$T/peakq.yaml"
ENV="$T/m/env"
Q() { "$PEAKQ" -c "$T/peakq.yaml" "$@"; }
as() { # AGENT COMMAND...: run peakq as AGENT
	_a=$1
	shift
	PEAKQ_AGENT=$_a "$PEAKQ" -c "$T/peakq.yaml" "$@"
}
jq_() { # PYTHON-EXPR over the JSON on stdin (bound to d)
	python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"
}
field() { # CASE FIELD
	Q show --json "$1" | jq_ "d['case']['$2'] if d['case']['$2'] is not None else '-'"
}

cp "$DATA"/holiday/*.eml "$T/"
# A subject a spreadsheet would run as a formula, for the CSV check.
cat >"$T/formula.eml" <<'EOM'
From: Eve <eve@example.net>
To: support@example.test
Subject: =HYPERLINK("http://evil.example/","click")
Message-ID: <formula-1@example.net>
Content-Type: text/plain; charset=utf-8

Where is order 111-2223334-4445556? It is late.
EOM
$IMAPC "$ENV" append INBOX "$T"/*.eml >/dev/null
"$PEAKQD" -c "$T/peakq.yaml" --once --log=stderr 2>"$T/once.log"
ok $? "peakqd ingested the sample mail"
n=$(Q list --json | jq_ 'len(d)')
is "$n" 13 "13 cases in the queue"

# --- list: order, filters, formats
first=$(Q list --json | jq_ 'd[0]["escalated"]')
is "$first" True "escalated cases come first"
Q list --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
rank = {"urgent": 0, "high": 1, "normal": 2, "low": 3}
key = [(not c["escalated"], not c["overdue"], rank[c["priority"]], c["due_at"]) for c in d]
sys.exit(0 if key == sorted(key) else 1)'
ok $? "then overdue, priority and due time"
is "$(Q list --json --category late_delivery | jq_ 'sorted(set(c["category"] for c in d))')" \
	"['late_delivery']" "--category"
is "$(Q list --json --priority normal | jq_ 'sorted(set(c["priority"] for c in d))')" \
	"['normal']" "--priority"
is "$(Q list --json --mailbox support | jq_ 'len(d)')" 13 "--mailbox ACCOUNT"
is "$(Q list --json --mailbox support/INBOX | jq_ 'len(d)')" 13 "--mailbox ACCOUNT/FOLDER"
is "$(Q list --json --mailbox other | jq_ 'len(d)')" 0 "--mailbox of no case"
is "$(Q list --json --since 1h | jq_ 'len(d)')" 13 "--since 1h"
is "$(Q list --json --since 2099-01-01 | jq_ 'len(d)')" 0 "--since a future date"
is "$(Q list --json --overdue | jq_ 'len(d)')" 0 "--overdue: none yet"
is "$(Q list --json --due-within 3h | jq_ 'sorted(set(c["sla_hours"] <= 3 for c in d))')" \
	"[True]" "--due-within 3h: only cases due that soon"
Q list --bogus >/dev/null 2>&1
is $? 2 "an unknown option is a usage error (2)"
Q list --priority extreme >/dev/null 2>"$T/err"
is $? 2 "an unknown priority is a usage error"
grep -q "urgent, high, normal, low" "$T/err"
ok $? "and the message lists the valid ones"
Q list --due-within soon >/dev/null 2>&1
is $? 2 "--due-within needs a time"

Q list --csv >"$T/list.csv"
python3 - "$T/list.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="", encoding="utf-8")))
subj = [r["subject"] for r in rows if r["customer"] == "eve@example.net"][0]
ok = len(rows) == 13 and subj.startswith("'=HYPERLINK")
ok = ok and all(not r["subject"].startswith(("=", "+", "@")) for r in rows)
sys.exit(0 if ok else 1)
PY
ok $? "--csv: 13 rows; a formula-like subject is quoted with '"
head -1 "$T/list.csv" | grep -q '^"id","status","priority","category"'
ok $? "--csv has a header line"

# CJK text lines up: every table row has the same display width.
COLUMNS=120 Q list >"$T/table.txt"
python3 - "$T/table.txt" <<'PY'
import sys, unicodedata
def width(s):
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 0 if unicodedata.combining(c) else 1 for c in s)
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
ws = {width(l) for l in lines}
cjk = any(ord(c) > 0x3000 for l in lines for c in l)
print("# widths", ws, "cjk", cjk)
sys.exit(0 if len(ws) == 1 and ws.pop() <= 120 and cjk and len(lines) == 14 else 1)
PY
ok $? "the table: 14 lines of one display width (<= 120), Chinese subjects aligned"
COLUMNS=80 Q list >"$T/narrow.txt"
python3 -c '
import sys, unicodedata
w = lambda s: sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)
sys.exit(0 if max(w(l) for l in open(sys.argv[1], encoding="utf-8").read().splitlines()) <= 80 else 1)' "$T/narrow.txt"
ok $? "an 80-column terminal gets an 80-column table"

# --- next and claim: one owner at a time
esc=$(Q list --json | jq_ 'd[0]["id"]')
as alice next >"$T/next.txt"
ok $? "alice: peakq next"
grep -q "You have case $esc now" "$T/next.txt"
ok $? "next gives the most urgent case (the escalated one)"
is "$(field "$esc" assignee) $(field "$esc" status)" "alice open" "it is alice's and open"
b=$(as bob next --json | jq_ 'd["case"]["id"]')
test -n "$b" && test "$b" != "$esc"
ok $? "bob's next is another case ($b)"
as bob claim "$esc" >/dev/null 2>"$T/err"
is $? 1 "bob cannot claim alice's case (exit 1)"
grep -q "claimed by alice" "$T/err"
ok $? "the message names the owner"
as bob next --category gift_options --json | jq_ 'd["case"]["category"]' >"$T/cat"
is "$(cat "$T/cat")" gift_options "next --category"
as alice claim "$esc" | grep -q "already yours"
ok $? "claiming your own case again is fine"
as bob claim --force "$esc" >/dev/null
ok $? "bob takes it over with --force"
Q show --json "$esc" | jq_ '[e["detail"] for e in d["events"] if e["kind"] == "claimed"][-1]' >"$T/ev"
is "$(cat "$T/ev")" "taken over from alice" "the take-over is logged"
as alice release "$esc" >/dev/null 2>&1
is $? 1 "alice cannot release bob's case"
as bob release "$esc" >/dev/null
ok $? "bob releases it"
Q list --json --unassigned | jq_ "$esc in [c['id'] for c in d]" >"$T/un"
is "$(cat "$T/un")" True "it is back among the unassigned"
as carol assign "$esc" dave >/dev/null
is "$(field "$esc" assignee)" dave "a supervisor assigns it to dave"
is "$(as dave list --json --assignee me | jq_ "[c['id'] for c in d]")" "[$esc]" \
	"--assignee me: dave's cases"
sed "s|^store: .*|store: $T/nonexistent.db|" "$T/peakq.yaml" >"$T/nostore.yaml"
"$PEAKQ" -c "$T/nostore.yaml" list >/dev/null 2>"$T/err"
is $? 69 "no store: exit 69"
grep -q "does not exist" "$T/err"
ok $? "with a message: $(cat "$T/err")"
Q claim 9999 >/dev/null 2>&1
is $? 1 "no such case: exit 1"
Q claim twelve >/dev/null 2>&1
is $? 2 "not a case number: exit 2"
PEAKQ_AGENT="bad name" "$PEAKQ" -c "$T/peakq.yaml" claim 1 >/dev/null 2>&1
is $? 2 "an agent name with a space is refused"

# --- notes
as dave note "$esc" "Called the customer -- refund agreed, -5% coupon" >/dev/null
ok $? "a note from the arguments (dashes and all)"
echo "Courier confirmed: lost in the depot." | as dave note "$esc" >/dev/null
ok $? "a note from standard input"
cat >"$T/editor.sh" <<'EOE'
#!/bin/sh
printf 'Written in the editor.\n# a comment line, dropped\n' >"$1"
EOE
chmod +x "$T/editor.sh"
EDITOR="$T/editor.sh" as dave note --edit "$esc" >/dev/null
ok $? "a note written in \$EDITOR"
printf '\n  \n' | as dave note "$esc" >/dev/null 2>&1
is $? 1 "an empty note is refused"
notes=$(Q show --json "$esc" | jq_ '[n["text"] for n in d["notes"]]')
is "$notes" "['Called the customer -- refund agreed, -5% coupon', 'Courier confirmed: lost in the depot.', 'Written in the editor.']" \
	"three notes, in order, the editor's without its comment line"
Q show "$esc" | grep -q "note 2 by dave"
ok $? "show prints the notes with their author"

# --- status, resolve, reopen
is "$(field "$esc" first_reply_at)" - "no first reply yet"
as dave status "$esc" pending --note "Asked for a photo" >/dev/null
ok $? "status pending with a note"
is "$(field "$esc" status)" pending "the case is pending"
test "$(field "$esc" first_reply_at)" != -
ok $? "pending sets the first-reply time"
Q show "$esc" | grep -q "answered, waiting for the customer"
ok $? "show tells the SLA state"
as erin resolve "$esc" >/dev/null 2>&1
is $? 1 "erin cannot resolve dave's case"
as erin resolve --force "$esc" >/dev/null
ok $? "with --force she can"
Q show --json "$esc" | jq_ '[e["detail"] for e in d["events"] if e["kind"] == "status"][-1]' >"$T/ev"
is "$(cat "$T/ev")" "pending -> resolved (case of dave)" "logged as a change to dave's case"
is "$(Q list --json | jq_ "$esc in [c['id'] for c in d]")" False "resolved cases leave the queue"
as dave claim "$esc" >/dev/null 2>"$T/err"
is $? 1 "a resolved case cannot be claimed"
grep -q "reopen" "$T/err"
ok $? "and the message says to reopen it"
as dave reopen "$esc" >/dev/null
is "$(field "$esc" status) $(field "$esc" resolved_at)" "open -" "reopen"
as dave status "$esc" closed >/dev/null 2>&1
is $? 2 "an unknown status is a usage error"

# --- a customer writes back to a pending case: open again
pend=$(Q list --json --category damaged | jq_ 'd[0]["id"]')
cust=$(field "$pend" customer)
order=$(field "$pend" order_id)
as frank status "$pend" pending >/dev/null
printf 'From: %s\nTo: support@example.test\nSubject: Re: photo\nMessage-ID: <photo-1@example.net>\nContent-Type: text/plain; charset=utf-8\n\nHere is the photo for %s.\n' \
	"$cust" "$order" >"$T/reply.eml"
$IMAPC "$ENV" append INBOX "$T/reply.eml" >/dev/null
"$PEAKQD" -c "$T/peakq.yaml" --once --log=stderr 2>>"$T/once.log"
is "$(field "$pend" status)" open "the customer's reply makes a pending case open again"
is "$(Q list --json | jq_ 'len(d)')" 13 "and adds no case"

# --- escalate, tags, priority
c2=$(Q list --json --category wrong_item | jq_ 'd[0]["id"]')
as gina escalate "$c2" >/dev/null 2>&1
is $? 2 "escalate needs a reason"
as gina escalate "$c2" --reason "Customer is a repeat buyer, third wrong item" >/dev/null
ok $? "escalate with a reason"
Q list --json --escalated | jq_ "[c['escalation'] for c in d if c['id'] == $c2]" >"$T/esc"
is "$(cat "$T/esc")" "['Customer is a repeat buyer, third wrong item']" \
	"list --escalated: the supervisors' view, with the reason"
is "$(Q list --json | jq_ 'd[0]["escalated"] and d[1]["escalated"]')" True \
	"escalated cases lead the queue"
# The supervisors are told by mail, through the outbox the daemon sends:
# for the complaint the rules escalated at ingest, and for gina's.
is "$(Q outbox --json --all | jq_ "sum(1 for o in d if o['kind'] == 'escalation')")" 4 \
	"four escalation mails queued (two cases, two supervisors)"
"$PEAKQD" -c "$T/peakq.yaml" --once --log=stderr 2>>"$T/once.log"
$IMAPC "$ENV" --as customer dump INBOX "$T/inbox" >/dev/null
python3 - "$T/inbox" "$c2" <<'PY'
import email, glob, sys
from email import policy
c2 = sys.argv[2]
esc = []
for f in glob.glob(sys.argv[1] + "/*"):
    m = email.message_from_binary_file(open(f, "rb"), policy=policy.default)
    if "Escalated" in str(m["Subject"]):
        esc.append(m)
tos = sorted(str(m["To"]) for m in esc)
ok = len(esc) == 4 and tos == ["lead@shop.example"] * 2 + ["sam@shop.example"] * 2
mine = [m for m in esc if ("[Case #%s]" % c2) in str(m["Subject"])]
body = mine[0].get_content() if mine else ""
ok = ok and len(mine) == 2 and "Customer is a repeat buyer" in body and "escalated by gina" in body
ok = ok and all(m["Auto-Submitted"] == "auto-generated" for m in esc)
rule = [m for m in esc if m not in mine]
ok = ok and "by rule complaint" in rule[0].get_content()
print("# %d escalation mails: %s" % (len(esc), [str(m["Subject"]) for m in esc][:2]))
sys.exit(0 if ok else 1)
PY
ok $? "the supervisors got them: the reason, who escalated, auto-generated"
as gina escalate "$c2" --clear >/dev/null
is "$(field "$c2" escalated)" False "--clear takes it back"
as gina tag "$c2" +vip +refund -none >/dev/null
is "$(Q show --json "$c2" | jq_ 'd["case"]["tags"]')" "['vip', 'refund']" "tags added"
as gina tag "$c2" -vip >/dev/null
is "$(Q show --json "$c2" | jq_ 'd["case"]["tags"]')" "['refund']" "a tag removed"
as gina tag "$c2" "+two words" >/dev/null 2>&1
is $? 2 "a tag with a space is refused"
as gina priority "$c2" urgent >/dev/null
is "$(field "$c2" priority)" urgent "priority set"
Q show --json "$c2" | jq_ '[e["kind"] + ":" + e["actor"] for e in d["events"] if e["actor"] == "gina"]' >"$T/ev"
is "$(cat "$T/ev")" "['escalated:gina', 'deescalated:gina', 'tags:gina', 'tags:gina', 'priority:gina']" \
	"every change is an event with its actor"

# --- reply: a canned reply, edited, sent through the outbox, threaded
rc_=$(Q list --json --category late_delivery | jq_ '[c for c in d if c["lang"] == "en" and not c["assignee"]][0]["id"]')
as ivy claim "$rc_" >/dev/null
Q reply --dry-run "$rc_" >"$T/dry.eml"
ok $? "reply --dry-run prints the filled reply"
python3 - "$T/dry.eml" "$rc_" <<'PY'
import email, sys
from email import policy
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=policy.default)
ok = ("[Case #%s]" % sys.argv[2]) in str(m["Subject"]) and m["In-Reply-To"] and m["Auto-Submitted"] is None
ok = ok and "[WHAT THE TRACKING SHOWS" in m.get_content()
sys.exit(0 if ok else 1)
PY
ok $? "threaded, [Case #N] in the subject, not marked automatic, placeholders visible"
as jack reply "$rc_" >/dev/null 2>"$T/err" </dev/null
is $? 1 "jack cannot answer ivy's case"
grep -q "claimed by ivy" "$T/err"
ok $? "and is told whose it is"
printf '#!/bin/sh\nexit 0\n' >"$T/noop-editor"
chmod +x "$T/noop-editor"
EDITOR="$T/noop-editor" as ivy reply "$rc_" >/dev/null 2>"$T/err"
is $? 1 "a reply with its [...] parts unfilled is not sent"
draft=$(sed -n 's/^Your text is kept: peakq reply --draft \([^ ]*\) .*/\1/p' "$T/err")
test -f "$draft"
ok $? "the draft is kept: $(head -1 "$T/err")"
cat >"$T/fill-editor" <<'EOE'
#!/bin/sh
sed -i 's/\[WHAT THE TRACKING SHOWS, AND THE NEW DELIVERY ESTIMATE\]/it left the Leipzig hub this morning and should arrive on Friday/' "$1"
EOE
chmod +x "$T/fill-editor"
EDITOR="$T/fill-editor" as ivy reply --draft "$draft" "$rc_" >"$T/out" 2>&1
ok $? "the filled reply is sent: $(cat "$T/out")"
is "$(field "$rc_" status)" pending "the case is pending"
test "$(field "$rc_" first_reply_at)" != -
ok $? "and has its first reply time"
Q show --json "$rc_" | jq_ '[o["state"] for o in d["outbox"] if o["kind"] == "reply"] + [e["detail"] for e in d["events"] if e["kind"] == "replied"]' >"$T/r"
is "$(cat "$T/r")" "['sent', 'replies/late_delivery']" "outbox row sent, 'replied' event with the template"
$IMAPC "$ENV" --as customer dump INBOX "$T/inbox2" >/dev/null
cmid=$(Q show --json "$rc_" | jq_ 'd["messages"][-1]["message_id"]')
python3 - "$T/inbox2" "$rc_" "$cmid" <<'PY'
import email, glob, sys
from email import policy
found = []
for f in glob.glob(sys.argv[1] + "/*"):
    m = email.message_from_binary_file(open(f, "rb"), policy=policy.default)
    if "Leipzig" in (m.get_content() if m.get_content_type() == "text/plain" else ""):
        found.append(m)
m = found[0] if len(found) == 1 else None
ok = m is not None and ("[Case #%s]" % sys.argv[2]) in str(m["Subject"])
ok = ok and m["In-Reply-To"] == "<%s>" % sys.argv[3] and m["Auto-Submitted"] is None
ok = ok and "[WHAT" not in m.get_content()
sys.exit(0 if ok else 1)
PY
ok $? "the customer got it once: threaded on their message, [Case #N], the agent's words"

# --- watch: one frame
COLUMNS=100 LINES=30 Q watch --once >"$T/watch.txt"
ok $? "watch --once"
grep -q "^new [0-9]* *open [0-9]* *pending [0-9]*" "$T/watch.txt" &&
	grep -q "^late_delivery " "$T/watch.txt" && grep -q "^ID  *STATUS" "$T/watch.txt"
ok $? "watch shows the counts, the categories and the most urgent cases"
python3 -c 'import sys; sys.exit(0 if len(open(sys.argv[1], encoding="utf-8").read().splitlines()) <= 30 else 1)' "$T/watch.txt"
ok $? "and fits the screen (30 lines)"
n_open=$(Q list --json | jq_ 'sum(c["status"] == "open" for c in d)')
is "$(Q watch --json | jq_ 'd["open"]')" "$n_open" "watch --json: the counts agree with list"
# --foreground: SIGINT to peakq only. Sent to the whole process group it
# can also hit LeakSanitizer's helper at exit (ASan builds), which then
# spins forever; -k: never hang the suite.
timeout --foreground --preserve-status -k 10 -s INT 3 "$PEAKQ" -c "$T/peakq.yaml" watch --interval 1 >/dev/null
is $? 0 "watch runs until Ctrl-C and exits 0"

# --- search
Q search refund --json | jq_ "sorted(c['id'] for c in d)" >"$T/s"
is "$(cat "$T/s")" "[$esc]" "search finds a note's words"
Q search 杯子 --json | jq_ "[c['category'] for c in d]" >"$T/s"
is "$(cat "$T/s")" "['damaged']" "search finds a Chinese word"
Q search 寄错 --json | jq_ "[c['category'] for c in d]" >"$T/s"
is "$(cat "$T/s")" "['wrong_item']" "simplified 寄错 finds traditional 寄錯"
# words only in a body the daemon stored (its search text is prepared on
# the decider thread, not in the insert)
Q search 陶瓷 --json | jq_ "[c['category'] for c in d]" >"$T/s"
is "$(cat "$T/s")" "['damaged']" "search finds a word of a Chinese body"
Q search 围巾 --json | jq_ "[c['category'] for c in d]" >"$T/s"
is "$(cat "$T/s")" "['wrong_item']" "simplified 围巾 finds 圍巾 in a Big5 body"
Q search sister --json | jq_ "[c['category'] for c in d]" >"$T/s"
is "$(cat "$T/s")" "['gift_options']" "search finds a word of an HTML body"
Q search "$order" --json | jq_ "sorted(set(c['id'] for c in d))" >"$T/s"
is "$(cat "$T/s")" "[$pend]" "search by order id"
Q search "$cust" --json | jq_ "$pend in [c['id'] for c in d]" >"$T/s"
is "$(cat "$T/s")" True "search by customer address"
Q search "gift receipt" >"$T/s"
grep -q "in a message" "$T/s"
ok $? "the text output says where it matched"
Q search zzzyyyxxx >/dev/null 2>&1
is $? 1 "nothing found: exit 1"

# --- a busy store: 75 after the busy timeout, with a clear message
python3 - "$T/peakq.db" <<'PY' &
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
open(sys.argv[1] + ".locked", "w").close()
time.sleep(8)
db.execute("ROLLBACK")
PY
locker=$!
wait_until 50 test -e "$T/peakq.db.locked"
as hank note 1 "busy?" >/dev/null 2>"$T/err"
is $? 75 "a store locked for longer than the busy timeout: exit 75"
grep -q "try again" "$T/err"
ok $? "with a one-line message: $(head -1 "$T/err")"
wait $locker
as hank note 1 "not busy" >/dev/null 2>&1
ok $? "and it works once the lock is gone"

# --- bash completion offers the queue's case numbers
if [ -f /usr/share/bash-completion/bash_completion ]; then
	want=$(Q list --json | jq_ '" ".join(sorted(str(c["id"]) for c in d)) + " "')
	is "$(bash_complete peakq -c "$T/peakq.yaml" claim "")" "$want" \
		"completion: claim offers the open cases' numbers"
else
	ok 0 "# SKIP bash-completion not installed"
fi

# --- help
for c in list next show claim assign release note status resolve reopen \
	escalate tag priority search reply watch; do
	Q "$c" --help >"$T/help" 2>&1 && grep -q "usage: peakq $c" "$T/help"
	ok $? "peakq $c --help"
done
done_testing
