/*
 * crc32c.c - CRC-32C (Castagnoli), as S3 and GCS give it for objects, so
 * that a capture can be checked against a download manifest as it is read.
 *
 * With SSE4.2 (found at run time) three streams are computed at once with
 * the crc32 instruction, whose latency is three times its throughput, and
 * joined by multiplying the earlier ones by x^(8 * block) mod P, from
 * tables; that runs at about memory speed.  Elsewhere: slicing by 8.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "merge_int.h"

#define POLY 0x82f63b78u	/* reflected */
#define LONG_BLOCK 8192
#define SHORT_BLOCK 256

static uint32_t slice[8][256];
static uint32_t zeros_long[4][256], zeros_short[4][256];
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int have_hw;

static uint32_t
gf2_times(const uint32_t *mat, uint32_t vec)
{
	uint32_t sum = 0;

	for (; vec != 0; vec >>= 1, mat++)
		if (vec & 1)
			sum ^= *mat;
	return sum;
}

static void
gf2_square(uint32_t *sq, const uint32_t *mat)
{
	int n;

	for (n = 0; n < 32; n++)
		sq[n] = gf2_times(mat, mat[n]);
}

/* The operator that appends len zero bytes (a power of two) to a CRC. */
static void
zeros_op(uint32_t *even, size_t len)
{
	uint32_t odd[32], row = 1;
	int n;

	odd[0] = POLY;		/* one zero bit */
	for (n = 1; n < 32; n++, row <<= 1)
		odd[n] = row;
	gf2_square(even, odd);	/* two */
	gf2_square(odd, even);	/* four */
	do {
		gf2_square(even, odd);	/* eight, then 32, ... */
		len >>= 1;
		if (len == 0)
			return;
		gf2_square(odd, even);
		len >>= 1;
	} while (len != 0);
	memcpy(even, odd, sizeof(odd));
}

static void
zeros_table(uint32_t t[4][256], size_t len)
{
	uint32_t op[32];
	uint32_t n;

	zeros_op(op, len);
	for (n = 0; n < 256; n++) {
		t[0][n] = gf2_times(op, n);
		t[1][n] = gf2_times(op, n << 8);
		t[2][n] = gf2_times(op, n << 16);
		t[3][n] = gf2_times(op, n << 24);
	}
}

static inline uint32_t
shift(uint32_t t[4][256], uint32_t crc)
{
	return t[0][crc & 0xff] ^ t[1][(crc >> 8) & 0xff] ^
	    t[2][(crc >> 16) & 0xff] ^ t[3][crc >> 24];
}

static void
init(void)
{
	uint32_t c;
	int i, j;

	for (i = 0; i < 256; i++) {
		c = (uint32_t)i;
		for (j = 0; j < 8; j++)
			c = c & 1 ? (c >> 1) ^ POLY : c >> 1;
		slice[0][i] = c;
	}
	for (i = 0; i < 256; i++)
		for (j = 1; j < 8; j++)
			slice[j][i] = (slice[j - 1][i] >> 8) ^
			    slice[0][slice[j - 1][i] & 0xff];
#if defined(__x86_64__)
	__builtin_cpu_init();
	have_hw = __builtin_cpu_supports("sse4.2");
	if (have_hw) {
		zeros_table(zeros_long, LONG_BLOCK);
		zeros_table(zeros_short, SHORT_BLOCK);
	}
#endif
}

static uint32_t
crc_sw(uint32_t crc, const uint8_t *p, size_t len)
{
	uint64_t w;

	while (len >= 8) {
		memcpy(&w, p, 8);
		w ^= crc;
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
		w = __builtin_bswap64(w);
#endif
		crc = slice[7][w & 0xff] ^ slice[6][(w >> 8) & 0xff] ^
		    slice[5][(w >> 16) & 0xff] ^ slice[4][(w >> 24) & 0xff] ^
		    slice[3][(w >> 32) & 0xff] ^ slice[2][(w >> 40) & 0xff] ^
		    slice[1][(w >> 48) & 0xff] ^ slice[0][w >> 56];
		p += 8;
		len -= 8;
	}
	while (len-- > 0)
		crc = (crc >> 8) ^ slice[0][(crc ^ *p++) & 0xff];
	return crc;
}

#if defined(__x86_64__)
static inline uint64_t
load64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

/* Three streams of block bytes each, joined. */
__attribute__((target("sse4.2")))
static uint64_t
three_way(uint64_t c0, const uint8_t **pp, size_t *lenp, size_t block,
    uint32_t t[4][256])
{
	const uint8_t *p = *pp;
	size_t len = *lenp;

	while (len >= 3 * block) {
		uint64_t c1 = 0, c2 = 0;
		const uint8_t *end = p + block;

		do {
			c0 = __builtin_ia32_crc32di(c0, load64(p));
			c1 = __builtin_ia32_crc32di(c1, load64(p + block));
			c2 = __builtin_ia32_crc32di(c2, load64(p + 2 * block));
			p += 8;
		} while (p < end);
		c0 = shift(t, (uint32_t)c0) ^ c1;
		c0 = shift(t, (uint32_t)c0) ^ c2;
		p += 2 * block;
		len -= 3 * block;
	}
	*pp = p;
	*lenp = len;
	return c0;
}

__attribute__((target("sse4.2")))
static uint32_t
crc_hw(uint32_t crc, const uint8_t *p, size_t len)
{
	uint64_t c = crc;

	while (len > 0 && ((uintptr_t)p & 7) != 0) {
		c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
		len--;
	}
	c = three_way(c, &p, &len, LONG_BLOCK, zeros_long);
	c = three_way(c, &p, &len, SHORT_BLOCK, zeros_short);
	while (len >= 8) {
		c = __builtin_ia32_crc32di(c, load64(p));
		p += 8;
		len -= 8;
	}
	while (len-- > 0)
		c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
	return (uint32_t)c;
}
#endif

uint32_t
pm_crc32c(uint32_t crc, const void *data, size_t len)
{
	pthread_once(&once, init);
	crc = ~crc;
#if defined(__x86_64__)
	if (have_hw)
		return ~crc_hw(crc, data, len);
#endif
	return ~crc_sw(crc, data, len);
}
