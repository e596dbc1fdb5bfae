/* tally.c - what pcap-summary counts: protocols, flows; see summary.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "summary.h"

/* ---- counting ------------------------------------------------------------ */

const char *const proto_key[P_N] = { "ipv4", "ipv6", "tcp", "udp",
    "icmp", "icmpv6", "gre", "other", "not_ip", "tunnelled" };
const char *const proto_label[P_N] = { "IPv4", "IPv6", "  TCP",
    "  UDP", "  ICMP", "  ICMPv6", "  GRE", "  other", "not IP",
    "tunnelled" };

void
tally_add(struct tally *to, const struct tally *t)
{
	size_t i;

	for (i = 0; i < P_N; i++) {
		to->proto[i].packets += t->proto[i].packets;
		to->proto[i].bytes += t->proto[i].bytes;
	}
	to->f_match += t->f_match;
	to->f_nomatch += t->f_nomatch;
	to->f_undecidable += t->f_undecidable;
	to->f_unsupported += t->f_unsupported;
	to->outside_filter += t->outside_filter;
	to->undecidable += t->undecidable;
	to->outside_time += t->outside_time;
	to->over_snap += t->over_snap;
}

static uint64_t
flow_hash(const struct flowkey *k)
{
	const uint8_t *p = (const uint8_t *)k;
	uint64_t h = 1469598103934665603ull;
	size_t i;

	for (i = 0; i < sizeof(*k); i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h ^ (h >> 29);
}

int
flow_add(struct flowtab *ft, const struct flowkey *k, uint64_t bytes,
    uint64_t packets)
{
	size_t i, mask;
	struct flow *f;

	if (2 * (ft->n + 1) > ft->cap) {
		struct flowtab n = { 0 };
		size_t j;

		n.cap = ft->cap ? ft->cap * 2 : 1024;
		if ((n.t = calloc(n.cap, sizeof(*n.t))) == NULL)
			return -1;
		for (j = 0; j < ft->cap; j++) {
			if (!ft->t[j].used)
				continue;
			i = flow_hash(&ft->t[j].k) & (n.cap - 1);
			while (n.t[i].used)
				i = (i + 1) & (n.cap - 1);
			n.t[i] = ft->t[j];
		}
		n.n = ft->n;
		free(ft->t);
		*ft = n;
	}
	mask = ft->cap - 1;
	for (i = flow_hash(k) & mask;; i = (i + 1) & mask) {
		f = &ft->t[i];
		if (!f->used) {
			f->used = 1;
			f->k = *k;
			ft->n++;
			break;
		}
		if (memcmp(&f->k, k, sizeof(*k)) == 0)
			break;
	}
	f->packets += packets;
	f->bytes += bytes;
	return 0;
}

int
flow_cmp(const void *a, const void *b)
{
	const struct flow *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	if (x->packets != y->packets)
		return x->packets < y->packets ? 1 : -1;
	return memcmp(&x->k, &y->k, sizeof(x->k));	/* stable output */
}

void
fmt_endpoint(char *buf, size_t n, int version, const uint8_t *a, int ports,
    uint16_t port)
{
	char ip[INET6_ADDRSTRLEN];

	inet_ntop(version == 6 ? AF_INET6 : AF_INET, a, ip, sizeof(ip));
	if (!ports)
		snprintf(buf, n, "%s", ip);
	else if (version == 6)
		snprintf(buf, n, "[%s]:%u", ip, port);
	else
		snprintf(buf, n, "%s:%u", ip, port);
}

void
fmt_proto(char *buf, size_t n, uint8_t proto)
{
	const char *name = pf_proto_name(proto);

	if (name != NULL)
		snprintf(buf, n, "%s", name);
	else
		snprintf(buf, n, "%u", proto);
}

/*
 * "tcp 10.0.0.1:1234 > 10.0.0.2:80", or why there is no 5-tuple, from the
 * packet's dissection.
 */
void
describe_packet(char *buf, size_t n, const struct pf_dissection *d)
{
	const struct pf_ip *ip;
	char s[64], t[64], p[16];

	if (d->n == 0) {
		snprintf(buf, n, "%s", d->status == PF_DISSECT_UNSUPPORTED ?
		    "linktype not dissected" : d->status == PF_DISSECT_NOT_IP ?
		    "not IP" : "cut short before the IP header");
		return;
	}
	ip = &d->ip[d->n - 1];
	fmt_endpoint(s, sizeof(s), ip->version, ip->src, ip->ports_known,
	    ip->sport);
	fmt_endpoint(t, sizeof(t), ip->version, ip->dst, ip->ports_known,
	    ip->dport);
	fmt_proto(p, sizeof(p), ip->proto);
	snprintf(buf, n, "%s %s > %s", p, s, t);
}

