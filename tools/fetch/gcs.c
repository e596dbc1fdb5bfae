/*
 * gcs.c - GCS's JSON API: objects.list pages and media downloads, with an
 * OAuth token (or none, for the emulator).  See store_int.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "store_int.h"

int
pk_gcs_wants_json(const char *(*env)(const char *))
{
	/* HMAC keys without a token or an emulator mean the XML API. */
	return pk_nonempty(env("GOOGLE_OAUTH_ACCESS_TOKEN")) != NULL ||
	    pk_nonempty(env("STORAGE_EMULATOR_HOST")) != NULL ||
	    pk_nonempty(env("AWS_ACCESS_KEY_ID")) == NULL;
}

int
pk_gcs_open(struct pk_store *st, const char *(*env)(const char *), char *err)
{
	const char *tok = pk_nonempty(env("GOOGLE_OAUTH_ACCESS_TOKEN"));
	const char *emu = pk_nonempty(env("STORAGE_EMULATOR_HOST"));

	st->gcs_json = 1;
	st->oauth_token = pk_xstrdup(tok);
	st->endpoint = pk_endpoint_norm(emu != NULL ? emu :
	    "https://storage.googleapis.com");
	if (st->endpoint == NULL || (tok != NULL && st->oauth_token == NULL)) {
		snprintf(err, PK_ERRLEN, "out of memory");
		return -1;
	}
	return 0;
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
		if ((o = pk_objlist_new(out)) == NULL) {
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

/* An OAuth token, when there is one, as a Bearer. */
static int
bearer(const struct pk_store *st, struct pk_req *rq)
{
	if (st->oauth_token == NULL)
		return 0;
	rq->secret = 1;
	return pk_req_header(rq, "Authorization: Bearer %s", st->oauth_token);
}

int
pk_gcs_list_req(const struct pk_store *st, const char *token,
    struct pk_req *rq, char *err)
{
	char *enc = pk_uri_enc(st->prefix, 0), *tok = NULL;
	char *b = pk_uri_enc(st->bucket, 0);
	struct pk_buf u = { 0 };
	int bad;

	bad = enc == NULL || b == NULL || (token != NULL &&
	    (tok = pk_uri_enc(token, 0)) == NULL) ||
	    pk_buf_printf(&u, "%s/storage/v1/b/%s/o?prefix=%s", st->endpoint,
	    b, enc) < 0 ||
	    (tok && pk_buf_printf(&u, "&pageToken=%s", tok) < 0) ||
	    (st->page_size && pk_buf_printf(&u, "&maxResults=%u",
	    st->page_size) < 0);
	free(enc);
	free(tok);
	free(b);
	rq->url = u.p;
	if (bad || bearer(st, rq) < 0) {
		snprintf(err, PK_ERRLEN, "out of memory");
		return -1;
	}
	return 0;
}

int
pk_gcs_get_req(const struct pk_store *st, const struct pk_object *o,
    uint64_t from, const struct pk_validator *v, struct pk_req *rq,
    char *err)
{
	struct pk_buf u = { 0 };
	char *b = pk_uri_enc(st->bucket, 0), *k = pk_uri_enc(o->key, 0);
	int bad;

	bad = b == NULL || k == NULL ||
	    pk_buf_printf(&u, "%s/storage/v1/b/%s/o/%s?alt=media",
	    st->endpoint, b, k) < 0 ||
	    /* The rest of this generation, or 412. */
	    (from > 0 && v->generation >= 0 && pk_buf_printf(&u,
	    "&ifGenerationMatch=%lld", (long long)v->generation) < 0);
	free(b);
	free(k);
	rq->url = u.p;
	if (bad || bearer(st, rq) < 0 || pk_req_resume(rq, from, v, 0) < 0) {
		snprintf(err, PK_ERRLEN, "out of memory");
		return -1;
	}
	return 0;
}
