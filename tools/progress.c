/* progress.c - the progress meter; see progress.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "msg.h"
#include "progress.h"

/* ---- progress ---------------------------------------------------------- */

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
pk_progress_init(struct pk_progress *p, int on, uint64_t total)
{
	memset(p, 0, sizeof(*p));
	p->on = on;
	p->total = total;
	p->start = p->last = now();
}

static void
human(char *buf, size_t n, double v)
{
	const char *u[] = { "", "k", "M", "G", "T" };
	int i = 0;

	while (v >= 1000 && i < 4) {
		v /= 1000;
		i++;
	}
	snprintf(buf, n, i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

void
pk_progress_update(struct pk_progress *p, uint64_t bytes, uint64_t packets)
{
	char b[32], k[32], r[32];
	double t;

	if (!p->on || (++p->tick & 1023) != 0)
		return;
	t = now();
	if (t - p->last < 0.25)
		return;
	p->last = t;
	human(b, sizeof(b), (double)bytes);
	human(k, sizeof(k), (double)packets);
	human(r, sizeof(r), (double)bytes / (t - p->start));
	if (p->total > 0)
		fprintf(stderr, "\r%s: %3.0f%% %sB read, %spackets, %sB/s   ",
		    pk_progname, 100.0 * (double)bytes / (double)p->total, b,
		    k, r);
	else
		fprintf(stderr, "\r%s: %sB read, %spackets, %sB/s   ",
		    pk_progname, b, k, r);
	p->shown = 1;
}

void
pk_progress_done(struct pk_progress *p)
{
	if (p->shown)
		fprintf(stderr, "\r%*s\r", 70, "");
	p->shown = 0;
}

void
pk_progress_files(struct pk_progress *p, size_t done, size_t n,
    uint64_t bytes, uint64_t total, int final)
{
	double secs;

	if (!p->on)
		return;
	secs = now() - p->start;
	fprintf(stderr, "\r\033[K%s: %zu/%zu files, %.1f/%.1f MiB, %.1f MiB/s",
	    pk_progname, done, n, (double)bytes / 1048576,
	    (double)total / 1048576,
	    secs > 0 ? (double)bytes / secs / 1048576 : 0.0);
	p->shown = 1;
	if (final) {
		fputc('\n', stderr);
		p->shown = 0;
	}
}
