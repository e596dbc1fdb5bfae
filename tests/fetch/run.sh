#!/bin/bash
# pcap-fetch against real servers on 127.0.0.1, started here, stopped after:
#   stub.py  - the Cloudflare API (state, download, faults) and GCS's JSON API
#   s3rver   - a real S3 server (npm), for listing, paging, GET, Range, ETag
#   Prism    - the Cloudflare API's OpenAPI document served as a mock (npm)
# s3rver and Prism come from the set-up step (build/node); without them
# their cases are skipped with a message.  Every command's output is kept
# so that the last case can check that no secret appears in any of it.
set -u
export LC_ALL=C TZ=UTC0

top=$(cd "$(dirname "$0")/../.." && pwd)
B=$top/${BUILD:-build}
NODE_DIR=${NODE_DIR:-$top/build/node}
G=$B/tests/gencap
W=$(mktemp -d /tmp/pcapkit-fetch.XXXXXX)
pids=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
cd "$W" || exit 1
export PATH="$B:$B/tests:$PATH"

pass=0 fail=0 skipped=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1: $2"; }
skip() { skipped=$((skipped + 1)); echo "skip $1: $2"; }
check() {
	local name=$1; shift
	if "$@"; then ok "$name"; else bad "$name" "$*"; fi
}
n=0
# run CMD...: run pcap-fetch (or anything) keeping stdout/stderr/exit in
# out/err/rc and in the log of everything printed (for the secrets case)
run() {
	n=$((n + 1))
	"$@" >"$W/o.$n" 2>"$W/e.$n"
	rc=$?
	out=$(cat "$W/o.$n")
	err=$(cat "$W/e.$n")
}
has() { grep -q -- "$2" <<<"$1" || { echo "  missing '$2' in:" >&2; \
	sed 's/^/    /' <<<"$1" >&2; return 1; }; }
same_file() { cmp -s "$1" "$2" || { echo "  $1 differs from $2" >&2; return 1; }; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {	# wait until something listens on port $1 (up to $2 s)
	local i
	for i in $(seq $(( $2 * 10 ))); do
		python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$1),0.2)" \
		    2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# Ids as the API gives them: 32 lower-case hex digits.
ACCT=0123456789abcdef0123456789abcdef
C1=11111111111111111111111111111111 C2=22222222222222222222222222222222
C3=33333333333333333333333333333333 C4=44444444444444444444444444444444
C5=55555555555555555555555555555555 C9=99999999999999999999999999999999
CF=ffff0000000000000000000000000000
SECRET_TOKEN=tok-SECRET-5e1c7a
SECRET_KEY=key-SECRET-9b2d44
SECRET_AWS=aws-SECRET-0f3e88
export PCAPKIT_TEST_BACKOFF_MS=20

# ---- fixtures ---------------------------------------------------------------
"$G" -n 300 -S 1 -s 160 -o simple.pcap
mkdir -p gcs/caps/sub s3src
# inside the capture's window: submitted 2026-11-23T10:00:00Z, 300 s
for i in 0 1 2; do "$G" -n 400 -S $((i + 2)) -t $((1795428001000000000 + i * 1000)) \
    -i 1000000 -o gcs/caps/pcap_${CF}_$i.pcap; done
"$G" -n 10 -S 9 -o gcs/caps/pcap_other.pcap
for i in 0 1 2 3 4; do "$G" -n 3000 -S $((i + 20)) -o s3src/pcap_${C5}_$i.pcap; done
cat >conf.json <<EOF
{"account": "${ACCT}", "token": "$SECRET_TOKEN",
 "email": "ops@example.com", "key": "$SECRET_KEY",
 "captures": [
  {"object": {"id": "${C1}", "type": "simple", "status": "pending",
    "system": "magic-transit", "submitted": "2026-11-23T10:00:00Z",
    "time_limit": 300, "packet_limit": 10000},
   "statuses": ["pending", "running", "success"],
   "download": "$W/simple.pcap", "faults": ["429", "cut"]},
  {"object": {"id": "${C2}", "type": "simple", "status": "success",
    "system": "magic-transit", "submitted": "2026-11-23T10:00:00Z",
    "time_limit": 300, "packet_limit": 10000},
   "download": "$W/simple.pcap", "faults": ["503"]},
  {"object": {"id": "${C3}", "type": "full", "status": "running",
    "system": "magic-transit", "submitted": "2026-11-23T10:00:00Z",
    "time_limit": 300, "colo_name": "ord02",
    "destination_conf": "gs://gbucket/caps"},
   "statuses": ["running", "failed"]},
  {"object": {"id": "${CF}", "type": "full", "status": "success",
    "system": "magic-transit", "submitted": "2026-11-23T10:00:00Z",
    "time_limit": 300, "colo_name": "ord02", "packets_captured": 1200,
    "destination_conf": "gs://gbucket/caps"}},
  {"object": {"id": "${C5}", "type": "full", "status": "success",
    "system": "magic-transit", "submitted": "2026-11-23T10:00:00Z",
    "time_limit": 300, "colo_name": "ord02",
    "destination_conf": "s3://pcaps/caps?region=us-east-1"}},
  {"object": {"id": "${C4}", "type": "simple", "status": "success",
    "system": "magic-transit", "submitted": "2026-11-23T10:00:00Z",
    "time_limit": 300, "packet_limit": 10},
   "download": "$W/simple.pcap", "faults": ["403"]}
 ],
 "gcs": {"gbucket": "$W/gcs"},
 "gcs_faults": {"caps/pcap_${CF}_1.pcap": ["corrupt"],
                "caps/pcap_${CF}_2.pcap": ["503", "cut"]}
}
EOF
python3 "$top/tests/fetch/stub.py" conf.json port 2>stub.err &
pids="$pids $!"
for i in $(seq 50); do [ -f port ] && break; sleep 0.1; done
P=$(cat port)
export CLOUDFLARE_API_TOKEN=$SECRET_TOKEN CLOUDFLARE_ACCOUNT_ID=${ACCT}
export CLOUDFLARE_API_BASE=http://127.0.0.1:$P/client/v4
export STORAGE_EMULATOR_HOST=127.0.0.1:$P
unset CLOUDFLARE_EMAIL CLOUDFLARE_API_KEY GOOGLE_OAUTH_ACCESS_TOKEN \
    AWS_PROFILE AWS_SESSION_TOKEN AWS_REGION AWS_DEFAULT_REGION
export HOME=$W/home AWS_SHARED_CREDENTIALS_FILE=$W/none

# ---- usage -----------------------------------------------------------------
run pcap-fetch -h
check fetch_help_exit0 [ $rc = 0 ]
check fetch_help_stdout has "$out" "pcap-fetch bucket URL"
run pcap-fetch
check fetch_no_command_exit2 [ $rc = 2 ]
run pcap-fetch frobnicate
check fetch_unknown_command_exit2 [ $rc = 2 ]
run pcap-fetch show
check fetch_show_needs_id [ $rc = 2 ]
run pcap-fetch show '../../etc'
check fetch_bad_id_exit2 [ $rc = 2 ]
run pcap-fetch get ${C1} -j 0
check fetch_bad_jobs_exit2 [ $rc = 2 ]
# Each command takes its own options: another's is a usage error, said
# before any credentials or connection are looked at.
run env -u CLOUDFLARE_API_TOKEN pcap-fetch stop ${C1} --include '*.pcap' --dport 53
check fetch_option_not_of_command [ $rc = 2 ]
check fetch_option_not_of_command_said has "$err" "^pcap-fetch: --include is not an option of stop$"
run pcap-fetch bucket s3://bkt/x --account ${ACCT}
check fetch_account_not_for_bucket has "$err" "^pcap-fetch: --account is not an option of bucket$"
run pcap-fetch get ${C1} --layer outer
check fetch_filter_option_not_for_get [ $rc = 2 ]
run pcap-fetch list --bogus
check fetch_unknown_option_prefixed has "$err" "^pcap-fetch: unknown option '--bogus'$"
# one line, then the hint, never the whole usage
check fetch_unknown_option_no_usage [ "$(wc -l <<<"$err")" = 2 ]
check fetch_unknown_option_hint has "$err" "^pcap-fetch: try 'pcap-fetch -h' for more information$"
run pcap-fetch wait ${C1} --timeout
check fetch_missing_value has "$err" "^pcap-fetch: option '--timeout' needs a value$"
run pcap-fetch --version
check fetch_version [ $rc = 0 ]
check fetch_version_same_as_the_others [ "$(sed 's/pcap-fetch//' <<<"$out")" = "$(pcap-merge -v | sed 's/pcap-merge//')" ]

# ---- the API (stub) ----------------------------------------------------------
run pcap-fetch list
check api_list_exit0 [ $rc = 0 ]
check api_list_table has "$out" "^${CF} .*full .*success .*ord02"
run pcap-fetch list --page-size 2 --json
check api_list_paginates [ "$(python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' <<<"$out")" = 6 ]
check api_list_page3_asked grep -q 'page=3&per_page=2' port.log
run pcap-fetch list --status success
check api_list_status [ "$(grep -c success <<<"$out")" = 4 ]
run pcap-fetch show ${CF} --json
check api_show_json [ "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["packets_captured"])' <<<"$out")" = 1200 ]
run pcap-fetch show ${C9}
check api_show_missing [ $rc = 1 ]
check api_show_missing_msg has "$err" "${C9}: HTTP 404: 1003: capture not found"
run env CLOUDFLARE_API_TOKEN=wrong pcap-fetch list
check api_bad_token [ $rc = 1 ]
check api_bad_token_msg has "$err" "HTTP 401: 10000: Authentication error"
run env -u CLOUDFLARE_API_TOKEN pcap-fetch list
check api_no_credentials has "$err" "no credentials"
run env -u CLOUDFLARE_API_TOKEN CLOUDFLARE_EMAIL=ops@example.com \
    CLOUDFLARE_API_KEY=$SECRET_KEY pcap-fetch show ${C2}
check api_email_key_auth [ $rc = 0 ]
run env -u CLOUDFLARE_ACCOUNT_ID pcap-fetch list
check api_no_account has "$err" "CLOUDFLARE_ACCOUNT_ID"
run env -u CLOUDFLARE_ACCOUNT_ID pcap-fetch list --account ${ACCT}
check api_account_option [ $rc = 0 ]

# get before completion, then wait for it
run pcap-fetch get ${C1} -o s1
check get_not_complete [ $rc = 1 ]
check get_not_complete_msg has "$err" "capture is pending, not complete (use --wait)"
t0=$(date +%s.%N)
run pcap-fetch get ${C1} -o s1 --wait --interval 50ms
t1=$(date +%s.%N)
check get_wait_exit0 [ $rc = 0 ]
check get_wait_status_changes has "$err" "running -> success"
check get_simple_same same_file s1/pcap_${C1}.pcap simple.pcap
check get_simple_429_said has "$err" "HTTP 429: Please wait"
check get_simple_retry_after [ "$(echo "$t1 - $t0 >= 1" | bc -l)" = 1 ]
check get_simple_cut_resumed has "$err" "transfer cut at byte"
check get_simple_range_used grep -q "GET /client/v4/accounts/${ACCT}/pcaps/${C1}/download" port.log
check get_simple_no_part [ -z "$(ls s1 | grep part)" ]
check get_capture_json [ "$(python3 -c 'import json; print(json.load(open("s1/capture.json"))["id"])')" = ${C1} ]
check get_manifest [ "$(python3 -c 'import json; f=json.load(open("s1/manifest.json"))["files"][0]; print(f["name"], f["status"], f["size"])')" = "pcap_${C1}.pcap fetched $(stat -c %s simple.pcap)" ]
run pcap-summary s1/pcap_${C1}.pcap --expect s1/capture.json
check get_then_summary_expect has "$out" "ok"

run pcap-fetch get ${C2} -o s2
check get_503_then_ok [ $rc = 0 ]
check get_503_said has "$err" "HTTP 503"
check get_503_same same_file s2/pcap_${C2}.pcap simple.pcap

run pcap-fetch get ${C4} -o s4
check get_403_fails [ $rc = 1 ]
check get_403_no_retry [ "$(grep -c "pcaps/${C4}/download" port.log)" = 1 ]
check get_403_reason has "$err" "HTTP 403: Authentication error"
check get_403_no_file [ ! -e s4/pcap_${C4}.pcap ]
check get_403_no_part [ -z "$(ls -A s4 | grep -e part -e validator)" ]

run pcap-fetch wait ${C3} --interval 50ms
check wait_failed_exit1 [ $rc = 1 ]
check wait_failed_msg has "$err" "running -> failed"
run pcap-fetch wait ${C5} --interval 50ms --timeout 0
check wait_success_exit0 [ $rc = 0 ]

# GCS JSON API (stub): paging, corrupt body, 503, cut transfer
run pcap-fetch get ${CF} -o g1 --page-size 1
check gcs_get_exit0 [ $rc = 0 ]
for i in 0 1 2; do
	check gcs_same_$i same_file g1/pcap_${CF}_$i.pcap gcs/caps/pcap_${CF}_$i.pcap
done
check gcs_only_this_capture [ ! -e g1/pcap_other.pcap ]
check gcs_paged grep -q 'pageToken=2' port.log
check gcs_md5_mismatch_said has "$err" "MD5 mismatch"
check gcs_cut_said has "$err" "transfer cut at byte"
check gcs_verified [ "$(grep -c '"verified": true' g1/manifest.json)" = 3 ]
run pcap-merge -w g1.pcap g1
check gcs_merge_dir [ $rc = 0 ]
run pcap-summary g1 --expect g1/capture.json
check gcs_summary_expect_ok [ $rc = 0 ]
run pcap-fetch get ${CF} -o g1
check gcs_present_skipped [ "$(grep -c '"status": "present"' g1/manifest.json)" = 3 ]
# ---- faults: full disk, read-only directory -------------------------------------
run sh -c 'pcap-fetch list >/dev/full'
check fault_list_full_disk [ $rc = 1 ]
check fault_list_full_disk_msg has "$err" "pcap-fetch: stdout: No space left on device"
mkdir tiny
if mount -t tmpfs -o size=64k pcapkit-fetch "$W/tiny" 2>/dev/null; then
	run pcap-fetch get ${CF} -o tiny/g
	check fault_get_disk_full [ $rc = 1 ]
	check fault_get_disk_full_msg has "$err" "No space left on device"
	# Under its final name a file is whole, and a write error removes the
	# .part it hit: nothing partial is left.
	whole=1
	for f in tiny/g/pcap_*.pcap; do
		[ -e "$f" ] || continue
		cmp -s "$f" "gcs/caps/${f##*/}" || { echo "  partial $f" >&2; whole=0; }
	done
	check fault_get_disk_full_no_partial_file [ $whole = 1 ]
	check fault_get_disk_full_no_part_file [ -z "$(find tiny/g -name '*.part')" ]
	umount "$W/tiny"
else
	skip fault_get_disk_full "cannot mount a tmpfs (not root?)"
fi
mkdir ro
chmod 755 "$W" ro
if [ "$(id -u)" = 0 ]; then
	if command -v setpriv >/dev/null; then
		run setpriv --reuid=65534 --regid=65534 --clear-groups \
		    "$B/pcap-fetch" get ${CF} -o ro/g
	else
		rc=skip
	fi
else
	chmod 555 ro
	run pcap-fetch get ${CF} -o ro/g
fi
if [ "$rc" = skip ]; then
	skip fault_get_readonly_dir "root without setpriv"
else
	check fault_get_readonly_dir [ $rc = 1 ]
	check fault_get_readonly_dir_msg has "$err" "pcap-fetch: ro/g: .*Permission denied"
	check fault_get_readonly_dir_empty [ -z "$(ls -A ro)" ]
fi
chmod 700 "$W"

run pcap-fetch get ${CF} -o g3 --progress
check progress_shown has "$err" "3/3 files, .* MiB/s"
run pcap-fetch get ${CF} -o g4
# no progress without a terminal, but always the one summary line
check progress_off_without_tty [ "$(wc -l <<<"$err")" = 1 ]
check summary_line_without_tty has "$err" "^pcap-fetch: 3 files: 3 fetched, 0 already present, 0 failed; [0-9]* bytes; 3 verified$"
run pcap-fetch get ${CF} -o g4
check summary_line_counts_present has "$err" "^pcap-fetch: 3 files: 0 fetched, 3 already present, 0 failed; [0-9]* bytes; 3 verified$"
run pcap-fetch get ${CF} -o g2 --dry-run
check gcs_dry_run has "$out" "3 files, $(cat gcs/caps/pcap_${CF}_* | wc -c) bytes"
check gcs_dry_run_nothing [ ! -e g2 ]

# hostile names and symlinks
python3 - conf.json <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
c["gcs_extra"] = {"caps/../evil.pcap": "x", "caps/ctl\u0001.pcap": "y",
                  "caps/sub/ok.pcap": "z", "caps/manifest.json": "{}"}
json.dump(c, open(sys.argv[1], "w"))
EOF
kill $(cat stub.pid 2>/dev/null) 2>/dev/null
for p in $pids; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; pids=
rm -f port
python3 "$top/tests/fetch/stub.py" conf.json port 2>>stub.err &
pids="$pids $!"
for i in $(seq 50); do [ -f port ] && break; sleep 0.1; done
P=$(cat port)
export CLOUDFLARE_API_BASE=http://127.0.0.1:$P/client/v4
export STORAGE_EMULATOR_HOST=127.0.0.1:$P
mkdir -p h1 && echo precious >target && ln -s "$W/target" h1/pcap_${CF}_0.pcap
run pcap-fetch bucket gs://gbucket/caps -o h1 --exclude 'pcap_other*'
check unsafe_exit1 [ $rc = 1 ]
check unsafe_dotdot has "$err" "'\.\.' path component"
check unsafe_control has "$err" "control character 0x01"
check unsafe_metadata_name has "$err" "manifest.json: unsafe name"
check unsafe_nothing_outside [ ! -e evil.pcap ] && [ ! -e "$W/evil.pcap" ]
check symlink_not_followed has "$err" "pcap_${CF}_0.pcap: exists and is not a regular file"
check symlink_target_intact [ "$(cat target)" = precious ]
check subdir_fetched [ "$(cat h1/sub/ok.pcap)" = z ]
check others_fetched same_file h1/pcap_${CF}_1.pcap gcs/caps/pcap_${CF}_1.pcap
check failed_listed has "$err" "file.* not fetched:"
check failed_in_summary_line has "$err" "^pcap-fetch: [0-9]* files: [0-9]* fetched, [0-9]* already present, [1-9][0-9]* failed; "

# create and stop: validation before sending, then the stub
lines=$(wc -l <port.log)
run pcap-fetch create --type simple --time-limit 500 --packet-limit 10
check create_simple_time_range [ $rc = 2 ]
run pcap-fetch create --type simple --time-limit 60 --packet-limit 20000
check create_simple_packet_range [ $rc = 2 ]
# --offset-time is checked before anything is sent (no account: nothing is)
run env -u CLOUDFLARE_ACCOUNT_ID pcap-fetch create --type simple --time-limit 60 --packet-limit 10 --offset-time 2024-02-30T00:00:00Z
check create_offset_feb30_refused [ $rc = 2 ]
run env -u CLOUDFLARE_ACCOUNT_ID pcap-fetch create --type simple --time-limit 60 --packet-limit 10 --offset-time 1969-12-31T23:59:59Z
check create_offset_epoch_minus_1s_parses has "$err" "no account"
run env -u CLOUDFLARE_ACCOUNT_ID pcap-fetch create --type simple --time-limit 60 --packet-limit 10 --offset-time 2016-12-31T23:59:60Z
check create_offset_leap_second_parses has "$err" "no account"
run pcap-fetch create --type full --time-limit 60 --colo ord02
check create_full_needs_dest [ $rc = 2 ]
run pcap-fetch create --type full --time-limit 60 --colo ord02 --dest s3://b --byte-limit 2000000000
check create_full_byte_range [ $rc = 2 ]
run pcap-fetch create --type full --time-limit 90000 --colo ord02 --dest s3://b
check create_full_time_range [ $rc = 2 ]
run pcap-fetch create --type simple --time-limit 60 --packet-limit 10 --offset-time yesterday
check create_bad_offset [ $rc = 2 ]
check create_nothing_sent [ "$(wc -l <port.log)" = "$lines" ]
run pcap-fetch create --type full --time-limit 60 --colo ord02 \
    --dest 's3://pcaps/caps?region=us-east-1' --src 192.0.2.1 --dport 443 --proto tcp --json
check create_full_ok [ $rc = 0 ]
check create_filter_sent [ "$(python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["filter_v1"], sort_keys=True))' <<<"$out")" = '{"destination_port": 443, "protocol": 6, "source_address": "192.0.2.1"}' ]
run pcap-fetch stop ${C5}
check stop_exit0 [ $rc = 0 ]
check stop_sent grep -q "PUT /client/v4/accounts/${ACCT}/pcaps/${C5}/stop" port.log

# ---- s3rver -------------------------------------------------------------------
if [ -x "$NODE_DIR/node_modules/.bin/s3rver" ]; then
	S3P=$(free_port)
	mkdir -p s3data
	# s3rver 3.7's continuation tokens use DES, which Node 20 keeps in
	# OpenSSL's legacy provider.
	NODE_OPTIONS=--openssl-legacy-provider "$NODE_DIR/node_modules/.bin/s3rver" \
	    -d "$W/s3data" -a 127.0.0.1 -p "$S3P" --silent \
	    --configure-bucket pcaps --no-vhost-buckets >s3rver.log 2>&1 &
	pids="$pids $!"
	if wait_port "$S3P" 30; then
		export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
		export AWS_ENDPOINT_URL=http://127.0.0.1:$S3P
		for f in s3src/*.pcap; do
			curl -sf -o /dev/null -T "$f" "$AWS_ENDPOINT_URL/pcaps/caps/$(basename "$f")" ||
			    bad s3_upload "$f"
		done
		echo notes | curl -sf -o /dev/null -T - "$AWS_ENDPOINT_URL/pcaps/caps/notes.txt"
		run pcap-fetch bucket s3://pcaps/caps -o b1 --page-size 2
		check s3_bucket_exit0 [ $rc = 0 ]
		for i in 0 1 2 3 4; do
			check s3_same_$i same_file b1/pcap_${C5}_$i.pcap s3src/pcap_${C5}_$i.pcap
		done
		check s3_etag_verified [ "$(grep -c '"verified": true' b1/manifest.json)" = 6 ]
		run pcap-fetch bucket s3://pcaps/caps -o b2 --exclude '*' --include 'pcap_*' --exclude '*3.pcap'
		check s3_include_exclude [ "$(ls b2 | tr '\n' ' ')" = "manifest.json pcap_${C5}_0.pcap pcap_${C5}_1.pcap pcap_${C5}_2.pcap pcap_${C5}_4.pcap " ]
		# resume: a .part holding the first half, as a cut run leaves it,
		# with the ETag of the response that began it in its sidecar
		mkdir -p b3
		etag() { echo "etag \"$(md5sum <"$1" | cut -c1-32)\""; }
		sz=$(stat -c %s s3src/pcap_${C5}_2.pcap)
		head -c $((sz / 2)) s3src/pcap_${C5}_2.pcap >b3/pcap_${C5}_2.pcap.part
		etag s3src/pcap_${C5}_2.pcap >b3/.pcap_${C5}_2.pcap.part.validator
		# a .part with wrong bytes: fetched to the end, then the ETag says no
		head -c $((sz / 3)) /dev/urandom >b3/pcap_${C5}_3.pcap.part
		etag s3src/pcap_${C5}_3.pcap >b3/.pcap_${C5}_3.pcap.part.validator
		# a .part with no validator is not resumed: from byte 0
		head -c 1000 /dev/urandom >b3/pcap_${C5}_4.pcap.part
		cp s3src/pcap_${C5}_3.pcap s3src/x && head -c 100 /dev/zero >b3/pcap_${C5}_0.pcap
		run pcap-fetch bucket s3://pcaps/caps -o b3 --include 'pcap_*' --exclude '*.txt'
		check s3_resume_exit0 [ $rc = 0 ]
		check s3_resume_said has "$err" "pcap_${C5}_2.pcap: resuming at byte $((sz / 2))"
		check s3_resume_same same_file b3/pcap_${C5}_2.pcap s3src/pcap_${C5}_2.pcap
		check s3_no_validator_said has "$err" "pcap_${C5}_4.pcap: the .part has no validator; fetching from byte 0"
		check s3_no_validator_same same_file b3/pcap_${C5}_4.pcap s3src/pcap_${C5}_4.pcap
		check s3_no_sidecar_left [ -z "$(find b3 -name '.*validator')" ]
		check s3_etag_mismatch_said has "$err" "pcap_${C5}_3.pcap: MD5 mismatch"
		check s3_etag_refetched same_file b3/pcap_${C5}_3.pcap s3src/pcap_${C5}_3.pcap
		check s3_replaced_wrong_file same_file b3/pcap_${C5}_0.pcap s3src/pcap_${C5}_0.pcap
		run pcap-fetch get ${C5} -o b4 -j 2
		check s3_get_full_exit0 [ $rc = 0 ]
		check s3_get_full_files [ "$(ls b4 | grep -c "^pcap_${C5}_.\.pcap$")" = 5 ]
		check s3_get_no_notes [ ! -e b4/notes.txt ]
		run env AWS_ACCESS_KEY_ID=NOPE AWS_SECRET_ACCESS_KEY=$SECRET_AWS pcap-fetch bucket s3://pcaps/caps --dry-run
		check s3_bad_key_exit1 [ $rc = 1 ]
		check s3_bad_key_msg has "$err" "HTTP 403: InvalidAccessKeyId"
		run pcap-fetch bucket s3://nosuchbucket/x --dry-run
		check s3_no_bucket has "$err" "HTTP 404: NoSuchBucket"
		mkdir -p home/.aws && printf '[default]\naws_access_key_id = NOPE\naws_secret_access_key = x\n[pcaps]\naws_access_key_id = S3RVER\naws_secret_access_key = S3RVER\n' >home/.aws/credentials
		run env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SHARED_CREDENTIALS_FILE AWS_PROFILE=pcaps pcap-fetch bucket s3://pcaps/caps --dry-run
		check s3_credentials_file_profile [ $rc = 0 ]
		run env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SHARED_CREDENTIALS_FILE pcap-fetch bucket s3://pcaps/caps --dry-run
		check s3_credentials_file_default has "$err" "InvalidAccessKeyId"
		# R2: the same S3 API, region auto, endpoint from AWS_ENDPOINT_URL
		run pcap-fetch bucket 'r2://pcaps/caps?account-id=0123abcd' --dry-run
		check r2_listing has "$out" "6 files"
		run env -u AWS_ENDPOINT_URL pcap-fetch bucket r2://pcaps/caps --dry-run
		check r2_needs_account has "$err" "needs ?account-id"
		# gs:// with HMAC keys: GCS's XML API, the S3 protocol over SigV4
		run env -u STORAGE_EMULATOR_HOST pcap-fetch bucket gs://pcaps/caps -o b6 --include 'pcap_*'
		check gcs_hmac_xml_api [ $rc = 0 ] && check gcs_hmac_same same_file b6/pcap_${C5}_4.pcap s3src/pcap_${C5}_4.pcap
		export AWS_SECRET_ACCESS_KEY=$SECRET_AWS	# s3rver ignores v4 signatures
		run pcap-fetch bucket s3://pcaps/caps -o b5
		check s3_secret_run [ $rc = 0 ]
		unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_ENDPOINT_URL
	else
		bad s3rver_start "s3rver did not listen on $S3P: $(tail -3 s3rver.log)"
	fi
else
	skip s3rver "not installed in $NODE_DIR (the set-up step needs npm)"
fi

# ---- Prism: the OpenAPI document as a mock --------------------------------------
# A copy of ../shared/cloudflare/pcaps-openapi.json (made by make-spec.py
# there from Cloudflare's public API reference), kept here so that the
# test does not depend on where the repository is cloned.
SPEC=$top/tests/fetch/pcaps-openapi.json
if [ -x "$NODE_DIR/node_modules/.bin/prism" ] && [ -f "$SPEC" ]; then
	PP=$(free_port)
	"$NODE_DIR/node_modules/.bin/prism" mock -h 127.0.0.1 -p "$PP" "$SPEC" \
	    >prism.log 2>&1 &
	pids="$pids $!"
	if wait_port "$PP" 60; then
		export CLOUDFLARE_API_BASE=http://127.0.0.1:$PP
		# The document's account_id pattern: 32 hex digits.
		export CLOUDFLARE_ACCOUNT_ID=023e105f4ecef8ad9ca31a8372d0c353
		id=66802ca5668e47a2b82c2e6746e45037
		run pcap-fetch list
		check prism_list [ $rc = 0 ] && check prism_list_row has "$out" "^$id"
		run pcap-fetch show $id --json
		check prism_show [ $rc = 0 ]
		run pcap-fetch create --type simple --time-limit 60 --packet-limit 100 --dport 53 --proto udp
		check prism_create_valid [ $rc = 0 ]
		run pcap-fetch create --type simple --time-limit 60 --packet-limit 100 --system other
		check prism_create_422 [ $rc = 1 ]
		check prism_create_422_msg has "$err" "HTTP 422"
		run pcap-fetch stop $id
		check prism_stop [ $rc = 0 ]
		run env -u CLOUDFLARE_API_TOKEN CLOUDFLARE_EMAIL=ops@example.com CLOUDFLARE_API_KEY=$SECRET_KEY pcap-fetch list
		check prism_email_key [ $rc = 0 ]
	else
		bad prism_start "Prism did not listen on $PP: $(tail -3 prism.log)"
	fi
else
	skip prism "not installed in $NODE_DIR, or no OpenAPI document"
fi

# ---- a hostile server (issue 20) --------------------------------------------
. "$top/tests/fetch/hostile.sh"

# ---- secrets ----------------------------------------------------------------------
leak=$(cat o.* e.* $(find . -name '*.json' ! -name conf.json) 2>/dev/null |
    grep -c -e "$SECRET_TOKEN" -e "$SECRET_KEY" -e "$SECRET_AWS")
check secrets_in_no_output [ "$leak" = 0 ]

echo "fetch: $pass passed, $fail failed, $skipped skipped"
[ $fail = 0 ]
