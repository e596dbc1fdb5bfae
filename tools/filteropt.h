/*
 * filteropt.h - the tuple options pcap-filter and pcap-summary share:
 * --src --dst --sport --dport --proto, --host --port (either direction,
 * as tcpdump's host and port), -f JSON, --from-capture FILE, --layer and
 * --both-directions.  Tool code only.
 */
#ifndef PCAPKIT_FILTEROPT_H
#define PCAPKIT_FILTEROPT_H

#include "filter.h"

#define PK_MAX_TUPLES 64

enum {
	PK_O_SRC = 1000, PK_O_DST, PK_O_SPORT, PK_O_DPORT, PK_O_PROTO,
	PK_O_FROM, PK_O_LAYER, PK_O_BOTH, PK_O_HOST, PK_O_PORT
};

/* Entries for a struct option array; -f is the tool's own short option. */
#define PK_FILTER_LONGOPTS \
	{ "src", required_argument, NULL, PK_O_SRC }, \
	{ "dst", required_argument, NULL, PK_O_DST }, \
	{ "sport", required_argument, NULL, PK_O_SPORT }, \
	{ "dport", required_argument, NULL, PK_O_DPORT }, \
	{ "proto", required_argument, NULL, PK_O_PROTO }, \
	{ "from-capture", required_argument, NULL, PK_O_FROM }, \
	{ "layer", required_argument, NULL, PK_O_LAYER }, \
	{ "both-directions", no_argument, NULL, PK_O_BOTH }, \
	{ "host", required_argument, NULL, PK_O_HOST }, \
	{ "port", required_argument, NULL, PK_O_PORT }

struct pk_filteropt {
	struct pf_tuple tuples[PK_MAX_TUPLES];
	size_t n;
	struct pf_tuple flags;		/* --src ... --proto, one tuple */
	int have_flags;
	const char *src_text, *dst_text;	/* --src, --dst as given */
	struct pf_tuple either;		/* --host (in src), --port (in sport) */
	struct pf_filter_opts fo;
	int given;			/* any tuple option was given */
};

/*
 * Take option c (a PK_O_* value or 'f').  Returns 1 when taken, 0 when c
 * is not one of these, or prints why and returns the exit status for a
 * usage error (2).
 */
int pk_filteropt(struct pk_filteropt *o, int c, const char *arg);
/* After the options: check and add the flag tuple.  0, or prints and 2. */
int pk_filteropt_finish(struct pk_filteropt *o);

#endif
