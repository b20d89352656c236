#!/bin/sh
# t9001: the whole path for real. A private Dovecot (IMAPS with a test CA,
# LMTP) and Postfix on loopback; sample holiday mail in the support INBOX
# (appended over IMAP, and delivered through the MTA); `peakqd --once`; then
# check as a user would: the queue through `peakq`, the acknowledgements
# read back over IMAP from the customer's mailbox, the keyword on the server
# copies, and that a second run adds and sends nothing.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip_all "python3 not installed"
mailenv_start
write_config implicit localhost
ENV="$T/m/env"

# 12 sample messages over IMAP, one more through Postfix -> LMTP (which adds
# the Return-Path a real delivery has).
$IMAPC "$ENV" append INBOX "$DATA"/holiday/*.eml >/dev/null
ok $? "sample mail appended to the support INBOX"
cat >"$T/via-mta.eml" <<'EOM'
From: =?UTF-8?B?5byg5Lyf?= <zhang.wei@example.cn>
To: support@example.test
Subject: =?UTF-8?B?6K6i5Y2V6L+Y5rKh5pS25Yiw?=
Date: Tue, 30 Dec 2025 10:00:00 +0800
Message-ID: <zhang-1230@example.cn>
MIME-Version: 1.0
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: 8bit

你好，订单 116-1234567-7654321 的包裹显示已签收，但我没收到。
EOM
$IMAPC "$ENV" send zhang.wei@example.cn support@example.test "$T/via-mta.eml"
ok $? "one message delivered through the MTA"
$IMAPC "$ENV" wait INBOX 13 30
ok $? "13 messages in the support INBOX"

"$PEAKQD" -c "$T/peakq.yaml" --once --log=stderr >"$T/run1.log" 2>&1
rc=$?
is "$rc" 0 "peakqd --once exits 0"
[ "$rc" -eq 0 ] || sed 's/^/# /' "$T/run1.log" | tail -20

"$PEAKQ" -c "$T/peakq.yaml" list --json --all >"$T/list.json"
ok $? "peakq list --json"
count_cases() {
	python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$1"
}
is "$(count_cases "$T/list.json")" 13 "one case per message"

# Categories as the rules decided, read through the CLI.
python3 - "$T/list.json" >"$T/cats" <<'PY'
import json, sys
for c in sorted(json.load(open(sys.argv[1])), key=lambda c: c["id"]):
    print(c["category"], c["ack"], c["order_id"] or "-")
PY
cat >"$T/cats.want" <<'EOW'
late_delivery sent 112-4839201-5561203
lost_package sent 205-1928374-6650912
gift_options sent 303-5550123-7788990
late_delivery sent 114-7788123-9900456
damaged sent 113-2233445-6677889
wrong_item sent 171-0099887-1122334
complaint sent 114-5566778-8899001
missing_item sent 202-3344556-7788990
return_exchange sent 026-1112223-3344455
general suppressed -
lost_package suppressed -
late_delivery suppressed -
lost_package sent 116-1234567-7654321
EOW
diff "$T/cats.want" "$T/cats" >"$T/cats.diff"
ok $? "categories, ack states and order ids"
sed 's/^/# /' "$T/cats.diff"

# The acknowledgements, read back from the customer's mailbox over IMAP.
$IMAPC "$ENV" --as customer wait INBOX 10 60
ok $? "10 acknowledgements delivered to the customer"
mkdir -p "$T/acks"
$IMAPC "$ENV" --as customer dump INBOX "$T/acks" >/dev/null
python3 - "$T/acks" "$DATA/holiday" "$T/via-mta.eml" >"$T/acks.check" 2>&1 <<'PY'
import email, email.policy, glob, os, re, sys
acks = [email.message_from_bytes(open(f, "rb").read(), policy=email.policy.default)
        for f in sorted(glob.glob(os.path.join(sys.argv[1], "*.eml")))]
origs = {}
for f in glob.glob(os.path.join(sys.argv[2], "*.eml")) + [sys.argv[3]]:
    m = email.message_from_bytes(open(f, "rb").read(), policy=email.policy.default)
    origs[m["Message-ID"].strip()] = m
problems = []
seen = set()
for a in acks:
    irt = (a["In-Reply-To"] or "").strip()
    if irt not in origs:
        problems.append("ack without a matching In-Reply-To: %r" % irt)
        continue
    if irt in seen:
        problems.append("two acks for %s" % irt)
    seen.add(irt)
    o = origs[irt]
    if a["Auto-Submitted"] != "auto-replied":
        problems.append("%s: Auto-Submitted %r" % (irt, a["Auto-Submitted"]))
    if a["X-Auto-Response-Suppress"] != "All":
        problems.append("%s: no X-Auto-Response-Suppress" % irt)
    if irt not in (a["References"] or ""):
        problems.append("%s: References lacks the original" % irt)
    if not re.match(r"^<peakq-ack-\d+\.[0-9a-f]+@example\.test>$", a["Message-ID"] or ""):
        problems.append("%s: Message-ID %r" % (irt, a["Message-ID"]))
    if not a["Date"]:
        problems.append("%s: no Date" % irt)
    subj = str(a["Subject"])
    if not re.search(r"\[Case #\d+\]$", subj):
        problems.append("%s: subject without case tag: %r" % (irt, subj))
    osubj = str(o["Subject"])
    if osubj not in subj:
        problems.append("%s: subject %r does not quote %r" % (irt, subj, osubj))
    body = a.get_body(("plain",)).get_content()
    zh = any("\u4e00" <= ch <= "\u9fff" for ch in osubj)
    if zh and "您好" not in body:
        problems.append("%s: Chinese mail got a non-Chinese ack" % irt)
    if not zh and "Hello" not in body:
        problems.append("%s: English mail got a non-English ack" % irt)
    oid = re.search(r"\d{3}-\d{7}-\d{7}", o.get_body(("plain", "html")).get_content() or "")
    if oid and oid.group(0) not in body:
        problems.append("%s: ack does not name order %s" % (irt, oid.group(0)))
    if "{{" in body or "}}" in body:
        problems.append("%s: unfilled placeholder" % irt)
    print("ack:", irt, "|", subj)
for p in problems:
    print("PROBLEM:", p)
print("acks=%d distinct=%d" % (len(acks), len(seen)))
sys.exit(1 if problems or len(seen) != 10 else 0)
PY
ok $? "every acknowledgement is threaded, tagged, auto-submitted, in the customer's language"
sed 's/^/# /' "$T/acks.check"

# Server copies carry the keyword.
$IMAPC "$ENV" flags INBOX >"$T/flags"
is "$(grep -c '\$PeakqQueued' "$T/flags")" 13 "all 13 server copies carry \$PeakqQueued"

# A second run creates nothing and sends nothing.
"$PEAKQD" -c "$T/peakq.yaml" --once --log=stderr >"$T/run2.log" 2>&1
is "$?" 0 "second peakqd --once exits 0"
"$PEAKQ" -c "$T/peakq.yaml" list --json --all >"$T/list2.json"
is "$(count_cases "$T/list2.json")" 13 "second run: still 13 cases"
sleep 2
is "$($IMAPC "$ENV" --as customer count INBOX)" 10 "second run: no new acknowledgement"
if grep -q "outbox:.*sent" "$T/run2.log"; then ok 1 "second run sent nothing"; else ok 0 "second run sent nothing"; fi

# The case as an agent sees it.
"$PEAKQ" -c "$T/peakq.yaml" show 1 >"$T/show1.txt"
ok $? "peakq show 1"
grep -q "Case #1 " "$T/show1.txt" && grep -q "our ack: sent" "$T/show1.txt" &&
	grep -q "created" "$T/show1.txt" && grep -q "ack_sent" "$T/show1.txt"
ok $? "show prints the case, the sent ack and the events"
"$PEAKQ" -c "$T/peakq.yaml" show --json 4 >"$T/show4.json"
python3 - "$T/show4.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
assert d["case"]["lang"] == "zh", d["case"]
assert d["case"]["customer_name"] == "李娜", d["case"]
assert len(d["messages"]) == 1 and "还没到" in d["messages"][0]["text"]
assert d["outbox"][0]["state"] == "sent"
kinds = [e["kind"] for e in d["events"]]
assert kinds[:3] == ["created", "ack_queued", "ack_sent"], kinds
PY
ok $? "show --json of a Chinese case: decoded name and text, events in order"

# A customer replies to our acknowledgement: the reply joins the case and
# gets no second acknowledgement.
ack=$(grep -l "zhang-1230@example.cn" "$T"/acks/*.eml | head -1)
ackid=$(python3 -c 'import email,sys; print(email.message_from_binary_file(open(sys.argv[1],"rb"))["Message-ID"])' "$ack")
cat >"$T/reply.eml" <<EOM
Return-Path: <zhang.wei@example.cn>
From: zhang.wei@example.cn
To: support@example.test
Subject: Re: still nothing
Date: Wed, 31 Dec 2025 10:00:00 +0800
Message-ID: <zhang-1231@example.cn>
In-Reply-To: $ackid
References: <zhang-1230@example.cn> $ackid
Content-Type: text/plain; charset=UTF-8

Still nothing, please hurry.
EOM
# and our own acknowledgement coming back into the support mailbox (a loop)
cp "$ack" "$T/loop.eml"
$IMAPC "$ENV" append INBOX "$T/reply.eml" "$T/loop.eml" >/dev/null
"$PEAKQD" -c "$T/peakq.yaml" --once --log=stderr >"$T/run3.log" 2>&1
is "$?" 0 "third run exits 0"
"$PEAKQ" -c "$T/peakq.yaml" list --json --all >"$T/list3.json"
is "$(count_cases "$T/list3.json")" 13 "the reply and the looped ack open no case"
grep -q "follow-up of case 13 .*via=in-reply-to" "$T/run3.log"
ok $? "the reply is a follow-up of its case"
sleep 2
is "$($IMAPC "$ENV" --as customer count INBOX)" 10 "no acknowledgement for a follow-up or our own mail"
done_testing
