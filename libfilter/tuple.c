/*
 * tuple.c - filter_v1 tuples from flags and from the API's JSON.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "filter.h"
#include "filter_int.h"

int
pf_seterr(char *errbuf, int err, const char *fmt, ...)
{
	va_list ap;

	if (errbuf != NULL) {
		va_start(ap, fmt);
		vsnprintf(errbuf, PF_ERRBUF_SIZE, fmt, ap);
		va_end(ap);
	}
	return err;
}

static const struct { const char *name; uint8_t num; } protos[] = {
	{ "icmp", 1 }, { "igmp", 2 }, { "ipip", 4 }, { "tcp", 6 },
	{ "udp", 17 }, { "ipv6", 41 }, { "gre", 47 }, { "esp", 50 },
	{ "ah", 51 }, { "icmp6", 58 }, { "icmpv6", 58 }, { "ospf", 89 },
	{ "pim", 103 }, { "vrrp", 112 }, { "l2tp", 115 }, { "sctp", 132 },
	{ "udplite", 136 },
};

const char *
pf_proto_name(uint8_t proto)
{
	size_t i;

	for (i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (protos[i].num == proto)
			return protos[i].name;
	return NULL;
}

/* A whole decimal number in [0, max]. */
static int
parse_uint(const char *s, unsigned long max, unsigned long *v)
{
	char *e;
	unsigned long x;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	x = strtoul(s, &e, 10);
	if (errno != 0 || *e != '\0' || x > max)
		return -1;
	*v = x;
	return 0;
}

static int
parse_prefix(const char *key, const char *s, struct pf_prefix *p,
    char *errbuf)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(s, '/');
	unsigned long bits;
	unsigned i, max;
	size_t n = slash ? (size_t)(slash - s) : strlen(s);

	if (n == 0 || n >= INET6_ADDRSTRLEN)
		return pf_seterr(errbuf, PF_ERR_INVAL,
		    "%s: '%s' is not an IPv4 or IPv6 address", key, s);
	memcpy(buf, s, n);
	buf[n] = '\0';
	memset(p, 0, sizeof(*p));
	if (inet_pton(AF_INET, buf, p->addr) == 1) {
		p->family = 4;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, p->addr) == 1) {
		p->family = 6;
		max = 128;
	} else {
		return pf_seterr(errbuf, PF_ERR_INVAL,
		    "%s: '%s' is not an IPv4 or IPv6 address", key, s);
	}
	bits = max;
	if (slash != NULL && parse_uint(slash + 1, max, &bits) < 0)
		return pf_seterr(errbuf, PF_ERR_INVAL,
		    "%s: '%s' has a bad prefix length (0 to %u)", key, s, max);
	p->bits = (unsigned)bits;
	for (i = p->bits; i < max; i++) {
		if (p->addr[i / 8] & (0x80 >> (i % 8)))
			return pf_seterr(errbuf, PF_ERR_INVAL,
			    "%s: '%s' has bits set beyond its /%u prefix",
			    key, s, p->bits);
	}
	return 0;
}

static int
parse_proto(const char *key, const char *s, uint8_t *v, char *errbuf)
{
	unsigned long x;
	size_t i;

	if (parse_uint(s, 255, &x) == 0) {
		*v = (uint8_t)x;
		return 0;
	}
	for (i = 0; i < sizeof(protos) / sizeof(protos[0]); i++) {
		if (strcasecmp(s, protos[i].name) == 0) {
			*v = protos[i].num;
			return 0;
		}
	}
	return pf_seterr(errbuf, PF_ERR_INVAL, "%s: '%s' is not a protocol "
	    "number (0 to 255) or name (tcp, udp, icmp, icmp6, gre, esp, ...)",
	    key, s);
}

int
pf_tuple_set(struct pf_tuple *t, const char *field, const char *value,
    char *errbuf)
{
	unsigned long x;
	int rc;

	if (strcmp(field, "source_address") == 0) {
		if ((rc = parse_prefix(field, value, &t->src, errbuf)) < 0)
			return rc;
		t->has |= PF_HAS_SRC;
	} else if (strcmp(field, "destination_address") == 0) {
		if ((rc = parse_prefix(field, value, &t->dst, errbuf)) < 0)
			return rc;
		t->has |= PF_HAS_DST;
	} else if (strcmp(field, "source_port") == 0 ||
	    strcmp(field, "destination_port") == 0) {
		if (parse_uint(value, 65535, &x) < 0)
			return pf_seterr(errbuf, PF_ERR_INVAL,
			    "%s: '%s' is not a port (0 to 65535)", field,
			    value);
		if (field[0] == 's') {
			t->sport = (uint16_t)x;
			t->has |= PF_HAS_SPORT;
		} else {
			t->dport = (uint16_t)x;
			t->has |= PF_HAS_DPORT;
		}
	} else if (strcmp(field, "protocol") == 0) {
		if ((rc = parse_proto(field, value, &t->proto, errbuf)) < 0)
			return rc;
		t->has |= PF_HAS_PROTO;
	} else {
		return pf_seterr(errbuf, PF_ERR_INVAL, "unknown key '%s'",
		    field);
	}
	return 0;
}

int
pf_tuple_check(const struct pf_tuple *t, char *errbuf)
{
	if ((t->has & PF_HAS_PROTO) && (t->has & (PF_HAS_SPORT |
	    PF_HAS_DPORT)) && !pf_proto_has_ports(t->proto)) {
		const char *n = pf_proto_name(t->proto);
		return pf_seterr(errbuf, PF_ERR_INVAL, "a port was given "
		    "with protocol %u%s%s%s, which has no ports", t->proto,
		    n ? " (" : "", n ? n : "", n ? ")" : "");
	}
	if ((t->has & PF_HAS_SRC) && (t->has & PF_HAS_DST) &&
	    t->src.family != t->dst.family)
		return pf_seterr(errbuf, PF_ERR_INVAL, "source_address is "
		    "IPv%d but destination_address is IPv%d: no packet can "
		    "match", t->src.family, t->dst.family);
	return 0;
}

/* A filter_v1 object already parsed. */
static int
tuple_from_object(json_t *o, struct pf_tuple *t, char *errbuf)
{
	const char *key;
	json_t *v;
	char num[32];
	int rc;

	memset(t, 0, sizeof(*t));
	if (!json_is_object(o))
		return pf_seterr(errbuf, PF_ERR_INVAL,
		    "filter_v1: expected an object");
	json_object_foreach(o, key, v) {
		int is_addr = strcmp(key, "source_address") == 0 ||
		    strcmp(key, "destination_address") == 0;
		int is_num = strcmp(key, "source_port") == 0 ||
		    strcmp(key, "destination_port") == 0 ||
		    strcmp(key, "protocol") == 0;

		if (!is_addr && !is_num)
			return pf_seterr(errbuf, PF_ERR_INVAL,
			    "filter_v1: unknown key '%s'", key);
		if (json_is_null(v))
			continue;	/* as if absent */
		if (is_addr) {
			if (!json_is_string(v))
				return pf_seterr(errbuf, PF_ERR_INVAL,
				    "%s: expected a string", key);
			rc = pf_tuple_set(t, key, json_string_value(v),
			    errbuf);
		} else {
			double d;

			if (!json_is_number(v))
				return pf_seterr(errbuf, PF_ERR_INVAL,
				    "%s: expected a number", key);
			d = json_number_value(v);
			/* The API's numbers are float64: 6.0 is 6, 6.5 is not. */
			if (d != floor(d) || d < 0 || d > 65535)
				return pf_seterr(errbuf, PF_ERR_INVAL,
				    "%s: %g is out of range (%s)", key, d,
				    key[0] == 'p' ? "0 to 255" : "0 to 65535");
			snprintf(num, sizeof(num), "%.0f", d);
			rc = pf_tuple_set(t, key, num, errbuf);
		}
		if (rc < 0)
			return rc;
	}
	return pf_tuple_check(t, errbuf);
}

static json_t *
load(const char *text, size_t len, char *errbuf)
{
	json_error_t je;
	json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);

	if (j == NULL)
		pf_seterr(errbuf, PF_ERR_INVAL, "JSON: %s at line %d, column %d",
		    je.text, je.line, je.column);
	return j;
}

int
pf_tuple_from_json(const char *text, size_t len, struct pf_tuple *t,
    char *errbuf)
{
	json_t *j = load(text, len, errbuf);
	int rc;

	if (j == NULL)
		return PF_ERR_INVAL;
	rc = tuple_from_object(j, t, errbuf);
	json_decref(j);
	return rc;
}
