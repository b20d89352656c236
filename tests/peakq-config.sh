#!/bin/sh
# Write a peakq.yaml for a running mail environment (tests/mailenv.sh):
#   peakq-config.sh ENVFILE DIR [TLS [HOST]]
# writes DIR/peakq.yaml (store DIR/peakq.db, the source tree's rules and
# templates, IMAP as support with TLS implicit|starttls|none to HOST
# (default localhost), SMTP to the MTA with STARTTLS) and DIR/support.pass.
set -eu
[ $# -ge 2 ] || {
	echo "usage: $0 ENVFILE DIR [implicit|starttls|none [HOST]]" >&2
	exit 2
}
src=$(cd "$(dirname "$0")/.." && pwd)
. "$1"
dir=$2
tls=${3:-implicit}
host=${4:-localhost}
case $tls in
implicit) port=$PQ_IMAPS_PORT ;;
*) port=$PQ_IMAP_PORT ;;
esac
umask 077
printf '%s\n' "$PQ_SUPPORT_PASSWORD" >"$dir/support.pass"
cat >"$dir/peakq.yaml" <<EOC
team_name: Holiday Desk
store: $dir/peakq.db
rules_dir: $src/rules
templates_dir: $src/templates
poll_interval: 2s
accounts:
  - name: support
    imap:
      host: $host
      port: $port
      tls: $tls
      ca_file: $PQ_CA_FILE
      user: $PQ_SUPPORT_USER
      password_file: $dir/support.pass
    mailboxes: [INBOX]
smtp:
  url: smtp://127.0.0.1:$PQ_SMTP_PORT
  ca_file: $PQ_CA_FILE
  from: "Holiday Desk <support@example.test>"
EOC
