/*
 * test_loss - pcap-summary's TCP capture-loss tracking (tools/summary/
 * loss.c): wrap, retransmission, reordering, one-way and two-way flows,
 * garbage sequence numbers, a full flow table; the clock's pair table;
 * and the timeline's
 * per-packet count (coverage.h), whose inline fast path must count as the
 * slow path alone does.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "coverage.h"
#include "loss.h"

#define PRE 20		/* bytes before the TCP header (l4_off must be > 0) */
#define SEG 1000

enum { SYN = 0x02, FIN = 0x01, ACK = 0x10 };

static struct loss_tab tab;
static struct loss_count cnt[1];

/* One TCP packet of len payload bytes from client (dir 0) or server. */
static void
tcp(int from_server, uint16_t cport, uint32_t seq, uint32_t ack, int flags,
    uint32_t len)
{
	uint8_t pkt[PRE + 20];
	struct pf_ip ip;
	static int64_t ts;

	memset(pkt, 0, sizeof(pkt));
	memset(&ip, 0, sizeof(ip));
	ip.version = 4;
	ip.proto = 6;
	ip.proto_known = ip.ports_known = 1;
	memcpy(ip.src, from_server ? "\xc0\0\2\1" : "\x0a\0\0\1", 4);
	memcpy(ip.dst, from_server ? "\x0a\0\0\1" : "\xc0\0\2\1", 4);
	ip.sport = from_server ? 443 : cport;
	ip.dport = from_server ? cport : 443;
	ip.l4_off = PRE;
	ip.l4_len = 20 + len;
	pkt[PRE + 4] = (uint8_t)(seq >> 24);
	pkt[PRE + 5] = (uint8_t)(seq >> 16);
	pkt[PRE + 6] = (uint8_t)(seq >> 8);
	pkt[PRE + 7] = (uint8_t)seq;
	pkt[PRE + 8] = (uint8_t)(ack >> 24);
	pkt[PRE + 9] = (uint8_t)(ack >> 16);
	pkt[PRE + 10] = (uint8_t)(ack >> 8);
	pkt[PRE + 11] = (uint8_t)ack;
	pkt[PRE + 12] = 0x50;
	pkt[PRE + 13] = (uint8_t)flags;
	loss_packet(&tab, cnt, 0, &ip, pkt, sizeof(pkt), ts++);
}

static void
setup(void)
{
	memset(cnt, 0, sizeof(cnt));
	ck_assert_int_eq(loss_init(&tab, LOSS_FLOWS), 0);
}

static void
teardown(void)
{
	loss_free(&tab);
}

START_TEST(one_way_hole_across_the_wrap)
{
	uint32_t isn = 0xffffffffu - 2500;	/* wraps inside segment 2 */
	int i;

	for (i = 0; i < 5; i++)
		if (i != 2)
			tcp(0, 1000, isn + (uint32_t)(i * SEG), 7, ACK, SEG);
	loss_flush(&tab, cnt);
	ck_assert_uint_eq(cnt->flows_one_way, 1);
	ck_assert_uint_eq(cnt->stream, 5 * SEG);
	ck_assert_uint_eq(cnt->stream_holes, SEG);
	ck_assert_uint_eq(cnt->holes, 1);
	ck_assert_uint_eq(cnt->resyncs, 0);
	ck_assert(loss_fraction(cnt) > 0.199 && loss_fraction(cnt) < 0.201);
	ck_assert_str_eq(loss_method(cnt), "seq");
}
END_TEST

START_TEST(retransmission_and_reordering_are_not_loss)
{
	static const int order[] = { 0, 2, 1, 3, 3, 4, 1 };
	size_t i;

	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		tcp(0, 1001, 5000 + (uint32_t)(order[i] * SEG), 7, ACK, SEG);
	loss_flush(&tab, cnt);
	ck_assert_uint_eq(cnt->stream, 5 * SEG);
	ck_assert_uint_eq(cnt->stream_holes, 0);
	ck_assert_uint_eq(cnt->holes, 1);	/* as Wireshark says it */
	ck_assert(loss_fraction(cnt) == 0);
}
END_TEST

START_TEST(two_way_acks_above_a_hole)
{
	uint32_t a = 100, b = 90000;
	int i;

	tcp(0, 1002, a, 0, SYN, 0);
	tcp(1, 1002, b, a + 1, SYN | ACK, 0);
	tcp(0, 1002, a + 1, b + 1, ACK, 0);
	for (i = 0; i < 6; i++) {
		if (i != 2 && i != 5)	/* 5: the last, seen only by the ACK */
			tcp(0, 1002, a + 1 + (uint32_t)(i * SEG), b + 1, ACK,
			    SEG);
		if (i % 2 == 1)
			tcp(1, 1002, b + 1, a + 1 + (uint32_t)((i + 1) * SEG),
			    ACK, 0);
	}
	loss_flush(&tab, cnt);
	ck_assert_uint_eq(cnt->flows_two_way, 1);
	ck_assert_uint_eq(cnt->acked, 6 * SEG);
	ck_assert_uint_eq(cnt->acked_unseen, 2 * SEG);
	ck_assert_uint_eq(cnt->acks_unseen, 1);
	ck_assert_uint_eq(cnt->stream, 0);
	ck_assert_str_eq(loss_method(cnt), "ack");
}
END_TEST

START_TEST(random_sequence_numbers_measure_nothing)
{
	uint64_t x = 88172645463325252ull;
	int i;

	for (i = 0; i < 20000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		tcp((int)(x >> 40) & 1, 1003, (uint32_t)x, (uint32_t)(x >> 32),
		    (int)(x >> 20) & 0x17, (uint32_t)(x >> 50) % 1400);
	}
	loss_flush(&tab, cnt);
	ck_assert_uint_eq(cnt->stream, 0);
	ck_assert_uint_eq(cnt->acked, 0);
	ck_assert(loss_fraction(cnt) < 0);
	ck_assert_uint_gt(cnt->resyncs, 1000);
}
END_TEST

START_TEST(a_full_table_evicts_and_keeps_counting)
{
	int f, i;

	loss_free(&tab);
	ck_assert_int_eq(loss_init(&tab, 8), 0);
	for (i = 0; i < 4; i++)
		for (f = 0; f < 40; f++)
			tcp(0, (uint16_t)(2000 + f), 1000 + (uint32_t)(i * SEG),
			    7, ACK, SEG);
	loss_flush(&tab, cnt);
	ck_assert_uint_gt(cnt->evicted, 0);
	ck_assert_uint_eq(cnt->stream_holes, 0);
	ck_assert(cnt->stream <= 40 * 4 * SEG);
}
END_TEST

/* 5,000 flows interleaved: the table grows from 8,192 entries while they
 * are under way, and every flow keeps its state across the moves. */
START_TEST(the_table_grows_without_losing_a_flow)
{
	int f, i;

	for (i = 0; i < 5; i++)
		for (f = 0; f < 5000; f++)
			if (i != 2)	/* a hole in every flow */
				tcp(0, (uint16_t)(2000 + f), 1000 +
				    (uint32_t)(i * SEG), 7, ACK, SEG);
	ck_assert_uint_ge(tab.cap, 8192);
	loss_flush(&tab, cnt);
	ck_assert_uint_eq(cnt->evicted, 0);
	ck_assert_uint_eq(cnt->flows_one_way, 5000);
	ck_assert_uint_eq(cnt->holes, 5000);
	ck_assert_uint_eq(cnt->stream, 5000 * 5 * SEG);
	ck_assert_uint_eq(cnt->stream_holes, 5000 * SEG);
}
END_TEST

/* The clock sample thins as the capture grows, the same for every file. */
START_TEST(clock_sampling_thins_with_size)
{
	ck_assert_uint_eq(clock_sample_bits(0), 4);
	ck_assert_uint_eq(clock_sample_bits(CLOCK_SAMPLE_BYTES), 4);
	ck_assert_uint_eq(clock_sample_bits(2 * CLOCK_SAMPLE_BYTES - 1), 4);
	ck_assert_uint_eq(clock_sample_bits(2 * CLOCK_SAMPLE_BYTES), 5);
	/* the bench corpus: 1 in 256 */
	ck_assert_uint_eq(clock_sample_bits((uint64_t)1400 << 20), 8);
	ck_assert_uint_eq(clock_sample_bits(UINT64_MAX), 10);
}
END_TEST

/*
 * 40 files, each sharing 5 packets with file 0, i ms later for file i:
 * 39 pairs, so the pair table grows from 64 entries (half full at most)
 * twice, and every pair keeps its samples across the moves.
 */
START_TEST(clock_pairs_grow_and_keep_their_samples)
{
	enum { NF = 40 };
	struct clocks c;
	struct clocknote n;
	int64_t off[NF], t = 1000000000000000000LL;
	int known[NF];
	size_t ref, i, k;
	uint64_t shared[NF];

	ck_assert_int_eq(clock_init(&c, 4), 0);
	for (i = 1; i < NF; i++)
		for (k = 0; k < 5; k++) {
			memset(&n, 0, sizeof(n));
			/* a hash per packet; the input goes in its low bits */
			n.hash = (uint64_t)(i * 5 + k + 1) << 32;
			n.input = 0;
			n.ts = t;
			clock_note(&c, &n);
			n.input = (uint32_t)i;
			n.ts = t + (int64_t)i * 1000000;
			clock_note(&c, &n);
			t += 2000000000;	/* past the 1 s window */
		}
	ck_assert_uint_eq(c.npair, NF - 1);
	ck_assert_uint_ge(c.cappair, 2 * (NF - 1));
	ck_assert_int_eq(c.failed, 0);
	ck_assert_int_eq(clock_solve(&c, NF, off, known, &ref, shared), 0);
	ck_assert_uint_eq(ref, 0);
	ck_assert_uint_eq(shared[0], 5 * (NF - 1));
	for (i = 0; i < NF; i++) {
		ck_assert_int_eq(known[i], 1);
		ck_assert_int_eq(off[i], (int64_t)i * 1000000);
	}
	clock_free(&c);
}
END_TEST

/*
 * Packets at times that go forward, back, far back, far ahead and to the
 * ends of int64: tl_add (inline, for buckets in use) and tl_add_slow
 * alone give the same histogram, bucket for bucket.
 */
START_TEST(timeline_fast_path_counts_as_the_slow_one)
{
	static struct tl a, b;
	uint64_t x = 88172645463325252ull;
	int64_t ts = (int64_t)1700000000 * 1000000000;
	int i;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	for (i = 0; i < 200000; i++) {
		int64_t t;

		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		switch (x % 1000) {
		case 0: t = ts - (int64_t)(x >> 20);	break;	/* far back */
		case 1: t = ts + (int64_t)(x >> 16);	break;	/* far ahead */
		case 2: t = INT64_MAX - (int64_t)(x % 5);	break;
		case 3: t = INT64_MIN + (int64_t)(x % 5);	break;
		default:
			ts += (int64_t)(x % 2000000) - 500000;	/* jitter */
			t = ts;
		}
		tl_add(&a, t);
		tl_add_slow(&b, t);
	}
	ck_assert_int_eq(a.origin, b.origin);
	ck_assert_int_eq(a.width, b.width);
	ck_assert_int_eq(a.shift, b.shift);
	ck_assert_uint_eq(a.top, b.top);
	ck_assert_mem_eq(a.n, b.n, sizeof(a.n));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("loss");
	TCase *t = tcase_create("all");
	SRunner *sr;
	int nf;

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, one_way_hole_across_the_wrap);
	tcase_add_test(t, clock_sampling_thins_with_size);
	tcase_add_test(t, clock_pairs_grow_and_keep_their_samples);
	tcase_add_test(t, timeline_fast_path_counts_as_the_slow_one);
	tcase_add_test(t, the_table_grows_without_losing_a_flow);
	tcase_add_test(t, retransmission_and_reordering_are_not_loss);
	tcase_add_test(t, two_way_acks_above_a_hole);
	tcase_add_test(t, random_sequence_numbers_measure_nothing);
	tcase_add_test(t, a_full_table_evicts_and_keeps_counting);
	suite_add_tcase(s, t);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
