#!/bin/bash
# make valgrind: run test suites with the tools under valgrind's memcheck.
#
# The threads pcapkit starts (pcap-summary's scan workers, pcap-fetch's
# hashing thread) are TSan's (make tsan); libcurl's threaded name resolver
# is not ours to build with TSan, so it is checked here.  The default is
# the pcap-fetch suite (VG_SUITES="fetch"); VG_SUITES="fetch e2e" adds the
# e2e suite (slow: an hour or more on two cores).  The suites run unchanged
# against build-vg/, where each tool is a script that execs valgrind on the
# build/ binary; any memcheck error or definite leak in any run fails.
set -u
command -v valgrind >/dev/null || {
	echo "make valgrind: valgrind is not installed (apt-get install valgrind)"
	exit 1
}
top=$(cd "$(dirname "$0")/.." && pwd)
B=$top/build
V=$top/build-vg
rm -rf "$V"
mkdir -p "$V"
ln -s "$B/tests" "$V/tests"
logs=$(mktemp -d /tmp/pcapkit-vg.XXXXXX)
chmod 1777 "$logs"	# the read-only-directory cases run a tool as nobody
trap 'rm -rf "$logs"' EXIT
for t in pcap-merge pcap-filter pcap-summary pcap-fetch; do
	cat >"$V/$t" <<EOS
#!/bin/sh
exec valgrind -q --error-exitcode=86 --leak-check=full \\
    --errors-for-leak-kinds=definite --show-leak-kinds=definite \\
    --log-file=$logs/$t.%p.log "$B/$t" "\$@"
EOS
	chmod 755 "$V/$t"
done
rc=0
for s in ${VG_SUITES:-fetch}; do
	BUILD=build-vg NODE_DIR=$top/build/node bash "$top/tests/$s/run.sh" \
	    >"$logs/../pcapkit-vg-$s.out" 2>&1 || rc=1
	grep -E '^(FAIL|skip)' "$logs/../pcapkit-vg-$s.out"
	tail -1 "$logs/../pcapkit-vg-$s.out"
	rm -f "$logs/../pcapkit-vg-$s.out"
done
runs=$(ls "$logs" | wc -l)
errs=$(grep -l -E 'ERROR SUMMARY: [1-9]|definitely lost|Invalid (read|write)|uninitialised' "$logs"/* 2>/dev/null)
nonempty=$(find "$logs" -type f -size +0 | wc -l)
echo "valgrind: $runs tool runs under memcheck, $nonempty with a report"
for f in $errs $(find "$logs" -type f -size +0); do
	echo "== $f"; head -40 "$f"
done | head -200
[ "$nonempty" = 0 ] && [ $rc = 0 ]
