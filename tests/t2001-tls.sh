#!/bin/sh
# t2001: TLS means verified TLS. libetpan checks nothing, so peakqd must:
# a certificate for another name, a self-signed certificate, a server
# whose CA we do not trust, and an expired certificate are refused before
# anything is fetched; a STARTTLS downgrade and data injected after
# "OK begin TLS" stop it before LOGIN; a valid chain is accepted over
# implicit TLS and over STARTTLS; plain text is accepted on loopback only.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip_all "python3 not installed"
mailenv_start
ENV="$T/m/env"
$IMAPC "$ENV" append INBOX "$DATA/holiday/01-late-en.eml" >/dev/null
ok $? "one message in the support INBOX"

run() { # NAME: run peakqd --once on $T/peakq.yaml, log in $T/NAME.log
	"$PEAKQD" -c "$T/peakq.yaml" --once --log=stderr >"$T/$1.log" 2>&1
}
cases() {
	if [ -f "$T/peakq.db" ]; then
		"$PEAKQ" -c "$T/peakq.yaml" list --json --all |
			python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'
	else
		echo 0
	fi
}
refused() { # NAME PATTERN DESCRIPTION
	run "$1"
	rc=$?
	is "$rc" 75 "$3: peakqd --once exits 75"
	grep -q "$2" "$T/$1.log"
	ok $? "$3: clear error"
	grep "$2" "$T/$1.log" | head -1 | sed 's/^/#   /'
	is "$(cases)" 0 "$3: nothing ingested"
}

# A certificate from our CA, but for another name.
write_config implicit "$PQ_WRONGNAME_HOST"
refused wrongname "certificate of '$PQ_WRONGNAME_HOST' refused: not valid for this host name" \
	"wrong host name (implicit TLS)"
write_config starttls "$PQ_WRONGNAME_HOST"
refused wrongname-starttls "certificate of '$PQ_WRONGNAME_HOST' refused: not valid for this host name" \
	"wrong host name (STARTTLS)"

# Self-signed.
write_config implicit 127.0.0.1
sed -i "s/port: $PQ_IMAPS_PORT/port: $PQ_SELFSIGNED_PORT/" "$T/peakq.yaml"
refused selfsigned "refused: issuer unknown" "self-signed certificate"

# Valid chain, but the CA is not one we trust (system store only).
write_config implicit localhost
sed -i '/ca_file:/d' "$T/peakq.yaml"
refused untrusted "refused: issuer unknown" "certificate from an untrusted CA"

# Valid: implicit TLS by IP address (IP SAN) and STARTTLS by name.
write_config starttls localhost
run starttls
is "$?" 0 "STARTTLS with a valid certificate works"
is "$(cases)" 1 "STARTTLS: the message is ingested"

rm -f "$T/peakq.db"*
$IMAPC "$ENV" append INBOX "$DATA/holiday/02-lost-en-qp.eml" >/dev/null
write_config implicit 127.0.0.1
run implicit-ip
is "$?" 0 "implicit TLS to 127.0.0.1 verified against the IP SAN"
is "$(cases)" 2 "implicit TLS: both messages ingested into a fresh store"

# A STARTTLS downgrade: a server (or a man in the middle) that does not
# offer STARTTLS. peakqd must stop before LOGIN, never fall back to plain.
rm -f "$T/imap-peer.port"
python3 "$top_srcdir/tests/servers/imap-peer.py" --no-starttls \
	--port-file "$T/imap-peer.port" --log "$T/imap-peer.log" &
ipid=$!
wait_until 100 test -s "$T/imap-peer.port"
rm -f "$T"/peakq.db*
write_config starttls 127.0.0.1
sed -i "s/port: $PQ_IMAP_PORT/port: $(cat "$T/imap-peer.port")/" "$T/peakq.yaml"
refused downgrade "does not offer STARTTLS; refusing to log in without TLS" \
	"STARTTLS not offered"
if grep -qi "LOGIN\|AUTHENTICATE" "$T/imap-peer.log"; then
	ok 1 "STARTTLS not offered: no LOGIN was sent"
else
	ok 0 "STARTTLS not offered: no LOGIN was sent"
fi
kill $ipid 2>/dev/null
wait $ipid 2>/dev/null

# An expired certificate from our own CA (openssl ca can backdate).
mkdir -p "$T/ca/new"
: >"$T/ca/index.txt"
echo 1000 >"$T/ca/serial"
cat >"$T/ca/ca.cnf" <<EOC
[ca]
default_ca = d
[d]
database = $T/ca/index.txt
new_certs_dir = $T/ca/new
serial = $T/ca/serial
default_md = sha256
policy = p
copy_extensions = copy
[p]
commonName = supplied
EOC
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$T/ca/expired.key" -out "$T/ca/expired.csr" -subj /CN=localhost \
	-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" >/dev/null 2>&1 &&
	openssl ca -batch -config "$T/ca/ca.cnf" -cert "$T/m/tls/ca.crt" \
		-keyfile "$T/m/tls/ca.key" -in "$T/ca/expired.csr" \
		-out "$T/ca/expired.crt" -startdate 20200101000000Z \
		-enddate 20200201000000Z -notext >/dev/null 2>&1
ok $? "an expired certificate (January 2020) from the test CA"
rm -f "$T/imap-peer.port"
python3 "$top_srcdir/tests/servers/imap-peer.py" --tls "$T/ca/expired.crt,$T/ca/expired.key" \
	--port-file "$T/imap-peer.port" --log "$T/expired-peer.log" &
ipid=$!
wait_until 100 test -s "$T/imap-peer.port"
write_config implicit localhost
sed -i "s/port: $PQ_IMAPS_PORT/port: $(cat "$T/imap-peer.port")/" "$T/peakq.yaml"
refused expired "certificate of 'localhost' refused: .*expired" "expired certificate"
! grep -qs "^C: " "$T/expired-peer.log"
ok $? "expired certificate: not one IMAP command was sent"
kill $ipid 2>/dev/null
wait $ipid 2>/dev/null

# Data injected after "OK begin TLS" (CVE-2020-15953): refused, no LOGIN.
rm -f "$T/imap-peer.port"
python3 "$top_srcdir/tests/servers/imap-peer.py" --starttls-inject \
	--port-file "$T/imap-peer.port" --log "$T/inject-peer.log" &
ipid=$!
wait_until 100 test -s "$T/imap-peer.port"
write_config starttls localhost
sed -i "s/port: $PQ_IMAP_PORT/port: $(cat "$T/imap-peer.port")/" "$T/peakq.yaml"
refused inject "STARTTLS with localhost:[0-9]* failed (refused, or data injected before the handshake)" \
	"data injected after STARTTLS"
grep -q "S: injected" "$T/inject-peer.log"
ok $? "injection: the peer did inject"
! grep -qi "C: [0-9a-z]* \(LOGIN\|AUTHENTICATE\)" "$T/inject-peer.log"
ok $? "injection: no LOGIN was sent"
kill $ipid 2>/dev/null
wait $ipid 2>/dev/null

# SNI: the host name goes in the ClientHello (needed by servers hosting
# several names); an IP address does not (RFC 6066).
sni() { # HOST: connect to a logging TLS server, print the SNI extensions
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	# The server lives until peakqd has been and gone (however slowly,
	# under valgrind on a busy machine): its stdin is a FIFO held open by
	# fd 9 here, so it never sees EOF. (A "sleep N |" would outlive the
	# server and hold $(sni ...) open for N seconds.)
	: >"$T/sni.out"
	rm -f "$T/sni.in"
	mkfifo "$T/sni.in"
	openssl s_server -accept "$port" -cert "$T/m/tls/server.crt" \
		-key "$T/m/tls/server.key" -tlsextdebug <"$T/sni.in" >"$T/sni.out" 2>&1 &
	spid=$!
	exec 9>"$T/sni.in"
	wait_until 100 grep -q ACCEPT "$T/sni.out"
	write_config implicit "$1"
	# s_server never greets; a short timeout ends the wait for it.
	sed -i "s/^\( *\)port: $PQ_IMAPS_PORT\$/\1port: $port\n\1timeout: 5s/" "$T/peakq.yaml"
	run sni >/dev/null 2>&1
	kill "$spid" 2>/dev/null
	wait "$spid" 2>/dev/null
	exec 9>&-
	if grep -q 'TLS client extension' "$T/sni.out"; then
		grep -c 'TLS client extension "server name"' "$T/sni.out"
	else
		echo "no ClientHello reached the server"
	fi
}
if [ -f "$T/m/tls/server.crt" ] && [ -f "$T/m/tls/server.key" ]; then
	is "$(sni localhost)" 1 "SNI sent for a host name"
	is "$(sni 127.0.0.1)" 0 "no SNI for an IP address"
else
	ok 0 "# SKIP server certificate not at $T/m/tls/server.crt"
fi

# Plain text: refused off loopback by the configuration check, accepted on
# loopback.
write_config none 127.0.0.1
run plain
is "$?" 0 "tls: none on loopback works"
if grep -qF "$PQ_SUPPORT_PASSWORD" "$T"/*.log; then
	ok 1 "the password never appears in any log"
else
	ok 0 "the password never appears in any log"
fi
done_testing
