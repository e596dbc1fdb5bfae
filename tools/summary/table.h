/*
 * table.h - zeroed memory for pcap-summary's large tables (table.c).
 */
#ifndef PCAPKIT_TABLE_H
#define PCAPKIT_TABLE_H

#include <stddef.h>

/*
 * len bytes, zeroed, page-aligned and faulted in at once: the flow and
 * clock tables are touched all over within the first second, and one
 * call costs far less than a page fault per page (on a VM, ~13 us each:
 * 13 ms for a 4 MiB table).  NULL without memory.
 */
void *table_alloc(size_t len);
void table_free(void *p, size_t len);

#endif
