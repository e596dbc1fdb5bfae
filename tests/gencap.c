/*
 * gencap - write synthetic captures for the tests and the benchmark.
 *
 * It writes pcap and pcapng itself, independently of libmerge, in either
 * byte order and any timestamp resolution, so that the readers are tested
 * against bytes they did not produce.  Packets are Ethernet (or raw) IPv4
 * UDP/TCP with checksummed headers; the same seed gives the same file.
 *
 * usage: gencap [options] -o FILE|-
 *   -n N       packets (1000)             -S SEED   seed (1)
 *   -F FMT     pcap | pcapng              -E ORDER  little | big
 *   -N         nanosecond timestamps      -l LT     linktype: 1 (EN10MB) or 101 (RAW)
 *   -t NS      first timestamp, ns        -i NS     interval (1000000)
 *   -j NS      random jitter added        -m SIZE   wire size, or "imix"
 *   -s SNAP    snaplen (262144)           -k        keep caplen over snaplen
 *   -r RES     pcapng if_tsresol byte     -O SEC    pcapng if_tsoffset
 *   -I N       pcapng interfaces          -L LT     linktype of interface 1
 *   -b K       every Kth packet 2 intervals back in time
 *   -P         pcapng simple packet blocks   -x  extra blocks to skip
 *   -M N       N files: FILE is a printf pattern (%05u); file f gets seed
 *              SEED+f and starts f*D ns later (-D D, default 1000)
 *   -T         TCP segments follow their flows, as captured traffic does:
 *              each file's sequence numbers advance by the payload, flags
 *              ACK|PSH, and about 1 segment in 1,000 comes after a hole of
 *              1,000 bytes (a drop).  Without it the TCP header is random,
 *              every segment a new stream to pcap-summary's loss tracking.
 *              The rest of the file is the same either way.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state;

static uint64_t
rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static int big;
static FILE *out;
static int flows;		/* -T */
static uint32_t flow_seq[512];	/* -T: per 5-tuple that frame() makes */

static void
put(const void *p, size_t n)
{
	if (fwrite(p, 1, n, out) != n) {
		perror("gencap: write");
		exit(1);
	}
}

static void
put16(uint16_t v)
{
	uint8_t b[2];

	if (big) { b[0] = v >> 8; b[1] = (uint8_t)v; }
	else { b[0] = (uint8_t)v; b[1] = v >> 8; }
	put(b, 2);
}

static void
put32(uint32_t v)
{
	uint8_t b[4];
	int i;

	for (i = 0; i < 4; i++)
		b[big ? 3 - i : i] = (uint8_t)(v >> (8 * i));
	put(b, 4);
}

static void
put64(uint64_t v)
{
	put32(big ? (uint32_t)(v >> 32) : (uint32_t)v);
	put32(big ? (uint32_t)v : (uint32_t)(v >> 32));
}

static uint16_t
csum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;

	for (; n > 1; p += 2, n -= 2)
		s += (uint32_t)(p[0] << 8 | p[1]);
	if (n)
		s += (uint32_t)p[0] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* Build a frame of wire length len for linktype lt into b. */
static void
frame(uint8_t *b, uint32_t len, uint32_t lt)
{
	uint8_t *ip = b;
	uint32_t iplen, i;
	int tcp = rnd() % 4 == 0;

	if (lt == 1) {
		static const uint8_t eth[14] = { 0x02, 0, 0, 0, 0, 1,
		    0x02, 0, 0, 0, 0, 2, 0x08, 0x00 };
		memcpy(b, eth, 14);
		ip = b + 14;
		iplen = len - 14;
	} else {
		iplen = len;
	}
	memset(ip, 0, 20);
	ip[0] = 0x45;
	ip[2] = (uint8_t)(iplen >> 8);
	ip[3] = (uint8_t)iplen;
	ip[4] = (uint8_t)rnd();
	ip[5] = (uint8_t)rnd();
	ip[8] = 64;
	ip[9] = tcp ? 6 : 17;
	ip[12] = 10; ip[13] = 0; ip[14] = (uint8_t)(rnd() % 4); ip[15] = 1;
	ip[16] = 192; ip[17] = 0; ip[18] = 2; ip[19] = (uint8_t)(1 + rnd() % 8);
	ip[10] = ip[11] = 0;
	{
		uint16_t c = csum(ip, 20);
		ip[10] = c >> 8;
		ip[11] = (uint8_t)c;
	}
	ip[20] = 0x30; ip[21] = (uint8_t)(rnd() % 8);		/* sport */
	ip[22] = 0; ip[23] = rnd() % 2 ? 53 : 80;		/* dport */
	if (tcp) {
		for (i = 24; i < 40; i++)
			ip[i] = (uint8_t)rnd();
		ip[32] = 0x50;
		if (flows) {
			uint32_t *sq = &flow_seq[ip[14] * 128 + (ip[19] - 1) *
			    16 + ip[21] * 2 + (ip[23] == 80)];

			/* a drop, decided by bytes already drawn */
			if ((ip[28] << 8 | ip[29]) % 1000 == 0)
				*sq += 1000;
			ip[24] = (uint8_t)(*sq >> 24);
			ip[25] = (uint8_t)(*sq >> 16);
			ip[26] = (uint8_t)(*sq >> 8);
			ip[27] = (uint8_t)*sq;
			ip[33] = 0x18;
			*sq += iplen - 40;
		}
	} else {
		uint32_t ul = iplen - 20;
		ip[24] = (uint8_t)(ul >> 8);
		ip[25] = (uint8_t)ul;
		ip[26] = ip[27] = 0;
	}
	for (i = (uint32_t)(ip - b) + 40; i < len; i++)
		b[i] = (uint8_t)rnd();
}

static uint32_t
imix(void)
{
	uint64_t r = rnd() % 12;

	return r < 7 ? 64 : r < 11 ? 576 : 1500;
}

static void
usage(void)
{
	fprintf(stderr, "usage: gencap [-NkPx] [-n N] [-S seed] [-F fmt] "
	    "[-E order] [-l lt] [-t ns] [-i ns] [-j ns] [-m size|imix] "
	    "[-s snap] [-r res] [-O sec] [-I n] [-L lt] [-b k] [-T] -o file\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	uint64_t n = 1000, seed = 1, t0 = 1700000000000000000ull;
	uint64_t ival = 1000000, jitter = 0, k, back = 0;
	uint32_t lt = 1, lt1 = 0, snap = 262144, size = 0, nif = 1;
	int ng = 0, nano = 0, keep = 0, spb = 0, extra = 0, c, res = -1;
	int64_t tsoff = 0;
	uint64_t f, nfiles = 1, fstep = 1000;
	const char *path = NULL;
	static uint8_t b[262144 + 64];

	while ((c = getopt(argc, argv, "b:D:E:F:i:I:j:kl:L:m:M:n:NO:o:Pr:s:S:t:Tx"))
	    != -1) {
		switch (c) {
		case 'b': back = strtoull(optarg, NULL, 0); break;
		case 'D': fstep = strtoull(optarg, NULL, 0); break;
		case 'M': nfiles = strtoull(optarg, NULL, 0); break;
		case 'E': big = strcmp(optarg, "big") == 0; break;
		case 'F': ng = strcmp(optarg, "pcapng") == 0; break;
		case 'i': ival = strtoull(optarg, NULL, 0); break;
		case 'I': nif = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'j': jitter = strtoull(optarg, NULL, 0); break;
		case 'k': keep = 1; break;
		case 'l': lt = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'L': lt1 = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'm': size = strcmp(optarg, "imix") == 0 ? 0 :
		    (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'n': n = strtoull(optarg, NULL, 0); break;
		case 'N': nano = 1; break;
		case 'O': tsoff = strtoll(optarg, NULL, 0); break;
		case 'o': path = optarg; break;
		case 'P': spb = 1; break;
		case 'r': res = (int)strtol(optarg, NULL, 0); break;
		case 's': snap = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'S': seed = strtoull(optarg, NULL, 0); break;
		case 't': t0 = strtoull(optarg, NULL, 0); break;
		case 'T': flows = 1; break;
		case 'x': extra = 1; break;
		default: usage();
		}
	}
	if (path == NULL || nif < 1 || (size != 0 && (size < 60 ||
	    size > 262144)))
		usage();
	for (f = 0; f < nfiles; f++) {
		char cur[4096];

		if (nfiles > 1)
			snprintf(cur, sizeof(cur), path, (unsigned)f);
		else
			snprintf(cur, sizeof(cur), "%s", path);
		/* each file a machine of its own: its flows start at 0 */
		memset(flow_seq, 0, sizeof(flow_seq));
		out = strcmp(cur, "-") == 0 ? stdout : fopen(cur, "wb");
		if (out == NULL) {
			perror(cur);
			return 1;
		}
		rng_state = seed + f;
		if (res < 0)
			res = nano ? 9 : 6;

		if (!ng) {
			put32(nano ? 0xa1b23c4du : 0xa1b2c3d4u);
			put16(2); put16(4); put32(0); put32(0);
			put32(snap); put32(lt);
		} else {
			uint32_t i;
			put32(0x0a0d0d0au); put32(28); put32(0x1a2b3c4du);
			put16(1); put16(0); put64(UINT64_MAX); put32(28);
			for (i = 0; i < nif; i++) {
				uint32_t blen = 20 + 8 + (tsoff ? 12 : 0) + 4;
				put32(1); put32(blen);
				put16((uint16_t)(i == 1 && lt1 ? lt1 : lt)); put16(0);
				put32(snap);
				put16(9); put16(1);
				{ uint8_t r[4] = { (uint8_t)res, 0, 0, 0 }; put(r, 4); }
				if (tsoff) { put16(14); put16(8); put64((uint64_t)tsoff); }
				put32(0);
				put32(blen);
			}
			if (extra) {	/* a custom block, to be skipped */
				put32(0x00000badu); put32(20); put32(32473);
				put32(0xdeadbeef); put32(20);
			}
		}

		for (k = 0; k < n; k++) {
			uint32_t len = size ? size : imix(), cap, ifid = 0;
			uint64_t t = t0 + f * fstep + k * ival + (jitter ? rnd() % jitter : 0);
			uint32_t plt = lt;

			if (back && k > 0 && k % back == 0)
				t -= 2 * ival;
			if (ng && nif > 1) {
				ifid = (uint32_t)(k % nif);
				if (ifid == 1 && lt1)
					plt = lt1;
			}
			if (plt != 1 && len < 40)
				len = 40;
			frame(b, len, plt);
			cap = len < snap || keep ? len : snap;
			if (!ng) {
				put32((uint32_t)(t / 1000000000));
				put32((uint32_t)(nano ? t % 1000000000 :
				    t % 1000000000 / 1000));
				put32(cap); put32(len);
				put(b, cap);
			} else if (spb) {
				uint32_t pad = (4 - cap % 4) % 4;
				put32(3); put32(16 + cap + pad);
				put32(len); put(b, cap);
				put("\0\0\0", pad); put32(16 + cap + pad);
			} else {
				uint32_t pad = (4 - cap % 4) % 4;
				uint64_t ticks, ts = t - (uint64_t)tsoff * 1000000000;
				if (res & 0x80)
					ticks = (uint64_t)(((unsigned __int128)ts <<
					    (res & 0x7f)) / 1000000000);
				else if (res <= 9) {
					uint64_t d = 1;
					int e;
					for (e = res; e < 9; e++)
						d *= 10;
					ticks = ts / d;
				} else {
					ticks = ts;
					for (int e = 9; e < res; e++)
						ticks *= 10;
				}
				put32(6); put32(32 + cap + pad);
				put32(ifid);
				put32((uint32_t)(ticks >> 32)); put32((uint32_t)ticks);
				put32(cap); put32(len);
				put(b, cap);
				put("\0\0\0", pad);
				put32(32 + cap + pad);
				if (extra && k % 100 == 0) {	/* an NRB to skip */
					put32(4); put32(16); put32(0); put32(16);
				}
			}
		}
		if (out != stdout && fclose(out) != 0) {
			perror(cur);
			return 1;
		}
		if (out == stdout && fflush(stdout) != 0)
			return 1;
	}
	return 0;
}
