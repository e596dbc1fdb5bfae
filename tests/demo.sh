#!/bin/bash
# make demo: the pcapkit pipeline on generated captures, end to end.
#
# A full capture is simulated as the files four edge machines would put in
# the bucket (pcap_<id>.pcap each, interleaved in time, one of them cut short
# as an interrupted upload would be).  pcap-fetch is still to come (issue
# 6): the bucket is copied instead.
set -u
export LC_ALL=C TZ=UTC0
top=$(cd "$(dirname "$0")/.." && pwd)
B=$top/${BUILD:-build}
export PATH="$B:$B/tests:$PATH"
D=$top/build/demo
rm -rf "$D" && mkdir -p "$D/bucket" && cd "$D" || exit 1

id=4f9d1c5e8a0b4d2e9c7f6a5b3e2d1c0f
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

echo "pcapkit demo: full capture $id from four edge machines"
# What edge machines upload holds only packets matching the capture's
# filter_v1 (here: UDP to 192.0.2.0/29).
for i in 0 1 2 3; do
	gencap -n 20000 -S $((i + 1)) -m imix -t $((1700000000000000000 + i * 250)) \
	    -i 1000000 -j 750 -N -o all$i.pcap
	pcap-filter --dst 192.0.2.0/29 --proto udp -w "bucket/pcap_${id}_m$i.pcap" \
	    all$i.pcap 2>/dev/null
	rm all$i.pcap
done
captured=$(pcap-summary --json bucket | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"]["packets"])')
cp "bucket/pcap_${id}_m3.pcap" m3.complete
head -c -100 m3.complete >"bucket/pcap_${id}_m3.pcap"
ls -l bucket

cat >bucket/capture.json <<JSON
{"success": true, "errors": [], "messages": [], "result": {
  "id": "$id", "type": "full", "status": "success", "system": "magic-transit",
  "submitted": "2023-11-14T22:13:19Z", "time_limit": 60, "packets_captured": $captured,
  "filter_v1": {"destination_address": "192.0.2.0/29", "protocol": 17}}}
JSON

step "pcap-fetch get $id -o capture/   (not built yet: copying the bucket)"
cp -r bucket capture

step "pcap-merge -w merged.pcap capture/"
pcap-merge -w merged.pcap capture/
echo "exit status $? (1: one input was damaged; its good packets are kept)"
ls -l merged.pcap

step "pcap-merge --ignore-errors -F pcapng -w merged.pcapng.zst capture/"
pcap-merge --ignore-errors -F pcapng -w merged.pcapng.zst capture/ 2>/dev/null
echo "exit status $?"
ls -l merged.pcapng.zst

step "pcap-filter --from-capture capture/capture.json -w filtered.pcap merged.pcap"
pcap-filter --from-capture capture/capture.json -w filtered.pcap merged.pcap
echo "exit status $? (0: packets selected)"

step "pcap-filter -c --layer inner --both-directions --src 10.0.2.1 --dport 53 --proto udp merged.pcap"
pcap-filter -c --layer inner --both-directions --src 10.0.2.1 --dport 53 --proto udp merged.pcap

if command -v tcpdump >/dev/null; then
	step "tcpdump -nr filtered.pcap | head -5"
	tcpdump -nr filtered.pcap 2>/dev/null | head -5
fi
step "pcap-summary --flows 3 capture/"
pcap-summary --flows 3 capture/ 2>/dev/null
echo "exit status $? (1: an input is damaged)"

step "pcap-summary --expect capture/capture.json capture/   (is the capture complete?)"
pcap-summary --expect capture/capture.json capture/ 2>/dev/null | sed -n '/^Expect/,$p'
echo "exit status ${PIPESTATUS[0]} (1: a check failed: one file was cut short)"

step "cp m3.complete capture/pcap_${id}_m3.pcap   (the upload, fetched again)"
cp m3.complete "capture/pcap_${id}_m3.pcap"
step "pcap-summary --json --expect capture/capture.json capture/ | (the checks)"
pcap-summary --json --expect capture/capture.json capture/ |
    python3 -c 'import json,sys; d=json.load(sys.stdin)
for c in d["expect"]["checks"]: print(c["result"], c["name"], "-", c["detail"])
print("result:", d["expect"]["result"])'
echo "exit status ${PIPESTATUS[0]}"
echo
echo "demo: done; files are in $D"
