#!/bin/sh
# t8005: hostile structure, through the real servers. Messages with 1,000
# MIME parts, 100 nested multiparts, a 30 MB base64 body, a 200 KB
# subject, a header folded 10,000 times, 2,000 header fields, NUL bytes
# and invalid UTF-8 in headers and body, and bidi controls in the subject
# and display name: each becomes exactly one case, quickly and in bounded
# memory, and every acknowledgement sent (read back from the customer's
# mailbox) has only our header fields, each once, CRLF lines of at most
# 998 octets, no NUL, no bidi control and no bare CR or LF.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip_all "python3 not installed"
command -v sqlite3 >/dev/null || skip_all "sqlite3 not installed"
mailenv_start
ENV="$T/m/env"
write_config implicit localhost
mkdir "$T/in"
python3 - "$T/in" <<'PY'
import base64, os, sys
out = sys.argv[1]
def msg(name, i, headers, body, ctype="text/plain; charset=utf-8"):
    h = (b"Return-Path: <h%d@buyer.example>\r\nFrom: Buyer %d <h%d@buyer.example>\r\n"
         b"To: support@example.test\r\nMessage-ID: <hostile-%d@buyer.example>\r\n"
         b"Date: Mon, 28 Dec 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n" % (i, i, i, i))
    if ctype:
        h += b"Content-Type: " + ctype.encode() + b"\r\n"
    open(os.path.join(out, "%02d-%s.eml" % (i, name)), "wb").write(h + headers + b"\r\n" + body)
text = b"Where is my order 112-4839201-5561203? It was a Christmas gift.\r\n"
# 1,000 parts
parts = b"".join(b"--b\r\nContent-Type: text/plain\r\n\r\n" + text for _ in range(1000)) + b"--b--\r\n"
msg("parts", 1, b"Subject: a thousand parts\r\n", parts, "multipart/mixed; boundary=b")
# 100 nested levels
body = text
for k in range(100, 0, -1):
    body = (b"--n%d\r\nContent-Type: multipart/mixed; boundary=n%d\r\n\r\n" % (k, k + 1) if k < 100 else b"--n100\r\nContent-Type: text/plain\r\n\r\n") + body + b"\r\n--n%d--\r\n" % k
msg("nested", 2, b"Subject: nested a hundred times\r\n", body, "multipart/mixed; boundary=n1")
# 30 MB of base64
blob = base64.encodebytes(b"A" * (22 * 1024 * 1024)).replace(b"\n", b"\r\n")
msg("base64", 3, b"Subject: base64 bomb\r\nContent-Transfer-Encoding: base64\r\n", blob)
# a 200 KB subject
msg("longsubject", 4, b"Subject: " + b"late " * 40000 + b"\r\n", text)
# a header folded 10,000 times
msg("folded", 5, b"Subject: folded" + b"\r\n x" * 10000 + b"\r\n", text)
# 2,000 header fields
msg("headers", 6, b"Subject: many headers\r\n" + b"".join(b"X-Junk-%d: %d\r\n" % (k, k) for k in range(2000)), text)
# NUL bytes and invalid UTF-8 in headers and body
msg("nul", 7, b"Subject: nul\x00here \xff\xfe broken \xc3\x28 utf8\r\n", b"body \x00 with nul \xff\xfe " + text)
# encoded CR/LF and bidi controls in the subject and display name
msg("bidi", 8, b"Subject: =?utf-8?b?" + base64.b64encode("Order \u202egnp.exe\u202c late\r\nBcc: evil@x\r\n".encode()) +
    b"?=\r\nReply-To: =?utf-8?b?" + base64.b64encode("\u202eEvil\u202c\r\nBcc: x@y".encode()) + b"?= <h8@buyer.example>\r\n", text)
PY
ls "$T/in" | wc -l | grep -q 8
ok $? "8 hostile messages"
$IMAPC "$ENV" append INBOX "$T"/in/*.eml >/dev/null
ok $? "appended to the support INBOX"

start=$(date +%s)
/usr/bin/time -f "%M" -o "$T/rss" "$PEAKQD" -c "$T/peakq.yaml" --once --log=stderr >"$T/daemon.log" 2>&1
rc=$?
took=$(($(date +%s) - start))
is $rc 0 "peakqd --once: exit 0 (in $took s)"
rss=$(cat "$T/rss")
[ "$rss" -lt $((400 * MEM_FACTOR * 1024)) ]
ok $? "peak memory $((rss / 1024)) MiB (< $((400 * MEM_FACTOR)))"
n=$("$PEAKQ" -c "$T/peakq.yaml" list --all --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
is "$n" 8 "each is exactly one case"
grep -E "error|warning" "$T/daemon.log" | sed 's/^/# /' | head -10

sent=$(sqlite3 "$T/peakq.db" "SELECT count(*) FROM outbox WHERE state = 'sent'")
diag "acknowledgements sent: $sent"
[ "$sent" -ge 6 ]
ok $? "most got an acknowledgement ($sent)"
$IMAPC "$ENV" --as customer wait INBOX "$sent" 60 >/dev/null
mkdir "$T/acks"
$IMAPC "$ENV" --as customer dump INBOX "$T/acks" >/dev/null
python3 - "$T/acks" <<'PY'
import email.header, os, re, sys
d = sys.argv[1]
# The fields we write, plus those the MTA and Dovecot add on delivery.
ours = {"from", "to", "reply-to", "subject", "date", "message-id", "in-reply-to", "references",
        "auto-submitted", "x-auto-response-suppress", "precedence", "mime-version",
        "content-type", "content-transfer-encoding", "x-peakq-loop"}
added = {"return-path", "delivered-to", "received", "x-original-to"}
bidi = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
bad = []
for f in sorted(os.listdir(d)):
    raw = open(os.path.join(d, f), "rb").read()
    head = raw.split(b"\r\n\r\n", 1)[0]
    if b"\x00" in raw:
        bad.append(f + ": NUL")
    names = []
    for line in head.split(b"\r\n"):
        if b"\r" in line or b"\n" in line:
            bad.append(f + ": bare CR/LF")
        if len(line) > 998:
            bad.append(f + ": line of %d octets" % len(line))
        if line[:1] not in (b" ", b"\t"):
            names.append(line.split(b":", 1)[0].decode("latin-1").lower())
    for n in names:
        if n not in ours | added:
            bad.append(f + ": header " + n)
    for n in ours:
        if names.count(n) > 1:
            bad.append(f + ": %s twice" % n)
    unfolded = re.sub(rb"\r\n[ \t]", b" ", head).decode("latin-1")
    for line in unfolded.split("\r\n"):
        if line.lower().startswith(("subject:", "to:")):
            v = str(email.header.make_header(email.header.decode_header(line.split(":", 1)[1])))
            if bidi.search(v):
                bad.append(f + ": bidi control in " + line.split(":")[0])
            if "\r" in v or "\n" in v:
                bad.append(f + ": line break in " + line.split(":")[0])
    if b"Order" in head and "Bcc" in unfolded:
        print("# the Bcc the customer tried to inject is only text in our Subject")
print("# %d acknowledgements checked; %s" % (len(os.listdir(d)), "; ".join(bad) or "all clean"))
sys.exit(1 if bad or not os.listdir(d) else 0)
PY
ok $? "every acknowledgement's header is ours alone: CRLF, <= 998 octets, no NUL, no bidi control, nothing injected"
done_testing
