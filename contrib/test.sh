#!/bin/sh
# Set everything up and run the test suite, as CI does: installs missing
# Debian packages, then
#   1. builds with -Werror, ASan and UBSan and runs `make check` (unit tests,
#      and the real-server tests against a throwaway Dovecot and Postfix on
#      loopback), then `make check-long` (the two-minute MTA outage);
#   2. builds again without sanitizers and runs `make check-valgrind` (the
#      same suite with every program under valgrind).
# Prints the TAP results and, last, the line "N passed, N failed".
# PEAKQ_NO_VALGRIND=1 skips step 2.
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
"$src/contrib/setup-deps.sh" || exit 1
passed=0
failed=0
status=0

suite() { # NAME BUILDDIR TARGET CONFIGURE-ARGS...
	name=$1 dir=$2 target=$3
	shift 3
	echo "# == $name"
	if ! PEAKQ_BUILD=$dir "$src/contrib/build.sh" "$@" >"$dir.build.log" 2>&1; then
		echo "not ok - $name: build failed"
		sed 's/^/# /' "$dir.build.log" | tail -30
		failed=$((failed + 1))
		status=1
		return
	fi
	rc=0
	: >"$dir/make-check.out"
	for t in $target; do # one after another: they share test logs
		(cd "$dir" && make -j2 "$t" >>make-check.out 2>&1) || rc=1
	done
	for log in $(cd "$dir" && find tests -name '*.log' | sort); do
		echo "# $log"
		grep -E '^(ok|not ok|1\.\.|Bail out!)' "$dir/$log"
	done
	p=$(sed -n 's/^# PASS: *//p' "$dir/make-check.out" | awk '{ s += $1 } END { print s + 0 }')
	f=0
	for k in FAIL ERROR XPASS; do
		n=$(sed -n "s/^# $k: *//p" "$dir/make-check.out" | awk '{ s += $1 } END { print s + 0 }')
		f=$((f + ${n:-0}))
	done
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1 # make failed before or outside the tests
	fi
	if [ "$rc" -ne 0 ]; then
		echo "# $name failed; details:"
		sed 's/^/# /' "$dir/make-check.out" | tail -40
		status=1
	fi
	passed=$((passed + ${p:-0}))
	failed=$((failed + f))
}

suite "make check and check-long (-Werror, ASan, UBSan)" "$src/_build-check" "check check-long" \
	--enable-werror --enable-sanitizers
if [ -z "${PEAKQ_NO_VALGRIND:-}" ]; then
	suite "make check-valgrind" "$src/_build-valgrind" check-valgrind \
		--enable-werror
fi
echo "$passed passed, $failed failed"
exit $status
