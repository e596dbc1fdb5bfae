/*
 * table.c - zeroed memory for pcap-summary's large tables (see table.h).
 */
#include <sys/mman.h>

#include "table.h"

void *
table_alloc(size_t len)
{
	void *p;

	if (len == 0)
		return NULL;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
#ifdef MADV_HUGEPAGE
	(void)madvise(p, len, MADV_HUGEPAGE);
#endif
#ifdef MADV_POPULATE_WRITE
	(void)madvise(p, len, MADV_POPULATE_WRITE);
#endif
	return p;
}

void
table_free(void *p, size_t len)
{
	if (p != NULL)
		(void)munmap(p, len);
}
