/*
 * pktdump - print the packets of captures, one line each, through
 * libmerge's reader: "ts_ns caplen len linktype hash".  The tests compare
 * these lines between tools.  -q prints only "packets N hash H" over all.
 * Damage is printed as a "# damage" line and reading goes on.
 * -C FILE...: "size crc32c name" of each file's bytes, as stored (for
 * writing manifests in tests).
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "merge.h"

static uint64_t
fnv(const uint8_t *p, size_t n, uint64_t h)
{
	while (n--)
		h = (h ^ *p++) * 0x100000001b3ull;
	return h;
}

int
main(int argc, char **argv)
{
	char errbuf[PM_ERRBUF_SIZE];
	struct pm_packet p;
	uint64_t n = 0, all = 0xcbf29ce484222325ull;
	int quiet = 0, i, rc, status = 0;

	if (argc > 1 && strcmp(argv[1], "-C") == 0) {
		static uint8_t buf[1 << 16];
		for (i = 2; i < argc; i++) {
			uint64_t size = 0;
			uint32_t crc = 0;
			ssize_t k;
			int fd = open(argv[i], O_RDONLY);
			if (fd < 0) {
				perror(argv[i]);
				return 1;
			}
			while ((k = read(fd, buf, sizeof(buf))) > 0) {
				crc = pm_crc32c(crc, buf, (size_t)k);
				size += (uint64_t)k;
			}
			close(fd);
			printf("%llu %08x %s\n", (unsigned long long)size, crc,
			    argv[i]);
		}
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "-q") == 0) {
		quiet = 1;
		argc--;
		argv++;
	}
	for (i = 1; i < argc; i++) {
		pm_reader *r = strcmp(argv[i], "-") == 0 ?
		    pm_reader_open_fd(0, "-", 0, NULL, errbuf) :
		    pm_reader_open(argv[i], 0, NULL, errbuf);
		if (r == NULL) {
			fprintf(stderr, "pktdump: %s: %s\n", argv[i], errbuf);
			return 1;
		}
		while ((rc = pm_reader_next(r, &p)) != 0) {
			if (rc < 0) {
				printf("# damage: %s\n", pm_reader_geterr(r));
				status = 1;
				if (rc != PM_ERR_DAMAGED && rc != PM_ERR_TRUNCATED)
					break;
				continue;
			}
			uint64_t h = fnv(p.data, p.caplen, 0xcbf29ce484222325ull);
			n++;
			all = fnv((const uint8_t *)&p.ts, 8, all);
			all = fnv((const uint8_t *)&p.caplen, 4, all);
			all = fnv((const uint8_t *)&p.len, 4, all);
			all = fnv((const uint8_t *)&p.linktype, 4, all);
			all = fnv(p.data, p.caplen, all);
			if (!quiet)
				printf("%lld %u %u %u %016llx\n", (long long)p.ts,
				    p.caplen, p.len, p.linktype,
				    (unsigned long long)h);
		}
		pm_reader_close(r);
	}
	if (quiet)
		printf("packets %llu hash %016llx\n", (unsigned long long)n,
		    (unsigned long long)all);
	return status;
}
