#!/bin/sh
# t6001: peakq report on a simulated season (tests/season.py: 3,000 cases
# over six weeks with a peak after Christmas, evening and morning hours,
# agents claiming, answering, escalating and resolving, customers writing
# again). Every figure of the JSON report is checked against values the
# generator computes from its own records; then the text, CSV and HTML
# forms, the date and mailbox filters, and the HTML page in headless
# Chromium (a 1280 px screenshot) when Chromium is installed.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip_all "python3 not installed"
python3 -c 'import zoneinfo' 2>/dev/null || skip_all "python3 without zoneinfo"
# Local days and hours are the report's; a zone without DST, and one with.
export TZ=Asia/Shanghai
printf 'x\n' >"$T/pass"
cat >"$T/peakq.yaml" <<EOC
team_name: Holiday Desk
store: $T/peakq.db
rules_dir: $top_srcdir/rules
templates_dir: $top_srcdir/templates
accounts:
  - name: support
    imap: {host: 127.0.0.1, port: 1, tls: none, user: u, password_file: $T/pass}
    mailboxes: [INBOX]
smtp:
  url: smtp://127.0.0.1:1
  tls: none
  from: "Desk <support@example.test>"
EOC
Q() { "$PEAKQ" -c "$T/peakq.yaml" "$@"; }
# peakqd creates the store (then cannot reach the IMAP port: 75).
"$PEAKQD" -c "$T/peakq.yaml" --once --log=stderr 2>/dev/null
is $? 75 "peakqd created the store (no IMAP server here)"
python3 "$top_srcdir/tests/season.py" gen "$T/peakq.db" 3000 7 "$T/expected.json"
ok $? "a simulated season: 3,000 cases"

Q report --format json >"$T/report.json"
ok $? "report --format json"
python3 "$top_srcdir/tests/season.py" check "$T/report.json" "$T/expected.json" \
	"$top_srcdir/rules"
ok $? "every figure as computed from the generated records (volume, shares, speed, SLA, templates, agents, rules, acks, days, hours)"
python3 -m json.tool "$T/report.json" >/dev/null
ok $? "one JSON document"

# The same season in another zone: days and hours follow TZ.
TZ=Europe/Berlin "$PEAKQ" -c "$T/peakq.yaml" report --format json >"$T/report-berlin.json"
TZ=Europe/Berlin python3 "$top_srcdir/tests/season.py" check "$T/report-berlin.json" \
	"$T/expected.json" "$top_srcdir/rules" >"$T/berlin.txt"
ok $? "in Europe/Berlin the days and hours are Berlin's: $(tail -1 "$T/berlin.txt")"

# ... and so do they with time_zone: in peakq.yaml, whatever TZ says.
sed 's/^team_name: .*/team_name: Holiday Desk\ntime_zone: Europe\/Berlin/' "$T/peakq.yaml" >"$T/berlin.yaml"
TZ=Asia/Shanghai "$PEAKQ" -c "$T/berlin.yaml" report --format json >"$T/report-tz.json"
TZ=Europe/Berlin python3 "$top_srcdir/tests/season.py" check "$T/report-tz.json" \
	"$T/expected.json" "$top_srcdir/rules" >"$T/tz.txt"
ok $? "time_zone: Europe/Berlin in the configuration wins over TZ: $(tail -1 "$T/tz.txt")"

Q report >"$T/report.txt"
ok $? "report (text)"
for s in "^VOLUME: 3000 cases" "^SPEED" "^TEMPLATES" "^WORK" "by hour of day" \
	"rules that never matched" "escalation reasons"; do
	grep -q "$s" "$T/report.txt"
	ok $? "text has '$s'"
done
python3 - "$T/report.txt" <<'PY'
import sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
i = lines.index([l for l in lines if l.startswith("category") and "to acknowledgement" in l][0])
rows = lines[i:i + 11]
ok = len({len(l) for l in rows}) == 1 and rows[-1].startswith("all")
sys.exit(0 if ok else 1)
PY
ok $? "the speed table's columns line up"

# Filters: a week around Christmas, a mailbox.
want=$(TZ=Asia/Shanghai python3 -c '
import json, sys, datetime as dt
from zoneinfo import ZoneInfo
z = ZoneInfo("Asia/Shanghai")
a = dt.datetime(2025, 12, 24, tzinfo=z).timestamp()
b = dt.datetime(2026, 1, 1, tzinfo=z).timestamp()
print(sum(1 for r in json.load(open(sys.argv[1]))["cases"] if a <= r["created"] < b))' "$T/expected.json")
got=$(Q report --since 2025-12-24 --until 2025-12-31 --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["all"]["cases"])')
is "$got" "$want" "--since 2025-12-24 --until 2025-12-31 (through the 31st): $want cases"
# One day (under an eighth of the store: its cases' messages and events
# are read through the indexes) equals the report of a store that holds
# only that day's cases (read in one pass over each table).
Q report --since 2025-12-27 --until 2025-12-27 --format json >"$T/day.json"
day=$(TZ=Asia/Shanghai python3 -c '
import datetime as dt
from zoneinfo import ZoneInfo
z = ZoneInfo("Asia/Shanghai")
print(int(dt.datetime(2025, 12, 27, tzinfo=z).timestamp()))')
cp "$T/peakq.db" "$T/day.db"
sqlite3 "$T/day.db" "CREATE TEMP TABLE out AS SELECT id FROM cases WHERE
 created_at < $day OR created_at >= $day + 86400;
 DELETE FROM message WHERE case_id IN out; DELETE FROM event WHERE case_id IN out;
 DELETE FROM outbox WHERE case_id IN out; DELETE FROM note WHERE case_id IN out;
 DELETE FROM cases WHERE id IN out;"
sed "s|^store: .*|store: $T/day.db|" "$T/peakq.yaml" >"$T/day.yaml"
"$PEAKQ" -c "$T/day.yaml" report --since 2025-12-27 --until 2025-12-27 --format json >"$T/day-only.json"
python3 - "$T/day.json" "$T/day-only.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
for d in (a, b):
    d.pop("generated_at")
n = a["all"]["cases"]
print("# %d cases that day" % n)
sys.exit(0 if a == b and 0 < n < 3000 / 8 else 1)
PY
ok $? "one day's report read through the indexes equals the report of a store holding that day alone"

# A period that is most of its store is read whole-table (one pass over
# each table, merged by case in C); a small one through the indexes. The
# same week, with every fifth case deleted by hand (case ids no longer
# dense), both ways: the second store's case count is inflated so that the
# week is a small part of it.
cp "$T/peakq.db" "$T/week.db"
sqlite3 "$T/week.db" "CREATE TEMP TABLE out AS SELECT id FROM cases WHERE
 created_at < $day - 3 * 86400 OR created_at >= $day + 4 * 86400 OR id % 5 = 0;
 DELETE FROM message WHERE case_id IN out; DELETE FROM event WHERE case_id IN out;
 DELETE FROM outbox WHERE case_id IN out; DELETE FROM note WHERE case_id IN out;
 DELETE FROM cases WHERE id IN out;"
cp "$T/week.db" "$T/week-small.db"
sqlite3 "$T/week-small.db" "UPDATE tally SET n = n * 100 WHERE name = 'cases'"
for w in week week-small; do
	sed "s|^store: .*|store: $T/$w.db|" "$T/peakq.yaml" >"$T/$w.yaml"
	"$PEAKQ" -c "$T/$w.yaml" report --since 2025-12-24 --until 2025-12-30 \
		--format json >"$T/$w.json"
done
python3 - "$T/week.json" "$T/week-small.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
for d in (a, b):
    d.pop("generated_at")
n = a["all"]["cases"]
print("# %d cases, %d escalated, %d reopened, %d messages" % (n,
      a["all"]["escalated"], a["all"]["reopened"], a["all"]["messages"]))
sys.exit(0 if a == b and n > 300 and a["all"]["escalated"] and
         a["all"]["reopened"] and a["escalation_reasons"] else 1)
PY
ok $? "a week's report read whole-table equals the same week read through the indexes (case ids with gaps)"
is "$(Q report --mailbox support --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["all"]["cases"])')" 3000 "--mailbox support"
is "$(Q report --mailbox other --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["all"]["cases"])')" 0 "--mailbox other: nothing"
Q report --since yesterday >/dev/null 2>"$T/err"
is $? 2 "a bad date is a usage error"
grep -q "needs a date" "$T/err"
ok $? "with a message"

# CSV: one table, or all of them with section lines.
Q report --format csv --table categories >"$T/cat.csv"
python3 - "$T/cat.csv" "$T/report.json" <<'PY'
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
rep = {g["name"]: g for g in json.load(open(sys.argv[2]))["categories"]}
ok = len(rows) == len(rep) and all(int(r["cases"]) == rep[r["name"]]["cases"] and
    (r["to_first_reply_median_s"] or None) == (str(rep[r["name"]]["to_first_reply"]["median_s"]) if rep[r["name"]]["to_first_reply"]["median_s"] is not None else None)
    for r in rows)
sys.exit(0 if ok else 1)
PY
ok $? "--format csv --table categories agrees with the JSON"
Q report --format csv >"$T/all.csv"
is "$(grep -c '^# ' "$T/all.csv")" 9 "--format csv: nine tables"
Q report --format csv --table nope >/dev/null 2>&1
is $? 2 "an unknown table is a usage error"

# HTML: one self-contained file.
Q report --format html -o "$T/report.html"
ok $? "report --format html -o FILE"
grep -Eiq '<script|src="http|href="http|@import|url\(' "$T/report.html"
is $? 1 "no script, no external resource"
is "$(grep -c '<svg' "$T/report.html")" 4 "four SVG charts"
python3 - "$T/report.html" <<'PY'
import sys
from html.parser import HTMLParser
class P(HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack, self.bad = [], 0
    def handle_starttag(self, t, a):
        if t not in ("meta", "br", "line", "rect", "path", "circle"):
            self.stack.append(t)
    def handle_endtag(self, t):
        if t in ("line", "rect", "path", "circle"):
            return
        if not self.stack or self.stack.pop() != t:
            self.bad += 1
    def handle_startendtag(self, t, a):
        pass
p = P()
p.feed(open(sys.argv[1], encoding="utf-8").read())
sys.exit(0 if p.bad == 0 and p.stack == [] else 1)
PY
ok $? "its tags nest"

if command -v chromium >/dev/null 2>&1; then
	(cd "$T" && timeout 60 chromium --headless --no-sandbox --disable-gpu \
		--hide-scrollbars --window-size=1280,2400 \
		--screenshot="$T/report.png" "file://$T/report.html" \
		>"$T/chromium.log" 2>&1)
	python3 - "$T/report.png" <<'PY'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n"
w, h = struct.unpack(">II", data[16:24])
# decode enough to see that it is not blank: count distinct row bytes
idat = b"".join(data[i + 8:i + 8 + struct.unpack(">I", data[i:i + 4])[0]]
                for i in range(8, len(data))
                if data[i + 4:i + 8] == b"IDAT")
raw = zlib.decompress(idat)
print("# screenshot %dx%d, %d bytes, %d distinct bytes" % (w, h, len(data), len(set(raw))))
sys.exit(0 if w == 1280 and len(set(raw)) > 50 else 1)
PY
	ok $? "Chromium renders it at 1280 px (screenshot not blank)"
	[ -n "${PQ_REPORT_PNG:-}" ] && cp "$T/report.png" "$PQ_REPORT_PNG"
else
	ok 0 "# SKIP chromium not installed"
fi
done_testing
