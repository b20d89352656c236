#!/bin/sh
# bench-report: `peakq report` on a year of data. Fills a store with
# BENCH_CASES (default 200,000) simulated cases (tests/season.py) and times
# the report in each format against a baseline in the same run: sqlite3
# reading the same tables the report reads (cases, message, event,
# outbox) with a plain aggregate. Target: under 2 s for 200,000 cases.
#   tests/bench/bench-report.sh [BUILDDIR]
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-.}
peakq="$build/peakq"
peakqd="$build/peakqd"
n=${BENCH_CASES:-200000}
T=$(mktemp -d /tmp/pq-bench.XXXXXX)
trap 'rm -rf "$T"' EXIT
export TZ=${TZ:-Asia/Shanghai}
printf 'x\n' >"$T/pass"
cat >"$T/peakq.yaml" <<EOC
store: $T/peakq.db
rules_dir: $src/rules
templates_dir: $src/templates
accounts:
  - name: support
    imap: {host: 127.0.0.1, port: 1, tls: none, user: u, password_file: $T/pass}
    mailboxes: [INBOX]
smtp: {url: "smtp://127.0.0.1:1", tls: none, from: "Desk <d@example.test>"}
EOC
"$peakqd" -c "$T/peakq.yaml" --once --log=stderr 2>/dev/null || :
echo "generating $n cases ..."
python3 "$src/tests/season.py" gen "$T/peakq.db" "$n" 1 "$T/expected.json"
sqlite3 "$T/peakq.db" "ANALYZE" >/dev/null
secs() { # COMMAND...: best of 3 wall-clock seconds
	python3 - "$@" <<'PY'
import subprocess, sys, time
best = None
for _ in range(3):
    a = time.monotonic()
    subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)
    t = time.monotonic() - a
    best = t if best is None or t < best else best
print("%.3f" % best)
PY
}
base=$(secs sqlite3 "$T/peakq.db" "SELECT count(*), sum(length(category)),
 sum(first_reply_at - created_at) FROM cases; SELECT case_id, count(*) FROM
 message GROUP BY case_id; SELECT case_id, count(*) FROM event GROUP BY
 case_id; SELECT case_id, state FROM outbox")
echo "$n cases, $(sqlite3 "$T/peakq.db" 'SELECT count(*) FROM message') messages, $(sqlite3 "$T/peakq.db" 'SELECT count(*) FROM event') events; TZ=$TZ"
printf '%-44s %8s s\n' "baseline: sqlite3 reading the same tables" "$base"
for f in text json csv html; do
	t=$(secs "$peakq" -c "$T/peakq.yaml" report --format $f)
	python3 -c 'import sys; t, b = float(sys.argv[2]), float(sys.argv[3]); print("%-44s %8.3f s  (%.1fx the baseline) %s" % ("peakq report --format " + sys.argv[1], t, t / b, "under 2 s: ok" if t < 2 else "OVER 2 s"))' "$f" "$t" "$base"
done
