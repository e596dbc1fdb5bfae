#!/bin/bash
# Every command of README.md's Examples, run as written against the local
# stand-ins (tests/fetch/stub.py: the Cloudflare API and GCS), each checked
# to do what its sentence says.  The commands are read from the README, so
# an example that changes without its check here fails.
set -u
export LC_ALL=C TZ=UTC0

top=$(cd "$(dirname "$0")/.." && pwd)
B=$top/${BUILD:-build}
G=$B/tests/gencap
D=$B/tests/pktdump
W=$(mktemp -d /tmp/pcapkit-readme.XXXXXX)
stub=
trap '[ -n "$stub" ] && kill $stub 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$W"' EXIT
cd "$W" || exit 1
export PATH="$B:$B/tests:$PATH"

pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1: $2"; }
check() {
	local name=$1; shift
	if "$@"; then ok "$name"; else bad "$name" "$*"; fi
}
same() { [ "$1" = "$2" ] || { echo "  got:  $1" >&2; echo "  want: $2" >&2; return 1; }; }

# ---- the examples, from the README ------------------------------------------------
sed -n '/^## Examples/,/^## /p' "$top/README.md" | sed -n 's/^    //p' >examples
want=$(cat <<'EOF'
export CLOUDFLARE_API_TOKEN=... CLOUDFLARE_ACCOUNT_ID=...
pcap-fetch list --status success
pcap-fetch get 66802ca5668e47a2b82c2e6746e45037 --wait -o capture-dir/
pcap-fetch bucket gs://pcaps-eu/captures --exclude '*' --include '*pcap_*' -o all/
pcap-fetch create --type simple --time-limit 60 --packet-limit 1000 --dport 53 --proto udp
pcap-merge -w incident.pcap capture-dir/
pcap-merge -w all.pcapng.zst all/
pcap-merge --dedup capture-dir/ | tcpdump -nr - 'udp port 53'
pcap-filter --from-capture capture-dir/capture.json -w mine.pcap capture-dir/
pcap-filter -c --layer inner --src 10.0.0.0/16 --dport 53 --proto udp incident.pcap
pcap-summary --per-file --flows 10 capture-dir/
pcap-summary --expect capture-dir/ || alert
pcap-summary --json capture-dir/ | jq .total.packets
pcap-summary --per-file --timeline capture-dir/
pcap-summary --json --per-file capture-dir/ >summary.json
pcap-merge --clock-offsets summary.json -I none -w incident.pcapng capture-dir/
pcap-filter -r incident.pcap -w dns.pcap udp port 53
pcap-filter --host 10.0.0.1 --port 53 -c incident.pcap
pcap-merge -A 2026-11-23T10:00:01Z -B 2026-11-23T10:00:02Z -c 1000 -w second.pcap capture-dir/
pcap-summary -T -c -d -u -a -e capture-dir/
EOF
)
check readme_examples_are_the_tested_ones same "$(cat examples)" "$want"
ex() { sed -n "$1p" examples; }

# ---- the bucket and the API --------------------------------------------------------
# A full capture from three machines, two of whose files have the same name
# under different prefixes; what the machines upload matches filter_v1
# (UDP).  A notes file in the bucket is not part of it.
id=66802ca5668e47a2b82c2e6746e45037 id2=0d4f3e2c1b0a49f8a7b6c5d4e3f2a1b0
cap=gcs/captures
mkdir -p $cap/2026/eu $cap/2026/us
i=0
for f in pcap_${id}_m0.pcap 2026/eu/pcap_${id}_m1.pcap 2026/us/pcap_${id}_m1.pcap; do
	i=$((i + 1))
	"$G" -n 3000 -S $((i + 40)) -t $((1795428001000000000 + i * 1000)) \
	    -i 1000000 -o all$i.pcap
	pcap-filter --proto udp -w "$cap/$f" all$i.pcap 2>/dev/null
done
echo "notes" >$cap/notes.txt
n=$(pcap-summary --json $cap 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"]["packets"])')
cat >conf.json <<EOF
{"account": "0123456789abcdef0123456789abcdef", "token": "tok-readme",
 "captures": [
  {"object": {"id": "$id", "type": "full", "status": "pending",
    "system": "magic-transit", "submitted": "2026-11-23T10:00:00Z",
    "time_limit": 300, "colo_name": "ord02", "packets_captured": $n,
    "destination_conf": "gs://pcaps-eu/captures",
    "filter_v1": {"protocol": 17}},
   "statuses": ["pending", "running", "success"]},
  {"object": {"id": "$id2", "type": "simple", "status": "success",
    "system": "magic-transit", "submitted": "2026-11-22T08:00:00Z",
    "time_limit": 60, "packet_limit": 1000}}],
 "gcs": {"pcaps-eu": "$W/gcs"}}
EOF
python3 "$top/tests/fetch/stub.py" conf.json port 2>stub.err &
stub=$!
for _ in $(seq 50); do [ -f port ] && break; sleep 0.1; done
export CLOUDFLARE_API_BASE=http://127.0.0.1:$(cat port)/client/v4
export STORAGE_EMULATOR_HOST=127.0.0.1:$(cat port)
# The first example sets these two, with the user's own values.
check readme_export_names_the_credentials same "$(ex 1 | cut -d' ' -f2- | sed 's/=[^ ]*//g')" \
    "CLOUDFLARE_API_TOKEN CLOUDFLARE_ACCOUNT_ID"
export CLOUDFLARE_API_TOKEN=tok-readme CLOUDFLARE_ACCOUNT_ID=0123456789abcdef0123456789abcdef
alert() { echo ALERT; }
run() {		# run line N of the examples; out, err, rc
	bash -c "alert() { echo ALERT; }; $(ex "$1")" >out.$1 2>err.$1
	rc=$?
	out=$(cat out.$1)
	err=$(cat err.$1)
}

# list --status success: the finished capture, not the one still pending
run 2
check readme_list [ $rc = 0 ]
check readme_list_shows_the_finished_capture grep -q "^$id2 .*success" out.2
check readme_list_not_the_pending_one sh -c "! grep -q '^$id' out.2"

# get --wait: waits for success, then every file of the capture, with
# their key paths below the prefix, capture.json and manifest.json
run 3
check readme_get_exit0 [ $rc = 0 ]
check readme_get_keeps_key_paths same "$(cd capture-dir && find . -type f | sort | tr '\n' ' ')" \
    "./2026/eu/pcap_${id}_m1.pcap ./2026/us/pcap_${id}_m1.pcap ./capture.json ./manifest.json ./pcap_${id}_m0.pcap "
for f in pcap_${id}_m0.pcap 2026/eu/pcap_${id}_m1.pcap 2026/us/pcap_${id}_m1.pcap; do
	check "readme_get_same_$f" cmp -s "$cap/$f" "capture-dir/$f"
done

# bucket --exclude '*' --include '*pcap_*': the captures, at any depth, and
# not the notes
run 4
check readme_bucket_exit0 [ $rc = 0 ]
check readme_bucket_only_pcaps same "$(cd all && find . -type f | sort | tr '\n' ' ')" \
    "./2026/eu/pcap_${id}_m1.pcap ./2026/us/pcap_${id}_m1.pcap ./manifest.json ./pcap_${id}_m0.pcap "
# The same with --include alone fetches everything (aws-cli's rule), and says so.
pcap-fetch bucket gs://pcaps-eu/captures --include 'pcap_*' -o all2/ 2>inc.err
check readme_include_alone_is_said grep -q "include 'pcap_\*' comes before any --exclude" inc.err
check readme_include_alone_fetches_all [ -f all2/notes.txt ]

# create: a simple capture, asked for and accepted
run 5
check readme_create [ $rc = 0 ] && check readme_create_sent grep -q "POST /client/v4/accounts/0123456789abcdef0123456789abcdef/pcaps" port.log

# merge the directory: every packet of every file, time-ordered
run 6
check readme_merge_exit0 [ $rc = 0 ]
check readme_merge_every_packet same "$(pktdump -q incident.pcap | cut -d' ' -f2)" "$n"
check readme_merge_time_ordered sh -c "pktdump incident.pcap | awk '\$1 < p { exit 1 } { p = \$1 }'"
run 7
check readme_merge_pcapng_zst sh -c "[ $rc = 0 ] && zstd -q -dc all.pcapng.zst | od -An -tx4 -N4 | grep -q 0a0d0d0a"
check readme_merge_pcapng_zst_same same "$(pktdump -q all.pcapng.zst)" "$(pktdump -q incident.pcap)"
run 8
check readme_merge_dedup_into_tcpdump sh -c "[ $rc = 0 ] && [ \$(wc -l <out.8) -gt 0 ] && ! grep -qv 'UDP\|\.53:\|\.53 >\|domain' out.8"

# filter by the capture's own filter_v1: everything (the files match it)
run 9
check readme_filter_from_capture sh -c "[ $rc = 0 ] && [ \"\$(pktdump -q mine.pcap)\" = \"\$(pktdump -q incident.pcap)\" ]"
run 10
check readme_filter_count_is_a_number sh -c "[ $rc -le 1 ] && grep -qx '[0-9][0-9]*' out.10 && [ ! -s err.10 ]"
check readme_filter_count_equals_tcpdump same "$out" \
    "$(tcpdump -r incident.pcap -w - 'src net 10.0.0.0/16 and udp dst port 53' 2>/dev/null | pktdump -q - | cut -d' ' -f2)"

# summary: a block per file; --expect passes a whole capture and alerts
# when a file is missing; the JSON total is every packet
run 11
check readme_summary_per_file sh -c "[ $rc = 0 ] && [ \$(grep -c '^File: ' out.11) = 3 ]"
run 12
check readme_expect_complete sh -c "[ $rc = 0 ] && ! grep -q ALERT out.12 && grep -q '^  ok    manifest' out.12 && grep -q '^  result: ok' out.12"
mv "capture-dir/2026/us/pcap_${id}_m1.pcap" gone.pcap
run 12
check readme_expect_alerts_on_a_missing_file sh -c "grep -q ALERT out.12 && grep -q 'FAIL  manifest .*2026/us/pcap_${id}_m1.pcap: missing' out.12"
mv gone.pcap "capture-dir/2026/us/pcap_${id}_m1.pcap"
run 13
check readme_summary_json_jq same "$out" "$n"

# is it complete: a timeline row per machine; the JSON has each file's
# measurements; the merge puts them on one clock (these machines share no
# packet: each is named as kept on its own clock) and names every packet's
# machine
run 14
check readme_timeline_a_row_per_file sh -c "[ $rc = 0 ] && [ \$(sed -n '/^Timeline/,/^\$/p' out.14 | grep -c 'pcap_') = 3 ]"
run 15
check readme_summary_json_measures sh -c "[ $rc = 0 ] && python3 -c 'import json; d = json.load(open(\"summary.json\")); assert all(\"coverage\" in f and \"clock\" in f and \"loss\" in f for f in d[\"files\"]) and len(d[\"files\"]) == 3'"
run 16
check readme_merge_on_one_clock sh -c "[ $rc = 0 ] && [ \"\$(pktdump -q incident.pcapng | cut -d' ' -f2)\" = $n ] && [ \$(grep -c 'no clock offset measured' err.16) = 3 ]"
if command -v tshark >/dev/null; then
	check readme_merge_names_machines same \
	    "$(tshark -r incident.pcapng -T fields -e frame.interface_name 2>/dev/null | sort -u | wc -l)" 3
fi

# tcpdump's habits: -r FILE EXPR writes what tcpdump writes; --host and
# --port count what tcpdump's host and port select
run 17
check readme_filter_r_is_tcpdump sh -c "[ $rc = 0 ] && tcpdump -r incident.pcap -w dns2.pcap udp port 53 2>/dev/null && cmp -s dns.pcap dns2.pcap"
run 18
check readme_filter_host_port_is_tcpdump same "$out" \
    "$(tcpdump -r incident.pcap -w - 'host 10.0.0.1 and port 53' 2>/dev/null | pktdump -q - | cut -d' ' -f2)"
# editcap's habits: the second asked for, in files of at most 1000 packets
# named as editcap names them
run 19
check readme_merge_window_split sh -c "[ $rc = 0 ] && ls second_0000[0-9]_20261123*.pcap >/dev/null"
check readme_merge_window_split_whole same "$(pcap-merge -w - second_*.pcap | pktdump -q - | cut -d' ' -f2)" \
    "$(pcap-filter -c --start 2026-11-23T10:00:01Z --stop 2026-11-23T10:00:02Z incident.pcap)"
check readme_merge_split_1000 sh -c 'for f in second_*.pcap; do [ $(pktdump -q $f | cut -d" " -f2) -le 1000 ] || exit 1; done; [ $(ls second_*.pcap | wc -l) -gt 1 ]'
# capinfos' habits: the same table capinfos prints for these columns
run 20
if command -v capinfos >/dev/null; then
	check readme_summary_T_is_capinfos same "$out" \
	    "$(find capture-dir/ -name '*.pcap' | LC_ALL=C sort | xargs capinfos -T -c -d -u -a -e)"
else
	check readme_summary_T_rows sh -c "[ $rc = 0 ] && [ \$(wc -l <out.20) = 4 ]"
fi

echo
echo "readme: $pass passed, $fail failed"
[ $fail = 0 ]
