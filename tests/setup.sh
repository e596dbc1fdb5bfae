#!/bin/sh
# The set-up step of `make check` and `make demo`: make sure the Debian
# packages pcapkit builds and tests with are there.  As root, install what is
# missing with apt-get; otherwise say exactly what is missing and how to get
# it.  Build dependencies are required; the reference tools the tests compare
# against are optional (their comparisons are skipped, with a message).
set -u

need="gcc make pkg-config libpcap-dev libzstd-dev zlib1g-dev libjansson-dev libssl-dev libcurl4-openssl-dev libexpat1-dev check"
# make fuzz (FUZZ=1) also needs clang and its libFuzzer runtime.
want="tshark tcpdump tcpslice hyperfine zstd gzip python3 valgrind bc curl nodejs jq"
if [ "${FUZZ:-0}" = 1 ]; then
	need="clang libclang-rt-14-dev"
	want=
fi

missing() {
	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
		    grep -q '^install ok installed' || printf '%s ' "$p"
	done
}

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "setup: not a Debian system; install by hand: $need" >&2
	exit 0
fi

m_need=$(missing $need)
m_want=$(missing $want)
# npm comes with NodeSource's nodejs, or as Debian's own package.
[ -n "$want" ] && ! command -v npm >/dev/null 2>&1 && m_want="${m_want}npm "
if [ -n "$m_need$m_want" ] && [ "$(id -u)" = 0 ] &&
   command -v apt-get >/dev/null 2>&1; then
	export DEBIAN_FRONTEND=noninteractive
	echo "setup: installing $m_need$m_want" >&2
	apt_install() {
		apt-get install -y -q --no-install-recommends "$@" >/dev/null ||
		    { apt-get update -q >/dev/null &&
		      apt-get install -y -q --no-install-recommends "$@" >/dev/null; }
	}
	# tshark asks whether non-root users may capture: answer no.
	echo "wireshark-common wireshark-common/install-setuid boolean false" |
	    debconf-set-selections 2>/dev/null
	apt_install $m_need $m_want || {
		# The optional ones may be unavailable; the required may not.
		[ -n "$m_need" ] && apt_install $m_need
	}
	m_need=$(missing $need)
	m_want=$(missing $want)
fi
# The test servers pcap-fetch is checked against, from npm: s3rver (a real
# S3 server) and Prism (serving the Cloudflare API's OpenAPI document).
# Pinned; Prism 5.16 needs Node 24, Debian 12 has Node 20.
NODE_DIR=${NODE_DIR:-build/node}
if [ -n "$want" ] && { [ ! -x "$NODE_DIR/node_modules/.bin/s3rver" ] ||
   [ ! -x "$NODE_DIR/node_modules/.bin/prism" ]; }; then
	if command -v npm >/dev/null 2>&1; then
		echo "setup: npm install s3rver, prism-cli into $NODE_DIR" >&2
		mkdir -p "$NODE_DIR"
		timeout 600 npm install --prefix "$NODE_DIR" --no-audit \
		    --no-fund --loglevel=error s3rver@3.7.1 \
		    @stoplight/prism-cli@5.14.2 >/dev/null 2>&1 ||
		    echo "setup: npm install failed; the pcap-fetch tests" \
		        "against s3rver and Prism will be skipped" >&2
	else
		echo "setup: npm missing; the pcap-fetch tests against" \
		    "s3rver and Prism will be skipped" >&2
	fi
fi
if [ -n "$m_want" ]; then
	echo "setup: optional packages missing (their tests are skipped): $m_want" >&2
fi
if [ -n "$m_need" ]; then
	echo "setup: required packages missing: $m_need" >&2
	echo "setup: run as root: apt-get install $m_need" >&2
	exit 1
fi
exit 0
