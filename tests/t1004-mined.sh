#!/bin/sh
# t1004: contrib/mine-keywords.py, the generator of rules/90-mined.yaml (the
# fallback keywords mined from the labelled tuning sets). On a small
# made-up data dir: what it keeps and what it must not (general mail's
# words, short words below their stricter bar, order ids, quoted text, the
# blind sets), that it is deterministic, and that its rules only decide
# mail no hand-written rule matched. Then: the shipped file is what the
# script makes of tests/data today (skipped under valgrind: no C runs).
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip_all "python3 not installed"
MINE="$top_srcdir/contrib/mine-keywords.py"

mail() { # FILE SUBJECT BODY
	printf 'From: buyer@example.com\nTo: support@example.com\nSubject: %s\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n%s\n' \
		"$2" "$3" >"$1"
}
D=$T/data
mkdir -p "$D/labelled" "$D/heldout2" "$D/blind9"
printf 'file\tcategory\n' >"$D/labelled/labels.tsv"
printf 'file\tcategory\n' >"$D/heldout2/labels.tsv"
printf 'file\tcategory\n' >"$D/blind9/labels.tsv"
i=0
while [ $i -lt 12 ]; do
	i=$((i + 1))
	s=labelled
	[ $i -gt 6 ] && s=heldout2
	mail "$D/$s/lost$i.eml" "Order 123-4567890-123456$((i % 10))" \
		"Hello there, the parcel vanished.
包裹不见了
> zebra crossing

On Mon, 1 Dec 2025, Shop wrote:
giraffe necktie"
	printf 'lost%d.eml\tlost_package\n' $i >>"$D/$s/labels.tsv"
	mail "$D/$s/gen$i.eml" "A question" "Hello there, do you sell sizes for kids?"
	printf 'gen%d.eml\tgeneral\n' $i >>"$D/$s/labels.tsv"
	mail "$D/blind9/b$i.eml" "Blind" "a secret phrase"
	printf 'b%d.eml\tdamaged\n' $i >>"$D/blind9/labels.tsv"
done

python3 "$MINE" --data "$D" --out "$T/m1.yaml" 2>"$T/err"
ok $? "mines the made-up data"
grep -q "24 mails" "$T/err"
ok $? "reads the labelled and heldout sets, not the blind one ($(cat "$T/err"))"
sed -n '/name: mined-/,$p' "$T/m1.yaml" | grep -v '^ *#' >"$T/rules"
kw() { grep -q "^        - \"$1\"  # " "$T/rules"; }
kw "parcel vanished"
ok $? "keeps a phrase only lost_package mail has (12 of 12)"
grep -F -q '"parcel vanished"  # 12/12' "$T/rules"
ok $? "and says in how many mails it was seen"
kw vanished && ok 1 "a single word seen 12 times is below its stricter bar (12/13 < 0.95)" ||
	ok 0 "a single word seen 12 times is below its stricter bar (12/13 < 0.95)"
kw "the parcel vanished" && ok 1 "drops a phrase implied by a kept shorter one" ||
	ok 0 "drops a phrase implied by a kept shorter one"
grep -q '"包裹不' "$T/rules"
ok $? "keeps a Chinese run"
if grep -q 'hello\|there\|123\|zebra\|giraffe\|secret' "$T/rules"; then
	ok 1 "nothing of general mail, order ids, quoted text or the blind set"
	grep 'hello\|there\|123\|zebra\|giraffe\|secret' "$T/rules" | sed 's/^/#   /'
else
	ok 0 "nothing of general mail, order ids, quoted text or the blind set"
fi
is "$(grep -c 'name: mined-' "$T/rules")" 1 "one rule: only lost_package had anything to keep"
python3 "$MINE" --data "$D" --out "$T/m2.yaml" 2>/dev/null
cmp -s "$T/m1.yaml" "$T/m2.yaml"
ok $? "deterministic: the same data gives the same file"

# The mined rule after a hand-written one: it decides only what that left.
mkdir -p "$T/rules.d"
cat >"$T/rules.d/10-hand.yaml" <<'EOF'
rules:
  - name: broken
    category: damaged
    priority: normal
    sla_hours: 8
    template: damaged
    match:
      any: [broken]
EOF
cp "$T/m1.yaml" "$T/rules.d/90-mined.yaml"
"$PEAKQ" rules check "$T/rules.d" >"$T/check.out" 2>&1
ok $? "peakq rules check accepts it ($(tail -1 "$T/check.out"))"
mail "$T/only.eml" "Help" "Hi, my parcel vanished yesterday."
mail "$T/both.eml" "Help" "Hi, my parcel vanished and came back broken."
mail "$T/neg.eml" "Help" "Hi, no parcel vanished this time."
"$PEAKQ" rules test --rules "$T/rules.d" --json "$T/only.eml" "$T/both.eml" "$T/neg.eml" >"$T/t.json"
ok $? "rules test with it"
rule_of() { # FILE: "rule category" of its dry run
	python3 -c 'import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["file"].endswith("/" + sys.argv[2]):
        print(r["rule"], r["category"])' "$T/t.json" "$1"
}
is "$(rule_of only.eml)" "mined-lost-package lost_package" "mail nothing else matched: the mined rule"
is "$(rule_of both.eml)" "broken damaged" "mail a hand-written rule matched: that rule"
is "$(rule_of neg.eml)" "general general" "a negated mined keyword does not count"

# The shipped file is up to date with tests/data.
if [ -n "${PQ_VALGRIND:-}" ]; then
	ok 0 "# SKIP regenerating rules/90-mined.yaml: nothing to check under valgrind"
else
	python3 "$MINE" --out "$T/shipped.yaml" 2>"$T/err"
	ok $? "mines tests/data ($(cat "$T/err"))"
	if cmp -s "$T/shipped.yaml" "$top_srcdir/rules/90-mined.yaml"; then
		ok 0 "rules/90-mined.yaml is what contrib/mine-keywords.py makes of tests/data"
	else
		ok 1 "rules/90-mined.yaml is what contrib/mine-keywords.py makes of tests/data (rerun it)"
		diff "$top_srcdir/rules/90-mined.yaml" "$T/shipped.yaml" | head -20 | sed 's/^/#   /'
	fi
fi
done_testing
