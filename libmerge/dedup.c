/*
 * dedup.c - drop packets seen twice within a short window (the same packet
 * captured at two points).
 *
 * Entries live in a ring indexed by a sequence number that only grows; hash
 * chains link entries by sequence number, so an entry that left the window
 * ends every chain through it and nothing is ever unlinked.
 */
#include <stdlib.h>
#include <string.h>

#include "merge_int.h"

struct dentry {
	int64_t ts;
	uint64_t hash;
	uint64_t prev;		/* sequence number of the next in the chain + 1 */
	uint32_t caplen, len, linktype;
	uint8_t *data;
};

struct pm_dedup {
	int64_t window;
	struct dentry *ring;
	size_t cap;		/* power of two */
	uint64_t head, tail;	/* live entries: [head, tail) */
	uint64_t *bucket;	/* newest sequence number + 1, or 0 */
	size_t nbucket;		/* power of two */
};

static uint64_t
hash_packet(const struct pm_packet *p)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ p->caplen ^
	    ((uint64_t)p->len << 32) ^ ((uint64_t)p->linktype << 20);
	const uint8_t *d = p->data;
	size_t n = p->caplen;
	uint64_t w;

	for (; n >= 8; n -= 8, d += 8) {
		memcpy(&w, d, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 29;
	}
	w = 0;
	memcpy(&w, d, n);
	h = (h ^ w ^ n) * 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 32);
}

pm_dedup *
pm_dedup_new(int64_t window)
{
	pm_dedup *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return NULL;
	d->window = window;
	d->cap = 1024;
	d->nbucket = 2048;
	d->ring = calloc(d->cap, sizeof(*d->ring));
	d->bucket = calloc(d->nbucket, sizeof(*d->bucket));
	if (d->ring == NULL || d->bucket == NULL) {
		pm_dedup_free(d);
		return NULL;
	}
	return d;
}

static void
link_entry(pm_dedup *d, uint64_t seq)
{
	struct dentry *e = &d->ring[seq & (d->cap - 1)];
	uint64_t *b = &d->bucket[e->hash & (d->nbucket - 1)];

	e->prev = *b;
	*b = seq + 1;
}

/* Double the ring and the table; live entries keep their numbers. */
static int
grow(pm_dedup *d)
{
	size_t ncap = d->cap * 2, nb = d->nbucket * 2;
	struct dentry *r = calloc(ncap, sizeof(*r));
	uint64_t *b = calloc(nb, sizeof(*b));
	uint64_t s;

	if (r == NULL || b == NULL) {
		free(r);
		free(b);
		return PM_ERR_NOMEM;
	}
	for (s = d->head; s < d->tail; s++)
		r[s & (ncap - 1)] = d->ring[s & (d->cap - 1)];
	free(d->ring);
	free(d->bucket);
	d->ring = r;
	d->bucket = b;
	d->cap = ncap;
	d->nbucket = nb;
	for (s = d->head; s < d->tail; s++)
		link_entry(d, s);
	return 0;
}

int
pm_dedup_check(pm_dedup *d, const struct pm_packet *p)
{
	uint64_t h = hash_packet(p), s;
	struct dentry *e;

	/* Forget what left the window (output is in time order). */
	while (d->head < d->tail) {
		e = &d->ring[d->head & (d->cap - 1)];
		if (pm_ts_sub(p->ts, e->ts) <= d->window)
			break;
		free(e->data);
		e->data = NULL;
		d->head++;
	}
	for (s = d->bucket[h & (d->nbucket - 1)]; s > d->head; ) {
		e = &d->ring[(s - 1) & (d->cap - 1)];
		if (e->hash == h && e->caplen == p->caplen &&
		    e->len == p->len && e->linktype == p->linktype &&
		    (p->ts >= e->ts ? pm_ts_sub(p->ts, e->ts) :
		    pm_ts_sub(e->ts, p->ts)) <= d->window &&
		    memcmp(e->data, p->data, p->caplen) == 0)
			return 1;
		s = e->prev;
	}
	if (d->tail - d->head == d->cap && grow(d) < 0)
		return PM_ERR_NOMEM;
	e = &d->ring[d->tail & (d->cap - 1)];
	if ((e->data = malloc(p->caplen ? p->caplen : 1)) == NULL)
		return PM_ERR_NOMEM;
	memcpy(e->data, p->data, p->caplen);
	e->ts = p->ts;
	e->hash = h;
	e->caplen = p->caplen;
	e->len = p->len;
	e->linktype = p->linktype;
	link_entry(d, d->tail);
	d->tail++;
	return 0;
}

void
pm_dedup_free(pm_dedup *d)
{
	uint64_t s;

	if (d == NULL)
		return;
	if (d->ring != NULL)
		for (s = d->head; s < d->tail; s++)
			free(d->ring[s & (d->cap - 1)].data);
	free(d->ring);
	free(d->bucket);
	free(d);
}
