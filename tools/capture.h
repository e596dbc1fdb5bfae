/*
 * capture.h - the Cloudflare capture object, read in one place for every
 * tool: pcap-summary's --expect, --from-capture (pcap-filter,
 * pcap-summary) and pcap-fetch.  It comes bare or in the API's envelope
 * ({"result": {...}}); libfilter sees only its filter_v1.
 */
#ifndef PCAPKIT_CAPTURE_H
#define PCAPKIT_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "filter.h"

struct pk_capture {
	json_t *root;		/* the object (a reference, owned) */
	/* strings point into root; NULL when absent or not a string */
	const char *id, *type, *status, *error_message, *destination_conf;
	int simple, full;	/* by type (full also when type is absent
				   and there is a destination_conf) */
	int has_time_limit, has_packet_limit, has_byte_limit, has_captured;
	double time_limit;	/* seconds, > 0 */
	uint64_t packet_limit, byte_limit, packets_captured;
	/*
	 * The capture's start: offset_time when it has one, else submitted
	 * (start_field says which; NULL: neither), in ns since the epoch.
	 */
	const char *start_field;
	int have_start;
	int64_t start;
	int has_filter;		/* a filter_v1 that selects something */
	struct pf_tuple tuple;
};

/*
 * Read a capture object from v (bare, or the envelope's result): its
 * fields checked for type and range.  0, or -1 with why in err (n
 * bytes).  c holds a reference to the object.
 */
int pk_capture_parse(struct pk_capture *c, json_t *v, char *err, size_t n);
/* Its filter_v1, parsed by libfilter, into c->tuple; 0 or -1. */
int pk_capture_tuple(struct pk_capture *c, char *err, size_t n);
/* Both, from a file ("-" is stdin). */
int pk_capture_load(struct pk_capture *c, const char *path, char *err,
    size_t n);
void pk_capture_free(struct pk_capture *c);

#endif
