/*
 * test_merge.c - unit tests for libmerge (Check).
 *
 * Captures are built byte by byte here, in both byte orders and every
 * precision, so the reader is tested against bytes it did not write.
 */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pcap/pcap.h>
#include <zlib.h>
#include <zstd.h>

#include "merge.h"
#include "merge_int.h"	/* pm_writer_release */

/* ---- building captures in memory ---------------------------------------- */

struct mb {
	uint8_t *p;
	size_t n, cap;
	int big;
};

static void
mb_put(struct mb *b, const void *p, size_t n)
{
	if (n == 0)
		return;
	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2;
		b->p = realloc(b->p, b->cap);
		ck_assert_ptr_nonnull(b->p);
	}
	memcpy(b->p + b->n, p, n);
	b->n += n;
}

static void
mb_u16(struct mb *b, uint16_t v)
{
	uint8_t x[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
	if (b->big) { x[0] = (uint8_t)(v >> 8); x[1] = (uint8_t)v; }
	mb_put(b, x, 2);
}

static void
mb_u32(struct mb *b, uint32_t v)
{
	uint8_t x[4];
	int i;
	for (i = 0; i < 4; i++)
		x[b->big ? 3 - i : i] = (uint8_t)(v >> (8 * i));
	mb_put(b, x, 4);
}

static void
pcap_hdr(struct mb *b, int nano, uint32_t snap, uint32_t lt)
{
	mb_u32(b, nano ? 0xa1b23c4du : 0xa1b2c3d4u);
	mb_u16(b, 2); mb_u16(b, 4); mb_u32(b, 0); mb_u32(b, 0);
	mb_u32(b, snap); mb_u32(b, lt);
}

/* A record whose bytes are all `fill`. */
static void
pcap_rec(struct mb *b, uint32_t sec, uint32_t frac, uint32_t caplen,
    uint32_t len, uint8_t fill)
{
	uint8_t d[2048];
	mb_u32(b, sec); mb_u32(b, frac); mb_u32(b, caplen); mb_u32(b, len);
	memset(d, fill, sizeof(d));
	mb_put(b, d, caplen);
}

static void
ng_shb(struct mb *b)
{
	mb_u32(b, 0x0a0d0d0a); mb_u32(b, 28); mb_u32(b, 0x1a2b3c4d);
	mb_u16(b, 1); mb_u16(b, 0); mb_u32(b, 0xffffffff);
	mb_u32(b, 0xffffffff); mb_u32(b, 28);
}

static void
ng_idb(struct mb *b, uint16_t lt, uint32_t snap, int tsresol)
{
	uint32_t len = tsresol >= 0 ? 28 : 20;
	mb_u32(b, 1); mb_u32(b, len); mb_u16(b, lt); mb_u16(b, 0);
	mb_u32(b, snap);
	if (tsresol >= 0) {
		uint8_t r[4] = { (uint8_t)tsresol, 0, 0, 0 };
		mb_u16(b, 9); mb_u16(b, 1); mb_put(b, r, 4);
	}
	mb_u32(b, len);
}

static void
ng_epb(struct mb *b, uint32_t ifid, uint64_t ticks, uint32_t caplen,
    uint32_t len, uint8_t fill)
{
	uint8_t d[2048];
	uint32_t pad = (4 - caplen % 4) % 4, tot = 32 + caplen + pad;
	memset(d, fill, sizeof(d));
	mb_u32(b, 6); mb_u32(b, tot); mb_u32(b, ifid);
	mb_u32(b, (uint32_t)(ticks >> 32)); mb_u32(b, (uint32_t)ticks);
	mb_u32(b, caplen); mb_u32(b, len);
	mb_put(b, d, caplen + pad);
	mb_u32(b, tot);
}

static char tmpdir[] = "/tmp/pcapkit-unit.XXXXXX";
static int tmpn;

static char *
save(const void *p, size_t n)
{
	static char path[4][256];
	char *s = path[tmpn % 4];
	FILE *f;

	snprintf(s, 256, "%s/f%d", tmpdir, tmpn++);
	f = fopen(s, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(p, 1, n, f), n);
	ck_assert_int_eq(fclose(f), 0);
	return s;
}

static char *
save_gzip(const struct mb *b)
{
	z_stream z;
	uint8_t *o = malloc(b->n * 2 + 1024);
	char *s;

	memset(&z, 0, sizeof(z));
	ck_assert_int_eq(deflateInit2(&z, 6, Z_DEFLATED, 31, 8,
	    Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = b->p;
	z.avail_in = (uInt)b->n;
	z.next_out = o;
	z.avail_out = (uInt)(b->n * 2 + 1024);
	ck_assert_int_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
	s = save(o, z.total_out);
	deflateEnd(&z);
	free(o);
	return s;
}

static char *
save_zstd(const struct mb *b, int keep)
{
	size_t cap = ZSTD_compressBound(b->n), n;
	uint8_t *o = malloc(cap);
	char *s;

	n = ZSTD_compress(o, cap, b->p, b->n, 3);
	ck_assert(!ZSTD_isError(n));
	s = save(o, keep ? n / 2 : n);
	free(o);
	return s;
}

static pm_reader *
ropen(const char *path)
{
	char eb[PM_ERRBUF_SIZE];
	pm_reader *r = pm_reader_open(path, 4096, NULL, eb);
	ck_assert_msg(r != NULL, "%s: %s", path, eb);
	return r;
}

static void
setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void
teardown(void)
{
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
	strcpy(tmpdir, "/tmp/pcapkit-unit.XXXXXX");
}

/* ---- readers ------------------------------------------------------------ */

static void
check_pcap_variant(int big, int nano)
{
	struct mb b = { .big = big };
	struct pm_packet p;
	pm_reader *r;

	pcap_hdr(&b, nano, 65535, 1);
	pcap_rec(&b, 1700000000, nano ? 123456789 : 123456, 60, 60, 0xaa);
	pcap_rec(&b, 1700000001, 5, 100, 1514, 0xbb);
	r = ropen(save(b.p, b.n));
	ck_assert_int_eq(pm_reader_format(r), PM_FMT_PCAP);
	ck_assert_int_eq(pm_reader_nano(r), nano);
	ck_assert_uint_eq(pm_reader_snaplen(r), 65535);
	ck_assert_int_eq(pm_reader_next(r, &p), 1);
	ck_assert_int_eq(p.ts, 1700000000LL * 1000000000 +
	    (nano ? 123456789 : 123456000));
	ck_assert_uint_eq(p.caplen, 60);
	ck_assert_uint_eq(p.linktype, 1);
	ck_assert_uint_eq(p.data[0], 0xaa);
	ck_assert_int_eq(pm_reader_next(r, &p), 1);
	ck_assert_int_eq(p.ts, 1700000001LL * 1000000000 + (nano ? 5 : 5000));
	ck_assert_uint_eq(p.len, 1514);
	ck_assert_uint_eq(p.data[99], 0xbb);
	ck_assert_int_eq(pm_reader_next(r, &p), 0);
	ck_assert_uint_eq(pm_reader_stats(r)->packets, 2);
	pm_reader_close(r);
	free(b.p);
}

START_TEST(reader_reads_pcap_every_order_and_precision)
{
	check_pcap_variant(0, 0);
	check_pcap_variant(1, 0);
	check_pcap_variant(0, 1);
	check_pcap_variant(1, 1);
}
END_TEST

START_TEST(reader_keeps_caplen_over_snaplen)
{
	struct mb b = { 0 };
	struct pm_packet p;
	pm_reader *r;

	pcap_hdr(&b, 0, 96, 1);
	pcap_rec(&b, 1, 0, 1500, 1500, 0x11);
	r = ropen(save(b.p, b.n));
	ck_assert_int_eq(pm_reader_next(r, &p), 1);
	ck_assert_uint_eq(p.caplen, 1500);
	ck_assert_uint_eq(p.data[1499], 0x11);
	pm_reader_close(r);
	free(b.p);
}
END_TEST

/*
 * A sub-second field of a second or more is read as carried into the
 * seconds, and counted, so the tools can say so (tcpdump prints "invalid").
 */
START_TEST(reader_counts_sub_second_fields_of_a_second_or_more)
{
	int nano;

	for (nano = 0; nano <= 1; nano++) {
		uint32_t unit = nano ? 1000000000u : 1000000u;
		struct mb b = { 0 };
		struct pm_packet p;
		pm_reader *r;

		pcap_hdr(&b, nano, 65535, 1);
		pcap_rec(&b, 10, unit - 1, 60, 60, 0x01);
		pcap_rec(&b, 10, unit, 60, 60, 0x02);
		pcap_rec(&b, 10, 0x80000000u, 60, 60, 0x03);
		r = ropen(save(b.p, b.n));
		ck_assert_int_eq(pm_reader_next(r, &p), 1);
		ck_assert_int_eq(p.ts, 10999999999LL - (nano ? 0 : 999));
		ck_assert_int_eq(pm_reader_next(r, &p), 1);
		ck_assert_int_eq(p.ts, 11000000000LL);
		ck_assert_int_eq(pm_reader_next(r, &p), 1);
		ck_assert_int_eq(p.ts, 10000000000LL +
		    (int64_t)0x80000000u * (nano ? 1 : 1000));
		ck_assert_int_eq(pm_reader_next(r, &p), 0);
		ck_assert_uint_eq(pm_reader_stats(r)->bad_frac, 2);
		pm_reader_close(r);
		free(b.p);
	}
}
END_TEST

static void
check_pcapng_variant(int big)
{
	struct mb b = { .big = big };
	struct pm_packet p;
	const uint32_t *lts;
	pm_reader *r;

	ng_shb(&b);
	ng_idb(&b, 1, 65535, -1);		/* microseconds (default) */
	ng_idb(&b, 101, 128, 9);		/* nanoseconds, RAW */
	ng_idb(&b, 1, 0, 0x80 | 10);		/* 2^-10 seconds */
	ng_epb(&b, 0, 1700000000123456ull, 60, 60, 0x01);
	ng_epb(&b, 1, 1700000000123456789ull, 40, 40, 0x02);
	ng_epb(&b, 2, 1024ull * 5 + 512, 50, 70, 0x03);	/* 5.5 s */
	r = ropen(save(b.p, b.n));
	ck_assert_int_eq(pm_reader_format(r), PM_FMT_PCAPNG);
	ck_assert_uint_eq(pm_reader_linktypes(r, &lts), 2);
	ck_assert_int_eq(pm_reader_nano(r), 1);
	ck_assert_int_eq(pm_reader_next(r, &p), 1);
	ck_assert_int_eq(p.ts, 1700000000123456000LL);
	ck_assert_uint_eq(p.linktype, 1);
	ck_assert_uint_eq(p.snaplen, 65535);
	ck_assert_int_eq(pm_reader_next(r, &p), 1);
	ck_assert_int_eq(p.ts, 1700000000123456789LL);
	ck_assert_uint_eq(p.linktype, 101);
	ck_assert_uint_eq(p.data[39], 0x02);
	ck_assert_int_eq(pm_reader_next(r, &p), 1);
	ck_assert_int_eq(p.ts, 5500000000LL);
	ck_assert_uint_eq(p.caplen, 50);
	ck_assert_uint_eq(p.len, 70);
	ck_assert_int_eq(pm_reader_next(r, &p), 0);
	pm_reader_close(r);
	free(b.p);
}

START_TEST(reader_reads_pcapng_interfaces_and_tsresol)
{
	check_pcapng_variant(0);
	check_pcapng_variant(1);
}
END_TEST

/*
 * A pcapng tick count is unsigned 64-bit: in microseconds it reaches past
 * 2262, where int64 nanoseconds end.  Such a time is held at INT64_MAX and
 * counted; the last time that fits is neither.
 */
START_TEST(reader_counts_pcapng_times_past_int64_nanoseconds)
{
	struct mb b = { 0 };
	struct pm_packet p;
	pm_reader *r;

	ng_shb(&b);
	ng_idb(&b, 1, 0, -1);			/* microseconds */
	ng_idb(&b, 1, 0, 0x80 | 10);		/* 2^-10 seconds */
	ng_epb(&b, 0, INT64_MAX / 1000, 10, 10, 0x01);
	ng_epb(&b, 0, INT64_MAX / 1000 + 1, 10, 10, 0x02);
	ng_epb(&b, 0, 0xffffffffe1dfd279ull, 10, 10, 0x03);
	ng_epb(&b, 1, UINT64_MAX, 10, 10, 0x04);
	r = ropen(save(b.p, b.n));
	ck_assert_int_eq(pm_reader_next(r, &p), 1);
	ck_assert_int_eq(p.ts, INT64_MAX / 1000 * 1000);
	ck_assert_int_eq(pm_reader_next(r, &p), 1);
	ck_assert_int_eq(p.ts, INT64_MAX);
	ck_assert_int_eq(pm_reader_next(r, &p), 1);
	ck_assert_int_eq(p.ts, INT64_MAX);
	ck_assert_int_eq(pm_reader_next(r, &p), 1);
	ck_assert_int_eq(p.ts, INT64_MAX);
	ck_assert_uint_eq(p.data[0], 0x04);
	ck_assert_int_eq(pm_reader_next(r, &p), 0);
	ck_assert_uint_eq(pm_reader_stats(r)->bad_time, 3);
	ck_assert_uint_eq(pm_reader_stats(r)->packets, 4);
	pm_reader_close(r);
	free(b.p);
}
END_TEST

START_TEST(reader_skips_unknown_pcapng_blocks)
{
	struct mb b = { 0 };
	struct pm_packet p;
	pm_reader *r;

	ng_shb(&b);
	mb_u32(&b, 0x00000bad); mb_u32(&b, 16); mb_u32(&b, 1); mb_u32(&b, 16);
	ng_idb(&b, 1, 0, 9);
	mb_u32(&b, 5); mb_u32(&b, 12); mb_u32(&b, 12);	/* empty ISB */
	ng_epb(&b, 0, 7, 10, 10, 0x07);
	r = ropen(save(b.p, b.n));
	ck_assert_int_eq(pm_reader_next(r, &p), 1);
	ck_assert_int_eq(p.ts, 7);
	ck_assert_int_eq(pm_reader_next(r, &p), 0);
	pm_reader_close(r);
	free(b.p);
}
END_TEST

/* One option: code, length, value as given (already in b's order), padding. */
static void
mb_opt(struct mb *b, uint16_t code, const void *v, uint16_t len)
{
	static const uint8_t zero[4];
	mb_u16(b, code);
	mb_u16(b, len);
	mb_put(b, v, len);
	mb_put(b, zero, (4 - len % 4) % 4);
}

static void
mb_u64(struct mb *b, uint64_t v)
{
	if (b->big) {
		mb_u32(b, (uint32_t)(v >> 32));
		mb_u32(b, (uint32_t)v);
	} else {
		mb_u32(b, (uint32_t)v);
		mb_u32(b, (uint32_t)(v >> 32));
	}
}

/*
 * The interface options of options_capture(), as they must come out: in
 * the host's order, without if_tsresol, if_tsoffset, the custom option that
 * may not be copied and, from a file of the other order, the unknown one.
 */
static void
if_opts(struct mb *b, int full)
{
	mb_opt(b, 2, "eth0", 4);				/* if_name */
	if (full) {
		mb_u16(b, 9); mb_u16(b, 1);			/* if_tsresol */
		mb_put(b, "\x09\0\0\0", 4);
	}
	mb_u16(b, 8); mb_u16(b, 8); mb_u64(b, 1000000000);	/* if_speed */
	if (full) {
		mb_u16(b, 14); mb_u16(b, 8); mb_u64(b, 0);	/* if_tsoffset */
		mb_u16(b, 19372); mb_u16(b, 5); mb_u32(b, 32473);
		mb_put(b, "x\0\0\0", 4);
	}
	if (full || !b->big)
		mb_opt(b, 200, "\x01\x02\x03\x04", 4);		/* unknown */
}

static void
pkt_opts(struct mb *b, int full)
{
	mb_opt(b, 1, "hello", 5);				/* opt_comment */
	mb_u16(b, 2); mb_u16(b, 4); mb_u32(b, 0x80000001u);	/* epb_flags */
	mb_u16(b, 4); mb_u16(b, 8); mb_u64(b, 7);		/* epb_dropcount */
	mb_u16(b, 2988); mb_u16(b, 6); mb_u32(b, 32473);	/* custom */
	mb_put(b, "ab\0\0", 4);
	if (full) {
		mb_u16(b, 19373); mb_u16(b, 5); mb_u32(b, 32473);
		mb_put(b, "z\0\0\0", 4);
	}
	if (full || !b->big)
		mb_opt(b, 300, "\x05\x06", 2);			/* unknown */
}

/* An IDB or EPB with the given options (opts: that order, full list). */
static void
ng_block_opts(struct mb *b, uint32_t type, const struct mb *opts,
    uint32_t ifid, uint32_t caplen)
{
	uint8_t d[64];
	uint32_t pad = (4 - caplen % 4) % 4;
	uint32_t tot = (type == 1 ? 20 : 32 + caplen + pad) +
	    (uint32_t)opts->n + 4;

	memset(d, 0x5a, sizeof(d));
	mb_u32(b, type); mb_u32(b, tot);
	if (type == 1) {
		mb_u16(b, 1); mb_u16(b, 0); mb_u32(b, 65535);
	} else {
		mb_u32(b, ifid); mb_u32(b, 0); mb_u32(b, 1000000);
		mb_u32(b, caplen); mb_u32(b, caplen);
		mb_put(b, d, caplen + pad);
	}
	mb_put(b, opts->p, opts->n);
	mb_u32(b, 0);					/* opt_endofopt */
	mb_u32(b, tot);
}

/*
 * Two interfaces with the same options, a packet with options on the first
 * and one without on the second.
 */
static char *
options_capture(int big)
{
	struct mb b = { .big = big }, io = { .big = big }, po = { .big = big };
	struct mb none = { .big = big };
	char *path;

	if_opts(&io, 1);
	pkt_opts(&po, 1);
	ng_shb(&b);
	ng_block_opts(&b, 1, &io, 0, 0);
	ng_block_opts(&b, 1, &io, 0, 0);
	ng_block_opts(&b, 6, &po, 0, 10);
	ng_block_opts(&b, 6, &none, 1, 7);
	path = save(b.p, b.n);
	free(b.p); free(io.p); free(po.p);
	return path;
}

static void
check_options(pm_reader *r, int big)
{
	struct mb io = { .big = 0 }, po = { .big = 0 };
	struct pm_packet p;

	/* expected, in host order (the tests run little-endian) */
	if_opts(&io, 0);
	pkt_opts(&po, 0);
	if (big) {	/* the unknown options, last, cannot be converted */
		io.n -= 8;
		po.n -= 8;
	}
	ck_assert_int_eq(pm_reader_next(r, &p), 1);
	ck_assert_ptr_nonnull(p.meta);
	ck_assert_uint_eq(p.meta->ifoptlen, io.n);
	ck_assert(memcmp(p.meta->ifopts, io.p, io.n) == 0);
	ck_assert_uint_eq(p.meta->optlen, po.n);
	ck_assert(memcmp(p.meta->opts, po.p, po.n) == 0);
	ck_assert_uint_eq(p.caplen, 10);
	ck_assert_uint_eq(p.data[9], 0x5a);
	ck_assert_int_eq(pm_reader_next(r, &p), 1);
	ck_assert_uint_eq(p.meta->ifoptlen, io.n);
	ck_assert(memcmp(p.meta->ifopts, io.p, io.n) == 0);
	ck_assert_uint_eq(p.meta->optlen, 0);
	ck_assert_ptr_null(p.meta->opts);
	ck_assert_int_eq(pm_reader_next(r, &p), 0);
	free(io.p); free(po.p);
}

/* Interface Description Blocks in a pcapng file of this host's order. */
static int
count_idbs(const char *path)
{
	uint8_t buf[4096];
	FILE *f = fopen(path, "rb");
	size_t n, off = 0;
	uint32_t t, len;
	int idbs = 0;

	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	while (off + 8 <= n) {
		memcpy(&t, buf + off, 4);
		memcpy(&len, buf + off + 4, 4);
		ck_assert_uint_ge(len, 12);
		idbs += t == 1;
		off += len;
	}
	ck_assert_uint_eq(off, n);
	return idbs;
}

/*
 * pcapng metadata survives: the reader hands on the options of packets and
 * interfaces in host order, the pcapng writer writes them, and interfaces
 * with the same linktype and options become one.
 */
/*
 * Read in and write every packet to a new pcapng file out, each followed
 * by a packet without options when bare.
 */
static void
rewrite_pcapng(const char *in, const char *out, int bare)
{
	struct pm_writer_opts o = { .format = PM_FMT_PCAPNG, .nano = 1,
	    .snaplen = 65535 };
	struct pm_packet p, b = { .linktype = 1, .caplen = 1, .len = 1,
	    .data = (const uint8_t *)"x" };
	char eb[PM_ERRBUF_SIZE];
	pm_reader *r;
	pm_writer *w;
	int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ck_assert_int_ge(fd, 0);
	w = pm_writer_open(fd, &o, NULL, eb);
	ck_assert_ptr_nonnull(w);
	r = ropen(in);
	while (pm_reader_next(r, &p) == 1) {
		ck_assert_int_eq(pm_writer_write(w, &p), 0);
		if (bare)
			ck_assert_int_eq(pm_writer_write(w, &b), 0);
	}
	pm_reader_close(r);
	ck_assert_int_eq(pm_writer_finish(w), 0);
	pm_writer_close(w);
	ck_assert_int_eq(close(fd), 0);
}

START_TEST(pcapng_options_survive_reading_and_writing)
{
	char out[300];
	pm_reader *r;
	int big;

	for (big = 0; big <= 1; big++) {
		r = ropen(options_capture(big));
		check_options(r, big);
		pm_reader_close(r);

		/* read and written again, then read back */
		snprintf(out, sizeof(out), "%s/opts%d.pcapng", tmpdir, big);
		rewrite_pcapng(options_capture(big), out, 0);
		ck_assert_int_eq(count_idbs(out), 1);
		r = ropen(out);
		check_options(r, big);
		pm_reader_close(r);
	}

	/* a packet without interface options gets an interface of its own */
	snprintf(out, sizeof(out), "%s/opts-mixed.pcapng", tmpdir);
	rewrite_pcapng(options_capture(0), out, 1);
	ck_assert_int_eq(count_idbs(out), 2);
}
END_TEST

static struct mb
three_packets(void)
{
	struct mb b = { 0 };
	int i;

	pcap_hdr(&b, 1, 65535, 1);
	for (i = 0; i < 3; i++)
		pcap_rec(&b, 100, (uint32_t)i, 100, 100, (uint8_t)i);
	return b;
}

START_TEST(reader_reads_gzip_and_zstd_by_magic)
{
	struct mb b = three_packets();
	const char *paths[2];
	struct pm_packet p;
	int i, n;

	/* Two gzip members back to back are one stream, as for gzip(1). */
	paths[0] = save_gzip(&b);
	paths[1] = save_zstd(&b, 0);
	for (i = 0; i < 2; i++) {
		pm_reader *r = ropen(paths[i]);
		ck_assert_int_eq(pm_reader_compression(r),
		    i == 0 ? PM_COMP_GZIP : PM_COMP_ZSTD);
		for (n = 0; pm_reader_next(r, &p) == 1; n++)
			ck_assert_uint_eq(p.data[0], n);
		ck_assert_int_eq(n, 3);
		pm_reader_close(r);
	}
	free(b.p);
}
END_TEST

START_TEST(reader_reads_concatenated_gzip_members)
{
	struct mb b = three_packets(), two = { 0 };
	struct pm_packet p;
	pm_reader *r;
	FILE *f;
	char cat[300], *a;
	uint8_t buf[4096];
	size_t n;
	int k = 0;

	/* Split the capture in two gzip members. */
	struct mb h1 = { 0 }, h2 = { 0 };
	mb_put(&h1, b.p, 24 + 116);
	mb_put(&h2, b.p + 24 + 116, b.n - 24 - 116);
	a = save_gzip(&h1);
	f = fopen(a, "rb");
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	mb_put(&two, buf, n);
	a = save_gzip(&h2);
	f = fopen(a, "rb");
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	mb_put(&two, buf, n);
	snprintf(cat, sizeof(cat), "%s", save(two.p, two.n));
	r = ropen(cat);
	while (pm_reader_next(r, &p) == 1)
		k++;
	ck_assert_int_eq(k, 3);
	pm_reader_close(r);
	free(b.p); free(h1.p); free(h2.p); free(two.p);
}
END_TEST

START_TEST(reader_reports_truncated_last_record)
{
	struct mb b = three_packets();
	struct pm_packet p;
	const struct pm_damage *d;
	pm_reader *r;

	/* Cut the third record 30 bytes into its data. */
	r = ropen(save(b.p, 24 + 2 * 116 + 16 + 30));
	ck_assert_int_eq(pm_reader_next(r, &p), 1);
	ck_assert_int_eq(pm_reader_next(r, &p), 1);
	ck_assert_int_eq(pm_reader_next(r, &p), PM_ERR_TRUNCATED);
	d = pm_reader_damage(r);
	ck_assert_uint_eq(d->offset, 24 + 2 * 116);
	ck_assert_uint_eq(d->skipped, 46);
	ck_assert_ptr_nonnull(strstr(pm_reader_geterr(r), "offset 256"));
	ck_assert_int_eq(pm_reader_next(r, &p), 0);
	pm_reader_close(r);
	free(b.p);
}
END_TEST

START_TEST(reader_reports_cut_zstd_stream)
{
	struct mb b = { 0 };
	struct pm_packet p;
	pm_reader *r;
	int i, rc, n = 0, trunc = 0;

	pcap_hdr(&b, 0, 65535, 1);
	for (i = 0; i < 2000; i++) {	/* random bytes: little compression */
		uint8_t d[1000];
		uint32_t x = (uint32_t)i * 2654435761u;
		size_t j;
		for (j = 0; j < sizeof(d); j++) {
			x = x * 1103515245u + 12345u;
			d[j] = (uint8_t)(x >> 24);
		}
		mb_u32(&b, 100); mb_u32(&b, (uint32_t)i);
		mb_u32(&b, 1000); mb_u32(&b, 1000);
		mb_put(&b, d, sizeof(d));
	}
	r = ropen(save_zstd(&b, 1));
	while ((rc = pm_reader_next(r, &p)) != 0) {
		if (rc == PM_ERR_TRUNCATED)
			trunc++;
		else {
			ck_assert_int_eq(rc, 1);
			n++;
		}
	}
	ck_assert_int_ge(trunc, 1);
	ck_assert_int_gt(n, 0);
	ck_assert_int_lt(n, 2000);
	pm_reader_close(r);
	free(b.p);
}
END_TEST

START_TEST(reader_resyncs_after_damaged_pcap_record)
{
	struct mb b = { 0 };
	struct pm_packet p;
	const struct pm_damage *d;
	pm_reader *r;
	int i;

	pcap_hdr(&b, 0, 65535, 1);
	for (i = 0; i < 6; i++) {
		if (i == 3) {
			/* garbage header: caplen 0x7fffffff, then 20 bytes */
			mb_u32(&b, 1); mb_u32(&b, 2); mb_u32(&b, 0x7fffffff);
			mb_u32(&b, 3); mb_put(&b, "xxxxxxxxxxxxxxxxxxxx", 20);
		}
		pcap_rec(&b, 1700000000 + (uint32_t)i, 0, 64, 64, (uint8_t)i);
	}
	r = ropen(save(b.p, b.n));
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(pm_reader_next(r, &p), 1);
		ck_assert_uint_eq(p.data[0], i);
	}
	ck_assert_int_eq(pm_reader_next(r, &p), PM_ERR_DAMAGED);
	d = pm_reader_damage(r);
	ck_assert_uint_eq(d->offset, 24 + 3 * 80);
	ck_assert_uint_eq(d->skipped, 36);
	ck_assert_int_eq(d->resynced, 1);
	for (i = 3; i < 6; i++) {
		ck_assert_int_eq(pm_reader_next(r, &p), 1);
		ck_assert_uint_eq(p.data[0], i);
	}
	ck_assert_int_eq(pm_reader_next(r, &p), 0);
	ck_assert_uint_eq(pm_reader_stats(r)->damaged, 1);
	pm_reader_close(r);
	free(b.p);
}
END_TEST

START_TEST(reader_resyncs_after_damaged_pcapng_block)
{
	struct mb b = { 0 };
	struct pm_packet p;
	pm_reader *r;
	int n = 0, rc, dmg = 0;

	ng_shb(&b);
	ng_idb(&b, 1, 0, 9);
	ng_epb(&b, 0, 1, 60, 60, 1);
	mb_u32(&b, 6); mb_u32(&b, 13);		/* impossible length */
	mb_put(&b, "junkjunkjunk", 12);
	ng_epb(&b, 0, 2, 60, 60, 2);
	ng_epb(&b, 7, 3, 60, 60, 3);		/* undefined interface */
	ng_epb(&b, 0, 4, 60, 60, 4);
	r = ropen(save(b.p, b.n));
	while ((rc = pm_reader_next(r, &p)) != 0) {
		if (rc == PM_ERR_DAMAGED) {
			dmg++;
			continue;
		}
		ck_assert_int_eq(rc, 1);
		n++;
	}
	ck_assert_int_eq(n, 3);
	ck_assert_int_eq(dmg, 2);
	pm_reader_close(r);
	free(b.p);
}
END_TEST

START_TEST(reader_rejects_non_captures)
{
	char eb[PM_ERRBUF_SIZE];
	int err = 0;

	ck_assert_ptr_null(pm_reader_open(save("hello world, not a pcap", 23),
	    0, &err, eb));
	ck_assert_int_eq(err, PM_ERR_FORMAT);
	ck_assert_ptr_nonnull(strstr(eb, "not a capture"));
	ck_assert_ptr_null(pm_reader_open(save("", 0), 0, &err, eb));
	ck_assert_int_eq(err, PM_ERR_FORMAT);
	ck_assert_ptr_null(pm_reader_open(save("\xfd" "7zXZ\0\0\0\0", 10), 0,
	    &err, eb));
	ck_assert_ptr_nonnull(strstr(eb, "xz"));
	ck_assert_ptr_null(pm_reader_open("/nonexistent/x.pcap", 0, &err, eb));
	ck_assert_int_eq(err, PM_ERR_IO);
}
END_TEST

/* ---- merge -------------------------------------------------------------- */

/* A pcap whose packets have the given microsecond stamps; data[0] = tag. */
static char *
stamps(const int *us, int n, uint8_t tag)
{
	struct mb b = { 0 };
	char *s;
	int i;

	pcap_hdr(&b, 0, 65535, 1);
	for (i = 0; i < n; i++)
		pcap_rec(&b, 0, (uint32_t)us[i], 8, 8, tag);
	s = save(b.p, b.n);
	free(b.p);
	return s;
}

static pm_merge *
merge_of(char **paths, int n, size_t max_open)
{
	struct pm_merge_opts o = { .max_open = max_open };
	char eb[PM_ERRBUF_SIZE];
	pm_merge *m = pm_merge_new(&o, eb);
	int i;

	ck_assert_ptr_nonnull(m);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(pm_merge_add(m, paths[i], -1), 0);
	return m;
}

START_TEST(merge_orders_by_time_and_breaks_ties_by_input)
{
	static const int a[] = { 1, 3, 3, 5 }, b[] = { 2, 3, 4, 5 };
	static const int want_t[] = { 1, 2, 3, 3, 3, 4, 5, 5 };
	static const int want_tag[] = { 'a', 'b', 'a', 'a', 'b', 'b', 'a', 'b' };
	char *paths[2], pa[300], pb[300];
	struct pm_packet p;
	pm_merge *m;
	int i;

	snprintf(pa, sizeof(pa), "%s", stamps(a, 4, 'a'));
	snprintf(pb, sizeof(pb), "%s", stamps(b, 4, 'b'));
	paths[0] = pa;
	paths[1] = pb;
	m = merge_of(paths, 2, 0);
	for (i = 0; i < 8; i++) {
		ck_assert_int_eq(pm_merge_next(m, &p), 1);
		ck_assert_int_eq(p.ts, want_t[i] * 1000);
		ck_assert_int_eq(p.data[0], want_tag[i]);
	}
	ck_assert_int_eq(pm_merge_next(m, &p), 0);
	pm_merge_free(m);
}
END_TEST

START_TEST(merge_keeps_unsorted_input_as_it_is)
{
	static const int a[] = { 5, 1, 6 }, b[] = { 2, 3 };
	static const int want[] = { 2, 3, 5, 1, 6 };
	char *paths[2], pa[300], pb[300];
	struct pm_packet p;
	pm_merge *m;
	int i;

	snprintf(pa, sizeof(pa), "%s", stamps(a, 3, 'a'));
	snprintf(pb, sizeof(pb), "%s", stamps(b, 2, 'b'));
	paths[0] = pa;
	paths[1] = pb;
	m = merge_of(paths, 2, 0);
	for (i = 0; i < 5; i++) {
		ck_assert_int_eq(pm_merge_next(m, &p), 1);
		ck_assert_int_eq(p.ts, want[i] * 1000);
	}
	ck_assert_int_eq(pm_merge_next(m, &p), 0);
	ck_assert_uint_eq(pm_merge_input(m, 0)->stats.backwards, 1);
	ck_assert_int_eq(pm_merge_input(m, 0)->stats.max_backwards, 4000);
	pm_merge_free(m);
}
END_TEST

/*
 * A pcapng may declare an interface after its first packet: what the merge
 * says of an input it is still reading must include it (the message about
 * a second linktype names them).
 */
START_TEST(merge_input_facts_follow_an_open_input)
{
	struct mb b = { 0 };
	char *paths[1], pa[300];
	struct pm_packet p;
	pm_merge *m;

	ng_shb(&b);
	ng_idb(&b, 1, 0, -1);
	ng_epb(&b, 0, 1, 20, 20, 0x01);
	ng_idb(&b, 0, 0, -1);
	ng_epb(&b, 1, 2, 20, 20, 0x02);
	snprintf(pa, sizeof(pa), "%s", save(b.p, b.n));
	free(b.p);
	paths[0] = pa;
	m = merge_of(paths, 1, 0);
	ck_assert_int_eq(pm_merge_next(m, &p), 1);
	ck_assert_int_eq(pm_merge_input(m, 0)->mixed_linktypes, 0);
	ck_assert_int_eq(pm_merge_next(m, &p), 1);
	ck_assert_uint_eq(p.linktype, 0);
	ck_assert_int_eq(pm_merge_input(m, 0)->mixed_linktypes, 1);
	ck_assert_uint_eq(pm_merge_input(m, 0)->nlinktypes, 2);
	ck_assert_uint_eq(pm_merge_input(m, 0)->linktypes[1], 0);
	ck_assert_uint_eq(pm_merge_input(m, 0)->stats.packets, 2);
	ck_assert_str_eq(pm_merge_input_name(m, 0), pa);
	ck_assert_ptr_null(pm_merge_input_name(m, 1));
	ck_assert_int_eq(pm_merge_next(m, &p), 0);
	pm_merge_free(m);
}
END_TEST

START_TEST(merge_in_passes_equals_single_pass)
{
	enum { N = 23 };
	static char names[N][300];
	char *paths[N];
	struct pm_packet p, q;
	pm_merge *one, *many;
	int i, j, rc;

	for (i = 0; i < N; i++) {
		int us[5];
		for (j = 0; j < 5; j++)	/* many ties, some disorder */
			us[j] = (i * 7 + j * 3) % 11 + (j == 2 ? -3 : 0) + 5;
		snprintf(names[i], sizeof(names[i]), "%s",
		    stamps(us, 5, (uint8_t)i));
		paths[i] = names[i];
	}
	one = merge_of(paths, N, 0);
	many = merge_of(paths, N, 4);
	for (i = 0; ; i++) {
		rc = pm_merge_next(one, &p);
		ck_assert_int_eq(pm_merge_next(many, &q), rc);
		if (rc == 0)
			break;
		ck_assert_int_eq(p.ts, q.ts);
		ck_assert_int_eq(p.data[0], q.data[0]);
	}
	ck_assert_int_eq(i, N * 5);
	ck_assert_uint_gt(pm_merge_passes(many), 2);
	pm_merge_free(one);
	pm_merge_free(many);
}
END_TEST

/*
 * pm_scan: what the workers' function posts arrives in exactly the order of
 * one pm_merge over all inputs, whatever the number of workers; the
 * stream's statistics are one merge's; a function's error stops the scan
 * at its packet, after every note before it.
 */
struct scan_seen {
	int fail_at;		/* stop at this tag's packet index 7; -1: never */
	pm_scan *s;
};

struct scan_note {
	int64_t ts;
	uint64_t index;
	size_t input;
	uint8_t tag;
};

static int
scan_fn(void *arg, const struct pm_scan_packet *p, char *errbuf)
{
	struct scan_seen *seen = arg;
	pm_scan *s = seen->s;
	struct scan_note n;

	memset(&n, 0, sizeof(n));
	n.ts = p->pkt.ts;
	n.index = p->index;
	n.input = p->input;
	n.tag = p->pkt.data[0];
	/* No ck_assert here: Check's asserts are for the test's thread. */
	if (pm_scan_note(s, p->lane, &n, sizeof(n)) != 0) {
		snprintf(errbuf, PM_ERRBUF_SIZE, "pm_scan_note failed");
		return -1;
	}
	if (n.tag == seen->fail_at && p->index == 7) {
		snprintf(errbuf, PM_ERRBUF_SIZE, "stopped at %d", n.tag);
		return -42;
	}
	return 0;
}

enum { SCAN_N = 23, SCAN_PKTS = 1500 };

static char scan_names[SCAN_N][300];

static void
scan_inputs(char **paths)
{
	static int us[SCAN_PKTS];
	int i, j;

	for (i = 0; i < SCAN_N; i++) {
		for (j = 0; j < SCAN_PKTS; j++)	/* many ties, some disorder */
			us[j] = j * 4 + (i * 7 + j * 3) % 11 +
			    (j % 97 == 2 ? -30 : 0) + 50;
		snprintf(scan_names[i], sizeof(scan_names[i]), "%s",
		    stamps(us, SCAN_PKTS, (uint8_t)i));
		paths[i] = scan_names[i];
	}
}

static pm_scan *
scan_of(char **paths, int n, unsigned workers, struct scan_seen *seen)
{
	struct pm_scan_opts o = { .workers = workers, .packet = scan_fn,
	    .arg = seen };
	char eb[PM_ERRBUF_SIZE];
	pm_scan *s = pm_scan_new(&o, eb);
	int i;

	ck_assert_ptr_nonnull(s);
	seen->s = s;
	for (i = 0; i < n; i++)
		ck_assert_int_eq(pm_scan_add(s, paths[i], -1), 0);
	ck_assert_int_eq(pm_scan_start(s), 0);
	return s;
}

/* The scan's stream statistics are those one merge counted (want). */
static void
assert_one_merge_stats(const pm_scan *s, const struct pm_reader_stats *want)
{
	const struct pm_reader_stats *got = pm_scan_stats(s);

	ck_assert_ptr_nonnull(got);
	ck_assert_uint_eq(got->packets, want->packets);
	ck_assert_uint_eq(got->caplen_bytes, want->caplen_bytes);
	ck_assert_uint_eq(got->wire_bytes, want->wire_bytes);
	ck_assert_int_eq(got->ts_min, want->ts_min);
	ck_assert_int_eq(got->ts_max, want->ts_max);
	ck_assert_int_eq(got->max_gap, want->max_gap);
	ck_assert_int_eq(got->last_ts, want->last_ts);
	ck_assert_uint_eq(got->backwards, want->backwards);
	ck_assert_int_eq(got->max_backwards, want->max_backwards);
}

START_TEST(scan_notes_arrive_in_one_merge_order)
{
	static const unsigned workers[] = { 1, 2, 3, 5, 8, 23, 40 };
	char *paths[SCAN_N];
	struct scan_seen seen;
	struct pm_reader_stats want = { 0 };
	struct pm_scan_event ev;
	struct pm_packet p;
	uint64_t idx[SCAN_N];
	pm_merge *one;
	size_t w, n, bad;
	int rc;

	scan_inputs(paths);
	for (w = 0; w < sizeof(workers) / sizeof(workers[0]); w++) {
		seen.fail_at = -1;
		scan_of(paths, SCAN_N, workers[w], &seen);
		ck_assert_uint_eq(pm_scan_workers(seen.s),
		    workers[w] < SCAN_N ? workers[w] : SCAN_N);
		one = merge_of(paths, SCAN_N, 0);
		memset(idx, 0, sizeof(idx));
		memset(&want, 0, sizeof(want));
		/* Asserts once per run, not per packet (each costs a write). */
		bad = 0;
		for (n = 0; (rc = pm_scan_next(seen.s, &ev)) == 1; n++) {
			const struct scan_note *sn = ev.data;

			if (ev.kind != PM_SCAN_NOTE || ev.len != sizeof(*sn) ||
			    pm_merge_next(one, &p) != 1) {
				bad++;
				break;
			}
			pm_stats_add(&want, &p);
			if (sn->ts != p.ts || sn->tag != p.data[0] ||
			    sn->input != pm_merge_last_input(one) ||
			    sn->index != ++idx[sn->input])
				bad++;
		}
		ck_assert_uint_eq(bad, 0);
		ck_assert_int_eq(rc, 0);
		ck_assert_int_eq(pm_merge_next(one, &p), 0);
		ck_assert_uint_eq(n, SCAN_N * SCAN_PKTS);
		assert_one_merge_stats(seen.s, &want);
		ck_assert_uint_eq(pm_scan_input(seen.s, 4)->stats.packets,
		    SCAN_PKTS);
		ck_assert_str_eq(pm_scan_input_name(seen.s, 4), paths[4]);
		ck_assert_int_eq(pm_scan_next(seen.s, &ev), 0);
		pm_merge_free(one);
		pm_scan_free(seen.s);
	}
}
END_TEST

/*
 * The same without a note at every packet: the caller's thread then takes
 * the lanes' times in bursts (libmerge/scan.c: burst) between the few
 * notes, across the lanes' chunk boundaries (40,000 packets a lane is more
 * than a chunk), and the stream's statistics and the notes' order must
 * still be one merge's.
 */
static int
sparse_fn(void *arg, const struct pm_scan_packet *p, char *errbuf)
{
	struct scan_seen *seen = arg;
	struct scan_note n;

	if (p->index % 7919 != 0 && p->index != 39999)
		return 0;
	memset(&n, 0, sizeof(n));
	n.ts = p->pkt.ts;
	n.index = p->index;
	n.input = p->input;
	if (pm_scan_note(seen->s, p->lane, &n, sizeof(n)) != 0) {
		snprintf(errbuf, PM_ERRBUF_SIZE, "pm_scan_note failed");
		return -1;
	}
	return 0;
}

enum { SPARSE_N = 6, SPARSE_PKTS = 40000 };

START_TEST(scan_stream_stats_without_notes_are_one_merge)
{
	static const unsigned workers[] = { 1, 2, 3, 8 };
	static char names[SPARSE_N][300];
	static int us[SPARSE_PKTS];
	char *paths[SPARSE_N];
	struct scan_seen seen = { .fail_at = -1 };
	struct pm_reader_stats want = { 0 };
	struct pm_scan_event ev;
	struct pm_packet p;
	uint64_t idx[SPARSE_N];
	size_t w, i, nnotes, bad;
	int j, rc;

	for (i = 0; i < SPARSE_N; i++) {
		/* one by one, ties across files, steps back, a long gap */
		for (j = 0; j < SPARSE_PKTS; j++)
			us[j] = j * 6 + (int)((i * 5 + (size_t)j * 7) % 13) +
			    (j % 7 == 3 ? -40 : 0) + (j >= 30000 ?
			    (int)i * 1000 + 500000 : 0) + 100;
		snprintf(names[i], sizeof(names[i]), "%s",
		    stamps(us, SPARSE_PKTS, (uint8_t)i));
		paths[i] = names[i];
	}
	for (w = 0; w < sizeof(workers) / sizeof(workers[0]); w++) {
		struct pm_scan_opts o = { .workers = workers[w],
		    .packet = sparse_fn, .arg = &seen };
		char eb[PM_ERRBUF_SIZE];
		pm_merge *one = merge_of(paths, SPARSE_N, 0);

		ck_assert_ptr_nonnull(seen.s = pm_scan_new(&o, eb));
		for (i = 0; i < SPARSE_N; i++)
			ck_assert_int_eq(pm_scan_add(seen.s, paths[i], -1), 0);
		ck_assert_int_eq(pm_scan_start(seen.s), 0);
		memset(idx, 0, sizeof(idx));
		memset(&want, 0, sizeof(want));
		bad = nnotes = 0;
		while ((rc = pm_scan_next(seen.s, &ev)) == 1) {
			const struct scan_note *sn = ev.data;
			size_t in = 0;

			if (ev.kind != PM_SCAN_NOTE || ev.len != sizeof(*sn)) {
				bad++;
				break;
			}
			nnotes++;
			/* one merge up to the noted packet: it must be next
			 * of those noted */
			for (;;) {
				if (pm_merge_next(one, &p) != 1) {
					bad++;
					break;
				}
				pm_stats_add(&want, &p);
				in = pm_merge_last_input(one);
				++idx[in];
				if (idx[in] % 7919 == 0 || idx[in] == 39999)
					break;
			}
			if (sn->ts != p.ts || sn->input != in ||
			    sn->index != idx[in])
				bad++;
		}
		while (pm_merge_next(one, &p) == 1)
			pm_stats_add(&want, &p);
		ck_assert_uint_eq(bad, 0);
		ck_assert_int_eq(rc, 0);
		/* 5 multiples of 7,919 below 40,000, and 39,999, per input */
		ck_assert_uint_eq(nnotes, SPARSE_N * 6);
		ck_assert_uint_eq(want.packets, SPARSE_N * SPARSE_PKTS);
		ck_assert_uint_gt(want.backwards, 0);
		assert_one_merge_stats(seen.s, &want);
		pm_merge_free(one);
		pm_scan_free(seen.s);
	}
}
END_TEST

/*
 * pm_scan's lanes: the function is never called on two threads at once
 * for one lane, and a thread that runs slower (here it sleeps) fills fewer
 * chunks, the other taking its lanes, where one fixed run per thread left
 * it half the work.
 */
enum { SLOW_N = 4, SLOW_PKTS = 160000 };

struct slow_seen {
	size_t nl;
	atomic_uintptr_t slow;		/* the first thread to call */
	atomic_ulong n[2];		/* packets: other threads, slow one */
	atomic_int busy[2 * SLOW_N];
	atomic_int overlap, badlane;
};

static int
slow_fn(void *arg, const struct pm_scan_packet *p, char *errbuf)
{
	struct slow_seen *v = arg;
	uintptr_t me = (uintptr_t)pthread_self(), none = 0;
	int slow;

	(void)errbuf;
	if (p->lane >= v->nl) {
		atomic_fetch_add(&v->badlane, 1);
		return 0;
	}
	if (atomic_fetch_add(&v->busy[p->lane], 1) != 0)
		atomic_fetch_add(&v->overlap, 1);
	atomic_compare_exchange_strong(&v->slow, &none, me);
	slow = atomic_load(&v->slow) == me;
	atomic_fetch_add(&v->n[slow], 1);
	if (slow && p->index % 500 == 0)
		usleep(2000);
	atomic_fetch_sub(&v->busy[p->lane], 1);
	return 0;
}

START_TEST(scan_lanes_go_to_the_faster_thread)
{
	static int us[SLOW_PKTS];
	static char names[SLOW_N][300];
	struct pm_scan_opts o = { .workers = 2, .packet = slow_fn };
	struct slow_seen v;
	struct pm_scan_event ev;
	char eb[PM_ERRBUF_SIZE];
	unsigned long total, slow;
	pm_scan *s;
	int i, j, rc;

	memset(&v, 0, sizeof(v));
	o.arg = &v;
	ck_assert_ptr_nonnull(s = pm_scan_new(&o, eb));
	for (i = 0; i < SLOW_N; i++) {
		for (j = 0; j < SLOW_PKTS; j++)
			us[j] = j * 20 + i;
		snprintf(names[i], sizeof(names[i]), "%s",
		    stamps(us, SLOW_PKTS, (uint8_t)i));
		ck_assert_int_eq(pm_scan_add(s, names[i], -1), 0);
	}
	v.nl = pm_scan_lanes(s);
	ck_assert_uint_eq(v.nl, 4);
	ck_assert_int_eq(pm_scan_start(s), 0);
	ck_assert_uint_eq(pm_scan_lanes(s), v.nl);
	ck_assert_uint_eq(pm_scan_workers(s), 2);
	while ((rc = pm_scan_next(s, &ev)) == 1)
		;
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(pm_scan_stats(s)->packets, SLOW_N * SLOW_PKTS);
	pm_scan_free(s);
	slow = atomic_load(&v.n[1]);
	total = atomic_load(&v.n[0]) + slow;
	ck_assert_uint_eq(total, SLOW_N * SLOW_PKTS);
	ck_assert_int_eq(atomic_load(&v.overlap), 0);
	ck_assert_int_eq(atomic_load(&v.badlane), 0);
	/* 20 chunks of 32,768 packets; the sleeper takes 4 us a packet, more
	 * than a packet costs the other thread even under TSan */
	ck_assert_uint_lt(slow, total * 35 / 100);
}
END_TEST

START_TEST(scan_stops_at_the_packet_a_function_fails)
{
	char *paths[SCAN_N];
	struct scan_seen seen;
	struct pm_scan_event ev;
	struct pm_packet p;
	pm_merge *one;
	size_t n, bad;
	int rc;

	scan_inputs(paths);
	seen.fail_at = 17;
	scan_of(paths, SCAN_N, 4, &seen);
	one = merge_of(paths, SCAN_N, 0);
	bad = 0;
	for (n = 0; (rc = pm_scan_next(seen.s, &ev)) == 1; n++) {
		const struct scan_note *sn = ev.data;

		if (pm_merge_next(one, &p) != 1 || sn->ts != p.ts ||
		    sn->tag != p.data[0])
			bad++;
	}
	ck_assert_uint_eq(bad, 0);
	/* every packet before input 17's seventh, in order, then the stop */
	ck_assert_int_eq(rc, -42);
	ck_assert_int_eq(ev.kind, PM_SCAN_ERROR);
	ck_assert_uint_eq(ev.input, 17);
	ck_assert_str_eq(ev.name, paths[17]);
	ck_assert_str_eq(ev.text, "stopped at 17");
	ck_assert_int_eq(pm_merge_next(one, &p), 1);
	ck_assert_uint_eq(p.data[0], 17);
	ck_assert_uint_eq(pm_merge_last_input(one), 17);
	ck_assert_int_eq(pm_scan_next(seen.s, &ev), -42);
	ck_assert_str_eq(ev.text, "stopped at 17");
	ck_assert_ptr_null(pm_scan_stats(seen.s));
	pm_merge_free(one);
	pm_scan_free(seen.s);
}
END_TEST

START_TEST(scan_reports_damage_and_goes_on)
{
	struct mb b = three_packets();
	char *paths[3], pa[300], pb[300], pc[300];
	struct scan_seen seen;
	struct pm_scan_event ev;
	static const int a[] = { 0, 1, 2, 3 };
	unsigned w;
	int rc, notes, dmg;

	snprintf(pa, sizeof(pa), "%s", stamps(a, 4, 'a'));
	snprintf(pb, sizeof(pb), "%s", save(b.p, b.n - 50));
	snprintf(pc, sizeof(pc), "%s", stamps(a, 4, 'c'));
	paths[0] = pa;
	paths[1] = pb;
	paths[2] = pc;
	for (w = 1; w <= 3; w++) {
		seen.fail_at = -1;
		scan_of(paths, 3, w, &seen);
		notes = dmg = 0;
		while ((rc = pm_scan_next(seen.s, &ev)) == 1)
			if (ev.kind == PM_SCAN_DAMAGE) {
				ck_assert_int_eq(ev.err, PM_ERR_TRUNCATED);
				ck_assert_uint_eq(ev.input, 1);
				ck_assert_str_eq(ev.name, pb);
				ck_assert_ptr_nonnull(ev.text);
				dmg++;
			} else {
				notes++;
			}
		ck_assert_int_eq(rc, 0);
		ck_assert_int_eq(notes, 4 + 2 + 4);
		ck_assert_int_eq(dmg, 1);
		ck_assert_uint_eq(pm_scan_stats(seen.s)->packets, 10);
		pm_scan_free(seen.s);
	}
	free(b.p);
}
END_TEST

START_TEST(merge_keeps_packets_before_damage)
{
	struct mb b = three_packets();
	static const int a[] = { 0, 1, 2, 3 };
	char *paths[2], pa[300], pb[300];
	struct pm_packet p;
	pm_merge *m;
	int rc, n = 0, dmg = 0;

	snprintf(pa, sizeof(pa), "%s", save(b.p, b.n - 50));
	snprintf(pb, sizeof(pb), "%s", stamps(a, 4, 'b'));
	paths[0] = pa;
	paths[1] = pb;
	m = merge_of(paths, 2, 0);
	while ((rc = pm_merge_next(m, &p)) != 0) {
		if (rc == PM_ERR_TRUNCATED) {
			ck_assert_uint_eq(pm_merge_failed(m), 0);
			dmg++;
			continue;
		}
		ck_assert_int_eq(rc, 1);
		n++;
	}
	ck_assert_int_eq(n, 2 + 4);
	ck_assert_int_eq(dmg, 1);
	pm_merge_free(m);
	free(b.p);
}
END_TEST

START_TEST(merge_reports_unopenable_input_and_goes_on)
{
	static const int a[] = { 1, 2 };
	char *paths[2], pa[300];
	struct pm_packet p;
	pm_merge *m;
	int n = 0, rc;

	snprintf(pa, sizeof(pa), "%s", stamps(a, 2, 'a'));
	paths[0] = (char *)"/nonexistent/file.pcap";
	paths[1] = pa;
	m = merge_of(paths, 2, 0);
	ck_assert_int_eq(pm_merge_next(m, &p), PM_ERR_INPUT);
	ck_assert_uint_eq(pm_merge_failed(m), 0);
	while ((rc = pm_merge_next(m, &p)) == 1)
		n++;
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(n, 2);
	pm_merge_free(m);
}
END_TEST

START_TEST(concatenation_keeps_input_order)
{
	static const int a[] = { 5, 6 }, b[] = { 1, 2 };
	char *paths[2], pa[300], pb[300];
	struct pm_merge_opts o = { .concatenate = 1 };
	struct pm_packet p;
	char eb[PM_ERRBUF_SIZE];
	pm_merge *m = pm_merge_new(&o, eb);
	static const int want[] = { 5, 6, 1, 2 };
	int i;

	snprintf(pa, sizeof(pa), "%s", stamps(a, 2, 'a'));
	snprintf(pb, sizeof(pb), "%s", stamps(b, 2, 'b'));
	paths[0] = pa;
	paths[1] = pb;
	pm_merge_add(m, paths[0], -1);
	pm_merge_add(m, paths[1], -1);
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(pm_merge_next(m, &p), 1);
		ck_assert_int_eq(p.ts, want[i] * 1000);
	}
	ck_assert_int_eq(pm_merge_next(m, &p), 0);
	pm_merge_free(m);
}
END_TEST

/* ---- writers, read back by libpcap --------------------------------------- */

static char *
write_capture(enum pm_format fmt, int nano, uint32_t snaplen,
    enum pm_compression comp)
{
	struct pm_writer_opts o = { .format = fmt, .nano = nano,
	    .snaplen = snaplen, .linktype = 1, .appname = "unit",
	    .compression = comp };
	static char path[300];
	char eb[PM_ERRBUF_SIZE];
	uint8_t d[1500];
	struct pm_packet p = { .linktype = 1, .data = d };
	pm_writer *w;
	int fd, i;

	snprintf(path, sizeof(path), "%s/w%d", tmpdir, tmpn++);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	w = pm_writer_open(fd, &o, NULL, eb);
	ck_assert_ptr_nonnull(w);
	for (i = 0; i < 10; i++) {
		memset(d, i, sizeof(d));
		p.ts = 1700000000123456789LL + i;
		p.caplen = (uint32_t)(100 + i * 100);
		p.len = 1500;
		ck_assert_int_eq(pm_writer_write(w, &p), 0);
	}
	ck_assert_int_eq(pm_writer_finish(w), 0);
	pm_writer_close(w);
	ck_assert_int_eq(close(fd), 0);
	return path;
}

static void
check_with_libpcap(const char *path, int nano)
{
	char eb[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *d;
	pcap_t *pc;
	int i = 0;

	pc = pcap_open_offline_with_tstamp_precision(path,
	    PCAP_TSTAMP_PRECISION_NANO, eb);
	ck_assert_msg(pc != NULL, "%s", eb);
	ck_assert_int_eq(pcap_datalink(pc), 1);
	while (pcap_next_ex(pc, &h, &d) == 1) {
		ck_assert_int_eq(h->ts.tv_sec, 1700000000);
		ck_assert_int_eq(h->ts.tv_usec, nano ? 123456789 + i : 123456000);
		/* no record is cut, even above the requested snaplen */
		ck_assert_uint_eq(h->caplen, 100 + i * 100);
		ck_assert_uint_eq(h->len, 1500);
		ck_assert_uint_eq(d[h->caplen - 1], i);
		i++;
	}
	ck_assert_int_eq(i, 10);
	pcap_close(pc);
}

START_TEST(pcap_writer_is_read_back_by_libpcap)
{
	check_with_libpcap(write_capture(PM_FMT_PCAP, 0, 65535, PM_COMP_NONE), 0);
	check_with_libpcap(write_capture(PM_FMT_PCAP, 1, 65535, PM_COMP_NONE), 1);
	/* caplens above the snaplen: the header is raised to fit them */
	check_with_libpcap(write_capture(PM_FMT_PCAP, 1, 200, PM_COMP_NONE), 1);
}
END_TEST

START_TEST(pcapng_writer_is_read_back_by_libpcap)
{
	check_with_libpcap(write_capture(PM_FMT_PCAPNG, 1, 0, PM_COMP_NONE), 1);
	check_with_libpcap(write_capture(PM_FMT_PCAPNG, 0, 0, PM_COMP_NONE), 0);
}
END_TEST

START_TEST(zstd_and_gzip_writers_are_read_back)
{
	static const enum pm_compression comp[] = { PM_COMP_ZSTD,
	    PM_COMP_GZIP };
	struct pm_packet p;
	int n, i;

	for (i = 0; i < 2; i++) {
		pm_reader *r = ropen(write_capture(PM_FMT_PCAPNG, 1, 0,
		    comp[i]));
		ck_assert_int_eq(pm_reader_compression(r), comp[i]);
		for (n = 0; pm_reader_next(r, &p) == 1; n++) {
			ck_assert_int_eq(p.ts, 1700000000123456789LL + n);
			ck_assert_uint_eq(p.caplen, 100 + n * 100);
		}
		ck_assert_int_eq(n, 10);
		pm_reader_close(r);
	}
}
END_TEST

/* ---- checksums ----------------------------------------------------------- */

static uint32_t
crc_bitwise(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	int k;

	while (n-- > 0) {
		c ^= *p++;
		for (k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
	}
	return ~c;
}

/*
 * CRC-32C: the published check value, and every length and alignment
 * around the three-stream blocks against a bit-by-bit reference, in one
 * call and in two.
 */
START_TEST(crc32c_matches_the_reference)
{
	static const size_t lens[] = { 0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65,
	    255, 256, 257, 319, 320, 335, 511, 512, 513, 767, 768, 769,
	    3 * 256 + 13, 8191, 24575, 24576, 24577, 3 * 8192 * 2 + 5,
	    100000 };
	uint8_t *b = malloc(100008);
	size_t i, off, half;
	int path;

	ck_assert_uint_eq(pm_crc32c(0, "123456789", 9), 0xe3069283u);
	for (i = 0; i < 100008; i++)
		b[i] = (uint8_t)(i * 2654435761u >> 13);
	/* every way this CPU has: tables, crc32, carry-less multiplies */
	for (path = 0; path <= 2; path++)
		for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
			for (off = 0; off < 8; off += 3) {
				uint32_t want = crc_bitwise(b + off, lens[i]);
				half = lens[i] / 3;
				ck_assert_uint_eq(pm_crc32c_path(path, 0,
				    b + off, lens[i]), want);
				ck_assert_uint_eq(pm_crc32c_path(path,
				    pm_crc32c_path(path, 0, b + off, half),
				    b + off + half, lens[i] - half), want);
			}
	ck_assert_uint_eq(pm_crc32c(0, b, 100000), crc_bitwise(b, 100000));
	free(b);
}
END_TEST

/*
 * pm_merge_opts.checksum: each input's CRC-32C is that of the file's own
 * bytes (compressed ones as stored), once it is read to its end, also
 * through temporary-file passes; without the option, none.
 */
START_TEST(merge_checksums_each_input_file)
{
	struct mb b = three_packets();
	char *paths[3], *bytes[3];
	size_t sizes[3];
	struct pm_merge_opts o = { .checksum = 1, .max_open = 2 };
	char eb[PM_ERRBUF_SIZE];
	struct pm_packet p;
	pm_merge *m;
	int i, pass;

	for (i = 0; i < 3; i++) {
		FILE *f;
		paths[i] = strdup(i == 0 ? save(b.p, b.n) : i == 1 ?
		    save_gzip(&b) : save_zstd(&b, 0));
		f = fopen(paths[i], "rb");
		bytes[i] = malloc(1 << 16);
		sizes[i] = fread(bytes[i], 1, 1 << 16, f);
		fclose(f);
	}
	for (pass = 0; pass < 2; pass++) {
		o.max_open = pass == 0 ? 0 : 2;
		ck_assert_ptr_nonnull(m = pm_merge_new(&o, eb));
		for (i = 0; i < 3; i++)
			ck_assert_int_eq(pm_merge_add(m, paths[i], -1), 0);
		ck_assert_int_eq(pm_merge_input(m, 0)->checksummed, 0);
		while (pm_merge_next(m, &p) == 1)
			;
		for (i = 0; i < 3; i++) {
			const struct pm_input_info *f = pm_merge_input(m, i);
			ck_assert_int_eq(f->checksummed, 1);
			ck_assert_uint_eq(f->crc32c, pm_crc32c(0, bytes[i],
			    sizes[i]));
			ck_assert_uint_eq(f->stats.bytes_in, sizes[i]);
		}
		pm_merge_free(m);
	}
	o.checksum = 0;
	ck_assert_ptr_nonnull(m = pm_merge_new(&o, eb));
	ck_assert_int_eq(pm_merge_add(m, paths[0], -1), 0);
	while (pm_merge_next(m, &p) == 1)
		;
	ck_assert_int_eq(pm_merge_input(m, 0)->checksummed, 0);
	pm_merge_free(m);
	for (i = 0; i < 3; i++) {
		free(paths[i]);
		free(bytes[i]);
	}
	free(b.p);
}
END_TEST

START_TEST(pcap_writer_refuses_a_second_linktype)
{
	struct pm_writer_opts o = { .format = PM_FMT_PCAP, .snaplen = 100,
	    .linktype = 1 };
	uint8_t d[4] = { 0 };
	struct pm_packet p = { .linktype = 101, .caplen = 4, .len = 4,
	    .data = d };
	char eb[PM_ERRBUF_SIZE];
	int fd = open("/dev/null", O_WRONLY);
	pm_writer *w = pm_writer_open(fd, &o, NULL, eb);

	ck_assert_int_eq(pm_writer_write(w, &p), PM_ERR_LINKTYPE);
	pm_writer_close(w);
	close(fd);
}
END_TEST

/*
 * A time the format cannot hold is written at its nearest end and
 * counted: before 1970 in both formats, after 2106 in pcap's 32-bit
 * seconds; pcapng's 64-bit nanoseconds hold INT64_MAX.
 */
START_TEST(writer_holds_and_counts_times_the_format_cannot_hold)
{
	static const int64_t in[3] = { -5, 1000000000000000000, INT64_MAX };
	const int64_t pcap_max = (int64_t)UINT32_MAX * 1000000000 + 999999999;
	enum pm_format fmt = _i ? PM_FMT_PCAPNG : PM_FMT_PCAP;
	struct pm_writer_opts o = { .format = fmt, .nano = 1,
	    .snaplen = 100, .linktype = 1 };
	uint8_t d[20] = { 0 };
	struct pm_packet p = { .linktype = 1, .caplen = 20, .len = 20,
	    .data = d };
	char path[] = "/tmp/pcapkit-held.XXXXXX", eb[PM_ERRBUF_SIZE];
	int fd = mkstemp(path), err, i;
	pm_writer *w;
	pm_reader *r;

	ck_assert_int_ge(fd, 0);
	w = pm_writer_open(fd, &o, NULL, eb);
	ck_assert_ptr_nonnull(w);
	for (i = 0; i < 3; i++) {
		p.ts = in[i];
		ck_assert_int_eq(pm_writer_write(w, &p), 0);
	}
	ck_assert_int_eq(pm_writer_finish(w), 0);
	ck_assert_uint_eq(pm_writer_times_held(w), fmt == PM_FMT_PCAP ? 2 : 1);
	pm_writer_close(w);
	close(fd);
	r = pm_reader_open(path, 0, &err, eb);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(pm_reader_next(r, &p), 1);
	ck_assert_int_eq(p.ts, 0);
	ck_assert_int_eq(pm_reader_next(r, &p), 1);
	ck_assert_int_eq(p.ts, in[1]);
	ck_assert_int_eq(pm_reader_next(r, &p), 1);
	ck_assert_int_eq(p.ts, fmt == PM_FMT_PCAP ? pcap_max : INT64_MAX);
	ck_assert_int_eq(pm_reader_next(r, &p), 0);
	pm_reader_close(r);
	unlink(path);
}
END_TEST

START_TEST(writer_reports_a_full_disk)
{
	struct pm_writer_opts o = { .format = PM_FMT_PCAP, .snaplen = 100,
	    .linktype = 1 };
	uint8_t d[1000] = { 0 };
	struct pm_packet p = { .linktype = 1, .caplen = 1000, .len = 1000,
	    .data = d };
	char eb[PM_ERRBUF_SIZE];
	int fd = open("/dev/full", O_WRONLY), i, rc = 0;
	pm_writer *w;

	if (fd < 0)
		return;
	w = pm_writer_open(fd, &o, NULL, eb);
	ck_assert_ptr_nonnull(w);
	for (i = 0; i < 1000 && rc == 0; i++)
		rc = pm_writer_write(w, &p);
	if (rc == 0)
		rc = pm_writer_finish(w);
	ck_assert_int_eq(rc, PM_ERR_IO);
	ck_assert_ptr_nonnull(strstr(pm_writer_geterr(w), "No space"));
	pm_writer_close(w);
	close(fd);
}
END_TEST

/* ---- borrowing writer ------------------------------------------------------ */

/*
 * Five inputs in every layout the reader has (LE/BE, micro/nano, pcapng),
 * records of 0 to 1999 bytes whose bytes tell them apart, timestamps that
 * interleave and tie, and in the first file two records of 100,000 bytes,
 * larger than the merge's read buffers (which then grow, out of the
 * merge's arena where they were slices of it).
 */
static void
borrow_inputs(char names[5][300])
{
	int f, i;

	for (f = 0; f < 5; f++) {
		struct mb b = { 0 };

		b.big = f == 1;
		if (f == 4) {
			ng_shb(&b);
			ng_idb(&b, 1, 0, 9);
		} else {
			pcap_hdr(&b, f == 2, 65535, 1);
		}
		for (i = 0; i < 700; i++) {
			uint32_t us = (uint32_t)(i * 5 + f * 2 % 7);
			uint32_t cl = (uint32_t)((i * 37 + f * 101) % 2000);
			uint8_t fill = (uint8_t)(f * 50 + i);

			if (f == 4) {
				ng_epb(&b, 0, 1000000000ull + us * 1000ull,
				    cl, 2000, fill);
			} else if (f == 0 && (i == 100 || i == 101)) {
				static uint8_t big[100000];
				memset(big, fill, sizeof(big));
				mb_u32(&b, 1); mb_u32(&b, us);
				mb_u32(&b, sizeof(big)); mb_u32(&b, 100000);
				mb_put(&b, big, sizeof(big));
			} else
				pcap_rec(&b, 1, f == 2 ? us * 1000 : us, cl,
				    2000, fill);
		}
		snprintf(names[f], 300, "%s", save(b.p, b.n));
		free(b.p);
	}
}

/*
 * Merge the inputs into path with write or write_ref (attached), cutting
 * every third packet to 40 bytes as -s does.
 */
static void
borrow_run(char **paths, const struct pm_merge_opts *mo, enum pm_format fmt,
    int nano, int borrow, const char *path)
{
	struct pm_writer_opts wo = { .format = fmt, .nano = nano,
	    .snaplen = 65535, .linktype = 1 };
	char eb[PM_ERRBUF_SIZE];
	struct pm_packet p;
	pm_merge *m = pm_merge_new(mo, eb);
	pm_writer *w;
	int fd, i, rc, n = 0;

	ck_assert_ptr_nonnull(m);
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(pm_merge_add(m, paths[i], -1), 0);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	w = pm_writer_open(fd, &wo, NULL, eb);
	ck_assert_ptr_nonnull(w);
	if (borrow) {
		pm_merge_attach(m, w);
		pm_writer_set_mode(w, 1, 0);	/* into a file, too */
	}
	while ((rc = pm_merge_next(m, &p)) == 1) {
		if (n++ % 3 == 0 && p.caplen > 40)
			p.caplen = 40;
		rc = borrow ? pm_writer_write_ref(w, &p) :
		    pm_writer_write(w, &p);
		ck_assert_int_eq(rc, 0);
	}
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(n, 5 * 700);
	ck_assert_int_eq(pm_writer_finish(w), 0);
	/* alternate which one goes first: the link goes with either */
	if (borrow && (fmt + nano) % 2) {
		pm_merge_free(m);
		pm_writer_close(w);
	} else {
		pm_writer_close(w);
		pm_merge_free(m);
	}
	ck_assert_int_eq(close(fd), 0);
}

/* (one ck_assert per byte would be one write(2) each: Check logs them) */
static void
assert_same_file(const char *a, const char *b)
{
	FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
	static uint8_t ba[65536], bb[65536];
	size_t na, nb, i;
	long off = 0;

	ck_assert_ptr_nonnull(fa);
	ck_assert_ptr_nonnull(fb);
	do {
		na = fread(ba, 1, sizeof(ba), fa);
		nb = fread(bb, 1, sizeof(bb), fb);
		if (na != nb || memcmp(ba, bb, na) != 0) {
			for (i = 0; i < na && i < nb && ba[i] == bb[i]; i++)
				;
			ck_abort_msg("%s and %s differ at byte %ld", a, b,
			    off + (long)i);
		}
		off += (long)na;
	} while (na > 0);
	ck_assert_int_gt(off, 1000);
	fclose(fa);
	fclose(fb);
}

START_TEST(borrowing_writer_writes_what_copying_writer_writes)
{
	static char names[5][300];
	/* 8 KiB buffers: releases every few records (the copy path);
	 * 64 KiB and 1 MiB: the write path, buffers in the huge-page
	 * arena (64 KiB ones grow out of it); max_open 2: temporary passes
	 * borrow too */
	static const struct pm_merge_opts mos[] = {
		{ .buffer_budget = 5 * 8192 },
		{ .buffer_budget = 5 * 65536 },
		{ .buffer_budget = 5u << 20 },
		{ .buffer_budget = 5 * 8192, .max_open = 2 },
	};
	static const struct { enum pm_format fmt; int nano; } outs[] = {
		{ PM_FMT_PCAP, 0 }, { PM_FMT_PCAP, 1 }, { PM_FMT_PCAPNG, 1 },
		{ PM_FMT_PCAPNG, 0 },
	};
	char *paths[5], a[300], b[300];
	size_t i, j;

	borrow_inputs(names);
	for (i = 0; i < 5; i++)
		paths[i] = names[i];
	snprintf(a, sizeof(a), "%s/copied", tmpdir);
	snprintf(b, sizeof(b), "%s/borrowed", tmpdir);
	for (i = 0; i < sizeof(mos) / sizeof(mos[0]); i++)
		for (j = 0; j < sizeof(outs) / sizeof(outs[0]); j++) {
			borrow_run(paths, &mos[i], outs[j].fmt, outs[j].nano,
			    0, a);
			borrow_run(paths, &mos[i], outs[j].fmt, outs[j].nano,
			    1, b);
			assert_same_file(a, b);
		}
}
END_TEST

START_TEST(borrowing_writer_reports_a_failed_hand_over)
{
	static char names[5][300];
	struct pm_merge_opts mo = { .buffer_budget = 5 * 8192 };
	struct pm_writer_opts wo = { .format = PM_FMT_PCAP, .snaplen = 65535,
	    .linktype = 1 };
	char eb[PM_ERRBUF_SIZE], *paths[5];
	struct pm_packet p;
	pm_merge *m;
	pm_writer *w;
	int fd = open("/dev/full", O_WRONLY), i, rc = 0;

	if (fd < 0)
		return;
	borrow_inputs(names);
	m = pm_merge_new(&mo, eb);
	for (i = 0; i < 5; i++) {
		paths[i] = names[i];
		ck_assert_int_eq(pm_merge_add(m, paths[i], -1), 0);
	}
	w = pm_writer_open(fd, &wo, NULL, eb);
	ck_assert_ptr_nonnull(w);
	pm_merge_attach(m, w);
	while (rc == 0 && pm_merge_next(m, &p) == 1)
		rc = pm_writer_write_ref(w, &p);
	if (rc == 0)
		rc = pm_writer_finish(w);
	ck_assert_int_eq(rc, PM_ERR_IO);
	ck_assert_ptr_nonnull(strstr(pm_writer_geterr(w), "No space"));
	/* an error kept from a hand-over is not forgotten by finish */
	ck_assert_int_eq(pm_writer_finish(w), PM_ERR_IO);
	pm_writer_close(w);
	pm_merge_free(m);
	close(fd);
}
END_TEST

/*
 * The read buffers of a merge are slices of one mapping, so the last
 * record of one and the first of the next can join into one borrowed
 * piece: releasing either buffer must copy the whole piece.
 */
START_TEST(hand_over_copies_a_piece_that_spans_two_buffers)
{
	struct pm_writer_opts wo = { .format = PM_FMT_PCAP, .snaplen = 65535,
	    .linktype = 1 };
	struct pm_packet p = { .caplen = 64, .len = 64, .linktype = 1,
	    .headroom = 16 };
	uint8_t mem[160], want[160], got[24 + 160 + 1];
	uint32_t h[4];
	char eb[PM_ERRBUF_SIZE], path[300];
	pm_merge *m = pm_merge_new(NULL, eb);
	pm_writer *w;
	int fd, i;

	ck_assert_ptr_nonnull(m);
	for (i = 0; i < 2; i++) {
		h[0] = 1700000000u + (uint32_t)i;
		h[1] = 0;
		h[2] = h[3] = 64;
		memcpy(mem + 80 * i, h, 16);
		memset(mem + 80 * i + 16, 'A' + i, 64);
	}
	snprintf(path, sizeof(path), "%s/span", tmpdir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	w = pm_writer_open(fd, &wo, NULL, eb);
	ck_assert_ptr_nonnull(w);
	pm_merge_attach(m, w);		/* a writer borrows only from a merge */
	pm_writer_set_mode(w, 1, 0);	/* and by itself not into a file */
	for (i = 0; i < 2; i++) {
		p.ts = (1700000000LL + i) * 1000000000;
		p.data = mem + 80 * i + 16;
		ck_assert_int_eq(pm_writer_write_ref(w, &p), 0);
	}
	/* the second "buffer" is refilled; the first stays as it is */
	pm_writer_release(w, mem + 80, 80);
	memcpy(want, mem, 160);
	memset(mem + 80, 0xee, 80);
	ck_assert_int_eq(pm_writer_finish(w), 0);
	pm_writer_close(w);
	ck_assert_int_eq(pread(fd, got, sizeof(got), 0), 24 + 160);
	ck_assert_int_eq(memcmp(got + 24, want, 160), 0);
	ck_assert_int_eq(close(fd), 0);
	pm_merge_free(m);
}
END_TEST

/* ---- write-behind -------------------------------------------------------- */

/* Write-behind threads of this process (named "pm-writer"; Linux). */
static int
threads_now(void)
{
	char path[300], name[64];
	struct dirent *e;
	int n = 0;
	DIR *d = opendir("/proc/self/task");
	FILE *f;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm",
		    e->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;	/* it has just ended */
		if (fgets(name, sizeof(name), f) != NULL &&
		    strcmp(name, "pm-writer\n") == 0)
			n++;
		fclose(f);
	}
	closedir(d);
	return n;
}

/* The same once it is n: a joined thread may linger in /proc a moment. */
static int
threads_settle(int n)
{
	int i, k = threads_now();

	for (i = 0; i < 200 && k != n; i++) {
		usleep(5000);
		k = threads_now();
	}
	return k;
}

/*
 * About 24 MB of packets (so the blocks go round their ring more than
 * once), 60 to 1,559 bytes whose bytes tell them apart, and two of
 * 300,000 bytes, larger than the staging buffer (256 KiB), which are
 * written straight once the thread has written everything before them.  Into fd, behind
 * or not (-1: as the writer chooses); returns the writer's result, and in
 * *ran whether a thread ran while it wrote.
 */
static int
behind_run(int fd, enum pm_format fmt, int behind, int *ran)
{
	static uint8_t d[300000];
	struct pm_writer_opts wo = { .format = fmt, .nano = 1,
	    .snaplen = sizeof(d), .linktype = 1 };	/* no fix-up */
	struct pm_packet p = { .linktype = 1, .data = d };
	char eb[PM_ERRBUF_SIZE];
	pm_writer *w;
	int i, rc = 0, before = threads_now();

	for (i = 0; i < (int)sizeof(d); i++)
		d[i] = (uint8_t)(i * 7 + i / 251);
	w = pm_writer_open(fd, &wo, NULL, eb);
	ck_assert_ptr_nonnull(w);
	if (behind >= 0)
		pm_writer_set_mode(w, 0, behind);
	*ran = 0;
	for (i = 0; i < 30000 && rc == 0; i++) {
		p.ts = 1700000000LL * 1000000000 + (int64_t)i * 1000;
		p.caplen = p.len = i == 9000 || i == 21000 ? sizeof(d) :
		    60 + (uint32_t)(i * 37 % 1500);
		p.data = d + (i % 200);
		if (p.caplen > sizeof(d) - (i % 200))
			p.data = d;
		rc = pm_writer_write(w, &p);
		if (i == 20000 && threads_now() > before)
			*ran = 1;
	}
	if (rc == 0)
		rc = pm_writer_finish(w);
	ck_assert_int_eq(threads_settle(before), before);	/* finish ended it */
	pm_writer_close(w);
	return rc;
}

START_TEST(write_behind_writes_what_a_plain_writer_writes)
{
	char a[300], b[300];
	int fd, ran, k;

	snprintf(a, sizeof(a), "%s/plain", tmpdir);
	snprintf(b, sizeof(b), "%s/behind", tmpdir);
	for (k = 0; k < 2; k++) {
		enum pm_format fmt = k ? PM_FMT_PCAPNG : PM_FMT_PCAP;

		fd = open(a, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		ck_assert_int_eq(behind_run(fd, fmt, 0, &ran), 0);
		ck_assert_int_eq(ran, 0);
		ck_assert_int_eq(close(fd), 0);
		fd = open(b, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		ck_assert_int_eq(behind_run(fd, fmt, -1, &ran), 0);
		ck_assert_int_eq(ran, 1);	/* chosen for a file */
		ck_assert_int_eq(close(fd), 0);
		assert_same_file(a, b);
	}
}
END_TEST

/* What the other end of a pipe reads, into a file. */
struct drain_arg {
	int fd;
	const char *path;
};

static void *
drain_pipe(void *arg)
{
	struct drain_arg *a = arg;
	static uint8_t buf[65536];
	int out = open(a->path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ssize_t n;

	while ((n = read(a->fd, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			break;
	close(out);
	return NULL;
}

/* The writer chooses write-behind for a pipe by itself, and a write
 * error of its thread's (the reader has gone) is the writer's. */
START_TEST(write_behind_into_a_pipe)
{
	char a[300], b[300];
	struct drain_arg da;
	pthread_t tid;
	struct pm_writer_opts wo = { .format = PM_FMT_PCAP, .snaplen = 65535,
	    .linktype = 1 };
	uint8_t d[1000] = { 0 };
	struct pm_packet p = { .linktype = 1, .caplen = 1000, .len = 1000,
	    .data = d };
	char eb[PM_ERRBUF_SIZE];
	pm_writer *w;
	int pfd[2], fd, ran, rc = 0, i;
	void (*old)(int);

	snprintf(a, sizeof(a), "%s/plain", tmpdir);
	snprintf(b, sizeof(b), "%s/piped", tmpdir);
	fd = open(a, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_eq(behind_run(fd, PM_FMT_PCAP, 0, &ran), 0);
	ck_assert_int_eq(close(fd), 0);
	ck_assert_int_eq(pipe(pfd), 0);
	da.fd = pfd[0];
	da.path = b;
	ck_assert_int_eq(pthread_create(&tid, NULL, drain_pipe, &da), 0);
	ck_assert_int_eq(behind_run(pfd[1], PM_FMT_PCAP, -1, &ran), 0);
	ck_assert_int_eq(ran, 1);	/* chosen for a pipe */
	close(pfd[1]);
	pthread_join(tid, NULL);
	close(pfd[0]);
	assert_same_file(a, b);

	/* the reader has gone: EPIPE, with SIGPIPE ignored as a shell may */
	old = signal(SIGPIPE, SIG_IGN);
	ck_assert_int_eq(pipe(pfd), 0);
	close(pfd[0]);
	w = pm_writer_open(pfd[1], &wo, NULL, eb);
	ck_assert_ptr_nonnull(w);
	for (i = 0; i < 20000 && rc == 0; i++)
		rc = pm_writer_write(w, &p);
	if (rc == 0)
		rc = pm_writer_finish(w);
	ck_assert_int_eq(rc, PM_ERR_IO);
	ck_assert_ptr_nonnull(strstr(pm_writer_geterr(w), "Broken pipe"));
	ck_assert_int_eq(pm_writer_finish(w), PM_ERR_IO);
	pm_writer_close(w);
	close(pfd[1]);
	signal(SIGPIPE, old);
}
END_TEST

/* Closed unfinished, a writer ends its thread and writes no more. */
START_TEST(write_behind_closed_unfinished)
{
	struct pm_writer_opts wo = { .format = PM_FMT_PCAP, .snaplen = 65535,
	    .linktype = 1 };
	uint8_t d[1000] = { 0 };
	struct pm_packet p = { .linktype = 1, .caplen = 1000, .len = 1000,
	    .data = d };
	char eb[PM_ERRBUF_SIZE], path[300];
	pm_writer *w;
	struct stat st;
	int fd, i, before = threads_now();

	snprintf(path, sizeof(path), "%s/unfinished", tmpdir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	w = pm_writer_open(fd, &wo, NULL, eb);
	ck_assert_ptr_nonnull(w);
	for (i = 0; i < 5000; i++)
		ck_assert_int_eq(pm_writer_write(w, &p), 0);
	ck_assert_int_gt(threads_now(), before);
	pm_writer_close(w);
	ck_assert_int_eq(threads_settle(before), before);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_int_lt(st.st_size, 5000 * 1016);
	close(fd);
}
END_TEST

/* ---- dedup -------------------------------------------------------------- */

START_TEST(dedup_drops_the_same_packet_within_the_window)
{
	pm_dedup *d = pm_dedup_new(1000);
	uint8_t a[64], b[64];
	struct pm_packet p = { .caplen = 64, .len = 64, .linktype = 1 };
	int i;

	memset(a, 1, sizeof(a));
	memset(b, 2, sizeof(b));
	p.data = a; p.ts = 0;
	ck_assert_int_eq(pm_dedup_check(d, &p), 0);
	p.ts = 500;
	ck_assert_int_eq(pm_dedup_check(d, &p), 1);	/* seen 500 ns ago */
	p.data = b;
	ck_assert_int_eq(pm_dedup_check(d, &p), 0);	/* other bytes */
	p.data = a; p.ts = 2000;
	ck_assert_int_eq(pm_dedup_check(d, &p), 0);	/* window passed */
	p.len = 65; p.ts = 2001;
	ck_assert_int_eq(pm_dedup_check(d, &p), 0);	/* other length */
	/* many packets in one window make the table grow */
	for (i = 0; i < 5000; i++) {
		uint8_t x[64];
		memset(x, 0, sizeof(x));
		memcpy(x, &i, sizeof(i));
		p.data = x; p.len = 64; p.ts = 3000;
		ck_assert_int_eq(pm_dedup_check(d, &p), 0);
		ck_assert_int_eq(pm_dedup_check(d, &p), 1);
	}
	pm_dedup_free(d);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("libmerge");
	TCase *t = tcase_create("all");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, reader_reads_pcap_every_order_and_precision);
	tcase_add_test(t, reader_keeps_caplen_over_snaplen);
	tcase_add_test(t, reader_counts_sub_second_fields_of_a_second_or_more);
	tcase_add_test(t, reader_counts_pcapng_times_past_int64_nanoseconds);
	tcase_add_test(t, reader_reads_pcapng_interfaces_and_tsresol);
	tcase_add_test(t, reader_skips_unknown_pcapng_blocks);
	tcase_add_test(t, pcapng_options_survive_reading_and_writing);
	tcase_add_test(t, reader_reads_gzip_and_zstd_by_magic);
	tcase_add_test(t, reader_reads_concatenated_gzip_members);
	tcase_add_test(t, reader_reports_truncated_last_record);
	tcase_add_test(t, reader_reports_cut_zstd_stream);
	tcase_add_test(t, reader_resyncs_after_damaged_pcap_record);
	tcase_add_test(t, reader_resyncs_after_damaged_pcapng_block);
	tcase_add_test(t, reader_rejects_non_captures);
	tcase_add_test(t, merge_orders_by_time_and_breaks_ties_by_input);
	tcase_add_test(t, merge_keeps_unsorted_input_as_it_is);
	tcase_add_test(t, scan_notes_arrive_in_one_merge_order);
	tcase_add_test(t, scan_stream_stats_without_notes_are_one_merge);
	tcase_add_test(t, scan_lanes_go_to_the_faster_thread);
	tcase_add_test(t, scan_stops_at_the_packet_a_function_fails);
	tcase_add_test(t, scan_reports_damage_and_goes_on);
	tcase_add_test(t, merge_input_facts_follow_an_open_input);
	tcase_add_test(t, merge_in_passes_equals_single_pass);
	tcase_add_test(t, merge_keeps_packets_before_damage);
	tcase_add_test(t, merge_reports_unopenable_input_and_goes_on);
	tcase_add_test(t, concatenation_keeps_input_order);
	tcase_add_test(t, pcap_writer_is_read_back_by_libpcap);
	tcase_add_test(t, pcapng_writer_is_read_back_by_libpcap);
	tcase_add_test(t, zstd_and_gzip_writers_are_read_back);
	tcase_add_test(t, crc32c_matches_the_reference);
	tcase_add_test(t, merge_checksums_each_input_file);
	tcase_add_test(t, pcap_writer_refuses_a_second_linktype);
	tcase_add_test(t, writer_reports_a_full_disk);
	tcase_add_loop_test(t, writer_holds_and_counts_times_the_format_cannot_hold,
	    0, 2);
	tcase_add_test(t, borrowing_writer_writes_what_copying_writer_writes);
	tcase_add_test(t, borrowing_writer_reports_a_failed_hand_over);
	tcase_add_test(t, hand_over_copies_a_piece_that_spans_two_buffers);
	tcase_add_test(t, write_behind_writes_what_a_plain_writer_writes);
	tcase_add_test(t, write_behind_into_a_pipe);
	tcase_add_test(t, write_behind_closed_unfinished);
	tcase_add_test(t, dedup_drops_the_same_packet_within_the_window);
	suite_add_tcase(s, t);
	return s;
}

int
main(void)
{
	SRunner *r = srunner_create(suite());
	int failed;

	srunner_run_all(r, CK_NORMAL);
	failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed == 0 ? 0 : 1;
}
