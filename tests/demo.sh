#!/bin/bash
# make demo: the pcapkit pipeline on generated captures, end to end.
#
# A full capture is simulated as the files four edge machines would put in
# the bucket (pcap_<id>.pcap each, interleaved in time, one of them cut short
# as an interrupted upload would be).  The Cloudflare API and the bucket (GCS's
# JSON API) are served on 127.0.0.1 by tests/fetch/stub.py, and pcap-fetch
# gets the capture from them as it would from Cloudflare and Google.
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

mkdir -p gcs && mv bucket gcs/captures
cat >stub.json <<JSON
{"account": "023e105f4ecef8ad9ca31a8372d0c353", "token": "demo-token",
 "captures": [{"object": {
  "id": "$id", "type": "full", "status": "pending", "system": "magic-transit",
  "submitted": "2023-11-14T22:13:19Z", "time_limit": 60, "colo_name": "ord02",
  "destination_conf": "gs://demo-bucket/captures", "packets_captured": $captured,
  "filter_v1": {"destination_address": "192.0.2.0/29", "protocol": 17}},
  "statuses": ["pending", "running", "success"]}],
 "gcs": {"demo-bucket": "$D/gcs"}}
JSON
python3 "$top/tests/fetch/stub.py" stub.json port 2>/dev/null &
stub=$!
trap 'kill $stub 2>/dev/null' EXIT
for i in $(seq 50); do [ -f port ] && break; sleep 0.1; done
export CLOUDFLARE_API_BASE=http://127.0.0.1:$(cat port)/client/v4
export CLOUDFLARE_ACCOUNT_ID=023e105f4ecef8ad9ca31a8372d0c353
export CLOUDFLARE_API_TOKEN=demo-token
export STORAGE_EMULATOR_HOST=127.0.0.1:$(cat port)
echo "API: $CLOUDFLARE_API_BASE  bucket: gs://demo-bucket (emulated)"

step "pcap-fetch list"
pcap-fetch list

step "pcap-fetch get $id --wait --interval 200ms -o capture/"
pcap-fetch get $id --wait --interval 200ms -o capture/
echo "exit status $?"
ls -l capture

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

step "pcap-fetch get $id -o capture/   (after the upload was redone)"
cp m3.complete "gcs/captures/pcap_${id}_m3.pcap"
pcap-fetch get $id -o capture/
echo "exit status $?"
python3 -c 'import json; [print(f["status"], f["name"]) for f in json.load(open("capture/manifest.json"))["files"]]'
step "pcap-summary --json --expect capture/capture.json capture/ | (the checks)"
pcap-summary --json --expect capture/capture.json capture/ |
    python3 -c 'import json,sys; d=json.load(sys.stdin)
for c in d["expect"]["checks"]: print(c["result"], c["name"], "-", c["detail"])
print("result:", d["expect"]["result"])'
echo "exit status ${PIPESTATUS[0]}"
echo
echo "demo: done; files are in $D"
