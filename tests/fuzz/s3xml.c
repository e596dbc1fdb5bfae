/*
 * s3xml.c - fuzz pcap-fetch's S3 ListObjectsV2 parser (expat), and the
 * readers of what an S3 reply carries: error bodies and ETags.
 *
 * Invariants: a page either parses or says why; every object it yields has
 * a key; a key pk_safe_relpath accepts is a relative path with no empty,
 * "." or ".." component and no control character; an MD5 taken from an ETag is empty or 32
 * lower-case hex digits; an error reason is a terminated string without
 * control characters.
 */
#include <string.h>

#include "store.h"
#include "fuzz.h"

static void
check_list(const struct pk_objlist *l)
{
	char why[160];

	for (size_t i = 0; i < l->n; i++) {
		const struct pk_object *o = &l->v[i];

		FUZZ_ASSERT(o->key != NULL);
		fuzz_check_md5(o->md5);
		if (o->unsafe)
			FUZZ_ASSERT(o->why[0] != '\0');
		if (pk_safe_relpath(o->key, why, sizeof(why)) == 0)
			FUZZ_ASSERT(fuzz_path_ok(o->key));
	}
}

static void
check_reason(const char *body, size_t len)
{
	char out[256];
	size_t n;

	memset(out, 'x', sizeof(out));
	pk_error_reason(body, len, out, sizeof(out));
	n = strnlen(out, sizeof(out));
	FUZZ_ASSERT(n < sizeof(out));
	for (size_t i = 0; i < n; i++)
		FUZZ_ASSERT((unsigned char)out[i] >= 0x20);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pk_objlist l = { 0 };
	char err[PK_ERRLEN], md5[33], *next = NULL, *s;
	int truncated = 0;

	err[0] = '\0';
	if (pk_s3_parse_list((const char *)data, size, &l, &truncated, &next,
	    err) < 0)
		FUZZ_ASSERT(err[0] != '\0');
	else
		check_list(&l);
	pk_objlist_free(&l);
	free(next);

	check_reason((const char *)data, size);
	s = fuzz_strndup(data, size < 100 ? size : 100);
	pk_etag_md5(s, md5);
	fuzz_check_md5(md5);
	free(s);
	return 0;
}
