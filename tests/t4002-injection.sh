#!/bin/sh
# t4002: nothing from a customer's mail can add or change a header of our
# acknowledgement, end to end. Hostile messages (encoded CR/LF and NUL in
# the subject and display names, a 5,000-character subject, bidi controls,
# template placeholders in the customer's text) go through peakqd and the
# real Postfix; the acknowledgements are read back from the customer's
# mailbox and compared with a benign one: the same header fields, each
# once, every line CRLF and at most 998 bytes, and no placeholder expanded
# from customer text.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip_all "python3 not installed"
mailenv_start
write_config implicit localhost
ENV="$T/m/env"

mk() { # N FROM-HEADER SUBJECT-HEADER [BODY]
	cat >"$T/in$1.eml" <<EOM
Return-Path: <buyer$1@example.net>
From: $2
To: support@example.test
Subject: $3
Date: Sat, 27 Dec 2025 09:12:44 +0000
Message-ID: <hostile-$1@example.net>
MIME-Version: 1.0
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: 8bit

${4:-My parcel for order 112-4839201-556120$1 has not arrived yet, it is late.}
EOM
}
mk 0 "Ann Lee <buyer0@example.net>" "Where is my parcel?"
# encoded CR LF in the subject and the display name
mk 1 "=?UTF-8?Q?Ann=0D=0ABcc:_victim@example.org=0D=0A?= <buyer1@example.net>" \
	"=?UTF-8?Q?late=0D=0ABcc:_victim@example.org=0D=0AX-Evil:_1?="
# a NUL and a bare LF, base64-encoded
nulsubj=$(printf 'late\000\nTo: victim@example.org' | base64 | tr -d '\n')
mk 2 "=?UTF-8?B?$(printf 'Bob\000\r\nCc: victim@example.org' | base64 | tr -d '\n')?= <buyer2@example.net>" \
	"=?UTF-8?B?$nulsubj?="
# a 5,000-character subject (folded as a real client would) and name
long=$(python3 -c 'print(" ".join(["late"] * 1000))')
mk 3 "\"$(python3 -c 'print("N" * 3000)')\" <buyer3@example.net>" "$long"
# bidi controls and placeholders in the customer's words
mk 4 "=?UTF-8?B?$(printf '\342\200\256evil\342\201\246 name' | base64 | tr -d '\n')?= <buyer4@example.net>" \
	"{{case_id}} {{team_name}} late =?UTF-8?B?$(printf '\342\200\256cod.exe' | base64 | tr -d '\n')?=" \
	"{{order_id}} {{customer_name}} {{notice}} my order 112-4839201-5561204 is late"
$IMAPC "$ENV" append INBOX "$T"/in0.eml "$T"/in1.eml "$T"/in2.eml \
	"$T"/in3.eml "$T"/in4.eml >/dev/null
ok $? "five messages, four hostile, in the support INBOX"

"$PEAKQD" -c "$T/peakq.yaml" --once --log=stderr >"$T/run.log" 2>&1
is "$?" 0 "peakqd --once"
"$PEAKQ" -c "$T/peakq.yaml" list --json --all >"$T/list.json"
is "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$T/list.json")" 5 \
	"five cases"
$IMAPC "$ENV" --as customer wait INBOX 5 60
ok $? "five acknowledgements arrive"
sleep 1
is "$($IMAPC "$ENV" --as customer count INBOX)" 5 "and no more (no injected recipient)"
$IMAPC "$ENV" --as customer dump INBOX "$T/acks" >/dev/null

python3 - "$T/acks" <<'PY'
import email, email.policy, glob, os, re, sys
# fields the delivery adds in front of ours
DELIVERY = {"return-path", "delivered-to", "received", "x-original-to"}
acks = {}
for f in glob.glob(os.path.join(sys.argv[1], "*.eml")):
    raw = open(f, "rb").read()
    m = email.message_from_bytes(raw, policy=email.policy.default)
    acks[m["In-Reply-To"].strip()] = (raw, m)
problems = []
def fields(raw):
    head = raw.split(b"\r\n\r\n", 1)[0]
    names = re.findall(rb"^([!-9;-~]+):", head, re.M)
    return [n.decode().lower() for n in names]
base_raw, base = acks.pop("<hostile-0@example.net>")
want = sorted(n for n in fields(base_raw) if n not in DELIVERY)
for irt, (raw, m) in sorted(acks.items()):
    got = sorted(n for n in fields(raw) if n not in DELIVERY)
    if got != want:
        problems.append("%s: fields %s, benign ack has %s" % (irt, got, want))
    for i, line in enumerate(raw.split(b"\r\n")):
        if b"\n" in line or b"\r" in line:
            problems.append("%s: bare CR or LF in line %d" % (irt, i))
        if len(line) > 998:
            problems.append("%s: line %d is %d bytes" % (irt, i, len(line)))
    if b"\0" in raw:
        problems.append("%s: NUL byte" % irt)
    try:
        raw.decode("ascii")
    except UnicodeDecodeError:
        problems.append("%s: 8-bit bytes outside encoded words/QP" % irt)
    to = m["To"].addresses
    if len(to) != 1 or not to[0].addr_spec.startswith("buyer"):
        problems.append("%s: To %r" % (irt, m["To"]))
    subj = str(m["Subject"])
    for bad in ("\u202e", "\u2066", "\r", "\n", "\0"):
        if bad in subj or bad in str(m["To"]):
            problems.append("%s: %r survives in Subject/To" % (irt, bad))
    # the words may stay as text in the display name; never as an address
    # or a field
    if any("victim" in a.addr_spec for a in to) or m["Bcc"] or m["Cc"] or m["X-Evil"]:
        problems.append("%s: an injected recipient or field" % irt)
    body = m.get_body(("plain",)).get_content()
    if irt == "<hostile-4@example.net>":
        # the customer's "{{case_id}}" stays as text; nothing is expanded
        if "{{case_id}}" not in subj:
            problems.append("%s: customer's {{case_id}} was expanded: %r" % (irt, subj))
    if "{{" in body:
        problems.append("%s: a placeholder in the body" % irt)
    print("ack %s: %d fields, To %r, subject %r" % (irt, len(got), str(m["To"])[:80], subj[:80]))
for p in problems:
    print("PROBLEM: " + p)
sys.exit(1 if problems or len(acks) != 4 else 0)
PY
ok $? "hostile acknowledgements have exactly the benign one's fields, CRLF, <= 998 bytes"
done_testing
