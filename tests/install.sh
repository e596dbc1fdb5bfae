#!/bin/bash
# make check: install into a scratch DESTDIR, then build a small program
# against the installed libraries through pkg-config, as a user of
# <pcapkit/merge.h> and <pcapkit/filter.h> would, and run it (shared, then
# static).  Also: the shared libraries export only their headers' calls.
set -u
export LC_ALL=C
top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
B=$top/$BUILD
D=$(mktemp -d /tmp/pcapkit-install.XXXXXX)
trap 'rm -rf "$D"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1: $2"; }
check() {
	local name=$1; shift
	if "$@"; then ok "$name"; else bad "$name" "$*"; fi
}

if make -C "$top" --no-print-directory BUILD="$BUILD" install DESTDIR="$D" \
    PREFIX=/usr >"$D/make.log" 2>&1; then
	ok install
else
	bad install "$(tail -5 "$D/make.log")"
	echo "install: $pass passed, $fail failed"
	exit 1
fi
for f in usr/include/pcapkit/merge.h usr/include/pcapkit/filter.h \
    usr/lib/libpcapkit-merge.a usr/lib/libpcapkit-filter.a \
    usr/lib/libpcapkit-merge.so usr/lib/libpcapkit-filter.so.0 \
    usr/lib/pkgconfig/pcapkit.pc usr/share/man/man3/libpcapkit-merge.3 \
    usr/share/man/man3/libpcapkit-filter.3 usr/share/man/man1/pcap-merge.1 \
    usr/bin/pcap-merge usr/share/bash-completion/completions/pcap-merge \
    usr/share/bash-completion/completions/pcap-filter \
    usr/share/bash-completion/completions/pcap-summary \
    usr/share/bash-completion/completions/pcap-fetch; do
	check "installed_${f##*/}" [ -e "$D/$f" ]
done

# Exported: exactly the calls the headers mark PM_API / PF_API.
for l in merge:pm:libmerge/merge.h filter:pf:libfilter/filter.h; do
	IFS=: read -r name pre hdr <<<"$l"
	nm -D --defined-only "$D/usr/lib/libpcapkit-$name.so" | awk '{print $3}' |
	    grep -v '^_' | sort >"$D/exported.$name"
	grep -oE "_API [^(]*\b${pre}_[a-z0-9_]+\(" "$top/$hdr" |
	    grep -oE "${pre}_[a-z0-9_]+\($" | tr -d '(' | sort >"$D/declared.$name"
	check "exports_only_the_api_$name" cmp -s "$D/exported.$name" "$D/declared.$name"
	cmp -s "$D/exported.$name" "$D/declared.$name" ||
	    diff "$D/declared.$name" "$D/exported.$name" | head -5
done

cat >"$D/count.c" <<'EOF'
/* Count the packets of the captures named, and their TCP ones. */
#include <stdio.h>
#include <stdlib.h>

#include <pcapkit/filter.h>
#include <pcapkit/merge.h>

/* pm_scan's function: packets per lane (one thread at a time each). */
static int
per_packet(void *arg, const struct pm_scan_packet *p, char *errbuf)
{
	(*(unsigned long long **)arg)[p->lane]++;
	(void)errbuf;
	return 0;
}

/* The same count on two threads; -1 on an error. */
static long long
scan_count(int argc, char **argv)
{
	unsigned long long *per = NULL, sum = 0;
	struct pm_scan_opts so = { .workers = 2, .packet = per_packet,
	    .arg = &per };
	struct pm_scan_event ev;
	char errbuf[PM_ERRBUF_SIZE];
	pm_scan *s;
	size_t l, nl;
	int i, rc;

	if ((s = pm_scan_new(&so, errbuf)) == NULL)
		return -1;
	for (i = 1; i < argc; i++)
		if (pm_scan_add(s, argv[i], -1) < 0)
			break;
	nl = pm_scan_lanes(s);
	if (i < argc || (per = calloc(nl, sizeof(*per))) == NULL ||
	    pm_scan_start(s) < 0) {
		pm_scan_free(s);
		free(per);
		return -1;
	}
	while ((rc = pm_scan_next(s, &ev)) == 1)
		;
	pm_scan_free(s);
	for (l = 0; l < nl; l++)
		sum += per[l];
	free(per);
	return rc < 0 ? -1 : (long long)sum;
}

int
main(int argc, char **argv)
{
	struct pm_merge_opts o = { 0 };
	char errbuf[PM_ERRBUF_SIZE];
	struct pm_packet pkt;
	struct pf_dissection d;
	unsigned long long n = 0, tcp = 0;
	pm_merge *m;
	int i, rc;

	if (pm_version_number() != PM_VERSION_NUMBER ||
	    pf_version_number() != PF_VERSION_NUMBER) {
		fprintf(stderr, "count: header and library versions differ\n");
		return 1;
	}
	if ((m = pm_merge_new(&o, errbuf)) == NULL) {
		fprintf(stderr, "count: %s\n", errbuf);
		return 1;
	}
	for (i = 1; i < argc; i++)
		if (pm_merge_add(m, argv[i], -1) < 0) {
			fprintf(stderr, "count: %s\n", pm_merge_geterr(m));
			pm_merge_free(m);
			return 1;
		}
	while ((rc = pm_merge_next(m, &pkt)) == 1) {
		n++;
		pf_dissect(pkt.linktype, pkt.data, pkt.caplen, &d);
		if (d.n > 0 && d.ip[d.n - 1].proto_known &&
		    d.ip[d.n - 1].proto == 6)
			tcp++;
	}
	if (rc < 0)
		fprintf(stderr, "count: %s\n", pm_merge_geterr(m));
	pm_merge_free(m);
	if (rc < 0 || scan_count(argc, argv) != (long long)n) {
		fprintf(stderr, "count: the scan disagrees\n");
		return 1;
	}
	printf("%s %llu packets, %llu tcp\n", PM_VERSION_STRING, n, tcp);
	return 0;
}
EOF
"$B/tests/gencap" -n 500 -S 3 -o "$D/a.pcap"
"$B/tests/gencap" -n 300 -S 4 -o "$D/b.pcap"
want="$(sed -n 's/^#define PM_VERSION_STRING "\(.*\)"/\1/p' "$top/libmerge/merge.h") 800 packets, $("$B/pcap-filter" -c --proto tcp "$D/a.pcap" "$D/b.pcap") tcp"
# The installed .pc, its prefix moved to where DESTDIR put it.
pc() { PKG_CONFIG_PATH=$D/usr/lib/pkgconfig pkg-config \
    --define-variable=prefix="$D/usr" "$@" pcapkit; }
check pkg_config_version [ "$(pc --modversion)" = "${want%% *}" ]
# shared
if ${CC:-cc} ${CFLAGS:-} $(pc --cflags) -o "$D/count" "$D/count.c" ${LDFLAGS:-} \
    $(pc --libs) 2>"$D/cc.err"; then
	got=$(LD_LIBRARY_PATH=$D/usr/lib "$D/count" "$D/a.pcap" "$D/b.pcap")
	check program_shared [ "$got" = "$want" ]
	check program_uses_installed_so sh -c "LD_LIBRARY_PATH=$D/usr/lib ldd '$D/count' | grep -q '$D/usr/lib/libpcapkit-merge.so'"
else
	bad program_shared_builds "$(head -5 "$D/cc.err")"
fi
# static: the archives, with the libraries they need (shared)
if ${CC:-cc} ${CFLAGS:-} $(pc --cflags) -o "$D/count-static" "$D/count.c" \
    ${LDFLAGS:-} "$D/usr/lib/libpcapkit-filter.a" "$D/usr/lib/libpcapkit-merge.a" \
    $(pkg-config --libs $(pc --print-requires-private)) $(pc --libs-only-other --static) \
    2>"$D/cc.err"; then
	check program_static [ "$("$D/count-static" "$D/a.pcap" "$D/b.pcap")" = "$want" ]
else
	bad program_static_builds "$(head -5 "$D/cc.err")"
fi
echo "install: $pass passed, $fail failed"
[ $fail = 0 ]
