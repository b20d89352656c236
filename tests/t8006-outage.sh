#!/bin/sh
# t8006: the real servers go away under the running daemon. Dovecot is
# restarted mid-run: the mailbox thread notices, logs it, reconnects with
# backoff, and mail that came meanwhile is acknowledged. Postfix is
# stopped for PQ_OUTAGE_SECS (default 20 s; `make check-long`, which CI
# runs, uses 120):
# mail keeps being queued, acknowledgements wait with a few clear lines,
# and once Postfix is back each goes out exactly once.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip_all "python3 not installed"
command -v doveadm >/dev/null || skip_all "doveadm not installed"
OUTAGE=${PQ_OUTAGE_SECS:-20}
mailenv_start
ENV="$T/m/env"
write_config implicit localhost
Y="$T/peakq.yaml"
sed -i 's/^poll_interval: .*/poll_interval: 2s/' "$Y"
printf 'acks:\n  retry_delay: 2s\n' >>"$Y"
msg() { # FILE N: a message from customer N
	printf 'Return-Path: <o%s@buyer.example>\nFrom: Customer %s <o%s@buyer.example>\nTo: support@example.test\nSubject: Where is my parcel %s?\nMessage-ID: <outage-%s@buyer.example>\n\nMy Christmas gift has not arrived.\n' \
		"$2" "$2" "$2" "$2" "$2" >"$1"
}
acked() { [ "$($IMAPC "$ENV" --as customer count INBOX 2>/dev/null)" -ge "$1" ] 2>/dev/null; }
"$PEAKQD" -c "$Y" --log=stderr >"$T/daemon.log" 2>&1 &
pid=$!
msg "$T/1.eml" 1
$IMAPC "$ENV" append INBOX "$T/1.eml" >/dev/null
wait_until 300 acked 1
ok $? "running: the first message is acknowledged"

# Dovecot restarted.
doveadm -c "$PQ_DOVECOT_CONF" stop >/dev/null 2>&1
down() { ! ss -ltn 2>/dev/null | grep -q "127.0.0.1:$PQ_IMAPS_PORT "; }
wait_until 100 down
ok $? "Dovecot stopped"
# Dovecot kills its client processes on stop (shutdown_clients = yes), but
# the TLS proxy of a session sometimes outlives it; then the daemon's
# connection simply goes on.
noticed=0
wait_until 150 grep -q "account 'support'.*retry in" "$T/daemon.log" && noticed=1
diag "the stop dropped the daemon's connection: $([ $noticed = 1 ] && grep -m1 "account 'support'" "$T/daemon.log" | sed 's/^peakqd: //' || echo no)"
sleep 3
dovecot -c "$PQ_DOVECOT_CONF" 9>&- </dev/null >>"$T/dovecot-restart.out" 2>&1
ok $? "Dovecot started again"
msg "$T/2.eml" 2
wait_until 100 sh -c "$IMAPC '$ENV' append INBOX '$T/2.eml' >/dev/null 2>&1"
wait_until 600 acked 2
ok $? "after the restart, the message that came meanwhile is acknowledged"
if [ $noticed = 1 ]; then
	grep -q "account=support mailbox=INBOX: connected again after" "$T/daemon.log"
	ok $? "dropped by the stop, it says it connected again"
else
	ok 0 "# SKIP the connection outlived the restart"
fi
n=$(grep -c "account 'support'" "$T/daemon.log")
[ "$n" -le 6 ]
ok $? "a few clear lines for the outage, no flood ($n)"

# Postfix down for $OUTAGE s.
"$top_srcdir/tests/mailenv.sh" mta-stop "$T/m"
ok $? "Postfix stopped for $OUTAGE s"
lines0=$(wc -l <"$T/daemon.log")
msg "$T/3.eml" 3
msg "$T/4.eml" 4
$IMAPC "$ENV" append INBOX "$T/3.eml" "$T/4.eml" >/dev/null
cases() { "$PEAKQ" -c "$Y" list --all --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
has4() { [ "$(cases)" -ge 4 ]; }
wait_until 100 has4
ok $? "mail is still queued while the MTA is down"
sleep "$OUTAGE"
warn=$(tail -n +"$lines0" "$T/daemon.log" | grep -c "not sent (attempt")
[ "$warn" -ge 1 ] && [ "$warn" -le $((4 * (OUTAGE / 10 + 4))) ]
ok $? "acknowledgements wait, with $warn 'not sent (attempt N, retry in ...)' lines in $OUTAGE s (backoff, no flood)"
tail -n +"$lines0" "$T/daemon.log" | grep -m1 "not sent" | sed 's/^/# /'
"$top_srcdir/tests/mailenv.sh" mta-start "$T/m"
ok $? "Postfix started again"
wait_until $((OUTAGE * 10 + 600)) acked 4
ok $? "both waiting acknowledgements go out once it is back"
sleep 3
is "$($IMAPC "$ENV" --as customer count INBOX)" 4 "four customers, four acknowledgements, none twice"
kill -TERM $pid
wait $pid
is $? 0 "clean stop"
done_testing
