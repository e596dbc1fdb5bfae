#!/bin/bash
# Replay the committed fuzz inputs (tests/fuzz/corpus/NAME: seeds;
# tests/fuzz/crashes/NAME: inputs that once crashed, kept so that every fixed
# crash stays fixed) through each harness without libFuzzer.  Part of make
# check, and of make asan, where the sanitizers watch every input.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
B=$top/${BUILD:-build}
rc=0
for c in "$top"/tests/fuzz/corpus/*/; do
	name=$(basename "$c")
	bin=$B/tests/fuzz/replay-$name
	dirs=()
	for d in corpus crashes; do
		[ -d "$top/tests/fuzz/$d/$name" ] && dirs+=("$top/tests/fuzz/$d/$name")
	done
	# the real-world fixtures are reader inputs too
	[ $name = reader ] || [ $name = summary ] &&
	    dirs+=("$top/tests/data/realworld")
	if [ ${#dirs[@]} = 0 ]; then
		echo "FAIL fuzz replay $name: no inputs"; rc=1; continue
	fi
	if out=$("$bin" "${dirs[@]}" 2>&1); then
		echo "ok   fuzz replay $name: ${out##*: }"
	else
		echo "FAIL fuzz replay $name:"; echo "$out" | tail -20; rc=1
	fi
done
exit $rc
