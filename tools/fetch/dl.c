/*
 * dl.c - the download engine: parallel transfers on one curl multi handle
 * (connections are kept alive in its cache), each into NAME.part, resumed
 * with Range after a cut, verified (size, then MD5 or CRC-32C from the
 * listing or the response headers) and renamed into place.
 *
 * A server is not trusted with the disk: a body is cut off the moment it
 * passes the listed size, its Content-Length, or max_size when neither is
 * known.  A resume is done only for the same version of the object: the
 * ETag or GCS generation of the response that began the .part is kept in
 * a hidden sidecar, .NAME.part.validator, and sent back as If-Range (or
 * ifGenerationMatch); without one the .part is started again from byte 0.
 *
 * Names come from untrusted listings.  They were checked by
 * pk_safe_relpath; here every directory is opened with O_NOFOLLOW relative
 * to the one before it, so a symlink planted in the output directory is
 * never followed, and an existing file is never written through.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "dl.h"
#include "merge.h"

enum xstate { X_PENDING, X_ACTIVE, X_WAITING, X_DONE };

struct eng;

struct xfer {
	struct eng *e;
	size_t idx;
	enum xstate st;
	struct pk_validator v;	/* of the bytes in .part; empty: none */
	uint64_t limit;		/* the most bytes the body may bring */
	int oversize;		/* cut off at limit */
	int dfd;		/* the directory the file goes in */
	const char *base;	/* its name there (points into name) */
	char *part;		/* base + ".part" */
	int fd;			/* the .part file */
	uint64_t from;		/* this attempt's first byte */
	uint64_t written;	/* bytes in .part */
	struct hasher *hs;	/* MD5 and CRC-32C of those bytes */
	int attempt;
	int64_t due;
	long status;
	int checked;		/* status looked at by the write callback */
	int restart;		/* the server's reply means: start over */
	int werr;		/* errno of a failed write */
	struct pk_resp_hdrs h;
	struct pk_buf ebody;	/* body of an error response */
	CURL *easy;
	struct pk_req rq;
	char curlerr[CURL_ERROR_SIZE];
	char why[PK_ERRLEN];
};

struct eng {
	const struct pk_object *objs;
	struct pk_dl_result *res;
	const struct pk_dl_opts *o;
	struct xfer **live;	/* in flight (active or waiting): <= jobs */
	size_t nlive;
	size_t n;
	int rootfd;
	CURLM *multi;
	size_t active, done, failed;
	uint64_t total, bytes;	/* for progress */
	int64_t lastprog;
};

static void
say(const struct eng *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
say(const struct eng *e, const char *fmt, ...)
{
	char msg[PK_ERRLEN + 256];
	va_list ap;

	if (e->o->say == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	e->o->say(msg);
}

/* Tell the caller's meter, at most twice a second (and at the end). */
static void
progress(struct eng *e, int final)
{
	int64_t now = pk_now_ms();

	if (e->o->progress == NULL || (!final && now - e->lastprog < 500))
		return;
	e->lastprog = now;
	e->o->progress(e->o->ctx_progress, e->done, e->n, e->bytes, e->total,
	    final);
}

/*
 * Hashing off the transfer thread.  MD5 runs at about 0.6 GB/s on one core,
 * which bounded a whole download when the one thread that receives and
 * writes also hashed.  Each transfer's bytes now go, in order, through a
 * ring to a thread of its own that keeps their MD5 and CRC-32C, so another
 * core hashes while this one receives and writes.  The ring is drained
 * (hash_sync) before the hashes are read or reset; the hashing thread only
 * touches them while it holds bytes not yet hashed, so after a drain they
 * are the caller's.  Without a thread (pthread_create failed) the bytes are
 * hashed in place, as before.
 */
#define HASH_RING ((size_t)1 << 20)
#define HASH_CHUNK ((size_t)256 << 10)

struct hasher {
	pthread_t t;
	pthread_mutex_t mu;
	pthread_cond_t cv;	/* bytes in, bytes hashed, stop */
	unsigned char *ring;	/* HASH_RING bytes */
	uint64_t head, tail;	/* bytes put in, bytes hashed */
	int stop, threaded;
	EVP_MD_CTX *md5;
	uint32_t crc;
};

/* n bytes into both hashes; with a thread, on it only. */
static void
hash_bytes(struct hasher *h, const void *p, size_t n)
{
	EVP_DigestUpdate(h->md5, p, n);
	h->crc = pm_crc32c(h->crc, p, n);
}

static void *
hasher_main(void *arg)
{
	struct hasher *h = arg;
	size_t off, n;

	pthread_mutex_lock(&h->mu);
	for (;;) {
		while (h->head == h->tail && !h->stop)
			pthread_cond_wait(&h->cv, &h->mu);
		if (h->head == h->tail)
			break;
		off = (size_t)(h->tail % HASH_RING);
		n = (size_t)(h->head - h->tail);
		if (n > HASH_RING - off)
			n = HASH_RING - off;
		if (n > HASH_CHUNK)
			n = HASH_CHUNK;
		pthread_mutex_unlock(&h->mu);
		hash_bytes(h, h->ring + off, n);
		pthread_mutex_lock(&h->mu);
		h->tail += n;
		pthread_cond_broadcast(&h->cv);
	}
	pthread_mutex_unlock(&h->mu);
	return NULL;
}

static void
hasher_free(struct hasher *h)
{
	if (h == NULL)
		return;
	if (h->threaded) {
		pthread_mutex_lock(&h->mu);
		h->stop = 1;
		pthread_cond_broadcast(&h->cv);
		pthread_mutex_unlock(&h->mu);
		pthread_join(h->t, NULL);
		pthread_cond_destroy(&h->cv);
		pthread_mutex_destroy(&h->mu);
	}
	EVP_MD_CTX_free(h->md5);
	free(h->ring);
	free(h);
}

static struct hasher *
hasher_new(void)
{
	struct hasher *h = calloc(1, sizeof(*h));

	if (h == NULL || (h->md5 = EVP_MD_CTX_new()) == NULL) {
		free(h);
		return NULL;
	}
	EVP_DigestInit_ex(h->md5, EVP_md5(), NULL);
	if ((h->ring = malloc(HASH_RING)) != NULL &&
	    pthread_mutex_init(&h->mu, NULL) == 0) {
		if (pthread_cond_init(&h->cv, NULL) == 0) {
			if (pthread_create(&h->t, NULL, hasher_main, h) == 0) {
				h->threaded = 1;
				return h;
			}
			pthread_cond_destroy(&h->cv);
		}
		pthread_mutex_destroy(&h->mu);
	}
	return h;		/* hashes in place */
}

/* Wait until every byte put in is hashed. */
static void
hash_sync(struct xfer *x)
{
	struct hasher *h = x->hs;

	if (!h->threaded)
		return;
	pthread_mutex_lock(&h->mu);
	while (h->tail != h->head)
		pthread_cond_wait(&h->cv, &h->mu);
	pthread_mutex_unlock(&h->mu);
}

static void
hash_reset(struct xfer *x)
{
	hash_sync(x);
	EVP_DigestInit_ex(x->hs->md5, EVP_md5(), NULL);
	x->hs->crc = 0;
}

static void
hash_add(struct xfer *x, const void *p, size_t n)
{
	struct hasher *h = x->hs;
	const unsigned char *b = p;
	size_t off, k;

	if (!h->threaded) {
		hash_bytes(h, p, n);
		return;
	}
	while (n > 0) {
		pthread_mutex_lock(&h->mu);
		while (h->head - h->tail == HASH_RING)
			pthread_cond_wait(&h->cv, &h->mu);
		k = HASH_RING - (size_t)(h->head - h->tail);
		off = (size_t)(h->head % HASH_RING);
		pthread_mutex_unlock(&h->mu);
		/* [head, head + k) is the producer's until head moves */
		if (k > HASH_RING - off)
			k = HASH_RING - off;
		if (k > n)
			k = n;
		memcpy(h->ring + off, b, k);
		pthread_mutex_lock(&h->mu);
		h->head += k;
		pthread_cond_broadcast(&h->cv);
		pthread_mutex_unlock(&h->mu);
		b += k;
		n -= k;
	}
}

/* The CRC-32C of the bytes so far. */
static uint32_t
hash_crc(struct xfer *x)
{
	hash_sync(x);
	return x->hs->crc;
}

static void
hash_hex(struct xfer *x, char out[33])
{
	unsigned char d[16];
	unsigned dl = 0;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int i;

	hash_sync(x);
	/* Finish a copy so that more bytes could still be added. */
	EVP_MD_CTX_copy_ex(c, x->hs->md5);
	EVP_DigestFinal_ex(c, d, &dl);
	EVP_MD_CTX_free(c);
	for (i = 0; i < 16; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

/* Hash the first len bytes of fd into x. */
static int
hash_fd(struct xfer *x, int fd, uint64_t len)
{
	static char buf[1 << 20];
	uint64_t off = 0;
	ssize_t r;

	while (off < len) {
		size_t want = len - off < sizeof(buf) ? (size_t)(len - off) :
		    sizeof(buf);
		r = pread(fd, buf, want, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		hash_add(x, buf, (size_t)r);
		off += (uint64_t)r;
	}
	return 0;
}

/* Open (creating) the directories of name under root; returns a fd. */
static int
open_parent(int root, const char *name, const char **base, char *why)
{
	char comp[256];
	const char *p = name, *s;
	int fd = dup(root), nfd;

	while (fd >= 0 && (s = strchr(p, '/')) != NULL) {
		snprintf(comp, sizeof(comp), "%.*s", (int)(s - p), p);
		if (mkdirat(fd, comp, 0755) < 0 && errno != EEXIST) {
			snprintf(why, PK_ERRLEN, "mkdir %s: %s", comp,
			    strerror(errno));
			close(fd);
			return -1;
		}
		nfd = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		if (nfd < 0) {
			snprintf(why, PK_ERRLEN, "%s: %s", comp,
			    errno == ELOOP || errno == ENOTDIR ?
			    "not a directory (a symlink is not followed)" :
			    strerror(errno));
			close(fd);
			return -1;
		}
		close(fd);
		fd = nfd;
		p = s + 1;
	}
	if (fd < 0)
		snprintf(why, PK_ERRLEN, "%s", strerror(errno));
	*base = p;
	return fd;
}

static void expected_hash(const struct eng *e, const struct xfer *x,
    char md5[33], uint32_t *crc, int *have_crc);

/*
 * Whether the bytes hashed into x match what the store said.  Returns 1
 * yes, 0 nothing to compare with, -1 mismatch (why set).
 */
static int
verify(struct eng *e, struct xfer *x)
{
	struct pk_dl_result *r = &e->res[x->idx];
	char want[33], got[33];
	uint32_t wcrc = 0;
	int have_crc = 0;

	hash_hex(x, got);
	memcpy(r->md5, got, sizeof(got));
	r->crc32c = hash_crc(x);
	expected_hash(e, x, want, &wcrc, &have_crc);
	if (want[0] != '\0') {
		if (strcmp(want, got) != 0) {
			snprintf(x->why, PK_ERRLEN,
			    "MD5 mismatch: got %s, expected %s", got, want);
			return -1;
		}
		return 1;
	}
	if (have_crc) {
		if (wcrc != r->crc32c) {
			snprintf(x->why, PK_ERRLEN,
			    "CRC-32C mismatch: got %08x, expected %08x",
			    r->crc32c, wcrc);
			return -1;
		}
		return 1;
	}
	return 0;
}

/* The checksum to expect: the listing's, else the response's headers. */
static void
expected_hash(const struct eng *e, const struct xfer *x, char md5[33],
    uint32_t *crc, int *have_crc)
{
	const struct pk_object *o = &e->objs[x->idx];
	const char *g;
	char b64[48];

	md5[0] = '\0';
	*have_crc = 0;
	if (o->md5[0] != '\0') {
		memcpy(md5, o->md5, 33);
		return;
	}
	if (o->have_crc32c) {
		*crc = o->crc32c;
		*have_crc = 1;
		return;
	}
	/* x-goog-hash: crc32c=BASE64,md5=BASE64 */
	if ((g = strstr(x->h.goog_hash, "md5=")) != NULL) {
		snprintf(b64, sizeof(b64), "%.*s", (int)strcspn(g + 4, ", "),
		    g + 4);
		pk_md5_from_b64(b64, md5);
		if (md5[0] != '\0')
			return;
	}
	if ((g = strstr(x->h.goog_hash, "crc32c=")) != NULL) {
		snprintf(b64, sizeof(b64), "%.*s", (int)strcspn(g + 7, ", "),
		    g + 7);
		if (pk_crc32c_from_b64(b64, crc) == 0) {
			*have_crc = 1;
			return;
		}
	}
	/* An S3 ETag, when it is a plain MD5 (not multipart "-N"). */
	if (x->h.etag[0] != '\0')
		pk_etag_md5(x->h.etag, md5);
}

/* ".NAME.part.validator", malloc'ed */
static char *
sidecar_name(const struct xfer *x)
{
	char *n = malloc(strlen(x->base) + 32);

	if (n != NULL)
		sprintf(n, ".%s.part.validator", x->base);
	return n;
}

static void
sidecar_remove(const struct xfer *x)
{
	char *n = sidecar_name(x);

	if (n != NULL)
		unlinkat(x->dfd, n, 0);
	free(n);
}

/* Record the validator of the bytes about to go into .part (or none). */
static int
sidecar_write(const struct xfer *x)
{
	char *n = sidecar_name(x), line[128];
	int fd, len, rc = -1;

	if (n == NULL)
		return -1;
	if (x->v.etag[0] == '\0' && x->v.generation < 0) {
		unlinkat(x->dfd, n, 0);
		free(n);
		return 0;
	}
	if (x->v.generation >= 0)
		len = snprintf(line, sizeof(line), "generation %lld\n",
		    (long long)x->v.generation);
	else
		len = snprintf(line, sizeof(line), "etag %s\n", x->v.etag);
	fd = openat(x->dfd, n, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0644);
	if (fd >= 0) {
		rc = write(fd, line, (size_t)len) == len ? 0 : -1;
		if (close(fd) < 0)
			rc = -1;
	}
	free(n);
	return rc;
}

/* The validator kept beside a .part; 0 read, -1 none or unreadable. */
static int
sidecar_read(struct xfer *x)
{
	char *n = sidecar_name(x), line[128], *e;
	ssize_t r;
	int fd;

	memset(&x->v, 0, sizeof(x->v));
	x->v.generation = -1;
	if (n == NULL)
		return -1;
	fd = openat(x->dfd, n, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	free(n);
	if (fd < 0)
		return -1;
	r = read(fd, line, sizeof(line) - 1);
	close(fd);
	if (r <= 0 || line[r - 1] != '\n')
		return -1;
	line[r - 1] = '\0';
	if (strncmp(line, "generation ", 11) == 0) {
		long long g = strtoll(line + 11, &e, 10);
		if (*e != '\0' || e == line + 11 || g < 0)
			return -1;
		x->v.generation = g;
		return 0;
	}
	if (strncmp(line, "etag ", 5) == 0 && line[5] != '\0' &&
	    strlen(line + 5) < sizeof(x->v.etag)) {
		memcpy(x->v.etag, line + 5, strlen(line + 5) + 1);
		return 0;
	}
	return -1;
}

static void
finish(struct eng *e, struct xfer *x, enum pk_dl_state st, const char *why)
{
	struct pk_dl_result *r = &e->res[x->idx];

	r->state = st;
	if (why != NULL && (r->why = strdup(why)) == NULL)
		r->why = NULL;
	/*
	 * Nothing partial stays behind unless it can be resumed: a .part
	 * with bytes and a validator, after a failure that may pass (not a
	 * 4xx, not a body over its bound).
	 */
	if (x->part != NULL && x->dfd >= 0 && st != PK_DL_FETCHED &&
	    st != PK_DL_PRESENT && (x->written == 0 || x->oversize ||
	    (x->status >= 400 && x->status < 500) ||
	    (x->v.etag[0] == '\0' && x->v.generation < 0))) {
		unlinkat(x->dfd, x->part, 0);
		sidecar_remove(x);
	}
	if (st == PK_DL_FETCHED && x->dfd >= 0)
		sidecar_remove(x);
	if (x->fd >= 0)
		close(x->fd);
	x->fd = -1;
	if (x->dfd >= 0)
		close(x->dfd);
	x->dfd = -1;
	hasher_free(x->hs);
	x->hs = NULL;
	free(x->part);
	x->part = NULL;
	pk_buf_free(&x->ebody);
	x->st = X_DONE;
	e->done++;
	if (st == PK_DL_FAILED || st == PK_DL_SKIPPED) {
		e->failed++;
		say(e, "%s: %s", e->objs[x->idx].name, why);
	}
}

/* Try again later, or give up after the last attempt. */
static void
retry(struct eng *e, struct xfer *x, int64_t retry_after)
{
	int64_t d;

	if (x->attempt >= e->o->retry.attempts) {
		char why[PK_ERRLEN + 32];
		snprintf(why, sizeof(why), "%s (after %d attempts)", x->why,
		    x->attempt);
		finish(e, x, PK_DL_FAILED, why);
		return;
	}
	d = pk_retry_delay_ms(&e->o->retry, x->attempt + 1, retry_after,
	    pk_random64());
	say(e, "%s: %s; retrying in %.1f s", e->objs[x->idx].name, x->why,
	    (double)d / 1000);
	x->due = pk_now_ms() + d;
	x->st = X_WAITING;
}

/* Drop the .part contents: the next attempt starts at byte 0. */
static int
restart_part(struct xfer *x)
{
	if (ftruncate(x->fd, 0) < 0 || lseek(x->fd, 0, SEEK_SET) < 0)
		return -1;
	x->written = 0;
	hash_reset(x);
	memset(&x->v, 0, sizeof(x->v));
	x->v.generation = -1;
	sidecar_remove(x);
	return 0;
}

/* The .part's bytes are bad: drop them and try again from byte 0. */
static void
refetch(struct eng *e, struct xfer *x)
{
	if (restart_part(x) < 0)
		finish(e, x, PK_DL_FAILED, strerror(errno));
	else
		retry(e, x, -1);
}

/* The .part is complete and verified (or has nothing to verify against). */
static void
commit(struct eng *e, struct xfer *x)
{
	if (renameat(x->dfd, x->part, x->dfd, x->base) < 0) {
		char why[PK_ERRLEN];
		snprintf(why, sizeof(why), "rename: %s", strerror(errno));
		finish(e, x, PK_DL_FAILED, why);
		return;
	}
	e->res[x->idx].size = x->written;
	finish(e, x, PK_DL_FETCHED, NULL);
}

/* Check a complete .part: size, then checksum; commit or retry. */
static void
complete(struct eng *e, struct xfer *x)
{
	if (verify(e, x) < 0) {
		/* A wrong checksum: the bytes are bad, fetch them again. */
		refetch(e, x);
		return;
	}
	commit(e, x);
}

/*
 * First look at an object: already present and good, resumable from a
 * .part, or new.  Returns 1 ready to transfer, 0 finished here.
 */
static int
prepare(struct eng *e, struct xfer *x)
{
	const struct pk_object *o = &e->objs[x->idx];
	struct stat sb;
	char why[PK_ERRLEN];
	int fd;

	if (o->unsafe) {
		snprintf(why, sizeof(why), "unsafe name '%s' (%s); skipped",
		    o->name, o->why);
		finish(e, x, PK_DL_SKIPPED, why);
		return 0;
	}
	if (o->have_size && e->o->max_size > 0 && o->size > e->o->max_size) {
		snprintf(why, sizeof(why), "listed as %llu bytes, over the "
		    "--max-size of %llu; skipped", (unsigned long long)o->size,
		    (unsigned long long)e->o->max_size);
		finish(e, x, PK_DL_SKIPPED, why);
		return 0;
	}
	if ((x->dfd = open_parent(e->rootfd, o->name, &x->base, why)) < 0) {
		finish(e, x, PK_DL_FAILED, why);
		return 0;
	}
	if ((x->hs = hasher_new()) == NULL ||
	    (x->part = malloc(strlen(x->base) + 6)) == NULL) {
		finish(e, x, PK_DL_FAILED, "out of memory");
		return 0;
	}
	sprintf(x->part, "%s.part", x->base);
	hash_reset(x);

	if (fstatat(x->dfd, x->base, &sb, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!S_ISREG(sb.st_mode)) {
			finish(e, x, PK_DL_FAILED, "exists and is not a "
			    "regular file (a symlink is not followed)");
			return 0;
		}
		if (o->have_size && (uint64_t)sb.st_size == o->size &&
		    (fd = openat(x->dfd, x->base, O_RDONLY | O_NOFOLLOW |
		    O_CLOEXEC)) >= 0) {
			int ok = hash_fd(x, fd, o->size) == 0;
			close(fd);
			x->written = o->size;
			if (ok && verify(e, x) >= 0) {
				e->res[x->idx].size = o->size;
				e->bytes += o->size;
				finish(e, x, PK_DL_PRESENT, NULL);
				return 0;
			}
			hash_reset(x);
		}
		/* Present but different: fetched again, then replaced. */
	}
	x->fd = openat(x->dfd, x->part, O_RDWR | O_CREAT | O_NOFOLLOW |
	    O_CLOEXEC, 0644);
	if (x->fd < 0) {
		snprintf(why, sizeof(why), "%s: %s", x->part,
		    errno == ELOOP ? "is a symlink; not followed" :
		    strerror(errno));
		finish(e, x, PK_DL_FAILED, why);
		return 0;
	}
	if (fstat(x->fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		finish(e, x, PK_DL_FAILED, "the .part is not a regular file");
		return 0;
	}
	x->written = (uint64_t)sb.st_size;
	if (x->written > 0) {
		const char *no = NULL;
		char md5[33];

		/*
		 * Bytes of the same version, or none: the validator kept
		 * beside the .part, agreeing with the listing when the
		 * listing says (an ETag that is an MD5, a generation).
		 */
		if (sidecar_read(x) < 0)
			no = "has no validator";
		else if (x->v.generation >= 0 && o->generation >= 0 &&
		    x->v.generation != o->generation)
			no = "is of another generation";
		else if (x->v.etag[0] != '\0' && o->md5[0] != '\0' &&
		    (pk_etag_md5(x->v.etag, md5), md5[0] != '\0') &&
		    strcmp(md5, o->md5) != 0)
			no = "is of another version (ETag)";
		else if (o->have_size && x->written > o->size)
			no = "is longer than the object";
		else if (hash_fd(x, x->fd, x->written) < 0)
			no = "cannot be read";
		if (no != NULL) {
			say(e, "%s: the .part %s; fetching from byte 0",
			    o->name, no);
			if (restart_part(x) < 0) {
				finish(e, x, PK_DL_FAILED, strerror(errno));
				return 0;
			}
		}
	}
	if (lseek(x->fd, (off_t)x->written, SEEK_SET) < 0) {
		finish(e, x, PK_DL_FAILED, strerror(errno));
		return 0;
	}
	e->bytes += x->written;
	if (x->written > 0)
		say(e, "%s: resuming at byte %llu", o->name,
		    (unsigned long long)x->written);
	if (o->have_size && x->written == o->size && o->size > 0 &&
	    (o->md5[0] != '\0' || o->have_crc32c)) {
		complete(e, x);
		return 0;
	}
	return 1;
}

static int
parse_content_range(const char *cr, uint64_t *start, uint64_t *total,
    int *have_total)
{
	unsigned long long a, b, t;
	char star;

	*have_total = 0;
	if (sscanf(cr, "bytes %llu-%llu/%llu", &a, &b, &t) == 3) {
		*start = a;
		*total = t;
		*have_total = 1;
		return 0;
	}
	if (sscanf(cr, "bytes %llu-%llu/%c", &a, &b, &star) == 3 &&
	    star == '*') {
		*start = a;
		return 0;
	}
	return -1;
}

static size_t
write_cb(char *p, size_t size, size_t nm, void *arg)
{
	struct xfer *x = arg;
	size_t n = size * nm, off = 0;
	ssize_t w;

	if (!x->checked) {
		x->checked = 1;
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->status);
		if (x->status == 206) {
			uint64_t s = 0, t = 0;
			int ht;
			if (parse_content_range(x->h.content_range, &s, &t,
			    &ht) < 0 || s != x->from) {
				snprintf(x->why, PK_ERRLEN, "HTTP 206 with "
				    "Content-Range '%s' for a request from "
				    "byte %llu", x->h.content_range,
				    (unsigned long long)x->from);
				x->restart = 1;
				return 0;
			}
			/* If-Range honoured: the same version, or say so. */
			if ((x->v.etag[0] != '\0' && x->h.etag[0] != '\0' &&
			    strcmp(x->v.etag, x->h.etag) != 0) ||
			    (x->v.generation >= 0 && x->h.generation >= 0 &&
			    x->v.generation != x->h.generation)) {
				snprintf(x->why, PK_ERRLEN, "HTTP 206 for "
				    "another version of the object");
				x->restart = 1;
				return 0;
			}
		} else if (x->status == 200 && x->from > 0) {
			/*
			 * The server ignored Range, or If-Range said the
			 * object changed: take the whole object.
			 */
			if (restart_part(x) < 0) {
				x->werr = errno;
				return 0;
			}
			x->from = 0;
		}
		if (x->status == 200) {
			/* This body begins the .part: keep its validator. */
			snprintf(x->v.etag, sizeof(x->v.etag), "%s",
			    strncmp(x->h.etag, "W/", 2) == 0 ? "" : x->h.etag);
			x->v.generation = x->h.generation;
			if (sidecar_write(x) < 0) {
				x->werr = errno ? errno : EIO;
				return 0;
			}
		}
		if (x->status == 200 || x->status == 206) {
			const struct pk_object *o = &x->e->objs[x->idx];
			int64_t cl = x->h.content_length;

			/* The most this body may bring, known before it does. */
			if (o->have_size) {
				x->limit = o->size;
				if (cl >= 0 && x->from + (uint64_t)cl != o->size) {
					snprintf(x->why, PK_ERRLEN, "Content-Length "
					    "%lld from byte %llu disagrees with "
					    "the listed size %llu", (long long)cl,
					    (unsigned long long)x->from,
					    (unsigned long long)o->size);
					x->oversize = 1;
					return 0;
				}
			} else if (cl >= 0)
				x->limit = x->from + (uint64_t)cl;
			else
				x->limit = x->e->o->max_size;
			if (!o->have_size && x->e->o->max_size > 0 &&
			    x->limit > x->e->o->max_size) {
				snprintf(x->why, PK_ERRLEN, "Content-Length "
				    "%lld is over the --max-size of %llu",
				    (long long)cl,
				    (unsigned long long)x->e->o->max_size);
				x->oversize = 1;
				return 0;
			}
		}
	}
	if (x->status != 200 && x->status != 206) {
		if (x->ebody.n < 4096)
			pk_buf_add(&x->ebody, p, n < 4096 ? n : 4096);
		return n;
	}
	if (x->limit > 0 && (x->written + n > x->limit || x->written + n < n)) {
		snprintf(x->why, PK_ERRLEN, "the body goes on past %llu bytes "
		    "(%s); cut off", (unsigned long long)x->limit,
		    x->e->objs[x->idx].have_size ? "the listed size" :
		    x->h.content_length >= 0 ? "its Content-Length" :
		    "--max-size");
		x->oversize = 1;
		return 0;
	}
	while (off < n) {
		w = write(x->fd, p + off, n - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			x->werr = errno;
			return 0;
		}
		off += (size_t)w;
	}
	hash_add(x, p, n);
	x->written += n;
	x->e->bytes += n;
	return n;
}

static int
start(struct eng *e, struct xfer *x)
{
	const struct pk_object *o = &e->objs[x->idx];
	char why[PK_ERRLEN];

	x->attempt++;
	/* Resume only what a validator vouches for. */
	if (x->written > 0 && x->v.etag[0] == '\0' && x->v.generation < 0 &&
	    restart_part(x) < 0) {
		finish(e, x, PK_DL_FAILED, strerror(errno));
		return -1;
	}
	x->from = x->written;
	x->limit = 0;
	x->checked = 0;
	x->restart = 0;
	x->werr = 0;
	x->status = 0;
	x->curlerr[0] = '\0';
	pk_buf_free(&x->ebody);
	pk_resp_hdrs_reset(&x->h);
	pk_req_free(&x->rq);
	if (e->o->get(e->o->ctx, o, x->from, &x->v, &x->rq, why) < 0) {
		finish(e, x, PK_DL_FAILED, why);
		return -1;
	}
	if (x->rq.secret && pk_secret_transport(x->rq.url,
	    e->o->retry.allow_http, why, sizeof(why)) < 0) {
		finish(e, x, PK_DL_FAILED, why);
		return -1;
	}
	if ((x->easy = curl_easy_init()) == NULL) {
		finish(e, x, PK_DL_FAILED, "cannot start a transfer");
		return -1;
	}
	pk_curl_common(x->easy, &e->o->retry, 1);
	curl_easy_setopt(x->easy, CURLOPT_URL, x->rq.url);
	curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->rq.hdrs);
	curl_easy_setopt(x->easy, CURLOPT_ERRORBUFFER, x->curlerr);
	curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(x->easy, CURLOPT_HEADERFUNCTION, pk_resp_hdr_cb);
	curl_easy_setopt(x->easy, CURLOPT_HEADERDATA, &x->h);
	curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
	curl_easy_setopt(x->easy, CURLOPT_BUFFERSIZE, 256L * 1024);
	if (curl_multi_add_handle(e->multi, x->easy) != CURLM_OK) {
		curl_easy_cleanup(x->easy);
		x->easy = NULL;
		finish(e, x, PK_DL_FAILED, "cannot start a transfer");
		return -1;
	}
	x->st = X_ACTIVE;
	e->active++;
	return 0;
}

static void
ended(struct eng *e, struct xfer *x, CURLcode cc)
{
	const struct pk_object *o = &e->objs[x->idx];
	char reason[300];
	uint64_t want = 0;
	int have_want = 0;

	curl_multi_remove_handle(e->multi, x->easy);
	if (x->status == 0)
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->status);
	curl_easy_cleanup(x->easy);
	x->easy = NULL;
	e->active--;

	if (x->werr != 0) {
		char why[PK_ERRLEN];
		snprintf(why, sizeof(why), "%s: write: %s", x->part,
		    strerror(x->werr));
		unlinkat(x->dfd, x->part, 0);
		finish(e, x, PK_DL_FAILED, why);
		return;
	}
	if (x->oversize) {
		finish(e, x, PK_DL_FAILED, x->why);
		return;
	}
	if (x->restart) {
		refetch(e, x);
		return;
	}
	if (cc != CURLE_OK && x->status != 200 && x->status != 206) {
		snprintf(x->why, PK_ERRLEN, "%s", x->curlerr[0] ? x->curlerr :
		    curl_easy_strerror(cc));
		if (pk_curl_transient(cc))
			retry(e, x, -1);
		else
			finish(e, x, PK_DL_FAILED, x->why);
		return;
	}
	if (x->status == 412 && x->from > 0) {
		/* ifGenerationMatch: the object is another generation now. */
		snprintf(x->why, PK_ERRLEN, "the object changed since the "
		    ".part was begun");
		refetch(e, x);
		return;
	}
	if (x->status == 416) {
		/* The .part already holds at least the whole object. */
		if (o->have_size && x->written == o->size) {
			complete(e, x);
			return;
		}
		snprintf(x->why, PK_ERRLEN, "HTTP 416 at byte %llu",
		    (unsigned long long)x->from);
		refetch(e, x);
		return;
	}
	if (x->status == 429 || x->status >= 500) {
		pk_error_reason(x->ebody.p, x->ebody.n, reason, sizeof(reason));
		snprintf(x->why, PK_ERRLEN, "HTTP %ld%s", x->status, reason);
		retry(e, x, pk_retry_after_ms(x->h.retry_after, time(NULL)));
		return;
	}
	if (x->status != 200 && x->status != 206) {
		char why[PK_ERRLEN];
		pk_error_reason(x->ebody.p, x->ebody.n, reason, sizeof(reason));
		snprintf(why, sizeof(why), "HTTP %ld%s", x->status, reason);
		finish(e, x, PK_DL_FAILED, why);
		return;
	}
	/* 200 or 206, with the transfer cut or whole. */
	if (o->have_size) {
		want = o->size;
		have_want = 1;
	} else {
		uint64_t s, t;
		int ht;
		if (x->status == 206 && parse_content_range(x->h.content_range,
		    &s, &t, &ht) == 0 && ht) {
			want = t;
			have_want = 1;
		} else if (x->h.content_length >= 0) {
			want = x->from + (uint64_t)x->h.content_length;
			have_want = 1;
		}
	}
	if (cc != CURLE_OK || (have_want && x->written < want)) {
		snprintf(x->why, PK_ERRLEN, "transfer cut at byte %llu%s%s",
		    (unsigned long long)x->written, cc != CURLE_OK ? ": " : "",
		    cc != CURLE_OK ? (x->curlerr[0] ? x->curlerr :
		    curl_easy_strerror(cc)) : "");
		if (cc == CURLE_OK || pk_curl_transient(cc))
			retry(e, x, -1);
		else
			finish(e, x, PK_DL_FAILED, x->why);
		return;
	}
	if (have_want && x->written > want) {
		snprintf(x->why, PK_ERRLEN, "%llu bytes received, %llu expected",
		    (unsigned long long)x->written, (unsigned long long)want);
		refetch(e, x);
		return;
	}
	complete(e, x);
}

/* A new transfer for objs[idx], in flight; NULL out of memory. */
static struct xfer *
xfer_new(struct eng *e, size_t idx)
{
	struct xfer *x = calloc(1, sizeof(*x));

	if (x == NULL)
		return NULL;
	x->e = e;
	x->idx = idx;
	x->fd = x->dfd = -1;
	x->v.generation = -1;
	e->live[e->nlive++] = x;
	return x;
}

/* Free the transfers that are done. */
static void
sweep(struct eng *e)
{
	size_t i, k = 0;

	for (i = 0; i < e->nlive; i++) {
		struct xfer *x = e->live[i];

		if (x->st == X_DONE) {
			pk_req_free(&x->rq);
			free(x);
		} else
			e->live[k++] = x;
	}
	e->nlive = k;
}

void
pk_dl_results_free(struct pk_dl_result *res, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(res[i].why);
	free(res);
}

size_t
pk_dl_run(int dirfd, const struct pk_object *objs, size_t n,
    const struct pk_dl_opts *o, struct pk_dl_result *res)
{
	struct eng e;
	size_t i, next = 0;
	int jobs = o->jobs > 0 ? o->jobs : 4;

	memset(&e, 0, sizeof(e));
	e.objs = objs;
	e.res = res;
	e.o = o;
	e.n = n;
	e.rootfd = dirfd;
	e.lastprog = pk_now_ms();
	memset(res, 0, n * sizeof(*res));
	if ((e.live = calloc((size_t)jobs, sizeof(*e.live))) == NULL ||
	    (e.multi = curl_multi_init()) == NULL) {
		for (i = 0; i < n; i++) {
			res[i].state = PK_DL_FAILED;
			res[i].why = strdup("out of memory");
		}
		free(e.live);
		return n;
	}
	/* Keep-alive: as many cached connections as transfers. */
	curl_multi_setopt(e.multi, CURLMOPT_MAXCONNECTS, (long)jobs);
	for (i = 0; i < n; i++)
		if (objs[i].have_size)
			e.total += objs[i].size;

	while (e.done < n) {
		int64_t now = pk_now_ms(), wait = 1000;
		int running, left;
		CURLMsg *m;

		/*
		 * Due retries first, then new objects; at most -j in flight,
		 * a transfer waiting out its backoff included (so that a
		 * throttling server sees fewer requests, not more).
		 */
		for (i = 0; i < e.nlive; i++) {
			struct xfer *x = e.live[i];
			if (x->st == X_WAITING && x->due <= now)
				start(&e, x);
		}
		sweep(&e);
		while (e.nlive < (size_t)jobs && next < n) {
			struct xfer *x = xfer_new(&e, next++);
			if (x == NULL) {
				res[next - 1].state = PK_DL_FAILED;
				res[next - 1].why = strdup("out of memory");
				e.done++;
				e.failed++;
				continue;
			}
			if (prepare(&e, x))
				start(&e, x);
			sweep(&e);
		}
		for (i = 0; i < e.nlive; i++)
			if (e.live[i]->st == X_WAITING &&
			    e.live[i]->due - now < wait)
				wait = e.live[i]->due - now > 0 ?
				    e.live[i]->due - now : 0;
		if (e.done >= n)
			break;
		if (e.active > 0) {
			curl_multi_poll(e.multi, NULL, 0, (int)wait, NULL);
			curl_multi_perform(e.multi, &running);
			while ((m = curl_multi_info_read(e.multi, &left)) != NULL) {
				struct xfer *x;
				if (m->msg != CURLMSG_DONE)
					continue;
				curl_easy_getinfo(m->easy_handle,
				    CURLINFO_PRIVATE, (char **)&x);
				ended(&e, x, m->data.result);
			}
			sweep(&e);
		} else if (wait > 0) {
			pk_sleep_ms(wait);
		}
		progress(&e, 0);
	}
	progress(&e, 1);
	sweep(&e);
	curl_multi_cleanup(e.multi);
	free(e.live);
	return e.failed;
}
