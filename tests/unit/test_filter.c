/*
 * test_filter.c - unit tests for libfilter (Check).  Every packet is built
 * here header by header.
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"

struct pkt {
	uint8_t b[2048];
	uint32_t n;
};

static void
put(struct pkt *p, const void *d, size_t n)
{
	memcpy(p->b + p->n, d, n);
	p->n += (uint32_t)n;
}

static void
put8(struct pkt *p, uint8_t v)
{
	p->b[p->n++] = v;
}

static void
put16(struct pkt *p, uint16_t v)
{
	put8(p, (uint8_t)(v >> 8));
	put8(p, (uint8_t)v);
}

static void
put32(struct pkt *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p, (uint16_t)v);
}

static void
eth(struct pkt *p, uint16_t type)
{
	static const uint8_t macs[12] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2 };
	put(p, macs, 12);
	put16(p, type);
}

static void
tag(struct pkt *p, uint16_t vid, uint16_t next)
{
	put16(p, vid);
	put16(p, next);
}

static void
v4(struct pkt *p, const char *src, const char *dst, uint8_t proto,
    uint16_t frag, uint16_t id, int optwords)
{
	uint8_t a[4];
	int i;

	put8(p, (uint8_t)(0x45 + optwords));
	put8(p, 0);
	put16(p, 1400);		/* more than what follows: no trimming */
	put16(p, id);
	put16(p, frag);
	put8(p, 64);
	put8(p, proto);
	put16(p, 0);
	inet_pton(AF_INET, src, a);
	put(p, a, 4);
	inet_pton(AF_INET, dst, a);
	put(p, a, 4);
	for (i = 0; i < optwords; i++)
		put32(p, 0x01010101);	/* NOPs */
}

static void
v6(struct pkt *p, const char *src, const char *dst, uint8_t nh)
{
	uint8_t a[16];

	put32(p, 0x60000000);
	put16(p, 1400);
	put8(p, nh);
	put8(p, 64);
	inet_pton(AF_INET6, src, a);
	put(p, a, 16);
	inet_pton(AF_INET6, dst, a);
	put(p, a, 16);
}

/* An 8-byte IPv6 extension header (hop-by-hop, routing, dest options). */
static void
ext(struct pkt *p, uint8_t nh)
{
	put8(p, nh);
	put8(p, 0);
	put16(p, 0);
	put32(p, 0);
}

static void
ports(struct pkt *p, uint16_t s, uint16_t d)
{
	put16(p, s);
	put16(p, d);
	put32(p, 0);		/* UDP length/checksum, or TCP seq */
}

static struct pf_tuple
tuple(const char *json)
{
	struct pf_tuple t;
	char eb[PF_ERRBUF_SIZE];

	ck_assert_msg(pf_tuple_from_json(json, strlen(json), &t, eb) == 0,
	    "%s: %s", json, eb);
	return t;
}

static int
verdict_opts(const char *json, const struct pkt *p, uint32_t lt,
    enum pf_layer layer, int both)
{
	struct pf_tuple t = tuple(json);
	struct pf_filter_opts o = { .layer = layer, .both_directions = both };
	char eb[PF_ERRBUF_SIZE];
	pf_filter *f = pf_filter_new(&t, 1, &o, eb);
	int v;
	struct pf_dissection d;
	pf_filter *g = pf_filter_new(&t, 1, &o, eb);

	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(g);
	v = pf_filter_match(f, 0, lt, p->b, p->n, p->n, 0);
	/* A dissection made beforehand gives the same verdict. */
	pf_dissect(lt, p->b, p->n, &d);
	ck_assert_int_eq(pf_filter_match_dissected(g, 0, lt, &d, p->b, p->n,
	    p->n, 0), v);
	pf_filter_free(f);
	pf_filter_free(g);
	return v;
}

static int
verdict(const char *json, const struct pkt *p, uint32_t lt)
{
	return verdict_opts(json, p, lt, PF_LAYER_ANY, 0);
}

static const char *UDP_5TUPLE = "{\"source_address\":\"10.0.0.1\","
    "\"destination_address\":\"192.0.2.9\",\"source_port\":1234,"
    "\"destination_port\":53,\"protocol\":17}";

/* ---- link layers ----------------------------------------------------------- */

START_TEST(filter_matches_every_supported_linktype)
{
	struct pkt ip = { .n = 0 }, p;
	static const struct { uint32_t lt; const uint8_t *hdr; size_t n; }
	    links[] = {
		{ 101, (const uint8_t *)"", 0 },
		{ 228, (const uint8_t *)"", 0 },
		{ 113, (const uint8_t *)"\0\0\0\1\0\6\2\0\0\0\0\1\0\0\x08\x00", 16 },
		{ 276, (const uint8_t *)"\x08\x00\0\0\0\0\0\1\0\1\0\6\2\0\0\0\0\1\0\0", 20 },
		{ 0, (const uint8_t *)"\2\0\0\0", 4 },		/* little-endian AF_INET */
		{ 108, (const uint8_t *)"\0\0\0\2", 4 },
	};
	size_t i;

	v4(&ip, "10.0.0.1", "192.0.2.9", 17, 0, 1, 0);
	ports(&ip, 1234, 53);
	for (i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		p.n = 0;
		put(&p, links[i].hdr, links[i].n);
		put(&p, ip.b, ip.n);
		ck_assert_msg(verdict(UDP_5TUPLE, &p, links[i].lt) == PF_MATCH,
		    "linktype %u", links[i].lt);
		ck_assert_int_eq(verdict("{\"destination_port\":54}", &p,
		    links[i].lt), PF_NOMATCH);
	}
	p.n = 0;
	eth(&p, 0x0800);
	put(&p, ip.b, ip.n);
	ck_assert_int_eq(verdict(UDP_5TUPLE, &p, 1), PF_MATCH);
	ck_assert_int_eq(verdict(UDP_5TUPLE, &p, 105), PF_UNSUPPORTED);
	/* IPv6 on the IPV6 linktype and on NULL with a BSD family */
	p.n = 0;
	v6(&p, "2001:db8::1", "2001:db8::2", 6);
	ports(&p, 80, 443);
	ck_assert_int_eq(verdict("{\"source_address\":\"2001:db8::1\","
	    "\"destination_port\":443,\"protocol\":6}", &p, 229), PF_MATCH);
}
END_TEST

START_TEST(filter_sees_through_vlan_qinq_and_mpls)
{
	struct pkt p = { .n = 0 };

	eth(&p, 0x88a8);	/* 802.1ad outer tag, 802.1Q inner tag */
	tag(&p, 100, 0x8100);
	tag(&p, 200, 0x0800);
	v4(&p, "10.0.0.1", "192.0.2.9", 17, 0, 1, 0);
	ports(&p, 1234, 53);
	ck_assert_int_eq(verdict(UDP_5TUPLE, &p, 1), PF_MATCH);

	p.n = 0;
	eth(&p, 0x9100);
	tag(&p, 1, 0x8100);
	tag(&p, 2, 0x8100);
	tag(&p, 3, 0x86dd);
	v6(&p, "2001:db8::1", "2001:db8::2", 17);
	ports(&p, 1, 2);
	ck_assert_int_eq(verdict("{\"destination_port\":2}", &p, 1), PF_MATCH);

	p.n = 0;
	eth(&p, 0x8847);
	put32(&p, (16u << 12) | 0x40);		/* label 16 */
	put32(&p, (17u << 12) | 0x100 | 0x40);	/* label 17, bottom */
	v4(&p, "10.0.0.1", "192.0.2.9", 17, 0, 1, 0);
	ports(&p, 1234, 53);
	ck_assert_int_eq(verdict(UDP_5TUPLE, &p, 1), PF_MATCH);

	p.n = 0;			/* LLC/SNAP */
	put(&p, "\2\0\0\0\0\1\2\0\0\0\0\2", 12);
	put16(&p, 100);
	put(&p, "\xaa\xaa\x03\0\0\0", 6);
	put16(&p, 0x0800);
	v4(&p, "10.0.0.1", "192.0.2.9", 17, 0, 1, 0);
	ports(&p, 1234, 53);
	ck_assert_int_eq(verdict(UDP_5TUPLE, &p, 1), PF_MATCH);

	p.n = 0;			/* ARP is not IP */
	eth(&p, 0x0806);
	put32(&p, 0x00010800);
	ck_assert_int_eq(verdict(UDP_5TUPLE, &p, 1), PF_NOMATCH);
}
END_TEST

/* PPPoE session, PPP and Cisco HDLC links, PPTP's enhanced GRE. */
static void
pppoe_packet(struct pkt *p, uint16_t pppproto)
{
	p->n = 0;
	eth(p, 0x8100);
	tag(p, 7, 0x8864);
	put8(p, 0x11);			/* version 1, type 1 */
	put8(p, 0);			/* session data */
	put16(p, 0x1234);		/* session */
	put16(p, 2 + 20 + 8);
	put16(p, pppproto);
	v4(p, "10.0.0.1", "192.0.2.9", 17, 0, 1, 0);
	ports(p, 1234, 53);
}

static void
pptp_packet(struct pkt *p, uint16_t paylen)
{
	p->n = 0;
	eth(p, 0x0800);
	v4(p, "198.51.100.1", "198.51.100.2", 47, 0, 7, 0);
	put16(p, 0x3081);		/* K, S, A, version 1 */
	put16(p, 0x880b);
	put16(p, paylen);
	put16(p, 0x0042);		/* call ID */
	put32(p, 5);			/* sequence */
	put32(p, 4);			/* acknowledgement */
	put16(p, 0xff03);
	put16(p, 0x0021);
	v4(p, "10.0.0.1", "192.0.2.9", 17, 0, 1, 0);
	ports(p, 1234, 53);
}

START_TEST(filter_sees_through_ppp_pppoe_and_pptp)
{
	struct pkt ip = { .n = 0 }, ip6 = { .n = 0 }, p;

	pppoe_packet(&p, 0x0021);
	ck_assert_int_eq(verdict(UDP_5TUPLE, &p, 1), PF_MATCH);
	pppoe_packet(&p, 0xc021);	/* LCP */
	ck_assert_int_eq(verdict(UDP_5TUPLE, &p, 1), PF_NOMATCH);

	v4(&ip, "10.0.0.1", "192.0.2.9", 17, 0, 1, 0);
	ports(&ip, 1234, 53);
	p.n = 0;			/* PPP, address and control, protocol */
	put(&p, "\xff\x03\x00\x21", 4);
	put(&p, ip.b, ip.n);
	ck_assert_int_eq(verdict(UDP_5TUPLE, &p, 9), PF_MATCH);
	ck_assert_int_eq(verdict(UDP_5TUPLE, &p, 50), PF_MATCH);
	p.n = 0;			/* both compressed away */
	put8(&p, 0x21);
	put(&p, ip.b, ip.n);
	ck_assert_int_eq(verdict(UDP_5TUPLE, &p, 9), PF_MATCH);
	p.n = 0;			/* PPP over MPLS */
	put(&p, "\x02\x81", 2);
	put32(&p, (16u << 12) | 0x100 | 0x40);
	put(&p, ip.b, ip.n);
	ck_assert_int_eq(verdict(UDP_5TUPLE, &p, 9), PF_MATCH);
	p.n = 0;			/* Cisco HDLC */
	put(&p, "\x0f\x00\x08\x00", 4);
	put(&p, ip.b, ip.n);
	ck_assert_int_eq(verdict(UDP_5TUPLE, &p, 104), PF_MATCH);

	v6(&ip6, "2001:db8::1", "2001:db8::2", 17);
	ports(&ip6, 1, 2);
	p.n = 0;			/* PPP_ETHER: PPPoE, IPv6 */
	put(&p, "\x11\x00\x00\x01\x00\x32\x00\x57", 8);
	put(&p, ip6.b, ip6.n);
	ck_assert_int_eq(verdict("{\"destination_port\":2}", &p, 51),
	    PF_MATCH);

	pptp_packet(&p, 2 + 2 + 20 + 8);
	ck_assert_int_eq(verdict(UDP_5TUPLE, &p, 1), PF_MATCH);
	ck_assert_int_eq(verdict_opts(UDP_5TUPLE, &p, 1, PF_LAYER_OUTER, 0),
	    PF_NOMATCH);
	pptp_packet(&p, 0);		/* an acknowledgement alone */
	ck_assert_int_eq(verdict(UDP_5TUPLE, &p, 1), PF_NOMATCH);
}
END_TEST

START_TEST(filter_skips_ipv4_options_and_ipv6_extension_headers)
{
	struct pkt p = { .n = 0 };

	eth(&p, 0x0800);
	v4(&p, "10.0.0.1", "192.0.2.9", 17, 0, 1, 10);	/* IHL 15 */
	ports(&p, 1234, 53);
	ck_assert_int_eq(verdict(UDP_5TUPLE, &p, 1), PF_MATCH);

	p.n = 0;
	eth(&p, 0x86dd);
	v6(&p, "2001:db8::1", "2001:db8::2", 0);	/* hop-by-hop */
	ext(&p, 43);					/* routing */
	ext(&p, 60);					/* destination options */
	ext(&p, 51);					/* then AH */
	put8(&p, 6);		/* AH: next header TCP, (1 + 2) * 4 bytes */
	put8(&p, 1);
	put16(&p, 0);
	put32(&p, 0x1000);	/* SPI */
	put32(&p, 1);		/* sequence */
	ports(&p, 5000, 443);
	put32(&p, 0);
	ck_assert_int_eq(verdict("{\"destination_port\":443,\"protocol\":6}",
	    &p, 1), PF_MATCH);
	ck_assert_int_eq(verdict("{\"protocol\":17}", &p, 1), PF_NOMATCH);
}
END_TEST

/*
 * No fixed bound decides a verdict: 24 IPv6 extension headers of mixed
 * kinds, 12 VLAN tags and 40 MPLS labels are followed to their end (the
 * packet bounds them); tunnels nested deeper than PF_MAX_LAYERS IP headers
 * are undecidable for what lies deeper, never a silent "no".
 */
START_TEST(filter_follows_long_chains_to_the_end)
{
	static const uint8_t kinds[] = { 0, 43, 60, 51, 44, 135, 139, 140 };
	struct pkt p = { .n = 0 };
	int i;

	eth(&p, 0x86dd);
	v6(&p, "2001:db8::1", "2001:db8::2", kinds[0]);
	for (i = 0; i < 24; i++) {
		uint8_t k = kinds[i % 8], next = i == 23 ? 17 : kinds[(i + 1) % 8];
		if (k == 51) {		/* AH: (1 + 2) * 4 bytes */
			put8(&p, next);
			put8(&p, 1);
			put16(&p, 0);
			put32(&p, 0x1000);
			put32(&p, (uint32_t)i);
		} else if (k == 44) {	/* an atomic fragment: offset 0, M 0 */
			put8(&p, next);
			put8(&p, 0);
			put16(&p, 0);
			put32(&p, 7);
		} else {
			ext(&p, next);
		}
	}
	ports(&p, 1234, 53);
	ck_assert_int_eq(verdict("{\"destination_port\":53,\"protocol\":17}",
	    &p, 1), PF_MATCH);
	ck_assert_int_eq(verdict("{\"protocol\":6}", &p, 1), PF_NOMATCH);
	ck_assert_int_eq(verdict("{\"protocol\":60}", &p, 1), PF_NOMATCH);
	/* the same chain cut inside its extension headers: undecidable */
	p.n -= 8 + 8 * 2 + 12;
	ck_assert_int_eq(verdict("{\"protocol\":17}", &p, 1), PF_UNDECIDABLE);

	p.n = 0;
	eth(&p, 0x8100);
	for (i = 0; i < 12; i++)
		tag(&p, (uint16_t)i, i == 11 ? 0x0800 : 0x8100);
	v4(&p, "10.0.0.1", "192.0.2.9", 17, 0, 1, 0);
	ports(&p, 1234, 53);
	ck_assert_int_eq(verdict(UDP_5TUPLE, &p, 1), PF_MATCH);

	p.n = 0;
	eth(&p, 0x8847);
	for (i = 0; i < 40; i++)
		put32(&p, ((uint32_t)(16 + i) << 12) | (i == 39 ? 0x100u : 0) |
		    0x40);
	v4(&p, "10.0.0.1", "192.0.2.9", 17, 0, 1, 0);
	ports(&p, 1234, 53);
	ck_assert_int_eq(verdict(UDP_5TUPLE, &p, 1), PF_MATCH);

	/* PF_MAX_LAYERS + 2 IPv4 headers, IP-in-IP, the innermost UDP */
	p.n = 0;
	for (i = 0; i < PF_MAX_LAYERS + 2; i++)
		v4(&p, "10.9.9.9", "10.8.8.8", i == PF_MAX_LAYERS + 1 ? 17 : 4,
		    0, 1, 0);
	ports(&p, 1234, 53);
	ck_assert_int_eq(verdict("{\"destination_port\":53}", &p, 101),
	    PF_UNDECIDABLE);
	ck_assert_int_eq(verdict_opts("{\"protocol\":17}", &p, 101,
	    PF_LAYER_INNER, 0), PF_UNDECIDABLE);
	ck_assert_int_eq(verdict_opts("{\"protocol\":4}", &p, 101,
	    PF_LAYER_OUTER, 0), PF_MATCH);
	ck_assert_int_eq(verdict("{\"source_address\":\"10.9.9.9\"}", &p,
	    101), PF_MATCH);
}
END_TEST

/* IPv4 / GRE (checksum, key, sequence) / IPv4 / UDP, with a VLAN tag */
static void
gre_packet(struct pkt *p)
{
	p->n = 0;
	eth(p, 0x8100);
	tag(p, 42, 0x0800);
	v4(p, "198.51.100.1", "198.51.100.2", 47, 0, 7, 0);
	put16(p, 0xb000);		/* C, K, S */
	put16(p, 0x0800);
	put32(p, 0);			/* checksum, reserved */
	put32(p, 0xdeadbeef);		/* key */
	put32(p, 1);			/* sequence */
	v4(p, "10.0.0.1", "192.0.2.9", 17, 0, 1, 0);
	ports(p, 1234, 53);
}

START_TEST(filter_matches_tuple_inside_gre)
{
	struct pkt p;
	static const char *outer =
	    "{\"source_address\":\"198.51.100.1\",\"protocol\":47}";

	gre_packet(&p);
	ck_assert_int_eq(verdict(UDP_5TUPLE, &p, 1), PF_MATCH);
	ck_assert_int_eq(verdict_opts(UDP_5TUPLE, &p, 1, PF_LAYER_INNER, 0),
	    PF_MATCH);
	ck_assert_int_eq(verdict_opts(UDP_5TUPLE, &p, 1, PF_LAYER_OUTER, 0),
	    PF_NOMATCH);
	ck_assert_int_eq(verdict_opts(outer, &p, 1, PF_LAYER_OUTER, 0),
	    PF_MATCH);
	ck_assert_int_eq(verdict_opts(outer, &p, 1, PF_LAYER_INNER, 0),
	    PF_NOMATCH);
	/* any: one header must match the whole tuple, not a mix */
	ck_assert_int_eq(verdict("{\"source_address\":\"198.51.100.1\","
	    "\"destination_port\":53}", &p, 1), PF_NOMATCH);
}
END_TEST

START_TEST(filter_matches_ipip_6in4_4in6_and_gre_ethernet)
{
	struct pkt p = { .n = 0 };

	v4(&p, "198.51.100.1", "198.51.100.2", 4, 0, 1, 0);	/* IPIP */
	v4(&p, "10.0.0.1", "192.0.2.9", 17, 0, 1, 0);
	ports(&p, 1234, 53);
	ck_assert_int_eq(verdict_opts(UDP_5TUPLE, &p, 101, PF_LAYER_INNER,
	    0), PF_MATCH);

	p.n = 0;						/* 6in4 */
	v4(&p, "198.51.100.1", "198.51.100.2", 41, 0, 1, 0);
	v6(&p, "2001:db8::1", "2001:db8::2", 17);
	ports(&p, 7, 9);
	ck_assert_int_eq(verdict_opts("{\"destination_address\":"
	    "\"2001:db8::2\",\"destination_port\":9}", &p, 101,
	    PF_LAYER_INNER, 0), PF_MATCH);

	p.n = 0;						/* 4in6 */
	v6(&p, "2001:db8::1", "2001:db8::2", 4);
	v4(&p, "10.0.0.1", "192.0.2.9", 17, 0, 1, 0);
	ports(&p, 1234, 53);
	ck_assert_int_eq(verdict(UDP_5TUPLE, &p, 229), PF_MATCH);

	p.n = 0;				/* GRE carrying Ethernet */
	v4(&p, "198.51.100.1", "198.51.100.2", 47, 0, 1, 0);
	put16(&p, 0x2000);
	put16(&p, 0x6558);
	put32(&p, 5);
	eth(&p, 0x0800);
	v4(&p, "10.0.0.1", "192.0.2.9", 17, 0, 1, 0);
	ports(&p, 1234, 53);
	ck_assert_int_eq(verdict(UDP_5TUPLE, &p, 101), PF_MATCH);
}
END_TEST

/*
 * Cut p after every byte: while the ports of the 5-tuple are not all
 * there the verdict is undecidable, never a match or a no-match, and the
 * whole packet matches.  Each cut is copied to a buffer of exactly its
 * length, so that ASan reports any read past it.
 */
static void
check_every_cut(const struct pkt *p, uint32_t lt, const char *what)
{
	struct pf_tuple t = tuple(UDP_5TUPLE);
	char eb[PF_ERRBUF_SIZE];
	pf_filter *f = pf_filter_new(&t, 1, NULL, eb);
	uint32_t n;

	for (n = 0; n <= p->n; n++) {
		uint8_t *cut = malloc(n ? n : 1);
		int v;

		memcpy(cut, p->b, n);
		v = pf_filter_match(f, 0, lt, cut, n, p->n, 0);
		free(cut);
		if (n < p->n - 4)	/* the last 4 bytes are not ports */
			ck_assert_msg(v == PF_UNDECIDABLE, "%s cut at %u: %d",
			    what, n, v);
		else
			ck_assert_msg(v == PF_MATCH, "%s cut at %u: %d", what,
			    n, v);
	}
	pf_filter_free(f);
}

START_TEST(filter_is_undecidable_when_cut_at_every_header_byte)
{
	struct pkt p = { .n = 0 }, cut;

	gre_packet(&p);
	check_every_cut(&p, 1, "vlan/ipv4/gre/ipv4/udp");

	p.n = 0;
	eth(&p, 0x88a8);
	tag(&p, 1, 0x8100);
	tag(&p, 2, 0x8847);
	put32(&p, (16u << 12) | 0x100 | 0x40);
	v4(&p, "10.0.0.1", "192.0.2.9", 17, 0, 1, 3);
	ports(&p, 1234, 53);
	check_every_cut(&p, 1, "qinq/mpls/ipv4+options/udp");

	p.n = 0;
	v6(&p, "2001:db8::1", "2001:db8::2", 0);
	ext(&p, 43);
	ext(&p, 51);
	put8(&p, 4); put8(&p, 1); put16(&p, 0); put32(&p, 1); put32(&p, 2);
	v4(&p, "10.0.0.1", "192.0.2.9", 17, 0, 1, 0);
	ports(&p, 1234, 53);
	check_every_cut(&p, 229, "ipv6+hbh+routing+ah/ipv4/udp");

	p.n = 0;
	put(&p, "\0\0\0\1\0\6\2\0\0\0\0\1\0\0\x86\xdd", 16);
	v6(&p, "2001:db8::1", "2001:db8::2", 41);
	v6(&p, "2001:db8::3", "2001:db8::4", 4);
	v4(&p, "10.0.0.1", "192.0.2.9", 17, 0, 1, 0);
	ports(&p, 1234, 53);
	check_every_cut(&p, 113, "sll/ipv6/ipv6/ipv4/udp");

	pppoe_packet(&p, 0x0021);
	check_every_cut(&p, 1, "vlan/pppoe/ipv4/udp");
	pptp_packet(&p, 2 + 2 + 20 + 8);
	check_every_cut(&p, 1, "ipv4/gre v1/ppp/ipv4/udp");
	p.n = 0;
	put(&p, "\xff\x03\x00\x21", 4);
	v4(&p, "10.0.0.1", "192.0.2.9", 17, 0, 1, 0);
	ports(&p, 1234, 53);
	check_every_cut(&p, 9, "ppp/ipv4/udp");

	/* a tuple on addresses only is decided once the outer IP is there */
	gre_packet(&p);
	cut.n = 18 + 20;
	memcpy(cut.b, p.b, cut.n);
	ck_assert_int_eq(verdict_opts("{\"source_address\":\"198.51.100.1\"}",
	    &cut, 1, PF_LAYER_OUTER, 0), PF_MATCH);
	ck_assert_int_eq(verdict_opts("{\"source_address\":\"198.51.100.7\"}",
	    &cut, 1, PF_LAYER_OUTER, 0), PF_NOMATCH);
}
END_TEST

START_TEST(filter_follows_fragments_of_a_matching_datagram)
{
	struct pf_tuple t = tuple(UDP_5TUPLE);
	char eb[PF_ERRBUF_SIZE];
	pf_filter *f = pf_filter_new(&t, 1, NULL, eb);
	struct pkt first = { .n = 0 }, later = { .n = 0 }, other = { .n = 0 };
	struct pkt f6 = { .n = 0 }, l6 = { .n = 0 };

	v4(&first, "10.0.0.1", "192.0.2.9", 17, 0x2000, 77, 0);	/* MF */
	ports(&first, 1234, 53);
	v4(&later, "10.0.0.1", "192.0.2.9", 17, 185, 77, 0);	/* offset */
	put32(&later, 0xffffffff);
	v4(&other, "10.0.0.1", "192.0.2.9", 17, 185, 78, 0);	/* unseen */

	ck_assert_int_eq(pf_filter_match(f, 0, 101, later.b, later.n,
	    later.n, 0), PF_UNDECIDABLE);
	ck_assert_int_eq(pf_filter_match(f, 0, 101, first.b, first.n,
	    first.n, 1), PF_MATCH);
	ck_assert_int_eq(pf_filter_match(f, 0, 101, later.b, later.n,
	    later.n, 2), PF_MATCH);
	ck_assert_int_eq(pf_filter_match(f, 0, 101, other.b, other.n,
	    other.n, 3), PF_UNDECIDABLE);
	/* another input: its own datagrams */
	ck_assert_int_eq(pf_filter_match(f, 1, 101, later.b, later.n,
	    later.n, 4), PF_UNDECIDABLE);

	/* IPv6: the fragment header */
	v6(&f6, "2001:db8::1", "2001:db8::2", 44);
	put8(&f6, 17); put8(&f6, 0); put16(&f6, 1); put32(&f6, 99);
	ports(&f6, 1, 2);
	v6(&l6, "2001:db8::1", "2001:db8::2", 44);
	put8(&l6, 17); put8(&l6, 0); put16(&l6, 185 << 3); put32(&l6, 99);
	put32(&l6, 0);
	pf_filter_free(f);
	t = tuple("{\"destination_port\":2}");
	f = pf_filter_new(&t, 1, NULL, eb);
	ck_assert_int_eq(pf_filter_match(f, 0, 229, f6.b, f6.n, f6.n, 0),
	    PF_MATCH);
	ck_assert_int_eq(pf_filter_match(f, 0, 229, l6.b, l6.n, l6.n, 0),
	    PF_MATCH);
	pf_filter_free(f);
}
END_TEST

/*
 * A fragment's verdict depends on its own input only: another input's
 * clock (here far ahead, with enough datagrams to make the table rebuild)
 * does not expire it, and its own clock does.
 */
START_TEST(fragments_expire_on_their_own_inputs_clock)
{
	struct pf_tuple t = tuple(UDP_5TUPLE);
	char eb[PF_ERRBUF_SIZE];
	pf_filter *f = pf_filter_new(&t, 1, NULL, eb);
	struct pkt first = { .n = 0 }, later = { .n = 0 };
	const int64_t s = 1000000000;
	uint16_t id;

	v4(&first, "10.0.0.1", "192.0.2.9", 17, 0x2000, 77, 0);
	ports(&first, 1234, 53);
	v4(&later, "10.0.0.1", "192.0.2.9", 17, 185, 77, 0);
	put32(&later, 0xffffffff);
	ck_assert_int_eq(pf_filter_match(f, 0, 101, first.b, first.n,
	    first.n, 1 * s), PF_MATCH);
	for (id = 1000; id < 1600; id++) {
		struct pkt o = { .n = 0 };
		v4(&o, "10.0.0.1", "192.0.2.9", 17, 0x2000, id, 0);
		ports(&o, 1234, 53);
		ck_assert_int_eq(pf_filter_match(f, 1, 101, o.b, o.n, o.n,
		    1000 * s), PF_MATCH);
	}
	ck_assert_int_eq(pf_filter_match(f, 0, 101, later.b, later.n,
	    later.n, 2 * s), PF_MATCH);
	ck_assert_int_eq(pf_filter_match(f, 0, 101, later.b, later.n,
	    later.n, 121 * s), PF_MATCH);
	ck_assert_int_eq(pf_filter_match(f, 0, 101, later.b, later.n,
	    later.n, 122 * s), PF_UNDECIDABLE);
	/* the clock does not go back with an out-of-order packet */
	ck_assert_int_eq(pf_filter_match(f, 0, 101, later.b, later.n,
	    later.n, 2 * s), PF_UNDECIDABLE);
	pf_filter_free(f);
}
END_TEST

/*
 * A first fragment near INT64_MIN (a pcapng if_tsoffset can put one
 * there) is 469 years stale for a later fragment at INT64_MAX: the age
 * is held, not overflowed into "just now".
 */
START_TEST(fragments_expire_across_both_ends_of_int64)
{
	struct pf_tuple t = tuple(UDP_5TUPLE);
	char eb[PF_ERRBUF_SIZE];
	pf_filter *f = pf_filter_new(&t, 1, NULL, eb);
	struct pkt first = { .n = 0 }, later = { .n = 0 };

	v4(&first, "10.0.0.1", "192.0.2.9", 17, 0x2000, 77, 0);
	ports(&first, 1234, 53);
	v4(&later, "10.0.0.1", "192.0.2.9", 17, 185, 77, 0);
	put32(&later, 0xffffffff);
	ck_assert_int_eq(pf_filter_match(f, 0, 101, first.b, first.n,
	    first.n, INT64_MIN + 5), PF_MATCH);
	ck_assert_int_eq(pf_filter_match(f, 0, 101, later.b, later.n,
	    later.n, INT64_MAX), PF_UNDECIDABLE);
	pf_filter_free(f);
}
END_TEST

START_TEST(filter_matches_both_directions_when_asked)
{
	struct pkt p = { .n = 0 };
	static const char *rev = "{\"source_address\":\"192.0.2.9\","
	    "\"source_port\":53,\"destination_port\":1234}";

	v4(&p, "10.0.0.1", "192.0.2.9", 17, 0, 1, 0);
	ports(&p, 1234, 53);
	ck_assert_int_eq(verdict_opts(rev, &p, 101, PF_LAYER_ANY, 0),
	    PF_NOMATCH);
	ck_assert_int_eq(verdict_opts(rev, &p, 101, PF_LAYER_ANY, 1),
	    PF_MATCH);
}
END_TEST

START_TEST(filter_cidr_edges)
{
	struct pkt p = { .n = 0 }, q = { .n = 0 };

	v4(&p, "10.255.255.255", "11.0.0.0", 17, 0, 1, 0);
	ports(&p, 1, 2);
	ck_assert_int_eq(verdict("{\"source_address\":\"10.0.0.0/8\"}", &p,
	    101), PF_MATCH);
	ck_assert_int_eq(verdict("{\"destination_address\":\"10.0.0.0/8\"}",
	    &p, 101), PF_NOMATCH);
	ck_assert_int_eq(verdict("{\"source_address\":\"0.0.0.0/0\"}", &p,
	    101), PF_MATCH);
	ck_assert_int_eq(verdict("{\"source_address\":\"10.255.255.254/31\"}",
	    &p, 101), PF_MATCH);
	ck_assert_int_eq(verdict("{\"source_address\":\"10.255.255.254/32\"}",
	    &p, 101), PF_NOMATCH);
	ck_assert_int_eq(verdict("{\"source_address\":\"10.255.255.0/25\"}",
	    &p, 101), PF_NOMATCH);
	ck_assert_int_eq(verdict("{\"source_address\":\"::/0\"}", &p, 101),
	    PF_NOMATCH);	/* an IPv6 prefix never matches IPv4 */
	v6(&q, "2001:db8::1", "2001:db8::ffff", 17);
	ports(&q, 1, 2);
	ck_assert_int_eq(verdict("{\"destination_address\":"
	    "\"2001:db8::fffe/127\"}", &q, 229), PF_MATCH);
	ck_assert_int_eq(verdict("{\"destination_address\":"
	    "\"2001:db8::fffc/127\"}", &q, 229), PF_NOMATCH);
	ck_assert_int_eq(verdict("{\"source_address\":\"2001:db8::/32\"}",
	    &q, 229), PF_MATCH);
}
END_TEST

static void
json_error(const char *json, const char *want)
{
	struct pf_tuple t;
	char eb[PF_ERRBUF_SIZE];

	ck_assert_int_eq(pf_tuple_from_json(json, strlen(json), &t, eb),
	    PF_ERR_INVAL);
	ck_assert_msg(strstr(eb, want) != NULL, "%s: got '%s', want '%s'",
	    json, eb, want);
}

START_TEST(filter_json_errors_name_the_key)
{
	struct pf_tuple t;
	char eb[PF_ERRBUF_SIZE];

	json_error("{\"source_port\":\"80\"}", "source_port: expected a number");
	json_error("{\"source_address\":17}", "source_address: expected a string");
	json_error("{\"destination_port\":70000}", "destination_port");
	json_error("{\"protocol\":256}", "protocol");
	json_error("{\"protocol\":6.5}", "protocol");
	json_error("{\"source_port\":-1}", "source_port");
	json_error("{\"sauce_address\":\"1.2.3.4\"}", "unknown key 'sauce_address'");
	json_error("{\"source_address\":\"1.2.3.400\"}", "source_address");
	json_error("{\"source_address\":\"10.0.0.1/33\"}", "prefix length");
	json_error("{\"source_address\":\"10.0.0.1/8\"}", "bits set");
	json_error("{\"protocol\":1,\"destination_port\":3}", "no ports");
	json_error("[1,2]", "expected an object");
	json_error("{\"protocol\":6", "JSON");
	json_error("{\"protocol\":6,\"protocol\":17}", "JSON");

	t = tuple("{}");
	ck_assert_uint_eq(t.has, 0);
	t = tuple("{\"protocol\":6.0,\"source_port\":null}");
	ck_assert_uint_eq(t.has, PF_HAS_PROTO);
	ck_assert_int_eq(pf_tuple_set(&t, "protocol", "GRE", eb), 0);
	ck_assert_uint_eq(t.proto, 47);
	ck_assert_int_eq(pf_tuple_set(&t, "protocol", "nope", eb),
	    PF_ERR_INVAL);
	ck_assert_int_eq(pf_tuple_set(&t, "source_port", "80x", eb),
	    PF_ERR_INVAL);
}
END_TEST

START_TEST(filter_ands_bpf_with_the_tuples)
{
	struct pkt p = { .n = 0 };
	struct pf_tuple t = tuple("{\"destination_port\":53}");
	struct pf_filter_opts o = { .bpf = "udp" };
	char eb[PF_ERRBUF_SIZE];
	pf_filter *f;

	eth(&p, 0x0800);
	v4(&p, "10.0.0.1", "192.0.2.9", 17, 0, 1, 0);
	ports(&p, 1234, 53);
	f = pf_filter_new(&t, 1, &o, eb);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(pf_filter_match(f, 0, 1, p.b, p.n, p.n, 0), PF_MATCH);
	pf_filter_free(f);
	o.bpf = "tcp";
	f = pf_filter_new(&t, 1, &o, eb);
	ck_assert_int_eq(pf_filter_match(f, 0, 1, p.b, p.n, p.n, 0),
	    PF_NOMATCH);
	pf_filter_free(f);
	o.bpf = "udp and (";
	ck_assert_ptr_null(pf_filter_new(&t, 1, &o, eb));
	ck_assert_ptr_nonnull(strstr(eb, "udp and ("));
	/* no tuple at all: everything, then the expression */
	o.bpf = "udp";
	f = pf_filter_new(NULL, 0, &o, eb);
	ck_assert_int_eq(pf_filter_match(f, 0, 1, p.b, p.n, p.n, 0), PF_MATCH);
	pf_filter_free(f);
}
END_TEST

/*
 * -e is compiled as tcpdump -r compiles it, for a savefile: DLT_NULL's "ip6"
 * takes the AF_INET6 values of BSD and macOS (a handle from
 * pcap_open_dead() only took Linux's 10), and "inbound" is refused for a
 * linktype that cannot say, not turned into a Linux extension that matched
 * nothing; it still works on LINUX_SLL, so the filter is made.
 */
START_TEST(filter_compiles_bpf_as_for_a_capture_file)
{
	static const uint8_t af[3] = { 24, 28, 30 };
	struct pf_filter_opts o = { .bpf = "ip6 and tcp" };
	struct pkt p;
	char eb[PF_ERRBUF_SIZE];
	pf_filter *f;
	uint32_t a;
	size_t i;

	f = pf_filter_new(NULL, 0, &o, eb);
	ck_assert_ptr_nonnull(f);
	for (i = 0; i < sizeof(af); i++) {
		p.n = 0;
		a = af[i];		/* host order, as the capturing host wrote it */
		put(&p, &a, 4);
		v6(&p, "2001:db8::1", "2001:db8::2", 6);
		ports(&p, 80, 443);
		ck_assert_msg(pf_filter_match(f, 0, 0, p.b, p.n, p.n, 0) ==
		    PF_MATCH, "AF %u", af[i]);
	}
	pf_filter_free(f);

	o.bpf = "inbound";
	f = pf_filter_new(NULL, 0, &o, eb);
	ck_assert_msg(f != NULL, "%s", eb);
	p.n = 0;			/* LINUX_SLL, sent to us */
	put(&p, "\0\0\0\1\0\6\2\0\0\0\0\1\0\0\x08\x00", 16);
	v4(&p, "10.0.0.1", "192.0.2.9", 17, 0, 1, 0);
	ports(&p, 1234, 53);
	ck_assert_int_eq(pf_filter_match(f, 0, 113, p.b, p.n, p.n, 0),
	    PF_MATCH);
	p.b[1] = 4;			/* sent by us */
	ck_assert_int_eq(pf_filter_match(f, 0, 113, p.b, p.n, p.n, 0),
	    PF_NOMATCH);
	p.n = 0;
	eth(&p, 0x0800);
	v4(&p, "10.0.0.1", "192.0.2.9", 17, 0, 1, 0);
	ck_assert_int_eq(pf_filter_match(f, 0, 1, p.b, p.n, p.n, 0),
	    PF_ERR_INVAL);
	ck_assert_msg(strstr(pf_filter_geterr(f), "inbound/outbound not "
	    "supported on Ethernet") != NULL, "%s", pf_filter_geterr(f));
	pf_filter_free(f);

	/* taken by no linktype at all: refused at once, with Ethernet's reason */
	o.bpf = "inbound and wlan host 1:2:3:4:5:6";
	ck_assert_ptr_null(pf_filter_new(NULL, 0, &o, eb));
	ck_assert_msg(strstr(eb, "for linktype 1:") != NULL, "%s", eb);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("libfilter");
	TCase *t = tcase_create("all");
	SRunner *r;
	int failed;

	tcase_add_test(t, filter_matches_every_supported_linktype);
	tcase_add_test(t, filter_sees_through_vlan_qinq_and_mpls);
	tcase_add_test(t, filter_sees_through_ppp_pppoe_and_pptp);
	tcase_add_test(t, filter_skips_ipv4_options_and_ipv6_extension_headers);
	tcase_add_test(t, filter_follows_long_chains_to_the_end);
	tcase_add_test(t, filter_matches_tuple_inside_gre);
	tcase_add_test(t, filter_matches_ipip_6in4_4in6_and_gre_ethernet);
	tcase_add_test(t, filter_is_undecidable_when_cut_at_every_header_byte);
	tcase_add_test(t, filter_follows_fragments_of_a_matching_datagram);
	tcase_add_test(t, fragments_expire_on_their_own_inputs_clock);
	tcase_add_test(t, fragments_expire_across_both_ends_of_int64);
	tcase_add_test(t, filter_matches_both_directions_when_asked);
	tcase_add_test(t, filter_cidr_edges);
	tcase_add_test(t, filter_json_errors_name_the_key);
	tcase_add_test(t, filter_ands_bpf_with_the_tuples);
	tcase_add_test(t, filter_compiles_bpf_as_for_a_capture_file);
	suite_add_tcase(s, t);
	r = srunner_create(s);
	srunner_run_all(r, CK_NORMAL);
	failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed == 0 ? 0 : 1;
}
