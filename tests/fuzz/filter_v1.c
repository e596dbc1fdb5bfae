/*
 * filter_v1.c - fuzz the filter_v1 parsers: the JSON object (-f), the
 * capture object (--from-capture, --expect), the flag values (--src, --dst,
 * --sport, --dport, --proto) and the tools' number, size, duration and time
 * parsers.
 *
 * Input: byte 0 picks the parser (and, for flags, the field); the rest is
 * its text.  Invariants: an accepted tuple has prefix lengths within its
 * family, no host bits set, and passes pf_tuple_check unless it pairs ports
 * with a portless protocol; a refusal always says why; a tuple that was
 * accepted can build a filter.
 */
#include <string.h>

#include "capture.h"
#include "common.h"
#include "filter.h"
#include "fuzz.h"

static void
check_prefix(const struct pf_prefix *p)
{
	unsigned i, bits;

	FUZZ_ASSERT(p->family == 4 || p->family == 6);
	bits = p->family == 4 ? 32 : 128;
	FUZZ_ASSERT(p->bits <= bits);
	for (i = p->bits; i < bits; i++)
		FUZZ_ASSERT(!(p->addr[i / 8] & (0x80 >> (i % 8))));
}

static void
check_tuple(const struct pf_tuple *t)
{
	char errbuf[PF_ERRBUF_SIZE];
	struct pf_filter_opts fo;
	pf_filter *f;

	if (t->has & PF_HAS_SRC)
		check_prefix(&t->src);
	if (t->has & PF_HAS_DST)
		check_prefix(&t->dst);
	errbuf[0] = '\0';
	if (pf_tuple_check(t, errbuf) < 0) {
		FUZZ_ASSERT(errbuf[0] != '\0');
		return;
	}
	memset(&fo, 0, sizeof(fo));
	f = pf_filter_new(t, 1, &fo, errbuf);
	FUZZ_ASSERT(f != NULL);
	pf_filter_free(f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const fields[5] = { "source_address",
	    "destination_address", "source_port", "destination_port",
	    "protocol" };
	char errbuf[PF_ERRBUF_SIZE];
	struct pf_tuple t;
	char *s;
	int rc;
	uint64_t u;
	int64_t ns;

	if (size < 1)
		return 0;
	memset(&t, 0, sizeof(t));
	errbuf[0] = '\0';
	switch (data[0] % 8) {
	case 0:
		rc = pf_tuple_from_json((const char *)data + 1, size - 1, &t,
		    errbuf);
		break;
	case 1:
		/* a capture object, as --from-capture reads one */
		{
			json_t *v = json_loadb((const char *)data + 1, size - 1,
			    JSON_REJECT_DUPLICATES, NULL);
			struct pk_capture c;

			rc = -1;
			if (v == NULL) {
				snprintf(errbuf, sizeof(errbuf), "JSON");
				break;
			}
			if ((rc = pk_capture_parse(&c, v, errbuf,
			    sizeof(errbuf))) == 0) {
				rc = pk_capture_tuple(&c, errbuf,
				    sizeof(errbuf));
				if (rc == 0)
					t = c.tuple;
				pk_capture_free(&c);
			}
			json_decref(v);
		}
		break;
	case 2: case 3: case 4: case 5:
		/* two flag values into one tuple, as --src A --dport B do */
		s = fuzz_strndup(data + 1, size - 1);
		rc = pf_tuple_set(&t, fields[data[0] % 5], s, errbuf);
		if (rc == 0 && strlen(s) + 2 < size)
			rc = pf_tuple_set(&t, fields[(data[0] >> 3) % 5],
			    s + strlen(s) + 1, errbuf);
		free(s);
		break;
	case 6:
		s = fuzz_strndup(data + 1, size - 1);
		(void)pk_parse_u64(s, 1, 65535, &u);
		if (pk_parse_size(s, 0, UINT64_MAX, &u) == 0 &&
		    strpbrk(s, "kKMG") == NULL) {
			uint64_t u2;

			FUZZ_ASSERT(pk_parse_u64(s, 0, UINT64_MAX, &u2) == 0);
			FUZZ_ASSERT(u2 == u);
		}
		(void)pk_parse_duration(s, &ns);
		free(s);
		return 0;
	default:
		s = fuzz_strndup(data + 1, size - 1);
		(void)pk_parse_time(s, &ns);
		free(s);
		return 0;
	}
	if (rc < 0) {
		FUZZ_ASSERT(errbuf[0] != '\0');
		return 0;
	}
	check_tuple(&t);
	return 0;
}
