/*
 * outdir.h - pcap-fetch's output directory and the metadata it writes
 * there (capture.json, manifest.json).  Each file appears whole or not at
 * all.  Nothing is printed: errors go into err (PK_ERRLEN bytes).
 */
#ifndef PCAPKIT_FETCH_OUTDIR_H
#define PCAPKIT_FETCH_OUTDIR_H

#include <jansson.h>

#include "dl.h"
#include "store.h"

/* Open dir, creating it and its parents; a directory fd or -1. */
int pk_outdir_open(const char *dir, char *err);

/* Write v as dirfd/name (dir names it in messages); 0 or -1. */
int pk_save_json(int dirfd, const char *dir, const char *name, json_t *v,
    char *err);

/* "s3://bucket/key", or api_source when st is NULL (the API's download). */
void pk_object_source(const struct pk_store *st, const char *api_source,
    const struct pk_object *ob, char *out, size_t n);

/*
 * manifest.json: { "pcap_fetch_manifest": 1, "id", "source", "files": [
 * { "name", "key", "source", "status", "size", "md5", "crc32c",
 * "verified" | "error" } ] }, written one entry at a time (a listing may
 * hold millions).  id may be NULL.
 */
int pk_save_manifest(int dirfd, const char *dir, const char *id,
    const char *source, const struct pk_store *st,
    const struct pk_object *v, size_t n, const struct pk_dl_result *r,
    char *err);

#endif
