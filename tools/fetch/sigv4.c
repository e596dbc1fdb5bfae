/*
 * sigv4.c - AWS Signature Version 4 (header form).
 *
 * The canonical request is
 *   METHOD \n PATH \n SORTED-QUERY \n HEADERS(name:value\n...) \n
 *   SIGNED-NAMES \n PAYLOAD-HASH
 * and the signature HMAC(key, "AWS4-HMAC-SHA256\n" date "\n" scope "\n"
 * hex(sha256(canonical request))), the key chained as
 * HMAC(HMAC(HMAC(HMAC("AWS4" secret, yyyymmdd), region), service),
 * "aws4_request").  S3 signs the path as sent, encoded once.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sigv4.h"

/* A growing string; on failure it goes NULL and stays so. */
struct sb {
	char *s;
	size_t len, cap;
	int failed;
};

static void
sb_add(struct sb *b, const char *s, size_t n)
{
	char *ns;

	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		if ((ns = realloc(b->s, cap)) == NULL) {
			free(b->s);
			b->s = NULL;
			b->failed = 1;
			return;
		}
		b->s = ns;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void
sb_str(struct sb *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

static char *
sb_done(struct sb *b)
{
	if (b->failed)
		return NULL;
	if (b->s == NULL)
		sb_add(b, "", 0);
	return b->s;
}

static void
hex(const unsigned char *d, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[d[i] >> 4];
		out[2 * i + 1] = digits[d[i] & 15];
	}
	out[2 * n] = '\0';
}

void
pk_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
	hex(md, mdlen, out);
}

static void
hmac(const void *key, size_t klen, const char *msg, unsigned char out[32])
{
	unsigned int olen = 32;

	HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg,
	    strlen(msg), out, &olen);
}

int
pk_sigv4_uri_encode(const char *s, int keep_slash, char *out, size_t n)
{
	static const char digits[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (isalnum(c) || c == '-' || c == '.' || c == '_' ||
		    c == '~' || (c == '/' && keep_slash)) {
			if (o + 1 >= n)
				return -1;
			out[o++] = (char)c;
		} else {
			if (o + 3 >= n)
				return -1;
			out[o++] = '%';
			out[o++] = digits[c >> 4];
			out[o++] = digits[c & 15];
		}
	}
	if (o >= n)
		return -1;
	out[o] = '\0';
	return (int)o;
}

struct param {
	const char *name, *value;	/* into one copy of the query */
};

static int
cmp_param(const void *a, const void *b)
{
	const struct param *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c != 0 ? c : strcmp(x->value, y->value);
}

/* Query parameters sorted by name, then value ("a" counts as "a="). */
static void
canonical_query(struct sb *b, const char *q)
{
	struct param *v;
	char *copy, *p, *next, *eq;
	size_t n = 0, i;

	if (q == NULL || *q == '\0')
		return;
	if ((copy = strdup(q)) == NULL ||
	    (v = calloc(strlen(q) / 2 + 2, sizeof(*v))) == NULL) {
		free(copy);
		b->failed = 1;
		return;
	}
	for (p = copy; p != NULL; p = next) {
		if ((next = strchr(p, '&')) != NULL)
			*next++ = '\0';
		if (*p == '\0')
			continue;
		if ((eq = strchr(p, '=')) != NULL)
			*eq++ = '\0';
		v[n].name = p;
		v[n].value = eq != NULL ? eq : "";
		n++;
	}
	qsort(v, n, sizeof(*v), cmp_param);
	for (i = 0; i < n; i++) {
		if (i > 0)
			sb_str(b, "&");
		sb_str(b, v[i].name);
		sb_str(b, "=");
		sb_str(b, v[i].value);
	}
	free(v);
	free(copy);
}

struct hdr {
	char *name;		/* lower-cased */
	char *value;		/* trimmed, spaces folded */
};

static int
cmp_hdr(const void *a, const void *b)
{
	return strcmp(((const struct hdr *)a)->name,
	    ((const struct hdr *)b)->name);
}

static char *
fold_value(const char *s)
{
	char *o = malloc(strlen(s) + 1), *d = o;
	int space = 0;

	if (o == NULL)
		return NULL;
	while (*s == ' ' || *s == '\t')
		s++;
	for (; *s != '\0'; s++) {
		if (*s == ' ' || *s == '\t') {
			space = 1;
			continue;
		}
		if (space && d != o)
			*d++ = ' ';
		space = 0;
		*d++ = *s;
	}
	*d = '\0';
	return o;
}

/* Canonical headers and signed names; NULL members on failure. */
static int
canonical_headers(const struct pk_sigv4_req *r, struct sb *h, struct sb *names,
    const char **date)
{
	struct hdr *v = calloc(r->nheaders ? r->nheaders : 1, sizeof(*v));
	size_t i, j;
	int rc = -1, have_host = 0;

	*date = NULL;
	if (v == NULL)
		return -1;
	for (i = 0; i < r->nheaders; i++) {
		if ((v[i].name = strdup(r->headers[i].name)) == NULL ||
		    (v[i].value = fold_value(r->headers[i].value)) == NULL)
			goto out;
		for (j = 0; v[i].name[j] != '\0'; j++)
			v[i].name[j] = (char)tolower((unsigned char)
			    v[i].name[j]);
		if (strcmp(v[i].name, "host") == 0)
			have_host = 1;
		if (strcmp(v[i].name, "x-amz-date") == 0)
			*date = r->headers[i].value;
	}
	if (!have_host || *date == NULL)
		goto out;
	qsort(v, r->nheaders, sizeof(*v), cmp_hdr);
	for (i = 0; i < r->nheaders; i++) {
		/* A repeated name signs once, its values joined by commas. */
		if (i > 0 && strcmp(v[i].name, v[i - 1].name) == 0) {
			h->len--;	/* drop the '\n' */
			sb_str(h, ",");
		} else {
			if (i > 0)
				sb_str(names, ";");
			sb_str(names, v[i].name);
			sb_str(h, v[i].name);
			sb_str(h, ":");
		}
		sb_str(h, v[i].value);
		sb_str(h, "\n");
	}
	rc = h->failed || names->failed ? -1 : 0;
out:
	for (i = 0; i < r->nheaders; i++) {
		free(v[i].name);
		free(v[i].value);
	}
	free(v);
	return rc;
}

static int
valid_date(const char *d)
{
	int i;

	/* yyyymmddThhmmssZ */
	if (d == NULL || strlen(d) != 16 || d[8] != 'T' || d[15] != 'Z')
		return 0;
	for (i = 0; i < 15; i++)
		if (i != 8 && !isdigit((unsigned char)d[i]))
			return 0;
	return 1;
}

static char *
build(const struct pk_sigv4_req *r, char **names_out, const char **date)
{
	struct sb b = { 0 }, h = { 0 }, names = { 0 };

	if (canonical_headers(r, &h, &names, date) < 0 || !valid_date(*date)) {
		free(h.s);
		free(names.s);
		return NULL;
	}
	sb_str(&b, r->method);
	sb_str(&b, "\n");
	sb_str(&b, r->path != NULL && *r->path != '\0' ? r->path : "/");
	sb_str(&b, "\n");
	canonical_query(&b, r->query);
	sb_str(&b, "\n");
	sb_str(&b, sb_done(&h) ? h.s : "");
	sb_str(&b, "\n");
	sb_str(&b, sb_done(&names) ? names.s : "");
	sb_str(&b, "\n");
	sb_str(&b, r->payload_sha256 ? r->payload_sha256 :
	    PK_SIGV4_EMPTY_SHA256);
	free(h.s);
	if (names_out != NULL && !names.failed)
		*names_out = names.s;
	else
		free(names.s);
	return sb_done(&b);
}

char *
pk_sigv4_canonical_request(const struct pk_sigv4_req *r)
{
	const char *date;

	return build(r, NULL, &date);
}

static char *
string_to_sign(const struct pk_sigv4_req *r, char **names, const char **date)
{
	struct sb b = { 0 };
	char *creq = build(r, names, date), digest[65];

	if (creq == NULL)
		return NULL;
	pk_sha256_hex(creq, strlen(creq), digest);
	free(creq);
	sb_str(&b, "AWS4-HMAC-SHA256\n");
	sb_str(&b, *date);
	sb_str(&b, "\n");
	sb_add(&b, *date, 8);
	sb_str(&b, "/");
	sb_str(&b, r->region);
	sb_str(&b, "/");
	sb_str(&b, r->service);
	sb_str(&b, "/aws4_request\n");
	sb_str(&b, digest);
	return sb_done(&b);
}

char *
pk_sigv4_string_to_sign(const struct pk_sigv4_req *r)
{
	const char *date;

	return string_to_sign(r, NULL, &date);
}

int
pk_sigv4_sign(const struct pk_sigv4_req *r, char *out, size_t n)
{
	unsigned char k1[32], k2[32], k3[32], k4[32], sig[32];
	char *names = NULL, *sts, *key, day[9], sighex[65];
	const char *date;
	size_t klen;
	int len;

	if ((sts = string_to_sign(r, &names, &date)) == NULL) {
		free(names);
		return -1;
	}
	klen = strlen(r->secret_key) + 4;
	if ((key = malloc(klen + 1)) == NULL) {
		free(sts);
		free(names);
		return -1;
	}
	snprintf(key, klen + 1, "AWS4%s", r->secret_key);
	memcpy(day, date, 8);
	day[8] = '\0';
	hmac(key, klen, day, k1);
	hmac(k1, 32, r->region, k2);
	hmac(k2, 32, r->service, k3);
	hmac(k3, 32, "aws4_request", k4);
	hmac(k4, 32, sts, sig);
	hex(sig, 32, sighex);
	/* The secret and keys derived from it do not outlive the call. */
	OPENSSL_cleanse(key, klen);
	OPENSSL_cleanse(k1, sizeof(k1));
	OPENSSL_cleanse(k4, sizeof(k4));
	free(key);
	len = snprintf(out, n, "AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/"
	    "aws4_request, SignedHeaders=%s, Signature=%s", r->access_key,
	    day, r->region, r->service, names, sighex);
	free(sts);
	free(names);
	return len < 0 || (size_t)len >= n ? -1 : 0;
}
