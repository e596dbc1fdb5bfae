/*
 * dissect.c - find the IP headers of a packet, through link layers, VLAN
 * tags, MPLS, PPP (PPPoE, PPTP's GRE), IPv6 extension headers and tunnels.
 *
 * As in tcpdump's ND_TCHECK, every field is bounds-checked before it is
 * read: a packet cut short (a simple capture keeps 160 bytes) ends the walk
 * with PF_DISSECT_TRUNCATED and what was found so far.
 */
#include <string.h>

#include "filter_int.h"

#define ETH_IPV4	0x0800
#define ETH_IPV6	0x86dd
#define ETH_VLAN	0x8100
#define ETH_QINQ	0x88a8
#define ETH_QINQ_OLD	0x9100
#define ETH_MPLS	0x8847
#define ETH_MPLS_MC	0x8848
#define ETH_TEB		0x6558	/* GRE: transparent Ethernet bridging */
#define ETH_PPPOE	0x8864	/* PPPoE session stage */
#define ETH_PPP		0x880b	/* enhanced GRE (PPTP): PPP */

/*
 * No walk has a fixed bound of its own: VLAN tags, MPLS labels and IPv6
 * extension headers are followed to their end, each step consuming bytes
 * of the packet, so the packet's length bounds them.  Tunnels are the one
 * bound (PF_MAX_LAYERS IP headers); a packet nested deeper ends the walk
 * as PF_DISSECT_TRUNCATED, which the matcher takes as "deeper headers
 * unseen", never as a verdict.
 */

struct cur {
	const uint8_t *p;
	uint32_t len;		/* bytes left */
	struct pf_dissection *d;
	const uint8_t *base;	/* the packet's first byte */
};

static inline uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static int
skip(struct cur *c, uint32_t n)
{
	if (c->len < n) {
		c->d->status = PF_DISSECT_TRUNCATED;
		return -1;
	}
	c->p += n;
	c->len -= n;
	return 0;
}

static void ip_layer(struct cur *c, int version);
static void ethertype(struct cur *c, uint16_t type);

/*
 * A PPP frame: an address and control field (ff 03) when not compressed
 * away, then the protocol, one byte when field compression made it odd,
 * else two (RFC 1661 2, RFC 1662 3.2).
 */
static void
ppp(struct cur *c)
{
	uint16_t proto;

	if (c->len >= 1 && c->p[0] == 0xff) {
		if (c->len < 2) {
			c->d->status = PF_DISSECT_TRUNCATED;
			return;
		}
		if (c->p[1] == 0x03)
			skip(c, 2);
	}
	if (c->len < 1 || (!(c->p[0] & 1) && c->len < 2)) {
		c->d->status = PF_DISSECT_TRUNCATED;
		return;
	}
	proto = c->p[0] & 1 ? c->p[0] : be16(c->p);
	skip(c, c->p[0] & 1 ? 1 : 2);
	switch (proto) {
	case 0x0021:
		ip_layer(c, 4);
		break;
	case 0x0057:
		ip_layer(c, 6);
		break;
	case 0x0281:
		ethertype(c, ETH_MPLS);
		break;
	case 0x0283:
		ethertype(c, ETH_MPLS_MC);
		break;
	default:	/* LCP, IPCP, compressed or encrypted data (MPPE) */
		if (c->d->n == 0)
			c->d->status = PF_DISSECT_NOT_IP;
	}
}

/* After an ethertype: dispatch to IP, MPLS, PPPoE, or give up. */
static void
ethertype(struct cur *c, uint16_t type)
{
	int bottom;

	switch (type) {
	case ETH_PPPOE:
		/* version and type, code, session, length; then PPP */
		if (skip(c, 6) == 0)
			ppp(c);
		return;
	case ETH_IPV4:
		ip_layer(c, 4);
		return;
	case ETH_IPV6:
		ip_layer(c, 6);
		return;
	case ETH_MPLS:
	case ETH_MPLS_MC:
		for (bottom = 0; !bottom;) {
			if (c->len < 4) {
				c->d->status = PF_DISSECT_TRUNCATED;
				return;
			}
			bottom = c->p[2] & 1;
			skip(c, 4);
		}
		if (c->len < 1) {
			c->d->status = PF_DISSECT_TRUNCATED;
			return;
		}
		/* MPLS does not name its payload: the IP version does. */
		if ((c->p[0] >> 4) == 4)
			ip_layer(c, 4);
		else if ((c->p[0] >> 4) == 6)
			ip_layer(c, 6);
		else if (c->d->n == 0)
			c->d->status = PF_DISSECT_NOT_IP;
		return;
	default:
		if (c->d->n == 0)
			c->d->status = PF_DISSECT_NOT_IP;
	}
}

static void
ethernet(struct cur *c)
{
	uint16_t type;

	if (c->len < 14) {
		c->d->status = PF_DISSECT_TRUNCATED;
		return;
	}
	type = be16(c->p + 12);
	skip(c, 14);
	while (type == ETH_VLAN || type == ETH_QINQ || type == ETH_QINQ_OLD) {
		if (c->len < 4) {
			c->d->status = PF_DISSECT_TRUNCATED;
			return;
		}
		type = be16(c->p + 2);
		skip(c, 4);
	}
	if (type < 0x0600) {
		/* 802.3 length: only LLC/SNAP carries an ethertype. */
		if (c->len < 8) {
			c->d->status = PF_DISSECT_TRUNCATED;
			return;
		}
		if (c->p[0] != 0xaa || c->p[1] != 0xaa || c->p[2] != 0x03) {
			c->d->status = PF_DISSECT_NOT_IP;
			return;
		}
		type = be16(c->p + 6);
		skip(c, 8);
	}
	ethertype(c, type);
}

/* A link header of hlen bytes that names its payload by an ethertype at off. */
static void
link_ethertype(struct cur *c, uint32_t hlen, uint32_t off)
{
	uint16_t type;

	if (c->len < hlen) {
		c->d->status = PF_DISSECT_TRUNCATED;
		return;
	}
	type = be16(c->p + off);
	skip(c, hlen);
	ethertype(c, type);
}

/* The transport ports, when the protocol has them and they are present. */
static void
ports(struct cur *c, struct pf_ip *ip)
{
	if (!pf_proto_has_ports(ip->proto) || ip->frag == PF_FRAG_LATER)
		return;
	if (c->len < 4) {
		c->d->status = PF_DISSECT_TRUNCATED;
		ip->ports_cut = 1;
		return;
	}
	ip->sport = be16(c->p);
	ip->dport = be16(c->p + 2);
	ip->ports_known = 1;
}

static void
gre(struct cur *c)
{
	uint16_t flags, type;
	uint32_t hl = 4;

	if (c->len < 4) {
		c->d->status = PF_DISSECT_TRUNCATED;
		return;
	}
	flags = be16(c->p);
	type = be16(c->p + 2);
	if ((flags & 7) == 1 && type == ETH_PPP) {
		/*
		 * Enhanced GRE (RFC 2637 4.1): payload length and call ID,
		 * a sequence number (S), an acknowledgement (A, 0x0080).
		 * An acknowledgement alone has no payload.
		 */
		if (c->len < 8) {
			c->d->status = PF_DISSECT_TRUNCATED;
			return;
		}
		if (be16(c->p + 4) == 0)
			return;
		hl = 8 + (flags & 0x1000 ? 4 : 0) + (flags & 0x0080 ? 4 : 0);
		if (skip(c, hl) == 0)
			ppp(c);
		return;
	}
	if ((flags & 7) != 0)
		return;		/* other versions: no IP inside */
	if (flags & 0x8000)
		hl += 4;	/* checksum + reserved */
	if (flags & 0x2000)
		hl += 4;	/* key */
	if (flags & 0x1000)
		hl += 4;	/* sequence number */
	if (skip(c, hl) < 0)
		return;
	if (type == ETH_TEB)
		ethernet(c);
	else if (type == ETH_IPV4 || type == ETH_IPV6 || type == ETH_MPLS ||
	    type == ETH_MPLS_MC)
		ethertype(c, type);
	/* ERSPAN and other payloads are not dissected. */
}

static void
ip_layer(struct cur *c, int version)
{
	struct pf_dissection *d = c->d;
	struct pf_ip *ip;
	uint32_t hl, plen, wire;	/* wire: bytes after it, as it says */

	if (d->n == PF_MAX_LAYERS) {
		d->status = PF_DISSECT_TRUNCATED;	/* deeper: unseen */
		return;
	}
	ip = &d->ip[d->n];
	memset(ip, 0, sizeof(*ip));
	ip->version = version;
	ip->ip_off = (uint32_t)(c->p - c->base);

	if (version == 4) {
		uint16_t off;

		if (c->len < 20 || (c->p[0] >> 4) != 4) {
			d->status = c->len < 20 ? PF_DISSECT_TRUNCATED :
			    (d->n == 0 ? PF_DISSECT_NOT_IP : d->status);
			return;
		}
		hl = (uint32_t)(c->p[0] & 0x0f) * 4;
		if (hl < 20) {
			if (d->n == 0)
				d->status = PF_DISSECT_NOT_IP;
			return;
		}
		if (c->len < hl) {	/* options cut short */
			d->status = PF_DISSECT_TRUNCATED;
			return;
		}
		memcpy(ip->src, c->p + 12, 4);
		memcpy(ip->dst, c->p + 16, 4);
		ip->proto = c->p[9];
		ip->proto_known = 1;
		off = be16(c->p + 6);
		ip->frag_id = be16(c->p + 4);
		if ((off & 0x1fff) != 0)
			ip->frag = PF_FRAG_LATER;
		else if (off & 0x2000)
			ip->frag = PF_FRAG_FIRST;
		plen = be16(c->p + 2);
		wire = plen >= hl ? plen - hl : 0;
		d->n++;
		skip(c, hl);
		/* Ethernet padding is not payload. */
		if (plen >= hl && plen - hl < c->len)
			c->len = plen - hl;
	} else {
		uint8_t nh;

		if (c->len < 40 || (c->p[0] >> 4) != 6) {
			d->status = c->len < 40 ? PF_DISSECT_TRUNCATED :
			    (d->n == 0 ? PF_DISSECT_NOT_IP : d->status);
			return;
		}
		memcpy(ip->src, c->p + 8, 16);
		memcpy(ip->dst, c->p + 24, 16);
		nh = c->p[6];
		plen = be16(c->p + 4);
		wire = plen != 0 ? plen : c->len - 40;
		d->n++;
		skip(c, 40);
		if (plen != 0 && plen < c->len)	/* 0: jumbogram */
			c->len = plen;
		/* Extension headers up to the upper-layer protocol. */
		for (;;) {
			uint32_t el;

			if (nh == 0 || nh == 43 || nh == 60 || nh == 135 ||
			    nh == 139 || nh == 140) {
				if (c->len < 8)
					goto cut;
				el = ((uint32_t)c->p[1] + 1) * 8;
			} else if (nh == 51) {		/* AH */
				if (c->len < 8)
					goto cut;
				el = ((uint32_t)c->p[1] + 2) * 4;
			} else if (nh == 44) {		/* fragment */
				uint16_t off;

				if (c->len < 8)
					goto cut;
				off = be16(c->p + 2);
				ip->frag_id = be32(c->p + 4);
				if ((off & 0xfff8) != 0)
					ip->frag = PF_FRAG_LATER;
				else if (off & 1)
					ip->frag = PF_FRAG_FIRST;
				el = 8;
			} else {
				break;
			}
			if (c->len < el)
				goto cut;
			nh = c->p[0];
			skip(c, el);
			wire = wire > el ? wire - el : 0;
			if (ip->frag == PF_FRAG_LATER)
				break;
		}
		ip->proto = nh;
		ip->proto_known = 1;
	}

	if (ip->frag == PF_FRAG_LATER)
		return;		/* no upper-layer header in this packet */
	switch (ip->proto) {
	case 4:		/* IP-in-IP, 4in6 */
		ip_layer(c, 4);
		break;
	case 41:	/* 6in4, 6in6 */
		ip_layer(c, 6);
		break;
	case 47:
		gre(c);
		break;
	default:
		ip->l4_off = (uint32_t)(c->p - c->base);
		ip->l4_len = wire;
		ports(c, ip);
	}
	return;
cut:
	/* the upper-layer protocol is unknown */
	ip->proto_known = 0;
	d->status = PF_DISSECT_TRUNCATED;
}

/* Which protocols have ports (the tuple check uses it too). */
int
pf_proto_has_ports(uint8_t proto)
{
	/* TCP, UDP, DCCP, SCTP, UDP-Lite */
	return proto == 6 || proto == 17 || proto == 33 || proto == 132 ||
	    proto == 136;
}

/* ---- the linktypes ------------------------------------------------------ */

static void
dl_ethernet(struct cur *c, uint32_t lt)
{
	(void)lt;
	ethernet(c);
}

/* RAW: the IP version from the first nibble */
static void
dl_raw(struct cur *c, uint32_t lt)
{
	(void)lt;
	if (c->len < 1)
		c->d->status = PF_DISSECT_TRUNCATED;
	else if ((c->p[0] >> 4) == 4)
		ip_layer(c, 4);
	else if ((c->p[0] >> 4) == 6)
		ip_layer(c, 6);
	else
		c->d->status = PF_DISSECT_NOT_IP;
}

static void
dl_ppp(struct cur *c, uint32_t lt)
{
	(void)lt;
	ppp(c);
}

/* PPP_ETHER: a PPPoE header */
static void
dl_ppp_ether(struct cur *c, uint32_t lt)
{
	(void)lt;
	ethertype(c, ETH_PPPOE);
}

/* C_HDLC: address, control, an ethertype */
static void
dl_chdlc(struct cur *c, uint32_t lt)
{
	(void)lt;
	link_ethertype(c, 4, 2);
}

static void
dl_ipv4(struct cur *c, uint32_t lt)
{
	(void)lt;
	ip_layer(c, 4);
}

static void
dl_ipv6(struct cur *c, uint32_t lt)
{
	(void)lt;
	ip_layer(c, 6);
}

/* LINUX_SLL: the protocol at 14 of 16 bytes */
static void
dl_sll(struct cur *c, uint32_t lt)
{
	(void)lt;
	link_ethertype(c, 16, 14);
}

/* LINUX_SLL2: the protocol at 0 of 20 bytes */
static void
dl_sll2(struct cur *c, uint32_t lt)
{
	(void)lt;
	link_ethertype(c, 20, 0);
}

/* NULL: a host-order address family; LOOP: a network-order one */
static void
dl_null(struct cur *c, uint32_t lt)
{
	uint32_t fam;

	if (c->len < 4) {
		c->d->status = PF_DISSECT_TRUNCATED;
		return;
	}
	fam = be32(c->p);
	if (lt == 0 && (fam & 0xffff) == 0)
		fam = __builtin_bswap32(fam);	/* written little-endian */
	skip(c, 4);
	if (fam == 2)
		ip_layer(c, 4);
	else if (fam == 10 || fam == 24 || fam == 28 || fam == 30)
		ip_layer(c, 6);
	else
		c->d->status = PF_DISSECT_NOT_IP;
}

/*
 * Every linktype libfilter knows: its value, its name (tcpdump.org's
 * LINKTYPE_ list, libpcap's for EN10MB), and its dissector, NULL for one
 * named but not dissected.  The one table behind pf_linktype_supported,
 * pf_linktype_name and pf_dissect, as libpcap's dlt_choices[] and
 * tcpdump's printers[].
 */
static const struct linktype {
	uint32_t value;
	const char *name;
	void (*dissect)(struct cur *c, uint32_t lt);
} linktypes[] = {
	{ 0, "NULL", dl_null },
	{ 1, "EN10MB", dl_ethernet },
	{ 9, "PPP", dl_ppp },
	{ 12, "RAW", dl_raw },		/* DLT_RAW on most systems */
	{ 14, "RAW", dl_raw },		/* DLT_RAW on OpenBSD */
	{ 50, "PPP_HDLC", dl_ppp },
	{ 51, "PPP_ETHER", dl_ppp_ether },
	{ 101, "RAW", dl_raw },
	{ 104, "C_HDLC", dl_chdlc },
	{ 105, "IEEE802_11", NULL },
	{ 108, "LOOP", dl_null },
	{ 113, "LINUX_SLL", dl_sll },
	{ 127, "IEEE802_11_RADIOTAP", NULL },
	{ 228, "IPV4", dl_ipv4 },
	{ 229, "IPV6", dl_ipv6 },
	{ 276, "LINUX_SLL2", dl_sll2 },
};

static const struct linktype *
linktype(uint32_t lt)
{
	size_t i;

	for (i = 0; i < sizeof(linktypes) / sizeof(linktypes[0]); i++)
		if (linktypes[i].value == lt)
			return &linktypes[i];
	return NULL;
}

int
pf_linktype_supported(uint32_t lt)
{
	const struct linktype *l = linktype(lt);

	return l != NULL && l->dissect != NULL;
}

const char *
pf_linktype_name(uint32_t lt)
{
	const struct linktype *l = linktype(lt);

	return l != NULL ? l->name : NULL;
}

/*
 * The common packet, Ethernet II then IPv4 without options, not a later
 * fragment, not a tunnel, caught before the walk: exactly what the walk
 * (ethernet, ethertype, ip_layer, ports) makes of it, in a third of the
 * instructions.  0: not such a packet, d untouched.  The fuzz harness
 * checks it against pf_dissect_walk on every input.
 */
static inline int
eth_ipv4(const uint8_t *p, uint32_t caplen, struct pf_dissection *d)
{
	struct pf_ip *ip;
	uint32_t plen, rest, wire;
	uint16_t off;

	if (caplen < 34 || p[12] != 0x08 || p[13] != 0x00 || p[14] != 0x45)
		return 0;
	off = be16(p + 20);
	if ((off & 0x1fff) != 0 || p[23] == 4 || p[23] == 41 || p[23] == 47)
		return 0;
	d->status = PF_DISSECT_OK;
	d->n = 1;
	ip = &d->ip[0];
	memset(ip, 0, sizeof(*ip));
	ip->version = 4;
	ip->ip_off = 14;
	memcpy(ip->src, p + 26, 4);
	memcpy(ip->dst, p + 30, 4);
	ip->proto = p[23];
	ip->proto_known = 1;
	ip->frag_id = be16(p + 18);
	ip->frag = off & 0x2000 ? PF_FRAG_FIRST : PF_FRAG_NONE;
	plen = be16(p + 16);
	wire = plen >= 20 ? plen - 20 : 0;
	rest = caplen - 34;
	if (plen >= 20 && plen - 20 < rest)	/* Ethernet padding */
		rest = plen - 20;
	ip->l4_off = 34;
	ip->l4_len = wire;
	if (pf_proto_has_ports(ip->proto)) {
		if (rest < 4) {
			d->status = PF_DISSECT_TRUNCATED;
			ip->ports_cut = 1;
		} else {
			ip->sport = be16(p + 34);
			ip->dport = be16(p + 36);
			ip->ports_known = 1;
		}
	}
	return 1;
}

void
pf_dissect_walk(uint32_t lt, const uint8_t *p, uint32_t caplen,
    struct pf_dissection *d)
{
	const struct linktype *l = linktype(lt);
	struct cur c = { p, caplen, d, p };

	d->status = PF_DISSECT_OK;
	d->n = 0;
	if (l == NULL || l->dissect == NULL)
		d->status = PF_DISSECT_UNSUPPORTED;
	else
		l->dissect(&c, lt);
}

void
pf_dissect(uint32_t lt, const uint8_t *p, uint32_t caplen,
    struct pf_dissection *d)
{
	if (lt == 1 && eth_ipv4(p, caplen, d))
		return;
	pf_dissect_walk(lt, p, caplen, d);
}

unsigned
pf_version_number(void)
{
	return PF_VERSION_NUMBER;
}
