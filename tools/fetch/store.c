/*
 * store.c - buckets: S3 and R2 (ListObjectsV2 and GET, signed with SigV4),
 * GCS (the JSON API with an OAuth token or the emulator, or the XML API
 * with HMAC keys over SigV4).  See fetch.h.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <expat.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "fetch.h"
#include "sigv4.h"

static char *
xstrdup(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

static char *
xstrndup(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (p != NULL) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}


/*
 * The value of name= in a query string (NULL if absent).  Any other
 * parameter is an error (*bad set): a destination_conf comes from the
 * server, and what it holds goes into a host name.
 */
static char *
query_param(const char *q, const char *name, int *bad)
{
	size_t nl = strlen(name);
	const char *p = q, *e;
	char *v = NULL;

	while (p != NULL && *p) {
		e = strchr(p, '&');
		if (strncmp(p, name, nl) == 0 && p[nl] == '=' && v == NULL)
			v = xstrndup(p + nl + 1, e ? (size_t)(e - p - nl - 1) :
			    strlen(p + nl + 1));
		else
			*bad = 1;
		p = e ? e + 1 : NULL;
	}
	return v;
}

/* Read [profile] of an AWS credentials file. */
static void
aws_credentials_file(struct pk_store *st, const char *path,
    const char *profile)
{
	FILE *f = fopen(path, "r");
	char line[1024], *k, *v, *e;
	int in = 0;

	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		for (k = line; isspace((unsigned char)*k); k++)
			;
		e = k + strlen(k);
		while (e > k && isspace((unsigned char)e[-1]))
			*--e = '\0';
		if (*k == '#' || *k == ';' || *k == '\0')
			continue;
		if (*k == '[') {
			e = strchr(k, ']');
			in = e != NULL && (size_t)(e - k - 1) == strlen(profile)
			    && strncmp(k + 1, profile, strlen(profile)) == 0;
			continue;
		}
		if (!in || (v = strchr(k, '=')) == NULL)
			continue;
		*v++ = '\0';
		for (e = v - 1; e > k && isspace((unsigned char)e[-1]); )
			*--e = '\0';
		while (isspace((unsigned char)*v))
			v++;
		if (strcmp(k, "aws_access_key_id") == 0 && !st->access_key)
			st->access_key = xstrdup(v);
		else if (strcmp(k, "aws_secret_access_key") == 0 &&
		    !st->secret_key)
			st->secret_key = xstrdup(v);
		else if (strcmp(k, "aws_session_token") == 0 &&
		    !st->session_token)
			st->session_token = xstrdup(v);
	}
	explicit_bzero(line, sizeof(line));
	fclose(f);
}


/* "host:port" or "http://host:port/" -> "http://host:port" */
static char *
endpoint_norm(const char *e)
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

int
pk_store_open(struct pk_store *st, const char *url, int allow_http,
    const char *(*env)(const char *), char *err)
{
	const char *p, *q, *slash;
	char *query = NULL, why[160], shown[300];
	size_t n;
	int badq = 0;

	memset(st, 0, sizeof(*st));
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
	st->bucket = xstrndup(p, slash != NULL ? (size_t)(slash - p) : n);
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
		st->prefix = xstrdup("");
	if (q != NULL)
		query = xstrdup(q + 1);
	if (st->bucket == NULL || st->prefix == NULL) {
		snprintf(err, PK_ERRLEN, "out of memory");
		goto fail;
	}
	snprintf(shown, sizeof(shown), "%s", url);
	if (!pk_valid_bucket(st->kind == PK_GCS, st->bucket, why,
	    sizeof(why))) {
		snprintf(err, PK_ERRLEN, "%s: bad bucket name: %s", shown, why);
		goto fail;
	}
	if (query != NULL && st->kind == PK_GCS && *query != '\0') {
		snprintf(err, PK_ERRLEN, "%s: gs:// takes no ?parameters", shown);
		goto fail;
	}

	if (st->kind == PK_GCS) {
		const char *tok = pk_nonempty(env("GOOGLE_OAUTH_ACCESS_TOKEN"));
		const char *emu = pk_nonempty(env("STORAGE_EMULATOR_HOST"));

		if (tok != NULL || emu != NULL ||
		    pk_nonempty(env("AWS_ACCESS_KEY_ID")) == NULL) {
			st->gcs_json = 1;
			st->oauth_token = xstrdup(tok);
			st->endpoint = endpoint_norm(emu != NULL ? emu :
			    "https://storage.googleapis.com");
			free(query);
			query = NULL;
			if (st->endpoint == NULL) {
				snprintf(err, PK_ERRLEN, "out of memory");
				goto fail;
			}
			if (st->oauth_token != NULL && pk_secret_transport(
			    st->endpoint, allow_http, why, sizeof(why)) < 0) {
				snprintf(err, PK_ERRLEN, "%s: %s", shown, why);
				goto fail;
			}
			return 0;
		}
		/* HMAC keys: the XML API, S3-compatible, over SigV4. */
		st->region = xstrdup("auto");
		st->endpoint = endpoint_norm(pk_nonempty(env("AWS_ENDPOINT_URL")) ?
		    env("AWS_ENDPOINT_URL") : "https://storage.googleapis.com");
		st->path_style = 1;
	} else if (st->kind == PK_R2) {
		char *acct = query ? query_param(query, "account-id", &badq) :
		    NULL;

		st->region = xstrdup("auto");
		st->path_style = 1;
		if (pk_nonempty(env("AWS_ENDPOINT_URL")) != NULL) {
			st->endpoint = endpoint_norm(env("AWS_ENDPOINT_URL"));
		} else if (acct == NULL || *acct == '\0') {
			snprintf(err, PK_ERRLEN,
			    "%s: r2:// needs ?account-id=ACCOUNT", shown);
			free(acct);
			goto fail;
		} else {
			if (!pk_valid_hex32(acct)) {
				snprintf(err, PK_ERRLEN, "%s: bad account-id "
				    "(32 hex digits)", shown);
				free(acct);
				goto fail;
			}
			st->endpoint = malloc(strlen(acct) + 40);
			if (st->endpoint != NULL)
				sprintf(st->endpoint,
				    "https://%s.r2.cloudflarestorage.com", acct);
		}
		free(acct);
	} else {
		char *r = query ? query_param(query, "region", &badq) : NULL;

		if (r == NULL || *r == '\0') {
			free(r);
			r = xstrdup(pk_nonempty(env("AWS_REGION")) ?
			    env("AWS_REGION") : pk_nonempty(env("AWS_DEFAULT_REGION"))
			    ? env("AWS_DEFAULT_REGION") : "us-east-1");
		}
		st->region = r;
		/* It becomes part of the host name. */
		if (r != NULL && !pk_valid_region(r)) {
			snprintf(err, PK_ERRLEN, "%s: bad region '%.40s' (1-32 "
			    "of a-z, 0-9 and '-')", shown, r);
			goto fail;
		}
		if (pk_nonempty(env("AWS_ENDPOINT_URL")) != NULL) {
			st->endpoint = endpoint_norm(env("AWS_ENDPOINT_URL"));
			st->path_style = 1;
		} else {
			st->endpoint = malloc(strlen(st->region) + 40);
			if (st->endpoint != NULL)
				sprintf(st->endpoint,
				    "https://s3.%s.amazonaws.com", st->region);
			/* Dotted names break TLS on virtual hosts. */
			st->path_style = strchr(st->bucket, '.') != NULL;
		}
	}
	free(query);
	query = NULL;
	if (badq) {
		snprintf(err, PK_ERRLEN, "%s: unknown ?parameter (%s:// takes "
		    "only %s)", shown, st->kind == PK_R2 ? "r2" : "s3",
		    st->kind == PK_R2 ? "account-id" : "region");
		goto fail;
	}
	if (st->region == NULL || st->endpoint == NULL) {
		snprintf(err, PK_ERRLEN, "out of memory");
		goto fail;
	}
	st->access_key = xstrdup(pk_nonempty(env("AWS_ACCESS_KEY_ID")));
	st->secret_key = xstrdup(pk_nonempty(env("AWS_SECRET_ACCESS_KEY")));
	st->session_token = xstrdup(pk_nonempty(env("AWS_SESSION_TOKEN")));
	if (st->access_key == NULL || st->secret_key == NULL) {
		const char *f = pk_nonempty(env("AWS_SHARED_CREDENTIALS_FILE"));
		const char *prof = pk_nonempty(env("AWS_PROFILE"));
		char path[1024];

		if (f == NULL && pk_nonempty(env("HOME")) != NULL) {
			snprintf(path, sizeof(path), "%s/.aws/credentials",
			    env("HOME"));
			f = path;
		}
		pk_free_secret(st->access_key);
		pk_free_secret(st->secret_key);
		pk_free_secret(st->session_token);
		st->access_key = st->secret_key = st->session_token = NULL;
		if (f != NULL)
			aws_credentials_file(st, f, prof ? prof : "default");
		if (st->access_key == NULL || st->secret_key == NULL) {
			pk_free_secret(st->access_key);
			pk_free_secret(st->secret_key);
			pk_free_secret(st->session_token);
			st->access_key = st->secret_key = NULL;
			st->session_token = NULL;
		}
	}
	if (st->access_key != NULL && pk_secret_transport(st->endpoint,
	    allow_http, why, sizeof(why)) < 0) {
		snprintf(err, PK_ERRLEN, "%s: %s", shown, why);
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

/* A new object at the end of l; NULL out of memory, or past l->max. */
static struct pk_object *
objlist_new(struct pk_objlist *l)
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

void
pk_etag_md5(const char *etag, char md5[33])
{
	size_t i;

	md5[0] = '\0';
	if (*etag == '"')
		etag++;
	if (strcspn(etag, "\"") != 32)
		return;		/* multipart "...-N", or not MD5 */
	for (i = 0; i < 32; i++)
		if (!isxdigit((unsigned char)etag[i]))
			return;
	for (i = 0; i < 32; i++)
		md5[i] = (char)tolower((unsigned char)etag[i]);
	md5[32] = '\0';
}

/* Base64 to bytes; returns the length or -1. */
static int
b64dec(const char *s, unsigned char *out, size_t outlen)
{
	size_t n = strlen(s), pad = 0;
	unsigned char tmp[128];
	int r;

	if (n == 0 || n % 4 != 0 || n / 4 * 3 > sizeof(tmp))
		return -1;
	r = EVP_DecodeBlock(tmp, (const unsigned char *)s, (int)n);
	if (r < 0)
		return -1;
	if (s[n - 1] == '=')
		pad++;
	if (s[n - 2] == '=')
		pad++;
	r -= (int)pad;
	if ((size_t)r > outlen)
		return -1;
	memcpy(out, tmp, (size_t)r);
	return r;
}

void
pk_md5_from_b64(const char *b64, char md5[33])
{
	unsigned char d[16];
	int i;

	md5[0] = '\0';
	if (b64dec(b64, d, sizeof(d)) != 16)
		return;
	for (i = 0; i < 16; i++)
		sprintf(md5 + 2 * i, "%02x", d[i]);
}

int
pk_crc32c_from_b64(const char *b64, uint32_t *crc)
{
	unsigned char d[4];

	if (b64dec(b64, d, sizeof(d)) != 4)
		return -1;
	*crc = (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 |
	    (uint32_t)d[2] << 8 | d[3];
	return 0;
}

/* ---- S3 ListObjectsV2 -------------------------------------------------- */

struct xls {
	struct pk_objlist *out;
	struct pk_buf text;
	int depth;
	int in_contents;
	struct pk_object *cur;
	int truncated;
	char *next;
	char *code, *message;	/* an <Error> */
	int oom;
};

static void XMLCALL
x_start(void *ud, const XML_Char *name, const XML_Char **attr)
{
	struct xls *x = ud;

	(void)attr;
	x->depth++;
	x->text.n = 0;
	if (x->text.p)
		x->text.p[0] = '\0';
	if (x->depth == 2 && strcmp(name, "Contents") == 0) {
		x->in_contents = 1;
		if ((x->cur = objlist_new(x->out)) == NULL)
			x->oom = x->out->max > 0 && x->out->n >= x->out->max ?
			    3 : 1;
	}
}

static void XMLCALL
x_end(void *ud, const XML_Char *name)
{
	struct xls *x = ud;
	const char *t = x->text.p ? x->text.p : "";

	if (x->depth == 3 && x->in_contents && x->cur != NULL) {
		if (strcmp(name, "Key") == 0) {
			free(x->cur->key);
			if ((x->cur->key = strdup(t)) == NULL)
				x->oom = 1;
		} else if (strcmp(name, "Size") == 0) {
			char *e;
			unsigned long long v = strtoull(t, &e, 10);
			if (*e == '\0' && e != t) {
				x->cur->size = v;
				x->cur->have_size = 1;
			}
		} else if (strcmp(name, "ETag") == 0)
			pk_etag_md5(t, x->cur->md5);
	} else if (x->depth == 2) {
		if (strcmp(name, "Contents") == 0) {
			x->in_contents = 0;
			if (x->cur != NULL && x->cur->key == NULL) {
				x->out->n--;	/* no key: not an object */
			}
			x->cur = NULL;
		} else if (strcmp(name, "IsTruncated") == 0)
			x->truncated = strcmp(t, "true") == 0;
		else if (strcmp(name, "NextContinuationToken") == 0) {
			free(x->next);
			x->next = strdup(t);
		} else if (strcmp(name, "Code") == 0) {
			free(x->code);
			x->code = strdup(t);
		} else if (strcmp(name, "Message") == 0) {
			free(x->message);
			x->message = strdup(t);
		}
	}
	x->text.n = 0;
	if (x->text.p)
		x->text.p[0] = '\0';
	x->depth--;
}

static void XMLCALL
x_text(void *ud, const XML_Char *s, int len)
{
	struct xls *x = ud;

	if (x->text.n + (size_t)len > 65536 ||
	    pk_buf_add(&x->text, s, (size_t)len) < 0)
		x->oom = 1;
}

/* Refuse DOCTYPEs: no entity expansion games from an untrusted server. */
static void XMLCALL
x_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
    const XML_Char *pubid, int has_internal)
{
	struct xls *x = ud;

	(void)name; (void)sysid; (void)pubid; (void)has_internal;
	x->oom = 2;
}

static int
s3_parse(const char *xml, size_t len, struct pk_objlist *out, int *truncated,
    char **next_token, char **code, char **message, char *err)
{
	XML_Parser p = XML_ParserCreate("UTF-8");
	struct xls x;
	size_t n0 = out->n;
	int ok;

	memset(&x, 0, sizeof(x));
	x.out = out;
	if (p == NULL) {
		snprintf(err, PK_ERRLEN, "out of memory");
		return -1;
	}
	XML_SetUserData(p, &x);
	XML_SetElementHandler(p, x_start, x_end);
	XML_SetCharacterDataHandler(p, x_text);
	XML_SetStartDoctypeDeclHandler(p, x_doctype);
	ok = XML_Parse(p, xml, (int)len, 1) == XML_STATUS_OK && x.oom == 0;
	if (!ok) {
		if (x.oom == 2)
			snprintf(err, PK_ERRLEN,
			    "listing: XML with a DOCTYPE refused");
		else if (x.oom == 3)
			snprintf(err, PK_ERRLEN, "listing: more than %zu "
			    "objects (--max-objects)", out->max);
		else if (x.oom)
			snprintf(err, PK_ERRLEN, "listing: too large");
		else
			snprintf(err, PK_ERRLEN,
			    "listing: bad XML at line %lu: %s",
			    (unsigned long)XML_GetCurrentLineNumber(p),
			    XML_ErrorString(XML_GetErrorCode(p)));
		while (out->n > n0) {
			out->n--;
			free(out->v[out->n].key);
			free(out->v[out->n].why);
		}
		free(x.next);
		free(x.code);
		free(x.message);
	} else {
		*truncated = x.truncated;
		*next_token = x.next;
		if (code != NULL)
			*code = x.code;
		else
			free(x.code);
		if (message != NULL)
			*message = x.message;
		else
			free(x.message);
	}
	pk_buf_free(&x.text);
	XML_ParserFree(p);
	return ok ? 0 : -1;
}

int
pk_s3_parse_list(const char *xml, size_t len, struct pk_objlist *out,
    int *truncated, char **next_token, char *err)
{
	return s3_parse(xml, len, out, truncated, next_token, NULL, NULL, err);
}

int
pk_gcs_parse_list(const char *json, size_t len, struct pk_objlist *out,
    char **next_token, char *err)
{
	json_error_t je;
	json_t *root = json_loadb(json, len, 0, &je), *items, *it, *tok;
	size_t i;

	*next_token = NULL;
	if (root == NULL || !json_is_object(root)) {
		snprintf(err, PK_ERRLEN, "listing: bad JSON: %s",
		    root ? "not an object" : je.text);
		json_decref(root);
		return -1;
	}
	items = json_object_get(root, "items");
	if (items != NULL && !json_is_array(items)) {
		snprintf(err, PK_ERRLEN, "listing: items is not an array");
		json_decref(root);
		return -1;
	}
	json_array_foreach(items, i, it) {
		const char *name = json_string_value(json_object_get(it, "name"));
		const char *size = json_string_value(json_object_get(it, "size"));
		const char *md5 = json_string_value(json_object_get(it,
		    "md5Hash"));
		const char *crc = json_string_value(json_object_get(it,
		    "crc32c"));
		const char *gen = json_string_value(json_object_get(it,
		    "generation"));
		struct pk_object *o;

		if (name == NULL)
			continue;
		if ((o = objlist_new(out)) == NULL) {
			if (out->max > 0 && out->n >= out->max)
				snprintf(err, PK_ERRLEN, "listing: more than "
				    "%zu objects (--max-objects)", out->max);
			else
				snprintf(err, PK_ERRLEN, "out of memory");
			json_decref(root);
			return -1;
		}
		if ((o->key = strdup(name)) == NULL) {
			out->n--;
			snprintf(err, PK_ERRLEN, "out of memory");
			json_decref(root);
			return -1;
		}
		if (gen != NULL) {
			char *e;
			long long v = strtoll(gen, &e, 10);
			if (*e == '\0' && e != gen && v >= 0)
				o->generation = v;
		}
		if (size != NULL) {
			char *e;
			unsigned long long v = strtoull(size, &e, 10);
			if (*e == '\0' && e != size) {
				o->size = v;
				o->have_size = 1;
			}
		}
		if (md5 != NULL)
			pk_md5_from_b64(md5, o->md5);
		if (crc != NULL && pk_crc32c_from_b64(crc, &o->crc32c) == 0)
			o->have_crc32c = 1;
	}
	tok = json_object_get(root, "nextPageToken");
	if (json_is_string(tok) && *json_string_value(tok) != '\0' &&
	    (*next_token = strdup(json_string_value(tok))) == NULL) {
		snprintf(err, PK_ERRLEN, "out of memory");
		json_decref(root);
		return -1;
	}
	json_decref(root);
	return 0;
}

/* ---- requests -------------------------------------------------------- */

static void
amz_date(char out[17])
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

/* host[:port] of an endpoint URL */
static const char *
ep_host(const char *ep, char *buf, size_t n)
{
	const char *h = strstr(ep, "://");

	h = h ? h + 3 : ep;
	snprintf(buf, n, "%s", h);
	return buf;
}

/*
 * A SigV4-signed (or, without keys, anonymous) S3-style GET of path
 * (already encoded) with query (encoded, sorted or not) and an optional
 * Range.
 */
static int
s3_req(const struct pk_store *st, const char *path, const char *query,
    const char *range, struct pk_req *rq, char *err)
{
	struct pk_sigv4_header h[5];
	char host[300], hostbuf[300], date[17], auth[512];
	struct pk_buf url = { 0 };
	size_t nh = 0;
	const char *scheme_end = strstr(st->endpoint, "://");

	ep_host(st->endpoint, hostbuf, sizeof(hostbuf));
	if (st->path_style)
		snprintf(host, sizeof(host), "%s", hostbuf);
	else
		snprintf(host, sizeof(host), "%.63s.%.230s", st->bucket, hostbuf);
	if (pk_buf_printf(&url, "%.*s://%s%s%s%s",
	    (int)(scheme_end - st->endpoint), st->endpoint, host, path,
	    query ? "?" : "", query ? query : "") < 0)
		goto oom;
	rq->url = url.p;
	if (st->access_key != NULL) {
		amz_date(date);
		h[nh].name = "host";
		h[nh++].value = host;
		h[nh].name = "x-amz-date";
		h[nh++].value = date;
		h[nh].name = "x-amz-content-sha256";
		h[nh++].value = PK_SIGV4_EMPTY_SHA256;
		if (range != NULL) {
			h[nh].name = "range";
			h[nh++].value = range;
		}
		if (st->session_token != NULL) {
			h[nh].name = "x-amz-security-token";
			h[nh++].value = st->session_token;
		}
		{
			struct pk_sigv4_req sr = {
				.method = "GET", .path = path, .query = query,
				.headers = h, .nheaders = nh,
				.payload_sha256 = PK_SIGV4_EMPTY_SHA256,
				.region = st->region, .service = "s3",
				.access_key = st->access_key,
				.secret_key = st->secret_key,
			};
			if (pk_sigv4_sign(&sr, auth, sizeof(auth)) < 0) {
				snprintf(err, PK_ERRLEN, "cannot sign request");
				return -1;
			}
		}
		rq->secret = 1;
		if (pk_req_header(rq, "Host: %s", host) < 0 ||
		    pk_req_header(rq, "x-amz-date: %s", date) < 0 ||
		    pk_req_header(rq, "x-amz-content-sha256: %s",
		    PK_SIGV4_EMPTY_SHA256) < 0 ||
		    (st->session_token != NULL &&
		    pk_req_header(rq, "x-amz-security-token: %s",
		    st->session_token) < 0) ||
		    pk_req_header(rq, "Authorization: %s", auth) < 0)
			goto oom;
		explicit_bzero(auth, sizeof(auth));
	}
	if (range != NULL && pk_req_header(rq, "Range: %s", range) < 0)
		goto oom;
	return 0;
oom:
	snprintf(err, PK_ERRLEN, "out of memory");
	return -1;
}

/* s percent-encoded as SigV4 does (malloc'ed; NULL out of memory) */
static char *
uri_enc(const char *s, int keep_slash)
{
	size_t n = strlen(s) * 3 + 1;
	char *out = malloc(n);

	if (out != NULL && pk_sigv4_uri_encode(s, keep_slash, out, n) < 0) {
		free(out);
		out = NULL;
	}
	return out;
}

/* "/bucket/key" or "/key", SigV4-encoded */
static int
object_path(const struct pk_store *st, const char *key, char *out, size_t n)
{
	size_t off = 0;
	int r;

	if (st->path_style) {
		r = snprintf(out, n, "/%s", st->bucket);
		if (r < 0 || (size_t)r >= n)
			return -1;
		off = (size_t)r;
	}
	if (off + 2 > n)
		return -1;
	out[off++] = '/';
	r = pk_sigv4_uri_encode(key, 1, out + off, n - off);
	return r < 0 ? -1 : 0;
}

struct listctx {
	const struct pk_store *st;
	const char *token;
};

static int
build_list(void *arg, struct pk_req *rq, char *err)
{
	struct listctx *lc = arg;
	const struct pk_store *st = lc->st;
	char *enc = uri_enc(st->prefix, 0), *tok = NULL, path[400];
	struct pk_buf q = { 0 };
	int r = -1;

	if (enc == NULL || (lc->token != NULL &&
	    (tok = uri_enc(lc->token, 0)) == NULL))
		goto oom;
	if (st->gcs_json) {
		char *b = uri_enc(st->bucket, 0);

		if (b == NULL || pk_buf_printf(&q, "%s/storage/v1/b/%s/o?prefix=%s",
		    st->endpoint, b, enc) < 0 ||
		    (tok && pk_buf_printf(&q, "&pageToken=%s", tok) < 0) ||
		    (st->page_size && pk_buf_printf(&q, "&maxResults=%u",
		    st->page_size) < 0)) {
			free(b);
			goto oom;
		}
		free(b);
		rq->url = q.p;
		q.p = NULL;
		if (st->oauth_token != NULL) {
			rq->secret = 1;
			if (pk_req_header(rq, "Authorization: Bearer %s",
			    st->oauth_token) < 0)
				goto oom;
		}
		r = 0;
	} else {
		/* Parameters in SigV4's sorted order. */
		if ((tok && pk_buf_printf(&q, "continuation-token=%s&",
		    tok) < 0) || pk_buf_printf(&q, "list-type=2") < 0 ||
		    (st->page_size && pk_buf_printf(&q, "&max-keys=%u",
		    st->page_size) < 0) || pk_buf_printf(&q, "&prefix=%s",
		    enc) < 0)
			goto oom;
		if (st->path_style)
			snprintf(path, sizeof(path), "/%s", st->bucket);
		else
			snprintf(path, sizeof(path), "/");
		r = s3_req(st, path, q.p, NULL, rq, err);
	}
	free(enc);
	free(tok);
	pk_buf_free(&q);
	return r;
oom:
	free(enc);
	free(tok);
	pk_buf_free(&q);
	snprintf(err, PK_ERRLEN, "out of memory");
	return -1;
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

		if (s3_parse(body, len, &tmp, &tr, &next, &code, &msg, e) == 0 &&
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
	snprintf(shown, sizeof(shown), "%s", st->url);
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
			snprintf(err, PK_ERRLEN, "listing %s: HTTP %ld%.250s",
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
		} else if (s3_parse(rs.body.p ? rs.body.p : "", rs.body.n, out,
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
	char range[64], *path = NULL;
	size_t pn;
	int r;

	snprintf(range, sizeof(range), "bytes=%llu-", (unsigned long long)from);
	if (st->gcs_json) {
		struct pk_buf u = { 0 };
		char *b = uri_enc(st->bucket, 0), *k = uri_enc(o->key, 0);

		r = b == NULL || k == NULL ||
		    pk_buf_printf(&u, "%s/storage/v1/b/%s/o/%s?alt=media",
		    st->endpoint, b, k) < 0 ||
		    /* The rest of this generation, or 412. */
		    (from > 0 && v->generation >= 0 && pk_buf_printf(&u,
		    "&ifGenerationMatch=%lld", (long long)v->generation) < 0);
		free(b);
		free(k);
		rq->url = u.p;
		if (r)
			goto oom;
		if (st->oauth_token != NULL) {
			rq->secret = 1;
			if (pk_req_header(rq, "Authorization: Bearer %s",
			    st->oauth_token) < 0)
				goto oom;
		}
		if (from > 0 && (pk_req_header(rq, "Range: %s", range) < 0 ||
		    (v->etag[0] != '\0' && pk_req_header(rq, "If-Range: %s",
		    v->etag) < 0)))
			goto oom;
		return 0;
	}
	pn = strlen(o->key) * 3 + strlen(st->bucket) + 8;
	if ((path = malloc(pn)) == NULL)
		goto oom;
	if (object_path(st, o->key, path, pn) < 0) {
		free(path);
		snprintf(err, PK_ERRLEN, "key too long");
		return -1;
	}
	r = s3_req(st, path, NULL, from > 0 ? range : NULL, rq, err);
	free(path);
	if (r == 0 && from > 0 && v->etag[0] != '\0' &&
	    pk_req_header(rq, "If-Range: %s", v->etag) < 0)
		goto oom;
	return r;
oom:
	snprintf(err, PK_ERRLEN, "out of memory");
	return -1;
}
