# Sourced by tests/fetch/run.sh (its helpers, its secrets check): pcap-fetch
# against tests/fetch/hostile.py, one case per attack of issue 20, each
# asserting its bound (elapsed time, peak memory, bytes on disk, requests
# sent, connections offered to a second listener).  Time bounds stretch
# under valgrind and ASan; memory bounds hold only without them.

slow=1 vg=0
if [ "$(head -c2 "$B/pcap-fetch")" = "#!" ]; then slow=10 vg=1	# valgrind
elif nm "$B/pcap-fetch" 2>/dev/null | grep -q __asan_init; then slow=3; fi
KEYS=1000000
[ $slow != 1 ] && KEYS=20000
LONG_TOKEN=$(head -c 3100 /dev/zero | tr '\0' 't')-$(head -c 1100 /dev/zero | tr '\0' 'k')
KEYS=$KEYS TOKEN=$LONG_TOKEN python3 "$top/tests/fetch/hostile.py" hport htrap \
    2>hostile.err &
pids="$pids $!"
for i in $(seq 100); do [ -f hport ] && [ -f htrap ] && break; sleep 0.1; done
HP=$(cat hport) TP=$(cat htrap)
trapped() { cat htrap.count; }
A_HUGE=a0000000000000000000000000000000 A_EXACT=b0000000000000000000000000000000
A_ESC=c0000000000000000000000000000000 A_DRIP=d0000000000000000000000000000000
A_DEST=e0000000000000000000000000000000 A_SIMPLE=f0000000000000000000000000000000
A_TOKEN=10000000000000000000000000000000
ID0=00000000000000000000000000000000
hapi=http://127.0.0.1:$HP/client/v4

# hrun CMD...: run, keeping out/err/rc, the elapsed seconds in $secs and
# the peak resident memory in $mb (MiB)
hrun() {	# run.sh's run, timed
	run /usr/bin/time -f '%e %M' -o "$W/t.$((n + 1))" "$@"
	secs=$(tail -1 "$W/t.$n" | cut -d' ' -f1)
	mb=$(( $(tail -1 "$W/t.$n" | cut -d' ' -f2) / 1024 ))
}
within() {	# within SECONDS [OVERHEAD]: elapsed under SECONDS + OVERHEAD x slow
	[ "$(echo "$secs <= $1 + ${2:-2} * $slow" | bc -l)" = 1 ] ||
	    { echo "  took $secs s, bound $1 + ${2:-2} x $slow" >&2; return 1; }
}
under_mb() {
	[ $slow != 1 ] && return 0
	[ "$mb" -lt "$1" ] || { echo "  peak $mb MiB, bound $1" >&2; return 1; }
}
requests() { grep -c -- "$1" hport.log; }
no_raw_escapes() {	# no ESC and no C1 CSI (UTF-8 c2 9b) in the files
	python3 -c 'import sys
for f in sys.argv[1:]:
    d = open(f, "rb").read()
    if b"\x1b" in d or b"\xc2\x9b" in d:
        sys.exit(f + ": raw escape")' "$@"
}

(
export STORAGE_EMULATOR_HOST=127.0.0.1:$HP CLOUDFLARE_API_BASE=$hapi
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_ENDPOINT_URL

# 1. Listings: a cycle of page tokens, pages and objects without end, and
# a million keys in bounded memory.
hrun pcap-fetch bucket gs://cycle/caps --dry-run
check hostile_cycle_exit1 [ $rc = 1 ]
check hostile_cycle_said has "$err" "page 3 repeats a continuation token seen before"
check hostile_cycle_pages [ "$(requests 'b/cycle/o?')" = 3 ]
check hostile_cycle_time within 2
hrun env AWS_ACCESS_KEY_ID=k AWS_SECRET_ACCESS_KEY=s \
    AWS_ENDPOINT_URL=http://127.0.0.1:$HP pcap-fetch bucket s3://s3cycle/caps --dry-run
check hostile_s3_cycle_exit1 [ $rc = 1 ]
check hostile_s3_cycle_said has "$err" "repeats a continuation token"
check hostile_s3_cycle_pages [ "$(requests '/s3cycle?')" = 3 ]
hrun pcap-fetch bucket gs://endless/caps --dry-run --page-size 1 --max-pages 50
check hostile_max_pages_exit1 [ $rc = 1 ]
check hostile_max_pages_said has "$err" "more than 50 pages (--max-pages)"
check hostile_max_pages_requests [ "$(requests 'b/endless/o?.*maxResults=1$')" = 50 ]
hrun pcap-fetch bucket gs://endless/caps --dry-run --max-objects 5000
check hostile_max_objects_exit1 [ $rc = 1 ]
check hostile_max_objects_said has "$err" "more than 5000 objects (--max-objects)"
check hostile_max_objects_pages [ "$(requests 'b/endless/o?prefix=caps%2F\(&pageToken=[0-9]*\)\?$')" = 6 ]
hrun pcap-fetch bucket gs://million/caps --dry-run
check hostile_million_exit0 [ $rc = 0 ]
check hostile_million_listed has "$(tail -1 "$W/o.$n")" "^$KEYS files, $((KEYS * 123456)) bytes"
check hostile_million_memory under_mb 400
echo "     (bucket --dry-run of $KEYS keys: peak $mb MiB, $secs s)"
rm -f "$W/o.$n"

# 2. list: a page larger than asked for; pages without end.
hrun pcap-fetch list --account $A_HUGE
check hostile_list_big_page_exit1 [ $rc = 1 ]
check hostile_list_big_page_said has "$err" "page 1 holds 1000 captures, more than the 50 asked for"
check hostile_list_big_page_one_request [ "$(requests "$A_HUGE/pcaps?")" = 1 ]
check hostile_list_big_page_memory under_mb 60
hrun pcap-fetch list --account $A_EXACT --page-size 3 --max-pages 20
check hostile_list_max_pages_exit1 [ $rc = 1 ]
check hostile_list_max_pages_said has "$err" "more than 20 pages (--max-pages)"
check hostile_list_max_pages_rows [ "$(wc -l <"$W/o.$n")" = 61 ]
hrun pcap-fetch list --account $A_EXACT --json --max-objects 10 --page-size 4
check hostile_list_max_objects_said has "$err" "more than 10 captures (--max-objects)"
check hostile_list_json_left_open sh -c "! python3 -m json.tool '$W/o.$n' >/dev/null 2>&1"

# 3. Bodies bounded while they arrive; nothing partial left.
hrun pcap-fetch bucket gs://longbody/caps -o lb
check hostile_endless_body_exit1 [ $rc = 1 ]
check hostile_endless_body_said has "$err" "a.pcap: the body goes on past 10 bytes (the listed size)"
check hostile_endless_body_time within 2
check hostile_endless_body_nothing_left [ -z "$(find lb -name 'a.pcap*' -o -name '.a.pcap*')" ]
check hostile_endless_body_disk [ "$(du -sk lb | cut -f1)" -lt 100 ]
hrun pcap-fetch bucket gs://longcl/caps -o lc
check hostile_content_length_exit1 [ $rc = 1 ]
check hostile_content_length_said has "$err" "Content-Length 1000000000000 from byte 0 disagrees with the listed size 10"
check hostile_content_length_nothing_left [ -z "$(find lc -name 'a.pcap*')" ]
hrun pcap-fetch get $ID0 --account $A_SIMPLE -o sf
check hostile_simple_endless_exit1 [ $rc = 1 ]
check hostile_simple_endless_said has "$err" "the body goes on past 1784 bytes"
check hostile_simple_endless_time within 2
check hostile_simple_endless_nothing_left [ -z "$(find sf -name 'pcap_*')" ]
hrun pcap-fetch get $ID0 --account $A_SIMPLE -o sf2 --max-size 100k
check hostile_max_size_option has "$err" "the body goes on past 102400 bytes"

# 4. What becomes part of a URL is validated before any connection.
export AWS_ACCESS_KEY_ID=AKIAHOSTILE AWS_SECRET_ACCESS_KEY=$SECRET_AWS
for k in 0 1 2 3 4 5 6; do
	id=$(printf '%032x' $k)
	hrun pcap-fetch get "$id" --account $A_DEST -o dest$k
	check hostile_dest_${k}_refused [ $rc = 1 ]
	check hostile_dest_${k}_said has "$err" "destination_conf: .*\(bad region\|bad bucket name\|unknown ?parameter\|not an s3\|bad account-id\)"
done
check hostile_dest_no_connection [ "$(trapped)" = 0 ]
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
hrun pcap-fetch show ../../etc/passwd
check hostile_bad_id_exit2 [ $rc = 2 ]
hrun pcap-fetch show $ID0 --account 'x@127.0.0.1'
check hostile_bad_account_exit1 [ $rc = 1 ] && check hostile_bad_account_said has "$err" "bad account id"

# 5. Time: a drip; wait --timeout bounds the requests in flight too.
hrun pcap-fetch wait $ID0 --account $A_DRIP --timeout 3s --interval 100ms
check hostile_drip_wait_exit1 [ $rc = 1 ]
check hostile_drip_wait_said has "$err" "no answer within the --timeout"
check hostile_drip_wait_time within 3
hrun pcap-fetch show $ID0 --account $A_DRIP --request-timeout 2s --retries 0
check hostile_drip_request_timeout [ $rc = 1 ] && check hostile_drip_request_time within 2
hrun pcap-fetch bucket gs://drip/caps -o dr --speed-limit 100 --speed-time 2s --retries 0
check hostile_drip_download_exit1 [ $rc = 1 ]
check hostile_drip_download_said has "$err" "Operation too slow"
check hostile_drip_download_time within 2
check hostile_drip_download_nothing_left [ -z "$(find dr -name 'a.pcap*')" ]

# 6. Server strings are rendered, never printed raw; --json stays exact.
hrun pcap-fetch list --account $A_ESC
check hostile_escape_list_rendered has "$out" '\\x1b\[31mRED'
check hostile_escape_list_c1_rendered has "$out" '\\xc2\\x9b2J'
check hostile_escape_list_columns [ "$(grep -o 2026-11-23T10:00:00Z <<<"$out" | wc -l)" = 1 ]
check hostile_escape_list_raw no_raw_escapes "$W/o.$n" "$W/e.$n"
hrun pcap-fetch list --account $A_ESC --json
check hostile_escape_json_exact python3 -c 'import json,sys
c = json.load(open(sys.argv[1]))[0]
assert c["status"] == "\x1b[31mRED\x1b[0m" and c["colo_name"] == "\u009b2J"' "$W/o.$n"
hrun pcap-fetch show $ID0 --account $A_ESC
check hostile_escape_show no_raw_escapes "$W/o.$n" "$W/e.$n"
check hostile_escape_show_rendered has "$out" 'error_message .*bad \\x1b'
hrun pcap-fetch wait $ID0 --account $A_ESC --interval 100ms
check hostile_escape_wait_failed [ $rc = 1 ]
check hostile_escape_wait no_raw_escapes "$W/o.$n" "$W/e.$n"
check hostile_escape_wait_rendered has "$err" 'capture failed: bad \\x1b\[31mRED'
hrun pcap-fetch bucket gs://escape/caps -o esc
check hostile_escape_bucket no_raw_escapes "$W/o.$n" "$W/e.$n"
check hostile_escape_bucket_said has "$err" "unsafe name '\\\\x1b\[31mRED"
hrun pcap-fetch bucket gs://escape/caps --dry-run
check hostile_escape_dry_run no_raw_escapes "$W/o.$n" "$W/e.$n"

# 7. A resume is validated or not done: never old bytes spliced to new.
python3 -c 'import sys
v1 = bytes(range(256)) * 40
v2 = bytes(255 - (i % 256) for i in range(10240))
open("v1", "wb").write(v1); open("v2", "wb").write(v2)'
stale() {	# stale DIR [VALIDATOR]: half of version 1 as DIR/v.pcap.part
	mkdir -p "$1"
	head -c 5000 v1 >"$1/v.pcap.part"
	[ -n "${2:-}" ] && echo "$2" >"$1/.v.pcap.part.validator"
	return 0
}
stale sv1 "etag \"$(md5sum <v1 | cut -c1-32)\""
hrun pcap-fetch bucket gs://versions/caps -o sv1
check hostile_stale_if_range_exit0 [ $rc = 0 ]
check hostile_stale_if_range_whole same_file sv1/v.pcap v2
stale sv2 "generation 1"
hrun pcap-fetch bucket gs://versions/caps -o sv2
check hostile_stale_generation_said has "$err" "v.pcap: the .part is of another generation; fetching from byte 0"
check hostile_stale_generation_whole same_file sv2/v.pcap v2
stale sv3 "etag \"$(md5sum <v1 | cut -c1-32)\""
hrun pcap-fetch bucket gs://ignoring/caps -o sv3
check hostile_stale_ignored_if_range_said has "$err" "HTTP 206 for another version"
check hostile_stale_ignored_if_range_whole same_file sv3/v.pcap v2
stale sv4
hrun pcap-fetch bucket gs://nochecksum/caps -o sv4
check hostile_stale_no_validator_exit0 [ $rc = 0 ]
check hostile_stale_no_validator_said has "$err" "v.pcap: the .part has no validator; fetching from byte 0"
check hostile_stale_no_validator_whole same_file sv4/v.pcap v2
check hostile_stale_no_sidecars_left [ -z "$(find sv1 sv2 sv3 sv4 -name '.*validator')" ]

# 8. A 404 leaves nothing.
hrun pcap-fetch bucket gs://gone/caps -o gn
check hostile_404_exit1 [ $rc = 1 ]
check hostile_404_nothing_left [ -z "$(find gn -name 'a.pcap*' -o -name '.a.pcap*')" ]

# 9. Credentials only over TLS, or to loopback, or when allowed.
ip=$(hostname -I 2>/dev/null | tr ' ' '\n' | grep -v '^127\.' | grep -v : | head -1)
[ -z "$ip" ] && ip=pcapkit-test.invalid
hrun env CLOUDFLARE_API_BASE=http://$ip:$TP/client/v4 pcap-fetch list --account $A_TOKEN
check hostile_plain_http_refused [ $rc = 1 ]
check hostile_plain_http_said has "$err" "credentials are sent only over https"
hrun env AWS_ACCESS_KEY_ID=k AWS_SECRET_ACCESS_KEY=s AWS_ENDPOINT_URL=http://$ip:$TP \
    pcap-fetch bucket s3://bkt/x --dry-run
check hostile_plain_http_s3_refused has "$err" "credentials are sent only over https"
check hostile_plain_http_no_connection [ "$(trapped)" = 0 ]
if [ "$ip" != pcapkit-test.invalid ]; then
	hrun env CLOUDFLARE_API_BASE=http://$ip:$TP/client/v4 pcap-fetch list \
	    --account $A_TOKEN --allow-plain-http --retries 0
	check hostile_plain_http_opt_in [ "$(trapped)" -ge 1 ]
else
	skip hostile_plain_http_opt_in "no address but loopback"
fi

# 10. Secrets: a token of 4 KiB; the process is not dumpable.
hrun env CLOUDFLARE_API_TOKEN=$LONG_TOKEN pcap-fetch list --account $A_TOKEN
check hostile_long_token [ $rc = 0 ]
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && [ $vg = 0 ]; then
	setpriv --reuid=65534 --regid=65534 --clear-groups "$B/pcap-fetch" \
	    wait $ID0 --account $A_DRIP --timeout 5s >/dev/null 2>&1 &
	p=$!
	sleep 1
	setpriv --reuid=65534 --regid=65534 --clear-groups cat /proc/$p/environ \
	    >environ.out 2>/dev/null
	check hostile_not_dumpable [ ! -s environ.out ]
	# the same as a dumpable process of that user: readable (the test can fail)
	setpriv --reuid=65534 --regid=65534 --clear-groups sleep 3 &
	q=$!
	sleep 0.5
	setpriv --reuid=65534 --regid=65534 --clear-groups cat /proc/$q/environ \
	    >environ2.out 2>/dev/null
	check hostile_dumpable_control [ -s environ2.out ]
	wait $p $q 2>/dev/null
else
	skip hostile_not_dumpable "needs root, setpriv, and no valgrind"
fi
echo "hostile: pass=$pass fail=$fail skipped=$skipped" >counts
) 
[ -f counts ] && eval "$(sed 's/hostile: //' counts)"
