/*
 * s3.c - S3's protocol: ListObjectsV2 (parsed with expat) and GET, signed
 * with SigV4; also R2's, and GCS's XML API with HMAC keys.  Credentials
 * from the environment or the AWS credentials file.  See store_int.h.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <expat.h>

#include "sigv4.h"
#include "store_int.h"

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
			st->access_key = pk_xstrdup(v);
		else if (strcmp(k, "aws_secret_access_key") == 0 &&
		    !st->secret_key)
			st->secret_key = pk_xstrdup(v);
		else if (strcmp(k, "aws_session_token") == 0 &&
		    !st->session_token)
			st->session_token = pk_xstrdup(v);
	}
	explicit_bzero(line, sizeof(line));
	fclose(f);
}

/* Keys from the environment, else [profile] of the credentials file. */
static void
s3_credentials(struct pk_store *st, const char *(*env)(const char *))
{
	st->access_key = pk_xstrdup(pk_nonempty(env("AWS_ACCESS_KEY_ID")));
	st->secret_key = pk_xstrdup(pk_nonempty(env("AWS_SECRET_ACCESS_KEY")));
	st->session_token = pk_xstrdup(pk_nonempty(env("AWS_SESSION_TOKEN")));
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
}

int
pk_s3_open(struct pk_store *st, const char *query,
    const char *(*env)(const char *), const char *shown, char *err)
{
	const char *epenv = pk_nonempty(env("AWS_ENDPOINT_URL"));
	int badq = 0;

	if (st->kind == PK_GCS) {
		/* HMAC keys: the XML API, S3-compatible, over SigV4. */
		st->region = pk_xstrdup("auto");
		st->endpoint = pk_endpoint_norm(epenv ? epenv :
		    "https://storage.googleapis.com");
		st->path_style = 1;
	} else if (st->kind == PK_R2) {
		char *acct = query ? pk_query_param(query, "account-id", &badq) :
		    NULL;

		st->region = pk_xstrdup("auto");
		st->path_style = 1;
		if (epenv != NULL) {
			st->endpoint = pk_endpoint_norm(epenv);
		} else if (acct == NULL || *acct == '\0') {
			snprintf(err, PK_ERRLEN,
			    "%s: r2:// needs ?account-id=ACCOUNT", shown);
			free(acct);
			return -1;
		} else {
			if (!pk_valid_hex32(acct)) {
				snprintf(err, PK_ERRLEN, "%s: bad account-id "
				    "(32 hex digits)", shown);
				free(acct);
				return -1;
			}
			st->endpoint = malloc(strlen(acct) + 40);
			if (st->endpoint != NULL)
				sprintf(st->endpoint,
				    "https://%s.r2.cloudflarestorage.com", acct);
		}
		free(acct);
	} else {
		char *r = query ? pk_query_param(query, "region", &badq) : NULL;

		if (r == NULL || *r == '\0') {
			free(r);
			r = pk_xstrdup(pk_nonempty(env("AWS_REGION")) ?
			    env("AWS_REGION") : pk_nonempty(env("AWS_DEFAULT_REGION"))
			    ? env("AWS_DEFAULT_REGION") : "us-east-1");
		}
		st->region = r;
		/* It becomes part of the host name. */
		if (r != NULL && !pk_valid_region(r)) {
			snprintf(err, PK_ERRLEN, "%s: bad region '%.40s' (1-32 "
			    "of a-z, 0-9 and '-')", shown, r);
			return -1;
		}
		if (epenv != NULL) {
			st->endpoint = pk_endpoint_norm(epenv);
			st->path_style = 1;
		} else if (r != NULL) {
			st->endpoint = malloc(strlen(r) + 40);
			if (st->endpoint != NULL)
				sprintf(st->endpoint,
				    "https://s3.%s.amazonaws.com", r);
			/* Dotted names break TLS on virtual hosts. */
			st->path_style = strchr(st->bucket, '.') != NULL;
		}
	}
	if (badq) {
		snprintf(err, PK_ERRLEN, "%s: unknown ?parameter (%s:// takes "
		    "only %s)", shown, st->kind == PK_R2 ? "r2" : "s3",
		    st->kind == PK_R2 ? "account-id" : "region");
		return -1;
	}
	if (st->region == NULL || st->endpoint == NULL) {
		snprintf(err, PK_ERRLEN, "out of memory");
		return -1;
	}
	s3_credentials(st, env);
	return 0;
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

/* ---- ListObjectsV2 -------------------------------------------------- */

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
		if ((x->cur = pk_objlist_new(x->out)) == NULL)
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

int
pk_s3_parse(const char *xml, size_t len, struct pk_objlist *out, int *truncated,
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
	return pk_s3_parse(xml, len, out, truncated, next_token, NULL, NULL, err);
}

/* ---- requests ------------------------------------------------------ */

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

int
pk_s3_list_req(const struct pk_store *st, const char *token,
    struct pk_req *rq, char *err)
{
	char *enc = pk_uri_enc(st->prefix, 0), *tok = NULL, path[400];
	struct pk_buf q = { 0 };
	int r;

	/* Parameters in SigV4's sorted order. */
	if (enc == NULL || (token != NULL &&
	    (tok = pk_uri_enc(token, 0)) == NULL) ||
	    (tok && pk_buf_printf(&q, "continuation-token=%s&", tok) < 0) ||
	    pk_buf_printf(&q, "list-type=2") < 0 ||
	    (st->page_size && pk_buf_printf(&q, "&max-keys=%u",
	    st->page_size) < 0) || pk_buf_printf(&q, "&prefix=%s", enc) < 0) {
		free(enc);
		free(tok);
		pk_buf_free(&q);
		snprintf(err, PK_ERRLEN, "out of memory");
		return -1;
	}
	if (st->path_style)
		snprintf(path, sizeof(path), "/%s", st->bucket);
	else
		snprintf(path, sizeof(path), "/");
	r = s3_req(st, path, q.p, NULL, rq, err);
	free(enc);
	free(tok);
	pk_buf_free(&q);
	return r;
}

int
pk_s3_get_req(const struct pk_store *st, const struct pk_object *o,
    uint64_t from, const struct pk_validator *v, struct pk_req *rq,
    char *err)
{
	char range[64], *path;
	size_t pn = strlen(o->key) * 3 + strlen(st->bucket) + 8;
	int r;

	snprintf(range, sizeof(range), "bytes=%llu-", (unsigned long long)from);
	if ((path = malloc(pn)) == NULL) {
		snprintf(err, PK_ERRLEN, "out of memory");
		return -1;
	}
	if (object_path(st, o->key, path, pn) < 0) {
		free(path);
		snprintf(err, PK_ERRLEN, "key too long");
		return -1;
	}
	r = s3_req(st, path, NULL, from > 0 ? range : NULL, rq, err);
	free(path);
	if (r == 0 && pk_req_resume(rq, from, v, 1) < 0) {
		snprintf(err, PK_ERRLEN, "out of memory");
		return -1;
	}
	return r;
}
