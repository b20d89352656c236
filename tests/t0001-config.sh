#!/bin/sh
# t0001: `peakqd -n` validates configuration, rules and templates: exit 0 for
# a good set, 78 with a file:line:col message for each kind of mistake.
. "$(dirname "$0")/lib.sh"

# No servers needed: a made-up mail environment for write_config.
mkdir -p "$T/m"
cat >"$T/m/env" <<'EOE'
PQ_SUPPORT_PASSWORD=x PQ_IMAPS_PORT=993 PQ_IMAP_PORT=143 PQ_SMTP_PORT=25
PQ_CA_FILE=/etc/ssl/certs/ca-certificates.crt PQ_SUPPORT_USER=support@example.test
EOE
write_config implicit imap.example.com

out=$("$PEAKQD" -n -c "$T/peakq.yaml" 2>&1)
ok $? "a good configuration validates"
case $out in *"configuration OK: 1 account(s), 1 mailbox(es), "[0-9]*" rule(s)"*)
	ok 0 "-n says what it checked" ;;
*) ok 1 "-n says what it checked"; diag "$out" ;;
esac

expect_78() { # DESCRIPTION EXPECTED-SUBSTRING
	out=$("$PEAKQD" -n -c "$T/bad.yaml" 2>&1)
	rc=$?
	is "$rc" 78 "$1: exit 78"
	case $out in *"$2"*) ok 0 "$1: message" ;;
	*) ok 1 "$1: message"; diag "got: $out"; diag "want: $2" ;; esac
}

sed 's/^poll_interval: 2s/pol_interval: 2s/' "$T/peakq.yaml" >"$T/bad.yaml"
expect_78 "unknown key" "$T/bad.yaml:5:1: unknown key 'pol_interval'"

sed 's/^      tls: implicit/      tls: none/' "$T/peakq.yaml" >"$T/bad.yaml"
expect_78 "plain text to a remote host" \
	"$T/bad.yaml:11:12: tls: none sends the password in clear text to 'imap.example.com'"

sed 's/^      tls: implicit/      tls: none\n      insecure: true/' \
	"$T/peakq.yaml" | sed 's/\\n/\n/' >"$T/ok.yaml"
"$PEAKQD" -n -c "$T/ok.yaml" >/dev/null 2>&1
ok $? "tls: none with insecure: true is allowed"

{ cat "$T/peakq.yaml"; echo "escalate_to: [sam@shop.example, not an address]"; } >"$T/bad.yaml"
n=$(($(wc -l <"$T/peakq.yaml") + 1))
expect_78 "a supervisor address that is not one" \
	"$T/bad.yaml:$n:33: escalate_to: not an e-mail address"
{ cat "$T/peakq.yaml"; echo "escalate_to: \"Sam <sam@shop.example>\""; } >"$T/bad.yaml"
"$PEAKQD" -n -c "$T/bad.yaml" >/dev/null 2>&1
is $? 0 "escalate_to: one address with a name is fine"
{ cat "$T/peakq.yaml"; echo "time_zone: Mars/Olympus_Mons"; } >"$T/bad.yaml"
n=$(($(wc -l <"$T/peakq.yaml") + 1))
expect_78 "an unknown time zone" \
	"$T/bad.yaml:$n:12: time_zone: unknown time zone 'Mars/Olympus_Mons'"
{ cat "$T/peakq.yaml"; echo "time_zone: Asia/Shanghai"; } >"$T/bad.yaml"
"$PEAKQD" -n -c "$T/bad.yaml" >/dev/null 2>&1
is $? 0 "time_zone: Asia/Shanghai is fine"
# The documented example is a valid configuration (with this tree's rules
# and templates), and so is every commented-out option in it.
sed "s|^#\{0,1\} *rules_dir:.*|rules_dir: $top_srcdir/rules|; s|^#\{0,1\} *templates_dir:.*|templates_dir: $top_srcdir/templates|" \
	"$top_srcdir/contrib/peakq.yaml.example" >"$T/example.yaml"
"$PEAKQD" -n -c "$T/example.yaml" >"$T/out" 2>&1
ok $? "contrib/peakq.yaml.example is valid: $(cat "$T/out")"
printf 'notices:\n  - name: n\n    from: 2025-12-01\n    until: 2025-12-02\n    en: x\n' >"$T/notices.yaml"
sed -e "s|^# time_zone:|time_zone:|; s|^# metrics_file: .*|metrics_file: $T/m.prom|" \
	-e "s|^# escalate_to:|escalate_to:|; s|^# notices: .*|notices: $T/notices.yaml|" \
	"$T/example.yaml" >"$T/example-all.yaml"
"$PEAKQD" -n -c "$T/example-all.yaml" >"$T/out" 2>&1
ok $? "and with its commented-out top-level options on: $(cat "$T/out")"
printf 'accounts: [\n' >"$T/bad.yaml"
expect_78 "broken YAML" "$T/bad.yaml:2:1: "

expect_missing() {
	"$PEAKQD" -n -c "$T/nonexistent.yaml" >"$T/out" 2>&1
	is "$?" 78 "missing config: exit 78"
	grep -q "nonexistent.yaml: cannot read" "$T/out"
	ok $? "missing config: names the file"
}
expect_missing

# rules
mkdir -p "$T/rules"
cp "$top_srcdir/rules/10-holiday.yaml" "$T/rules/"
printf 'rules:\n  - name: x\n    category: late_delivery\n    match:\n      any: [a\n' \
	>"$T/rules/20-broken.yaml"
sed "s|^rules_dir: .*|rules_dir: $T/rules|" "$T/peakq.yaml" >"$T/bad.yaml"
expect_78 "broken rules file" "$T/rules/20-broken.yaml:6:1: "
printf 'rules:\n  - name: x\n    category: late_delivery\n    template: nosuch\n    match: {any: [a]}\n' \
	>"$T/rules/20-broken.yaml"
expect_78 "rule naming a missing template" \
	"$T/rules/20-broken.yaml:4:15: rule 'x' uses template 'nosuch', but templates/en/nosuch.txt does not exist"
rm "$T/rules/20-broken.yaml"

# templates
cp -r "$top_srcdir/templates" "$T/templates"
printf 'Subject: x\n\nHello {{customer}}\n' >"$T/templates/en/general.txt"
sed "s|^templates_dir: .*|templates_dir: $T/templates|" "$T/peakq.yaml" \
	>"$T/bad.yaml"
expect_78 "unknown placeholder" \
	"$T/templates/en/general.txt:3:7: unknown placeholder '{{customer}}'"

"$PEAKQD" --help >"$T/out" 2>&1
ok $? "--help exits 0"
grep -q -- "--once" "$T/out"
ok $? "--help lists --once"
"$PEAKQD" --bogus >/dev/null 2>&1
is "$?" 64 "unknown option: exit 64 (EX_USAGE)"

# A password file every user can read: a warning, or refused with
# strict_permissions.
chmod 644 "$T/support.pass"
out=$("$PEAKQD" -n -c "$T/peakq.yaml" 2>&1)
ok $? "a world-readable password file: still valid by default"
case $out in *"warning: password file '$T/support.pass' can be read by every user (mode 0644): chmod o-rwx it"*)
	ok 0 "but warned about" ;;
*) ok 1 "but warned about"; diag "$out" ;; esac
{ cat "$T/peakq.yaml"; echo "strict_permissions: true"; } >"$T/bad.yaml"
expect_78 "strict_permissions" "password file '$T/support.pass' can be read by every user (mode 0644): chmod o-rwx it (strict_permissions is on)"
chmod 640 "$T/support.pass"
out=$("$PEAKQD" -n -c "$T/bad.yaml" 2>&1)
ok $? "mode 0640 (group peakq) passes strict_permissions: $out"
chmod 600 "$T/support.pass"
done_testing
