#!/bin/sh
# t5002: eight agents at once while the daemon keeps ingesting. For a
# minute (PQ_LOAD_SECONDS, PQ_LOAD_AGENTS; 20 s and three agents under
# valgrind), new customer mail arrives every half second and the running peakqd ingests and acknowledges it,
# while eight CLI processes loop: list, next (claim the most urgent case),
# note it, set it pending, resolve it, and note a random case. Then: no
# command failed (no "database is locked", no exit code but 0 or 1), no
# case was claimed by two agents, every note and every resolution an agent
# was told succeeded is in the store (no lost update), every message
# became a case, and the store is intact.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip_all "python3 not installed"
# Under valgrind every process runs 20-50 times slower and eight of them
# starve each other (and the daemon) of the two CPUs until a transaction
# of milliseconds takes seconds; there the test checks memory, with fewer
# agents for less time.
secs=${PQ_LOAD_SECONDS:-60}
agents=${PQ_LOAD_AGENTS:-8}
if [ -n "${PQ_VALGRIND:-}" ]; then
	secs=${PQ_LOAD_SECONDS:-20}
	agents=${PQ_LOAD_AGENTS:-3}
fi
mailenv_start
ENV="$T/m/env"
write_config implicit localhost
sed -i "s|^poll_interval: .*|poll_interval: 1s|" "$T/peakq.yaml"

# Customer mail: distinct senders, English and Chinese, several categories.
python3 - "$T/mail" <<'PY'
import os, sys
d = sys.argv[1]
os.makedirs(d)
texts = [
    ("Where is my parcel?", "My order {o} has not arrived and Christmas is close."),
    ("Wrong item", "I ordered a red scarf ({o}) but got blue gloves."),
    ("Gift receipt", "Please add a gift receipt to order {o}, no prices."),
    ("包裹还没到", "订单 {o} 的包裹一直没到，请帮忙查一下。"),
    ("收到的杯子碎了", "订单 {o} 的杯子碎了，怎么处理？"),
    ("Return", "I would like to return {o}, it was a gift that does not fit."),
]
for i in range(1, 1201):
    subj, body = texts[i % len(texts)]
    o = "111-%07d-%07d" % (i, i)
    with open(os.path.join(d, "m%04d.eml" % i), "w", encoding="utf-8") as f:
        f.write("From: Customer %d <c%d@example.net>\nTo: support@example.test\n"
                "Subject: %s\nMessage-ID: <load-%d@example.net>\n"
                "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
                "Content-Transfer-Encoding: 8bit\n\n%s\n"
                % (i, i, subj, i, body.format(o=o)))
PY
# A queue to start from: 100 messages.
$IMAPC "$ENV" append INBOX $(ls "$T"/mail/*.eml | head -100) >/dev/null
ok $? "100 messages waiting"
"$PEAKQD" -c "$T/peakq.yaml" --log=stderr >"$T/daemon.log" 2>&1 &
daemon=$!
ncases() {
	"$PEAKQ" -c "$T/peakq.yaml" list --all --json 2>/dev/null |
		python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' 2>/dev/null || echo 0
}
has() { [ "$(ncases)" -ge "$1" ]; }
wait_until 300 has 100
ok $? "the daemon ingested them"

end=$(($(date +%s) + secs))
# The feeder: five messages every half second while the agents work.
(
	n=101
	while [ "$(date +%s)" -lt "$end" ] && [ $n -le 1196 ]; do
		files=""
		for k in 0 1 2 3 4; do
			files="$files $T/mail/m$(printf %04d $((n + k))).eml"
		done
		$IMAPC "$ENV" append INBOX $files >/dev/null || echo "feeder: append failed" >>"$T/feeder.err"
		n=$((n + 5))
		echo $((n - 1)) >"$T/fed"
		sleep 0.5
	done
) &
feeder=$!

worker() { # N
	w=agent$1
	A() { PEAKQ_AGENT=$w "$PEAKQ" -c "$T/peakq.yaml" "$@"; }
	: >"$T/$w.bad"
	i=0
	while [ "$(date +%s)" -lt "$end" ]; do
		i=$((i + 1))
		A list >/dev/null 2>>"$T/$w.stderr" || echo "list exit $?" >>"$T/$w.bad"
		out=$(A next 2>>"$T/$w.next")
		rc=$?
		if [ $rc -eq 0 ]; then
			id=$(printf '%s\n' "$out" | sed -n 's/^You have case \([0-9]*\) now.*/\1/p')
			echo "$id" >>"$T/$w.claimed"
			if A note "$id" "worked by $w, round $i" >/dev/null 2>>"$T/$w.stderr"; then
				echo "$id worked by $w, round $i" >>"$T/$w.notes"
			else
				echo "note exit $?" >>"$T/$w.bad"
			fi
			A status "$id" pending >/dev/null 2>>"$T/$w.stderr" ||
				echo "status exit $?" >>"$T/$w.bad"
			if A resolve "$id" >/dev/null 2>>"$T/$w.stderr"; then
				echo "$id" >>"$T/$w.resolved"
			else
				echo "resolve exit $?" >>"$T/$w.bad"
			fi
		elif [ $rc -ne 1 ]; then
			echo "next exit $rc" >>"$T/$w.bad"
		fi
		# A note on some case, to keep writers busy when the queue is dry.
		r=$(( ($(date +%N | sed 's/^0*//;s/^$/0/') / 1000) % 90 + 1 ))
		if A note "$r" "look-in by $w, round $i" >/dev/null 2>>"$T/$w.stderr"; then
			echo "$r look-in by $w, round $i" >>"$T/$w.notes"
		else
			echo "note-any exit $?" >>"$T/$w.bad"
		fi
		echo "$i" >"$T/$w.rounds"
	done
}
pids=""
for k in $(seq 1 "$agents"); do
	worker $k &
	pids="$pids $!"
done
wait $pids
wait $feeder
fed=$(cat "$T/fed")
wait_until 300 has "$fed"
ok $? "every message fed ($fed) became a case"
kill -TERM $daemon
wait $daemon
ok $? "the daemon stops cleanly"

rounds=0
for k in $(seq 1 "$agents"); do
	rounds=$((rounds + $(cat "$T/agent$k.rounds" 2>/dev/null || echo 0)))
done
cat "$T"/agent*.notes >"$T/all.notes" 2>/dev/null
cat "$T"/agent*.claimed >"$T/all.claimed" 2>/dev/null
diag "$secs s, $agents agents: $rounds agent rounds, $(wc -l <"$T/all.claimed") cases taken," \
	"$(wc -l <"$T/all.notes") notes, $fed messages fed"
idle=0
for k in $(seq 1 "$agents"); do
	[ "$(cat "$T/agent$k.rounds" 2>/dev/null || echo 0)" -ge 1 ] || idle=$((idle + 1))
done
is "$idle" 0 "every agent worked ($rounds rounds in all)"
cat "$T"/agent*.bad >"$T/all.bad"
test ! -s "$T/all.bad"
ok $? "no command failed$(test -s "$T/all.bad" && sort "$T/all.bad" | uniq -c | tr '\n' ';')"
cat "$T"/agent*.stderr "$T"/agent*.next 2>/dev/null | grep -v "no unclaimed case" >"$T/all.err"
test ! -s "$T/all.err"
ok $? "nothing on stderr but 'no unclaimed case'$(test -s "$T/all.err" && head -3 "$T/all.err" | tr '\n' ';')"
grep -qi "locked" "$T/all.err" "$T/daemon.log"
is $? 1 "'database is locked' never seen, by agents or daemon"
dup=$(sort "$T/all.claimed" | uniq -d | wc -l)
is "$dup" 0 "no case was handed to two agents by next"

python3 - "$T/peakq.db" "$T" <<'PY'
import glob, os, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
t = sys.argv[2]
bad = []
# claims: at most one 'claimed' event per case, and its actor is the owner
for cid, n in db.execute("SELECT case_id, count(*) FROM event WHERE kind = 'claimed' GROUP BY case_id HAVING count(*) > 1"):
    bad.append("case %d claimed %d times" % (cid, n))
for w in glob.glob(os.path.join(t, "agent*.claimed")):
    agent = os.path.basename(w).split(".")[0]
    for line in open(w):
        cid = int(line)
        (assignee,) = db.execute("SELECT assignee FROM cases WHERE id = ?", (cid,)).fetchone()
        if assignee != agent:
            bad.append("case %d: %s was told it is theirs, owner %s" % (cid, agent, assignee))
# notes: every note an agent was told was added is there, once
notes = {}
for cid, body in db.execute("SELECT case_id, body FROM note"):
    notes[(cid, body)] = notes.get((cid, body), 0) + 1
told = [l.rstrip("\n").split(" ", 1) for l in open(os.path.join(t, "all.notes"))]
for cid, body in told:
    if notes.get((int(cid), body)) != 1:
        bad.append("note lost or doubled on case %s: %s" % (cid, body))
if len(told) != sum(notes.values()):
    bad.append("%d notes told, %d stored" % (len(told), sum(notes.values())))
# resolutions hold
for w in glob.glob(os.path.join(t, "agent*.resolved")):
    for line in open(w):
        (st,) = db.execute("SELECT status FROM cases WHERE id = ?", (int(line),)).fetchone()
        if st != "resolved":
            bad.append("case %s resolved but now %s" % (line.strip(), st))
(ic,) = db.execute("PRAGMA integrity_check").fetchone()
if ic != "ok":
    bad.append("integrity: " + ic)
(m, c) = db.execute("SELECT (SELECT count(*) FROM message), (SELECT count(*) FROM cases)").fetchone()
if m != c:
    bad.append("%d messages, %d cases" % (m, c))
for b in bad[:10]:
    print("# " + b)
print("# %d notes checked" % len(told))
sys.exit(1 if bad else 0)
PY
ok $? "no lost update: claims, notes and resolutions as the agents were told; integrity ok"
done_testing
