/*
 * clock.c - clock offsets between the files of a capture (see clock.h).
 *
 * mergecap's manual tells users to find such offsets by hand with capinfos
 * and shift with editcap.  Here a packet two machines both saw (the same
 * bytes but for what forwarding changes) gives one time difference; the
 * median over all such packets is the offset of one file to the other,
 * robust to the odd false match.  Matches are looked for within 1 s, much
 * wider than --dedup's 5 ms exact match, over a sample of the packets
 * (1 in 16, fewer in large captures) chosen by hash so that every file
 * samples the same packets.
 */
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "merge.h"
#include "table.h"

#define PROBE 8

static uint64_t
mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 33);
}

unsigned
clock_sample_bits(uint64_t bytes)
{
	unsigned bits = CLOCK_SAMPLE_BITS;

	while (bits < CLOCK_SAMPLE_MAX_BITS &&
	    bytes >= (CLOCK_SAMPLE_BYTES << (bits - CLOCK_SAMPLE_BITS + 1)))
		bits++;
	return bits;
}

int
clock_key(const struct pf_dissection *d, const uint8_t *pkt, uint32_t caplen,
    uint32_t len, uint64_t *hash)
{
	const struct pf_ip *ip = &d->ip[0];
	const uint8_t *p;
	uint8_t b[128];
	uint32_t n, i, l4, ck;
	uint64_t h = 0x9e3779b97f4a7c15ull ^ len;

	if (d->n == 0 || ip->ip_off >= caplen || caplen - ip->ip_off <
	    (ip->version == 4 ? 20u : 40u))
		return 0;
	n = caplen - ip->ip_off;
	p = pkt + ip->ip_off;
	if (n > sizeof(b))
		n = sizeof(b);
	memcpy(b, p, n);
	if (ip->version == 4) {
		b[1] = 0;			/* TOS: DSCP, ECN */
		b[8] = 0;			/* TTL */
		b[10] = b[11] = 0;		/* header checksum */
	} else {
		b[0] &= 0xf0;			/* traffic class */
		b[1] &= 0x0f;
		b[7] = 0;			/* hop limit */
	}
	l4 = ip->l4_off - ip->ip_off;
	ck = 0;
	if (d->n == 1 && ip->l4_off != 0 && ip->proto_known) {
		if (ip->proto == 6 && l4 + 18 <= n)
			ck = l4 + 16;
		else if (ip->proto == 17 && l4 + 8 <= n)
			ck = l4 + 6;
	}
	if (ck != 0)
		b[ck] = b[ck + 1] = 0;
	for (i = 0; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, b + i, 8);
		h = mix(h ^ w);
	}
	for (; i < n; i++)
		h = mix(h ^ b[i]);
	*hash = h;
	return 1;
}

int
clock_init(struct clocks *c, unsigned bits)
{
	size_t i;

	memset(c, 0, sizeof(*c));
	c->rng = 0x2545f4914f6cdd1dull;
	c->below = clock_below(bits);
	/* Pairs start few and grow: a run touches (and frees) only the
	 * entries its files' pairs need, not the 5 MiB of the largest. */
	c->cappair = 64;
	if ((c->slot = table_alloc(CLOCK_SLOTS * sizeof(*c->slot))) == NULL ||
	    (c->pair = calloc(c->cappair, sizeof(*c->pair))) == NULL) {
		table_free(c->slot, CLOCK_SLOTS * sizeof(*c->slot));
		c->slot = NULL;
		return -1;
	}
	for (i = 0; i < CLOCK_SLOTS; i++)
		c->slot[i].ts = CLOCK_FREE;
	return 0;
}

/* Where pair (a, b) is or goes in a table of cap entries. */
static struct clockpair *
pair_slot(struct clockpair *t, size_t cap, uint32_t a, uint32_t b)
{
	size_t i = (size_t)mix(((uint64_t)a << 32) | b);

	for (;; i++) {
		struct clockpair *p = &t[i & (cap - 1)];

		if (!p->used || (p->a == a && p->b == b))
			return p;
	}
}

static struct clockpair *
pair_of(struct clocks *c, uint32_t a, uint32_t b)
{
	struct clockpair *p;

	if (c->npair * 2 >= c->cappair && c->npair < CLOCK_MAX_PAIRS) {
		size_t nc = c->cappair * 2, i;
		struct clockpair *t = calloc(nc, sizeof(*t));

		if (t == NULL) {
			c->failed = 1;
			return NULL;
		}
		for (i = 0; i < c->cappair; i++)
			if (c->pair[i].used)
				*pair_slot(t, nc, c->pair[i].a, c->pair[i].b) =
				    c->pair[i];
		free(c->pair);
		c->pair = t;
		c->cappair = nc;
	}
	p = pair_slot(c->pair, c->cappair, a, b);
	if (!p->used) {
		if (c->npair == CLOCK_MAX_PAIRS)
			return NULL;
		p->used = 1;
		p->a = a;
		p->b = b;
		c->npair++;
	}
	return p;
}

static void
sample(struct clocks *c, uint32_t fa, int64_t ta, uint32_t fb, int64_t tb)
{
	struct clockpair *p;
	int64_t d;
	uint64_t k;

	if (fa > fb) {
		uint32_t f = fa;
		int64_t t = ta;
		fa = fb; ta = tb; fb = f; tb = t;
	}
	if ((p = pair_of(c, fa, fb)) == NULL)
		return;
	d = tb - ta;
	p->seen++;
	if (p->d == NULL && (p->d = malloc(CLOCK_PAIR_SAMPLES *
	    sizeof(*p->d))) == NULL) {
		c->failed = 1;
		return;
	}
	if (p->nd < CLOCK_PAIR_SAMPLES) {
		p->d[p->nd++] = d;
		return;
	}
	/* a uniform sample of all of them (reservoir) */
	c->rng ^= c->rng << 13;
	c->rng ^= c->rng >> 7;
	c->rng ^= c->rng << 17;
	if ((k = c->rng % p->seen) < CLOCK_PAIR_SAMPLES)
		p->d[k] = d;
}

/*
 * A slot keeps the hash's high 40 bits and the input: two sampled packets
 * alike in those bits but not the same packet (a chance of 2^-40 a pair
 * within the second) would give one false difference, which the median
 * outvotes.  The slot's index holds more of the hash.
 */
void
clock_note(struct clocks *c, const struct clocknote *n)
{
	size_t mask = CLOCK_SLOTS - 1, i, free_at = CLOCK_SLOTS;
	uint64_t hk = n->hash & ~(uint64_t)(CLOCK_MAX_INPUTS - 1);

	if (n->input >= CLOCK_MAX_INPUTS)
		return;
	for (i = 0; i < PROBE; i++) {
		struct clockslot *s = &c->slot[(n->hash + i) & mask];
		int64_t dt;
		uint32_t in;

		if (s->ts == CLOCK_FREE)  {
			if (free_at == CLOCK_SLOTS)
				free_at = (n->hash + i) & mask;
			continue;
		}
		dt = pm_ts_sub(n->ts, s->ts);
		if (dt > CLOCK_WINDOW || dt < -CLOCK_WINDOW) {
			/* expired (notes come in time order) */
			if (free_at == CLOCK_SLOTS)
				free_at = (n->hash + i) & mask;
			continue;
		}
		in = (uint32_t)(s->key & (CLOCK_MAX_INPUTS - 1));
		if ((s->key & ~(uint64_t)(CLOCK_MAX_INPUTS - 1)) == hk &&
		    in != n->input)
			sample(c, in, s->ts, n->input, n->ts);
	}
	if (free_at == CLOCK_SLOTS) {
		c->dropped++;
		return;
	}
	c->slot[free_at].key = hk | n->input;
	c->slot[free_at].ts = n->ts;
}

static int
cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static int
by_seen(const void *a, const void *b)
{
	const struct clockpair *x = *(const struct clockpair *const *)a;
	const struct clockpair *y = *(const struct clockpair *const *)b;

	return x->seen > y->seen ? -1 : x->seen < y->seen;
}

int
clock_solve(struct clocks *c, size_t n, int64_t *off, int *known,
    size_t *ref, uint64_t *shared)
{
	struct clockpair **pl;
	int64_t *med;
	size_t i, k, np = 0, changed;

	memset(off, 0, n * sizeof(*off));
	memset(known, 0, n * sizeof(*known));
	memset(shared, 0, n * sizeof(*shared));
	*ref = 0;
	if ((pl = calloc(c->npair + 1, sizeof(*pl))) == NULL ||
	    (med = calloc(c->npair + 1, sizeof(*med))) == NULL) {
		free(pl);
		return -1;
	}
	for (i = 0; i < c->cappair; i++) {
		struct clockpair *p = &c->pair[i];

		if (!p->used || p->a >= n || p->b >= n)
			continue;
		shared[p->a] += p->seen;
		shared[p->b] += p->seen;
		if (p->nd >= CLOCK_MIN_SAMPLES)
			pl[np++] = p;
	}
	/* the busiest pairs first: the chain takes the best-sampled links */
	qsort(pl, np, sizeof(*pl), by_seen);
	for (k = 0; k < np; k++) {
		qsort(pl[k]->d, pl[k]->nd, sizeof(int64_t), cmp64);
		med[k] = pl[k]->nd % 2 ? pl[k]->d[pl[k]->nd / 2] :
		    pl[k]->d[pl[k]->nd / 2 - 1] / 2 + pl[k]->d[pl[k]->nd / 2] / 2;
	}
	for (i = 1; i < n; i++)
		if (shared[i] > shared[*ref])
			*ref = i;
	if (np > 0)
		known[*ref] = 1;
	do {
		changed = 0;
		for (k = 0; k < np; k++) {
			struct clockpair *p = pl[k];

			if (known[p->a] && !known[p->b]) {
				off[p->b] = off[p->a] + med[k];
				known[p->b] = 1;
				changed = 1;
			} else if (known[p->b] && !known[p->a]) {
				off[p->a] = off[p->b] - med[k];
				known[p->a] = 1;
				changed = 1;
			}
		}
	} while (changed);
	free(pl);
	free(med);
	return 0;
}

void
clock_free(struct clocks *c)
{
	size_t i;

	for (i = 0; c->pair != NULL && i < c->cappair; i++)
		free(c->pair[i].d);
	free(c->pair);
	table_free(c->slot, CLOCK_SLOTS * sizeof(*c->slot));
	c->pair = NULL;
	c->slot = NULL;
}
