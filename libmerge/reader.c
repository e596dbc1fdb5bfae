/*
 * reader.c - pcap and pcapng readers.
 *
 * Records are returned byte-exact: a caplen above the file's snaplen is
 * kept (libpcap cuts such records to the snaplen; we do not).  Damage is
 * reported once, with its offset in the decompressed stream and the number
 * of bytes skipped to reach the next plausible record, and reading goes on
 * from there: a damaged file loses only its damaged bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "merge_int.h"

enum ts_kind { TS_MUL, TS_DIV, TS_POW2 };

struct iface {
	uint32_t linktype;
	uint32_t snaplen;
	enum ts_kind kind;
	uint64_t factor;	/* MUL/DIV: power of ten; POW2: the shift */
	int64_t offset_ns;	/* if_tsoffset */
	uint8_t *opts;		/* the options passed on (see pm_packet) */
	uint32_t optlen;
};

struct pm_reader {
	struct pm_src s;
	char *name;
	enum pm_format fmt;
	int swap;
	int nano;
	uint32_t snaplen;
	/* classic pcap */
	uint32_t linktype;
	uint64_t frac_mul;	/* 1 (ns) or 1000 (us) */
	uint32_t frac_lim;	/* 1000000000 (ns) or 1000000 (us) */
	/* pcapng */
	struct iface *ifs;
	size_t nifs, capifs;
	/* linktypes declared, without repeats */
	uint32_t *lts;
	size_t nlts, caplts;
	uint8_t *optbuf;	/* the options of the packet last read */
	size_t optcap;
	struct pm_meta meta;	/* the metadata of the packet last read */
	int end_reported;
	int dead;		/* a final error was returned */
	struct pm_reader_stats st;
	struct pm_damage dmg;
	int window;		/* pm_reader_set_window */
	int64_t wstart, wstop, wshift;
	char errbuf[PM_ERRBUF_SIZE];
};

static const uint64_t pow10[] = {
	1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull,
	10000000ull, 100000000ull, 1000000000ull, 10000000000ull,
	100000000000ull, 1000000000000ull, 10000000000000ull,
	100000000000000ull, 1000000000000000ull, 10000000000000000ull,
	100000000000000000ull, 1000000000000000000ull,
	10000000000000000000ull
};

static int
add_linktype(pm_reader *r, uint32_t lt)
{
	size_t i;
	uint32_t *n;

	for (i = 0; i < r->nlts; i++)
		if (r->lts[i] == lt)
			return 0;
	if (r->nlts == r->caplts) {
		r->caplts = r->caplts ? r->caplts * 2 : 4;
		if ((n = realloc(r->lts, r->caplts * sizeof(*n))) == NULL)
			return pm_seterr(r->errbuf, PM_ERR_NOMEM,
			    "out of memory");
		r->lts = n;
	}
	r->lts[r->nlts++] = lt;
	return 0;
}

/* ---- damage ------------------------------------------------------------ */

static void
count_damage(pm_reader *r, int at_eof)
{
	if (r->st.damaged++ == 0)
		r->st.first_damage = r->dmg.offset;
	r->st.skipped_bytes += r->dmg.skipped;
	if (at_eof)
		r->st.truncated = 1;
}

/* The stream ends inside a record of which avail bytes are present. */
static int
truncated(pm_reader *r, long avail, const char *what, uint64_t want)
{
	uint64_t off = pm_src_offset(&r->s);

	r->s.pos += (size_t)avail;
	r->dmg.offset = off;
	r->dmg.skipped = (uint64_t)avail;
	r->dmg.resynced = 0;
	count_damage(r, 1);
	return pm_seterr(r->errbuf, PM_ERR_TRUNCATED,
	    "truncated %s at offset %llu: %llu bytes expected, %ld present; "
	    "%ld bytes skipped", what, (unsigned long long)off,
	    (unsigned long long)want, avail, avail);
}

/* Is p (n bytes available) a plausible classic pcap record header? */
static int
pcap_plausible(const pm_reader *r, const uint8_t *p)
{
	uint32_t sec = pm_get32(p, r->swap);
	uint32_t frac = pm_get32(p + 4, r->swap);
	uint32_t caplen = pm_get32(p + 8, r->swap);
	uint32_t len = pm_get32(p + 12, r->swap);

	if (caplen > PM_MAX_CAPLEN || caplen > len || len > 16 * PM_MAX_CAPLEN)
		return 0;
	if (frac >= r->frac_lim)
		return 0;
	if (r->st.packets > 0) {
		int64_t t = (int64_t)sec * 1000000000 + (int64_t)frac *
		    (int64_t)r->frac_mul;
		int64_t d = t - r->st.last_ts;
		if (d > 86400LL * 1000000000 || d < -86400LL * 1000000000)
			return 0;
	}
	return 1;
}

static int
known_block(uint32_t t)
{
	switch (t) {
	case PM_PCAPNG_SHB: case PM_BT_IDB: case PM_BT_PB: case PM_BT_SPB:
	case PM_BT_NRB: case PM_BT_ISB: case PM_BT_EPB: case PM_BT_DSB:
	case 9: case 0x00000bad: case 0x40000bad:
		return 1;
	}
	return 0;
}

/*
 * Is there a plausible record at the current position?  May move the
 * window; returns 1, 0, or a negative error.
 */
static int
resync_here(pm_reader *r)
{
	long n;
	const uint8_t *p;

	if (r->fmt == PM_FMT_PCAP) {
		uint32_t caplen;

		if ((n = pm_src_fill(&r->s, 16)) < 16)
			return n < 0 ? (int)n : 0;
		p = r->s.buf + r->s.pos;
		if (!pcap_plausible(r, p))
			return 0;
		caplen = pm_get32(p + 8, r->swap);
		n = pm_src_fill(&r->s, 32 + (size_t)caplen);
		if (n < 0)
			return (int)n;
		p = r->s.buf + r->s.pos;
		if ((size_t)n == 16 + (size_t)caplen && r->s.eof)
			return 1;	/* the last record */
		return (size_t)n == 32 + (size_t)caplen &&
		    pcap_plausible(r, p + 16 + caplen);
	} else {
		uint32_t t, blen;
		int swap = r->swap;

		if ((n = pm_src_fill(&r->s, 12)) < 12)
			return n < 0 ? (int)n : 0;
		p = r->s.buf + r->s.pos;
		t = pm_get32(p, swap);
		if (pm_get32(p, 0) == PM_PCAPNG_SHB) {
			uint32_t bom = pm_get32(p + 8, 0);
			if (bom == PM_PCAPNG_BOM)
				swap = 0;
			else if (bom == __builtin_bswap32(PM_PCAPNG_BOM))
				swap = 1;
			else
				return 0;
			t = PM_PCAPNG_SHB;
		}
		if (!known_block(t))
			return 0;
		blen = pm_get32(p + 4, swap);
		if (blen < 12 || blen % 4 != 0 || blen > PM_PCAPNG_MAX_BLOCK)
			return 0;
		if ((n = pm_src_fill(&r->s, blen)) < 0)
			return (int)n;
		if ((size_t)n < blen)
			return 0;
		p = r->s.buf + r->s.pos;
		return pm_get32(p + blen - 4, swap) == blen;
	}
}

/*
 * The record at the current position is impossible: skip byte by byte to
 * the next plausible one (or the end) and report the gap.
 */
static int
damaged(pm_reader *r, const char *fmt, uint32_t v)
{
	uint64_t off = pm_src_offset(&r->s);
	char what[160];
	int rc;

	snprintf(what, sizeof(what), fmt, v);
	r->s.pos++;
	for (;;) {
		rc = resync_here(r);
		if (rc < 0) {
			r->dead = 1;
			return rc;
		}
		if (rc == 1)
			break;
		if (r->s.pos == r->s.end && r->s.eof)
			break;
		r->s.pos++;
		if (r->s.pos > r->s.end)
			r->s.pos = r->s.end;
	}
	r->dmg.offset = off;
	r->dmg.skipped = pm_src_offset(&r->s) - off;
	r->dmg.resynced = rc == 1;
	count_damage(r, 0);
	return pm_seterr(r->errbuf, PM_ERR_DAMAGED,
	    "damaged record at offset %llu (%s); %llu bytes skipped%s",
	    (unsigned long long)off, what,
	    (unsigned long long)r->dmg.skipped,
	    rc == 1 ? ", reading resumed" : " to the end of the file");
}

/* A pcapng block whose frame is sound but whose contents are impossible. */
static int
bad_block(pm_reader *r, uint32_t blen, const char *fmt, uint32_t v)
{
	uint64_t off = pm_src_offset(&r->s);
	char what[160];

	snprintf(what, sizeof(what), fmt, v);
	r->s.pos += blen;
	r->dmg.offset = off;
	r->dmg.skipped = blen;
	r->dmg.resynced = 1;
	count_damage(r, 0);
	return pm_seterr(r->errbuf, PM_ERR_DAMAGED,
	    "damaged block at offset %llu (%s); %u bytes skipped",
	    (unsigned long long)off, what, blen);
}

static int
at_end(pm_reader *r)
{
	if (r->s.trunc && !r->end_reported) {
		r->end_reported = 1;
		r->dmg.offset = pm_src_offset(&r->s);
		r->dmg.skipped = 0;
		r->dmg.resynced = 0;
		count_damage(r, 1);
		return pm_seterr(r->errbuf, PM_ERR_TRUNCATED,
		    "%s stream cut short after %llu compressed bytes "
		    "(%llu bytes decompressed); the rest is lost",
		    r->s.comp == PM_COMP_GZIP ? "gzip" : "zstd",
		    (unsigned long long)r->s.bytes_in,
		    (unsigned long long)r->dmg.offset);
	}
	return 0;
}

static int
fail(pm_reader *r, long rc)
{
	r->dead = 1;
	return (int)rc;
}

/* Count pkt; 0 when it falls outside the window (then dropped). */
static inline int
account(pm_reader *r, struct pm_packet *pkt)
{
	if (__builtin_expect(r->window, 0)) {
		int64_t t;

		if (__builtin_add_overflow(pkt->ts, r->wshift, &t))
			t = r->wshift > 0 ? INT64_MAX : INT64_MIN;
		if (t < r->wstart || t >= r->wstop) {
			r->st.outside_window++;
			r->st.bytes_in = r->s.bytes_in;
			return 0;
		}
	}
	pm_stats_add(&r->st, pkt);
	r->st.bytes_in = r->s.bytes_in;
	return 1;
}

void
pm_reader_set_window(pm_reader *r, int64_t start, int64_t stop,
    int64_t shift)
{
	r->window = 1;
	r->wstart = start;
	r->wstop = stop;
	r->wshift = shift;
}

/* ---- classic pcap -------------------------------------------------------- */

static int
pcap_next(pm_reader *r, struct pm_packet *pkt)
{
	const uint8_t *p;
	uint32_t caplen, frac;
	long n;

	if ((n = pm_src_fill(&r->s, 16)) < 16) {
		if (n < 0)
			return fail(r, n);
		if (n == 0)
			return at_end(r);
		return truncated(r, n, "record header", 16);
	}
	p = r->s.buf + r->s.pos;
	caplen = pm_get32(p + 8, r->swap);
	if (caplen > PM_MAX_CAPLEN)
		return damaged(r, "caplen %u is over 262144", caplen);
	if ((n = pm_src_fill(&r->s, 16 + (size_t)caplen)) < 16 + (long)caplen) {
		if (n < 0)
			return fail(r, n);
		return truncated(r, n, "record", 16 + (uint64_t)caplen);
	}
	p = r->s.buf + r->s.pos;
	frac = pm_get32(p + 4, r->swap);
	r->st.bad_frac += frac >= r->frac_lim;
	pkt->ts = (int64_t)pm_get32(p, r->swap) * 1000000000 +
	    (int64_t)frac * (int64_t)r->frac_mul;
	pkt->caplen = caplen;
	pkt->len = pm_get32(p + 12, r->swap);
	pkt->linktype = r->linktype;
	pkt->snaplen = r->snaplen;
	pkt->data = p + 16;
	pkt->headroom = 16;
	pkt->meta = NULL;
	r->s.pos += 16 + (size_t)caplen;
	/*
	 * In a merge the next record of this file is parsed only after one of
	 * every other input's: by then it has left the caches (read(2) filled
	 * the buffer long before).  Asking for it now hides that miss.
	 */
	__builtin_prefetch(r->s.buf + r->s.pos);
	return account(r, pkt) ? 1 : 2;
}

/* ---- pcapng ---------------------------------------------------------------- */

/* A time out of int64 nanoseconds is held at the nearest end and counted. */
static int64_t
ticks_to_ns(const struct iface *f, uint64_t t, uint64_t *bad)
{
	__int128 v;

	switch (f->kind) {
	case TS_MUL:
		v = (__int128)t * f->factor;
		break;
	case TS_DIV:
		v = t / f->factor;
		break;
	default:
		v = ((__int128)t * 1000000000) >> f->factor;
		break;
	}
	v += f->offset_ns;
	if (v > INT64_MAX || v < INT64_MIN) {
		v = v > 0 ? INT64_MAX : INT64_MIN;
		++*bad;
	}
	return (int64_t)v;
}

/*
 * The layout of an option value the pcapng specification defines, so that
 * one from a file of the other byte order can be converted: OV_BYTES is
 * kept as it is, OV_U32/OV_U64 is one number (of exactly that size),
 * OV_PEN a private enterprise number and bytes, OV_TYPED a type byte and a
 * value whose layout the type says (if_filter, epb_verdict).  OV_NONE: not
 * defined.
 */
enum optval { OV_NONE, OV_BYTES, OV_U32, OV_U64, OV_PEN, OV_TYPED };

static enum optval
opt_layout(int idb, uint16_t code)
{
	if (code == 1)				/* opt_comment */
		return OV_BYTES;
	if (code == 2988 || code == 2989)	/* custom, copyable */
		return OV_PEN;
	if (idb) {
		switch (code) {
		case 2: case 3: case 4: case 5: case 6: case 7: case 12:
		case 13: case 15: case 18:	/* 13: if_fcslen, one byte */
			return OV_BYTES;
		case 8: case 16: case 17:	/* if_speed, if_tx/rxspeed */
			return OV_U64;
		case 10:			/* if_tzone */
			return OV_U32;
		case 11:			/* if_filter */
			return OV_TYPED;
		}
		return OV_NONE;
	}
	switch (code) {
	case 3:					/* epb_hash */
		return OV_BYTES;
	case 2: case 6:				/* epb_flags, epb_queue */
		return OV_U32;
	case 4: case 5:				/* epb_dropcount, epb_packetid */
		return OV_U64;
	case 7:					/* epb_verdict */
		return OV_TYPED;
	}
	return OV_NONE;
}

/*
 * How to convert option code (len bytes at v) from the other byte order,
 * with OV_TYPED resolved (if_filter: only a filter string, type 0, is
 * bytes; epb_verdict: types 2 and 3, eBPF, are one 64-bit number after
 * the type byte, the rest bytes).  OV_NONE: it cannot be converted.
 */
static enum optval
swapped_layout(int idb, uint16_t code, const uint8_t *v, uint16_t len)
{
	enum optval lay = opt_layout(idb, code);

	switch (lay) {
	case OV_U32:
		return len == 4 ? lay : OV_NONE;
	case OV_U64:
		return len == 8 ? lay : OV_NONE;
	case OV_PEN:
		return len >= 4 ? lay : OV_NONE;
	case OV_TYPED:
		if (len < 1)
			return OV_NONE;
		if (idb)
			return v[0] == 0 ? OV_BYTES : OV_NONE;
		if (v[0] == 2 || v[0] == 3)
			return len == 9 ? OV_TYPED : OV_NONE;
		return OV_BYTES;
	default:
		return lay;
	}
}

/*
 * Copy the options between o and e (of an IDB when idb) to dst, which has
 * room for e - o bytes, in host byte order and without the options
 * pm_packet leaves out.  A malformed option ends the list.  Returns the
 * bytes written.
 */
static size_t
copy_opts(const pm_reader *r, int idb, const uint8_t *o, const uint8_t *e,
    uint8_t *dst)
{
	uint8_t *d = dst;

	while (e - o >= 4) {
		uint16_t code = pm_get16(o, r->swap);
		uint16_t len = pm_get16(o + 2, r->swap);
		const uint8_t *v = o + 4;
		size_t padded = (len + 3u) & ~3u;
		enum optval lay = OV_BYTES;
		uint64_t x;
		uint32_t y;

		if (code == 0 || padded > (size_t)(e - v))
			break;
		o = v + padded;
		if ((idb && (code == 9 || code == 14)) || code == 19372 ||
		    code == 19373)
			continue;	/* applied to ts, or not to be copied */
		if (r->swap && (lay = swapped_layout(idb, code, v, len)) ==
		    OV_NONE)
			continue;
		memcpy(d, &code, 2);
		memcpy(d + 2, &len, 2);
		memcpy(d + 4, v, len);
		memset(d + 4 + len, 0, padded - len);
		if (r->swap) {
			switch (lay) {
			case OV_U32:
			case OV_PEN:	/* the number comes first */
				y = pm_get32(v, 1);
				memcpy(d + 4, &y, 4);
				break;
			case OV_U64:
				x = pm_get64(v, 1);
				memcpy(d + 4, &x, 8);
				break;
			case OV_TYPED:
				x = pm_get64(v + 1, 1);
				memcpy(d + 5, &x, 8);
				break;
			default:
				break;
			}
		}
		d += 4 + padded;
	}
	return (size_t)(d - dst);
}

/* Parse an IDB body (p: the block, blen its length) into f. */
static void
parse_idb(const pm_reader *r, const uint8_t *p, uint32_t blen, struct iface *f)
{
	const uint8_t *o = p + 16, *e = p + blen - 4;

	f->linktype = pm_get16(p + 8, r->swap);
	f->snaplen = pm_get32(p + 12, r->swap);
	f->kind = TS_MUL;
	f->factor = 1000;	/* default resolution: microseconds */
	f->offset_ns = 0;
	while (o + 4 <= e) {
		uint16_t code = pm_get16(o, r->swap);
		uint16_t len = pm_get16(o + 2, r->swap);
		const uint8_t *v = o + 4;

		if (code == 0 || v + len > e)
			break;
		if (code == 9 && len >= 1) {	/* if_tsresol */
			unsigned x = v[0] & 0x7f;
			if (v[0] & 0x80) {
				if (x <= 63) {
					f->kind = TS_POW2;
					f->factor = x;
				}
			} else if (x <= 9) {
				f->kind = TS_MUL;
				f->factor = pow10[9 - x];
			} else if (x <= 19) {
				f->kind = TS_DIV;
				f->factor = pow10[x - 9];
			}
		} else if (code == 14 && len >= 8) {	/* if_tsoffset */
			int64_t s = (int64_t)pm_get64(v, r->swap);
			if (s > -9000000000LL && s < 9000000000LL)
				f->offset_ns = s * 1000000000;
		}
		o = v + ((len + 3u) & ~3u);
	}
}

static int
iface_nano(const struct iface *f)
{
	return !(f->kind == TS_MUL && f->factor >= 1000);
}

static int
add_iface(pm_reader *r, const uint8_t *p, uint32_t blen)
{
	struct iface *n;
	int rc;

	if (r->nifs == r->capifs) {
		size_t cap = r->capifs ? r->capifs * 2 : 4;
		if ((n = realloc(r->ifs, cap * sizeof(*n))) == NULL)
			return pm_seterr(r->errbuf, PM_ERR_NOMEM,
			    "out of memory");
		memset(n + r->capifs, 0, (cap - r->capifs) * sizeof(*n));
		r->ifs = n;
		r->capifs = cap;
	}
	/* An entry may be reused after a new section header: free first. */
	n = &r->ifs[r->nifs];
	free(n->opts);
	n->opts = NULL;
	n->optlen = 0;
	if (blen > 20) {
		if ((n->opts = malloc(blen - 20)) == NULL)
			return pm_seterr(r->errbuf, PM_ERR_NOMEM,
			    "out of memory");
		n->optlen = (uint32_t)copy_opts(r, 1, p + 16, p + blen - 4,
		    n->opts);
	}
	r->nifs++;
	parse_idb(r, p, blen, n);
	if (n->snaplen > r->snaplen)
		r->snaplen = n->snaplen;
	if (iface_nano(n))
		r->nano = 1;
	if ((rc = add_linktype(r, n->linktype)) < 0)
		return rc;
	return 0;
}

/* The options of a packet block, between o and e, into r->meta. */
static int
packet_opts(pm_reader *r, const uint8_t *o, const uint8_t *e)
{
	size_t n = (size_t)(e - o);

	if (n > r->optcap) {
		uint8_t *b = realloc(r->optbuf, n);
		if (b == NULL)
			return pm_seterr(r->errbuf, PM_ERR_NOMEM,
			    "out of memory");
		r->optbuf = b;
		r->optcap = n;
	}
	r->meta.optlen = (uint32_t)copy_opts(r, 0, o, e, r->optbuf);
	r->meta.opts = r->meta.optlen > 0 ? r->optbuf : NULL;
	return 0;
}

static int
pcapng_next(pm_reader *r, struct pm_packet *pkt)
{
	const uint8_t *p;
	uint32_t type, blen, ifid, caplen, len;
	uint64_t ticks;
	long n;
	int rc;

	r->meta.opts = NULL;	/* until a packet block has some */
	r->meta.optlen = 0;
	for (;;) {
		if ((n = pm_src_fill(&r->s, 12)) < 12) {
			if (n < 0)
				return fail(r, n);
			if (n == 0)
				return at_end(r);
			return truncated(r, n, "block header", 12);
		}
		p = r->s.buf + r->s.pos;
		if (pm_get32(p, 0) == PM_PCAPNG_SHB) {
			uint32_t bom = pm_get32(p + 8, 0);
			if (bom == PM_PCAPNG_BOM)
				r->swap = 0;
			else if (bom == __builtin_bswap32(PM_PCAPNG_BOM))
				r->swap = 1;
			else
				return damaged(r, "section header with byte-order "
				    "magic 0x%08x", bom);
		}
		type = pm_get32(p, r->swap);
		blen = pm_get32(p + 4, r->swap);
		if (blen < 12 || blen % 4 != 0 || blen > PM_PCAPNG_MAX_BLOCK)
			return damaged(r, "block length %u", blen);
		if ((n = pm_src_fill(&r->s, blen)) < (long)blen) {
			if (n < 0)
				return fail(r, n);
			return truncated(r, n, "block", blen);
		}
		p = r->s.buf + r->s.pos;
		if (pm_get32(p + blen - 4, r->swap) != blen)
			return damaged(r, "block length %u does not match its "
			    "trailer", blen);

		switch (type) {
		case PM_PCAPNG_SHB:
			if (blen < 28)
				return bad_block(r, blen,
				    "section header of %u bytes", blen);
			if (pm_get16(p + 12, r->swap) != 1)
				return bad_block(r, blen,
				    "section version %u", pm_get16(p + 12,
				    r->swap));
			r->nifs = 0;	/* interfaces are per section */
			r->s.pos += blen;
			continue;
		case PM_BT_IDB:
			if (blen < 20)
				return bad_block(r, blen,
				    "interface block of %u bytes", blen);
			if ((rc = add_iface(r, p, blen)) < 0)
				return fail(r, rc);
			r->s.pos += blen;
			continue;
		case PM_BT_EPB:
		case PM_BT_PB:
			if (blen < 32)
				return bad_block(r, blen,
				    "packet block of %u bytes", blen);
			ifid = type == PM_BT_EPB ? pm_get32(p + 8, r->swap) :
			    pm_get16(p + 8, r->swap);
			ticks = (uint64_t)pm_get32(p + 12, r->swap) << 32 |
			    pm_get32(p + 16, r->swap);
			caplen = pm_get32(p + 20, r->swap);
			len = pm_get32(p + 24, r->swap);
			if (ifid >= r->nifs)
				return bad_block(r, blen, "packet for undefined "
				    "interface %u", ifid);
			if (caplen > blen - 32)
				return bad_block(r, blen, "caplen %u is longer "
				    "than its block", caplen);
			if (caplen > PM_MAX_CAPLEN)
				return bad_block(r, blen, "caplen %u is over "
				    "262144", caplen);
			pkt->ts = ticks_to_ns(&r->ifs[ifid], ticks,
			    &r->st.bad_time);
			pkt->data = p + 28;
			/* options: after the padded data, before the trailer
			 * (caplen <= blen - 32 puts their start at most there) */
			n = 28 + ((caplen + 3u) & ~3u);
			if (blen - 4 - n >= 4 &&
			    (rc = packet_opts(r, p + n, p + blen - 4)) < 0)
				return fail(r, rc);
			break;
		case PM_BT_SPB:
			if (blen < 16)
				return bad_block(r, blen,
				    "simple packet block of %u bytes", blen);
			if (r->nifs == 0)
				return bad_block(r, blen, "simple packet block "
				    "before interface %u", 0);
			ifid = 0;
			len = pm_get32(p + 8, r->swap);
			caplen = blen - 16;
			if (len < caplen)
				caplen = len;
			if (r->ifs[0].snaplen != 0 && caplen > r->ifs[0].snaplen)
				caplen = r->ifs[0].snaplen;
			if (caplen > PM_MAX_CAPLEN)
				return bad_block(r, blen, "caplen %u is over "
				    "262144", caplen);
			/* No timestamp: keep the file's order. */
			pkt->ts = r->st.packets > 0 ? r->st.last_ts : 0;
			pkt->data = p + 12;
			break;
		default:
			r->s.pos += blen;
			continue;
		}
		pkt->caplen = caplen;
		pkt->len = len;
		pkt->headroom = 0;
		pkt->linktype = r->ifs[ifid].linktype;
		pkt->snaplen = r->ifs[ifid].snaplen;
		r->meta.ifopts = r->ifs[ifid].opts;
		r->meta.ifoptlen = r->ifs[ifid].optlen;
		pkt->meta = &r->meta;
		r->s.pos += blen;
		return account(r, pkt) ? 1 : 2;
	}
}

/*
 * Look ahead (without consuming) at the interface blocks that precede the
 * first packet, so that linktypes, snaplen and precision are known at open.
 */
static int
pcapng_peek(pm_reader *r)
{
	size_t want = r->s.cap < 65536 ? r->s.cap : 65536;
	long n = pm_src_fill(&r->s, want);
	const uint8_t *p, *e;
	int swap = r->swap;

	if (n < 0)
		return (int)n;
	p = r->s.buf + r->s.pos;
	e = p + n;
	while (e - p >= 12) {
		uint32_t t = pm_get32(p, swap), blen = pm_get32(p + 4, swap);
		struct iface f;

		if (blen < 12 || blen % 4 != 0 || blen > (size_t)(e - p))
			break;
		if (t == PM_BT_EPB || t == PM_BT_SPB || t == PM_BT_PB)
			break;
		if (t == PM_BT_IDB && blen >= 20) {
			parse_idb(r, p, blen, &f);
			if (f.snaplen > r->snaplen)
				r->snaplen = f.snaplen;
			if (iface_nano(&f))
				r->nano = 1;
			if (add_linktype(r, f.linktype) < 0)
				return PM_ERR_NOMEM;
		}
		p += blen;
	}
	return 0;
}

/* ---- open / close ------------------------------------------------------ */

static int
open_header(pm_reader *r)
{
	const uint8_t *p;
	uint32_t magic;
	long n;

	if ((n = pm_src_fill(&r->s, 24)) < 0)
		return (int)n;
	if (n == 0 && r->s.trunc)
		return pm_seterr(r->errbuf, PM_ERR_TRUNCATED,
		    "%s stream cut short before its first bytes",
		    r->s.comp == PM_COMP_GZIP ? "gzip" : "zstd");
	if (n == 0)
		return pm_seterr(r->errbuf, PM_ERR_FORMAT,
		    "empty file, not a capture");
	p = r->s.buf + r->s.pos;
	magic = n >= 4 ? pm_get32(p, 0) : 0;
	switch (magic) {
	case PM_PCAP_MAGIC_US: case PM_PCAP_MAGIC_NS:
		r->swap = 0;
		break;
	case 0xd4c3b2a1u: case 0x4d3cb2a1u:
		r->swap = 1;
		break;
	case PM_PCAPNG_SHB:
		r->fmt = PM_FMT_PCAPNG;
		if (n < 12)
			return pm_seterr(r->errbuf, PM_ERR_TRUNCATED,
			    "truncated pcapng section header (%ld bytes)", n);
		magic = pm_get32(p + 8, 0);
		if (magic == PM_PCAPNG_BOM)
			r->swap = 0;
		else if (magic == __builtin_bswap32(PM_PCAPNG_BOM))
			r->swap = 1;
		else
			return pm_seterr(r->errbuf, PM_ERR_FORMAT,
			    "pcapng section header with a bad byte-order "
			    "magic 0x%08x", magic);
		if (n < 24 || pm_get16(p + 12, r->swap) != 1)
			return pm_seterr(r->errbuf, PM_ERR_FORMAT,
			    "unsupported pcapng version %u.%u",
			    n < 16 ? 0 : pm_get16(p + 12, r->swap),
			    n < 16 ? 0 : pm_get16(p + 14, r->swap));
		return pcapng_peek(r);
	case 0xa1b2cd34u: case 0x34cdb2a1u:
		return pm_seterr(r->errbuf, PM_ERR_FORMAT,
		    "a Kuznetzov (modified) pcap, which is not supported");
	default:
		if (n < 4)
			return pm_seterr(r->errbuf, PM_ERR_FORMAT,
			    "not a capture file (only %ld bytes)", n);
		return pm_seterr(r->errbuf, PM_ERR_FORMAT,
		    "not a capture file (magic 0x%02x%02x%02x%02x)",
		    p[0], p[1], p[2], p[3]);
	}
	r->fmt = PM_FMT_PCAP;
	if (n < 24)
		return pm_seterr(r->errbuf, PM_ERR_TRUNCATED,
		    "truncated pcap file header (%ld of 24 bytes)", n);
	r->nano = pm_get32(p, r->swap) == PM_PCAP_MAGIC_NS;
	r->frac_mul = r->nano ? 1 : 1000;
	r->frac_lim = r->nano ? 1000000000u : 1000000u;
	if (pm_get16(p + 4, r->swap) != 2)
		return pm_seterr(r->errbuf, PM_ERR_FORMAT,
		    "unsupported pcap version %u.%u", pm_get16(p + 4, r->swap),
		    pm_get16(p + 6, r->swap));
	r->snaplen = pm_get32(p + 16, r->swap);
	/*
	 * The linktype is the low 16 bits; above are reserved bits and FCS
	 * information (as libpcap's LT_LINKTYPE).  pcapng has 16 bits too, so
	 * keeping more would change the linktype on conversion.
	 */
	r->linktype = pm_get32(p + 20, r->swap) & 0xffffu;
	r->s.pos += 24;
	return add_linktype(r, r->linktype);
}

pm_reader *
pm_reader_open_fd(int fd, const char *name, size_t bufsize, int *err,
    char *errbuf)
{
	return pm_reader_open_fd_buf(fd, name, NULL, bufsize, 0, err, errbuf);
}

pm_reader *
pm_reader_open_fd_buf(int fd, const char *name, uint8_t *buf,
    size_t bufsize, int crc, int *err, char *errbuf)
{
	pm_reader *r;
	int rc;

	if (buf == NULL && bufsize == 0)
		bufsize = 1u << 20;
	if (buf == NULL && bufsize < 4096)
		bufsize = 4096;
	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->name = strdup(name)) == NULL) {
		free(r);
		close(fd);
		if (err)
			*err = PM_ERR_NOMEM;
		pm_seterr(errbuf, PM_ERR_NOMEM, "out of memory");
		return NULL;
	}
	rc = pm_src_init(&r->s, fd, buf, bufsize, crc, r->errbuf);
	if (rc == 0)
		rc = open_header(r);
	if (rc < 0) {
		pm_seterr(errbuf, rc, "%s", r->errbuf);
		if (err)
			*err = rc;
		pm_reader_close(r);
		return NULL;
	}
	return r;
}

int
pm_reader_crc32c(const pm_reader *r, uint32_t *crc)
{
	/* the raw end: the plain stream's, or the compressed input's */
	int end = r->s.comp == PM_COMP_NONE ? r->s.eof : r->s.zeof;

	if (!r->s.crc_on || !end)
		return 0;
	*crc = r->s.crc;
	return 1;
}

pm_reader *
pm_reader_open(const char *path, size_t bufsize, int *err, char *errbuf)
{
	return pm_reader_open_buf(path, NULL, bufsize, 0, err, errbuf);
}

pm_reader *
pm_reader_open_buf(const char *path, uint8_t *buf, size_t bufsize, int crc,
    int *err, char *errbuf)
{
	int fd;

	do
		fd = open(path, O_RDONLY | O_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0) {
		if (err)
			*err = PM_ERR_IO;
		pm_seterr(errbuf, PM_ERR_IO, "%s", strerror(errno));
		return NULL;
	}
	return pm_reader_open_fd_buf(fd, path, buf, bufsize, crc, err, errbuf);
}

int
pm_reader_next(pm_reader *r, struct pm_packet *pkt)
{
	int rc;

	if (r->dead)
		return PM_ERR_INVAL;
	/* 2: a packet outside the window, dropped */
	do
		rc = r->fmt == PM_FMT_PCAP ? pcap_next(r, pkt) :
		    pcapng_next(r, pkt);
	while (rc == 2);
	return rc;
}

void
pm_reader_close(pm_reader *r)
{
	size_t i;

	if (r == NULL)
		return;
	pm_src_free(&r->s);
	for (i = 0; i < r->capifs; i++)
		free(r->ifs[i].opts);
	free(r->ifs);
	free(r->optbuf);
	free(r->lts);
	free(r->name);
	free(r);
}

void
pm_reader_set_release(pm_reader *r,
    void (*fn)(void *, const uint8_t *, size_t), void *arg)
{
	r->s.release = fn;
	r->s.release_arg = arg;
}

const char *pm_reader_name(const pm_reader *r) { return r->name; }
const char *pm_reader_geterr(const pm_reader *r) { return r->errbuf; }
const struct pm_damage *pm_reader_damage(const pm_reader *r) { return &r->dmg; }
enum pm_format pm_reader_format(const pm_reader *r) { return r->fmt; }
enum pm_compression pm_reader_compression(const pm_reader *r) { return r->s.comp; }
int pm_reader_nano(const pm_reader *r) { return r->nano; }
uint32_t pm_reader_snaplen(const pm_reader *r) { return r->snaplen; }

const struct pm_reader_stats *
pm_reader_stats(const pm_reader *r)
{
	return &r->st;
}

uint64_t pm_reader_bytes_in(const pm_reader *r) { return r->s.bytes_in; }

size_t
pm_reader_linktypes(const pm_reader *r, const uint32_t **types)
{
	*types = r->lts;
	return r->nlts;
}

const char *
pm_strerror(int err)
{
	switch (err) {
	case PM_OK: return "success";
	case PM_ERR_IO: return "I/O error";
	case PM_ERR_NOMEM: return "out of memory";
	case PM_ERR_FORMAT: return "not a capture file";
	case PM_ERR_TRUNCATED: return "truncated capture";
	case PM_ERR_DAMAGED: return "damaged capture";
	case PM_ERR_COMPRESS: return "corrupt compressed data";
	case PM_ERR_LINKTYPE: return "linktype not allowed in this format";
	case PM_ERR_INVAL: return "invalid argument";
	case PM_ERR_INPUT: return "an input failed";
	}
	return "unknown error";
}
