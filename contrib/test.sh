#!/bin/sh
# Set everything up and run the test suite, as CI does: installs missing
# Debian packages, then
#   1. builds with -Werror, ASan and UBSan and runs `make check` (unit tests,
#      and the real-server tests against a throwaway Dovecot and Postfix on
#      loopback);
#   2. runs, at the same time, `make check-long` in that build (the
#      two-minute MTA outage: mostly waiting) and, in a second build
#      without sanitizers, `make check-valgrind` (the unit tests and the
#      main and error paths with every program under valgrind).
# Prints the TAP results, how long each part took and its slowest tests,
# and, last, the line "N passed, N failed".
# PEAKQ_NO_VALGRIND=1 skips the valgrind run.
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
start=$(date +%s)
"$src/contrib/setup-deps.sh" || exit 1

build() { # DIR CONFIGURE-ARGS...: 0, or "not ok" and its log
	dir=$1
	shift
	if PEAKQ_BUILD=$dir "$src/contrib/build.sh" "$@" >"$dir.build.log" 2>&1; then
		return 0
	fi
	echo "not ok - build in $dir failed"
	echo "# build in $dir failed (its log above)" >>"$failures"
	sed 's/^/# /' "$dir.build.log" | tail -30
	echo "0 1" >"$dir.result"
	return 1
}

# run NAME DIR TARGET: make TARGET in DIR; print the TAP lines of the tests
# it ran and write "PASSED FAILED" to DIR.TARGET.result.
run() {
	name=$1 dir=$2 target=$3
	out="$dir/$target.out"
	echo "# == $name"
	t0=$(date +%s)
	rc=0
	(cd "$dir" && make -j2 "$target" >"$out" 2>&1) || rc=1
	for t in $(sed -n 's/^\(PASS\|FAIL\|XFAIL\|XPASS\|SKIP\|ERROR\): \([^ ]*\).*/\2/p' "$out" | sort -u); do
		log=${t%.sh}.log # automake: tests/tNNNN-x.sh -> tests/tNNNN-x.log
		# make -j2 can interleave two results on a line ("PASS: tests/S:
		# tests/unit/..."): such a name has no log, and the counts below
		# come from make's summary, not from these lines.
		[ -f "$dir/$log" ] || continue
		echo "# $log"
		grep -E '^(ok|not ok|1\.\.|Bail out!)' "$dir/$log"
		# the failures again, in a list printed last (CI shows the tail)
		grep -E '^(not ok|Bail out!)' "$dir/$log" | grep -v '# TODO' |
			sed "s|^|# $name: $log: |" >>"$failures"
	done
	p=$(sed -n 's/^# PASS: *//p' "$out" | awk '{ s += $1 } END { print s + 0 }')
	f=$(sed -n 's/^# \(FAIL\|ERROR\|XPASS\): *//p' "$out" | awk '{ s += $1 } END { print s + 0 }')
	if [ "$rc" -ne 0 ]; then
		if [ "$f" -eq 0 ]; then # make failed before or outside the tests
			f=1
			echo "# $name: make $target failed outside the tests" >>"$failures"
		fi
		echo "# $name failed; details:"
		sed 's/^/# /' "$out" | tail -40
	fi
	echo "$p $f" >"$dir.$target.result"
	echo "# $name: $(($(date +%s) - t0)) s; slowest:$(slowest "$dir" "$out")"
}

# slowest DIR OUT: the five longest tests make ran, "NAME Ns" each (from
# their logs' birth and change times; nothing where the file system keeps
# no birth time).
slowest() {
	for t in $(sed -n 's/^\(PASS\|FAIL\|XFAIL\|XPASS\|SKIP\|ERROR\): \([^ ]*\).*/\2/p' "$2" | sort -u); do
		stat -c '%W %Y %n' "$1/${t%.sh}.log" 2>/dev/null
	done | awk '$1 > 0 { print $2 - $1, $3 }' | sort -rn | head -5 |
		awk '{ n = $2; sub(".*/", "", n); printf " %s %ds", n, $1 }'
}

asan=$src/_build-check
vg=$src/_build-valgrind
failures=$src/_build-failures.txt
rm -f "$asan".*.result "$vg".*.result "$asan.result" "$vg.result" "$failures"
: >"$failures"
if build "$asan" --enable-werror --enable-sanitizers; then
	run "make check (-Werror, ASan, UBSan)" "$asan" check
	# check-long waits out an outage; valgrind's run keeps the CPUs busy
	# meanwhile. Its output is shown after.
	run "make check-long (-Werror, ASan, UBSan)" "$asan" check-long \
		>"$asan.long.tap" 2>&1 &
	long=$!
fi
if [ -z "${PEAKQ_NO_VALGRIND:-}" ] && build "$vg" --enable-werror; then
	run "make check-valgrind" "$vg" check-valgrind
fi
if [ -n "${long:-}" ]; then
	wait "$long"
	cat "$asan.long.tap"
fi
echo "# all parts, builds included: $(($(date +%s) - start)) s"
if [ -s "$failures" ]; then
	echo "# == failures (repeated from above)"
	cat "$failures"
fi
cat "$asan".*.result "$vg".*.result "$asan.result" "$vg.result" 2>/dev/null |
	awk '{ p += $1; f += $2 } END { print p + 0 " passed, " f + 0 " failed"; exit f > 0 }'
