/*
 * filter.h - libfilter: packet dissection and filter_v1 / BPF matching.
 *
 * A packet is bytes, two lengths and a linktype; libfilter knows nothing of
 * capture files.  It never prints, exits or reads the environment; calls
 * that can fail return a negative PF_ERR_* code and fill an error buffer of
 * PF_ERRBUF_SIZE bytes.
 */
#ifndef PCAPKIT_FILTER_H
#define PCAPKIT_FILTER_H

#include <stddef.h>
#include <stdint.h>

/*
 * What the library exports: the calls below, nothing else (it is built
 * with -fvisibility=hidden, as zstd's ZSTDLIB_API).
 */
#if defined(__GNUC__) && __GNUC__ >= 4
#define PF_API __attribute__((visibility("default")))
#else
#define PF_API
#endif

/*
 * The version of the header; pf_version_number() is that of the library
 * linked, so a program can check they agree.
 */
#define PF_VERSION_MAJOR 0
#define PF_VERSION_MINOR 2
#define PF_VERSION_PATCH 0
#define PF_VERSION_STRING "0.2.0"
#define PF_VERSION_NUMBER (PF_VERSION_MAJOR * 10000 + \
    PF_VERSION_MINOR * 100 + PF_VERSION_PATCH)
PF_API unsigned pf_version_number(void);

#define PF_ERRBUF_SIZE 512

enum {
	PF_OK = 0,
	PF_ERR_INVAL = -1,	/* a bad tuple, value, JSON or expression */
	PF_ERR_NOMEM = -2
};

/* ---- tuples (filter_v1) ------------------------------------------------ */

enum {
	PF_HAS_SRC = 1, PF_HAS_DST = 2, PF_HAS_SPORT = 4, PF_HAS_DPORT = 8,
	PF_HAS_PROTO = 16
};

struct pf_prefix {
	int family;		/* 4 or 6 */
	uint8_t addr[16];	/* network byte order, host bits cleared */
	unsigned bits;		/* prefix length */
};

/* A filter_v1 tuple: every field present must match. */
struct pf_tuple {
	unsigned has;		/* PF_HAS_* */
	struct pf_prefix src, dst;
	uint16_t sport, dport;
	uint8_t proto;
};

/*
 * Set one field from text: field is "source_address", "destination_address"
 * (an IPv4 or IPv6 address, optional /prefix), "source_port",
 * "destination_port" (0-65535) or "protocol" (0-255 or a name such as tcp,
 * udp, icmp, icmp6, gre, esp).
 */
PF_API int pf_tuple_set(struct pf_tuple *t, const char *field, const char *value,
    char *errbuf);
/*
 * Parse a filter_v1 JSON object.  Unknown keys, wrong types and values out
 * of range are errors naming the key.  An empty object is the empty tuple.
 */
PF_API int pf_tuple_from_json(const char *text, size_t len, struct pf_tuple *t,
    char *errbuf);
/* A port with a protocol that has no ports is an error. */
PF_API int pf_tuple_check(const struct pf_tuple *t, char *errbuf);
/* 1 when the protocol carries 16-bit source and destination ports. */
PF_API int pf_proto_has_ports(uint8_t proto);
/* "tcp", "udp", ... or NULL. */
PF_API const char *pf_proto_name(uint8_t proto);

/* ---- dissection -------------------------------------------------------- */

#define PF_MAX_LAYERS 8

enum pf_frag { PF_FRAG_NONE = 0, PF_FRAG_FIRST = 1, PF_FRAG_LATER = 2 };

/* One IP header of the packet, outermost first. */
struct pf_ip {
	int version;		/* 4 or 6 */
	uint8_t src[16], dst[16];
	uint8_t proto;		/* upper-layer protocol (after IPv6 ext headers) */
	int proto_known;	/* 0: IPv6 extension headers cut short */
	int ports_known;	/* the transport header's ports were present */
	int ports_cut;		/* the protocol has ports, but they were cut */
	uint16_t sport, dport;
	enum pf_frag frag;
	uint32_t frag_id;
	/*
	 * The upper-layer header (TCP, UDP, ...): its offset in the packet
	 * (0: not reached: a tunnel, a later fragment, cut short), and its
	 * length with its payload as the IP header declares it, which may be
	 * more than was captured.
	 */
	uint32_t l4_off, l4_len;
	uint32_t ip_off;	/* this IP header's offset in the packet */
};

enum pf_status {
	PF_DISSECT_OK = 0,		/* every header found up to the payload */
	/* cut short inside a needed header, or tunnels nested deeper than
	 * PF_MAX_LAYERS IP headers: what lies deeper is unseen */
	PF_DISSECT_TRUNCATED = 1,
	PF_DISSECT_UNSUPPORTED = 2,	/* linktype not dissected */
	PF_DISSECT_NOT_IP = 3		/* no IP header (ARP, ...) */
};

struct pf_dissection {
	enum pf_status status;
	/* IP headers found; each one's fixed part (20 bytes for IPv4, 40
	 * for IPv6) lies whole within caplen from its ip_off */
	int n;
	struct pf_ip ip[PF_MAX_LAYERS];
};

/*
 * Find the IP headers of a packet of any linktype pf_linktype_supported
 * accepts: Ethernet (802.1Q, 802.1ad and QinQ tags, MPLS, LLC/SNAP, PPPoE),
 * RAW, IPV4, IPV6, PPP, PPP_HDLC, PPP_ETHER, C_HDLC, LINUX_SLL, LINUX_SLL2,
 * NULL and LOOP; IPv4 options; IPv6 extension headers; tunnels GRE (with key,
 * sequence and checksum; IPv4, IPv6, MPLS and Ethernet payloads), IP-in-IP,
 * 6in4 and 4in6.  Every read is bounds-checked against caplen.
 */
PF_API void pf_dissect(uint32_t linktype, const uint8_t *p, uint32_t caplen,
    struct pf_dissection *d);
PF_API int pf_linktype_supported(uint32_t linktype);
/* The linktype's name ("EN10MB", "PPP", ...), or NULL for one unknown. */
PF_API const char *pf_linktype_name(uint32_t linktype);

/* ---- matching ---------------------------------------------------------- */

enum pf_layer { PF_LAYER_ANY = 0, PF_LAYER_OUTER = 1, PF_LAYER_INNER = 2 };

enum pf_verdict {
	PF_NOMATCH = 0,
	PF_MATCH = 1,
	PF_UNDECIDABLE = 2,	/* a needed header is missing */
	PF_UNSUPPORTED = 3	/* linktype not dissected: never matches */
};

typedef struct pf_filter pf_filter;

struct pf_filter_opts {
	enum pf_layer layer;
	int both_directions;	/* also match with source and destination swapped */
	const char *bpf;	/* a libpcap expression ANDed with the tuples, or NULL */
};

/*
 * A filter: the tuples are ORed (none: match everything), then ANDed with
 * the BPF expression.  The expression is compiled now for Ethernet, to
 * report syntax errors early, and again for each linktype met.
 */
PF_API pf_filter *pf_filter_new(const struct pf_tuple *tuples, size_t n,
    const struct pf_filter_opts *o, char *errbuf);
/*
 * Judge one packet.  input identifies the file it came from: a later IP
 * fragment matches when the first fragment of its datagram (source,
 * destination, id, protocol) matched earlier in the same input; when that
 * first fragment was never seen, or was seen more than 120 s before the
 * latest fragment of that input, the fragment is PF_UNDECIDABLE.  Verdicts
 * depend only on the packets of the same input, so inputs may be judged
 * by separate filters (one per thread) with the same results.
 * Returns a pf_verdict, or PF_ERR_INVAL when the BPF expression cannot be
 * compiled for this linktype (see pf_filter_geterr).
 */
PF_API int pf_filter_match(pf_filter *f, uint32_t input, uint32_t linktype,
    const uint8_t *p, uint32_t caplen, uint32_t len, int64_t ts);
/*
 * The same with the packet's dissection already made (pf_dissect of the
 * same bytes and linktype), so that a tool that also counts protocols or
 * tracks flows dissects each packet once; d NULL dissects here.
 */
PF_API int pf_filter_match_dissected(pf_filter *f, uint32_t input,
    uint32_t linktype, const struct pf_dissection *d, const uint8_t *p,
    uint32_t caplen, uint32_t len, int64_t ts);
PF_API const char *pf_filter_geterr(const pf_filter *f);
PF_API void pf_filter_free(pf_filter *f);

#endif
