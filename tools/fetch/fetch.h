/*
 * fetch.h - pcap-fetch's pieces: HTTP with retries, bucket stores (S3, R2,
 * GCS), the parallel download engine and the Cloudflare API client.  Tool
 * code: these print nothing themselves; errors go into an errbuf of
 * PK_ERRLEN bytes and the caller says them.
 */
#ifndef PCAPKIT_FETCH_H
#define PCAPKIT_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#define PK_ERRLEN 512

/* ---- small things (util.c) -------------------------------------------- */

/* CRC-32C is libmerge's pm_crc32c (merge.h): one implementation. */

/*
 * Whether a key, made relative to the fetched prefix, is safe as a path
 * under the output directory: not empty, not absolute, no "." or ".."
 * component, no empty component, no control character.  0 safe, -1 not,
 * with the reason in err.
 */
int pk_safe_relpath(const char *rel, char *err, size_t errlen);

/*
 * Retry-After: delta-seconds or an HTTP-date, in milliseconds from now
 * (now_s, Unix seconds); -1 when absent or unparsable.
 */
int64_t pk_retry_after_ms(const char *v, int64_t now_s);

/*
 * How requests are made: retries, and the bounds on time that no server
 * can stretch (defaults in pk_retry_defaults; pcap-fetch(1) names them).
 */
struct pk_retry {
	int attempts;		/* in all, the first included (default 6) */
	int64_t base_ms;	/* first backoff (default 500) */
	int64_t cap_ms;		/* largest backoff (default 30 s) */
	int64_t max_wait_ms;	/* largest Retry-After obeyed (default 5 min) */
	long connect_ms;	/* to connect (default 15 s) */
	long request_ms;	/* a whole API or listing request (default 60 s) */
	long speed_limit;	/* a download slower than this many bytes/s */
	long speed_time_s;	/* for this long is dead (default 1024, 30) */
	int64_t deadline_ms;	/* pk_now_ms() after which nothing more is
				   tried or waited for; 0: none */
	int allow_http;		/* credentials over plain http (opt-in) */
};
void pk_retry_defaults(struct pk_retry *r);
/*
 * The pause before attempt number `attempt` (2 for the first retry):
 * exponential backoff with full jitter (uniform in [0, min(cap, base *
 * 2^(attempt-2))], as AWS's SDKs do), but never less than what the server
 * asked for with Retry-After (retry_after_ms >= 0), capped by max_wait_ms.
 */
int64_t pk_retry_delay_ms(const struct pk_retry *r, int attempt,
    int64_t retry_after_ms, uint64_t rnd);

/* Whether a curl result is worth another attempt. */
int pk_curl_transient(CURLcode cc);

/* Glob match for --include/--exclude: fnmatch(3) without FNM_PATHNAME. */
int pk_glob(const char *pat, const char *s);

/* A growing byte buffer; NUL-terminated when p != NULL. */
struct pk_buf {
	char *p;
	size_t n, cap;
};
int pk_buf_add(struct pk_buf *b, const void *d, size_t n);
int pk_buf_printf(struct pk_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void pk_buf_free(struct pk_buf *b);

/* Monotonic milliseconds. */
int64_t pk_now_ms(void);
/* Random bits for retry jitter (not for secrets). */
uint64_t pk_random64(void);
/* Sleep ms milliseconds, through signals. */
void pk_sleep_ms(int64_t ms);

/* s, or NULL when it is NULL or empty (for environment variables). */
const char *pk_nonempty(const char *s);
/* Zero a secret string, then free it. */
void pk_free_secret(char *s);

/*
 * Render a string that came from a server (a key, an id, a status, an
 * error message) for a terminal or a log: bytes below 0x20, 0x7f, '\',
 * the C1 controls U+0080-U+009F and bytes that are not UTF-8 become \xNN;
 * cut with "..." to fit n (>= 4).  Returns out.  JSON output does not use
 * this: the JSON encoder escapes.
 */
const char *pk_render(const char *s, char *out, size_t n);
const char *pk_render_n(const char *s, size_t len, char *out, size_t n);

/*
 * What may go into a URL, checked before any connection: capture and
 * account ids are 32 lower-case hex digits (the API's pattern); a region
 * is 1-32 of [a-z0-9-]; a bucket name follows S3's rules (gcs = 0) or
 * GCS's (gcs = 1), else why says which rule.  1 valid, 0 not.
 */
int pk_valid_hex32(const char *s);
int pk_valid_region(const char *s);
int pk_valid_bucket(int gcs, const char *s, char *why, size_t n);
/*
 * Whether credentials may be sent to url: https, or http to a loopback
 * address (127/8, ::1, localhost), or anything when allow_http.  0 yes;
 * -1 no, with the reason in err.
 */
int pk_secret_transport(const char *url, int allow_http, char *err, size_t n);

/* ---- HTTP (http.c) ----------------------------------------------------- */

/* One request as built for one attempt (S3 signs each with its own date). */
struct pk_req {
	char *url;			/* malloc'ed */
	struct curl_slist *hdrs;	/* owned */
	const char *method;		/* NULL: GET */
	const char *body;		/* not owned */
	size_t bodylen;
	int secret;			/* carries credentials: TLS only */
};
void pk_req_free(struct pk_req *rq);
int pk_req_header(struct pk_req *rq, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Response headers pcap-fetch looks at. */
struct pk_resp_hdrs {
	char etag[80];
	char goog_hash[200];		/* x-goog-hash, joined with ',' */
	char retry_after[64];
	char content_range[96];
	char content_type[96];
	int64_t content_length;		/* -1 unknown */
	int64_t generation;		/* x-goog-generation; -1 unknown */
};
void pk_resp_hdrs_reset(struct pk_resp_hdrs *h);
/* CURLOPT_HEADERFUNCTION for a struct pk_resp_hdrs. */
size_t pk_resp_hdr_cb(char *b, size_t size, size_t n, void *arg);

struct pk_resp {
	long status;			/* 0: no HTTP response */
	struct pk_buf body;		/* at most 64 MiB */
	struct pk_resp_hdrs h;
	CURLcode cc;
	char curlerr[CURL_ERROR_SIZE];
};
void pk_resp_free(struct pk_resp *r);

/*
 * Settings every easy handle gets: the connect timeout, the low-speed
 * limit, the user agent, no redirects.  An API or listing request also
 * gets a total time limit (request_ms, and never past deadline_ms).
 * Returns -1 when the deadline has passed.
 */
int pk_curl_common(CURL *c, const struct pk_retry *rp, int download);

/*
 * Build-and-send with retries on connection errors, 5xx and 429 (with
 * Retry-After).  build is called for each attempt.  Returns 0 when an HTTP
 * response came (any status: the caller judges it; 4xx are not retried), or
 * -1 when attempts ran out or build failed, with the reason in err.
 * say, when not NULL, is told of each retry (for --verbose style notes).
 */
typedef int (*pk_build_fn)(void *ctx, struct pk_req *rq, char *err);
int pk_http_do(CURL *c, const struct pk_retry *rp, pk_build_fn build,
    void *ctx, struct pk_resp *rs, char *err,
    void (*say)(const char *msg));

/* ---- stores (store.c) -------------------------------------------------- */

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
 * What a resumed download must match: the ETag (sent as If-Range) or, for
 * GCS's JSON API, the generation (ifGenerationMatch).  Empty: no resume.
 */
struct pk_validator {
	char etag[80];
	int64_t generation;	/* -1 none */
};

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

/* ---- downloads (dl.c) -------------------------------------------------- */

typedef int (*pk_get_fn)(void *ctx, const struct pk_object *o, uint64_t from,
    const struct pk_validator *v, struct pk_req *rq, char *err);

struct pk_dl_opts {
	int jobs;		/* parallel transfers */
	struct pk_retry retry;
	/*
	 * The most bytes a body may have when the listing gives no size;
	 * a listed size larger than this is refused too.
	 */
	uint64_t max_size;
	int progress;
	pk_get_fn get;
	void *ctx;
	void (*say)(const char *);	/* one line per note, no newline */
};

enum pk_dl_state { PK_DL_FETCHED = 1, PK_DL_PRESENT, PK_DL_FAILED,
	PK_DL_SKIPPED };

struct pk_dl_result {
	enum pk_dl_state state;
	char *why;		/* failed or skipped: why (malloc'ed) */
	char md5[33];		/* of the file on disk, when computed */
	uint32_t crc32c;
	uint64_t size;
};

/*
 * Fetch objects into the directory open as dirfd.  res[i] gets the outcome
 * of objs[i] (free with pk_dl_results_free).  Memory is O(jobs) beyond
 * res.  A .part is kept after a failure only when it holds bytes and a
 * validator to resume them with (the hidden sidecar .NAME.part.validator);
 * otherwise nothing is left.  Returns the number of failures.
 */
size_t pk_dl_run(int dirfd, const struct pk_object *objs, size_t n,
    const struct pk_dl_opts *o, struct pk_dl_result *res);
void pk_dl_results_free(struct pk_dl_result *res, size_t n);

/* ---- the Cloudflare API (api.c) ---------------------------------------- */

struct pk_api {
	char *base;		/* .../client/v4, no slash at the end */
	char *account;
	char *token;		/* Bearer, or: */
	char *email, *key;
	CURL *c;
	struct pk_retry retry;
	void (*say)(const char *);
};

/*
 * The account id must be 32 hex digits; the API base must be https, or
 * http to a loopback address, unless allow_http.
 */
int pk_api_init(struct pk_api *a, const char *account, int allow_http,
    const char *(*env)(const char *), char *err);
void pk_api_close(struct pk_api *a);

/*
 * Call the API: method, path under /accounts/{id}/pcaps (e.g. "", "/ID",
 * "/ID/stop"), query without '?' or NULL, JSON body or NULL.  On success
 * *result is the envelope's result (a new reference; NULL for 204) and
 * *info its result_info, if any.  On failure -1 and err holds the API's
 * errors[] ("code: message; ...") and the HTTP status.
 */
struct json_t;
int pk_api_call(struct pk_api *a, const char *method, const char *path,
    const char *query, const char *body, struct json_t **result,
    struct json_t **info, char *err);
/*
 * Decode one reply of the API (exposed for tests and the fuzzer): status
 * and body as received; the same results and errors as pk_api_call.
 */
int pk_api_reply(long status, const char *body, size_t len,
    struct json_t **result, struct json_t **info, char *err);
/* Add the auth headers to a request (for the download). */
int pk_api_auth(const struct pk_api *a, struct pk_req *rq);

#endif
