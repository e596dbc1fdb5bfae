/*
 * writer.c - pcap and pcapng writers, plain or zstd, buffered in large
 * blocks: a packet costs one memcpy, the file a write(2) per megabyte.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zstd.h>

#include "merge_int.h"

#define WBUF_SIZE (256u * 1024u)

struct pm_writer {
	int fd;
	struct pm_writer_opts o;
	uint8_t *buf;
	size_t len;
	ZSTD_CCtx *zc;
	uint8_t *zbuf;
	size_t zcap;
	uint64_t out_bytes;
	off_t start;		/* file offset of the header, or -1 */
	uint32_t max_caplen;
	uint32_t *ifs;		/* pcapng: linktype of each interface */
	size_t nifs, capifs;
	int failed;
	char errbuf[PM_ERRBUF_SIZE];
};

static int
emit(pm_writer *w, const void *p, size_t n)
{
	ZSTD_inBuffer in;
	ZSTD_outBuffer out;
	size_t zr;
	int rc;

	if (w->zc == NULL) {
		rc = pm_write_all(w->fd, p, n, w->errbuf);
		if (rc == 0)
			w->out_bytes += n;
		return rc;
	}
	in.src = p;
	in.size = n;
	in.pos = 0;
	while (in.pos < in.size) {
		out.dst = w->zbuf;
		out.size = w->zcap;
		out.pos = 0;
		zr = ZSTD_compressStream2(w->zc, &out, &in, ZSTD_e_continue);
		if (ZSTD_isError(zr))
			return pm_seterr(w->errbuf, PM_ERR_COMPRESS, "zstd: %s",
			    ZSTD_getErrorName(zr));
		if (out.pos > 0) {
			if ((rc = pm_write_all(w->fd, w->zbuf, out.pos,
			    w->errbuf)) < 0)
				return rc;
			w->out_bytes += out.pos;
		}
	}
	return 0;
}

static int
flush(pm_writer *w)
{
	int rc;

	if (w->len == 0)
		return 0;
	rc = emit(w, w->buf, w->len);
	w->len = 0;
	if (rc < 0)
		w->failed = rc;
	return rc;
}

static int
put(pm_writer *w, const void *p, size_t n)
{
	int rc;

	if (w->failed)
		return w->failed;
	if (n > WBUF_SIZE - w->len) {
		if ((rc = flush(w)) < 0)
			return rc;
		if (n > WBUF_SIZE) {
			if ((rc = emit(w, p, n)) < 0)
				w->failed = rc;
			return rc;
		}
	}
	memcpy(w->buf + w->len, p, n);
	w->len += n;
	return 0;
}

static int
put_idb(pm_writer *w, uint32_t linktype)
{
	uint8_t b[32];
	uint32_t v;
	uint16_t h;
	uint32_t *n;

	if (w->nifs == w->capifs) {
		w->capifs = w->capifs ? w->capifs * 2 : 4;
		if ((n = realloc(w->ifs, w->capifs * sizeof(*n))) == NULL)
			return pm_seterr(w->errbuf, PM_ERR_NOMEM,
			    "out of memory");
		w->ifs = n;
	}
	w->ifs[w->nifs++] = linktype;
	v = PM_BT_IDB; memcpy(b, &v, 4);
	v = 32; memcpy(b + 4, &v, 4);
	h = (uint16_t)linktype; memcpy(b + 8, &h, 2);
	h = 0; memcpy(b + 10, &h, 2);
	v = w->o.snaplen; memcpy(b + 12, &v, 4);
	h = 9; memcpy(b + 16, &h, 2);		/* if_tsresol */
	h = 1; memcpy(b + 18, &h, 2);
	b[20] = w->o.nano ? 9 : 6;
	b[21] = b[22] = b[23] = 0;
	memset(b + 24, 0, 4);			/* opt_endofopt */
	v = 32; memcpy(b + 28, &v, 4);
	return put(w, b, sizeof(b));
}

static int
put_shb(pm_writer *w)
{
	uint8_t b[64 + 256];
	uint32_t v, tot;
	uint16_t h;
	uint64_t sl = UINT64_MAX;
	size_t al = 0, n = 24;

	if (w->o.appname != NULL) {
		al = strlen(w->o.appname);
		if (al > 255)
			al = 255;
	}
	tot = 28 + (al ? 4 + (uint32_t)((al + 3) & ~3u) + 4 : 0);
	memset(b, 0, sizeof(b));
	v = PM_PCAPNG_SHB; memcpy(b, &v, 4);
	memcpy(b + 4, &tot, 4);
	v = PM_PCAPNG_BOM; memcpy(b + 8, &v, 4);
	h = 1; memcpy(b + 12, &h, 2);
	h = 0; memcpy(b + 14, &h, 2);
	memcpy(b + 16, &sl, 8);			/* section length unknown */
	if (al) {
		h = 4; memcpy(b + 24, &h, 2);	/* shb_userappl */
		h = (uint16_t)al; memcpy(b + 26, &h, 2);
		memcpy(b + 28, w->o.appname, al);
		n = 28 + ((al + 3) & ~3u) + 4;	/* value, opt_endofopt */
	}
	memcpy(b + n, &tot, 4);
	return put(w, b, n + 4);
}

pm_writer *
pm_writer_open(int fd, const struct pm_writer_opts *o, int *err,
    char *errbuf)
{
	pm_writer *w;
	int rc = PM_ERR_NOMEM;
	struct stat st;

	if (o->format != PM_FMT_PCAP && o->format != PM_FMT_PCAPNG) {
		rc = pm_seterr(errbuf, PM_ERR_INVAL, "unknown output format");
		goto bad;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL ||
	    (w->buf = malloc(WBUF_SIZE)) == NULL) {
		if (w)
			free(w);
		pm_seterr(errbuf, rc, "out of memory");
		goto bad;
	}
	w->fd = fd;
	w->o = *o;
	w->start = -1;
	/* The snaplen can be fixed up later only in place, not through
	 * O_APPEND, where pwrite(2) would append. */
	if (o->compression == PM_COMP_NONE && fstat(fd, &st) == 0 &&
	    S_ISREG(st.st_mode) && !(fcntl(fd, F_GETFL) & O_APPEND))
		w->start = lseek(fd, 0, SEEK_CUR);
	if (o->compression == PM_COMP_ZSTD) {
		w->zcap = ZSTD_CStreamOutSize();
		if ((w->zc = ZSTD_createCCtx()) == NULL ||
		    (w->zbuf = malloc(w->zcap)) == NULL) {
			pm_seterr(errbuf, rc, "out of memory");
			pm_writer_close(w);
			goto bad;
		}
		ZSTD_CCtx_setParameter(w->zc, ZSTD_c_compressionLevel, 3);
		ZSTD_CCtx_setParameter(w->zc, ZSTD_c_checksumFlag, 1);
	} else if (o->compression != PM_COMP_NONE) {
		pm_writer_close(w);
		rc = pm_seterr(errbuf, PM_ERR_INVAL,
		    "only zstd output compression is supported");
		goto bad;
	}
	if (o->format == PM_FMT_PCAP) {
		uint8_t h[24];
		uint32_t v;
		uint16_t s;

		v = o->nano ? PM_PCAP_MAGIC_NS : PM_PCAP_MAGIC_US;
		memcpy(h, &v, 4);
		s = 2; memcpy(h + 4, &s, 2);
		s = 4; memcpy(h + 6, &s, 2);
		memset(h + 8, 0, 8);
		v = o->snaplen; memcpy(h + 16, &v, 4);
		v = o->linktype; memcpy(h + 20, &v, 4);
		rc = put(w, h, sizeof(h));
	} else {
		rc = put_shb(w);
	}
	if (rc < 0) {
		pm_seterr(errbuf, rc, "%s", w->errbuf);
		pm_writer_close(w);
		goto bad;
	}
	return w;
bad:
	if (err)
		*err = rc;
	return NULL;
}

int
pm_writer_write(pm_writer *w, const struct pm_packet *pkt)
{
	uint8_t *p;
	size_t need, i;
	uint32_t v[7];
	int64_t ts = pkt->ts < 0 ? 0 : pkt->ts;
	int rc;

	if (w->failed)
		return w->failed;
	if (pkt->caplen > w->max_caplen)
		w->max_caplen = pkt->caplen;
	if (w->o.format == PM_FMT_PCAP) {
		if (pkt->linktype != w->o.linktype)
			return pm_seterr(w->errbuf, PM_ERR_LINKTYPE,
			    "a packet of linktype %u in a pcap of linktype %u",
			    pkt->linktype, w->o.linktype);
		v[0] = (uint32_t)(ts / 1000000000);
		v[1] = (uint32_t)(ts % 1000000000);
		if (!w->o.nano)
			v[1] /= 1000;
		v[2] = pkt->caplen;
		v[3] = pkt->len;
		need = 16 + (size_t)pkt->caplen;
		if (need > WBUF_SIZE - w->len) {
			if ((rc = put(w, v, 16)) < 0)
				return rc;
			return put(w, pkt->data, pkt->caplen);
		}
		/* the common case: both parts straight into the buffer */
		p = w->buf + w->len;
		memcpy(p, v, 16);
		memcpy(p + 16, pkt->data, pkt->caplen);
		w->len += need;
		return 0;
	}

	/* pcapng: an Enhanced Packet Block on the linktype's interface */
	for (i = 0; i < w->nifs; i++)
		if (w->ifs[i] == pkt->linktype)
			break;
	if (i == w->nifs && (rc = put_idb(w, pkt->linktype)) < 0)
		return rc;
	{
		uint32_t pad = (4 - (pkt->caplen & 3)) & 3;
		uint32_t tot = 32 + pkt->caplen + pad;
		uint64_t t = w->o.nano ? (uint64_t)ts : (uint64_t)ts / 1000;
		static const uint8_t zero[4];

		v[0] = PM_BT_EPB;
		v[1] = tot;
		v[2] = (uint32_t)i;
		v[3] = (uint32_t)(t >> 32);
		v[4] = (uint32_t)t;
		v[5] = pkt->caplen;
		v[6] = pkt->len;
		if ((rc = put(w, v, 28)) < 0 ||
		    (rc = put(w, pkt->data, pkt->caplen)) < 0 ||
		    (rc = put(w, zero, pad)) < 0 ||
		    (rc = put(w, &tot, 4)) < 0)
			return rc;
	}
	return 0;
}

int
pm_writer_finish(pm_writer *w)
{
	ZSTD_inBuffer in = { NULL, 0, 0 };
	ZSTD_outBuffer out;
	size_t zr;
	int rc;

	if ((rc = flush(w)) < 0)
		return rc;
	if (w->zc != NULL) {
		do {
			out.dst = w->zbuf;
			out.size = w->zcap;
			out.pos = 0;
			zr = ZSTD_compressStream2(w->zc, &out, &in,
			    ZSTD_e_end);
			if (ZSTD_isError(zr))
				return w->failed = pm_seterr(w->errbuf,
				    PM_ERR_COMPRESS, "zstd: %s",
				    ZSTD_getErrorName(zr));
			if ((rc = pm_write_all(w->fd, w->zbuf, out.pos,
			    w->errbuf)) < 0)
				return w->failed = rc;
			w->out_bytes += out.pos;
		} while (zr != 0);
	}
	if (w->o.format == PM_FMT_PCAP && w->start >= 0 &&
	    w->max_caplen > w->o.snaplen) {
		uint32_t v = w->max_caplen;
		if (pwrite(w->fd, &v, 4, w->start + 16) != 4)
			return w->failed = pm_seterr(w->errbuf, PM_ERR_IO,
			    "updating the snaplen: %s", strerror(errno));
	}
	return 0;
}

const char *pm_writer_geterr(const pm_writer *w) { return w->errbuf; }
uint64_t pm_writer_bytes(const pm_writer *w) { return w->out_bytes; }

void
pm_writer_close(pm_writer *w)
{
	if (w == NULL)
		return;
	ZSTD_freeCCtx(w->zc);
	free(w->zbuf);
	free(w->buf);
	free(w->ifs);
	free(w);
}
