/* util.c - safe paths, retry timing, buffers, rendering, validation; see util.h. */
#include <ctype.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "util.h"

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
	r->connect_ms = 15000;
	r->request_ms = 60000;
	r->speed_limit = 1024;
	r->speed_time_s = 30;
	r->deadline_ms = 0;
	r->allow_http = 0;
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

const char *
pk_render_n(const char *s, size_t len, char *out, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, o = 0, k, cl;
	char tmp[8];

	if (n < 4) {
		if (n > 0)
			out[0] = '\0';
		return out;
	}
	while (i < len) {
		unsigned c = p[i];

		/* The length of a valid UTF-8 sequence at p + i, or 0. */
		cl = 0;
		if (c >= 0x20 && c < 0x7f && c != '\\')
			cl = 1;
		else if (c >= 0xc2 && c <= 0xdf && i + 1 < len &&
		    (p[i + 1] & 0xc0) == 0x80)
			/* U+0080-U+009F are the C1 controls (CSI is 0x9b). */
			cl = c == 0xc2 && p[i + 1] < 0xa0 ? 0 : 2;
		else if (c >= 0xe0 && c <= 0xef && i + 2 < len &&
		    (p[i + 1] & 0xc0) == 0x80 && (p[i + 2] & 0xc0) == 0x80 &&
		    !(c == 0xe0 && p[i + 1] < 0xa0) &&
		    !(c == 0xed && p[i + 1] >= 0xa0))
			cl = 3;
		else if (c >= 0xf0 && c <= 0xf4 && i + 3 < len &&
		    (p[i + 1] & 0xc0) == 0x80 && (p[i + 2] & 0xc0) == 0x80 &&
		    (p[i + 3] & 0xc0) == 0x80 &&
		    !(c == 0xf0 && p[i + 1] < 0x90) &&
		    !(c == 0xf4 && p[i + 1] >= 0x90))
			cl = 4;
		if (cl > 0) {
			memcpy(tmp, p + i, cl);
			k = cl;
		} else {
			snprintf(tmp, sizeof(tmp), "\\x%02x", c);
			k = 4;
			cl = 1;
		}
		/* Invariant: o <= n - 4, so "..." and the NUL always fit. */
		if (o + k > n - 4) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		memcpy(out + o, tmp, k);
		o += k;
		i += cl;
	}
	out[o] = '\0';
	return out;
}

const char *
pk_render(const char *s, char *out, size_t n)
{
	if (s == NULL)
		s = "";
	return pk_render_n(s, strlen(s), out, n);
}

int
pk_valid_hex32(const char *s)
{
	size_t i;

	for (i = 0; i < 32; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[32] == '\0';
}

int
pk_valid_region(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (i >= 32 || !((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
	return i > 0;
}

int
pk_valid_bucket(int gcs, const char *s, char *why, size_t n)
{
	size_t len = strlen(s), i, comp = 0;
	unsigned a, b, c, d;
	char end;

	/*
	 * S3 (and R2): 3-63 of [a-z0-9.-], a letter or digit at each end, no
	 * "..", not an IPv4 address.  GCS: also '_', and up to 222 with dots
	 * as long as no dot-separated part is over 63.
	 */
	if (len < 3 || len > (gcs ? 222u : 63u)) {
		snprintf(why, n, "must be 3 to %d characters", gcs ? 222 : 63);
		return 0;
	}
	for (i = 0; i < len; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		    ch == '-' || ch == '.' || (gcs && ch == '_'))) {
			snprintf(why, n, "only lower-case letters, digits, "
			    "'-'%s and '.' are allowed", gcs ? ", '_'" : "");
			return 0;
		}
		comp = ch == '.' ? 0 : comp + 1;
		if (comp > 63) {
			snprintf(why, n, "a part between dots is over 63 "
			    "characters");
			return 0;
		}
		if (ch == '.' && i > 0 && s[i - 1] == '.') {
			snprintf(why, n, "'..' is not allowed");
			return 0;
		}
	}
	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')) ||
	    !((s[len - 1] >= 'a' && s[len - 1] <= 'z') ||
	    (s[len - 1] >= '0' && s[len - 1] <= '9'))) {
		snprintf(why, n, "must begin and end with a letter or digit");
		return 0;
	}
	if (sscanf(s, "%u.%u.%u.%u%c", &a, &b, &c, &d, &end) == 4) {
		snprintf(why, n, "must not be an IP address");
		return 0;
	}
	return 1;
}

int
pk_secret_transport(const char *url, int allow_http, char *err, size_t n)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL;
	int ok = 0;

	if (u == NULL) {
		snprintf(err, n, "out of memory");
		return -1;
	}
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		snprintf(err, n, "not a URL");
		goto out;
	}
	if (strcmp(scheme, "https") == 0 ||
	    (strcmp(scheme, "http") == 0 && allow_http))
		ok = 1;
	else if (strcmp(scheme, "http") == 0) {
		unsigned a, b, c, d;
		char end;

		/* Loopback: the machine itself; nothing crosses a network. */
		if (strcmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0 ||
		    (sscanf(host, "%u.%u.%u.%u%c", &a, &b, &c, &d, &end) == 4 &&
		    a == 127 && b < 256 && c < 256 && d < 256))
			ok = 1;
		else
			snprintf(err, n, "credentials are sent only over https "
			    "(or plain http to a loopback address); refusing "
			    "http://%.200s (--allow-plain-http to permit it)",
			    host);
	} else
		snprintf(err, n, "scheme '%.20s' is not http or https", scheme);
out:
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return ok ? 0 : -1;
}
