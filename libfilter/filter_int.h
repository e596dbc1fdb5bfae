/* filter_int.h - libfilter internals; not for tools. */
#ifndef PCAPKIT_FILTER_INT_H
#define PCAPKIT_FILTER_INT_H

#include "filter.h"

int pf_seterr(char *errbuf, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* pf_dissect without its fast path for Ethernet and IPv4: the fuzz
 * harness holds the two to the same answer. */
void pf_dissect_walk(uint32_t lt, const uint8_t *p, uint32_t caplen,
    struct pf_dissection *d);

#endif
