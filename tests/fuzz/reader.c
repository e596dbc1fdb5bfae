/*
 * reader.c - fuzz libmerge: the capture reader (pcap, pcapng; plain, gzip,
 * zstd), the pcapng writer and the k-way merge, on one input file.
 *
 * Invariants, beyond "no crash, no sanitizer report":
 *  - every packet has caplen <= PM_MAX_CAPLEN, and its bytes are readable;
 *  - the reader's counters agree with the packets it returned;
 *  - what the reader returned survives a pcapng write and re-read exactly
 *    (timestamps, lengths, linktype, bytes, packet and interface options),
 *    but for a time before 1970, which pcapng cannot hold: the writer
 *    writes it as 1970 and counts it;
 *  - a merge of several copies of the input (with a tiny read buffer, or
 *    through temporary-file passes, or concatenated) returns exactly as many
 *    packets, with the same digest, as the copies read alone: damage and
 *    buffer boundaries never change what is read.
 */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "merge.h"

struct digest {
	uint64_t n;
	uint64_t h;	/* order-independent sum of per-packet hashes */
	uint64_t held;	/* written at a time the format could hold */
};

static uint64_t
fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n--)
		h = (h ^ *b++) * 0x100000001b3ULL;
	return h;
}

/* pkt into d, as if its time were ts */
static void
add_at(struct digest *d, const struct pm_packet *pkt, int64_t ts)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	FUZZ_ASSERT(pkt->caplen <= PM_MAX_CAPLEN);
	FUZZ_ASSERT(pkt->caplen == 0 || pkt->data != NULL);
	h = fnv(h, &ts, sizeof(ts));
	h = fnv(h, &pkt->caplen, sizeof(pkt->caplen));
	h = fnv(h, &pkt->len, sizeof(pkt->len));
	h = fnv(h, &pkt->linktype, sizeof(pkt->linktype));
	h = fnv(h, pkt->data, pkt->caplen);
	if (pkt->meta != NULL) {	/* no options hash as none at all */
		const struct pm_meta *m = pkt->meta;
		FUZZ_ASSERT(m->optlen % 4 == 0 && m->ifoptlen % 4 == 0);
		FUZZ_ASSERT(m->optlen == 0 || m->opts != NULL);
		FUZZ_ASSERT(m->ifoptlen == 0 || m->ifopts != NULL);
		if (m->optlen > 0)
			h = fnv(h, m->opts, m->optlen);
		h = fnv(h, "|", 1);
		if (m->ifoptlen > 0)
			h = fnv(h, m->ifopts, m->ifoptlen);
	} else {
		h = fnv(h, "|", 1);
	}
	d->n++;
	d->h += h;
}

static void
add(struct digest *d, const struct pm_packet *pkt)
{
	add_at(d, pkt, pkt->ts);
}

/*
 * Read fd to its end (past damage); optionally copy to a writer, and sum
 * into dw what it writes (a time before 1970 as 1970).
 */
static void
read_all(int fd, size_t bufsize, pm_writer *w, struct digest *d,
    struct digest *dw)
{
	char errbuf[PM_ERRBUF_SIZE];
	struct pm_packet pkt;
	pm_reader *r;
	int err = 0, rc;
	uint64_t damage = 0;

	errbuf[0] = '\0';
	if ((r = pm_reader_open_fd(fd, "fuzz", bufsize, &err, errbuf)) == NULL) {
		FUZZ_ASSERT(err < 0 && errbuf[0] != '\0');
		return;
	}
	for (;;) {
		rc = pm_reader_next(r, &pkt);
		if (rc == 1) {
			add(d, &pkt);
			if (w != NULL) {
				FUZZ_ASSERT(pm_writer_write(w, &pkt) == 0);
				add_at(dw, &pkt, pkt.ts < 0 ? 0 : pkt.ts);
				dw->held += pkt.ts < 0;
			}
			continue;
		}
		if (rc == PM_ERR_DAMAGED || rc == PM_ERR_TRUNCATED) {
			FUZZ_ASSERT(pm_reader_damage(r) != NULL);
			FUZZ_ASSERT(++damage < 1000000);
			continue;
		}
		if (rc < 0)
			FUZZ_ASSERT(pm_reader_geterr(r)[0] != '\0');
		break;
	}
	FUZZ_ASSERT(pm_reader_stats(r)->packets == d->n);
	FUZZ_ASSERT(pm_reader_stats(r)->damaged == damage);
	pm_reader_close(r);
}

static void
merge_copies(const uint8_t *data, size_t size, size_t k,
    const struct pm_merge_opts *o, struct digest *d)
{
	char errbuf[PM_ERRBUF_SIZE];
	struct pm_packet pkt;
	pm_merge *m = pm_merge_new(o, errbuf);
	size_t i;
	int rc;

	FUZZ_ASSERT(m != NULL);
	for (i = 0; i < k; i++)
		FUZZ_ASSERT(pm_merge_add(m, "fuzz", fuzz_memfd(data, size)) == 0);
	for (;;) {
		rc = pm_merge_next(m, &pkt);
		if (rc == 1) {
			add(d, &pkt);
			continue;
		}
		if (rc == PM_ERR_DAMAGED || rc == PM_ERR_TRUNCATED ||
		    rc == PM_ERR_INPUT)
			continue;
		/* anything else is a broken merge: not expected here */
		FUZZ_ASSERT(rc == 0);
		break;
	}
	for (i = 0; i < k; i++) {
		const struct pm_input_info *f = pm_merge_input(m, i);
		if (f->checksummed)
			FUZZ_ASSERT(f->crc32c == pm_crc32c(0, data, size) &&
			    f->stats.bytes_in == size);
	}
	pm_merge_free(m);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct digest alone = { 0, 0, 0 }, again = { 0, 0, 0 },
	    merged = { 0, 0, 0 }, written = { 0, 0, 0 };
	struct pm_writer_opts wo = { PM_FMT_PCAPNG, PM_COMP_NONE, 1,
	    PM_MAX_CAPLEN, 0, "fuzz" };
	/* with checksums: an input read to its end has its bytes' CRC-32C */
	struct pm_merge_opts mo = { .tmpdir = "/tmp", .checksum = 1 };
	char errbuf[PM_ERRBUF_SIZE];
	pm_writer *w;
	int fd, out, err;
	size_t k;

	/* Read alone with a tiny buffer, so that records straddle refills. */
	out = memfd_create("fuzz-out", MFD_CLOEXEC);
	FUZZ_ASSERT(out >= 0);
	w = pm_writer_open(out, &wo, &err, errbuf);
	FUZZ_ASSERT(w != NULL);
	fd = fuzz_memfd(data, size);
	read_all(fd, 64, w, &alone, &written);
	FUZZ_ASSERT(pm_writer_finish(w) == 0);
	FUZZ_ASSERT(pm_writer_times_held(w) == written.held);
	pm_writer_close(w);

	/* What was read survives a write and a re-read. */
	if (alone.n > 0) {
		FUZZ_ASSERT(lseek(out, 0, SEEK_SET) == 0);
		read_all(out, 4096, NULL, &again, NULL);
		FUZZ_ASSERT(again.n == alone.n && again.h == written.h);
	} else {
		close(out);
	}

	/* Copies merged: one of three plans, chosen by the input size. */
	switch (size % 3) {
	case 0:		/* two inputs, 32 KiB buffers each */
		k = 2;
		mo.buffer_budget = 65536;
		break;
	case 1:		/* three inputs, two open at once: temp-file passes */
		k = 3;
		mo.max_open = 2;
		mo.buffer_budget = 4096;
		break;
	default:	/* concatenated */
		k = 2;
		mo.concatenate = 1;
		mo.buffer_budget = 65536;
		break;
	}
	merge_copies(data, size, k, &mo, &merged);
	FUZZ_ASSERT(merged.n == k * alone.n);
	FUZZ_ASSERT(merged.h == k * alone.h);
	return 0;
}
