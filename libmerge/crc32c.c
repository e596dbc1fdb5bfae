/*
 * crc32c.c - CRC-32C (Castagnoli), as S3 and GCS give it for objects, so
 * that a capture can be checked against a download manifest as it is read.
 *
 * With SSE4.2 (found at run time) three streams are computed at once with
 * the crc32 instruction, whose latency is three times its throughput, and
 * joined by multiplying the earlier ones by x^(8 * block) mod P, from
 * tables: 8 bytes a cycle.  With AVX-512 and VPCLMULQDQ, 256 bytes at a
 * time are folded with carry-less multiplies (Intel's "Fast CRC
 * Computation Using PCLMULQDQ", four 512-bit accumulators), the last 16
 * bytes reduced by the crc32 instruction: several times faster, which
 * matters because pcap-summary --expect checks every byte of a capture
 * against its manifest in the same pass as the counting.  Elsewhere:
 * slicing by 8.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "merge_int.h"

#define POLY 0x82f63b78u	/* reflected */
#define LONG_BLOCK 8192
#define SHORT_BLOCK 256

static uint32_t slice[8][256];
static uint32_t zeros_long[4][256], zeros_short[4][256];
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int have_hw, have_clmul;

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
	have_clmul = have_hw && __builtin_cpu_supports("avx512f") &&
	    __builtin_cpu_supports("vpclmulqdq");
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

/*
 * Folding constants, reflected, for a 128-bit lane moved d bits on: the
 * low one x^(d+32) mod P, the high one x^(d-32) mod P, each bit-reversed
 * and shifted left by one (x^k mod P by k shifts of 1 with the unreflected
 * polynomial 0x1edc6f41; the same formula gives Linux's constants for
 * CRC-32).  A wrong one shows in the unit test, which holds every length
 * around the block sizes to the bit-by-bit reference.
 */
#define FOLD(lo, hi) _mm_set_epi64x((long long)(hi), (long long)(lo))
#define K2048 FOLD(0xdcb17aa4u, 0xb9e02b86u)
#define K512 FOLD(0x740eef02u, 0x9e4addf8u)
#define K128 FOLD(0xf20c0dfeu, 0x14cd00bd6ull)

__attribute__((target("avx512f,vpclmulqdq,pclmul,sse4.2")))
static inline __m512i
fold512(__m512i x, __m512i k, __m512i next)
{
	return _mm512_ternarylogic_epi64(_mm512_clmulepi64_epi128(x, k, 0x00),
	    _mm512_clmulepi64_epi128(x, k, 0x11), next, 0x96);
}

__attribute__((target("avx512f,vpclmulqdq,pclmul,sse4.2")))
static inline __m128i
fold128(__m128i x, __m128i k, __m128i next)
{
	return _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00),
	    _mm_clmulepi64_si128(x, k, 0x11)), next);
}

/*
 * The fold keeps the data's polynomial modulo P, so the crc32 instruction
 * over the last 16 bytes it leaves, from 0, gives the CRC of everything
 * before them; crc_hw does the rest.
 */
__attribute__((target("avx512f,vpclmulqdq,pclmul,sse4.2")))
static uint32_t
crc_clmul(uint32_t crc, const uint8_t *p, size_t len)
{
	__m512i x0, x1, x2, x3, k;
	__m128i v, k1;
	uint64_t c;

	if (len < 256)
		return crc_hw(crc, p, len);
	x0 = _mm512_xor_si512(_mm512_loadu_si512(p),
	    _mm512_castsi128_si512(_mm_cvtsi32_si128((int)crc)));
	x1 = _mm512_loadu_si512(p + 64);
	x2 = _mm512_loadu_si512(p + 128);
	x3 = _mm512_loadu_si512(p + 192);
	p += 256;
	len -= 256;
	k = _mm512_broadcast_i32x4(K2048);
	while (len >= 256) {
		x0 = fold512(x0, k, _mm512_loadu_si512(p));
		x1 = fold512(x1, k, _mm512_loadu_si512(p + 64));
		x2 = fold512(x2, k, _mm512_loadu_si512(p + 128));
		x3 = fold512(x3, k, _mm512_loadu_si512(p + 192));
		p += 256;
		len -= 256;
	}
	k = _mm512_broadcast_i32x4(K512);
	x0 = fold512(x0, k, x1);
	x0 = fold512(x0, k, x2);
	x0 = fold512(x0, k, x3);
	while (len >= 64) {
		x0 = fold512(x0, k, _mm512_loadu_si512(p));
		p += 64;
		len -= 64;
	}
	k1 = K128;
	v = _mm512_castsi512_si128(x0);
	v = fold128(v, k1, _mm512_extracti32x4_epi32(x0, 1));
	v = fold128(v, k1, _mm512_extracti32x4_epi32(x0, 2));
	v = fold128(v, k1, _mm512_extracti32x4_epi32(x0, 3));
	while (len >= 16) {
		v = fold128(v, k1, _mm_loadu_si128((const __m128i *)p));
		p += 16;
		len -= 16;
	}
	c = _mm_crc32_u64(0, (uint64_t)_mm_cvtsi128_si64(v));
	c = _mm_crc32_u64(c, (uint64_t)_mm_extract_epi64(v, 1));
	return crc_hw((uint32_t)c, p, len);
}
#endif

uint32_t
pm_crc32c_path(int path, uint32_t crc, const void *data, size_t len)
{
	pthread_once(&once, init);
	crc = ~crc;
#if defined(__x86_64__)
	if (path >= 2 && have_clmul)
		return ~crc_clmul(crc, data, len);
	if (path >= 1 && have_hw)
		return ~crc_hw(crc, data, len);
#endif
	return ~crc_sw(crc, data, len);
}

uint32_t
pm_crc32c(uint32_t crc, const void *data, size_t len)
{
	return pm_crc32c_path(2, crc, data, len);
}
