#!/bin/bash
# make fuzz: run each libFuzzer harness (build-fuzz/tests/fuzz/fuzz-NAME)
# for FUZZ_SECONDS, FUZZ_JOBS harnesses at a time.  Each starts from the
# committed seeds and crash inputs plus the corpus it grew in earlier runs
# (build-fuzz/corpus/NAME, kept between runs).  A finding is written to
# build-fuzz/artifacts/NAME-crash-... and makes the run fail; fix it, then
# commit the input to tests/fuzz/crashes/NAME/ so that make check replays
# it.  The table at the end (also in build-fuzz/report.txt) is what the
# README's Reliability section quotes.
set -u
export LC_ALL=C
top=$(cd "$(dirname "$0")/../.." && pwd)
F=$top/build-fuzz
secs=${FUZZ_SECONDS:-60}
jobs=${FUZZ_JOBS:-1}
mkdir -p "$F/corpus" "$F/artifacts" "$F/logs"

one() {
	local name=$1 bin=$F/tests/fuzz/fuzz-$1 args=()
	local corpus=$F/corpus/$1 log=$F/logs/$1.log
	mkdir -p "$corpus"
	for d in corpus crashes; do
		[ -d "$top/tests/fuzz/$d/$name" ] && args+=("$top/tests/fuzz/$d/$name")
	done
	[ $name = reader ] || [ $name = summary ] &&
	    args+=("$top/tests/data/realworld")
	[ -f "$top/tests/fuzz/$name.dict" ] && args+=(-dict="$top/tests/fuzz/$name.dict")
	# rss_limit: a capture record may need 256 KiB and the merge several
	# buffers; 2 GiB is far above any legitimate use, below the machine.
	"$bin" -max_total_time="$secs" -print_final_stats=1 -rss_limit_mb=2048 \
	    -timeout=10 -max_len="${FUZZ_MAX_LEN:-16384}" \
	    -artifact_prefix="$F/artifacts/$name-" "$corpus" "${args[@]}" \
	    >"$log" 2>&1
	echo $? >"$F/logs/$name.rc"
}
export -f one
export F top secs

start=$(date +%s)
printf '%s\n' "$@" | xargs -P "$jobs" -I{} bash -c 'one {}'

rc=0
{
	printf '%-10s %8s %12s %8s %8s %s\n' harness seconds executions \
	    "exec/s" corpus result
	for name in "$@"; do
		log=$F/logs/$name.log
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
		eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
		ncorp=$(find "$F/corpus/$name" -type f | wc -l)
		r=$(cat "$F/logs/$name.rc")
		if [ "$r" = 0 ]; then res=clean; else res="FINDING (exit $r; see $log)"; rc=1; fi
		printf '%-10s %8s %12s %8s %8s %s\n' "$name" "$secs" "${execs:-?}" \
		    "${eps:-?}" "$ncorp" "$res"
	done
	echo "fuzzed $(date -u +%Y-%m-%d), $(($(date +%s) - start)) s wall, $jobs at a time, $(clang --version | head -1)"
} | tee "$F/report.txt"
ls "$F"/artifacts/ 2>/dev/null | sed 's/^/finding: build-fuzz\/artifacts\//'
exit $rc
