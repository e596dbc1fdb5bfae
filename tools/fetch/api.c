/* api.c - the Cloudflare API v4, /accounts/{id}/pcaps; see api.h. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api.h"

#define PK_API_DEFAULT "https://api.cloudflare.com/client/v4"



int
pk_api_init(struct pk_api *a, const char *account, int allow_http,
    const char *(*env)(const char *), char *err)
{
	const char *b;
	char why[300];
	size_t n;

	memset(a, 0, sizeof(*a));
	pk_retry_defaults(&a->retry);
	a->retry.allow_http = allow_http;
	if (account == NULL)
		account = pk_nonempty(env("CLOUDFLARE_ACCOUNT_ID"));
	if (account == NULL) {
		snprintf(err, PK_ERRLEN, "no account: set "
		    "CLOUDFLARE_ACCOUNT_ID or use --account");
		return -1;
	}
	if (!pk_valid_hex32(account)) {
		snprintf(err, PK_ERRLEN, "bad account id '%.80s' (32 lower-case "
		    "hex digits)", account);
		return -1;
	}
	b = pk_nonempty(env("CLOUDFLARE_API_BASE"));
	if (b == NULL)
		b = PK_API_DEFAULT;
	a->base = strdup(b);
	a->account = strdup(account);
	if (a->base == NULL || a->account == NULL)
		goto oom;
	n = strlen(a->base);
	while (n > 0 && a->base[n - 1] == '/')
		a->base[--n] = '\0';
	if (pk_nonempty(env("CLOUDFLARE_API_TOKEN")) != NULL) {
		if ((a->token = strdup(env("CLOUDFLARE_API_TOKEN"))) == NULL)
			goto oom;
	} else if (pk_nonempty(env("CLOUDFLARE_EMAIL")) != NULL &&
	    pk_nonempty(env("CLOUDFLARE_API_KEY")) != NULL) {
		a->email = strdup(env("CLOUDFLARE_EMAIL"));
		a->key = strdup(env("CLOUDFLARE_API_KEY"));
		if (a->email == NULL || a->key == NULL)
			goto oom;
	} else {
		snprintf(err, PK_ERRLEN, "no credentials: set "
		    "CLOUDFLARE_API_TOKEN, or CLOUDFLARE_EMAIL and "
		    "CLOUDFLARE_API_KEY");
		pk_api_close(a);
		return -1;
	}
	if (pk_secret_transport(a->base, allow_http, why, sizeof(why)) < 0) {
		snprintf(err, PK_ERRLEN, "CLOUDFLARE_API_BASE: %s", why);
		pk_api_close(a);
		return -1;
	}
	if ((a->c = curl_easy_init()) == NULL)
		goto oom;
	return 0;
oom:
	snprintf(err, PK_ERRLEN, "out of memory");
	pk_api_close(a);
	return -1;
}

void
pk_api_close(struct pk_api *a)
{
	free(a->base);
	free(a->account);
	pk_free_secret(a->token);
	pk_free_secret(a->email);
	pk_free_secret(a->key);
	if (a->c != NULL)
		curl_easy_cleanup(a->c);
	memset(a, 0, sizeof(*a));
}

int
pk_api_auth(const struct pk_api *a, struct pk_req *rq)
{
	rq->secret = 1;
	if (a->token != NULL)
		return pk_req_header(rq, "Authorization: Bearer %s", a->token);
	if (pk_req_header(rq, "X-Auth-Email: %s", a->email) < 0)
		return -1;
	return pk_req_header(rq, "X-Auth-Key: %s", a->key);
}

struct callctx {
	struct pk_api *a;
	const char *method, *path, *query, *body;
};

static int
build_call(void *arg, struct pk_req *rq, char *err)
{
	struct callctx *c = arg;
	struct pk_buf u = { 0 };

	if (pk_buf_printf(&u, "%s/accounts/%s/pcaps%s%s%s", c->a->base,
	    c->a->account, c->path, c->query ? "?" : "",
	    c->query ? c->query : "") < 0)
		goto oom;
	rq->url = u.p;
	rq->method = c->method;
	if (pk_api_auth(c->a, rq) < 0 ||
	    pk_req_header(rq, "Accept: application/json") < 0)
		goto oom;
	if (c->body != NULL) {
		rq->body = c->body;
		rq->bodylen = strlen(c->body);
		if (pk_req_header(rq, "Content-Type: application/json") < 0)
			goto oom;
	}
	return 0;
oom:
	snprintf(err, PK_ERRLEN, "out of memory");
	return -1;
}

/* errors[] as "code: message; code: message", control characters blanked */
static void
api_errors(json_t *root, char *out, size_t n)
{
	json_t *errs = json_object_get(root, "errors"), *e;
	size_t i, off = 0;

	out[0] = '\0';
	json_array_foreach(errs, i, e) {
		const char *m = json_string_value(json_object_get(e, "message"));
		json_t *code = json_object_get(e, "code");
		int r;

		if (m == NULL)
			continue;
		if (json_is_integer(code))
			r = snprintf(out + off, n - off, "%s%lld: %s",
			    off ? "; " : "",
			    (long long)json_integer_value(code), m);
		else
			r = snprintf(out + off, n - off, "%s%s", off ? "; " : "",
			    m);
		if (r < 0 || (size_t)r >= n - off) {
			off = n - 1;
			break;
		}
		off += (size_t)r;
	}
	for (i = 0; i < off && out[i]; i++)
		if ((unsigned char)out[i] < 0x20)
			out[i] = ' ';
}

int
pk_api_reply(long status, const char *body, size_t len, json_t **result,
    json_t **info, char *err)
{
	json_error_t je;
	json_t *root = NULL;
	char msgs[400];

	if (result != NULL)
		*result = NULL;
	if (info != NULL)
		*info = NULL;
	if (status == 204 && len == 0)
		return 0;
	if (body != NULL)
		root = json_loadb(body, len, 0, &je);
	if (root == NULL || !json_is_object(root)) {
		snprintf(err, PK_ERRLEN, "HTTP %ld: %s", status,
		    status >= 200 && status < 300 ?
		    "the reply is not a JSON object" : "no API error given");
		json_decref(root);
		return -1;
	}
	if (status < 200 || status >= 300 ||
	    !json_is_true(json_object_get(root, "success"))) {
		api_errors(root, msgs, sizeof(msgs));
		snprintf(err, PK_ERRLEN, "HTTP %ld: %s", status,
		    msgs[0] ? msgs : "the API says success is false");
		json_decref(root);
		return -1;
	}
	if (result != NULL) {
		*result = json_object_get(root, "result");
		json_incref(*result);
	}
	if (info != NULL) {
		*info = json_object_get(root, "result_info");
		json_incref(*info);
	}
	json_decref(root);
	return 0;
}

int
pk_api_call(struct pk_api *a, const char *method, const char *path,
    const char *query, const char *body, json_t **result, json_t **info,
    char *err)
{
	struct callctx c = { a, method, path, query, body };
	struct pk_resp rs;
	int rc;

	if (result != NULL)
		*result = NULL;
	if (info != NULL)
		*info = NULL;
	memset(&rs, 0, sizeof(rs));
	if (pk_http_do(a->c, &a->retry, build_call, &c, &rs, err, a->say) < 0)
		rc = -1;
	else
		rc = pk_api_reply(rs.status, rs.body.p, rs.body.n, result, info,
		    err);
	pk_resp_free(&rs);
	return rc;
}
