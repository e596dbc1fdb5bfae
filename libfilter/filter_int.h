/* filter_int.h - libfilter internals; not for tools. */
#ifndef PCAPKIT_FILTER_INT_H
#define PCAPKIT_FILTER_INT_H

#include "filter.h"

int pf_seterr(char *errbuf, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
