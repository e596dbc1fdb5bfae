/*
 * clock.h - clock offsets between the machines of a capture (clock.c):
 * packets that two files both hold give time differences; the median per
 * pair, chained from a reference file, is each file's offset.
 */
#ifndef PCAPKIT_CLOCK_H
#define PCAPKIT_CLOCK_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "filter.h"

#define CLOCK_WINDOW 1000000000LL	/* a match is looked for within 1 s */
#define CLOCK_SLOTS (1 << 17)		/* recent sampled packets kept */
/*
 * 1 packet in 2^CLOCK_SAMPLE_BITS is sampled, one bit fewer each time the
 * capture's size doubles past CLOCK_SAMPLE_BYTES, down to 1 in 1,024: the
 * cost per byte stays bounded while a capture still gives some ten
 * thousand samples or more (64 MiB of 350-byte packets at 1 in 16, and at
 * each doubling as many again), where a pair of files keeps 2,048.  A
 * sampled packet costs a note through the lane's ring and a match on the
 * caller's thread: at 1 in 64, 1.4 GB took 6% more time than without
 * samples; at 1 in 256, about 1.5%.  The rate depends on the sizes alone,
 * so every file samples the same packets.
 */
#define CLOCK_SAMPLE_BITS 4
#define CLOCK_SAMPLE_BYTES ((uint64_t)64 << 20)
#define CLOCK_SAMPLE_MAX_BITS 10
#define CLOCK_PAIR_SAMPLES 2048		/* differences kept per pair */
#define CLOCK_MAX_PAIRS 65536
#define CLOCK_MIN_SAMPLES 3		/* a pair links two files from 3 */

/* What a lane sends of a sampled packet. */
struct clocknote {
	int kind;			/* NOTE_CLOCK (summary.h) */
	uint32_t input;
	uint64_t hash;
	int64_t ts;
};

/*
 * The identity of a packet clock_pick() chose, as forwarding leaves it:
 * the bytes from the outer IP header on (at most 128, with the wire
 * length), TTL or hop limit, TOS/traffic class and checksums masked.  1
 * with *hash set; 0 when the packet has no whole IP header.
 */
int clock_key(const struct pf_dissection *d, const uint8_t *pkt,
    uint32_t caplen, uint32_t len, uint64_t *hash);

/* clock_pick's bound for a sampling of 1 in 2^bits. */
static inline uint64_t
clock_below(unsigned bits)
{
	return (uint64_t)1 << (64 - bits);
}

/*
 * Whether a packet is sampled (1 in 2^bits, below = clock_below(bits)),
 * by a hash of what it carries, so that every file samples the same
 * packets.  Inline: it runs for every packet; clock_key() only for those
 * it picks.  The hash is of 16 bytes that forwarding leaves alone once
 * masked (IPv4's id, fragment field, protocol and addresses; IPv6's flow
 * label, length, next header and part of the source) and the wire
 * length, in one multiply: the top bits of a product by an odd constant
 * depend on every bit below, and an IPv4 id counting up walks them
 * evenly.  The 16 bytes lie within the fixed header, which pf_dissect
 * promises is captured.
 */
static inline int
clock_pick(const struct pf_dissection *d, const uint8_t *pkt, uint32_t len,
    uint64_t below)
{
	const struct pf_ip *ip = &d->ip[0];
	const uint8_t *p;
	uint64_t w0, w1;

	if (d->n == 0)
		return 0;
	p = pkt + ip->ip_off;
	if (ip->version == 4) {
		memcpy(&w0, p + 4, 8);
		memcpy(&w1, p + 12, 8);
		w0 &= 0x0000ff00ffffffffull;	/* TTL, checksum (LE) */
	} else {
		memcpy(&w0, p, 8);
		memcpy(&w1, p + 16, 8);
		w0 &= 0x00ffffffffff0ff0ull;	/* traffic class, hop limit */
	}
	return ((w0 ^ w1) + len) * 0xd6e8feb86659fd93ull < below;
}

/* The sampling bits for a capture of `bytes` in all (0: unknown). */
unsigned clock_sample_bits(uint64_t bytes);

/* 16 bytes: four to a cache line.  Free when ts is CLOCK_FREE. */
struct clockslot {
	uint64_t key;			/* the hash's high 40 bits | input */
	int64_t ts;
};
#define CLOCK_FREE INT64_MIN
#define CLOCK_MAX_INPUTS ((uint32_t)1 << 24)	/* the input's bits */

struct clockpair {
	uint32_t a, b;			/* a < b */
	int used;
	uint64_t seen;
	size_t nd;
	int64_t *d;			/* t_b - t_a, up to CLOCK_PAIR_SAMPLES */
};

struct clocks {
	struct clockslot *slot;
	struct clockpair *pair;		/* open addressing, half full at most */
	size_t npair, cappair;
	uint64_t rng;
	uint64_t below;			/* sampling: clock_below(bits) */
	uint64_t dropped;		/* sampled packets with no room */
	int failed;			/* out of memory */
};

int clock_init(struct clocks *c, unsigned bits);
/* A sampled packet, in merged order, on the caller's thread. */
void clock_note(struct clocks *c, const struct clocknote *n);
/*
 * Offsets of n files: off[i] in ns, known[i] 0 when file i shares no
 * packet with the reference chain; *ref the reference (the file sharing
 * the most packets; ties: the earlier); shared[i] packets file i shares
 * with any other.  -1 without memory.
 */
int clock_solve(struct clocks *c, size_t n, int64_t *off, int *known,
    size_t *ref, uint64_t *shared);
void clock_free(struct clocks *c);

#endif
