/*
 * coverage.h - each input's packets over time (coverage.c): a small
 * histogram per input, filled by its lane, for the silent stretches of
 * each machine and the --timeline picture.
 */
#ifndef PCAPKIT_COVERAGE_H
#define PCAPKIT_COVERAGE_H

#include <stddef.h>
#include <stdint.h>

/*
 * 512 buckets of 2^20 ns (about 1 ms) at first; the width doubles (pairs
 * merged) whenever an input's packets span more, so memory is 2 KiB per
 * input whatever the capture's length, and the resolution is at worst
 * 1/256 of its span.  Widths are powers of two: a packet costs a shift.
 * Times are arithmetic-shifted (GCC and Clang floor negative ones).
 */
#define TL_BUCKETS 512
#define TL_SHIFT0 20

struct tl {
	int64_t origin;			/* a multiple of width */
	int64_t width;			/* ns per bucket; 0: no packet yet */
	int shift;			/* width == 1 << shift */
	size_t top;			/* highest bucket used + 1 */
	/* ts - origin, unsigned, below this: a bucket in use, within the
	 * domain (0 before the first packet) */
	uint64_t span;
	uint32_t n[TL_BUCKETS];
};

/*
 * The timeline's domain, [0, 2^62] ns (1970 to 2116): a packet outside it
 * is counted at its end, so that no difference of two times overflows
 * (a pcapng if_tsoffset can put a packet near INT64_MIN, and the reader
 * holds one past 2262 at INT64_MAX).
 */
#define TL_TMAX ((int64_t)1 << 62)

static inline int64_t
tl_clamp(int64_t ts)
{
	return ts < 0 ? 0 : ts > TL_TMAX ? TL_TMAX : ts;
}

/*
 * ncol columns over [first, last], within the timeline's domain: the
 * first column's start in *t0, and a column's width returned.
 */
int64_t tl_axis(int64_t first, int64_t last, size_t ncol, int64_t *t0);

/* Count a packet at ts: every other case (the first packet, one outside
 * the buckets, a time near the ends of int64). */
void tl_add_slow(struct tl *t, int64_t ts);

/* Count a packet at ts.  Inline, a compare, a shift and an add: it runs
 * for every packet, and the call alone was most of its cost. */
static inline void
tl_add(struct tl *t, int64_t ts)
{
	/* one unsigned compare: a ts before origin wraps past any span */
	uint64_t u = (uint64_t)ts - (uint64_t)t->origin;

	/* A bucket already in use (none before the first packet): the rest,
	 * one call a bucket, is the slow path's. */
	if (u < t->span)
		t->n[u >> t->shift]++;
	else
		tl_add_slow(t, ts);
}

/* A silent stretch of one input: no packet while the others had some. */
struct silence {
	int64_t from, to;		/* [from, to) */
};

#define MAX_SILENCES 4		/* the longest ones kept per input */
/* A stretch counts from this long, and only if the input, at its own
 * average rate, would have had SILENCE_PACKETS packets in it. */
#define SILENCE_MIN 1000000000LL
#define SILENCE_PACKETS 10

struct coverage {
	struct silence s[MAX_SILENCES];
	size_t ns;			/* kept */
	size_t total;			/* found */
};

/*
 * The silent stretches of each of n inputs across [t0, t1] (within the
 * timeline's domain): cov[i] for tl[i], which holds packets[i] packets.
 * Returns -1 without memory.
 */
int coverage_find(const struct tl *tl, const uint64_t *packets, size_t n,
    int64_t t0, int64_t t1, struct coverage *cov);

/*
 * Input t's packets in ncol columns of width w from t0, added to col[]:
 * whole buckets by where they start (exact counts, for JSON), or spread
 * over the columns they overlap (for the picture, without aliasing).
 */
void tl_columns(const struct tl *t, int64_t t0, int64_t w, size_t ncol,
    uint64_t *col);
void tl_spread(const struct tl *t, int64_t t0, int64_t w, size_t ncol,
    double *col);

#endif
