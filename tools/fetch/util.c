/* util.c - checksums, safe paths, retry timing, buffers; see fetch.h. */
#include <ctype.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "fetch.h"

int
pk_safe_relpath(const char *rel, char *err, size_t errlen)
{
	const char *p, *c;
	size_t clen;

	if (*rel == '\0') {
		snprintf(err, errlen, "empty name");
		return -1;
	}
	if (*rel == '/') {
		snprintf(err, errlen, "absolute path");
		return -1;
	}
	for (p = rel; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			snprintf(err, errlen,
			    "control character 0x%02x in the name",
			    (unsigned char)*p);
			return -1;
		}
	}
	for (c = rel; ; c = p + 1) {
		p = strchr(c, '/');
		clen = p != NULL ? (size_t)(p - c) : strlen(c);
		if (clen == 0) {
			snprintf(err, errlen, "empty path component");
			return -1;
		}
		if ((clen == 1 && c[0] == '.') ||
		    (clen == 2 && c[0] == '.' && c[1] == '.')) {
			snprintf(err, errlen, "'%.*s' path component",
			    (int)clen, c);
			return -1;
		}
		if (clen > 255) {
			snprintf(err, errlen, "path component over 255 bytes");
			return -1;
		}
		if (p == NULL)
			break;
	}
	return 0;
}

int64_t
pk_retry_after_ms(const char *v, int64_t now_s)
{
	struct tm tm;
	const char *e;
	char *end;
	long long s;
	time_t t;

	while (*v == ' ' || *v == '\t')
		v++;
	if (*v == '\0')
		return -1;
	if (isdigit((unsigned char)*v)) {
		s = strtoll(v, &end, 10);
		while (*end == ' ' || *end == '\t' || *end == '\r' ||
		    *end == '\n')
			end++;
		if (*end != '\0' || s < 0 || s > 86400LL * 366)
			return -1;
		return (int64_t)s * 1000;
	}
	/* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
	memset(&tm, 0, sizeof(tm));
	e = strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (e == NULL)
		return -1;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	return t <= now_s ? 0 : ((int64_t)t - now_s) * 1000;
}

void
pk_retry_defaults(struct pk_retry *r)
{
	r->attempts = 6;
	r->base_ms = 500;
	r->cap_ms = 30000;
	r->max_wait_ms = 300000;
}

int64_t
pk_retry_delay_ms(const struct pk_retry *r, int attempt, int64_t retry_after_ms,
    uint64_t rnd)
{
	int64_t ceil = r->base_ms, d;
	int i;

	for (i = 2; i < attempt && ceil < r->cap_ms; i++)
		ceil *= 2;
	if (ceil > r->cap_ms)
		ceil = r->cap_ms;
	d = ceil > 0 ? (int64_t)(rnd % (uint64_t)(ceil + 1)) : 0;
	if (retry_after_ms >= 0) {
		if (retry_after_ms > r->max_wait_ms)
			retry_after_ms = r->max_wait_ms;
		if (d < retry_after_ms)
			d = retry_after_ms;
	}
	return d;
}

int
pk_curl_transient(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_SSL_CONNECT_ERROR:
		return 1;
	default:
		return 0;
	}
}

int
pk_glob(const char *pat, const char *s)
{
	return fnmatch(pat, s, 0) == 0;
}

int
pk_buf_add(struct pk_buf *b, const void *d, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		size_t nc = b->cap ? b->cap : 256;
		char *np;

		while (nc < b->n + n + 1)
			nc *= 2;
		if ((np = realloc(b->p, nc)) == NULL)
			return -1;
		b->p = np;
		b->cap = nc;
	}
	memcpy(b->p + b->n, d, n);
	b->n += n;
	b->p[b->n] = '\0';
	return 0;
}

int
pk_buf_printf(struct pk_buf *b, const char *fmt, ...)
{
	va_list ap;
	char tmp[512], *big;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n < sizeof(tmp))
		return pk_buf_add(b, tmp, (size_t)n);
	if ((big = malloc((size_t)n + 1)) == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	n = pk_buf_add(b, big, (size_t)n);
	free(big);
	return n;
}

void
pk_buf_free(struct pk_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

int64_t
pk_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *
pk_nonempty(const char *s)
{
	return s != NULL && *s != '\0' ? s : NULL;
}

void
pk_free_secret(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

uint64_t
pk_random64(void)
{
	uint64_t r = 0;

	if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
		r = (uint64_t)pk_now_ms() * 2654435761u;
	return r;
}

void
pk_sleep_ms(int64_t ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) != 0)
		;
}
