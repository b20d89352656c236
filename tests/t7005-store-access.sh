#!/bin/sh
# t7005: agents share the queue with the daemon through a group. The
# daemon (here uid 1) creates the store with store_mode: 0660 in a setgid
# folder of group G; an agent (uid 65534) in group G lists cases and adds
# a note, and the -wal/-shm files it may create stay usable by the daemon;
# an agent outside G gets a clear "permission denied" naming store_mode; a
# store made 0600 earlier is given 0660 at the daemon's next start. Needs
# root (to be two other users, with setpriv); G is a bare group number,
# nothing is added to /etc/passwd or /etc/group.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip_all "needs root to run as other users"
command -v setpriv >/dev/null || skip_all "setpriv (util-linux) not installed"
command -v python3 >/dev/null || skip_all "python3 not installed"
D=1
A=65534
G=$((61000 + $$ % 4000))
as_daemon() { setpriv --reuid=$D --regid=$G --clear-groups "$@"; }
as_agent() { setpriv --reuid=$A --regid=$A --groups=$G "$@"; }
as_stranger() { setpriv --reuid=$A --regid=$A --clear-groups "$@"; }
as_stranger test -x "$PEAKQ" || skip_all "the build folder is not reachable by other users"

cp -r "$top_srcdir/rules" "$top_srcdir/templates" "$T/"
mkdir "$T/state"
chown $D:$G "$T/state"
chmod 2770 "$T/state"
printf 'x\n' >"$T/pass"
chown $D "$T/pass"
chmod 600 "$T/pass"
config() { # config STORE_MODE
	cat >"$T/peakq.yaml" <<EOC
store: $T/state/peakq.db
${1:+store_mode: $1}
rules_dir: $T/rules
templates_dir: $T/templates
accounts:
  - name: support
    imap: {host: 127.0.0.1, port: 1, tls: none, user: u, password_file: $T/pass}
smtp: {url: "smtp://127.0.0.1:1", tls: none, from: "Desk <desk@example.test>"}
EOC
	chmod 644 "$T/peakq.yaml"
}
mode_group() { stat -c '%a %g' "$1"; }

config 0660
as_daemon "$PEAKQD" -c "$T/peakq.yaml" --once --log=stderr >"$T/d1.log" 2>&1
is $? 75 "the daemon (uid $D) starts, creates the store, cannot reach IMAP: 75"
is "$(mode_group "$T/state/peakq.db")" "660 $G" "store_mode 0660: the store is group $G, mode 660"
TZ=UTC python3 "$top_srcdir/tests/season.py" gen "$T/state/peakq.db" 20 1 "$T/expected.json" >/dev/null
chown $D:$G "$T"/state/peakq.db*

as_agent "$PEAKQ" -c "$T/peakq.yaml" list --all --json >"$T/list.json" 2>"$T/err"
ok $? "an agent in group $G lists the cases"
python3 -c 'import json,sys; sys.exit(0 if len(json.load(open(sys.argv[1]))) == 20 else 1)' "$T/list.json"
ok $? "all 20 of them"
PEAKQ_AGENT=alice as_agent "$PEAKQ" -c "$T/peakq.yaml" note 1 "Called the carrier" >/dev/null 2>"$T/err"
ok $? "and adds a note (a write): $(cat "$T/err")"
bad=
for f in "$T"/state/peakq.db*; do
	[ "$(mode_group "$f")" = "660 $G" ] || bad="$bad $(basename "$f"):$(mode_group "$f")"
done
is "$bad" "" "every store file (db, -wal, -shm) is group $G, mode 660"
as_daemon "$PEAKQD" -c "$T/peakq.yaml" --once --log=stderr >"$T/d2.log" 2>&1
is $? 75 "the daemon opens the store again after the agent's writes"
! grep -q "store:" "$T/d2.log"
ok $? "with no store error"

as_stranger "$PEAKQ" -c "$T/peakq.yaml" list >/dev/null 2>"$T/err"
is $? 69 "an agent outside the group: exit 69"
grep -q "permission denied.*store_mode: 0660" "$T/err"
ok $? "with a message that says what to do: $(cat "$T/err")"

# A store created 0600 (the default), then store_mode: 0660.
rm -f "$T"/state/peakq.db*
config ""
as_daemon "$PEAKQD" -c "$T/peakq.yaml" --once --log=stderr >"$T/d3.log" 2>&1
is "$(stat -c %a "$T/state/peakq.db")" 600 "without store_mode the store is 600"
config 0660
as_daemon "$PEAKQD" -c "$T/peakq.yaml" --once --log=stderr >"$T/d4.log" 2>&1
is "$(stat -c %a "$T/state/peakq.db")" 660 "with store_mode: 0660 the next start makes it 660"
grep -q "now has mode 0660 (store_mode)" "$T/d4.log"
ok $? "and logs it"
config 0644
"$PEAKQD" -n -c "$T/peakq.yaml" >/dev/null 2>"$T/err"
is $? 78 "store_mode 0644 is refused"
grep -q "peakq.yaml:2:13: store_mode must be 0600 (only the daemon's user) or 0660" "$T/err"
ok $? "with file:line:col: $(cat "$T/err")"
done_testing
