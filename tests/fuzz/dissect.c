/*
 * dissect.c - fuzz libfilter's dissector and matcher on raw packets.
 *
 * Input: byte 0 picks the linktype (every one dissected, and one that is
 * not), byte 1 the match options, the rest is the packet, ending exactly
 * where the input ends so that ASan sees any read past caplen.  Packets are
 * matched in one long-lived filter per option set, so that the fragment
 * table sees many inputs, as it does in a long capture.
 *
 * Invariants: the dissection's status and layer count are in range, every
 * layer is IPv4 or IPv6, ports are only known for protocols that have
 * them; pf_dissect's fast path (Ethernet, IPv4) gives exactly what the
 * full walk gives; a verdict is one of enum pf_verdict; an unsupported
 * linktype never matches.
 */
#include <string.h>

#include "filter_int.h"	/* pf_dissect_walk */
#include "fuzz.h"

static const uint32_t linktypes[] = { 0, 1, 9, 12, 14, 50, 51, 101, 104,
    108, 113, 228, 229, 276, 147 };
#define NLT (sizeof(linktypes) / sizeof(linktypes[0]))

static pf_filter *filters[6];

static pf_filter *
filter_for(unsigned opt)
{
	static const char *const tuples[][5] = {
		{ "10.0.0.0/8", NULL, NULL, "53", "udp" },
		{ NULL, "2001:db8::/32", NULL, NULL, NULL },
		{ "192.0.2.1", NULL, "80", NULL, "tcp" },
		{ NULL, NULL, NULL, NULL, "gre" },
	};
	static const char *const fields[5] = { "source_address",
	    "destination_address", "source_port", "destination_port",
	    "protocol" };
	struct pf_tuple t[4];
	struct pf_filter_opts fo;
	char errbuf[PF_ERRBUF_SIZE];
	size_t i, j;

	opt %= 6;
	if (filters[opt] != NULL)
		return filters[opt];
	memset(t, 0, sizeof(t));
	for (i = 0; i < 4; i++)
		for (j = 0; j < 5; j++)
			if (tuples[i][j] != NULL)
				FUZZ_ASSERT(pf_tuple_set(&t[i], fields[j],
				    tuples[i][j], errbuf) == 0);
	memset(&fo, 0, sizeof(fo));
	fo.layer = (enum pf_layer)(opt % 3);
	fo.both_directions = opt >= 3;
	filters[opt] = pf_filter_new(t, 4, &fo, errbuf);
	FUZZ_ASSERT(filters[opt] != NULL);
	return filters[opt];
}

/* The two dissections agree, field by field. */
static void
same(const struct pf_dissection *a, const struct pf_dissection *b)
{
	int i;

	FUZZ_ASSERT(a->status == b->status && a->n == b->n);
	for (i = 0; i < a->n; i++) {
		const struct pf_ip *x = &a->ip[i], *y = &b->ip[i];

		FUZZ_ASSERT(x->version == y->version &&
		    memcmp(x->src, y->src, 16) == 0 &&
		    memcmp(x->dst, y->dst, 16) == 0 &&
		    x->proto == y->proto && x->proto_known == y->proto_known &&
		    x->ports_known == y->ports_known &&
		    x->ports_cut == y->ports_cut && x->sport == y->sport &&
		    x->dport == y->dport && x->frag == y->frag &&
		    x->frag_id == y->frag_id && x->l4_off == y->l4_off &&
		    x->l4_len == y->l4_len && x->ip_off == y->ip_off);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int64_t ts;
	struct pf_dissection d, w;
	uint32_t lt, caplen;
	const uint8_t *p;
	int i, v;

	if (size < 2)
		return 0;
	lt = linktypes[data[0] % NLT];
	p = data + 2;
	caplen = (uint32_t)(size - 2);

	pf_dissect(lt, p, caplen, &d);
	pf_dissect_walk(lt, p, caplen, &w);
	same(&d, &w);
	FUZZ_ASSERT(d.status >= PF_DISSECT_OK &&
	    d.status <= PF_DISSECT_NOT_IP);
	FUZZ_ASSERT(d.n >= 0 && d.n <= PF_MAX_LAYERS);
	FUZZ_ASSERT(pf_linktype_supported(lt) ||
	    d.status == PF_DISSECT_UNSUPPORTED);
	for (i = 0; i < d.n; i++) {
		FUZZ_ASSERT(d.ip[i].version == 4 || d.ip[i].version == 6);
		/* the fixed header is within caplen (filter.h) */
		FUZZ_ASSERT(d.ip[i].ip_off <= caplen && caplen -
		    d.ip[i].ip_off >= (d.ip[i].version == 4 ? 20u : 40u));
		FUZZ_ASSERT(!d.ip[i].ports_known ||
		    pf_proto_has_ports(d.ip[i].proto));
	}

	v = pf_filter_match(filter_for(data[1]), data[1] >> 6, lt, p, caplen,
	    caplen + (data[1] & 0x20 ? 100 : 0), ts += 1000);
	FUZZ_ASSERT(v >= PF_NOMATCH && v <= PF_UNSUPPORTED);
	FUZZ_ASSERT(pf_linktype_supported(lt) || v == PF_UNSUPPORTED);
	return 0;
}
