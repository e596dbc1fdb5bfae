/* merge_int.h - libmerge internals; not installed, not for tools. */
#ifndef PCAPKIT_MERGE_INT_H
#define PCAPKIT_MERGE_INT_H

#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "merge.h"

/*
 * A byte source: a file descriptor, decompressed on the fly when the first
 * bytes are a gzip or zstd magic.  The window buf[pos, end) holds bytes of
 * the decompressed stream starting at stream offset base + pos.
 */
struct pm_src {
	int fd;
	enum pm_compression comp;
	uint8_t *buf;
	size_t cap, pos, end;
	uint64_t base;
	int lent;		/* buf is someone else's (an arena slice) */
	int eof;		/* no more bytes will come */
	int trunc;		/* the compressed stream ended inside a frame */
	/* compressed bytes */
	uint8_t *zbuf;
	size_t zcap, zpos, zend;
	int zeof;
	void *gz;		/* z_stream * */
	void *zd;		/* ZSTD_DCtx * */
	uint64_t bytes_in;
	int crc_on;		/* keep crc over every byte read from fd */
	uint32_t crc;		/* CRC-32C of the file's bytes so far */
	char *errbuf;		/* PM_ERRBUF_SIZE, owned by the user of the src */
	/*
	 * Called with buf and cap before bytes there are moved, overwritten
	 * or freed: whoever still points into them (a writer's pending
	 * gather list) must write or copy them now.
	 */
	void (*release)(void *arg, const uint8_t *p, size_t n);
	void *release_arg;
};

/*
 * buf: bufsize bytes lent by the caller for the life of s, or NULL.  crc:
 * keep the CRC-32C of the file's own bytes (compressed, as stored).
 */
int pm_src_init(struct pm_src *s, int fd, uint8_t *buf, size_t bufsize,
    int crc, char *errbuf);
/*
 * Make at least need bytes available at buf + pos.  Returns how many are
 * available (fewer than need only at the end of the stream) or a PM_ERR_*.
 * Moves the window: pointers into buf are invalid afterwards.
 */
long pm_src_refill(struct pm_src *s, size_t need);

/* The common case, that the bytes are there, without a call. */
static inline long
pm_src_fill(struct pm_src *s, size_t need)
{
	if (s->end - s->pos >= need)
		return (long)need;
	return pm_src_refill(s, need);
}
void pm_src_free(struct pm_src *s);

static inline uint64_t
pm_src_offset(const struct pm_src *s)
{
	return s->base + s->pos;
}

/*
 * pm_reader_open_fd reading into buf (bufsize bytes, lent: see pm_src),
 * with the CRC-32C of the file kept when crc is 1.
 */
pm_reader *pm_reader_open_fd_buf(int fd, const char *name, uint8_t *buf,
    size_t bufsize, int crc, int *err, char *errbuf);
pm_reader *pm_reader_open_buf(const char *path, uint8_t *buf,
    size_t bufsize, int crc, int *err, char *errbuf);
/* Drop packets whose time + shift is not in [start, stop) before they are
 * counted (pm_merge_opts.window). */
void pm_reader_set_window(pm_reader *r, int64_t start, int64_t stop,
    int64_t shift);
/* 1 and *crc once every byte of the file was read with crc on, else 0. */
int pm_reader_crc32c(const pm_reader *r, uint32_t *crc);

/* Install s->release on the reader's byte source (see struct pm_src). */
void pm_reader_set_release(pm_reader *r,
    void (*fn)(void *, const uint8_t *, size_t), void *arg);

/*
 * Write or copy the pieces w borrowed from the n bytes at p; an error is
 * kept and returned by the next call on w.  For the merge's release hook.
 */
void pm_writer_release(pm_writer *w, const void *p, size_t n);
/*
 * How w gives bytes to the kernel (see writer.c): lend, pieces borrowed
 * from a merge's read buffers (pm_writer_open chooses it for a character
 * device); behind, blocks written by a thread of w's own (for anything
 * else).  For tests, to cover both ways on any fd; before the first
 * packet.  Compressed output does neither.
 */
void pm_writer_set_mode(pm_writer *w, int lend, int behind);
/* pm_crc32c by the fastest of its ways up to path (0: tables, 1: the
 * crc32 instruction, 2: carry-less multiplies) that this CPU has, so that
 * the unit test can hold each to the reference. */
uint32_t pm_crc32c_path(int path, uint32_t crc, const void *data,
    size_t len);
/*
 * The link between a merge and a writer that borrows its packets: set by
 * either side, cut by whichever goes first.
 */
void pm_writer_attached(pm_writer *w, pm_merge *m);
void pm_writer_detached(pm_writer *w);
void pm_merge_detached(pm_merge *m, pm_writer *w);

/* Fill errbuf like snprintf; returns err so callers can `return seterr()`. */
int pm_seterr(char *errbuf, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Write all of buf to fd, retrying on EINTR and short writes. */
int pm_write_all(int fd, const void *buf, size_t n, char *errbuf);
/* The same for n <= IOV_MAX iovecs; iov is used up (changed). */
struct iovec;
int pm_writev_all(int fd, struct iovec *iov, int n, char *errbuf);

static inline uint16_t
pm_get16(const uint8_t *p, int swap)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return swap ? __builtin_bswap16(v) : v;
}

static inline uint32_t
pm_get32(const uint8_t *p, int swap)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return swap ? __builtin_bswap32(v) : v;
}

static inline uint64_t
pm_get64(const uint8_t *p, int swap)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return swap ? __builtin_bswap64(v) : v;
}

/*
 * A tree of losers over n streams' next packets (pm_merge's sources,
 * pm_scan's lanes): leaves n..2n-1 are the streams, node x's parent is
 * x/2 (any n works); tree[0] is the winner, tree[1..n) the losers, each
 * with its key, so that a replay loads one node a level at addresses
 * known in advance.  A stream with nothing left has the key
 * (INT64_MAX, n + i): after every packet, even one stamped INT64_MAX.
 */
struct pm_tkey {
	int64_t ts;
	size_t s;
};

static inline int
pm_tkey_before(const struct pm_tkey *a, const struct pm_tkey *b)
{
	return pm_order_before(a->ts, a->s, b->ts, b->s);
}

/* The winner w's key is now c: its path played again, without branches
 * (which way a match goes is data, not a pattern). */
static inline void
pm_tree_replay(struct pm_tkey *tree, size_t n, size_t w, struct pm_tkey c)
{
	struct pm_tkey l;
	size_t t;
	int lose;

	for (t = (w + n) >> 1; t > 0; t >>= 1) {
		l = tree[t];
		lose = pm_tkey_before(&l, &c);
		tree[t].ts = lose ? c.ts : l.ts;
		tree[t].s = lose ? c.s : l.s;
		c.ts = lose ? l.ts : c.ts;
		c.s = lose ? l.s : c.s;
	}
	tree[0] = c;
}

/* The tree (n entries) over key[0..n), n >= 1; win: 2n of scratch. */
void pm_tree_build(struct pm_tkey *tree, const struct pm_tkey *key, size_t n,
    size_t *win);

/* A huge page: the read buffers, pm_scan's rings and the writer's blocks
 * are aligned to it so that the kernel can back them with huge pages. */
#define HUGE_PAGE (2u << 20)
/* len bytes (rounded up to huge pages) on huge pages where the kernel
 * gives them, for free(); NULL without memory. */
void *pm_huge_alloc(size_t len);

/* Capture file magics, as read in host order. */
#define PM_PCAP_MAGIC_US	0xa1b2c3d4u
#define PM_PCAP_MAGIC_NS	0xa1b23c4du
#define PM_PCAPNG_SHB		0x0a0d0d0au
#define PM_PCAPNG_BOM		0x1a2b3c4du

/* pcapng block types */
#define PM_BT_IDB	1u
#define PM_BT_PB	2u	/* obsolete Packet Block */
#define PM_BT_SPB	3u
#define PM_BT_NRB	4u
#define PM_BT_ISB	5u
#define PM_BT_EPB	6u
#define PM_BT_DSB	0x0au

/* Largest pcapng block accepted (libpcap uses the same bound). */
#define PM_PCAPNG_MAX_BLOCK (16u * 1024u * 1024u)

#endif
