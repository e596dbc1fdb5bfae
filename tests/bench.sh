#!/bin/bash
# make bench: time pcapkit against the reference tools on the same data, in
# one run, and print ratios.  Each line is $PAIRS (at least 5) paired runs,
# the tool and its reference alternating, the ratio taken pair by pair: the
# median is the figure, min and max its spread.  The machine and each
# core's speed are printed first; the inputs are dropped from the page
# cache and read back before the runs.  The corpus is generated once into
# $BENCH_DIR (default build/bench) and reused.
#
# Targets (issue 24; issue 22 for completeness on / off):
#   pcap-merge to a file vs mergecap -F pcap            >= 2.5x faster
#   pcap-merge to /dev/null vs mergecap -F pcap         >= 3.5x faster
#   pcap-merge to a file vs cat to a file               <= 1.3x the time
#   2,048 inputs vs 4 inputs, the same packets          >= 0.5 of the throughput
#   pcap-filter 5-tuple vs tcpdump -r -w BPF            >= 1.5x faster
#   pcap-summary --per-file vs capinfos -c -d -u -a -e  >= 2.5x faster
#   pcap-summary --expect with manifest.json / without  <= 1.15x the time
#   pcap-summary --per-file, completeness on / off      <= 1.2x the time,
#     on corpus16t (TCP that follows its flows); on corpus16 (random TCP
#     headers, the loss tracking's worst case) printed too, without a target
#   pcap-fetch bucket vs aws s3 cp --recursive (tests/benchserve.py)
#                                                       >= 1.5x faster
# (issue 21) with BASELINE=REV: each tool against commit REV's, <= 1.05
set -u
export LC_ALL=C

top=$(cd "$(dirname "$0")/.." && pwd)
B=$top/${BUILD:-build}
M=$B/pcap-merge
G=$B/tests/gencap
BD=${BENCH_DIR:-$top/build/bench}
RUNS=${RUNS:-3}
PAIRS=${PAIRS:-5}
[ "$PAIRS" -ge 5 ] 2>/dev/null || PAIRS=5
mkdir -p "$BD"
cd "$BD" || exit 1

# 16 files x 250,000 packets, IMIX sizes, interleaved timestamps with jitter
if [ ! -f corpus16.done ]; then
	echo "bench: generating 16 x 250,000 packets (IMIX) ..." >&2
	rm -rf corpus16 && mkdir corpus16
	"$G" -M 16 -n 250000 -m imix -i 16000 -D 1000 -j 900 \
	    -o corpus16/pcap_%05u.pcap && touch corpus16.done
fi
# The same with TCP that follows its flows (gencap -T: sequence numbers
# advance, ACK set, 0.1% of segments after a drop), as captured traffic
# does; corpus16's random TCP headers make every segment a new stream.
if [ ! -f corpus16t.done ]; then
	rm -rf corpus16t && mkdir corpus16t
	"$G" -T -M 16 -n 250000 -m imix -i 16000 -D 1000 -j 900 \
	    -o corpus16t/pcap_%05u.pcap && touch corpus16t.done
fi
# the same 4,000,000 packets' worth as 4 and as 2,048 inputs
if [ ! -f k4.done ]; then
	rm -rf k4 && mkdir k4
	"$G" -M 4 -n 1000000 -m imix -i 4000 -D 1000 -j 900 \
	    -o k4/pcap_%05u.pcap && touch k4.done
fi
if [ ! -f k2048.done ]; then
	rm -rf k2048 && mkdir k2048
	"$G" -M 2048 -n 1953 -m imix -i 2048000 -D 1000 -j 900 \
	    -o k2048/pcap_%05u.pcap && touch k2048.done
fi

now() { date +%s.%N; }
# best NAME CMD: best wall time of RUNS runs of CMD (a shell string).
# Before each run, untimed: the output file is removed and dirty pages are
# written back, so that no run pays for the one before it.
best() {
	local b= t0 t1 t i
	for i in $(seq "$RUNS"); do
		rm -rf "$out"
		sync
		t0=$(now)
		sh -c "$2" || { echo "bench: '$2' failed" >&2; }
		t1=$(now)
		t=$(echo "$t1 - $t0" | bc -l)
		if [ -z "$b" ] || [ "$(echo "$t < $b" | bc -l)" = 1 ]; then b=$t; fi
	done
	printf '%-44s %8.3f s\n' "$1" "$b" >&2
	echo "$b"
}
ratio() { echo "scale=2; $1 / $2" | bc -l; }
verdict() { [ "$(echo "$1 $2 $3" | bc -l)" = 1 ] && echo "ok" || echo "MISSED"; }

in16=$(ls corpus16/pcap_*.pcap | tr '\n' ' ')
in16t=$(ls corpus16t/pcap_*.pcap | tr '\n' ' ')
# Every input is dropped from the page cache and read back, so that each
# run finds it cached as one fresh read leaves it (in large folios, where
# the kernel makes them).  Pages cached long before, in 4 KiB pieces, made
# `cat` of the same 1.4 GB 1.3x slower (0.16-0.20 s against 0.12), and
# every tool that reads with it, ours and the references alike.
for f in corpus16/* corpus16t/* k4/*; do
	dd if="$f" iflag=nocache count=0 status=none 2>/dev/null
done
find k2048 -type f -exec sh -c \
    'for f; do dd if="$f" iflag=nocache count=0 status=none; done' sh {} + \
    2>/dev/null
cat $in16 $in16t >/dev/null; cat k4/pcap_* >/dev/null	# warm the page cache
find k2048 -type f -exec cat {} + >/dev/null

# BASELINE=REV (make bench BASELINE=REV): the same lines for the tools of
# commit REV and for these, alternating, median of 5 pairs of new/old, so
# that a change shows it made nothing slower (issue 21).  REV is built once
# into $BD/baseline-REV from a git worktree.  BENCH_ONLY=baseline stops
# after this part.
median5() { printf '%s\n' "$@" | sort -g | sed -n 3p; }
pair() {	# pair NAME OLDCMD NEWCMD
	local r=() i t0 t1 t2
	for i in 1 2 3 4 5; do
		sync
		t0=$(now); sh -c "$2" >/dev/null 2>&1; t1=$(now)
		sh -c "$3" >/dev/null 2>&1; t2=$(now)
		r+=("$(echo "($t2 - $t1) / ($t1 - $t0)" | bc -l)")
	done
	m=$(median5 "${r[@]}")
	printf '%-40s new/old %5.3f  %s  (pairs:%s)\n' "$1" "$m" \
	    "$(verdict "$m" '<=' 1.05)" "$(printf ' %.2f' "${r[@]}")"
}
if [ -n "${BASELINE:-}" ]; then
	O=$BD/baseline-$BASELINE/build
	if [ ! -x "$O/pcap-summary" ]; then
		rm -rf "$BD/baseline-$BASELINE"
		git -C "$top" worktree add -f --detach "$BD/baseline-$BASELINE" \
		    "$BASELINE" >/dev/null &&
		    make -C "$BD/baseline-$BASELINE" --no-print-directory tools \
		    >"$BD/baseline.log" 2>&1 ||
		    { echo "bench: cannot build $BASELINE" >&2; exit 1; }
	fi
	"$M" -w merged.pcap $in16
	echo "== against $BASELINE (new/old, median of 5 pairs; <= 1.05: no worse)"
	pair "pcap-merge 16 inputs -w - >/dev/null" "$O/pcap-merge -w - $in16" "$M -w - $in16"
	pair "pcap-merge 16 inputs -w FILE" "$O/pcap-merge -w $BD/o1.pcap $in16" "$M -w $BD/o2.pcap $in16"
	pair "pcap-merge 2,048 inputs" "$O/pcap-merge -w - k2048" "$M -w - k2048"
	pair "pcap-filter 5-tuple -w FILE" "$O/pcap-filter --src 10.0.1.1 --proto udp --dport 53 -w $BD/o1.pcap merged.pcap" \
	    "$B/pcap-filter --src 10.0.1.1 --proto udp --dport 53 -w $BD/o2.pcap merged.pcap"
	pair "pcap-summary --per-file" "$O/pcap-summary --per-file $in16" "$B/pcap-summary --per-file $in16"
	pair "pcap-summary --per-file, a filter" "$O/pcap-summary --per-file --proto udp $in16" \
	    "$B/pcap-summary --per-file --proto udp $in16"
	rm -f merged.pcap "$BD/o1.pcap" "$BD/o2.pcap"
	[ "${BENCH_ONLY:-}" = baseline ] && exit 0
fi
out=$BD/out.pcap

echo "== machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -r)"
# Each core's speed at the same work, one thread pinned to it (median of 3):
# on a shared host one vCPU has run at 60% of the other for an hour, which
# moves every line that a single-threaded reference runs on either core.
if command -v taskset >/dev/null; then
	cores=
	for c in $(seq 0 $(($(nproc) - 1))); do
		ts=()
		for i in 1 2 3; do
			t0=$(now)
			taskset -c "$c" "$B/pcap-summary" --threads 1 \
			    --no-completeness $in16 >/dev/null 2>&1
			t1=$(now)
			ts+=("$(echo "$t1 - $t0" | bc -l)")
		done
		cores="$cores $(printf 'cpu%s %.2f s,' "$c" \
		    "$(printf '%s\n' "${ts[@]}" | sort -g | sed -n 2p)")"
	done
	echo "== cores:${cores%,} (pcap-summary --threads 1 pinned to each)"
fi

# paired NAME OURS REF [time|speed]: PAIRS pairs of runs of the shell strings
# OURS and REF, alternating, ours first in odd pairs.  speed (default): the
# ratio is REF's time over OURS'; time: OURS' over REF's.  Sets med, lo, hi
# (the ratios' median, min, max), om and rm (the median times) and prints
# them.  CPU seconds (user + system) of each run go to cpu.ours, cpu.ref.
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END {
	if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
timed() {	# timed CMD CPUFILE: wall seconds on stdout
	local t0 t1
	rm -rf "$out"; sync
	t0=$(now)
	{ TIMEFORMAT='%U %S'; time sh -c "$1" >/dev/null 2>&1; } 2>>"$2"
	t1=$(now)
	echo "$t1 - $t0" | bc -l
}
paired() {
	local i a b rs=() os=() fs=()
	: >cpu.ours; : >cpu.ref
	for i in $(seq "$PAIRS"); do
		if [ $((i % 2)) = 1 ]; then
			a=$(timed "$2" cpu.ours); b=$(timed "$3" cpu.ref)
		else
			b=$(timed "$3" cpu.ref); a=$(timed "$2" cpu.ours)
		fi
		os+=("$a"); fs+=("$b")
		if [ "${4:-speed}" = time ]; then
			rs+=("$(echo "$a / $b" | bc -l)")
		else
			rs+=("$(echo "$b / $a" | bc -l)")
		fi
	done
	med=$(median "${rs[@]}")
	lo=$(printf '%s\n' "${rs[@]}" | sort -g | head -1)
	hi=$(printf '%s\n' "${rs[@]}" | sort -g | tail -1)
	om=$(median "${os[@]}"); refm=$(median "${fs[@]}")
	printf '%-46s %6.3f s vs %6.3f s  ratio %5.2f (%4.2f-%4.2f)\n' "$1" \
	    "$om" "$refm" "$med" "$lo" "$hi" >&2
}
cpu_sum() { awk '{ s += $1 + $2 } END { printf "%.3f", s / NR }' "$1"; }
# row LABEL TARGET-OP TARGET: a line of the verdict table from med, lo, hi
rows=
# row NAME OP TARGET: the last paired line against its target; row NAME
# '' NOTE: printed with NOTE instead, for a line without a target.
row() {
	local t=$3
	[ -n "$2" ] && t="$2 $(printf '%-5s' "$3") $(verdict "$med" "$2" "$3")"
	rows="$rows$(printf '%-46s %6.2f %6.2f %6.2f   %s' "$1" "$med" \
	    "$lo" "$hi" "$t")
"
}

echo "== pcap-merge, 16 x 250,000 packets ($(du -shL corpus16 | cut -f1)), $PAIRS pairs each" >&2
if command -v mergecap >/dev/null; then
	paired "pcap-merge -w FILE vs mergecap -F pcap -w FILE" \
	    "$M -w $out $in16" "mergecap -F pcap -w $out $in16"
	row "merge to a file vs mergecap (x faster)" '>=' 2.5
	paired "pcap-merge -w - >/dev/null vs mergecap -w /dev/null" \
	    "$M -w - $in16 >/dev/null" "mergecap -F pcap -w /dev/null $in16"
	row "merge to /dev/null vs mergecap (x faster)" '>=' 3.5
else
	rows="${rows}merge vs mergecap: skipped, mergecap not installed
"
fi
paired "pcap-merge -w FILE vs cat >FILE" "$M -w $out $in16" "cat $in16 >$out" time
row "merge to a file / cat to a file (time)" '<=' 1.3
rm -f "$out"

echo "== 4 vs 2,048 inputs, 4,000,000 packets in all" >&2
# time mode: the 4-input time over the 2,048-input one, the throughput ratio
paired "pcap-merge 4 inputs vs 2,048 inputs" "$M -w - k4 >/dev/null" "$M -w - k2048 >/dev/null" time
row "2,048-input / 4-input throughput" '>=' 0.5
# What bounds it, once each (RUNS best): reading the 2,048 files
# round-robin alone, and two 1,024-input merges at once, one per core.
rr=$(best "read 2048 inputs round-robin, 32 KiB" "$B/tests/rrread 32768 k2048/* >/dev/null")
h1=$(ls k2048/* | head -n 1024 | tr '\n' ' ')
h2=$(ls k2048/* | tail -n +1025 | tr '\n' ' ')
halves=$(best "2 x 1,024 inputs at once, one per core" "$M -w - $h1 >/dev/null & $M -w - $h2 >/dev/null; wait")

echo "== pcap-filter, a 5-tuple over the merged 4,000,000 packets" >&2
"$M" -w merged.pcap $in16
tuple='{"source_address":"10.0.1.1","destination_address":"192.0.2.5","source_port":12290,"destination_port":53,"protocol":17}'
bpf='src host 10.0.1.1 and dst host 192.0.2.5 and udp and src port 12290 and dst port 53'
if command -v tcpdump >/dev/null; then
	paired "pcap-filter -f TUPLE -w FILE vs tcpdump -r -w BPF" \
	    "$B/pcap-filter -f '$tuple' -w $out merged.pcap" \
	    "tcpdump -r merged.pcap -w $out '$bpf'"
	row "filter a 5-tuple to a file vs tcpdump (x faster)" '>=' 1.5
else
	rows="${rows}filter vs tcpdump: skipped, tcpdump not installed
"
fi
rm -f "$out" merged.pcap

echo "== pcap-summary --per-file over the 16 files" >&2
if command -v capinfos >/dev/null; then
	paired "pcap-summary --per-file vs capinfos -c -d -u -a -e" \
	    "$B/pcap-summary --per-file $in16" "capinfos -c -d -u -a -e $in16"
	row "summary --per-file vs capinfos (x faster)" '>=' 2.5
	# the same where TCP follows its flows (the target stays above)
	paired "pcap-summary --per-file vs capinfos, TCP flows" \
	    "$B/pcap-summary --per-file $in16t" "capinfos -c -d -u -a -e $in16t"
	row "  vs capinfos, TCP flows (corpus16t)" '' "(no target)"
else
	rows="${rows}summary vs capinfos: skipped, capinfos not installed
"
fi
cat $in16t >/dev/null
paired "summary --per-file, completeness on / off (TCP flows)" \
    "$B/pcap-summary --per-file $in16t" \
    "$B/pcap-summary --per-file --no-completeness $in16t" time
row "summary --per-file, completeness on / off (time)" '<=' 1.2
paired "the same, random TCP headers (worst case)" \
    "$B/pcap-summary --per-file $in16" \
    "$B/pcap-summary --per-file --no-completeness $in16" time
row "  on / off, random TCP headers" '' "(worst case, no target)"

# pcap-summary --expect with pcap-fetch's manifest.json against without:
# the CRC-32C of every file is taken in the same pass as the counts.
rm -rf expect_m expect_n && mkdir expect_m expect_n
for f in corpus16/pcap_*.pcap; do ln -s "../$f" expect_m/; ln -s "../$f" expect_n/; done
echo '{"id": "bench", "type": "full", "status": "success"}' >expect_m/capture.json
cp expect_m/capture.json expect_n/
(cd expect_m && "$B/tests/pktdump" -C pcap_*.pcap) | python3 -c 'import json,sys
print(json.dumps({"pcap_fetch_manifest": 1, "source": "bench", "files": [
    {"name": n, "status": "fetched", "size": int(s), "crc32c": c}
    for s, c, n in (l.split() for l in sys.stdin)]}))' >expect_m/manifest.json
paired "summary --expect, with / without manifest.json" \
    "$B/pcap-summary --expect expect_m" "$B/pcap-summary --expect expect_n" time
row "summary --expect, manifest / none (time)" '<=' 1.15
"$B/pcap-summary" --expect expect_m 2>/dev/null | grep -q '^  ok    manifest' ||
    echo "bench: the manifest check did not pass" >&2

# pcap-fetch vs aws s3 cp --recursive over the same 16 objects, served by
# tests/benchserve.py (sendfile(2), a thread per connection, Range for
# aws-cli's 8 MiB parts): a server that is not the bottleneck.  The AWS CLI
# is not a build dependency (Debian's awscli, or pip); skipped without it.
if command -v aws >/dev/null; then
	echo "== pcap-fetch bucket vs aws s3 cp --recursive, 16 objects" >&2
	mkdir -p objects/corpus
	for f in corpus16/pcap_*.pcap; do ln -sf "../../$f" objects/corpus/; done
	rm -f port.bench
	python3 "$top/tests/benchserve.py" objects bench port.bench 2>benchserve.log &
	srv=$!
	for i in $(seq 600); do [ -f port.bench ] && break; sleep 0.1; done
	export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench
	export AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
	export AWS_ENDPOINT_URL=http://127.0.0.1:$(cat port.bench)
	out=$BD/fetched
	gb=$(du -sbL corpus16 | awk '{ print $1 / 1e9 }')
	paired "pcap-fetch bucket -j 4 vs aws s3 cp --recursive" \
	    "$B/pcap-fetch bucket s3://bench/corpus -o $out -j 4 --no-progress" \
	    "aws s3 cp --recursive --quiet --endpoint-url $AWS_ENDPOINT_URL s3://bench/corpus $out"
	row "fetch 16 objects vs aws s3 cp (x faster)" '>=' 1.5
	cpu_f=$(echo "$(cpu_sum cpu.ours) / $gb" | bc -l)
	cpu_a=$(echo "$(cpu_sum cpu.ref) / $gb" | bc -l)
	printf '%-46s pcap-fetch %.2f, aws %.2f CPU s/GB (user + system, client only)\n' \
	    "  CPU per GB fetched" "$cpu_f" "$cpu_a" >&2
	rows="$rows$(printf '  (CPU s/GB: pcap-fetch %.2f, aws %.2f)' "$cpu_f" "$cpu_a")
"
	rm -rf "$out"
	kill $srv 2>/dev/null
	unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_ENDPOINT_URL
	out=$BD/out.pcap
else
	rows="${rows}fetch vs aws s3 cp: skipped, aws not installed
"
fi

echo
echo "== machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
echo "line (median of $PAIRS paired runs)                 median    min    max   target"
printf '%s' "$rows"
printf '  (2,048 inputs: reading them alone round-robin takes %.2f s; two\n   1,024-input merges at once, one per core, take %.2f s)\n' "$rr" "$halves"
