/*
 * writer.c - pcap and pcapng writers, plain, gzip or zstd.
 *
 * Output goes one of two ways, chosen by pm_writer_open from the kind of
 * file descriptor.
 *
 * Lending, into a character device such as /dev/null, which never reads
 * what it is given: a gather list, iovecs in output order, pointing either
 * into the writer's own 256 KiB arena (file headers, record headers,
 * copied packets) or, for pm_writer_write_ref(), straight at the packet
 * bytes in a merge's read buffers.  One writev(2) sends up to IOV_MAX
 * pieces, so a packet costs no copy at all, and an unchanged classic pcap
 * record is sent as it was read (one piece; consecutive records of one
 * input coalesce).  Before a read buffer moves, the merge calls
 * pm_writer_release() with that buffer: the pieces borrowed from it are
 * copied into the arena, or, if they come to 32 KiB or more, the whole
 * list is written.  Only that buffer's pieces: with 2,048 inputs a buffer
 * moves every hundred packets or so and has lent one or two of them, so
 * copying everything borrowed (or a writev each time) cost a quarter of
 * the merge.
 *
 * Write-behind, into anything else (a file, a pipe, a socket), where the
 * kernel copies every byte it is given and that copy takes as long as a
 * merge's own work: every packet is copied into the arena, which stages
 * it for 128 KiB blocks; a thread of the writer's own writes the blocks,
 * up to WT_NBLK behind, while the caller fills the next one.  The blocks
 * are filled with streamed (non-temporal) stores: with plain ones each
 * line had first to be taken from the core whose write(2) read it last,
 * and the caller's user time doubled.  They are written 128 KiB at a
 * time, as cat(1) writes: in one hour on the development VM, writes of
 * 1 MiB made the kernel's copy into the page cache several times slower
 * (pcap-merge into a file 1.6-3.2 s in 8 of 8 runs, against 0.41-0.54 s
 * for 128 KiB writes and 0.37-0.46 s for cat).  Measured on the bench
 * corpus (16 inputs, 1.4 GB): pcap-merge into a file took 0.41-0.54 s
 * against 0.58-0.79 s for the gather list (8 runs each); into a pipe read
 * by cat, 0.44x-0.60x the time (9 pairs each).  In that VM's slow hours
 * the thread loses instead (README, eighth round).  The blocks are one
 * allocation on huge pages (with 1 MiB blocks: 0.35 s against 0.39 s for
 * ordinary malloc'ed ones).  The thread starts when the first block
 * fills, so a small output is written at finish from the caller's
 * thread, as before; where it cannot start, the caller writes.
 *
 * Compressed output copies into the arena and compresses it on the
 * caller's thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <zlib.h>
#include <zstd.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "merge_int.h"

#define WBUF_SIZE (256u * 1024u)
#if defined(IOV_MAX) && IOV_MAX < 1024
#define WIOV IOV_MAX
#else
#define WIOV 1024
#endif
/* Release: below this many borrowed bytes, copy them instead of writing. */
#define RELEASE_COPY_MAX (32u * 1024u)
/* Write-behind: blocks of WT_BLK, at most WT_NBLK handed over and not yet
 * written, and the thread woken when WT_WAKE are. */
#define WT_BLK (128u << 10)
#define WT_NBLK 32
#define WT_WAKE 8

/*
 * The write-behind thread and its blocks, one allocation on huge pages.
 * The caller stages bytes in w->buf and copies them into blk[head], fill
 * bytes so far; [tail, head) are handed over, in order, and not yet
 * written.  The thread alone writes err, errbuf and written, err and
 * written under mu; after a write error it drops what it is handed.
 */
struct wt {
	pthread_t tid;
	pthread_mutex_t mu;
	pthread_cond_t work;	/* the thread waits for a block */
	pthread_cond_t space;	/* the caller waits for a free one */
	uint8_t *blk[WT_NBLK];	/* blk[0]: the allocation */
	size_t len[WT_NBLK];
	unsigned head, tail;
	size_t fill;		/* the caller's: bytes in blk[head % WT_NBLK] */
	int stop;
	int drop;		/* write nothing more */
	int err;
	int fd;
	uint64_t written;
	char errbuf[PM_ERRBUF_SIZE];
};

struct pm_writer {
	int fd;
	struct pm_writer_opts o;
	uint8_t *buf;		/* the arena */
	size_t len;
	struct iovec iov[WIOV];	/* pending output, in order */
	int niov;
	int lend;		/* pieces may be borrowed (see above) */
	int behind;		/* blocks may be written behind (see above) */
	int finishing;
	struct wt *wt;		/* the write-behind thread, once started */
	int last_ext;		/* iov[niov - 1] is borrowed */
	size_t ext_bytes;	/* borrowed bytes pending */
	ZSTD_CCtx *zc;
	z_stream *gz;		/* gzip output (deflate with a gzip wrapper) */
	uint8_t *zbuf;
	size_t zcap;
	uint64_t out_bytes;
	uint64_t held;		/* packets whose time the format cannot hold */
	off_t start;		/* file offset of the header, or -1 */
	uint32_t max_caplen;
	/*
	 * pcapng: the interfaces written, one per distinct linktype and
	 * interface options (so the packets of two files captured on "eth0"
	 * share one), found through an open-addressed hash of their indexes
	 * (hcap slots, a power of two, at most half full).
	 */
	struct wif *ifs;
	size_t nifs, capifs;
	uint32_t *hash;
	size_t hcap;
	size_t lastif;		/* the interface of the packet before */
	pm_merge *merge;	/* attached to, or NULL */
	int failed;
	char errbuf[PM_ERRBUF_SIZE];
};

struct wif {
	uint32_t linktype;
	uint32_t optlen;
	uint8_t *opts;
	uint32_t h;
};

/* Deflate n bytes at p (flush: Z_NO_FLUSH or Z_FINISH) and write them. */
static int
gz_emit(pm_writer *w, const void *p, size_t n, int flush)
{
	z_stream *z = w->gz;
	int rc, zr;

	z->next_in = (Bytef *)(uintptr_t)p;
	do {
		/* avail_in is 32 bits: feed at most 1 GiB at a time */
		size_t take = n > (1u << 30) ? (1u << 30) : n;
		z->avail_in = (uInt)take;
		n -= take;
		do {
			z->next_out = w->zbuf;
			z->avail_out = (uInt)w->zcap;
			zr = deflate(z, n == 0 ? flush : Z_NO_FLUSH);
			if (zr == Z_STREAM_ERROR)
				return pm_seterr(w->errbuf, PM_ERR_COMPRESS,
				    "gzip: %s", z->msg ? z->msg : "error");
			if (w->zcap - z->avail_out > 0) {
				size_t out = w->zcap - z->avail_out;
				if ((rc = pm_write_all(w->fd, w->zbuf, out,
				    w->errbuf)) < 0)
					return rc;
				w->out_bytes += out;
			}
		} while (z->avail_out == 0 || (n == 0 && flush == Z_FINISH &&
		    zr != Z_STREAM_END));
	} while (n > 0);
	return 0;
}

static void *
wt_main(void *arg)
{
	struct wt *t = arg;
	unsigned i;
	int rc, skip;

	pthread_mutex_lock(&t->mu);
	for (;;) {
		while (t->tail == t->head && !t->stop)
			pthread_cond_wait(&t->work, &t->mu);
		if (t->tail == t->head)
			break;
		i = t->tail % WT_NBLK;
		skip = t->err != 0 || t->drop;
		pthread_mutex_unlock(&t->mu);
		rc = skip ? 0 :
		    pm_write_all(t->fd, t->blk[i], t->len[i], t->errbuf);
		pthread_mutex_lock(&t->mu);
		if (rc < 0)
			t->err = rc;
		else if (!skip)
			t->written += t->len[i];
		t->tail++;
		pthread_cond_signal(&t->space);
	}
	pthread_mutex_unlock(&t->mu);
	return NULL;
}

/* A write error of the thread's, once seen, as the writer's own. */
static int
wt_failed(pm_writer *w, int err)
{
	memcpy(w->errbuf, w->wt->errbuf, sizeof(w->errbuf));
	return w->failed = err;
}

/*
 * Start the thread and allocate its blocks.  Asynchronous signals
 * stay with the caller's threads; SIGPIPE, raised by the write that meets a
 * closed pipe, is left as it would be for the caller's own write.  0, or
 * -1 where it cannot start (then the writer writes itself).
 */
static int
wt_start(pm_writer *w)
{
	struct wt *t;
	sigset_t all, old;
	int i, rc;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return -1;
	t->fd = w->fd;
	if ((t->blk[0] = pm_huge_alloc((size_t)WT_NBLK * WT_BLK)) == NULL) {
		free(t);
		return -1;
	}
	for (i = 1; i < WT_NBLK; i++)
		t->blk[i] = t->blk[0] + (size_t)i * WT_BLK;
	if (pthread_mutex_init(&t->mu, NULL) != 0)
		goto fail;
	if (pthread_cond_init(&t->work, NULL) != 0) {
		pthread_mutex_destroy(&t->mu);
		goto fail;
	}
	if (pthread_cond_init(&t->space, NULL) != 0) {
		pthread_cond_destroy(&t->work);
		pthread_mutex_destroy(&t->mu);
		goto fail;
	}
	sigfillset(&all);
	sigdelset(&all, SIGPIPE);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&t->tid, NULL, wt_main, t);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
#if defined(__GLIBC__)
	if (rc == 0)	/* for top -H, and for the tests */
		(void)pthread_setname_np(t->tid, "pm-writer");
#endif
	if (rc != 0) {
		pthread_cond_destroy(&t->space);
		pthread_cond_destroy(&t->work);
		pthread_mutex_destroy(&t->mu);
		goto fail;
	}
	w->wt = t;
	return 0;
fail:
	free(t->blk[0]);
	free(t);
	return -1;
}

/* Hand the block being filled over, and wait for a free one. */
static int
wt_hand(pm_writer *w)
{
	struct wt *t = w->wt;
	int err;

#if defined(__SSE2__)
	_mm_sfence();		/* the streamed stores, before the thread's loads */
#endif
	pthread_mutex_lock(&t->mu);
	t->len[t->head % WT_NBLK] = t->fill;
	t->head++;
	if (t->head - t->tail >= WT_WAKE)
		pthread_cond_signal(&t->work);
	/* [tail, head) holds at most WT_NBLK - 1 blocks: head's is free */
	while (t->head - t->tail == WT_NBLK && t->err == 0)
		pthread_cond_wait(&t->space, &t->mu);
	err = t->err;
	pthread_mutex_unlock(&t->mu);
	t->fill = 0;
	return err ? wt_failed(w, err) : 0;
}

/*
 * Copy n bytes to d with streamed stores, which take no cache line: the
 * caller's plain stores would each have to take its line back from the
 * writing thread's core, whose write(2) read it last (user time 0.15 s to
 * 0.31-0.45 s for the 16-input merge).
 */
static void
stream_copy(uint8_t *d, const uint8_t *p, size_t n)
{
#if defined(__SSE2__)
	size_t k = (16 - ((uintptr_t)d & 15)) & 15;

	if (k > n)
		k = n;
	memcpy(d, p, k);
	d += k, p += k, n -= k;
	for (; n >= 64; d += 64, p += 64, n -= 64) {
		__m128i a = _mm_loadu_si128((const __m128i *)(const void *)p);
		__m128i b = _mm_loadu_si128((const __m128i *)(const void *)(p + 16));
		__m128i c = _mm_loadu_si128((const __m128i *)(const void *)(p + 32));
		__m128i e = _mm_loadu_si128((const __m128i *)(const void *)(p + 48));
		_mm_stream_si128((__m128i *)(void *)d, a);
		_mm_stream_si128((__m128i *)(void *)(d + 16), b);
		_mm_stream_si128((__m128i *)(void *)(d + 32), c);
		_mm_stream_si128((__m128i *)(void *)(d + 48), e);
	}
#endif
	memcpy(d, p, n);
}

/* Copy n staged bytes into blocks, handing each over as it fills. */
static int
wt_put(pm_writer *w, const uint8_t *p, size_t n)
{
	struct wt *t = w->wt;
	size_t k;
	int rc;

	while (n > 0) {
		if (t->fill == WT_BLK && (rc = wt_hand(w)) < 0)
			return rc;
		k = WT_BLK - t->fill < n ? WT_BLK - t->fill : n;
		stream_copy(t->blk[t->head % WT_NBLK] + t->fill, p, k);
		t->fill += k;
		p += k;
		n -= k;
	}
	return t->fill == WT_BLK ? wt_hand(w) : 0;
}

/* Wait until everything handed over is written. */
static int
wt_drain(pm_writer *w)
{
	struct wt *t = w->wt;
	int err;

	if (t->fill > 0 && (err = wt_hand(w)) < 0)
		return err;
	pthread_mutex_lock(&t->mu);
	pthread_cond_signal(&t->work);
	while (t->tail != t->head && t->err == 0)
		pthread_cond_wait(&t->space, &t->mu);
	err = t->err;
	pthread_mutex_unlock(&t->mu);
	return err ? wt_failed(w, err) : 0;
}

/*
 * End the thread, once it has written what it holds (or, with drop, the
 * block it is writing only), and go on without it.  Its error, if any.
 */
static int
wt_stop(pm_writer *w, int drop)
{
	struct wt *t = w->wt;
	int err;

	if (!drop && t->fill > 0)
		(void)wt_hand(w);	/* an error is the thread's, below */
	pthread_mutex_lock(&t->mu);
	t->stop = 1;
	t->drop = drop;
	pthread_cond_signal(&t->work);
	pthread_mutex_unlock(&t->mu);
	pthread_join(t->tid, NULL);
	err = t->err;
	w->out_bytes += t->written;
	if (err)
		wt_failed(w, err);
	free(t->blk[0]);
	pthread_cond_destroy(&t->space);
	pthread_cond_destroy(&t->work);
	pthread_mutex_destroy(&t->mu);
	free(t);
	w->wt = NULL;
	w->behind = 0;
	return err;
}

static int
emit(pm_writer *w, const void *p, size_t n)
{
	ZSTD_inBuffer in;
	ZSTD_outBuffer out;
	size_t zr;
	int rc;

	if (w->gz != NULL)
		return gz_emit(w, p, n, Z_NO_FLUSH);
	if (w->zc == NULL) {
		if (w->wt != NULL && (rc = wt_drain(w)) < 0)
			return rc;
		rc = pm_write_all(w->fd, p, n, w->errbuf);
		if (rc == 0)
			w->out_bytes += n;
		return rc;
	}
	in.src = p;
	in.size = n;
	in.pos = 0;
	while (in.pos < in.size) {
		out.dst = w->zbuf;
		out.size = w->zcap;
		out.pos = 0;
		zr = ZSTD_compressStream2(w->zc, &out, &in, ZSTD_e_continue);
		if (ZSTD_isError(zr))
			return pm_seterr(w->errbuf, PM_ERR_COMPRESS, "zstd: %s",
			    ZSTD_getErrorName(zr));
		if (out.pos > 0) {
			if ((rc = pm_write_all(w->fd, w->zbuf, out.pos,
			    w->errbuf)) < 0)
				return rc;
			w->out_bytes += out.pos;
		}
	}
	return 0;
}

/* Write the pending list; afterwards it is empty, whatever happened. */
static int
flush(pm_writer *w)
{
	uint64_t n = 0;
	int i, rc = 0;

	if (w->niov == 0)
		return 0;
	if (w->wt == NULL && w->behind && !w->finishing && wt_start(w) < 0)
		w->behind = 0;
	if (w->wt != NULL) {
		/* nothing is borrowed here: the pieces are w->buf's len bytes */
		rc = wt_put(w, w->buf, w->len);
	} else if (w->zc != NULL || w->gz != NULL) {
		for (i = 0; i < w->niov && rc == 0; i++)
			rc = emit(w, w->iov[i].iov_base, w->iov[i].iov_len);
	} else {
		for (i = 0; i < w->niov; i++)
			n += w->iov[i].iov_len;
		if ((rc = pm_writev_all(w->fd, w->iov, w->niov,
		    w->errbuf)) == 0)
			w->out_bytes += n;
	}
	w->niov = 0;
	w->len = 0;
	w->ext_bytes = 0;
	if (rc < 0)
		w->failed = rc;
	return rc;
}

/* Make room for nown arena bytes in up to npieces new iovecs. */
static inline int
room(pm_writer *w, size_t nown, int npieces)
{
	if (w->len + nown > WBUF_SIZE || w->niov + npieces > WIOV)
		return flush(w);
	return 0;
}

/* Append a piece; the caller has made room for it. */
static inline void
piece(pm_writer *w, const void *p, size_t n, int ext)
{
	struct iovec *v;

	if (n == 0)
		return;
	if (ext)
		w->ext_bytes += n;
	if (w->niov > 0 && w->last_ext == ext) {
		v = &w->iov[w->niov - 1];
		if ((const uint8_t *)v->iov_base + v->iov_len == p) {
			v->iov_len += n;
			return;
		}
	}
	v = &w->iov[w->niov++];
	v->iov_base = (void *)(uintptr_t)p;
	v->iov_len = n;
	w->last_ext = ext;
}

/* n arena bytes as the next piece; the caller has made room for them. */
static inline uint8_t *
own(pm_writer *w, size_t n)
{
	uint8_t *p = w->buf + w->len;

	piece(w, p, n, 0);
	w->len += n;
	return p;
}

/* Copy n bytes out. */
static int
put(pm_writer *w, const void *p, size_t n)
{
	int rc;

	if (w->failed)
		return w->failed;
	if (n <= WBUF_SIZE) {
		if ((rc = room(w, n, 1)) < 0)
			return rc;
		memcpy(own(w, n), p, n);
		return 0;
	}
	if ((rc = flush(w)) < 0)
		return rc;
	if ((rc = emit(w, p, n)) < 0)
		w->failed = rc;
	return rc;
}

/* Whether piece v lies in w's arena. */
static inline int
in_arena(const pm_writer *w, const struct iovec *v)
{
	return (uintptr_t)v->iov_base - (uintptr_t)w->buf < WBUF_SIZE;
}

/* Whether piece v is borrowed and overlaps [lo, hi). */
static inline int
borrowed_from(const pm_writer *w, const struct iovec *v, uintptr_t lo,
    uintptr_t hi)
{
	uintptr_t b = (uintptr_t)v->iov_base;

	return !in_arena(w, v) && b < hi && b + v->iov_len > lo;
}

void
pm_writer_release(pm_writer *w, const void *p, size_t n)
{
	uintptr_t lo = (uintptr_t)p, hi = lo + n;
	size_t need = 0;
	int i;

	if (w->ext_bytes == 0 || w->failed)
		return;
	for (i = 0; i < w->niov; i++)
		if (borrowed_from(w, &w->iov[i], lo, hi))
			need += w->iov[i].iov_len;
	if (need == 0)
		return;
	if (need >= RELEASE_COPY_MAX || w->len + need > WBUF_SIZE) {
		flush(w);
		return;
	}
	/* Pieces stay in order; only where those borrowed from p live changes. */
	for (i = 0; i < w->niov; i++) {
		struct iovec *v = &w->iov[i];

		if (!borrowed_from(w, v, lo, hi))
			continue;
		memcpy(w->buf + w->len, v->iov_base, v->iov_len);
		v->iov_base = w->buf + w->len;
		w->len += v->iov_len;
	}
	w->ext_bytes -= need;
	w->last_ext = !in_arena(w, &w->iov[w->niov - 1]);
}

void
pm_writer_set_mode(pm_writer *w, int lend, int behind)
{
	int plain = w->zc == NULL && w->gz == NULL;

	w->lend = lend && plain;
	w->behind = behind && plain && !w->lend;
}

void pm_writer_attached(pm_writer *w, pm_merge *m) { w->merge = m; }
void pm_writer_detached(pm_writer *w) { w->merge = NULL; }

static uint32_t
if_hash(uint32_t linktype, const uint8_t *opts, uint32_t optlen)
{
	uint32_t h = 2166136261u ^ linktype;
	uint32_t i;

	h *= 16777619u;
	for (i = 0; i < optlen; i++)
		h = (h ^ opts[i]) * 16777619u;
	return h;
}

static int
if_same(const struct wif *f, uint32_t linktype, const uint8_t *opts,
    uint32_t optlen)
{
	return f->linktype == linktype && f->optlen == optlen &&
	    (optlen == 0 || memcmp(f->opts, opts, optlen) == 0);
}

static void
if_insert(pm_writer *w, size_t i)
{
	size_t j = w->ifs[i].h & (w->hcap - 1);

	while (w->hash[j] != UINT32_MAX)
		j = (j + 1) & (w->hcap - 1);
	w->hash[j] = (uint32_t)i;
}

/*
 * The output interface of pkt's interface: found, or described by a new
 * Interface Description Block written now, before the packet.  Returns its
 * index or a PM_ERR_*.
 */
static long
iface_of(pm_writer *w, const struct pm_packet *pkt)
{
	const uint8_t *io = pkt->meta ? pkt->meta->ifopts : NULL;
	uint32_t iol = pkt->meta ? pkt->meta->ifoptlen : 0;
	struct wif *f;
	uint8_t b[24];
	uint32_t v, h, tot;
	uint16_t x;
	size_t j, i;
	int rc;

	if (w->nifs > 0 && if_same(&w->ifs[w->lastif], pkt->linktype, io, iol))
		return (long)w->lastif;
	h = if_hash(pkt->linktype, io, iol);
	for (j = h & (w->hcap - 1); w->hcap > 0 && w->hash[j] != UINT32_MAX;
	    j = (j + 1) & (w->hcap - 1)) {
		f = &w->ifs[w->hash[j]];
		if (f->h == h && if_same(f, pkt->linktype, io, iol))
			return (long)(w->lastif = w->hash[j]);
	}
	if (w->nifs >= UINT32_MAX - 1)
		return pm_seterr(w->errbuf, PM_ERR_INVAL,
		    "too many interfaces");
	if (w->nifs == w->capifs) {
		size_t cap = w->capifs ? w->capifs * 2 : 4;
		if ((f = realloc(w->ifs, cap * sizeof(*f))) == NULL)
			return pm_seterr(w->errbuf, PM_ERR_NOMEM,
			    "out of memory");
		w->ifs = f;
		w->capifs = cap;
	}
	if (2 * (w->nifs + 1) > w->hcap) {
		size_t cap = w->hcap ? w->hcap * 2 : 16;
		uint32_t *n = malloc(cap * sizeof(*n));
		if (n == NULL)
			return pm_seterr(w->errbuf, PM_ERR_NOMEM,
			    "out of memory");
		free(w->hash);
		w->hash = n;
		w->hcap = cap;
		memset(n, 0xff, cap * sizeof(*n));
		for (i = 0; i < w->nifs; i++)
			if_insert(w, i);
	}
	f = &w->ifs[w->nifs];
	f->linktype = pkt->linktype;
	f->optlen = iol;
	f->h = h;
	f->opts = NULL;
	if (iol > 0) {
		if ((f->opts = malloc(iol)) == NULL)
			return pm_seterr(w->errbuf, PM_ERR_NOMEM,
			    "out of memory");
		memcpy(f->opts, io, iol);
	}
	i = w->nifs++;
	if_insert(w, i);
	w->lastif = i;

	/* header, if_tsresol, the input's options, opt_endofopt, trailer */
	tot = 32 + iol;
	v = PM_BT_IDB; memcpy(b, &v, 4);
	memcpy(b + 4, &tot, 4);
	x = (uint16_t)pkt->linktype; memcpy(b + 8, &x, 2);
	x = 0; memcpy(b + 10, &x, 2);
	v = w->o.snaplen; memcpy(b + 12, &v, 4);
	x = 9; memcpy(b + 16, &x, 2);		/* if_tsresol */
	x = 1; memcpy(b + 18, &x, 2);
	b[20] = w->o.nano ? 9 : 6;
	b[21] = b[22] = b[23] = 0;
	if ((rc = put(w, b, 24)) < 0 || (iol > 0 &&
	    (rc = put(w, io, iol)) < 0))
		return rc;
	memset(b, 0, 4);			/* opt_endofopt */
	memcpy(b + 4, &tot, 4);
	if ((rc = put(w, b, 8)) < 0)
		return rc;
	return (long)i;
}

static int
put_shb(pm_writer *w)
{
	uint8_t b[64 + 256];
	uint32_t v, tot;
	uint16_t h;
	uint64_t sl = UINT64_MAX;
	size_t al = 0, n = 24;

	if (w->o.appname != NULL) {
		al = strlen(w->o.appname);
		if (al > 255)
			al = 255;
	}
	tot = 28 + (al ? 4 + (uint32_t)((al + 3) & ~3u) + 4 : 0);
	memset(b, 0, sizeof(b));
	v = PM_PCAPNG_SHB; memcpy(b, &v, 4);
	memcpy(b + 4, &tot, 4);
	v = PM_PCAPNG_BOM; memcpy(b + 8, &v, 4);
	h = 1; memcpy(b + 12, &h, 2);
	h = 0; memcpy(b + 14, &h, 2);
	memcpy(b + 16, &sl, 8);			/* section length unknown */
	if (al) {
		h = 4; memcpy(b + 24, &h, 2);	/* shb_userappl */
		h = (uint16_t)al; memcpy(b + 26, &h, 2);
		memcpy(b + 28, w->o.appname, al);
		n = 28 + ((al + 3) & ~3u) + 4;	/* value, opt_endofopt */
	}
	memcpy(b + n, &tot, 4);
	return put(w, b, n + 4);
}

pm_writer *
pm_writer_open(int fd, const struct pm_writer_opts *o, int *err,
    char *errbuf)
{
	pm_writer *w;
	int rc = PM_ERR_NOMEM;
	struct stat st;

	if (o->format != PM_FMT_PCAP && o->format != PM_FMT_PCAPNG) {
		rc = pm_seterr(errbuf, PM_ERR_INVAL, "unknown output format");
		goto bad;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		pm_seterr(errbuf, rc, "out of memory");
		goto bad;
	}
	w->fd = fd;
	w->o = *o;
	w->start = -1;
	/* The snaplen can be fixed up later only in place, not through
	 * O_APPEND, where pwrite(2) would append. */
	if (o->compression == PM_COMP_NONE && fstat(fd, &st) == 0) {
		if (S_ISREG(st.st_mode) && !(fcntl(fd, F_GETFL) & O_APPEND))
			w->start = lseek(fd, 0, SEEK_CUR);
		w->lend = S_ISCHR(st.st_mode);
		w->behind = !w->lend;
	}
	if ((w->buf = malloc(WBUF_SIZE)) == NULL) {
		free(w);
		pm_seterr(errbuf, rc, "out of memory");
		goto bad;
	}
	if (o->compression == PM_COMP_ZSTD) {
		w->zcap = ZSTD_CStreamOutSize();
		if ((w->zc = ZSTD_createCCtx()) == NULL ||
		    (w->zbuf = malloc(w->zcap)) == NULL) {
			pm_seterr(errbuf, rc, "out of memory");
			pm_writer_close(w);
			goto bad;
		}
		ZSTD_CCtx_setParameter(w->zc, ZSTD_c_compressionLevel, 3);
		ZSTD_CCtx_setParameter(w->zc, ZSTD_c_checksumFlag, 1);
	} else if (o->compression == PM_COMP_GZIP) {
		w->zcap = 256u * 1024u;
		if ((w->gz = calloc(1, sizeof(*w->gz))) == NULL ||
		    (w->zbuf = malloc(w->zcap)) == NULL) {
			pm_seterr(errbuf, rc, "out of memory");
			pm_writer_close(w);
			goto bad;
		}
		/* gzip(1)'s own default level; 15 + 16: a gzip wrapper */
		if (deflateInit2(w->gz, 6, Z_DEFLATED, 15 + 16, 8,
		    Z_DEFAULT_STRATEGY) != Z_OK) {
			free(w->gz);
			w->gz = NULL;
			pm_seterr(errbuf, rc, "out of memory");
			pm_writer_close(w);
			goto bad;
		}
	} else if (o->compression != PM_COMP_NONE) {
		pm_writer_close(w);
		rc = pm_seterr(errbuf, PM_ERR_INVAL,
		    "unknown output compression");
		goto bad;
	}
	if (o->format == PM_FMT_PCAP) {
		uint8_t h[24];
		uint32_t v;
		uint16_t s;

		v = o->nano ? PM_PCAP_MAGIC_NS : PM_PCAP_MAGIC_US;
		memcpy(h, &v, 4);
		s = 2; memcpy(h + 4, &s, 2);
		s = 4; memcpy(h + 6, &s, 2);
		memset(h + 8, 0, 8);
		v = o->snaplen; memcpy(h + 16, &v, 4);
		v = o->linktype; memcpy(h + 20, &v, 4);
		rc = put(w, h, sizeof(h));
	} else {
		rc = put_shb(w);
	}
	if (rc < 0) {
		pm_seterr(errbuf, rc, "%s", w->errbuf);
		pm_writer_close(w);
		goto bad;
	}
	return w;
bad:
	if (err)
		*err = rc;
	return NULL;
}

/* Two 32-bit fields, a then b, as the 8 bytes they occupy in host order. */
static inline uint64_t
host_pair(uint32_t a, uint32_t b)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return (uint64_t)b << 32 | a;
#else
	return (uint64_t)a << 32 | b;
#endif
}

/* The packet bytes as the next piece, borrowed or copied (room made). */
static inline void
body(pm_writer *w, const struct pm_packet *pkt, int ref)
{
	if (ref)
		piece(w, pkt->data, pkt->caplen, 1);
	else
		memcpy(own(w, pkt->caplen), pkt->data, pkt->caplen);
}

/*
 * One record.  ref: the packet bytes (and, for an unchanged classic pcap
 * record, its header) may be borrowed instead of copied.
 */
static int
write_pkt(pm_writer *w, const struct pm_packet *pkt, int ref)
{
	long ifx;
	uint32_t v[7];
	int64_t ts = pkt->ts;
	int rc;

	if (w->failed)
		return w->failed;
	if (ts < 0) {		/* before 1970: neither format holds it */
		ts = 0;
		w->held++;
	}
	if (pkt->caplen > w->max_caplen)
		w->max_caplen = pkt->caplen;
	if (w->o.format == PM_FMT_PCAP) {
		size_t need = 16 + (size_t)pkt->caplen;
		uint32_t sec, frac, in[4];
		uint64_t h[2];

		if (pkt->linktype != w->o.linktype)
			return pm_seterr(w->errbuf, PM_ERR_LINKTYPE,
			    "a packet of linktype %u in a pcap of linktype %u",
			    pkt->linktype, w->o.linktype);
		/*
		 * The record as read is the record to write when its header,
		 * in host order, says exactly this packet at the output's
		 * precision: send it whole.  (Checked by multiplying out, not
		 * dividing down.)
		 */
		if (ref && pkt->headroom >= 16) {
			memcpy(in, pkt->data - 16, 16);
			if (in[2] == pkt->caplen && in[3] == pkt->len &&
			    in[1] < (w->o.nano ? 1000000000u : 1000000u) &&
			    (int64_t)in[0] * 1000000000 + (int64_t)in[1] *
			    (w->o.nano ? 1 : 1000) == ts) {
				if ((rc = room(w, 0, 1)) < 0)
					return rc;
				piece(w, pkt->data - 16, need, 1);
				return 0;
			}
		}
		if (ts / 1000000000 > UINT32_MAX) {	/* after 2106 */
			ts = (int64_t)UINT32_MAX * 1000000000 + 999999999;
			w->held++;
		}
		/*
		 * The header as two host-order words, built in registers:
		 * four 4-byte stores read back as wider loads would stall
		 * on store forwarding.
		 */
		sec = (uint32_t)(ts / 1000000000);
		frac = (uint32_t)(ts % 1000000000);
		if (!w->o.nano)
			frac /= 1000;
		h[0] = host_pair(sec, frac);
		h[1] = host_pair(pkt->caplen, pkt->len);
		if (!ref && need > WBUF_SIZE) {
			if ((rc = put(w, h, 16)) < 0)
				return rc;
			return put(w, pkt->data, pkt->caplen);
		}
		if ((rc = room(w, ref ? 16 : need, 2)) < 0)
			return rc;
		memcpy(own(w, 16), h, 16);
		body(w, pkt, ref);
		return 0;
	}

	/* pcapng: an Enhanced Packet Block on the packet's interface */
	if ((ifx = iface_of(w, pkt)) < 0)
		return (int)ifx;
	{
		uint32_t pad = (4 - (pkt->caplen & 3)) & 3;
		const uint8_t *opts = pkt->meta ? pkt->meta->opts : NULL;
		uint32_t optlen = pkt->meta ? pkt->meta->optlen : 0;
		uint32_t olen = optlen ? optlen + 4 : 0;
		uint32_t tot = 32 + pkt->caplen + pad + olen;
		uint64_t t = w->o.nano ? (uint64_t)ts : (uint64_t)ts / 1000;
		static const uint8_t zero[4];
		uint8_t *p;

		v[0] = PM_BT_EPB;
		v[1] = tot;
		v[2] = (uint32_t)ifx;
		v[3] = (uint32_t)(t >> 32);
		v[4] = (uint32_t)t;
		v[5] = pkt->caplen;
		v[6] = pkt->len;
		/* The options are copied, never borrowed: they may live
		 * outside the read buffer the merge tells us about. */
		if ((!ref && tot > WBUF_SIZE) || olen > WBUF_SIZE / 2) {
			if ((rc = put(w, v, 28)) < 0 ||
			    (rc = put(w, pkt->data, pkt->caplen)) < 0 ||
			    (rc = put(w, zero, pad)) < 0 ||
			    (olen && (rc = put(w, opts, optlen)) < 0) ||
			    (olen && (rc = put(w, zero, 4)) < 0) ||
			    (rc = put(w, &tot, 4)) < 0)
				return rc;
			return 0;
		}
		if ((rc = room(w, ref ? 36 + olen : tot, 3)) < 0)
			return rc;
		memcpy(own(w, 28), v, 28);
		body(w, pkt, ref);
		p = own(w, pad + olen + 4);
		memset(p, 0, pad);
		if (olen) {
			memcpy(p + pad, opts, optlen);
			memset(p + pad + optlen, 0, 4);
		}
		memcpy(p + pad + olen, &tot, 4);
	}
	return 0;
}

int
pm_writer_write(pm_writer *w, const struct pm_packet *pkt)
{
	return write_pkt(w, pkt, 0);
}

int
pm_writer_write_ref(pm_writer *w, const struct pm_packet *pkt)
{
	return write_pkt(w, pkt, w->merge != NULL && w->lend);
}

int
pm_writer_finish(pm_writer *w)
{
	ZSTD_inBuffer in = { NULL, 0, 0 };
	ZSTD_outBuffer out;
	size_t zr;
	int rc;

	if (w->failed)		/* perhaps in a flush a release asked for */
		return w->failed;
	w->finishing = 1;
	if ((rc = flush(w)) < 0)
		return rc;
	if (w->wt != NULL && (rc = wt_stop(w, 0)) < 0)
		return rc;
	if (w->gz != NULL && (rc = gz_emit(w, NULL, 0, Z_FINISH)) < 0)
		return w->failed = rc;
	if (w->zc != NULL) {
		do {
			out.dst = w->zbuf;
			out.size = w->zcap;
			out.pos = 0;
			zr = ZSTD_compressStream2(w->zc, &out, &in,
			    ZSTD_e_end);
			if (ZSTD_isError(zr))
				return w->failed = pm_seterr(w->errbuf,
				    PM_ERR_COMPRESS, "zstd: %s",
				    ZSTD_getErrorName(zr));
			if ((rc = pm_write_all(w->fd, w->zbuf, out.pos,
			    w->errbuf)) < 0)
				return w->failed = rc;
			w->out_bytes += out.pos;
		} while (zr != 0);
	}
	if (w->o.format == PM_FMT_PCAP && w->start >= 0 &&
	    w->max_caplen > w->o.snaplen) {
		uint32_t v = w->max_caplen;
		if (pwrite(w->fd, &v, 4, w->start + 16) != 4)
			return w->failed = pm_seterr(w->errbuf, PM_ERR_IO,
			    "updating the snaplen: %s", strerror(errno));
	}
	return 0;
}

const char *pm_writer_geterr(const pm_writer *w) { return w->errbuf; }
uint64_t pm_writer_bytes(const pm_writer *w) { return w->out_bytes; }
uint64_t pm_writer_times_held(const pm_writer *w) { return w->held; }

void
pm_writer_close(pm_writer *w)
{
	if (w == NULL)
		return;
	if (w->merge != NULL)
		pm_merge_detached(w->merge, w);
	if (w->wt != NULL)	/* not finished: what it holds is dropped */
		(void)wt_stop(w, 1);
	ZSTD_freeCCtx(w->zc);
	if (w->gz != NULL) {
		deflateEnd(w->gz);
		free(w->gz);
	}
	free(w->zbuf);
	free(w->buf);
	for (size_t i = 0; i < w->nifs; i++)
		free(w->ifs[i].opts);
	free(w->ifs);
	free(w->hash);
	free(w);
}
