#!/bin/sh
# The demo: set up everything and run peakq's main job for real.
# Installs missing Debian packages, builds peakq, starts a throwaway Dovecot
# and Postfix on loopback (with a test CA), puts sample holiday mail in the
# support mailbox, runs the daemon once (ingest, classify, acknowledge),
# shows the queue and one acknowledgement as the customer received it, and
# cleans up. Needs root (for the private mail servers).
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
"$src/contrib/setup-deps.sh"
export PEAKQ_BUILD=${PEAKQ_BUILD:-$src/_build}
echo "== building peakq" >&2
"$src/contrib/build.sh"
B=$PEAKQ_BUILD

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: the throwaway mail servers need root; run: sudo $0" >&2
	exit 1
fi
T=$(mktemp -d /tmp/pqdemo.XXXXXX)
chmod 755 "$T"
stop() {
	"$src/tests/mailenv.sh" stop "$T/m" >/dev/null 2>&1 || true
	rm -rf "$T"
}
trap stop EXIT
trap 'exit 1' INT TERM

echo "== starting Dovecot and Postfix on loopback (in $T)" >&2
mkdir -p "$T/m"
"$src/tests/mailenv.sh" start "$T/m" >"$T/mailenv.log" 2>&1 || {
	cat "$T/mailenv.log" >&2
	exit 1
}
. "$T/m/env"
IMAPC="python3 $src/tests/imapc.py $T/m/env"

"$src/tests/peakq-config.sh" "$T/m/env" "$T" implicit localhost
sed -i -e 's/^team_name: .*/team_name: Holiday Support Team/' \
	-e 's/Holiday Desk </Holiday Support Team </' "$T/peakq.yaml"

echo "== the support mailbox receives $(ls "$src"/tests/data/holiday/*.eml | wc -l) holiday messages" >&2
$IMAPC append INBOX "$src"/tests/data/holiday/*.eml >/dev/null

echo "== peakqd --once: ingest, classify, acknowledge" >&2
"$B/peakqd" -c "$T/peakq.yaml" --once --log=stderr

echo
echo "== peakq list --all (the queue agents work)"
COLUMNS=${COLUMNS:-150} "$B/peakq" -c "$T/peakq.yaml" list --all

acks=$("$B/peakq" -c "$T/peakq.yaml" list --all --json |
	python3 -c 'import json,sys; print(sum(c["ack"]=="sent" for c in json.load(sys.stdin)))')
echo
echo "== waiting for the $acks acknowledgements to reach the customer's mailbox" >&2
$IMAPC --as customer wait INBOX "$acks" 60 >&2
mkdir -p "$T/acks"
$IMAPC --as customer dump INBOX "$T/acks" >/dev/null
for f in "$T"/acks/*.eml; do
	if grep -q "li-na-1226@example.cn" "$f"; then zh=$f; fi
	if grep -q "buyer-0001@marketplace.amazon.com" "$f"; then en=$f; fi
done
echo "== one acknowledgement, exactly as the customer's mailbox holds it"
cat "${en:-$f}"
echo
echo "== a Chinese one, exactly as received (RFC 2047 subject, quoted-printable UTF-8)"
sed -n '/^From:/,$p' "${zh:-$f}"
echo
echo "== the same, decoded as a mail client shows it"
python3 - "${zh:-$f}" <<'PY'
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
for h in ("From", "To", "Subject", "In-Reply-To", "Auto-Submitted"):
    print("%s: %s" % (h, m[h]))
print()
print(m.get_body(("plain",)).get_content())
PY
echo "== peakq show 4 (what an agent sees; --json for scripts)"
"$B/peakq" -c "$T/peakq.yaml" show 4 | sed -n '1,22p'
echo "  ..."
"$B/peakq" -c "$T/peakq.yaml" show 4 | sed -n '/^--- events/,$p'
echo "== done; the throwaway servers are stopped and $T removed" >&2
