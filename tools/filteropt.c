/*
 * filteropt.c - tuple options shared by the tools that filter.
 */
#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <stdlib.h>

#include "msg.h"
#include "text.h"
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
	char *text;
	size_t len;
	int found, rc;

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
		if ((text = pk_slurp(arg, &len)) == NULL) {
			pk_warnf(arg, "%s", strerror(errno));
			return 2;
		}
		rc = pf_tuple_from_capture(text, len, &o->tuples[o->n], &found,
		    errbuf);
		free(text);
		if (rc < 0) {
			pk_warnf(arg, "%s", errbuf);
			return 2;
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
