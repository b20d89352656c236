#!/bin/sh
# Set everything up and run the test suite: installs missing Debian packages,
# builds with -Werror, ASan and UBSan, runs `make check` (unit tests and the
# real-server tests against a throwaway Dovecot and Postfix on loopback), and
# prints TAP results and the line "N passed, N failed".
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
"$src/contrib/setup-deps.sh" || exit 1
export PEAKQ_BUILD=${PEAKQ_BUILD:-$src/_build-check}
"$src/contrib/build.sh" --enable-werror --enable-sanitizers || exit 1
cd "$PEAKQ_BUILD"
make -j2 check >make-check.out 2>&1
rc=$?
# The TAP lines of every test, then the totals.
for log in $(find tests -name '*.log' | sort); do
	echo "# $log"
	grep -E '^(ok|not ok|1\.\.|Bail out!)' "$log"
done
pass=$(sed -n 's/^# PASS: *//p' make-check.out | head -1)
total_fail=0
for k in FAIL ERROR XPASS; do
	n=$(sed -n "s/^# $k: *//p" make-check.out | head -1)
	total_fail=$((total_fail + ${n:-0}))
done
skip=$(sed -n 's/^# SKIP: *//p' make-check.out | head -1)
if [ "$rc" -ne 0 ]; then
	echo "# make check failed; details:"
	sed 's/^/# /' make-check.out | tail -40
	[ -f test-suite.log ] && sed 's/^/# /' test-suite.log | tail -80
fi
echo "${pass:-0} passed, $total_fail failed (${skip:-0} skipped)"
[ "$rc" -eq 0 ] && [ "$total_fail" -eq 0 ]
