/*
 * summary.c - fuzz pcap-summary's completeness measurements (tools/summary:
 * loss.c, clock.c, coverage.c) on the packets of one capture file, read
 * by libmerge and dissected by libfilter as pcap-summary does.
 *
 * The file's packets are fed as two inputs: as read (input 0), and again
 * shifted by an amount taken from the file's size (input 1), so that the
 * clock pairs the copies and the coverage compares two timelines.  The
 * flow table is small, so that evictions happen.
 *
 * Invariants, beyond "no crash, no sanitizer report": the loss fraction
 * is -1 or within [0, 1] and its parts add up; each timeline holds every
 * packet given it; every silent stretch lies in the span; an offset is
 * known only with the reference's, which is 0, and lies within the
 * clock's window.
 */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "clock.h"
#include "coverage.h"
#include "fuzz.h"
#include "loss.h"
#include "merge.h"

static uint64_t
tl_sum(const struct tl *t)
{
	uint64_t n = 0;
	size_t j;

	for (j = 0; j < TL_BUCKETS; j++)
		n += t->n[j];
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tl tl[2];
	static struct clocks clk;
	struct loss_tab lt;
	struct loss_count cnt[2];
	struct coverage cov[2];
	struct pf_dissection d;
	struct pm_packet pkt;
	char errbuf[PM_ERRBUF_SIZE];
	/* input 1's clock: ahead or behind by up to 2 s, so that about half
	 * the inputs pair within the clock's 1 s window */
	int64_t shift = ((int64_t)(size * 2654435761u % 4096) - 2048) *
	    1000000;
	int64_t off[2], t0 = 0, t1 = 0;
	uint64_t col[64] = { 0 };
	uint64_t packets[2] = { 0, 0 }, shared[2];
	double spread[64] = { 0 };
	int known[2], err, rc, fd, i, any = 0;
	size_t ref;
	pm_reader *r;

	memset(tl, 0, sizeof(tl));
	memset(cnt, 0, sizeof(cnt));
	FUZZ_ASSERT(loss_init(&lt, 64) == 0);
	FUZZ_ASSERT(clock_init(&clk, 1) == 0);
	fd = fuzz_memfd(data, size);
	if ((r = pm_reader_open_fd(fd, "fuzz", 4096, &err, errbuf)) == NULL)
		goto out;
	for (;;) {
		rc = pm_reader_next(r, &pkt);
		if (rc == PM_ERR_DAMAGED || rc == PM_ERR_TRUNCATED)
			continue;
		if (rc != 1)
			break;
		pf_dissect(pkt.linktype, pkt.data, pkt.caplen, &d);
		for (i = 0; i < 2; i++) {
			int64_t ts = pkt.ts;
			struct clocknote cn;

			if (i == 1 && __builtin_add_overflow(pkt.ts, shift,
			    &ts))
				ts = shift > 0 ? INT64_MAX : INT64_MIN;
			tl_add(&tl[i], ts);
			packets[i]++;
			if (!any || ts < t0)
				t0 = ts;
			if (!any || ts > t1)
				t1 = ts;
			any = 1;
			memset(&cn, 0, sizeof(cn));
			if (clock_pick(&d, pkt.data, pkt.len, clock_below(1)) &&
			    clock_key(&d, pkt.data, pkt.caplen, pkt.len,
			    &cn.hash)) {
				cn.input = (uint32_t)i;
				cn.ts = ts;
				clock_note(&clk, &cn);
			}
			if (d.n > 0)
				loss_packet(&lt, cnt, (uint32_t)i,
				    &d.ip[d.n - 1], pkt.data, pkt.caplen, ts);
		}
	}
	pm_reader_close(r);
	loss_flush(&lt, cnt);
	for (i = 0; i < 2; i++) {
		double f = loss_fraction(&cnt[i]);

		FUZZ_ASSERT(f == -1 || (f >= 0 && f <= 1));
		FUZZ_ASSERT(cnt[i].acked_unseen <= cnt[i].acked);
		FUZZ_ASSERT(cnt[i].stream_holes <= cnt[i].stream);
		FUZZ_ASSERT(tl_sum(&tl[i]) == packets[i]);
	}
	if (any) {
		int64_t a, b = tl_clamp(t1), w = tl_axis(t0, t1, 64, &a);

		FUZZ_ASSERT(coverage_find(tl, packets, 2, a, b, cov) == 0);
		for (i = 0; i < 2; i++) {
			size_t k;

			for (k = 0; k < cov[i].ns; k++)
				FUZZ_ASSERT(cov[i].s[k].from >= a &&
				    cov[i].s[k].from < cov[i].s[k].to &&
				    cov[i].s[k].to <= b);
			tl_columns(&tl[i], a, w, 64, col);
			tl_spread(&tl[i], a, w, 64, spread);
		}
		FUZZ_ASSERT(clock_solve(&clk, 2, off, known, &ref,
		    shared) == 0);
		/* no pair: no offset known; else the reference's is 0 and
		 * the other's one pair's median, within the window */
		FUZZ_ASSERT(ref < 2 && (known[ref] || (!known[0] &&
		    !known[1])));
		FUZZ_ASSERT(!known[ref] || off[ref] == 0);
		for (i = 0; i < 2; i++)
			FUZZ_ASSERT(!known[i] || (off[i] >= -CLOCK_WINDOW &&
			    off[i] <= CLOCK_WINDOW));
	}
out:
	loss_free(&lt);
	clock_free(&clk);
	close(fd);
	return 0;
}
