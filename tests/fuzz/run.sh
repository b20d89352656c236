#!/bin/sh
# run.sh BUILDDIR [SECONDS] [TARGET...]: build the fuzz targets and run
# each for SECONDS (default 60) of wall time, one after another, with its
# seed corpus (tests/data, the rules and templates, ../shared/corpus/real
# when present). New inputs are kept in BUILDDIR/fuzz/corpus-TARGET;
# crashes in BUILDDIR/fuzz/crashes/. Prints each target's executions and
# coverage (libFuzzer's cov: and ft: figures). Exit 1 if any crashed.
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-.}" && pwd)
secs=${2:-60}
shift 2 2>/dev/null || shift $#
"$src/tests/fuzz/build.sh" "$build" >/dev/null
out="$build/fuzz"
mkdir -p "$out/crashes"
targets=${*:-"fuzz-mime fuzz-rules fuzz-render fuzz-header"}
seeds() { # seeds TARGET DIR: fill DIR with the seed inputs
	case $1 in
	fuzz-mime)
		find "$src/tests/data" -name '*.eml' | head -400 | while read -r f; do cp "$f" "$2/"; done
		if [ -d "$src/../shared/corpus/real" ]; then
			find "$src/../shared/corpus/real" -type f -size -200k | head -400 |
				while read -r f; do cp "$f" "$2/$(echo "$f" | md5sum | cut -c1-16)"; done
		fi ;;
	fuzz-rules)
		cp "$src"/rules/*.yaml "$2/"
		printf 'rules:\n  - name: a\n    category: late_delivery\n    match: {any: [late, 迟到]}\n' >"$2/small.yaml" ;;
	fuzz-render)
		printf 'Emily Carter\0Where is my order?\000112-4839201-5561203\0Emily\0emily@example.org\0abc@x\0r1@x\0r2@x' >"$2/a"
		printf '李娜\0我的圣诞礼物还没到\0\0李娜\0li.na@example.cn\0\0\0' >"$2/b" ;;
	fuzz-header)
		printf 'Where is my order 112-4839201-5561203?' >"$2/a"
		printf '我的圣诞礼物还没到 =?utf-8?B?SGk=?=' >"$2/b"
		printf 'Re: \r\nBcc: x@y\r\n' >"$2/c" ;;
	esac
}
fail=0
for t in $targets; do
	corpus="$out/corpus-$t"
	mkdir -p "$corpus" "$out/seed-$t"
	[ -n "$(ls -A "$out/seed-$t")" ] || seeds "$t" "$out/seed-$t"
	log="$out/$t.log"
	if "$out/$t" -max_total_time="$secs" -max_len=65536 -timeout=10 \
		-rss_limit_mb=2048 -artifact_prefix="$out/crashes/$t-" \
		-print_final_stats=1 "$corpus" "$out/seed-$t" >"$log" 2>&1; then
		:
	else
		fail=1
		echo "$t: CRASH, see $log and $out/crashes/" >&2
	fi
	execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
	cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1)
	echo "$t: ${secs}s, $execs executions, $cov, corpus $(ls "$corpus" | wc -l) inputs"
done
exit $fail
