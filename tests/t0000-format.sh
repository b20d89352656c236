#!/bin/sh
# t0000: every C source is formatted with the project's .clang-format.
. "$(dirname "$0")/lib.sh"
command -v clang-format >/dev/null || skip_all "clang-format not installed"
cd "$top_srcdir" || exit 1
for f in daemon/*.c daemon/*.h tests/unit/*.c tests/bench/*.c tests/fuzz/*.c tests/tap.h; do
	clang-format --dry-run -Werror "$f" >"$T/fmt.out" 2>&1
	rc=$?
	ok $rc "$f is clang-formatted"
	[ $rc -eq 0 ] || head -5 "$T/fmt.out" | sed 's/^/# /'
done
done_testing
