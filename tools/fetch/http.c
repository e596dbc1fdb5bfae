/* http.c - requests with retries over one curl easy handle; see http.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "http.h"

#define PK_BODY_MAX (64u << 20)

void
pk_req_free(struct pk_req *rq)
{
	free(rq->url);
	curl_slist_free_all(rq->hdrs);
	memset(rq, 0, sizeof(*rq));
}

int
pk_req_header(struct pk_req *rq, const char *fmt, ...)
{
	struct curl_slist *l;
	va_list ap;
	char *big;
	int n;

	/* Sized to fit: tokens and session tokens run to kilobytes. */
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || n > (1 << 20) || (big = malloc((size_t)n + 1)) == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	l = curl_slist_append(rq->hdrs, big);
	explicit_bzero(big, (size_t)n);
	free(big);
	if (l == NULL)
		return -1;
	rq->hdrs = l;
	return 0;
}

int
pk_req_resume(struct pk_req *rq, uint64_t from, const struct pk_validator *v,
    int range_in_rq)
{
	if (from == 0)
		return 0;
	if (!range_in_rq && pk_req_header(rq, "Range: bytes=%llu-",
	    (unsigned long long)from) < 0)
		return -1;
	if (v->etag[0] != '\0' && pk_req_header(rq, "If-Range: %s",
	    v->etag) < 0)
		return -1;
	return 0;
}

void
pk_resp_hdrs_reset(struct pk_resp_hdrs *h)
{
	memset(h, 0, sizeof(*h));
	h->content_length = -1;
	h->generation = -1;
}

/* Copy a header value, trimmed, into dst (cut to fit). */
static void
hval(char *dst, size_t n, const char *v, size_t len)
{
	while (len > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		len--;
	}
	while (len > 0 && (v[len - 1] == '\r' || v[len - 1] == '\n' ||
	    v[len - 1] == ' ' || v[len - 1] == '\t'))
		len--;
	if (len >= n)
		len = n - 1;
	memcpy(dst, v, len);
	dst[len] = '\0';
}

/* A header value that is a whole non-negative number, else -1. */
static int64_t
hnum(const char *v, size_t len)
{
	char tmp[32], *e;
	long long n;

	hval(tmp, sizeof(tmp), v, len);
	n = strtoll(tmp, &e, 10);
	return *e == '\0' && e != tmp && n >= 0 ? n : -1;
}

size_t
pk_resp_hdr_cb(char *b, size_t size, size_t n, void *arg)
{
	struct pk_resp_hdrs *h = arg;
	size_t len = size * n, nl;
	const char *colon = memchr(b, ':', len);

	/* A new status line (after a redirect or 100-continue): start over. */
	if (len >= 5 && memcmp(b, "HTTP/", 5) == 0) {
		pk_resp_hdrs_reset(h);
		return len;
	}
	if (colon == NULL)
		return len;
	nl = (size_t)(colon - b);
	colon++;
#define IS(name) (nl == sizeof(name) - 1 && strncasecmp(b, name, nl) == 0)
	if (IS("etag"))
		hval(h->etag, sizeof(h->etag), colon, len - nl - 1);
	else if (IS("retry-after"))
		hval(h->retry_after, sizeof(h->retry_after), colon,
		    len - nl - 1);
	else if (IS("content-range"))
		hval(h->content_range, sizeof(h->content_range), colon,
		    len - nl - 1);
	else if (IS("content-type"))
		hval(h->content_type, sizeof(h->content_type), colon,
		    len - nl - 1);
	else if (IS("content-length"))
		h->content_length = hnum(colon, len - nl - 1);
	else if (IS("x-goog-generation"))
		h->generation = hnum(colon, len - nl - 1);
	else if (IS("x-goog-hash")) {
		/* It comes once per algorithm: crc32c=..., md5=... */
		size_t have = strlen(h->goog_hash);
		if (have > 0 && have + 1 < sizeof(h->goog_hash))
			h->goog_hash[have++] = ',';
		hval(h->goog_hash + have, sizeof(h->goog_hash) - have, colon,
		    len - nl - 1);
	}
#undef IS
	return len;
}

void
pk_resp_free(struct pk_resp *r)
{
	pk_buf_free(&r->body);
	memset(r, 0, sizeof(*r));
}

int
pk_curl_common(CURL *c, const struct pk_retry *rp, int download)
{
	long total = download ? 0 : rp->request_ms, connect = rp->connect_ms;

	if (rp->deadline_ms > 0) {
		int64_t left = rp->deadline_ms - pk_now_ms();

		if (left <= 0)
			return -1;
		if (total == 0 || left < total)
			total = (long)left;
		if (connect == 0 || left < connect)
			connect = (long)left;
	}
	curl_easy_setopt(c, CURLOPT_USERAGENT, "pcapkit-fetch/1");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, connect);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, total);
	/* A transfer slower than this is dead (a drip): retry it. */
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, rp->speed_limit);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, rp->speed_time_s);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	/* Redirects are not followed: a signed request would leak. */
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	return 0;
}

static size_t
body_cb(char *b, size_t size, size_t n, void *arg)
{
	struct pk_buf *buf = arg;

	if (buf->n + size * n > PK_BODY_MAX)
		return 0;
	if (pk_buf_add(buf, b, size * n) < 0)
		return 0;
	return size * n;
}

int
pk_http_do(CURL *c, const struct pk_retry *rp, pk_build_fn build, void *ctx,
    struct pk_resp *rs, char *err, void (*say)(const char *msg))
{
	struct pk_req rq;
	int attempt;
	int64_t ra, d;
	char why[PK_ERRLEN - 64];

	for (attempt = 1; ; attempt++) {
		memset(&rq, 0, sizeof(rq));
		pk_buf_free(&rs->body);
		pk_resp_hdrs_reset(&rs->h);
		rs->status = 0;
		rs->curlerr[0] = '\0';
		if (build(ctx, &rq, err) < 0) {
			pk_req_free(&rq);
			return -1;
		}
		/* The last guard: whoever built it, no secret in clear text. */
		if (rq.secret && pk_secret_transport(rq.url, rp->allow_http,
		    err, PK_ERRLEN) < 0) {
			pk_req_free(&rq);
			return -1;
		}
		curl_easy_reset(c);
		if (pk_curl_common(c, rp, 0) < 0) {
			pk_req_free(&rq);
			snprintf(err, PK_ERRLEN, "time limit reached");
			return -1;
		}
		curl_easy_setopt(c, CURLOPT_URL, rq.url);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, rq.hdrs);
		curl_easy_setopt(c, CURLOPT_ERRORBUFFER, rs->curlerr);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, body_cb);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &rs->body);
		curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, pk_resp_hdr_cb);
		curl_easy_setopt(c, CURLOPT_HEADERDATA, &rs->h);
		if (rq.method != NULL && strcmp(rq.method, "GET") != 0)
			curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, rq.method);
		if (rq.body != NULL) {
			curl_easy_setopt(c, CURLOPT_POSTFIELDS, rq.body);
			curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
			    (curl_off_t)rq.bodylen);
		}
		rs->cc = curl_easy_perform(c);
		if (rs->cc == CURLE_OK)
			curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &rs->status);
		pk_req_free(&rq);

		ra = -1;
		if (rs->cc != CURLE_OK) {
			snprintf(why, sizeof(why), "%s",
			    rs->curlerr[0] ? rs->curlerr :
			    curl_easy_strerror(rs->cc));
			if (!pk_curl_transient(rs->cc)) {
				snprintf(err, PK_ERRLEN, "%s", why);
				return -1;
			}
		} else if (rs->status == 429 || rs->status >= 500) {
			snprintf(why, sizeof(why), "HTTP %ld", rs->status);
			ra = pk_retry_after_ms(rs->h.retry_after, time(NULL));
		} else {
			return 0;
		}
		if (attempt >= rp->attempts) {
			if (rs->cc == CURLE_OK)
				return 0;	/* the caller shows the status */
			snprintf(err, PK_ERRLEN, "%s (after %d attempts)", why,
			    attempt);
			return -1;
		}
		d = pk_retry_delay_ms(rp, attempt + 1, ra, pk_random64());
		if (rp->deadline_ms > 0 && pk_now_ms() + d >= rp->deadline_ms) {
			snprintf(err, PK_ERRLEN, "%s; time limit reached", why);
			return -1;
		}
		if (say != NULL) {
			char msg[PK_ERRLEN + 64];
			snprintf(msg, sizeof(msg), "%s; retrying in %.1f s",
			    why, (double)d / 1000);
			say(msg);
		}
		pk_sleep_ms(d);
	}
}
