#!/bin/sh
# t8001: crash anywhere. 2,000 messages (PQ_CRASH_N) reach the support
# INBOX in two waves while peakqd is started and killed with SIGKILL after
# a random 0.02-0.4 s (0.02-0.07 s while mail is left to fetch: ingestion
# is much faster than sending; up to 6.4 s after runs that got nothing
# done, on a slow machine), at least 30 times (PQ_CRASH_KILLS), and
# until kills have landed mid-FETCH, inside the store transaction and
# mid-SMTP (judged by the last log line; a few more messages arrive if
# needed). Then it runs to the end. Checked: every message is in exactly
# one case and none is missing; no case has two acknowledgements (in the
# store, and in what the customer's mailbox received); every
# acknowledgement a kill left uncertain is reported by `peakq outbox`;
# every server copy is flagged; PRAGMA integrity_check is ok.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip_all "python3 not installed"
command -v sqlite3 >/dev/null || skip_all "sqlite3 not installed"
# Under valgrind the daemon takes longer to start than the runs last.
[ -z "${PQ_VALGRIND:-}" ] || skip_all "SIGKILL timing test; run without PQ_VALGRIND"
N=${PQ_CRASH_N:-2000}
KILLS=${PQ_CRASH_KILLS:-30}
mailenv_start
ENV="$T/m/env"
write_config implicit localhost
Y="$T/peakq.yaml"
DB="$T/peakq.db"

# N messages from N customers, made from the holiday samples, and spares.
mkdir "$T/msgs"
python3 - "$DATA/holiday" "$T/msgs" $((N + 3000)) <<'PY'
import os, re, sys
src, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
samples = [open(os.path.join(src, f), "rb").read()
           for f in sorted(os.listdir(src)) if f[:2] in ("01", "02", "03", "04", "05", "06", "08", "09")]
for i in range(n):
    raw = samples[i % len(samples)].replace(b"\r\n", b"\n")
    head, _, body = raw.partition(b"\n\n")
    head = re.sub(rb"(?im)^(message-id|from|return-path):.*\n(?:[ \t].*\n)*", b"", head + b"\n")
    head = (b"Return-Path: <buyer%d@buyer.example>\nMessage-ID: <crash-%d@buyer.example>\n"
            b"From: Buyer %d <buyer%d@buyer.example>\n" % (i, i, i, i)) + head
    open(os.path.join(out, "%05d.eml" % i), "wb").write(head + b"\n" + body)
PY
append() { # append FROM COUNT: messages FROM..FROM+COUNT-1
	python3 -c 'import sys; a, n = int(sys.argv[1]), int(sys.argv[2]); print("\n".join("%s/%05d.eml" % (sys.argv[3], i) for i in range(a, a + n)))' \
		"$1" "$2" "$T/msgs" | xargs $IMAPC "$ENV" append INBOX >/dev/null
}
W1=$((N - N / 5))
append 0 $W1
TOTAL=$W1

q() { sqlite3 "$DB" "$1" 2>/dev/null; }
kills=0 busy=0 mid_fetch=0 mid_tx=0 mid_smtp=0 other=0 stalled=0
done_work() { # messages stored + acknowledgements sent
	echo $(($(q 'SELECT count(*) FROM message' || echo 0) + \
		$(q "SELECT count(*) FROM outbox WHERE state = 'sent'" || echo 0)))
}
left() { # messages not stored yet + acknowledgements not settled
	echo $(($TOTAL - $(q 'SELECT count(*) FROM message' || echo 0) + \
		$(q "SELECT count(*) FROM outbox WHERE state IN ('pending','temp_fail','sending')" || echo 0)))
}
while :; do
	[ $busy -ge "$KILLS" ] && [ $TOTAL -ge "$N" ] &&
		[ $((mid_fetch * mid_tx * mid_smtp)) -gt 0 ] && break
	[ $kills -ge $((KILLS * 4)) ] && break
	# The second wave arrives a third of the way through; more mail
	# when all work is done but kills or phases are still missing.
	if [ $kills -ge $((KILLS / 3)) ] && [ $TOTAL -lt "$N" ]; then
		append $TOTAL $((N - TOTAL))
		TOTAL=$N
	elif [ $TOTAL -ge "$N" ] && [ "$(left)" -lt 50 ] && [ $TOTAL -lt $((N + 3000)) ]; then
		# a backlog of several lots, so that a FETCH is under way
		append $TOTAL 300
		TOTAL=$((TOTAL + 300))
	fi
	"$PEAKQD" -c "$Y" -v --log=stderr >"$T/run.log" 2>&1 &
	pid=$!
	# Shorter runs while mail is left to fetch: ingestion is much faster
	# than sending, and kills should land in both.
	hi=0.4
	if [ "$(q 'SELECT count(*) FROM message' || echo 0)" -lt $TOTAL ] 2>/dev/null; then
		hi=0.07
		# On a loaded machine the start (TLS, LOGIN, SELECT) can
		# take longer than that: kills then never land mid-FETCH.
		[ $kills -ge "$KILLS" ] && [ $mid_fetch -eq 0 ] && hi=0.4
	fi
	# Runs that all end before a batch commits or a message is sent (a
	# slow, loaded machine) would never get anywhere, nor ever reach
	# SMTP: after two such runs in a row each next run may last twice as
	# long (up to 6.4 s), until work gets done again.
	if [ $stalled -ge 2 ]; then
		hi=$(python3 -c 'import sys; print(min(6.4, float(sys.argv[1]) * 2 ** (int(sys.argv[2]) - 1)))' $hi $stalled)
	fi
	before=$(done_work)
	if [ $mid_fetch -eq 0 ] && [ $kills -ge $((KILLS / 2)) ] &&
		[ "$(q 'SELECT count(*) FROM message' || echo 0)" -lt $TOTAL ] 2>/dev/null; then
		# Random times have missed every FETCH so far (a loaded
		# machine, a fast store): aim at one, killing as soon as the
		# mailbox thread logs that a FETCH starts (or after 2 s).
		i=0
		while [ $i -lt 400 ]; do
			case $(grep -E 'imap: fetch |ingest: ' "$T/run.log" | tail -n 1) in
			*"imap: fetch "*) break ;;
			esac
			sleep 0.005
			i=$((i + 1))
		done
	else
		sleep "$(python3 -c 'import random, sys; print(round(random.uniform(0.02, float(sys.argv[1])), 3))' $hi)"
	fi
	kill -KILL $pid
	wait $pid 2>/dev/null
	kills=$((kills + 1))
	# The mailbox thread's last step, and the main thread's.
	ing=$(grep -E 'imap: fetch |ingest: |imap: account=' "$T/run.log" | tail -n 1)
	out=$(grep 'outbox: ' "$T/run.log" | tail -n 1)
	# ("ingest: storing" opens the batch's transaction; the cases'
	# "created" lines are logged once it has committed.)
	case $ing in
	*"imap: fetch "*) mid_fetch=$((mid_fetch + 1)) ;;
	*"ingest: storing "*) mid_tx=$((mid_tx + 1)) ;;
	*) other=$((other + 1)) ;;
	esac
	case $out in *"outbox: sending row"*) mid_smtp=$((mid_smtp + 1)) ;; esac
	[ "$(left)" -gt 0 ] && busy=$((busy + 1))
	if [ "$(done_work)" -gt "$before" ]; then stalled=0; else stalled=$((stalled + 1)); fi
	cat "$T/run.log" >>"$T/all.log"
	echo "kill $kills after ${hi}s max: $(q "SELECT count(*) FROM message") stored" >>"$T/kills.log"
done
diag "kills: $kills, $busy with work left; the mailbox thread was mid-FETCH $mid_fetch times, inside the store transaction $mid_tx, elsewhere $other; the main thread was mid-SMTP $mid_smtp times"
diag "after the kills: $TOTAL messages appended, $(q 'SELECT count(*) FROM message') stored, $(q "SELECT count(*) FROM outbox WHERE state = 'sent'") acks sent"
[ $busy -ge "$KILLS" ]
ok $? "at least $KILLS kills came while work was left ($busy)"
N=$TOTAL
[ $mid_fetch -gt 0 ] && [ $mid_tx -gt 0 ] && [ $mid_smtp -gt 0 ]
ok $? "kills landed mid-FETCH, inside a transaction and mid-SMTP"

# Now let it finish.
"$PEAKQD" -c "$Y" --log=stderr >"$T/final.log" 2>&1 &
pid=$!
finished() {
	[ "$(q 'SELECT count(*) FROM message')" -ge "$N" ] &&
		[ "$(q "SELECT count(*) FROM outbox WHERE state IN ('pending','temp_fail','sending')")" -eq 0 ] &&
		[ "$(q 'SELECT count(*) FROM message WHERE imap_done = 0')" -eq 0 ] 2>/dev/null
}
wait_until 1800 finished
ok $? "after a clean run everything is stored, flagged and sent"
kill -TERM $pid
wait $pid
is $? 0 "and it stops cleanly"

is "$(q 'SELECT count(*) FROM message')" "$N" "every message stored once: $N rows"
is "$(q 'SELECT count(DISTINCT message_id) FROM message')" "$N" "$N distinct Message-IDs"
q 'SELECT message_id FROM message' | sort >"$T/stored"
for i in $(seq 0 $((N - 1))); do echo "crash-$i@buyer.example"; done | sort >"$T/wanted"
is "$(comm -3 "$T/stored" "$T/wanted" | wc -l)" 0 "none missing, none extra"
is "$(q 'SELECT count(*) FROM cases')" "$N" "each in its own case (N customers)"
is "$(q 'SELECT count(*) FROM (SELECT case_id FROM message GROUP BY case_id HAVING count(*) <> 1)')" 0 "one message per case"
is "$(q "SELECT count(*) FROM (SELECT case_id FROM outbox WHERE kind = 'ack' GROUP BY case_id HAVING count(*) > 1)")" 0 \
	"no case has two acknowledgement rows"
sent=$(q "SELECT count(*) FROM outbox WHERE kind = 'ack' AND state = 'sent'")
unc=$(q "SELECT count(*) FROM outbox WHERE kind = 'ack' AND state = 'uncertain'")
diag "acknowledgements: $sent sent, $unc uncertain"
is "$((sent + unc))" "$N" "every case's acknowledgement is sent or uncertain"
"$PEAKQ" -c "$Y" outbox >"$T/outbox.txt" 2>&1
is "$(grep -cE '^[0-9]+ +[0-9]+ +uncertain ' "$T/outbox.txt")" "$unc" "peakq outbox reports each uncertain one"

# What the customer received: no acknowledgement twice.
$IMAPC "$ENV" --as customer wait INBOX "$sent" 300 >/dev/null 2>&1
mkdir "$T/got"
$IMAPC "$ENV" --as customer dump INBOX "$T/got" >/dev/null
grep -h -i '^In-Reply-To:' "$T"/got/*.eml | tr -d '\r' | sort >"$T/irt"
is "$(uniq -d "$T/irt" | wc -l)" 0 "the customer's mailbox has no acknowledgement twice"
got=$(wc -l <"$T/irt")
[ "$got" -ge "$sent" ] && [ "$got" -le $((sent + unc)) ]
ok $? "it received $got: every sent one, plus at most the uncertain ones ($sent..$((sent + unc)))"
is "$(q 'PRAGMA integrity_check')" ok "PRAGMA integrity_check: ok"
$IMAPC "$ENV" flags INBOX | grep -vc 'PeakqQueued' >"$T/unflagged" || :
is "$(cat "$T/unflagged")" 0 "every server copy carries \$PeakqQueued"
done_testing
