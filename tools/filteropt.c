/*
 * filteropt.c - tuple options shared by the tools that filter.
 */
#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <stdlib.h>

#include "msg.h"
#include "text.h"
#include "capture.h"
#include "filteropt.h"

static const char *const fields[] = { "source_address",
    "destination_address", "source_port", "destination_port", "protocol" };

static int
room(const struct pk_filteropt *o)
{
	if (o->n < PK_MAX_TUPLES)
		return 1;
	pk_warn("at most %d tuples", PK_MAX_TUPLES);
	return 0;
}

int
pk_filteropt(struct pk_filteropt *o, int c, const char *arg)
{
	char errbuf[PF_ERRBUF_SIZE];

	switch (c) {
	case PK_O_SRC: case PK_O_DST: case PK_O_SPORT: case PK_O_DPORT:
	case PK_O_PROTO:
		if (pf_tuple_set(&o->flags, fields[c - PK_O_SRC], arg,
		    errbuf) < 0) {
			pk_warn("%s", errbuf);
			return 2;
		}
		if (c == PK_O_SRC)
			o->src_text = arg;
		else if (c == PK_O_DST)
			o->dst_text = arg;
		o->have_flags = o->given = 1;
		return 1;
	case PK_O_HOST:
	case PK_O_PORT:
		if (pf_tuple_set(&o->either, c == PK_O_HOST ? fields[0] :
		    fields[2], arg, errbuf) < 0) {
			pk_warn("--%s: %s", c == PK_O_HOST ? "host" : "port",
			    errbuf);
			return 2;
		}
		o->have_flags = o->given = 1;
		return 1;
	case 'f':
		if (!room(o))
			return 2;
		if (pf_tuple_from_json(arg, strlen(arg), &o->tuples[o->n],
		    errbuf) < 0) {
			pk_warn("-f: %s", errbuf);
			return 2;
		}
		o->n++;
		o->given = 1;
		return 1;
	case PK_O_FROM:
		if (!room(o))
			return 2;
		{
			struct pk_capture cap;
			char err[PF_ERRBUF_SIZE + 64];

			if (pk_capture_load(&cap, arg, err, sizeof(err)) < 0) {
				pk_warnf(arg, "%s", err);
				return 2;
			}
			/* No filter_v1: a tuple that matches everything. */
			o->tuples[o->n] = cap.tuple;
			pk_capture_free(&cap);
		}
		o->n++;
		o->given = 1;
		return 1;
	case PK_O_LAYER:
		if (strcmp(arg, "any") == 0)
			o->fo.layer = PF_LAYER_ANY;
		else if (strcmp(arg, "outer") == 0)
			o->fo.layer = PF_LAYER_OUTER;
		else if (strcmp(arg, "inner") == 0)
			o->fo.layer = PF_LAYER_INNER;
		else {
			pk_warn("--layer: '%s' is not outer, inner or any",
			    arg);
			return 2;
		}
		return 1;
	case PK_O_BOTH:
		o->fo.both_directions = 1;
		return 1;
	}
	return 0;
}

/* p narrowed by q: 0 when no address is in both. */
static int
narrow(struct pf_prefix *p, int had, const struct pf_prefix *q)
{
	unsigned bits, i;

	if (!had) {
		*p = *q;
		return 1;
	}
	if (p->family != q->family)
		return 0;
	bits = p->bits < q->bits ? p->bits : q->bits;
	for (i = 0; i < bits; i++)
		if (((p->addr[i / 8] ^ q->addr[i / 8]) >> (7 - i % 8)) & 1)
			return 0;
	if (q->bits > p->bits)
		*p = *q;
	return 1;
}

/*
 * --host A: the flag tuple with A as its source, or as its destination;
 * --port P likewise with its ports, so --host A --port P is four tuples,
 * as tcpdump's "host A and port P" (A and P may be on either side, each).
 * A side that --src/--dst/--sport/--dport already fixed must agree.
 */
static int
expand(struct pk_filteropt *o)
{
	struct pf_tuple v[4], w[4], t;
	size_t nv = 1, i, k, nn;
	unsigned bit;
	int side;

	v[0] = o->flags;
	if (o->either.has & PF_HAS_SRC) {
		for (i = 0, nn = 0; i < nv; i++)
			for (side = 0; side < 2; side++) {
				t = v[i];
				bit = side ? PF_HAS_DST : PF_HAS_SRC;
				if (!narrow(side ? &t.dst : &t.src,
				    (t.has & bit) != 0, &o->either.src))
					continue;
				t.has |= bit;
				w[nn++] = t;
			}
		memcpy(v, w, nn * sizeof(*v));
		nv = nn;
	}
	if (o->either.has & PF_HAS_SPORT) {
		for (i = 0, nn = 0; i < nv; i++)
			for (side = 0; side < 2; side++) {
				uint16_t *port;

				t = v[i];
				bit = side ? PF_HAS_DPORT : PF_HAS_SPORT;
				port = side ? &t.dport : &t.sport;
				if ((t.has & bit) && *port != o->either.sport)
					continue;
				*port = o->either.sport;
				t.has |= bit;
				w[nn++] = t;
			}
		memcpy(v, w, nn * sizeof(*v));
		nv = nn;
	}
	if (nv == 0) {
		pk_warn("--host/--port and --src/--dst/--sport/--dport never "
		    "match together");
		return 2;
	}
	for (k = 0; k < nv; k++) {
		if (!room(o))
			return 2;
		o->tuples[o->n++] = v[k];
	}
	return 0;
}

int
pk_filteropt_finish(struct pk_filteropt *o)
{
	char errbuf[PF_ERRBUF_SIZE];

	if (!o->have_flags)
		return 0;
	if (pf_tuple_check(&o->flags, errbuf) < 0) {
		pk_warn("%s", errbuf);
		return 2;
	}
	if (o->either.has & PF_HAS_SPORT) {
		struct pf_tuple t = o->flags;

		t.has |= PF_HAS_SPORT;
		t.sport = o->either.sport;
		if (pf_tuple_check(&t, errbuf) < 0) {
			pk_warn("--port: %s", errbuf);
			return 2;
		}
	}
	o->have_flags = 0;
	if (o->either.has != 0)
		return expand(o);
	if (!room(o))
		return 2;
	o->tuples[o->n++] = o->flags;
	return 0;
}
