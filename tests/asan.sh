#!/bin/bash
# make asan: the whole suite against the ASan+UBSan build (build-asan/);
# make tsan: libmerge's unit tests and the e2e suite against the
# ThreadSanitizer build (build-tsan/).
# Sanitizer reports go to files, not stderr, so that a report from a run
# whose test only checks a message or a golden file still fails the suite:
# any file in the log directory at the end is a failure.  The directory is
# world-writable because some cases run a tool as nobody.
set -u
logs=$(mktemp -d /tmp/pcapkit-san.XXXXXX)
chmod 1777 "$logs"
trap 'rm -rf "$logs"' EXIT
export ASAN_OPTIONS=log_path=$logs/asan:detect_leaks=1
export UBSAN_OPTIONS=log_path=$logs/ubsan:print_stacktrace=1
export TSAN_OPTIONS=log_path=$logs/tsan
"$@"
rc=$?
if [ -n "$(ls -A "$logs")" ]; then
	echo "sanitizer reports:"
	for f in "$logs"/*; do echo "== $f"; head -40 "$f"; done
	exit 1
fi
echo "no sanitizer reports"
exit $rc
