/*
 * table.c - zeroed memory for pcap-summary's large tables (see table.h).
 */
#include <stdint.h>
#include <sys/mman.h>

#include "table.h"

#define HUGE_PAGE ((size_t)2 << 20)

void *
table_alloc(size_t len)
{
	uint8_t *p, *a;
	size_t extra;

	if (len == 0)
		return NULL;
	/*
	 * From 2 MiB on, aligned to a huge page (mapped 2 MiB over and the
	 * ends unmapped), so that the kernel can back it with huge pages:
	 * unaligned, a 2 MiB table took 512 faults, 4 ms of one
	 * MADV_POPULATE_WRITE on the caller's thread before the scan began.
	 */
	extra = len >= HUGE_PAGE && len <= SIZE_MAX - HUGE_PAGE ? HUGE_PAGE : 0;
	p = mmap(NULL, len + extra, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	a = p;
	if (extra != 0) {
		a = (uint8_t *)(((uintptr_t)p + HUGE_PAGE - 1) &
		    ~(uintptr_t)(HUGE_PAGE - 1));
		if (a > p)
			(void)munmap(p, (size_t)(a - p));
		if (p + extra > a)
			(void)munmap(a + len, (size_t)(p + extra - a));
	}
#ifdef MADV_HUGEPAGE
	(void)madvise(a, len, MADV_HUGEPAGE);
#endif
#ifdef MADV_POPULATE_WRITE
	(void)madvise(a, len, MADV_POPULATE_WRITE);
#endif
	return a;
}

void
table_free(void *p, size_t len)
{
	if (p != NULL)
		(void)munmap(p, len);
}
