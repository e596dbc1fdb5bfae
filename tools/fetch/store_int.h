/*
 * store_int.h - what store.c, s3.c and gcs.c share, private to them.
 * store.c holds what every store does the same way (the URL, the listing
 * loop and its bounds, the object list); s3.c speaks S3's protocol (also
 * R2's, and GCS's XML API with HMAC keys); gcs.c speaks GCS's JSON API.
 */
#ifndef PCAPKIT_FETCH_STORE_INT_H
#define PCAPKIT_FETCH_STORE_INT_H

#include "store.h"

char *pk_xstrdup(const char *s);		/* NULL for NULL */
char *pk_xstrndup(const char *s, size_t n);
/* s percent-encoded as SigV4 does (malloc'ed; NULL out of memory) */
char *pk_uri_enc(const char *s, int keep_slash);
/* "host:port" or "http://host:port/" -> "http://host:port" */
char *pk_endpoint_norm(const char *e);
/*
 * The value of name= in a query string (NULL if absent); any other
 * parameter sets *bad (what a destination_conf holds goes into a host).
 */
char *pk_query_param(const char *q, const char *name, int *bad);
/* A new object at the end of l; NULL out of memory, or past l->max. */
struct pk_object *pk_objlist_new(struct pk_objlist *l);

/*
 * s3.c.  pk_s3_open sets the region, endpoint and addressing of an S3, R2
 * or GCS-with-HMAC store from its query (region=, account-id=) and the
 * environment, then its credentials; shown names the URL in messages.
 */
int pk_s3_open(struct pk_store *st, const char *query,
    const char *(*env)(const char *), const char *shown, char *err);
int pk_s3_list_req(const struct pk_store *st, const char *token,
    struct pk_req *rq, char *err);
int pk_s3_get_req(const struct pk_store *st, const struct pk_object *o,
    uint64_t from, const struct pk_validator *v, struct pk_req *rq,
    char *err);
/* One ListObjectsV2 page, or an <Error> (code and message, if wanted). */
int pk_s3_parse(const char *xml, size_t len, struct pk_objlist *out,
    int *truncated, char **next_token, char **code, char **message,
    char *err);

/* gcs.c: the JSON API, with an OAuth token, or the emulator. */
int pk_gcs_wants_json(const char *(*env)(const char *));
int pk_gcs_open(struct pk_store *st, const char *(*env)(const char *),
    char *err);
int pk_gcs_list_req(const struct pk_store *st, const char *token,
    struct pk_req *rq, char *err);
int pk_gcs_get_req(const struct pk_store *st, const struct pk_object *o,
    uint64_t from, const struct pk_validator *v, struct pk_req *rq,
    char *err);

#endif
