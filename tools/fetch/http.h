/*
 * http.h - requests with retries and time bounds over one curl handle.
 * Errors go into an errbuf of PK_ERRLEN bytes; the caller says them.
 */
#ifndef PCAPKIT_FETCH_HTTP_H
#define PCAPKIT_FETCH_HTTP_H

#include <curl/curl.h>

#include "util.h"

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

/*
 * What a resumed download must match: the ETag (sent as If-Range) or, for
 * GCS's JSON API, the generation (ifGenerationMatch).  Empty: no resume.
 */
struct pk_validator {
	char etag[80];
	int64_t generation;	/* -1 none */
};

/*
 * The headers of a resumed GET, when from > 0: Range from that byte
 * (unless range_in_rq: S3 signs it, so s3.c adds it itself), and If-Range
 * with v's ETag, so that a changed object comes whole (200), never spliced.
 * 0, or -1 out of memory.
 */
int pk_req_resume(struct pk_req *rq, uint64_t from,
    const struct pk_validator *v, int range_in_rq);

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

#endif
