#!/bin/sh
# t4001: who gets an acknowledgement and when, against the real Dovecot
# and Postfix: the per-sender limit, mail too old to be worth answering,
# follow-ups without threading headers (same sender, same order) that raise
# priority, carrier notices in the text, the account's default language,
# an MTA outage (every ack goes out once when it is back), and an agent
# sending a failed one again with `peakq outbox retry`.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip_all "python3 not installed"
mailenv_start
ENV="$T/m/env"
write_config implicit localhost
cat >>"$T/peakq.yaml" <<EOC
acks:
  per_sender: 2
  window: 24h
  max_age: 12h
  retry_delay: 1s
notices: $T/notices.yaml
EOC
today=$(date +%Y-%m-%d)
cat >"$T/notices.yaml" <<EON
notices:
  - name: ups-storm
    from: $today
    until: $today
    categories: [late_delivery]
    keywords: [ups]
    en: "UPS has announced 2-3 days of delay in the Midwest after the storm."
    zh: "UPS 公告：受暴风雪影响，中西部包裹延误 2 至 3 天。"
  - name: expired-one
    from: 2020-01-01
    until: 2020-01-02
    en: "AN OLD NOTICE THAT MUST NOT APPEAR"
EON
once() { # NAME
	"$PEAKQD" -c "$T/peakq.yaml" --once --log=stderr >"$T/$1.log" 2>&1
}
field() { # CASE FIELD: a field of the case through the CLI
	"$PEAKQ" -c "$T/peakq.yaml" show --json "$1" |
		python3 -c 'import json,sys; d=json.load(sys.stdin); v=d["case"][sys.argv[1]]; print(v if v is not None else "-")' "$2"
}
msg() { # FILE FROM SUBJECT BODY [MESSAGE-ID]
	printf 'Return-Path: <%s>\nFrom: %s\nTo: support@example.test\nSubject: %s\nMessage-ID: <%s>\nContent-Type: text/plain; charset=utf-8\n\n%s\n' \
		"$2" "$2" "$3" "${5:-$(basename "$1" .eml)@example.net}" "$4" >"$1"
}

# 1. Per-sender limit: the third message from one sender in a day gets no
# acknowledgement (each is a new case: different orders, no threading).
msg "$T/r1.eml" ann@example.net "Gift wrap?" "Can you gift wrap order 111-0000001-0000001?"
msg "$T/r2.eml" ann@example.net "Invoice" "Please send an invoice for 111-0000002-0000002."
msg "$T/r3.eml" ann@example.net "Colour" "Do you have the mug in red for 111-0000003-0000003?"
$IMAPC "$ENV" append INBOX "$T/r1.eml" "$T/r2.eml" "$T/r3.eml" >/dev/null
once limit
is "$(outbox_field 1 state) $(outbox_field 2 state) $(outbox_field 3 state)" \
	"sent sent suppressed" "per-sender limit: 2 acks, the third suppressed"
is "$(outbox_field 3 reason)" rate-limit "the reason is recorded"

# 2. Too old: waited 2 days on the server (INTERNALDATE), max_age 12h.
msg "$T/old.eml" bob@example.net "Where is my parcel" "Still waiting for 111-0000004-0000004."
$IMAPC "$ENV" --days-ago 2 append INBOX "$T/old.eml" >/dev/null
ok $? "a message that waited two days on the server"
once old
is "$(outbox_field 4 state)" expired "a 2-day-old message: acknowledgement expired, not sent"
is "$(outbox_field 4 reason)" too-old "with its reason"
"$PEAKQ" -c "$T/peakq.yaml" list --json --all | python3 -c '
import json, sys
c = [c for c in json.load(sys.stdin) if c["id"] == 4][0]
sys.exit(0 if c["overdue"] else 1)'
ok $? "and the case is already overdue (due = received + SLA)"

# 3. A follow-up with no threading headers: same sender, same order id.
msg "$T/f1.eml" carol@example.net "Late parcel" "Order 111-0000005-0000005 is late."
$IMAPC "$ENV" append INBOX "$T/f1.eml" >/dev/null
once f1
is "$(field 5 priority)" high "a late-delivery case is high priority"
msg "$T/f2.eml" carol@example.net "Still nothing" \
	"Still nothing for 111-0000005-0000005. I am filing an A-to-z claim today."
$IMAPC "$ENV" append INBOX "$T/f2.eml" >/dev/null
once f2
grep -q "follow-up of case 5 .*via=sender-and-order" "$T/f2.log"
ok $? "same sender + same order id = a follow-up"
is "$("$PEAKQ" -c "$T/peakq.yaml" list --json --all | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" 5 \
	"no new case"
is "$(field 5 priority) $(field 5 escalated)" "urgent True" \
	"the complaint in the follow-up raised the priority and escalated"
msg "$T/f3.eml" carol@example.net "thanks" "Thanks, got it, order 111-0000005-0000005."
$IMAPC "$ENV" append INBOX "$T/f3.eml" >/dev/null
once f3
is "$(field 5 priority)" urgent "a calmer follow-up never lowers it"
# An agent resolves the case; the customer writes again: the case reopens
# (open again for that agent), the reopening is an event, and there is
# still only one acknowledgement.
PEAKQ_AGENT=ann "$PEAKQ" -c "$T/peakq.yaml" resolve 5 >/dev/null
is "$(field 5 status)" resolved "case 5 resolved"
msg "$T/f4.eml" carol@example.net "Re: Late parcel" \
	"Sorry, 111-0000005-0000005 is still not here after all."
$IMAPC "$ENV" append INBOX "$T/f4.eml" >/dev/null
once f4
is "$(field 5 status) $(field 5 resolved_at) $(field 5 assignee)" \
	"open - ann" "a follow-up reopens a resolved case, still ann's"
"$PEAKQ" -c "$T/peakq.yaml" show --json 5 | python3 -c '
import json, sys
d = json.load(sys.stdin)
kinds = [e["kind"] for e in d["events"]]
acks = [o for o in d["outbox"] if o["kind"] == "ack"]
sys.exit(0 if "reopened" in kinds and len(acks) == 1 and len(d["messages"]) == 4 else 1)'
ok $? "the reopening is an event; four messages, one acknowledgement"

# 4. Notices: the active one (keyword 'ups') reaches the late-delivery ack.
msg "$T/n1.eml" dan@example.net "UPS tracking stuck" "UPS tracking for 111-0000006-0000006 has not moved since Monday."
$IMAPC "$ENV" append INBOX "$T/n1.eml" >/dev/null
once notice
"$PEAKQ" -c "$T/peakq.yaml" show 6 >"$T/show6.txt"
grep -q "UPS has announced 2-3 days of delay" "$T/show6.txt"
ok $? "the active notice is in the acknowledgement"
grep -q "AN OLD NOTICE" "$T/show6.txt"
ok $((!$?)) "an expired notice is not"

# 5. The account's default language for a message with no words.
sed -i 's/^    mailboxes: \[INBOX\]/    mailboxes: [INBOX]\n    default_lang: zh/' "$T/peakq.yaml"
msg "$T/l1.eml" erin@example.net "111-0000007-0000007" "111-0000007-0000007"
$IMAPC "$ENV" append INBOX "$T/l1.eml" >/dev/null
once lang
is "$(field 7 lang)" zh "no words: the account's default language (zh)"

# 6. The MTA is down for a while: acks wait, then each goes out once.
"$top_srcdir/tests/mailenv.sh" mta-stop "$T/m"
ok $? "Postfix stopped"
for i in 1 2 3; do
	msg "$T/o$i.eml" "out$i@example.net" "Broken mug $i" "The mug from 111-000000$i-1000000 arrived broken."
done
$IMAPC "$ENV" append INBOX "$T/o1.eml" "$T/o2.eml" "$T/o3.eml" >/dev/null
once down
is "$?" 0 "--once exits 0 with the MTA down (acks wait)"
tries=$(grep -c "not sent (attempt 1" "$T/down.log")
[ "$tries" -ge 1 ] && [ "$tries" -le 3 ]
ok $? "at most one attempt per SMTP connection (3 acks, 4 connections), then it stops trying this round ($tries)"
# Which of the three a sender tried first depends on which sender found
# the server down first (each takes its share of the rows): none is sent,
# and the one tried waits for a retry.
states="$(outbox_field 8 state) $(outbox_field 9 state) $(outbox_field 10 state)"
case " $states " in
*" sent "*) ok 1 "no ack sent while the MTA is down ($states)" ;;
*temp_fail*) ok 0 "the ack tried waits for a retry, the others wait ($states)" ;;
*) ok 1 "an ack was tried and waits for a retry ($states)" ;;
esac
"$top_srcdir/tests/mailenv.sh" mta-start "$T/m"
ok $? "Postfix started again"
sleep 2
once up
is "$(outbox_field 8 state) $(outbox_field 9 state) $(outbox_field 10 state)" \
	"sent sent sent" "all three sent when the MTA is back"
for i in 1 2 3; do
	echo "out$i@example.net"
done >"$T/want"
$IMAPC "$ENV" --as customer wait INBOX 8 30 >/dev/null
mkdir -p "$T/cust"
$IMAPC "$ENV" --as customer dump INBOX "$T/cust" >/dev/null
for i in 1 2 3; do
	n=$(grep -l "^To: <out$i@example.net>" "$T"/cust/*.eml | wc -l)
	is "$n" 1 "out$i got exactly one acknowledgement"
done

# 7. An agent sends a failed one again.
"$PEAKQ" -c "$T/peakq.yaml" outbox >"$T/outbox.txt"
ok $? "peakq outbox"
grep -q "expired" "$T/outbox.txt" && ok 1 "expired rows are not listed as needing a look" ||
	ok 0 "expired rows are not listed as needing a look"
"$PEAKQ" -c "$T/peakq.yaml" outbox --all --json >"$T/outbox.json"
python3 -c 'import json,sys; rows=json.load(open(sys.argv[1])); sys.exit(0 if any(r["state"]=="expired" for r in rows) else 1)' "$T/outbox.json"
ok $? "--all lists them"
PEAKQ_AGENT=alice "$PEAKQ" -c "$T/peakq.yaml" outbox retry 4 >"$T/retry.txt" 2>&1
is "$?" 0 "peakq outbox retry sends the expired ack on purpose"
is "$(outbox_field 4 state)" sent "it is sent now"
"$PEAKQ" -c "$T/peakq.yaml" show 4 | grep -q "alice.*ack_retry"
ok $? "the retry is an event by the agent"
"$PEAKQ" -c "$T/peakq.yaml" outbox retry 4 >/dev/null 2>&1
is "$?" 1 "a sent ack cannot be retried"
done_testing
