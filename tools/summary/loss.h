/*
 * loss.h - capture loss from TCP flows, per input file (loss.c): one
 * table per pcap-summary lane (summary.h), counts per input.
 */
#ifndef PCAPKIT_LOSS_H
#define PCAPKIT_LOSS_H

#include <stddef.h>
#include <stdint.h>

#include "filter.h"

/*
 * Flow entries per lane, at most: 256 bytes each, four cache lines (up
 * to 4 MiB per lane; the table starts at 8,192 and doubles at a quarter
 * full).  When
 * the LOSS_PROBE slots a flow may use are taken, the one idle longest is
 * evicted: what it measured so far is counted, and its later packets start
 * a new entry (a hole across the eviction is not seen).  Evictions are
 * counted, so a measurement made under that pressure says so.
 */
#define LOSS_FLOWS 16384
#define LOSS_HOLES 3		/* open holes kept per direction */
/* A jump further than TCP's largest window (2^30) is a new stream, and so
 * is a segment that far before the first one seen. */
#define LOSS_MAX_JUMP ((int64_t)1 << 30)
#define LOSS_MAX_REORDER ((int64_t)1 << 20)

/* What one input's flows measured; summed over inputs for the total. */
struct loss_count {
	uint64_t flows_two_way, flows_one_way;
	uint64_t acked, acked_unseen;	/* bytes, flows seen both ways */
	uint64_t stream, stream_holes;	/* bytes, flows seen one way */
	/* events, as Wireshark's expert info counts them */
	uint64_t holes;		/* "previous segment(s) not captured" */
	uint64_t acks_unseen;	/* "ACKed segment that wasn't captured" */
	uint64_t evicted;	/* flows evicted from a full table */
	uint64_t cut;		/* TCP headers cut short: not measured */
	uint64_t resyncs;	/* sequence jumps taken as a new stream */
};

struct loss_hole {
	int64_t a, b;		/* [a, b), unwrapped sequence numbers */
};

struct loss_dir {
	int64_t recent;		/* the highest unwrapped one, for wrap */
	int64_t lo, hi;		/* lowest and highest sequence seen */
	int64_t ack_lo, ack_hi;	/* first and highest ACK from the peer */
	int64_t hi_conf;	/* hi before the first unconfirmed jump */
	uint32_t ref;		/* the first raw sequence number seen */
	uint32_t pkts;		/* packets, held at UINT32_MAX */
	uint8_t space, data, acked;
	uint8_t sync;		/* the stream was seen to continue */
	uint8_t tent;		/* jumps not yet confirmed (the last holes) */
	uint8_t nholes;
	uint64_t fixed;		/* bytes of holes given up on (no slot) */
	struct loss_hole hole[LOSS_HOLES];
};

struct loss_key {		/* 48 bytes, hashed as words */
	uint32_t input;
	uint8_t version, pad[3];
	uint16_t pa, pb;
	uint8_t a[16], b[16];	/* a < b (then pa <= pb) */
	uint32_t pad2;
};

struct loss_flow {
	uint32_t kl;		/* the key hash's low bits (loss.c: lookup) */
	uint32_t input;
	int64_t last;		/* time of its last packet */
	struct loss_dir dir[2];	/* 0: from a; 1: from b */
};

/* A TCP segment parsed, waiting in its table's batch (loss.c). */
struct loss_seg {
	uint64_t h;		/* the flow's hash; an IPv4 flow's first word
				 * until its batch is hashed */
	uint64_t w1;		/* an IPv4 flow's second word */
	int64_t ts;
	uint32_t input, seq, ack, len;
	uint8_t flags, rev, v4;
};

/*
 * Segments parsed before their flows are updated, together: their hashes
 * are independent work, and their entries' cache lines are all asked for
 * before the first update waits on one.  Against hashing each segment as
 * it was parsed and updating it four segments later, pcap-summary takes
 * 0.98x the time (0.977x on one core with one worker), about 8 ns a
 * segment; batches of 16 to 64 measure alike, 128 a little slower.
 */
#define LOSS_BATCH 64

struct loss_tab {
	struct loss_flow *f;
	uint32_t *tag;		/* 0: free; else high hash bits | 1 */
	size_t cap;		/* a power of two */
	size_t max;		/* cap grows up to this */
	size_t n;		/* entries in use */
	struct loss_seg batch[LOSS_BATCH];
	size_t nb;		/* segments in batch */
};

int loss_init(struct loss_tab *t, size_t cap);
void loss_free(struct loss_tab *t);
/* A packet whose innermost IP header is ip, of input `input`.  Counted
 * with its batch, in the packets' order, or by loss_flush(). */
void loss_packet(struct loss_tab *t, struct loss_count *per_input,
    uint32_t input, const struct pf_ip *ip, const uint8_t *pkt,
    uint32_t caplen, int64_t ts);
/* Count every flow still in the table. */
void loss_flush(struct loss_tab *t, struct loss_count *per_input);
void loss_add(struct loss_count *to, const struct loss_count *c);
/* Unseen bytes of those measured, 0..1; -1 when nothing was measured. */
double loss_fraction(const struct loss_count *c);
const char *loss_method(const struct loss_count *c);

#endif
