/*
 * coverage.c - each input's packets over time, its silent stretches, and
 * the columns of pcap-summary --timeline (see coverage.h).
 */
#include <stdlib.h>
#include <string.h>

#include "coverage.h"

#define AXIS 1024		/* buckets of the shared axis for silences */

/* tl_add's bound: the buckets in use, cut at the domain's end.  origin is
 * in [0, TL_TMAX], top at most 512 and shift at most 54 (the domain is
 * 2^62 ns): no overflow. */
static void
set_span(struct tl *t)
{
	uint64_t s = (uint64_t)t->top << t->shift;
	uint64_t room = (uint64_t)(TL_TMAX - t->origin) + 1;

	t->span = s < room ? s : room;
}

/* Twice the width, pairs of buckets merged. */
static void
widen(struct tl *t)
{
	uint32_t n[TL_BUCKETS];
	int64_t w2 = t->width * 2, org = (t->origin >> (t->shift + 1)) <<
	    (t->shift + 1);
	size_t j, k, top = 0;

	memset(n, 0, sizeof(n));
	for (j = 0; j < t->top; j++) {
		k = (size_t)((t->origin - org) / t->width + (int64_t)j) / 2;
		n[k] += t->n[j];
		if (t->n[j] != 0 && k + 1 > top)
			top = k + 1;
	}
	memcpy(t->n, n, sizeof(n));
	t->top = top;
	t->origin = org;
	t->width = w2;
	t->shift++;
	set_span(t);
}

int64_t
tl_axis(int64_t first, int64_t last, size_t ncol, int64_t *t0)
{
	*t0 = tl_clamp(first);
	return (tl_clamp(last) - *t0) / (int64_t)ncol + 1;
}

void
tl_add_slow(struct tl *t, int64_t ts)
{
	int64_t d;

	ts = tl_clamp(ts);
	if (t->width == 0) {
		t->shift = TL_SHIFT0;
		t->width = (int64_t)1 << TL_SHIFT0;
		t->origin = (ts >> t->shift) << t->shift;
	}
	for (;;) {
		if (ts < t->origin) {
			int64_t org = (ts >> t->shift) << t->shift;
			int64_t shift = (t->origin - org) >> t->shift;

			if (shift + (int64_t)t->top <= TL_BUCKETS) {
				memmove(t->n + shift, t->n, t->top *
				    sizeof(t->n[0]));
				memset(t->n, 0, (size_t)shift * sizeof(t->n[0]));
				t->top += (size_t)shift;
				t->origin = org;
				set_span(t);
				continue;
			}
			widen(t);
			continue;
		}
		/* per packet: a shift, not a division */
		d = (ts - t->origin) >> t->shift;
		if (d < TL_BUCKETS) {
			t->n[d]++;
			if ((size_t)d + 1 > t->top) {
				t->top = (size_t)d + 1;
				set_span(t);
			}
			return;
		}
		widen(t);
	}
}

void
tl_columns(const struct tl *t, int64_t t0, int64_t w, size_t ncol,
    uint64_t *col)
{
	size_t j;

	for (j = 0; t->width != 0 && j < t->top; j++) {
		int64_t ts = t->origin + (int64_t)j * t->width, c;

		if (t->n[j] == 0 || ts + t->width <= t0)
			continue;
		c = ts < t0 ? 0 : (ts - t0) / w;
		if (c < (int64_t)ncol)
			col[c] += t->n[j];
	}
}

void
tl_spread(const struct tl *t, int64_t t0, int64_t w, size_t ncol,
    double *col)
{
	size_t j;

	for (j = 0; t->width != 0 && j < t->top; j++) {
		int64_t a = t->origin + (int64_t)j * t->width;
		int64_t b = a + t->width, c;

		if (t->n[j] == 0 || b <= t0)
			continue;
		for (c = a < t0 ? 0 : (a - t0) / w; c < (int64_t)ncol; c++) {
			int64_t lo = t0 + c * w, hi = lo + w;
			int64_t x = a > lo ? a : lo, y = b < hi ? b : hi;

			if (x >= b)
				break;
			if (y > x)
				col[c] += (double)t->n[j] * (double)(y - x) /
				    (double)t->width;
		}
	}
}

/* Mark the axis buckets t's packets fall in (a bucket of t spreads over
 * every axis bucket it overlaps). */
static void
presence(const struct tl *t, int64_t t0, int64_t w, uint8_t *p)
{
	size_t j;

	for (j = 0; t->width != 0 && j < t->top; j++) {
		int64_t a = t->origin + (int64_t)j * t->width;
		int64_t b = a + t->width - 1, ca, cb;

		if (t->n[j] == 0 || b < t0)
			continue;
		ca = a < t0 ? 0 : (a - t0) / w;
		cb = (b - t0) / w;
		for (; ca <= cb && ca < AXIS; ca++)
			p[ca] = 1;
	}
}

static void
keep(struct coverage *c, int64_t from, int64_t to)
{
	size_t i, shortest = 0;

	c->total++;
	if (c->ns < MAX_SILENCES) {
		c->s[c->ns].from = from;
		c->s[c->ns++].to = to;
		return;
	}
	for (i = 1; i < c->ns; i++)
		if (c->s[i].to - c->s[i].from <
		    c->s[shortest].to - c->s[shortest].from)
			shortest = i;
	if (to - from > c->s[shortest].to - c->s[shortest].from) {
		c->s[shortest].from = from;
		c->s[shortest].to = to;
	}
}

static int
by_time(const void *a, const void *b)
{
	const struct silence *x = a, *y = b;

	return x->from < y->from ? -1 : x->from > y->from;
}

int
coverage_find(const struct tl *tl, const uint64_t *packets, size_t n,
    int64_t t0, int64_t t1, struct coverage *cov)
{
	uint8_t *p;
	uint32_t *others;
	int64_t w = tl_axis(t0, t1, AXIS, &t0), span;
	size_t i, m;

	t1 = tl_clamp(t1);
	span = t1 - t0 + 1;
	memset(cov, 0, n * sizeof(*cov));
	if (n < 2 || t1 <= t0)
		return 0;
	if ((p = calloc(n, AXIS)) == NULL ||
	    (others = calloc(AXIS, sizeof(*others))) == NULL) {
		free(p);
		return -1;
	}
	for (i = 0; i < n; i++) {
		presence(&tl[i], t0, w, p + i * AXIS);
		for (m = 0; m < AXIS; m++)
			others[m] += p[i * AXIS + m];
	}
	for (i = 0; i < n; i++) {
		const uint8_t *pi = p + i * AXIS;
		/* at its average rate over the span, SILENCE_PACKETS take: */
		double need = packets[i] > 0 ? (double)SILENCE_PACKETS *
		    (double)span / (double)packets[i] : 0;
		size_t a;

		if (packets[i] == 0)
			continue;	/* an empty file: the files check says */
		for (m = 0; m < AXIS; m = a + 1) {
			int64_t from, to;

			for (a = m; a < AXIS && !pi[a] && others[a] > 0; a++)
				;
			if (a == m)
				continue;
			from = t0 + (int64_t)m * w;
			to = t0 + (int64_t)a * w;
			if (to > t1)
				to = t1;
			if (to - from >= SILENCE_MIN && (double)(to - from) >=
			    need)
				keep(&cov[i], from, to);
		}
		qsort(cov[i].s, cov[i].ns, sizeof(cov[i].s[0]), by_time);
	}
	free(p);
	free(others);
	return 0;
}
