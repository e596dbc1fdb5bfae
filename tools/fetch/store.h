/*
 * store.h - buckets: S3, R2 and GCS (s3.c, gcs.c), listed and fetched
 * the same way.
 * Errors go into an errbuf of PK_ERRLEN bytes; the caller says them.
 */
#ifndef PCAPKIT_FETCH_STORE_H
#define PCAPKIT_FETCH_STORE_H

#include <curl/curl.h>

#include "http.h"

enum pk_store_kind { PK_S3, PK_R2, PK_GCS };

struct pk_store {
	enum pk_store_kind kind;
	char *bucket;
	char *prefix;		/* "" or ends without a leading '/' */
	char *region;		/* S3 SigV4 region; "auto" for R2 and GCS */
	char *endpoint;		/* scheme://host[:port], no slash at the end */
	int path_style;		/* endpoint/bucket/key, else bucket.host/key */
	int gcs_json;		/* GCS JSON API with an OAuth token */
	/* credentials (never printed) */
	char *access_key, *secret_key, *session_token;
	char *oauth_token;
	char url[1024];		/* the URL as the user gave it */
	unsigned page_size;	/* max-keys / maxResults, 0: the store's */
	uint64_t max_pages;	/* a listing longer than this fails */
	uint64_t max_objects;	/* so does one with more objects */
};

/*
 * Parse s3://bucket/dir?region=R, r2://bucket/dir?account-id=A or
 * gs://bucket/dir (the bucket, region and account id checked as
 * pk_valid_* says; no other query parameter), and take credentials and endpoints from the environment
 * (the tool passes getenv): AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 * AWS_SESSION_TOKEN, AWS_REGION, AWS_ENDPOINT_URL, AWS_PROFILE,
 * AWS_SHARED_CREDENTIALS_FILE, HOME, GOOGLE_OAUTH_ACCESS_TOKEN,
 * STORAGE_EMULATOR_HOST.  With credentials, the endpoint must pass
 * pk_secret_transport.  0, or -1 with the reason in err.
 */
int pk_store_open(struct pk_store *st, const char *url, int allow_http,
    const char *(*env)(const char *), char *err);
void pk_store_close(struct pk_store *st);

/*
 * One listed object.  A bucket listing can hold millions, so this is
 * small: about 100 bytes plus the key (see README, Reliability).
 */
struct pk_object {
	char *key;		/* the key in the bucket (malloc'ed) */
	const char *name;	/* the local path below the output dir:
				   points into key, past the prefix */
	uint64_t size;
	int64_t generation;	/* GCS object generation, -1 unknown */
	char md5[33];		/* lower-case hex; "" unknown (multipart ETag) */
	unsigned char have_size, have_crc32c, unsafe;
	uint32_t crc32c;
	char *why;		/* when unsafe: why (malloc'ed) */
};

struct pk_objlist {
	struct pk_object *v;
	size_t n, cap;
	size_t max;		/* more objects than this: an error (0: none) */
};
void pk_objlist_free(struct pk_objlist *l);

/*
 * List every object under the store's prefix, following pagination.  A
 * continuation token seen before (all are kept, as digests), more than
 * st->max_pages pages or st->max_objects objects fail the listing.
 */
int pk_store_list(struct pk_store *st, CURL *c, const struct pk_retry *rp,
    struct pk_objlist *out, char *err, void (*say)(const char *));

/* "s3://bucket/key" for messages and the manifest, into out. */
void pk_store_source(const struct pk_store *st, const char *key, char *out,
    size_t n);

/*
 * Build the GET of one object; from > 0 asks for the rest from that byte,
 * valid only for the version v names (v is not NULL then).
 */
int pk_store_get_req(const struct pk_store *st, const struct pk_object *o,
    uint64_t from, const struct pk_validator *v, struct pk_req *rq,
    char *err);

/*
 * Checksums as stores give them: an ETag that is a plain MD5 (else md5 is
 * ""), GCS's base64 md5Hash (else "") and base64 big-endian crc32c (0, or
 * -1 when malformed).
 */
void pk_etag_md5(const char *etag, char md5[33]);
void pk_md5_from_b64(const char *b64, char md5[33]);
int pk_crc32c_from_b64(const char *b64, uint32_t *crc);

/*
 * ": reason" from an error response body: S3's <Code>: <Message>, the
 * Cloudflare API's first errors[].message, GCS's error.message, else the
 * first bytes; control characters blanked; "" for no body.
 */
void pk_error_reason(const char *body, size_t len, char *out, size_t n);

/* Parse one S3 ListObjectsV2 page (exposed for tests). */
int pk_s3_parse_list(const char *xml, size_t len, struct pk_objlist *out,
    int *truncated, char **next_token, char *err);
/* Parse one GCS JSON objects.list page (exposed for tests). */
int pk_gcs_parse_list(const char *json, size_t len, struct pk_objlist *out,
    char **next_token, char *err);

#endif
