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
	if (!room(o))
		return 2;
	o->tuples[o->n++] = o->flags;
	o->have_flags = 0;
	return 0;
}
