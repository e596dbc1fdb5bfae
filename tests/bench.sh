#!/bin/bash
# make bench: time pcapkit against the reference tools on the same data, in
# one run, and print ratios.  Each time is the best of $RUNS runs (default 3)
# with the inputs already in the page cache.  The corpus is generated once
# into $BENCH_DIR (default build/bench) and reused.
#
# Targets (issue 3):
#   pcap-merge vs mergecap -F pcap to /dev/null   >= 3x faster
#   pcap-merge vs cat of the same bytes           <= 2x the time of cat
#   2048 inputs vs 4 inputs, same total size      >= 0.70 of the throughput
# (issue 4)
#   pcap-filter 5-tuple vs tcpdump -r -w BPF       >= 1.5x faster
#   pcap-summary --per-file vs capinfos -c -d -u -a -e   >= 2x faster
#   pcap-summary --expect with manifest.json / without   <= 1.15x (median of 5 pairs)
#   pcap-summary --per-file, completeness on / off        <= 1.2x (median of 5 pairs)
# (issue 6)
#   pcap-fetch bucket vs aws s3 cp --recursive (s3rver) >= 1x
# (issue 21) with BASELINE=REV: each tool against commit REV's, <= 1.05
set -u
export LC_ALL=C

top=$(cd "$(dirname "$0")/.." && pwd)
B=$top/${BUILD:-build}
M=$B/pcap-merge
G=$B/tests/gencap
BD=${BENCH_DIR:-$top/build/bench}
RUNS=${RUNS:-3}
mkdir -p "$BD"
cd "$BD" || exit 1

# 16 files x 250,000 packets, IMIX sizes, interleaved timestamps with jitter
if [ ! -f corpus16.done ]; then
	echo "bench: generating 16 x 250,000 packets (IMIX) ..." >&2
	rm -rf corpus16 && mkdir corpus16
	"$G" -M 16 -n 250000 -m imix -i 16000 -D 1000 -j 900 \
	    -o corpus16/pcap_%05u.pcap && touch corpus16.done
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
cat $in16 >/dev/null; cat k4/pcap_* >/dev/null	# warm the page cache
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

echo "== pcap-merge, 16 x 250,000 packets ($(du -sh corpus16 | cut -f1))" >&2
pm_null=$(best "pcap-merge -w - >/dev/null" "$M -w - $in16 >/dev/null")
pm_file=$(best "pcap-merge -w FILE" "$M -w $out $in16")
cat_null=$(best "cat >/dev/null" "cat $in16 >/dev/null")
cat_file=$(best "cat >FILE" "cat $in16 >$out")
if command -v mergecap >/dev/null; then
	mc_null=$(best "mergecap -F pcap -w /dev/null" "mergecap -F pcap -w /dev/null $in16")
	mc_file=$(best "mergecap -F pcap -w FILE" "mergecap -F pcap -w $out $in16")
fi
rm -f "$out"

echo "== 4 vs 2,048 inputs, 4,000,000 packets in all" >&2
k4=$(best "pcap-merge 4 inputs -w - >/dev/null" "$M -w - k4 >/dev/null")
k2048=$(best "pcap-merge 2048 inputs -w - >/dev/null" "$M -w - k2048 >/dev/null")
# The floor: only read(2) the 2,048 files round-robin, as a merge must, in
# reads of the size pcap-merge uses for 2,048 inputs.
rr=$(best "read 2048 inputs round-robin, 32 KiB" "$B/tests/rrread 32768 k2048/* >/dev/null")
# On top of that reading, a 2,048-input merge does at least the user-space
# work of the 4-input one (the same packets parsed and written).
k4u=$( { TIMEFORMAT=%3U; time sh -c "$M -w - k4 >/dev/null"; } 2>&1 )
printf '%-44s %8.3f s\n' "pcap-merge 4 inputs, user time" "$k4u" >&2
# And with both cores: each half of the inputs merged by its own process
# at the same time, what a merge split over two threads could do at best
# (before merging the two halves' streams).
h1=$(ls k2048/* | head -n 1024 | tr '\n' ' ')
h2=$(ls k2048/* | tail -n +1025 | tr '\n' ' ')
halves=$(best "2 x 1,024 inputs at once, one per core" "$M -w - $h1 >/dev/null & $M -w - $h2 >/dev/null; wait")

echo "== pcap-filter, a 5-tuple over the merged 4,000,000 packets" >&2
"$M" -w merged.pcap $in16
tuple='{"source_address":"10.0.1.1","destination_address":"192.0.2.5","source_port":12290,"destination_port":53,"protocol":17}'
bpf='src host 10.0.1.1 and dst host 192.0.2.5 and udp and src port 12290 and dst port 53'
pf=$(best "pcap-filter -f TUPLE -w FILE" "$B/pcap-filter -f '$tuple' -w $out merged.pcap 2>/dev/null")
if command -v tcpdump >/dev/null; then
	td=$(best "tcpdump -r merged.pcap -w FILE BPF" "tcpdump -r merged.pcap -w $out '$bpf' 2>/dev/null")
fi
rm -f "$out" merged.pcap

echo "== pcap-summary --per-file over the 16 files" >&2
ps=$(best "pcap-summary --per-file" "$B/pcap-summary --per-file $in16 >/dev/null")
if command -v capinfos >/dev/null; then
	ci=$(best "capinfos -c -d -u -a -e" "capinfos -c -d -u -a -e $in16 >/dev/null")
fi

# pcap-summary --expect with pcap-fetch's manifest.json against without:
# the CRC-32C of every file is taken in the same pass as the counts.
# Median of 5 pairs, the two alternating, the ratio taken pair by pair.
rm -rf expect_m expect_n && mkdir expect_m expect_n
for f in corpus16/pcap_*.pcap; do ln -s "../$f" expect_m/; ln -s "../$f" expect_n/; done
echo '{"id": "bench", "type": "full", "status": "success"}' >expect_m/capture.json
cp expect_m/capture.json expect_n/
(cd expect_m && "$B/tests/pktdump" -C pcap_*.pcap) | python3 -c 'import json,sys
print(json.dumps({"pcap_fetch_manifest": 1, "source": "bench", "files": [
    {"name": n, "status": "fetched", "size": int(s), "crc32c": c}
    for s, c, n in (l.split() for l in sys.stdin)]}))' >expect_m/manifest.json
echo "== pcap-summary --expect DIR, with and without manifest.json (5 pairs)" >&2
ratios=
for i in 1 2 3 4 5; do
	t0=$(now); "$B/pcap-summary" --expect expect_m >/dev/null 2>&1; t1=$(now)
	"$B/pcap-summary" --expect expect_n >/dev/null 2>&1; t2=$(now)
	ratios="$ratios $(echo "($t1 - $t0) / ($t2 - $t1)" | bc -l)"
done
mf=$(printf '%s\n' $ratios | sort -n | sed -n 3p)
printf '%-44s %8.3f (pairs: %s)\n' "with/without manifest, median" "$mf" \
    "$(printf '%.2f ' $ratios)" >&2
"$B/pcap-summary" --expect expect_m 2>/dev/null | grep -q '^  ok    manifest' ||
    echo "bench: the manifest check did not pass" >&2

# pcap-summary --per-file with the completeness measurements (capture loss
# from TCP flows, on by default) against --no-completeness: 5 pairs.
echo "== pcap-summary --per-file, completeness on and off (5 pairs)" >&2
ratios=
for i in 1 2 3 4 5; do
	t0=$(now); "$B/pcap-summary" --per-file $in16 >/dev/null 2>&1; t1=$(now)
	"$B/pcap-summary" --per-file --no-completeness $in16 >/dev/null 2>&1; t2=$(now)
	ratios="$ratios $(echo "($t1 - $t0) / ($t2 - $t1)" | bc -l)"
done
cm=$(printf '%s\n' $ratios | sort -n | sed -n 3p)
printf '%-44s %8.3f (pairs: %s)\n' "completeness on/off, median" "$cm" \
    "$(printf '%.2f ' $ratios)" >&2

# pcap-fetch vs aws s3 cp --recursive, both against s3rver on this machine,
# over the same 16 objects.  The AWS CLI is not a build dependency: from
# Debian (awscli) or pip; skipped without it.
NODE_DIR=${NODE_DIR:-$top/build/node}
S3RVER=$NODE_DIR/node_modules/.bin/s3rver
if [ -x "$S3RVER" ] && command -v aws >/dev/null; then
	echo "== pcap-fetch bucket vs aws s3 cp --recursive, 16 objects, s3rver" >&2
	S3P=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	mkdir -p s3data
	NODE_OPTIONS=--openssl-legacy-provider "$S3RVER" -d "$BD/s3data" \
	    -a 127.0.0.1 -p "$S3P" --silent --configure-bucket bench \
	    --no-vhost-buckets >s3rver.log 2>&1 &
	s3pid=$!
	for i in $(seq 100); do
		curl -s -o /dev/null "http://127.0.0.1:$S3P/" && break
		sleep 0.1
	done
	export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
	export AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
	export AWS_ENDPOINT_URL=http://127.0.0.1:$S3P
	if [ ! -f s3data.done ]; then
		for f in $in16; do
			curl -sf -o /dev/null -T "$f" "$AWS_ENDPOINT_URL/bench/corpus/$(basename "$f")"
		done && touch s3data.done
	fi
	out=$BD/fetched
	fe=$(best "pcap-fetch bucket -j 4" "$B/pcap-fetch bucket s3://bench/corpus -o $BD/fetched -j 4 --no-progress")
	aw=$(best "aws s3 cp --recursive" "aws s3 cp --recursive --quiet --endpoint-url $AWS_ENDPOINT_URL s3://bench/corpus $BD/fetched")
	rm -rf "$BD/fetched"
	kill $s3pid 2>/dev/null
	unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_ENDPOINT_URL
	out=$BD/out.pcap
fi

echo
echo "ratio                                          value   target"
if [ -n "${mc_null:-}" ]; then
	r=$(ratio "$mc_null" "$pm_null")
	printf 'merge speedup vs mergecap, to /dev/null      %5.2fx   >= 3x   %s\n' "$r" "$(verdict "$r" '>=' 3)"
	r=$(ratio "$mc_file" "$pm_file")
	printf 'merge speedup vs mergecap, to a file         %5.2fx   >= 3x   %s\n' "$r" "$(verdict "$r" '>=' 3)"
else
	echo "merge speedup vs mergecap: skipped, mergecap not installed"
fi
r=$(ratio "$pm_null" "$cat_null")
printf 'merge time / cat time, to /dev/null          %5.2fx   <= 2x   %s\n' "$r" "$(verdict "$r" '<=' 2)"
r=$(ratio "$pm_file" "$cat_file")
printf 'merge time / cat time, to a file             %5.2fx   <= 2x   %s\n' "$r" "$(verdict "$r" '<=' 2)"
r=$(ratio "$k4" "$k2048")
printf '2048-input / 4-input throughput              %5.2f    >= 0.70 %s\n' "$r" "$(verdict "$r" '>=' 0.70)"
r=$(ratio "$k4" "$(echo "$rr + $k4u" | bc -l)")
printf '  (reading alone plus the 4-input user time allow at most %.2f)\n' "$r"
r=$(ratio "$k4" "$halves")
printf '  (two 1,024-input merges at once, one per core, reach %.2f)\n' "$r"
if [ -n "${td:-}" ]; then
	r=$(ratio "$td" "$pf")
	printf 'filter speedup vs tcpdump, 5-tuple           %5.2fx   >= 1.5x %s\n' "$r" "$(verdict "$r" '>=' 1.5)"
else
	echo "filter speedup vs tcpdump: skipped, tcpdump not installed"
fi
if [ -n "${ci:-}" ]; then
	r=$(ratio "$ci" "$ps")
	printf 'summary speedup vs capinfos, --per-file      %5.2fx   >= 2x   %s\n' "$r" "$(verdict "$r" '>=' 2)"
else
	echo "summary speedup vs capinfos: skipped, capinfos not installed"
fi
printf 'summary --expect, manifest / none (median)  %5.2fx   <= 1.15x %s\n' "$mf" "$(verdict "$mf" '<=' 1.15)"
printf 'summary --per-file, completeness on / off    %5.2fx   <= 1.2x  %s\n' "$cm" "$(verdict "$cm" '<=' 1.2)"
if [ -n "${aw:-}" ]; then
	r=$(ratio "$aw" "$fe")
	printf 'fetch speedup vs aws s3 cp, s3rver           %5.2fx   >= 1x   %s\n' "$r" "$(verdict "$r" '>=' 1)"
else
	echo "fetch speedup vs aws s3 cp: skipped, needs s3rver (make check) and aws"
fi
