/*
 * progress.h - the one progress meter: on stderr, only when asked (by
 * default when stderr is a terminal).
 */
#ifndef PCAPKIT_PROGRESS_H
#define PCAPKIT_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

/* Progress on stderr, at most four times a second; done() erases it, and
 * may be called any number of times (before each warning, say). */
struct pk_progress {
	int on;
	uint64_t total;
	double start, last;
	unsigned tick;
	int shown;		/* a progress line is on the screen */
};
void pk_progress_init(struct pk_progress *p, int on, uint64_t total);
void pk_progress_update(struct pk_progress *p, uint64_t bytes,
    uint64_t packets);
void pk_progress_done(struct pk_progress *p);
/*
 * For transfers (pcap-fetch): files done of n, bytes of total; the caller
 * paces it.  The final line stays on the screen.
 */
void pk_progress_files(struct pk_progress *p, size_t done, size_t n,
    uint64_t bytes, uint64_t total, int final);

#endif
