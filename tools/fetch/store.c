/*
 * store.c - buckets, whatever their protocol: the URL, the listing loop
 * and its bounds, the object list, the GET of one object.  s3.c and gcs.c
 * speak the protocols.  See store.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "sigv4.h"
#include "store_int.h"

char *
pk_xstrdup(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

char *
pk_xstrndup(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (p != NULL) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

char *
pk_uri_enc(const char *s, int keep_slash)
{
	size_t n = strlen(s) * 3 + 1;
	char *out = malloc(n);

	if (out != NULL && pk_sigv4_uri_encode(s, keep_slash, out, n) < 0) {
		free(out);
		out = NULL;
	}
	return out;
}

char *
pk_query_param(const char *q, const char *name, int *bad)
{
	size_t nl = strlen(name);
	const char *p = q, *e;
	char *v = NULL;

	while (p != NULL && *p) {
		e = strchr(p, '&');
		if (strncmp(p, name, nl) == 0 && p[nl] == '=' && v == NULL)
			v = pk_xstrndup(p + nl + 1, e ? (size_t)(e - p - nl - 1) :
			    strlen(p + nl + 1));
		else
			*bad = 1;
		p = e ? e + 1 : NULL;
	}
	return v;
}

char *
pk_endpoint_norm(const char *e)
{
	char *r;
	size_t n;

	if (strstr(e, "://") == NULL) {
		if ((r = malloc(strlen(e) + 8)) == NULL)
			return NULL;
		sprintf(r, "http://%s", e);
	} else if ((r = strdup(e)) == NULL)
		return NULL;
	n = strlen(r);
	while (n > 0 && r[n - 1] == '/')
		r[--n] = '\0';
	return r;
}

/*
 * scheme://bucket[/prefix][?query]: the kind, the bucket (checked against
 * its naming rules), the prefix (a directory: it ends in '/'); *query gets
 * what follows '?' (malloc'ed) or NULL.
 */
static int
parse_url(struct pk_store *st, const char *url, char **query, char *err)
{
	const char *p, *q, *slash;
	char why[160];
	size_t n;

	*query = NULL;
	snprintf(st->url, sizeof(st->url), "%s", url);
	if (strncmp(url, "s3://", 5) == 0)
		st->kind = PK_S3;
	else if (strncmp(url, "r2://", 5) == 0)
		st->kind = PK_R2;
	else if (strncmp(url, "gs://", 5) == 0)
		st->kind = PK_GCS;
	else {
		snprintf(err, PK_ERRLEN, "%s: not an s3://, r2:// or gs:// URL",
		    url);
		return -1;
	}
	p = url + 5;
	q = strchr(p, '?');
	n = q != NULL ? (size_t)(q - p) : strlen(p);
	slash = memchr(p, '/', n);
	st->bucket = pk_xstrndup(p, slash != NULL ? (size_t)(slash - p) : n);
	if (slash != NULL) {
		const char *d = slash + 1;
		size_t dl = n - (size_t)(d - p);

		while (dl > 0 && d[dl - 1] == '/')
			dl--;
		if ((st->prefix = malloc(dl + 2)) != NULL) {
			memcpy(st->prefix, d, dl);
			/* A prefix names a directory, as in aws s3 cp. */
			if (dl > 0)
				st->prefix[dl++] = '/';
			st->prefix[dl] = '\0';
		}
	} else
		st->prefix = pk_xstrdup("");
	if (q != NULL && (*query = pk_xstrdup(q + 1)) == NULL) {
		snprintf(err, PK_ERRLEN, "out of memory");
		return -1;
	}
	if (st->bucket == NULL || st->prefix == NULL) {
		snprintf(err, PK_ERRLEN, "out of memory");
		return -1;
	}
	if (!pk_valid_bucket(st->kind == PK_GCS, st->bucket, why,
	    sizeof(why))) {
		snprintf(err, PK_ERRLEN, "%s: bad bucket name: %s", url, why);
		return -1;
	}
	if (*query != NULL && st->kind == PK_GCS && **query != '\0') {
		snprintf(err, PK_ERRLEN, "%s: gs:// takes no ?parameters", url);
		return -1;
	}
	return 0;
}

int
pk_store_open(struct pk_store *st, const char *url, int allow_http,
    const char *(*env)(const char *), char *err)
{
	char *query = NULL, why[160];
	int rc;

	memset(st, 0, sizeof(*st));
	if (parse_url(st, url, &query, err) < 0)
		goto fail;
	if (st->kind == PK_GCS && pk_gcs_wants_json(env))
		rc = pk_gcs_open(st, env, err);
	else
		rc = pk_s3_open(st, query, env, url, err);
	free(query);
	query = NULL;
	if (rc < 0)
		goto fail;
	/* Credentials go over TLS, or to loopback, or by the user's leave. */
	if ((st->access_key != NULL || st->oauth_token != NULL) &&
	    pk_secret_transport(st->endpoint, allow_http, why,
	    sizeof(why)) < 0) {
		snprintf(err, PK_ERRLEN, "%s: %s", url, why);
		goto fail;
	}
	return 0;
fail:
	free(query);
	pk_store_close(st);
	return -1;
}

void
pk_store_close(struct pk_store *st)
{
	free(st->bucket);
	free(st->prefix);
	free(st->region);
	free(st->endpoint);
	pk_free_secret(st->access_key);
	pk_free_secret(st->secret_key);
	pk_free_secret(st->session_token);
	pk_free_secret(st->oauth_token);
	memset(st, 0, sizeof(*st));
}

void
pk_objlist_free(struct pk_objlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].key);
		free(l->v[i].why);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

struct pk_object *
pk_objlist_new(struct pk_objlist *l)
{
	if (l->max > 0 && l->n >= l->max)
		return NULL;
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 64;
		struct pk_object *nv = realloc(l->v, nc * sizeof(*nv));
		if (nv == NULL)
			return NULL;
		l->v = nv;
		l->cap = nc;
	}
	memset(&l->v[l->n], 0, sizeof(l->v[0]));
	l->v[l->n].generation = -1;
	return &l->v[l->n++];
}

struct listctx {
	const struct pk_store *st;
	const char *token;
};

static int
build_list(void *arg, struct pk_req *rq, char *err)
{
	struct listctx *lc = arg;

	return lc->st->gcs_json ? pk_gcs_list_req(lc->st, lc->token, rq, err) :
	    pk_s3_list_req(lc->st, lc->token, rq, err);
}

void
pk_error_reason(const char *body, size_t len, char *out, size_t n)
{
	size_t i;

	out[0] = '\0';
	if (body == NULL || len == 0)
		return;
	if (body[0] == '<') {
		struct pk_objlist tmp = { 0 };
		char *code = NULL, *msg = NULL, *next = NULL, e[PK_ERRLEN];
		int tr;

		if (pk_s3_parse(body, len, &tmp, &tr, &next, &code, &msg, e) == 0 &&
		    (code != NULL || msg != NULL))
			snprintf(out, n, ": %s%s%s", code ? code : "",
			    code && msg ? ": " : "", msg ? msg : "");
		free(code);
		free(msg);
		free(next);
		pk_objlist_free(&tmp);
	} else if (body[0] == '{') {
		json_t *j = json_loadb(body, len, 0, NULL);
		const char *m = json_string_value(json_object_get(
		    json_array_get(json_object_get(j, "errors"), 0), "message"));

		if (m == NULL)
			m = json_string_value(json_object_get(
			    json_object_get(j, "error"), "message"));
		if (m != NULL)
			snprintf(out, n, ": %s", m);
		json_decref(j);
	}
	if (out[0] == '\0')
		snprintf(out, n, ": %.*s", (int)(len < 120 ? len : 120), body);
	/* Never print control characters from a server. */
	for (i = 0; out[i]; i++)
		if ((unsigned char)out[i] < 0x20)
			out[i] = ' ';
}

/*
 * The continuation tokens a listing has given, as SHA-256 digests (16
 * bytes kept) in an open-addressing set: a token seen before means the
 * listing goes round in a cycle.
 */
struct tokset {
	unsigned char (*v)[16];
	size_t n, cap;
};

/* 1 added, 0 seen before, -1 out of memory */
static int
tokset_add(struct tokset *t, const char *tok)
{
	unsigned char d[32];
	unsigned dl = 0;
	size_t i, h;
	static const unsigned char zero[16];

	if (t->n * 2 >= t->cap) {
		struct tokset nt = { NULL, 0, t->cap ? t->cap * 2 : 64 };

		if ((nt.v = calloc(nt.cap, 16)) == NULL)
			return -1;
		for (i = 0; i < t->cap; i++) {
			if (memcmp(t->v[i], zero, 16) == 0)
				continue;
			memcpy(&h, t->v[i], sizeof(h));
			for (h %= nt.cap; memcmp(nt.v[h], zero, 16) != 0;
			    h = (h + 1) % nt.cap)
				;
			memcpy(nt.v[h], t->v[i], 16);
		}
		nt.n = t->n;
		free(t->v);
		*t = nt;
	}
	if (EVP_Digest(tok, strlen(tok), d, &dl, EVP_sha256(), NULL) != 1)
		return -1;
	if (memcmp(d, zero, 16) == 0)
		d[0] = 1;	/* all-zero marks an empty slot */
	memcpy(&h, d, sizeof(h));
	for (h %= t->cap; memcmp(t->v[h], zero, 16) != 0; h = (h + 1) % t->cap)
		if (memcmp(t->v[h], d, 16) == 0)
			return 0;
	memcpy(t->v[h], d, 16);
	t->n++;
	return 1;
}

void
pk_store_source(const struct pk_store *st, const char *key, char *out,
    size_t n)
{
	snprintf(out, n, "%s://%s/%s", st->kind == PK_S3 ? "s3" :
	    st->kind == PK_R2 ? "r2" : "gs", st->bucket, key);
}

#define PK_TOKEN_MAX 4096

int
pk_store_list(struct pk_store *st, CURL *c, const struct pk_retry *rp,
    struct pk_objlist *out, char *err, void (*say)(const char *))
{
	struct listctx lc = { st, NULL };
	struct tokset seen = { 0 };
	struct pk_resp rs;
	char *next = NULL, why[300], shown[300];
	int truncated = 0;
	uint64_t pages = 0;
	size_t i, n0, pl = strlen(st->prefix);

	memset(&rs, 0, sizeof(rs));
	snprintf(shown, sizeof(shown), "%.200s", st->url);
	out->max = st->max_objects > 0 && st->max_objects < SIZE_MAX ?
	    (size_t)st->max_objects : 0;
	for (;;) {
		if (st->max_pages > 0 && pages >= st->max_pages) {
			snprintf(err, PK_ERRLEN, "listing %s: more than %llu "
			    "pages (--max-pages); stopped", shown,
			    (unsigned long long)st->max_pages);
			goto fail;
		}
		n0 = out->n;
		if (pk_http_do(c, rp, build_list, &lc, &rs, err, say) < 0)
			goto fail;
		if (rs.status != 200) {
			pk_error_reason(rs.body.p, rs.body.n, why, sizeof(why));
			snprintf(err, PK_ERRLEN, "listing %.200s: HTTP %ld%.200s",
			    shown, rs.status, why);
			goto fail;
		}
		free(next);
		next = NULL;
		if (st->gcs_json) {
			if (pk_gcs_parse_list(rs.body.p ? rs.body.p : "",
			    rs.body.n, out, &next, err) < 0)
				goto fail;
			truncated = next != NULL;
		} else if (pk_s3_parse(rs.body.p ? rs.body.p : "", rs.body.n, out,
		    &truncated, &next, NULL, NULL, err) < 0)
			goto fail;
		for (i = n0; i < out->n; i++) {
			struct pk_object *o = &out->v[i];

			if (strncmp(o->key, st->prefix, pl) != 0) {
				snprintf(err, PK_ERRLEN, "listing: key '%s' is "
				    "outside the prefix asked for", o->key);
				goto fail;
			}
			o->name = o->key + pl;
			if (pk_safe_relpath(o->name, why, sizeof(why)) < 0) {
				o->unsafe = 1;
				if ((o->why = strdup(why)) == NULL) {
					snprintf(err, PK_ERRLEN, "out of memory");
					goto fail;
				}
			}
		}
		pages++;
		if (!truncated)
			break;
		if (next == NULL) {
			snprintf(err, PK_ERRLEN, "listing %s: page %llu is "
			    "truncated but gives no continuation token", shown,
			    (unsigned long long)pages);
			goto fail;
		}
		if (strlen(next) > PK_TOKEN_MAX) {
			snprintf(err, PK_ERRLEN, "listing %s: page %llu gives "
			    "a continuation token over %d bytes", shown,
			    (unsigned long long)pages, PK_TOKEN_MAX);
			goto fail;
		}
		switch (tokset_add(&seen, next)) {
		case 0:
			snprintf(err, PK_ERRLEN, "listing %s: page %llu repeats "
			    "a continuation token seen before: the listing "
			    "goes round in a cycle and cannot be trusted",
			    shown, (unsigned long long)pages);
			goto fail;
		case -1:
			snprintf(err, PK_ERRLEN, "out of memory");
			goto fail;
		}
		free((char *)lc.token);
		lc.token = next;
		next = NULL;
	}
	free((char *)lc.token);
	free(next);
	free(seen.v);
	pk_resp_free(&rs);
	return 0;
fail:
	free((char *)lc.token);
	free(next);
	free(seen.v);
	pk_resp_free(&rs);
	return -1;
}

int
pk_store_get_req(const struct pk_store *st, const struct pk_object *o,
    uint64_t from, const struct pk_validator *v, struct pk_req *rq,
    char *err)
{
	return st->gcs_json ? pk_gcs_get_req(st, o, from, v, rq, err) :
	    pk_s3_get_req(st, o, from, v, rq, err);
}
