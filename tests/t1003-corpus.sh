#!/bin/sh
# t1003: the real-mail corpus (../shared/corpus/real: bounces, auto-replies,
# lists, spam, MIME edge cases, CJK charsets and human mail from public
# projects, labelled must_ack yes/no/unsure). Every message is read (none
# lost, none crashes the parser), robots are not acknowledged and people
# are. Skipped when the corpus is absent (users' clones do not have it).
# Archived mail has no Return-Path, so --assume-delivered reads From as the
# envelope sender, as an MTA delivering it would have set.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip_all "python3 not installed"
CORPUS=${PEAKQ_CORPUS:-$top_srcdir/../shared/corpus/real}
[ -f "$CORPUS/labels.tsv" ] || skip_all "no corpus at $CORPUS"

"$PEAKQ" rules test --rules "$top_srcdir/rules" --json --assume-delivered \
	"$CORPUS" >"$T/out.json" 2>"$T/err"
ok $? "rules test reads the whole corpus"

python3 - "$CORPUS" "$T/out.json" "$T/results" <<'PY'
import collections, json, os, sys
base, out = sys.argv[1], sys.argv[2]
results = open(sys.argv[3], "w")
labels = {}
for line in open(os.path.join(base, "labels.tsv"), encoding="utf-8"):
    f = line.rstrip("\n").split("\t")
    if f[0] != "path" and len(f) >= 3:
        labels[f[0]] = (f[1], f[2])
got = {}
for line in open(out, encoding="utf-8"):
    r = json.loads(line)
    path = r["file"]
    # an mbox file's messages are file:N; its first one stands for it
    if not os.path.exists(path) and ":" in path:
        path = path.rsplit(":", 1)[0]
    got.setdefault(os.path.relpath(path, base), r)
lost = sorted(set(labels) - set(got))
results.write("%d every labelled message gives a result (%d of %d)\n"
              % (bool(lost), len(labels) - len(lost), len(labels)))
for path in lost[:10]:
    print("#   no result for " + path)
tally = collections.defaultdict(lambda: [0, 0])  # (class, must) -> acked, n
for path, (cls, must) in labels.items():
    r = got.get(path)
    if r is None:
        continue
    t = tally[(cls, must)]
    t[0] += bool(r["ack"])
    t[1] += 1
for (cls, must), (a, n) in sorted(tally.items()):
    print("# %-10s must_ack=%-6s acknowledged %3d of %3d" % (cls, must, a, n))
def share(pred, must):
    a = sum(t[0] for k, t in tally.items() if pred(k[0]) and k[1] == must)
    n = sum(t[1] for k, t in tally.items() if pred(k[0]) and k[1] == must)
    return a, n
checks = [
    # people: nearly all acknowledged (the few held back have no usable
    # sender, a null Return-Path, a robot From like root@localhost, or a
    # list header)
    ("people (must_ack=yes) acknowledged", share(lambda c: True, "yes"),
     lambda a, n: a >= 0.95 * n),
    # bounces and auto-replies: the loops we must never feed. Three files
    # of the bounce class carry nothing robotic and are answered: two are
    # plain spam and phishing from a human-looking address (the spam
    # filter's job), one is a person's iPhone forward that a bounce-parser
    # suite keeps as a sample.
    ("bounces acknowledged", share(lambda c: c == "bounce", "no"),
     lambda a, n: a <= 3),
    ("auto-replies acknowledged", share(lambda c: c == "autoreply", "no"),
     lambda a, n: a == 0),
    # lists and bulk: most carry list or bulk markers; what is left is spam
    # with nothing robotic about it (that is the spam filter's job)
    ("lists and bulk acknowledged", share(lambda c: c == "list", "no"),
     lambda a, n: a <= 0.25 * n),
]
# No acknowledged message carries a list, bulk or auto-reply marker, read
# here by Python's parser, independently of ours.
import email, email.policy
def marker(path):
    m = email.message_from_bytes(open(os.path.join(base, path), "rb").read(),
                                 policy=email.policy.compat32)
    for k in m.keys():
        kl = k.lower()
        v = str(m[k] or "").strip().lower()
        if kl.startswith("list-") or kl in ("mailing-list", "x-mailing-list",
                                            "x-loop", "x-autoreply"):
            return k
        if kl == "precedence" and v.split()[:1] in (["bulk"], ["list"], ["junk"]):
            return k
        if kl == "auto-submitted" and not v.startswith("no"):
            return k
    return None
marked = []
for path in labels:
    r = got.get(path)
    if r and r["ack"] and not open(os.path.join(base, path), "rb").read(5) == b"From ":
        h = marker(path)
        if h:
            marked.append("%s (%s)" % (path, h))
for x in marked:
    print("#   acknowledged despite a marker: " + x)
checks.append(("acknowledged messages with a list/bulk/auto marker",
               (len(marked), len(labels)), lambda a, n: a == 0))
for name, (a, n), good in checks:
    results.write("%d %s: %d of %d\n" % (not (n > 0 and good(a, n)), name,
                                         a, n))
for path, (cls, must) in sorted(labels.items()):
    r = got.get(path)
    if r and ((must == "yes" and not r["ack"]) or
              (must == "no" and r["ack"] and cls in ("bounce", "autoreply"))):
        print("#   %s (%s, must_ack=%s): %s" % (path, cls, must,
              r["suppressed"] or "acknowledged"))
PY
[ -s "$T/results" ]
ok $? "corpus tallied"
while read -r status what; do
	ok "$status" "$what"
done <"$T/results"
done_testing
