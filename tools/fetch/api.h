/*
 * api.h - the Cloudflare API v4, /accounts/{id}/pcaps.
 * Errors go into an errbuf of PK_ERRLEN bytes; the caller says them.
 */
#ifndef PCAPKIT_FETCH_API_H
#define PCAPKIT_FETCH_API_H

#include "http.h"

struct pk_api {
	char *base;		/* .../client/v4, no slash at the end */
	char *account;
	char *token;		/* Bearer, or: */
	char *email, *key;
	CURL *c;
	struct pk_retry retry;
	void (*say)(const char *);
};

/*
 * The account id must be 32 hex digits; the API base must be https, or
 * http to a loopback address, unless allow_http.
 */
int pk_api_init(struct pk_api *a, const char *account, int allow_http,
    const char *(*env)(const char *), char *err);
void pk_api_close(struct pk_api *a);

/*
 * Call the API: method, path under /accounts/{id}/pcaps (e.g. "", "/ID",
 * "/ID/stop"), query without '?' or NULL, JSON body or NULL.  On success
 * *result is the envelope's result (a new reference; NULL for 204) and
 * *info its result_info, if any.  On failure -1 and err holds the API's
 * errors[] ("code: message; ...") and the HTTP status.
 */
struct json_t;
int pk_api_call(struct pk_api *a, const char *method, const char *path,
    const char *query, const char *body, struct json_t **result,
    struct json_t **info, char *err);
/*
 * Decode one reply of the API (exposed for tests and the fuzzer): status
 * and body as received; the same results and errors as pk_api_call.
 */
int pk_api_reply(long status, const char *body, size_t len,
    struct json_t **result, struct json_t **info, char *err);
/* Add the auth headers to a request (for the download). */
int pk_api_auth(const struct pk_api *a, struct pk_req *rq);

#endif
