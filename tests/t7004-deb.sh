#!/bin/sh
# t7004: contrib/build-deb.sh builds a Debian package with
# dpkg-buildpackage from `make dist`. Checked without installing it: the
# files go where Debian wants them (binaries, the five man pages, the unit
# in /lib/systemd/system, defaults in /usr/share/peakq), the rules,
# templates and example config in /etc/peakq are conffiles (dpkg keeps a
# user's edits on upgrade), the postinst creates the system user the unit
# runs as, and the packaged programs run.
. "$(dirname "$0")/lib.sh"
command -v dpkg-buildpackage >/dev/null || skip_all "dpkg-dev not installed"
command -v dh >/dev/null || skip_all "debhelper not installed"
command -v fakeroot >/dev/null || skip_all "fakeroot not installed"
# Nothing here runs peakq code worth valgrind's time (it builds a package).
[ -z "${PQ_VALGRIND:-}" ] || skip_all "packaging test; run without PQ_VALGRIND"

DEB_BUILD_OPTIONS=nocheck "$top_srcdir/contrib/build-deb.sh" "$T/out" >"$T/build.log" 2>&1
ok $? "contrib/build-deb.sh builds the package"
deb=$(ls "$T"/out/peakq_*.deb 2>/dev/null | head -1)
test -n "$deb" && test -s "$deb"
ok $? "one .deb: $(basename "${deb:-none}")"
[ -n "$deb" ] || { tail -20 "$T/build.log" | sed 's/^/# /'; done_testing; exit; }

dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' >"$T/files"
for f in /usr/sbin/peakqd /usr/bin/peakq /lib/systemd/system/peakqd.service \
	/usr/share/man/man8/peakqd.8.gz /usr/share/man/man1/peakq.1.gz \
	/usr/share/man/man5/peakq.yaml.5.gz /usr/share/man/man5/peakq-rules.5.gz \
	/usr/share/man/man5/peakq-templates.5.gz \
	/usr/share/peakq/rules/10-holiday.yaml /usr/share/peakq/templates/zh/late_delivery.txt \
	/etc/peakq/peakq.yaml.example /etc/peakq/rules/10-holiday.yaml /etc/peakq/rules/90-mined.yaml \
	/etc/peakq/templates/en/late_delivery.txt \
	/usr/share/bash-completion/completions/peakq /usr/share/doc/peakq/README.Debian; do
	grep -qx "$f" "$T/files"
	ok $? "packaged: $f"
done
! grep -q '^/usr/local\|^/etc/peakq/peakq.yaml$' "$T/files"
ok $? "nothing under /usr/local, and no peakq.yaml to overwrite a user's"

mkdir "$T/ctl" "$T/root"
dpkg-deb -e "$deb" "$T/ctl"
grep -qx /etc/peakq/rules/10-holiday.yaml "$T/ctl/conffiles" &&
	grep -qx /etc/peakq/rules/90-mined.yaml "$T/ctl/conffiles" &&
	grep -qx /etc/peakq/peakq.yaml.example "$T/ctl/conffiles" &&
	[ "$(grep -c '^/etc/peakq/templates/' "$T/ctl/conffiles")" -eq 36 ]
ok $? "the rules, 36 templates and the example config are conffiles"
grep -q "adduser --system --group" "$T/ctl/postinst"
ok $? "postinst creates the system user peakq"
dpkg-deb -f "$deb" Depends | grep -q "libetpan20 (>= 1.9.4-3)"
ok $? "depends on a libetpan with the STARTTLS injection fix: $(dpkg-deb -f "$deb" Depends)"

dpkg-deb -x "$deb" "$T/root"
"$T/root/usr/sbin/peakqd" --version | grep -q "^peakqd "
ok $? "the packaged peakqd runs"
"$T/root/usr/bin/peakq" --help >/dev/null
ok $? "the packaged peakq runs"
grep -q "^ExecStart=/usr/sbin/peakqd -c /etc/peakq/peakq.yaml$" "$T/root/lib/systemd/system/peakqd.service"
ok $? "the unit starts /usr/sbin/peakqd with /etc/peakq/peakq.yaml"
strings "$T/root/usr/sbin/peakqd" | grep -q "^/etc/peakq/peakq.yaml$"
ok $? "the default config path compiled in is /etc/peakq/peakq.yaml"
done_testing
