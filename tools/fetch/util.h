/*
 * util.h - pcap-fetch's small things: buffers, retry timing, the rendering
 * of server strings, what may go into a URL.  Nothing here prints.
 * Errors go into an errbuf of PK_ERRLEN bytes; the caller says them.
 */
#ifndef PCAPKIT_FETCH_UTIL_H
#define PCAPKIT_FETCH_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <curl/curl.h>

#define PK_ERRLEN 512

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

#endif
