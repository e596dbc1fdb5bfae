/*
 * apijson.c - fuzz the JSON that pcap-fetch reads: Cloudflare API replies
 * (the envelope, errors[], result and result_info), the capture object's
 * filter_v1, and GCS objects.list pages; also GCS's base64 checksums.
 *
 * Input: byte 0 picks the HTTP status class and which reader; the rest is
 * the body.  Invariants: a reply is accepted only with status 2xx, and a
 * refusal says why; a GCS page's objects have keys, and a key
 * pk_safe_relpath accepts is safe (as in s3xml.c); decoded MD5s are empty
 * or 32 hex digits.
 */
#include <string.h>

#include <jansson.h>

#include "api.h"
#include "capture.h"
#include "store.h"
#include "filter.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long statuses[] = { 200, 204, 400, 404, 429, 500 };
	char err[PK_ERRLEN], errbuf[PF_ERRBUF_SIZE], why[160], md5[33];
	const char *body = (const char *)data + 1;
	json_t *result = NULL, *info = NULL;
	struct pk_objlist l = { 0 };
	char *next = NULL, *s;
	uint32_t crc;
	long status;
	int rc;

	if (size < 1)
		return 0;
	size--;
	status = statuses[data[0] % 6];
	err[0] = '\0';
	switch ((data[0] / 6) % 3) {
	case 0:
		rc = pk_api_reply(status, body, size, &result, &info, err);
		if (rc < 0) {
			FUZZ_ASSERT(err[0] != '\0');
			FUZZ_ASSERT(result == NULL && info == NULL);
			break;
		}
		FUZZ_ASSERT(status >= 200 && status < 300);
		if (result != NULL) {
			/* what --expect, --from-capture and get do with it */
			struct pk_capture c;

			errbuf[0] = '\0';
			if (pk_capture_parse(&c, result, errbuf,
			    sizeof(errbuf)) < 0)
				FUZZ_ASSERT(errbuf[0] != '\0');
			else {
				if (pk_capture_tuple(&c, errbuf,
				    sizeof(errbuf)) < 0)
					FUZZ_ASSERT(errbuf[0] != '\0');
				pk_capture_free(&c);
			}
		}
		json_decref(result);
		json_decref(info);
		break;
	case 1:
		if (pk_gcs_parse_list(body, size, &l, &next, err) < 0) {
			FUZZ_ASSERT(err[0] != '\0');
		} else {
			for (size_t i = 0; i < l.n; i++) {
				FUZZ_ASSERT(l.v[i].key != NULL);
				fuzz_check_md5(l.v[i].md5);
				if (l.v[i].unsafe)
					FUZZ_ASSERT(l.v[i].why[0] != '\0');
				if (pk_safe_relpath(l.v[i].key, why,
				    sizeof(why)) == 0)
					FUZZ_ASSERT(fuzz_path_ok(l.v[i].key));
			}
		}
		pk_objlist_free(&l);
		free(next);
		break;
	default:
		s = fuzz_strndup(data + 1, size < 64 ? size : 64);
		pk_md5_from_b64(s, md5);
		fuzz_check_md5(md5);
		(void)pk_crc32c_from_b64(s, &crc);
		free(s);
		break;
	}
	return 0;
}
