#!/bin/sh
# t1001: `peakq rules test --json` runs the daemon's parse -> classify ->
# may-we-acknowledge path on the sample holiday mail (several charsets and
# MIME shapes) and reports category, order ids, language and the ack
# decision with its reason.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip_all "python3 not installed"

"$PEAKQ" rules test --rules "$top_srcdir/rules" --json "$DATA/holiday" \
	>"$T/out.json" 2>"$T/err"
ok $? "rules test exits 0"
is "$(wc -l <"$T/out.json" | tr -d ' ')" 12 "one JSON object per message"

expect() { # FILE CATEGORY LANG ORDER ACK SUPPRESSED
	got=$(python3 - "$T/out.json" "$1" <<'PY'
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    o = json.loads(line)
    if o["file"].endswith("/" + sys.argv[2]):
        print(o["category"], o["lang"], (o["order_ids"] or ["-"])[0],
              str(o["ack"]).lower(), o["suppressed"] or "-")
PY
)
	is "$got" "$2 $3 $4 $5 $6" "$1"
}
expect 01-late-en.eml late_delivery en 112-4839201-5561203 true -
expect 02-lost-en-qp.eml lost_package en 205-1928374-6650912 true -
expect 03-gift-en-html.eml gift_options en 303-5550123-7788990 true -
expect 04-late-zh-b64.eml late_delivery zh 114-7788123-9900456 true -
expect 05-damaged-zh-gb2312.eml damaged zh 113-2233445-6677889 true -
expect 06-wrong-zh-big5.eml wrong_item zh 171-0099887-1122334 true -
expect 07-complaint-en.eml complaint en 114-5566778-8899001 true -
expect 08-missing-en-alt.eml missing_item en 202-3344556-7788990 true -
expect 09-return-en-cp1252.eml return_exchange en 026-1112223-3344455 true -
expect 10-autoreply.eml general en - false auto-submitted
expect 11-bounce.eml lost_package en - false null-return-path
expect 12-newsletter.eml late_delivery en - false list

python3 - "$T/out.json" <<'PY'
import json, sys
need = {"file", "category", "priority", "sla_hours", "escalate", "template",
        "lang", "order_ids", "ack", "suppressed", "rule", "matched"}
for line in open(sys.argv[1], encoding="utf-8"):
    missing = need - set(json.loads(line))
    if missing:
        sys.exit("missing fields: %s" % sorted(missing))
PY
ok $? "every object has the fields DESIGN.md promises"

grep -q '"escalate":true' "$T/out.json"
ok $? "the complaint is escalated"

"$PEAKQ" rules test --rules "$top_srcdir/rules" "$DATA/holiday/04-late-zh-b64.eml" \
	>"$T/out.txt" 2>&1
grep -q 'matched: "还没到"' "$T/out.txt"
ok $? "text output names the matched keyword"

# Without Return-Path (an archive, not a delivery) nothing is acknowledged;
# --assume-delivered reads From as the envelope sender. A real bounce keeps
# its empty Return-Path either way.
grep -v '^Return-Path:' "$DATA/holiday/01-late-en.eml" >"$T/norp.eml"
"$PEAKQ" rules test --rules "$top_srcdir/rules" --json "$T/norp.eml" >"$T/o1.json"
grep -q '"suppressed":"no-return-path"' "$T/o1.json"
ok $? "no Return-Path: not acknowledged"
"$PEAKQ" rules test --rules "$top_srcdir/rules" --json --assume-delivered \
	"$T/norp.eml" "$DATA/holiday/11-bounce.eml" >"$T/o2.json"
grep -q '"ack":true' "$T/o2.json" && grep -q '"suppressed":"null-return-path"' "$T/o2.json"
ok $? "--assume-delivered acknowledges it, the bounce still not"

# A body that cannot be read under readable headers: flagged, and judged
# by its headers (a person is answered, a bounce is not).
printf 'Return-Path: <ann@example.net>\nFrom: Ann <ann@example.net>\nSubject: where is my order\nContent-Type: multipart/alternative; boundary="x"\n\n\n' >"$T/noparts.eml"
sed 's/^Return-Path: .*/Return-Path: <>/' "$T/noparts.eml" >"$T/noparts-bounce.eml"
"$PEAKQ" rules test --rules "$top_srcdir/rules" --json "$T/noparts.eml" \
	"$T/noparts-bounce.eml" >"$T/np.json"
python3 - "$T/np.json" <<'PY'
import json, sys
r = [json.loads(l) for l in open(sys.argv[1])]
ok = (r[0]["parse_error"] == "multipart without parts" and r[0]["ack"] and
      r[1]["parse_error"] and not r[1]["ack"] and
      r[1]["suppressed"] == "null-return-path")
sys.exit(0 if ok else 1)
PY
ok $? "unreadable body under readable headers: flagged, judged by its headers"

"$PEAKQ" rules test --rules "$top_srcdir/rules" "$T/nonexistent.eml" \
	>/dev/null 2>"$T/err"
is "$?" 1 "a missing file is an error (exit 1)"
"$PEAKQ" rules check --templates "$top_srcdir/templates" "$top_srcdir/rules" \
	>"$T/out.txt" 2>&1
ok $? "rules check on the default set"
grep -q ", 0 warning(s)" "$T/out.txt"
ok $? "the default set has no warnings"
sed 's/^/# /' "$T/out.txt" | head -5
printf 'rules:\n  - name: x\n    category: c\n    match: {any: []}\n' >"$T/r.yaml"
mkdir -p "$T/rules" && mv "$T/r.yaml" "$T/rules/"
"$PEAKQ" rules check "$T/rules" >"$T/out.txt" 2>&1
is "$?" 1 "rules check on a broken set exits 1"
grep -q "$T/rules/r.yaml:4:18: any is an empty list" "$T/out.txt"
ok $? "rules check reports file:line:col"

# An mbox is split into its messages ("From " lines; ">From " unescaped).
{
	for f in 01-late-en 05-damaged-zh-gb2312 07-complaint-en; do
		echo "From someone@example.net Sat Dec 27 09:12:44 2025"
		sed 's/^From /\>From /' "$DATA/holiday/$f.eml"
		echo
	done
} >"$T/three.mbox"
"$PEAKQ" rules test --rules "$top_srcdir/rules" --json "$T/three.mbox" >"$T/mbox.json"
ok $? "rules test reads an mbox"
python3 - "$T/mbox.json" "$T/three.mbox" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
got = [(r["file"].rsplit("/", 1)[-1], r["category"]) for r in rows]
want = [("three.mbox:1", "late_delivery"), ("three.mbox:2", "damaged"),
        ("three.mbox:3", "complaint")]
sys.exit(0 if got == want else "got %r" % got)
PY
ok $? "three messages, named file:N, classified"

"$PEAKQ" rules explain --rules "$top_srcdir/rules" \
	"$DATA/holiday/04-late-zh-b64.eml" >"$T/explain.txt"
ok $? "rules explain runs"
grep -q "rule complaint -> complaint" "$T/explain.txt" &&
	grep -q "no: none of its" "$T/explain.txt" &&
	grep -q "any: '还没到' found in" "$T/explain.txt" &&
	grep -q "MATCHED: decides the case" "$T/explain.txt" &&
	grep -q "^verdict: category late_delivery, priority high, 4h" "$T/explain.txt"
ok $? "explain lists every rule, why it did not match, and the verdict"

# A keyword told in a side story (another time, another seller) does not
# decide; explain says where it was found and why it did not count.
printf 'From: kim@example.net\nTo: support@example.com\nSubject: a present\nMessage-ID: <aside@example.net>\n\nLast year the vase I got from another shop arrived cracked. Could you gift wrap this one?\n' \
	>"$T/aside.eml"
"$PEAKQ" rules explain --rules "$top_srcdir/rules" "$T/aside.eml" >"$T/aside.txt"
grep -q "any: 'cracked' found in body only in a side story" "$T/aside.txt" &&
	grep -q "^verdict: category gift_options" "$T/aside.txt"
ok $? "a side story's keyword is not counted, and explain says so"

# rules check: warnings for rules that can never decide; templates.
mkdir -p "$T/rules2"
cp "$top_srcdir/rules/10-holiday.yaml" "$T/rules2/"
# (a first file of its own, so the default set's exclusions, which change
# as it is tuned, do not decide what shadows what)
printf 'rules:\n  - name: wrap-first\n    category: gift_options\n    match: {any: [gift wrap]}\n' \
	>"$T/rules2/00-first.yaml"
printf 'rules:\n  - name: gift-again\n    category: late_delivery\n    match: {any: [gift wrap it]}\n' \
	>"$T/rules2/20-extra.yaml"
"$PEAKQ" rules check --templates "$top_srcdir/templates" "$T/rules2" \
	>"$T/check.out" 2>"$T/check.err"
is "$?" 0 "a set with an unreachable rule is valid"
grep -q "$T/rules2/20-extra.yaml:2:5: warning: rule 'gift-again' can never decide: rule 'wrap-first' ($T/rules2/00-first.yaml:2)" "$T/check.err"
ok $? "but rules check warns, naming the rule that shadows it and where"
rm "$T/rules2/00-first.yaml"
printf 'rules:\n  - name: odd\n    category: odd\n    match: {any: [zzz]}\n' \
	>"$T/rules2/20-extra.yaml"
"$PEAKQ" rules check --templates "$top_srcdir/templates" "$T/rules2" \
	>"$T/check.out" 2>&1
is "$?" 1 "a rule whose template does not exist fails the check"
grep -q "$T/rules2/20-extra.yaml:2:5: rule 'odd' uses template 'odd', but templates/en/odd.txt does not exist" "$T/check.out"
ok $? "with its location"
# The man pages name every key the loader accepts and every option of
# 'peakq rules': the keys are read from the loader's own "expected one of"
# lists, the options from 'peakq rules --help'.
mkdir -p "$T/keys"
for bad in '    colour: red' '    match: {colour: red}' '    match: {any: {colour: red}}'; do
	printf 'rules:\n  - name: x\n    category: general\n%s\n' "$bad" >"$T/keys/r.yaml"
	"$PEAKQ" rules check "$T/keys" 2>&1
done | sed -n 's/.*expected one of: \(.*\))$/\1/p' | tr -d ' ' | tr ',' '\n' |
	sort -u >"$T/keys.txt"
missing=
n=0
for k in $(cat "$T/keys.txt"); do
	n=$((n + 1))
	grep -qE "^\.B[IR]? \"?$k\b|^\.BR .*\b$k\b|[{ ]$k: " "$top_srcdir/doc/peakq-rules.5" ||
		missing="$missing $k"
done
[ "$n" -ge 18 ] && [ -z "$missing" ]
ok $? "peakq-rules(5) documents all $n rule keys the loader accepts${missing:+; missing:$missing}"
missing=
n=0
for o in $("$PEAKQ" rules --help 2>&1 | grep -o -- '--[a-z][a-z-]*' | sort -u); do
	n=$((n + 1))
	grep -q -- "$(printf '%s' "$o" | sed 's/-/\\\\-/g')" "$top_srcdir/doc/peakq.1" ||
		missing="$missing $o"
done
[ "$n" -ge 5 ] && [ -z "$missing" ]
ok $? "peakq(1) documents all $n options of 'peakq rules'${missing:+; missing:$missing}"
done_testing
