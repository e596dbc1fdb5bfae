#!/bin/bash
# make sweep SWEEP_DIR=DIR: run every tool over every capture under DIR
# (real-world files: the test captures of tcpdump and libpcap, joincap's
# broken-framing fixtures), with the ASan+UBSan build (build-asan/).
#
# For each file:
#  - pcap-summary, pcap-merge (to pcapng and to pcap), pcap-filter (a
#    tuple, and a BPF expression) must exit with a documented status (0, 1;
#    filter and summary 3 for a runtime error), within 60 s, with no
#    sanitizer report;
#  - when capinfos reads the file without error, pcap-summary's packet count
#    and the packets pcap-merge writes must equal capinfos's count.
# Prints one line per file that is not clean and a tally; exits 1 if any.
set -u
export LC_ALL=C TZ=UTC0
top=$(cd "$(dirname "$0")/.." && pwd)
B=$top/${BUILD:-build-asan}
dir=${SWEEP_DIR:?set SWEEP_DIR to a directory of captures}
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=86
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=87
W=$(mktemp -d /tmp/pcapkit-sweep.XXXXXX)
trap 'rm -rf "$W"' EXIT

files=0 clean=0 bad=0 agree=0 capinfos_err=0 ours_damaged=0
declare -A status_seen

# run NAME ALLOWED-STATUSES CMD...: 0 when the command ended as allowed
run() {
	local name=$1 allowed=$2; shift 2
	timeout 60 "$@" >"$W/out" 2>"$W/err"
	local st=$?
	status_seen["$name:$st"]=$((${status_seen["$name:$st"]:-0} + 1))
	if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$W/err"; then
		echo "SANITIZER $name: $f"; sed -n '1,12p' "$W/err"; return 1
	fi
	case " $allowed " in *" $st "*) return 0 ;; esac
	[ $st = 124 ] && { echo "HANG $name: $f"; return 1; }
	echo "STATUS $st $name: $f"; tail -3 "$W/err"; return 1
}

count_json() { python3 -c 'import json,sys; print(json.load(sys.stdin)["total"]["packets"])' <"$1" 2>/dev/null; }

while IFS= read -r -d '' f; do
	files=$((files + 1))
	ok=1
	run summary "0 1 3" "$B/pcap-summary" --json "$f" || ok=0
	sum=$(count_json "$W/out")
	grep -q 'damaged\|truncated\|cut short' "$W/err" && ours_damaged=$((ours_damaged + 1))
	run merge-ng "0 1" "$B/pcap-merge" -F pcapng -w "$W/m.pcapng" "$f" || ok=0
	merged=
	[ -s "$W/m.pcapng" ] && merged=$("$B/pcap-summary" --json "$W/m.pcapng" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"]["packets"])' 2>/dev/null)
	rm -f "$W/m.pcapng"
	run merge-pcap "0 1" "$B/pcap-merge" -w "$W/m.pcap" "$f" || ok=0
	rm -f "$W/m.pcap"
	run filter-tuple "0 1 3" "$B/pcap-filter" --proto udp -w /dev/null "$f" || ok=0
	run filter-bpf "0 1 3" "$B/pcap-filter" -e 'tcp port 80' -c "$f" || ok=0
	if ci=$(capinfos -M -c -T -r "$f" 2>/dev/null) &&
	    ci=$(awk -F'\t' 'NR == 1 { print $2 }' <<<"$ci") && [ -n "$ci" ]; then
		if [ "$ci" = "${sum:-x}" ] && [ "$ci" = "${merged:-x}" ]; then
			agree=$((agree + 1))
		else
			echo "COUNT $f: capinfos $ci, pcap-summary ${sum:-none}, pcap-merge ${merged:-none}"
			ok=0
		fi
	else
		capinfos_err=$((capinfos_err + 1))
	fi
	if [ $ok = 1 ]; then clean=$((clean + 1)); else bad=$((bad + 1)); fi
done < <(find "$dir" -type f -print0 | sort -z)

echo "sweep: $files files, $clean clean, $bad not clean; capinfos read $((files - capinfos_err)) without error and agreed on $agree; pcap-summary reported damage in $ours_damaged"
for k in $(printf '%s\n' "${!status_seen[@]}" | sort); do
	printf '  exit %s: %s\n' "$k" "${status_seen[$k]}"
done
[ $bad = 0 ]
