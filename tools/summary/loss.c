/*
 * loss.c - capture loss measured inside a capture, per input file, from
 * its TCP flows (pcap-summary; see loss.h).
 *
 * Two measurements, as Zeek's capture-loss script and Wireshark's TCP
 * analysis make them:
 *  - a direction of a flow seen both ways: of the bytes the receiver
 *    acknowledged during the capture, those the capture does not hold
 *    (holes below the highest ACK, and data above the highest segment
 *    seen that an ACK covers);
 *  - a flow seen one way only (return traffic that does not cross the
 *    edge): sequence holes never filled, of the stream's bytes.
 * A retransmission or a reordered segment that fills a hole is not loss;
 * SYN and FIN take one sequence number each, so their ACKs are not loss;
 * nothing before a direction's first segment or after its last one is
 * counted, so the edges of the capture window are not loss.  Sequence
 * numbers are unwrapped against the last one seen (32-bit wrap).
 */
#include <stdlib.h>
#include <string.h>

#include "loss.h"
#include "table.h"

#define LOSS_PROBE 16		/* slots searched before one is evicted */

_Static_assert(sizeof(struct loss_flow) == 256, "a flow is four cache lines");

/* One word into a flow's hash. */
static inline uint64_t
hash_in(uint64_t h, uint64_t w)
{
	h ^= w;
	h *= 0xbf58476d1ce4e5b9ull;
	return h ^ (h >> 31);
}

/* A final mix: the slot comes from the low bits, and 5-tuples that differ
 * in a port alone clustered without it. */
static inline uint64_t
hash_out(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	return h ^ (h >> 33);
}

/* Per packet: words, not bytes (the key is 48 bytes, padding zeroed). */
static uint64_t
hash_key(const struct loss_key *k)
{
	uint64_t w[sizeof(*k) / 8], h = 0x9e3779b97f4a7c15ull;
	size_t i;

	memcpy(w, k, sizeof(w));
	for (i = 0; i < sizeof(w) / 8; i++)
		h = hash_in(h, w[i]);
	return hash_out(h);
}

/*
 * An IPv4 flow's hash, from its two words (input and ports; addresses):
 * a seed of its own, so that it is no IPv6 key's hash but by chance.
 */
static uint64_t
hash_words(uint64_t w0, uint64_t w1)
{
	return hash_out(hash_in(hash_in(0x2545f4914f6cdd1dull, w0), w1));
}

/* Page-aligned: an entry is four cache lines, not five. */
static int
alloc_slots(size_t c, struct loss_flow **f, uint32_t **tag)
{
	if ((*f = table_alloc(c * sizeof(**f))) == NULL ||
	    (*tag = table_alloc(c * sizeof(**tag))) == NULL) {
		table_free(*f, c * sizeof(**f));
		*f = NULL;
		return -1;
	}
	return 0;
}

/*
 * The table starts at LOSS_START entries (2 MiB: one huge page, where a
 * table of 1,024 entries took 64 page faults and its doublings hundreds
 * more, at tens of microseconds each under a hypervisor) and doubles at
 * a quarter full (linear probing within LOSS_PROBE slots evicts in long
 * clusters), up to max: most captures have fewer flows than the most.
 */
#define LOSS_START 8192

int
loss_init(struct loss_tab *t, size_t max)
{
	size_t c = LOSS_PROBE;

	memset(t, 0, sizeof(*t));
	while (c < max)
		c *= 2;
	t->max = c;
	t->cap = c < LOSS_START ? c : LOSS_START;
	return alloc_slots(t->cap, &t->f, &t->tag);
}

void
loss_free(struct loss_tab *t)
{
	table_free(t->f, t->cap * sizeof(*t->f));
	table_free(t->tag, t->cap * sizeof(*t->tag));
	t->f = NULL;
	t->tag = NULL;
}

/* Where raw lies in d's unwrapped sequence space (d->seen). */
static int64_t
unwrap(struct loss_dir *d, uint32_t raw)
{
	int64_t u = d->recent + (int32_t)(raw - (uint32_t)(d->ref +
	    (uint64_t)d->recent));

	if (u > d->recent)
		d->recent = u;
	return u;
}

static void
dir_start(struct loss_dir *d, uint32_t raw)
{
	if (!d->space) {
		d->space = 1;
		d->ref = raw;
		d->recent = 0;
	}
}

/* Remove [s, e) from d's holes. */
static void
fill(struct loss_dir *d, int64_t s, int64_t e)
{
	unsigned i;

	for (i = 0; i < d->nholes; ) {
		struct loss_hole *h = &d->hole[i];

		if (e <= h->a || s >= h->b) {
			i++;
			continue;
		}
		if (s <= h->a && e >= h->b) {		/* filled */
			*h = d->hole[--d->nholes];
			continue;
		}
		if (s <= h->a) {
			h->a = e;
		} else if (e >= h->b) {
			h->b = s;
		} else if (d->nholes < LOSS_HOLES) {	/* split */
			d->hole[d->nholes].a = e;
			d->hole[d->nholes].b = h->b;
			d->nholes++;
			h->b = s;
		} else {
			/* No slot for the second piece: it stays unfilled. */
			d->fixed += (uint64_t)(h->b - e);
			h->b = s;
		}
		i++;
	}
}

static void
hole_add(struct loss_dir *d, int64_t a, int64_t b)
{
	if (d->nholes == LOSS_HOLES) {
		/* The oldest hole is the least likely to be filled. */
		unsigned i, old = 0;

		for (i = 1; i < LOSS_HOLES; i++)
			if (d->hole[i].a < d->hole[old].a)
				old = i;
		d->fixed += (uint64_t)(d->hole[old].b - d->hole[old].a);
		d->hole[old] = d->hole[--d->nholes];
	}
	d->hole[d->nholes].a = a;
	d->hole[d->nholes].b = b;
	d->nholes++;
}

/* Bytes of [s, e) in d's holes. */
static uint64_t
in_holes(const struct loss_dir *d, int64_t s, int64_t e)
{
	uint64_t n = 0;
	unsigned i;

	for (i = 0; i < d->nholes; i++) {
		int64_t a = d->hole[i].a > s ? d->hole[i].a : s;
		int64_t b = d->hole[i].b < e ? d->hole[i].b : e;
		if (b > a)
			n += (uint64_t)(b - a);
	}
	return n;
}

/*
 * Count what d measured since it was last in sync, two_way telling which
 * measurement applies.  Only a direction whose stream was seen to continue
 * (a segment starting where the last one ended) is measured, and only up
 * to its last jump not yet confirmed so: sequence numbers that jump about
 * (a reused 5-tuple, garbage) say nothing of loss.
 */
static void
part_done(struct loss_dir *d, int two_way, struct loss_count *c)
{
	int64_t hi = d->tent ? d->hi_conf : d->hi;

	if (!d->data || !d->sync)
		return;
	if (two_way && d->acked) {
		int64_t s = d->ack_lo > d->lo ? d->ack_lo : d->lo;
		int64_t e = d->ack_hi;

		if (e > s) {
			c->acked += (uint64_t)(e - s);
			/* d->fixed: holes given up, assumed below the ACK */
			c->acked_unseen += d->fixed + in_holes(d, s,
			    e < hi ? e : hi);
			if (e > hi)
				c->acked_unseen += (uint64_t)(e - (hi > s ?
				    hi : s));
		}
	} else if (!two_way) {
		c->stream += (uint64_t)(hi - d->lo);
		c->stream_holes += d->fixed + in_holes(d, d->lo, hi);
	}
}

/* d's stream starts again at [s, e). */
static void
restart(struct loss_dir *d, int64_t s, int64_t e)
{
	d->data = 1;
	d->lo = s;
	d->hi = e;
	d->sync = 0;
	d->tent = 0;
	d->nholes = 0;
	d->fixed = 0;
	d->acked = 0;
}

static void
resync(struct loss_dir *d, int two_way, struct loss_count *c, int64_t s,
    int64_t e)
{
	part_done(d, two_way, c);
	c->resyncs++;
	restart(d, s, e);
}

/* A segment [s, e) of direction d.  Inline: every TCP segment's. */
static inline __attribute__((always_inline)) void
segment(struct loss_dir *d, int two_way, struct loss_count *c, int64_t s,
    int64_t e)
{
	unsigned i;

	if (!d->data) {
		restart(d, s, e);
		return;
	}
	if (d->tent > 0) {
		/*
		 * Jumps stand once the stream goes on exactly where it
		 * ended, or the first byte missed in one is sent again.
		 */
		int ok = s == d->hi;

		for (i = 0; !ok && i < d->nholes; i++)
			ok = s == d->hole[i].a && s >= d->hi_conf;
		if (ok) {
			c->holes += d->tent;
			d->tent = 0;
			d->sync = 1;
		} else if (s < d->lo || (s >= d->hi_conf && s <= d->hi)) {
			/* Into the jumps, or before the stream: not a
			 * stream that goes on. */
			resync(d, two_way, c, s, e);
			return;
		}
	}
	if (s > d->hi) {
		if (s - d->hi > LOSS_MAX_JUMP || (d->tent > 0 &&
		    d->tent == LOSS_HOLES)) {
			resync(d, two_way, c, s, e);
			return;
		}
		if (d->tent++ == 0)
			d->hi_conf = d->hi;
		hole_add(d, d->hi, s);
		d->hi = e;
		return;
	}
	if (s < d->lo) {
		if (d->lo - s > LOSS_MAX_REORDER) {
			resync(d, two_way, c, s, e);
			return;
		}
		if (e < d->lo)		/* reordered before the first seen */
			hole_add(d, e, d->lo);
		d->lo = s;
	}
	if (s == d->hi)
		d->sync = 1;
	if (e > s && d->nholes > 0)
		fill(d, s, e);
	if (e > d->hi)
		d->hi = e;
}

/* Add what flow f measured to its input's counts. */
static void
finish(struct loss_flow *f, struct loss_count *c)
{
	int two_way = f->dir[0].pkts > 0 && f->dir[1].pkts > 0;

	if (two_way)
		c->flows_two_way++;
	else
		c->flows_one_way++;
	part_done(&f->dir[0], two_way, c);
	part_done(&f->dir[1], two_way, c);
}

/*
 * Twice the slots, every entry moved to where its hash puts it (an entry
 * keeps the hash's low 32 bits, which the index is made of).  An entry
 * that finds no slot in its reach is evicted, as in lookup().  Without
 * memory the table stays as it is, and stops growing.
 */
static void
grow(struct loss_tab *t, struct loss_count *per_input)
{
	size_t nc = t->cap * 2, i, k, j;
	struct loss_flow *nf;
	uint32_t *ntag;

	if (alloc_slots(nc, &nf, &ntag) < 0) {
		t->max = t->cap;
		return;
	}
	for (i = 0; i < t->cap; i++) {
		if (t->tag[i] == 0)
			continue;
		for (k = 0; k < LOSS_PROBE; k++) {
			j = ((size_t)t->f[i].kl + k) & (nc - 1);
			if (ntag[j] == 0)
				break;
		}
		if (k == LOSS_PROBE) {
			finish(&t->f[i], &per_input[t->f[i].input]);
			per_input[t->f[i].input].evicted++;
			t->n--;
			continue;
		}
		ntag[j] = t->tag[i];
		nf[j] = t->f[i];
	}
	table_free(t->f, t->cap * sizeof(*t->f));
	table_free(t->tag, t->cap * sizeof(*t->tag));
	t->f = nf;
	t->tag = ntag;
	t->cap = nc;
}

/*
 * A new entry for hash h (lookup found none): in the first free slot in
 * reach, or over the stalest one there (evicted).  The table grows first
 * when due, moving the entries.
 */
static __attribute__((noinline)) struct loss_flow *
insert(struct loss_tab *t, uint64_t h, uint32_t tag, uint32_t input,
    int64_t ts, struct loss_count *per_input)
{
	size_t i, j, mask, at, stale;

	if (t->n >= t->cap / 4 && t->cap < t->max)
		grow(t, per_input);
	mask = t->cap - 1;
	at = stale = t->cap;
	for (i = 0; i < LOSS_PROBE && at == t->cap; i++)
		if (t->tag[(h + i) & mask] == 0)
			at = (h + i) & mask;
	if (at == t->cap) {
		for (i = 0; i < LOSS_PROBE; i++) {
			j = (h + i) & mask;
			if (stale == t->cap || t->f[j].last < t->f[stale].last)
				stale = j;
		}
		/* Its measurement so far is kept; a later packet of it starts
		 * afresh, so a hole across the eviction is not seen. */
		finish(&t->f[stale], &per_input[t->f[stale].input]);
		per_input[t->f[stale].input].evicted++;
		at = stale;
	} else {
		t->n++;
	}
	memset(&t->f[at], 0, sizeof(t->f[at]));
	t->tag[at] = tag;
	t->f[at].kl = (uint32_t)h;
	t->f[at].input = input;
	t->f[at].last = ts;
	return &t->f[at];
}

/*
 * The entry for hash h: found, or made by insert().  The probe reads the
 * tags (a small array that stays in cache) and touches an entry only when
 * its tag matches.  It stops at a free slot: a slot once taken is never
 * freed but by loss_flush() and grow(), which rebuild, so an entry lies
 * before any free slot of its probe.  An entry keeps 63 bits of the
 * key's hash (31 in the tag, 32 in the entry), not the key: two flows of
 * one file whose 5-tuples hash alike (a chance of 2^-63 a pair) would be
 * measured as one.  It is what keeps an entry small enough that a
 * lane's flows stay in the cache of the core working it.
 */
static inline struct loss_flow *
lookup(struct loss_tab *t, uint64_t h, uint32_t input, int64_t ts,
    struct loss_count *per_input)
{
	uint32_t tag = (uint32_t)(h >> 32) | 1;
	size_t i, j, mask = t->cap - 1;

	for (i = 0; i < LOSS_PROBE; i++) {
		uint32_t tj = t->tag[j = (h + i) & mask];

		if (tj == tag && t->f[j].kl == (uint32_t)h &&
		    t->f[j].input == input)
			return &t->f[j];
		if (tj == 0)
			break;
	}
	return insert(t, h, tag, input, ts, per_input);
}

/* Update g's flow: the entry's lines were asked for by run_batch().
 * Inline: it runs for every TCP segment. */
static inline __attribute__((always_inline)) void
apply(struct loss_tab *t, struct loss_count *per_input,
    const struct loss_seg *g)
{
	struct loss_flow *f;
	struct loss_dir *d, *o;
	int two_way;
	int64_t s;

	f = lookup(t, g->h, g->input, g->ts, per_input);
	f->last = g->ts;
	d = &f->dir[g->rev];
	o = &f->dir[!g->rev];
	if (d->pkts != UINT32_MAX)
		d->pkts++;

	two_way = o->pkts > 0;
	dir_start(d, g->seq);
	s = unwrap(d, g->seq);
	segment(d, two_way, &per_input[g->input], s, s + g->len);
	if ((g->flags & 0x10) && !(g->flags & 0x04) && o->data) {	/* ACK */
		int64_t a;

		dir_start(o, g->ack);
		a = unwrap(o, g->ack);
		/* An ACK far from o's stream is not about it. */
		if (a < o->lo - LOSS_MAX_JUMP || a > o->hi + LOSS_MAX_JUMP)
			return;
		if (!o->acked) {
			o->acked = 1;
			o->ack_lo = o->ack_hi = a;
		} else if (a > o->ack_hi) {
			o->ack_hi = a;
		}
		if (a > o->hi)
			per_input[g->input].acks_unseen++;
	}
}

/*
 * Hash the batch's flows, ask for their entries' cache lines, then update
 * them in the packets' order: with thousands of flows an entry is seldom
 * in cache, and its fetch overlaps the others' and the hashing.
 */
static void
run_batch(struct loss_tab *t, struct loss_count *per_input)
{
	size_t i, j, mask = t->cap - 1;

	for (i = 0; i < t->nb; i++) {
		struct loss_seg *g = &t->batch[i];

		if (g->v4)
			g->h = hash_words(g->h, g->w1);
	}
	for (i = 0; i < t->nb; i++) {
		/* The entry a flow that is not moved finds first. */
		const char *e = (const char *)&t->f[j = t->batch[i].h & mask];

		__builtin_prefetch(&t->tag[j], 1);
		__builtin_prefetch(e, 1);
		__builtin_prefetch(e + 64, 1);
		__builtin_prefetch(e + 128, 1);
		__builtin_prefetch(e + 192, 1);
	}
	for (i = 0; i < t->nb; i++)
		apply(t, per_input, &t->batch[i]);
	t->nb = 0;
}

void
loss_packet(struct loss_tab *t, struct loss_count *per_input, uint32_t input,
    const struct pf_ip *ip, const uint8_t *pkt, uint32_t caplen, int64_t ts)
{
	const uint8_t *th;
	struct loss_seg *g;
	uint32_t hl;
	int rev;

	if (ip->proto != 6 || ip->l4_off == 0 || !ip->ports_known)
		return;
	if (caplen < ip->l4_off || caplen - ip->l4_off < 14) {
		per_input[input].cut++;
		return;
	}
	th = pkt + ip->l4_off;
	hl = (uint32_t)(th[12] >> 4) * 4;
	if (hl < 20 || ip->l4_len < hl) {
		per_input[input].cut++;
		return;
	}
	g = &t->batch[t->nb];
	g->seq = (uint32_t)th[4] << 24 | (uint32_t)th[5] << 16 |
	    (uint32_t)th[6] << 8 | th[7];
	g->ack = (uint32_t)th[8] << 24 | (uint32_t)th[9] << 16 |
	    (uint32_t)th[10] << 8 | th[11];
	g->flags = th[13];
	g->len = ip->l4_len - hl + ((g->flags & 0x02) != 0) +
	    ((g->flags & 0x01) != 0);
	g->input = input;
	g->ts = ts;

	/* The flow, its lower endpoint first. */
	if (ip->version == 4) {
		/*
		 * IPv4, four in five TCP packets: the 5-tuple as two words,
		 * compared as memcmp(3) would, with no key built; hashed
		 * with the batch.
		 */
		uint32_t a = (uint32_t)ip->src[0] << 24 | (uint32_t)ip->src[1] <<
		    16 | (uint32_t)ip->src[2] << 8 | ip->src[3];
		uint32_t b = (uint32_t)ip->dst[0] << 24 | (uint32_t)ip->dst[1] <<
		    16 | (uint32_t)ip->dst[2] << 8 | ip->dst[3];
		uint16_t pa = ip->sport, pb = ip->dport;

		rev = a > b || (a == b && pa > pb);
		if (rev) {
			uint32_t x = a;
			uint16_t y = pa;
			a = b; b = x;
			pa = pb; pb = y;
		}
		g->h = (uint64_t)input << 32 | (uint32_t)pa << 16 | pb;
		g->w1 = (uint64_t)a << 32 | b;
		g->v4 = 1;
	} else {
		struct loss_key k;
		int cmp = memcmp(ip->src, ip->dst, 16);

		memset(&k, 0, sizeof(k));
		k.input = input;
		k.version = (uint8_t)ip->version;
		rev = cmp > 0 || (cmp == 0 && ip->sport > ip->dport);
		memcpy(k.a, rev ? ip->dst : ip->src, 16);
		memcpy(k.b, rev ? ip->src : ip->dst, 16);
		k.pa = rev ? ip->dport : ip->sport;
		k.pb = rev ? ip->sport : ip->dport;
		g->h = hash_key(&k);
		g->v4 = 0;
	}
	g->rev = (uint8_t)rev;
	if (++t->nb == LOSS_BATCH)
		run_batch(t, per_input);
}

void
loss_flush(struct loss_tab *t, struct loss_count *per_input)
{
	size_t i;

	run_batch(t, per_input);
	for (i = 0; i < t->cap; i++)
		if (t->tag[i] != 0) {
			finish(&t->f[i], &per_input[t->f[i].input]);
			t->tag[i] = 0;
		}
	t->n = 0;
}

void
loss_add(struct loss_count *to, const struct loss_count *c)
{
	to->flows_two_way += c->flows_two_way;
	to->flows_one_way += c->flows_one_way;
	to->acked += c->acked;
	to->acked_unseen += c->acked_unseen;
	to->stream += c->stream;
	to->stream_holes += c->stream_holes;
	to->holes += c->holes;
	to->acks_unseen += c->acks_unseen;
	to->evicted += c->evicted;
	to->cut += c->cut;
	to->resyncs += c->resyncs;
}

double
loss_fraction(const struct loss_count *c)
{
	uint64_t of = c->acked + c->stream;

	if (of == 0)
		return -1;
	return (double)(c->acked_unseen + c->stream_holes) / (double)of;
}

const char *
loss_method(const struct loss_count *c)
{
	if (c->acked > 0 && c->stream > 0)
		return "ack+seq";
	if (c->acked > 0)
		return "ack";
	if (c->stream > 0)
		return "seq";
	return "none";
}
