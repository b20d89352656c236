#!/bin/sh
# t3001: the outbox delivers at most once. A 4xx or an unreachable server
# (at the greeting, MAIL, DATA or after the message) is retried later
# (temp_fail, backoff); a 5xx at any step fails for good; a daemon
# killed in the middle of an SMTP transaction leaves the row 'uncertain' and
# the restarted daemon does not send it again. SMTP faults come from a
# scripted peer (tests/servers/smtp-peer.py); IMAP is the real Dovecot.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip_all "python3 not installed"
mailenv_start
ENV="$T/m/env"
$IMAPC "$ENV" append INBOX "$DATA/holiday/01-late-en.eml" >/dev/null
ok $? "one message in the support INBOX"

fresh() { # a new store and config (the INBOX copy is fetched again)
	rm -f "$T"/peakq.db*
	write_config implicit localhost
}
once() { # NAME
	"$PEAKQD" -c "$T/peakq.yaml" --once --log=stderr >"$T/$1.log" 2>&1
}

# 451 at RCPT: temporary.
fresh
peer_start --rcpt 451
smtp_to_peer "$PEER_PORT"
once r451
is "$?" 0 "451: --once still exits 0 (the ack waits)"
is "$(outbox_field 1 state)" temp_fail "451: state temp_fail"
is "$(outbox_field 1 attempts)" 1 "451: one attempt recorded"
case $(outbox_field 1 last_error) in *451*) ok 0 "451: the server's code is kept" ;;
*) ok 1 "451: the server's code is kept" ;; esac
grep -q "not sent (attempt 1, retry in [0-9]*s)" "$T/r451.log"
ok $? "451: one clear log line with the retry delay"
once r451-again
is "$(grep -c '^C: DATA\|^C: RCPT' "$T/peer.log")" 1 "451: not retried before its time"
peer_stop

# Every step of the transaction: 4xx waits and is retried, 5xx fails for
# good, and each keeps the server's code.
for step in "greet 421 temp_fail" "mail 451 temp_fail" "mail 550 failed" \
	"data 451 temp_fail" "data 554 failed" "final 452 temp_fail" \
	"final 554 failed"; do
	set -- $step
	fresh
	: >"$T/peer.log"
	peer_start "--$1" "$2"
	smtp_to_peer "$PEER_PORT"
	once "step-$1-$2"
	is "$(outbox_field 1 state)" "$3" "$2 at $1: $3"
	case $(outbox_field 1 last_error) in *"$2"*) ok 0 "$2 at $1: the code is kept" ;;
	*) ok 1 "$2 at $1: the code is kept ($(outbox_field 1 last_error))" ;; esac
	peer_stop
done

# Nothing listening: temporary, with a clear error.
fresh
smtp_to_peer 1
once refused
is "$(outbox_field 1 state)" temp_fail "connection refused: state temp_fail"
grep -q "outbox: ack for case 1 not sent .*: smtp: " "$T/refused.log"
ok $? "connection refused: logged"

# 550 at RCPT: permanent.
fresh
: >"$T/peer.log"
peer_start --rcpt 550
smtp_to_peer "$PEER_PORT"
once r550
is "$(outbox_field 1 state)" failed "550: state failed"
grep -q "failed for good: smtp: rejected (550)" "$T/r550.log"
ok $? "550: logged as a permanent failure"
"$PEAKQ" -c "$T/peakq.yaml" show 1 | grep -q "ack_failed"
ok $? "550: the case has an ack_failed event"
peer_stop

# smtp:// requires STARTTLS: a server that does not offer it gets nothing.
fresh
: >"$T/peer.log"
peer_start
sed -i '/^smtp:/,$d' "$T/peakq.yaml"
printf 'smtp:\n  url: smtp://127.0.0.1:%s\n  from: support@example.test\n' \
	"$PEER_PORT" >>"$T/peakq.yaml"
once nostarttls
is "$(outbox_field 1 state)" temp_fail "no STARTTLS offered: not sent (temp_fail)"
if grep -q '^C: MAIL\|^C: AUTH' "$T/peer.log"; then
	ok 1 "no STARTTLS offered: nothing sent in clear text"
else
	ok 0 "no STARTTLS offered: nothing sent in clear text"
fi
peer_stop

# Killed mid-SMTP: the peer takes the message and never answers the dot.
fresh
: >"$T/peer.log"
mkdir -p "$T/saved"
peer_start --stall
smtp_to_peer "$PEER_PORT"
"$PEAKQD" -c "$T/peakq.yaml" --once --log=stderr >"$T/stall.log" 2>&1 &
pid=$!
wait_until 100 grep -q "<stalled>" "$T/peer.log"
ok $? "the message was handed over and the server stalls"
kill -9 "$pid"
wait "$pid" 2>/dev/null
is "$(outbox_field 1 state)" sending "after SIGKILL the row is still 'sending'"
peer_stop
# Restart against the real MTA: the ack must not be sent again.
write_config implicit localhost
once restart
is "$?" 0 "restarted daemon exits 0"
is "$(outbox_field 1 state)" uncertain "the row became 'uncertain'"
grep -q "marked uncertain, not resent" "$T/restart.log"
ok $? "the restart reports it"
sleep 2
is "$($IMAPC "$ENV" --as customer count INBOX)" 0 "nothing was sent to the customer"
is "$(grep -c '^C: DATA' "$T/peer.log")" 1 "the stalled peer saw exactly one DATA"
"$PEAKQ" -c "$T/peakq.yaml" show 1 | grep -q "ack_uncertain"
ok $? "the case shows an ack_uncertain event"

# The connection drops after the final dot, before any reply: the server
# may have the message. Not a temporary failure to retry: uncertain.
fresh
: >"$T/peer.log"
peer_start --drop
smtp_to_peer "$PEER_PORT"
once dropped
is "$(grep -c '^C: DATA' "$T/peer.log")" 1 "dropped after the dot: the peer saw one DATA"
is "$(outbox_field 1 state)" uncertain "the row is 'uncertain', not waiting to be retried"
grep -q "uncertain, not resent (peakq outbox retry 1 sends it again): smtp: no reply after the message was sent" "$T/dropped.log"
ok $? "one clear line says so, and how to send it again"
"$PEAKQ" -c "$T/peakq.yaml" show 1 | grep -q "ack_uncertain"
ok $? "the case shows an ack_uncertain event"
sed -i 's/^poll_interval: .*/poll_interval: 1s/' "$T/peakq.yaml"
once dropped-again
is "$(grep -c '^C: DATA' "$T/peer.log")" 1 "the next run does not send it again"
peer_stop

# SMTPS (implicit TLS) with AUTH, against the real Postfix.
fresh
sed -i '/^smtp:/,$d' "$T/peakq.yaml"
cat >>"$T/peakq.yaml" <<EOC
smtp:
  url: smtps://127.0.0.1:$PQ_SMTPS_PORT
  ca_file: $PQ_CA_FILE
  user: $PQ_SUPPORT_USER
  password_file: $T/support.pass
  from: "Holiday Desk <support@example.test>"
EOC
once smtps
is "$(outbox_field 1 state)" sent "smtps with AUTH: sent"
$IMAPC "$ENV" --as customer wait INBOX 1 30
ok $? "smtps with AUTH: the customer has it"
grep -q "sasl_username=$PQ_SUPPORT_USER" "$PQ_POSTFIX_LOG"
ok $? "smtps with AUTH: Postfix saw the login"
done_testing
