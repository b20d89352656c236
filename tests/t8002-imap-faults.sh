#!/bin/sh
# t8002: IMAP servers that misbehave in ways Dovecot won't on demand
# (TECH-NOTES 1.5), all at once, next to a working account on the real
# Dovecot. Scripted peers (tests/servers/imap-peer.py --fetch-fault) each
# hold one message and fail its body FETCH: closing the connection inside
# the literal (libetpan 1.9.4 spins forever at full CPU on this over plain
# text), sending a malformed response, announcing a 4 GiB literal (over
# plain text and over TLS), or stalling. The daemon must log one clear line
# per fault, use little CPU and memory, retry with backoff, flag nothing it
# did not store, keep acknowledging the working account's mail at once
# (mail with "{4294967295}" lines of its own, which only a guard that
# follows the framing tells from a literal), and stop on SIGTERM. Then each
# fault once more with --once: exit 75 and the same line.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip_all "python3 not installed"
mailenv_start
ENV="$T/m/env"
write_config implicit localhost
Y="$T/peakq.yaml"
sed -i 's/^poll_interval: .*/poll_interval: 1h/' "$Y"
printf 'x\n' >"$T/peer.pass"
FAULTS="drop malformed huge hugetls stall"
for f in $FAULTS; do
	case $f in
	hugetls) set -- --fetch-fault huge --tls "$T/m/tls/server.crt,$T/m/tls/server.key" ;;
	*) set -- --fetch-fault $f ;;
	esac
	python3 "$top_srcdir/tests/servers/imap-peer.py" "$@" \
		--port-file "$T/$f.port" --log "$T/$f.log" &
	echo $! >>"$T/peers.pids"
done
for f in $FAULTS; do
	wait_until 100 test -s "$T/$f.port"
	python3 - "$Y" "$f" "$(cat "$T/$f.port")" "$T" <<'PY'
import sys
p, name, port, t = sys.argv[1:5]
tls = "tls: implicit, ca_file: %s/m/tls/ca.crt" % t if name == "hugetls" else "tls: none"
s = open(p).read()
s = s.replace("smtp:", """  - name: %s
    imap: {host: localhost, port: %s, %s, user: u, password_file: %s/peer.pass, timeout: 2s}
smtp:""" % (name, port, tls, t), 1)
open(p, "w").write(s)
PY
done
stop_peers() { kill $(cat "$T/peers.pids") 2>/dev/null; }
trap 'stop_peers; cleanup' EXIT

"$PEAKQD" -c "$Y" --log=stderr >"$T/daemon.log" 2>&1 &
pid=$!
clk=$(getconf CLK_TCK)
cpu() { awk -v t="$clk" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$pid/stat"; }
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$pid/status"; }
logged() { grep -q "account '$1': imap: uid fetch: $2" "$T/daemon.log"; }
wait_until 100 logged drop "the server closed the connection"
ok $? "drop inside the literal: 'the server closed the connection'"
wait_until 100 logged malformed "malformed response from server"
ok $? "malformed response: 'malformed response from server'"
big="the server announced a literal of 4294967295 bytes, more than the [0-9]* this command can bring; connection dropped"
wait_until 150 logged huge "$big"
ok $? "4 GiB literal: refused before libetpan allocates for it"
wait_until 150 logged hugetls "$big"
ok $? "4 GiB literal over TLS: refused as well"
wait_until 150 logged stall "connection lost or no answer within the timeout"
ok $? "stall: read timeout"

before=$(date +%s)
{
	cat "$DATA/holiday/01-late-en.eml"
	printf 'Ref {4294967295}\n{99999999999999999999}\n'
} >"$T/braces.eml"
$IMAPC "$ENV" append INBOX "$T/braces.eml" >/dev/null
acked() { [ "$($IMAPC "$ENV" --as customer count INBOX 2>/dev/null)" -ge 1 ] 2>/dev/null; }
wait_until 100 acked
ok $? "the working account's mail is acknowledged at once ($(($(date +%s) - before)) s) with five broken servers"

# Over ~12 s: backoff retries, little CPU, little memory.
c0=$(cpu)
sleep 12
c1=$(cpu)
used=$(python3 -c "print(round($c1 - $c0, 2))")
python3 -c "import sys; sys.exit(0 if $c1 - $c0 < 3 else 1)"
ok $? "no spinning: $used s of CPU in 12 s"
rss=$(rss_kb)
lim=$((64 * MEM_FACTOR)) # MiB
[ "$rss" -lt $((lim * 1024)) ]
ok $? "resident memory $((rss / 1024)) MiB (< $lim MiB) after a 4 GiB literal was announced"
for f in drop malformed; do
	n=$(grep -c "C: [0-9]* LOGIN" "$T/$f.log")
	[ "$n" -ge 2 ]
	ok $? "$f: retried with backoff ($n logins)"
done
n=$(grep -c "account '\(drop\|malformed\|huge\|hugetls\|stall\)'" "$T/daemon.log")
[ "$n" -le 15 ]
ok $? "one line per fault and attempt, no flood ($n lines)"
grep -c "retry in" "$T/daemon.log" >/dev/null
ok $? "each says when it retries"
! grep -q "C: [0-9]* UID STORE\|C: [0-9]* STORE" $(for f in $FAULTS; do echo "$T/$f.log"; done)
ok $? "nothing was flagged on the broken servers (nothing was stored)"
for f in $FAULTS; do
	st=$("$PEAKQ" -c "$Y" status --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(" ".join(m["state"] or "-" for m in d["mailboxes"] if m["account"] == sys.argv[1]))' "$f")
	case $st in error | connecting | fetching) ok 0 "peakq status: $f is $st" ;;
	*) ok 1 "peakq status: $f is $st" ;; esac
done

kill -TERM $pid
gone() { ! kill -0 "$pid" 2>/dev/null; }
wait_until 250 gone
ok $? "SIGTERM stops it"
wait $pid
is $? 0 "exit 0"

# Each fault alone with --once.
for f in $FAULTS; do
	python3 - "$Y" "$f" <<'PY'
import re, sys
p, keep = sys.argv[1], sys.argv[2]
s = open(p).read()
head, rest = s.split("accounts:\n", 1)
accts, smtp = rest.split("smtp:", 1)
blocks = re.split(r"(?m)^(?=  - name: )", accts)
blocks = [b for b in blocks if b.startswith("  - name: %s\n" % keep)]
open(p + "." + keep, "w").write(head + "accounts:\n" + "".join(blocks) + "smtp:" + smtp)
PY
	start=$(date +%s)
	"$PEAKQD" -c "$Y.$f" --once --log=stderr >"$T/once-$f.log" 2>&1
	rc=$?
	took=$(($(date +%s) - start))
	# A bound against hanging, not a speed test: the read timeout is a
	# few seconds, but under ASan on a loaded machine the 4 GiB literal's
	# case once took 13 s.
	[ $rc -eq 75 ] && [ $took -le 30 ]
	ok $? "--once against $f: exit $rc after $took s"
done
done_testing
