/*
 * match.c - judge packets against filter_v1 tuples and a BPF expression.
 *
 * Three-valued: a field that is present and differs is a no-match; a field
 * the tuple needs but the packet lost (cut short) makes the packet
 * undecidable, unless another tuple or layer matches outright.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "filter.h"
#include "filter_int.h"

/*
 * Fragments of a datagram arrive within this much time of the first.  Age
 * is measured on the input's own clock (the latest fragment time seen in
 * that input), never on other inputs' packets: a verdict then depends only
 * on the input's own packets, whatever else is interleaved with them, so a
 * caller may judge inputs in separate filters (threads) and get the same
 * answers as one filter over the merged stream.
 */
#define FRAG_TTL_NS (120LL * 1000000000LL)

struct inclock {
	int used;
	uint32_t input;
	int64_t now;
};

struct frag {
	int used;
	uint32_t input, id;
	uint8_t version, proto, verdict;
	uint8_t src[16], dst[16];
	int64_t ts;
};

struct bpf_entry {
	uint32_t linktype;
	struct bpf_program prog;
};

struct pf_filter {
	struct pf_tuple *t;
	size_t n;
	int match_all;		/* an empty tuple, or none */
	struct pf_filter_opts o;
	char *bpf;
	struct bpf_entry *progs;
	size_t nprogs;
	struct frag *frags;	/* open addressing, power-of-two size */
	size_t fcap, fused;
	struct inclock *clk;	/* per-input clocks, same scheme */
	size_t ccap, cused;
	char errbuf[PF_ERRBUF_SIZE];
};

static int
prefix_has(const struct pf_prefix *p, int version, const uint8_t *a)
{
	unsigned full = p->bits / 8, rest = p->bits % 8;

	if (p->family != version)
		return 0;
	if (memcmp(p->addr, a, full) != 0)
		return 0;
	return rest == 0 ||
	    ((p->addr[full] ^ a[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

/* PF_MATCH, PF_NOMATCH or PF_UNDECIDABLE for one tuple on one header. */
static int
match_ip(const struct pf_tuple *t, const struct pf_ip *ip, int swap)
{
	const uint8_t *s = swap ? ip->dst : ip->src;
	const uint8_t *d = swap ? ip->src : ip->dst;
	uint16_t sp = swap ? ip->dport : ip->sport;
	uint16_t dp = swap ? ip->sport : ip->dport;
	int unknown = 0;

	if ((t->has & PF_HAS_SRC) && !prefix_has(&t->src, ip->version, s))
		return PF_NOMATCH;
	if ((t->has & PF_HAS_DST) && !prefix_has(&t->dst, ip->version, d))
		return PF_NOMATCH;
	if (t->has & PF_HAS_PROTO) {
		if (!ip->proto_known)
			unknown = 1;
		else if (ip->proto != t->proto)
			return PF_NOMATCH;
	}
	if (t->has & (PF_HAS_SPORT | PF_HAS_DPORT)) {
		if (ip->proto_known && !pf_proto_has_ports(ip->proto))
			return PF_NOMATCH;
		if (!ip->ports_known)
			unknown = 1;
		else if (((t->has & PF_HAS_SPORT) && sp != t->sport) ||
		    ((t->has & PF_HAS_DPORT) && dp != t->dport))
			return PF_NOMATCH;
	}
	return unknown ? PF_UNDECIDABLE : PF_MATCH;
}

/* Combine alternatives (OR): a match wins, then undecidable. */
static int
either(int a, int b)
{
	if (a == PF_MATCH || b == PF_MATCH)
		return PF_MATCH;
	if (a == PF_UNDECIDABLE || b == PF_UNDECIDABLE)
		return PF_UNDECIDABLE;
	return PF_NOMATCH;
}

static int
match_tuple(const pf_filter *f, const struct pf_tuple *t,
    const struct pf_dissection *d)
{
	/* deeper headers may exist, unseen, when the walk was cut short */
	int cut = d->status == PF_DISSECT_TRUNCATED &&
	    !(d->n > 0 && d->ip[d->n - 1].ports_cut);
	int v = PF_NOMATCH, i, lo = 0, hi = d->n;

	if (t->has == 0)
		return PF_MATCH;
	if (d->n == 0)
		return d->status == PF_DISSECT_TRUNCATED ? PF_UNDECIDABLE :
		    PF_NOMATCH;
	if (f->o.layer == PF_LAYER_OUTER) {
		hi = 1;
		cut = 0;
	} else if (f->o.layer == PF_LAYER_INNER) {
		if (cut)
			return PF_UNDECIDABLE;
		lo = d->n - 1;
	}
	for (i = lo; i < hi; i++) {
		v = either(v, match_ip(t, &d->ip[i], 0));
		if (f->o.both_directions)
			v = either(v, match_ip(t, &d->ip[i], 1));
	}
	if (v == PF_NOMATCH && cut)
		v = PF_UNDECIDABLE;
	return v;
}

/* ---- fragments --------------------------------------------------------- */

static uint64_t
frag_hash(uint32_t input, const struct pf_ip *ip)
{
	uint64_t h = 0xcbf29ce484222325ull ^ input;
	int i, n = ip->version == 4 ? 4 : 16;

	for (i = 0; i < n; i++)
		h = (h ^ ip->src[i] ^ ((uint64_t)ip->dst[i] << 8)) *
		    0x100000001b3ull;
	h ^= (uint64_t)ip->frag_id << 16 ^ ip->proto;
	return (h ^ (h >> 29)) * 0xbf58476d1ce4e5b9ull;
}

static int
frag_same(const struct frag *e, uint32_t input, const struct pf_ip *ip)
{
	return e->input == input && e->version == ip->version &&
	    e->id == ip->frag_id && e->proto == ip->proto &&
	    memcmp(e->src, ip->src, 16) == 0 &&
	    memcmp(e->dst, ip->dst, 16) == 0;
}

static struct frag *
frag_find(pf_filter *f, uint32_t input, const struct pf_ip *ip)
{
	size_t i;

	if (f->fcap == 0)
		return NULL;
	for (i = frag_hash(input, ip) & (f->fcap - 1); f->frags[i].used;
	    i = (i + 1) & (f->fcap - 1))
		if (frag_same(&f->frags[i], input, ip))
			return &f->frags[i];
	return NULL;
}

/* The slot of input in a clock table of cap (a power of two) slots: its
 * own, or the free one where it goes. */
static size_t
clock_slot(const struct inclock *t, size_t cap, uint32_t input)
{
	size_t i;

	for (i = (input * 0x9e3779b9u) & (cap - 1); t[i].used &&
	    t[i].input != input; i = (i + 1) & (cap - 1))
		;
	return i;
}

static struct inclock *
clock_find(const pf_filter *f, uint32_t input)
{
	size_t i;

	if (f->ccap == 0)
		return NULL;
	i = clock_slot(f->clk, f->ccap, input);
	return f->clk[i].used ? &f->clk[i] : NULL;
}

/*
 * Advance input's clock to ts (it never goes back) and return it; an input
 * whose clock cannot be stored (no memory) gets ts itself.
 */
static int64_t
clock_tick(pf_filter *f, uint32_t input, int64_t ts)
{
	struct inclock *c = clock_find(f, input), *n;
	size_t i, ncap;

	if (c == NULL) {
		if ((f->cused + 1) * 2 > f->ccap) {
			ncap = f->ccap ? f->ccap * 2 : 16;
			if ((n = calloc(ncap, sizeof(*n))) == NULL)
				return ts;
			for (i = 0; i < f->ccap; i++)
				if (f->clk[i].used)
					n[clock_slot(n, ncap,
					    f->clk[i].input)] = f->clk[i];
			free(f->clk);
			f->clk = n;
			f->ccap = ncap;
		}
		c = &f->clk[clock_slot(f->clk, f->ccap, input)];
		c->used = 1;
		c->input = input;
		c->now = ts;
		f->cused++;
	} else if (ts > c->now) {
		c->now = ts;
	}
	return c->now;
}

/*
 * How long ago a fragment at ts was, at now (the input's latest time):
 * held at INT64_MAX, not overflowing, when a file's times span both
 * ends of int64 (a pcapng if_tsoffset can put some before 1677).
 */
static int64_t
age(int64_t now, int64_t ts)
{
	int64_t d;

	if (__builtin_sub_overflow(now, ts, &d))
		d = now < ts ? INT64_MIN : INT64_MAX;
	return d;
}

static int
frag_stale(const pf_filter *f, const struct frag *e)
{
	const struct inclock *c = clock_find(f, e->input);

	return c != NULL && age(c->now, e->ts) > FRAG_TTL_NS;
}

/* Rebuild the table without stale entries, sized for more. */
static int
frag_rebuild(pf_filter *f)
{
	struct frag *old = f->frags, *e;
	size_t ocap = f->fcap, live = 0, i, j;

	for (i = 0; i < ocap; i++)
		if (old[i].used && !frag_stale(f, &old[i]))
			live++;
	f->fcap = 1024;
	while (f->fcap < live * 4)
		f->fcap *= 2;
	if ((f->frags = calloc(f->fcap, sizeof(*f->frags))) == NULL) {
		f->frags = old;
		f->fcap = ocap;
		return PF_ERR_NOMEM;
	}
	f->fused = 0;
	for (i = 0; i < ocap; i++) {
		struct pf_ip k;

		e = &old[i];
		if (!e->used || frag_stale(f, e))
			continue;
		memset(&k, 0, sizeof(k));
		k.version = e->version;
		k.proto = e->proto;
		k.frag_id = e->id;
		memcpy(k.src, e->src, 16);
		memcpy(k.dst, e->dst, 16);
		for (j = frag_hash(e->input, &k) & (f->fcap - 1);
		    f->frags[j].used; j = (j + 1) & (f->fcap - 1))
			;
		f->frags[j] = *e;
		f->fused++;
	}
	free(old);
	return 0;
}

static void
frag_remember(pf_filter *f, uint32_t input, const struct pf_ip *ip,
    int verdict, int64_t ts)
{
	struct frag *e = frag_find(f, input, ip);
	size_t i;

	clock_tick(f, input, ts);
	if (e == NULL) {
		if ((f->fused + 1) * 2 > f->fcap && frag_rebuild(f) < 0)
			return;		/* no memory: later fragments undecidable */
		for (i = frag_hash(input, ip) & (f->fcap - 1);
		    f->frags[i].used; i = (i + 1) & (f->fcap - 1))
			;
		e = &f->frags[i];
		f->fused++;
	}
	e->used = 1;
	e->input = input;
	e->version = (uint8_t)ip->version;
	e->proto = ip->proto;
	e->id = ip->frag_id;
	memcpy(e->src, ip->src, 16);
	memcpy(e->dst, ip->dst, 16);
	e->verdict = (uint8_t)verdict;
	e->ts = ts;
}

/* ---- BPF ----------------------------------------------------------------- */

/* A classic pcap file header, in host byte order. */
struct pcap_file_hdr {
	uint32_t magic;
	uint16_t major, minor;
	int32_t thiszone;
	uint32_t sigfigs, snaplen, linktype;
};

/*
 * A handle to compile against as tcpdump -r does: a savefile, not
 * pcap_open_dead().  libpcap takes a dead handle for a live capture and
 * generates other code for it: DLT_NULL's "ip6" tests only this host's
 * AF_INET6 (10 on Linux; files from BSD and macOS carry 24, 28 or 30), and
 * "inbound", "outbound" and "ifindex" become Linux BPF extensions that
 * pcap_offline_filter() cannot run, so they matched nothing instead of being
 * refused.  The header is in host byte order: DLT_NULL's AF_ values are then
 * taken in host order, as tcpdump takes them in a file written by a host of
 * this byte order (a filter is compiled per linktype, not per input).
 * h must outlive the handle: the handle's FILE reads from it.
 */
static pcap_t *
savefile_handle(struct pcap_file_hdr *h, uint32_t linktype, char *errbuf)
{
	char eb[PCAP_ERRBUF_SIZE];
	FILE *fp;
	pcap_t *p;

	h->magic = 0xa1b2c3d4;
	h->major = 2;
	h->minor = 4;
	h->thiszone = 0;
	h->sigfigs = 0;
	h->snaplen = 262144;
	h->linktype = linktype;
	if ((fp = fmemopen(h, sizeof(*h), "r")) == NULL) {
		pf_seterr(errbuf, PF_ERR_NOMEM, "fmemopen: %s", strerror(errno));
		return NULL;
	}
	if ((p = pcap_fopen_offline(fp, eb)) == NULL) {	/* else owns fp */
		pf_seterr(errbuf, PF_ERR_INVAL, "linktype %u: %s", linktype,
		    eb);
		fclose(fp);
	}
	return p;
}

static struct bpf_program *
bpf_for(pf_filter *f, uint32_t linktype)
{
	struct pcap_file_hdr h;
	struct bpf_entry *n;
	pcap_t *p;
	size_t i;

	for (i = 0; i < f->nprogs; i++)
		if (f->progs[i].linktype == linktype)
			return &f->progs[i].prog;
	if ((n = realloc(f->progs, (f->nprogs + 1) * sizeof(*n))) == NULL) {
		pf_seterr(f->errbuf, PF_ERR_NOMEM, "out of memory");
		return NULL;
	}
	f->progs = n;
	if ((p = savefile_handle(&h, linktype, f->errbuf)) == NULL)
		return NULL;
	if (pcap_compile(p, &f->progs[f->nprogs].prog, f->bpf, 1,
	    PCAP_NETMASK_UNKNOWN) < 0) {
		pf_seterr(f->errbuf, PF_ERR_INVAL, "-e '%s' for linktype %u: %s",
		    f->bpf, linktype, pcap_geterr(p));
		pcap_close(p);
		return NULL;
	}
	pcap_close(p);
	f->progs[f->nprogs].linktype = linktype;
	return &f->progs[f->nprogs++].prog;
}

/* ---- the filter ---------------------------------------------------------- */

pf_filter *
pf_filter_new(const struct pf_tuple *tuples, size_t n,
    const struct pf_filter_opts *o, char *errbuf)
{
	pf_filter *f = calloc(1, sizeof(*f));
	size_t i;

	if (f == NULL || (n > 0 && (f->t = malloc(n * sizeof(*tuples))) ==
	    NULL)) {
		free(f);
		pf_seterr(errbuf, PF_ERR_NOMEM, "out of memory");
		return NULL;
	}
	if (n > 0)
		memcpy(f->t, tuples, n * sizeof(*tuples));
	f->n = n;
	f->match_all = n == 0;
	for (i = 0; i < n; i++) {
		if (tuples[i].has == 0)
			f->match_all = 1;
		if (pf_tuple_check(&tuples[i], errbuf) < 0) {
			pf_filter_free(f);
			return NULL;
		}
	}
	if (o != NULL)
		f->o = *o;
	if (f->o.bpf != NULL) {
		if ((f->bpf = strdup(f->o.bpf)) == NULL) {
			pf_filter_free(f);
			pf_seterr(errbuf, PF_ERR_NOMEM, "out of memory");
			return NULL;
		}
		f->o.bpf = f->bpf;
		/*
		 * Errors now, not at the first packet.  Some expressions hold
		 * for some linktypes only ("inbound" in a file needs LINUX_SLL,
		 * "wlan" 802.11): one that no common linktype takes is refused
		 * here, with Ethernet's reason; any other is refused at the
		 * first packet of a linktype that does not take it, as tcpdump
		 * refuses such a file.
		 */
		static const uint32_t common[] = {
			1, 113, 276, 101, 0, 12, 127, 105, 9, 50
		};
		char first[PF_ERRBUF_SIZE];

		for (i = 0; i < sizeof(common) / sizeof(common[0]); i++) {
			if (bpf_for(f, common[i]) != NULL)
				break;
			if (i == 0)
				memcpy(first, f->errbuf, sizeof(first));
		}
		if (i == sizeof(common) / sizeof(common[0])) {
			pf_seterr(errbuf, PF_ERR_INVAL, "%s", first);
			pf_filter_free(f);
			return NULL;
		}
	}
	return f;
}

int
pf_filter_match(pf_filter *f, uint32_t input, uint32_t linktype,
    const uint8_t *p, uint32_t caplen, uint32_t len, int64_t ts)
{
	return pf_filter_match_dissected(f, input, linktype, NULL, p, caplen,
	    len, ts);
}

int
pf_filter_match_dissected(pf_filter *f, uint32_t input, uint32_t linktype,
    const struct pf_dissection *dp, const uint8_t *p, uint32_t caplen,
    uint32_t len, int64_t ts)
{
	struct pf_dissection own;
	const struct pf_dissection *dd = dp;
	const struct pf_ip *last;
	int v = PF_NOMATCH;
	size_t i;

	if (f->match_all) {
		v = PF_MATCH;
	} else {
		if (dd == NULL) {
			pf_dissect(linktype, p, caplen, &own);
			dd = &own;
		}
		if (dd->status == PF_DISSECT_UNSUPPORTED)
			return PF_UNSUPPORTED;
		last = dd->n > 0 ? &dd->ip[dd->n - 1] : NULL;
		if (last != NULL && last->frag == PF_FRAG_LATER) {
			/* decided by the datagram's first fragment */
			struct frag *e = frag_find(f, input, last);
			int64_t now = clock_tick(f, input, ts);

			/* A stale entry counts as absent whether or not a
			 * rebuild has dropped it yet. */
			v = e != NULL && age(now, e->ts) <= FRAG_TTL_NS ?
			    e->verdict : PF_UNDECIDABLE;
		} else {
			for (i = 0; i < f->n && v != PF_MATCH; i++)
				v = either(v, match_tuple(f, &f->t[i], dd));
			if (last != NULL && last->frag == PF_FRAG_FIRST)
				frag_remember(f, input, last, v, ts);
		}
	}
	if (v != PF_NOMATCH && f->bpf != NULL) {
		struct bpf_program *prog = bpf_for(f, linktype);
		struct pcap_pkthdr h;

		if (prog == NULL)
			return PF_ERR_INVAL;
		memset(&h, 0, sizeof(h));
		h.caplen = caplen;
		h.len = len;
		if (!pcap_offline_filter(prog, &h, p))
			v = PF_NOMATCH;
	}
	return v;
}

const char *
pf_filter_geterr(const pf_filter *f)
{
	return f->errbuf;
}

void
pf_filter_free(pf_filter *f)
{
	size_t i;

	if (f == NULL)
		return;
	for (i = 0; i < f->nprogs; i++)
		pcap_freecode(&f->progs[i].prog);
	free(f->progs);
	free(f->frags);
	free(f->clk);
	free(f->bpf);
	free(f->t);
	free(f);
}
