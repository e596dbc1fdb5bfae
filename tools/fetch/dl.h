/*
 * dl.h - the parallel download engine.
 * Errors go into an errbuf of PK_ERRLEN bytes; the caller says them.
 */
#ifndef PCAPKIT_FETCH_DL_H
#define PCAPKIT_FETCH_DL_H

#include "store.h"

typedef int (*pk_get_fn)(void *ctx, const struct pk_object *o, uint64_t from,
    const struct pk_validator *v, struct pk_req *rq, char *err);

struct pk_dl_opts {
	int jobs;		/* parallel transfers */
	struct pk_retry retry;
	/*
	 * The most bytes a body may have when the listing gives no size;
	 * a listed size larger than this is refused too.
	 */
	uint64_t max_size;
	/*
	 * Told of progress, at most twice a second and once at the end
	 * (final): files done of n, bytes of total (the listed sizes); NULL
	 * for none.  The engine prints nothing itself.
	 */
	void (*progress)(void *ctx, size_t done, size_t n, uint64_t bytes,
	    uint64_t total, int final);
	void *ctx_progress;
	pk_get_fn get;
	void *ctx;
	void (*say)(const char *);	/* one line per note, no newline */
};

enum pk_dl_state { PK_DL_FETCHED = 1, PK_DL_PRESENT, PK_DL_FAILED,
	PK_DL_SKIPPED };

struct pk_dl_result {
	enum pk_dl_state state;
	char *why;		/* failed or skipped: why (malloc'ed) */
	char md5[33];		/* of the file on disk, when computed */
	uint32_t crc32c;
	uint64_t size;
};

/*
 * Fetch objects into the directory open as dirfd.  res[i] gets the outcome
 * of objs[i] (free with pk_dl_results_free).  Memory is O(jobs) beyond
 * res.  A .part is kept after a failure only when it holds bytes and a
 * validator to resume them with (the hidden sidecar .NAME.part.validator);
 * otherwise nothing is left.  Returns the number of failures.
 */
size_t pk_dl_run(int dirfd, const struct pk_object *objs, size_t n,
    const struct pk_dl_opts *o, struct pk_dl_result *res);
void pk_dl_results_free(struct pk_dl_result *res, size_t n);

#endif
