/*
 * src.c - a buffered byte source over a file descriptor, decompressing gzip
 * and zstd found by their magic bytes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <zlib.h>
#include <zstd.h>

#include "merge_int.h"

int
pm_seterr(char *errbuf, int err, const char *fmt, ...)
{
	va_list ap;

	if (errbuf != NULL) {
		va_start(ap, fmt);
		vsnprintf(errbuf, PM_ERRBUF_SIZE, fmt, ap);
		va_end(ap);
	}
	return err;
}

void *
pm_huge_alloc(size_t len)
{
	void *p;

	if (len > SIZE_MAX - HUGE_PAGE)
		return NULL;
	len = (len + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
	if ((p = aligned_alloc(HUGE_PAGE, len)) == NULL)
		return NULL;
#ifdef MADV_HUGEPAGE
	(void)madvise(p, len, MADV_HUGEPAGE);
#endif
	return p;
}

int
pm_writev_all(int fd, struct iovec *iov, int n, char *errbuf)
{
	ssize_t w;

	while (n > 0) {
		w = writev(fd, iov, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return pm_seterr(errbuf, PM_ERR_IO, "write: %s",
			    strerror(errno));
		}
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

int
pm_write_all(int fd, const void *buf, size_t n, char *errbuf)
{
	struct iovec v = { (void *)(uintptr_t)buf, n };

	return n > 0 ? pm_writev_all(fd, &v, 1, errbuf) : 0;
}

/*
 * read(2) of the file's bytes, retrying on EINTR, into the CRC when it is
 * kept; returns bytes read, 0 at EOF, or -1.  Every byte of the file passes
 * here once, in order.
 */
static ssize_t
read_some(struct pm_src *s, void *buf, size_t n)
{
	ssize_t r;

	do
		r = read(s->fd, buf, n);
	while (r < 0 && errno == EINTR);
	if (r > 0 && s->crc_on)
		s->crc = pm_crc32c(s->crc, buf, (size_t)r);
	return r;
}

/*
 * At end of file: a regular file cut below what was already read (another
 * process truncated it) ends on a record boundary as often as not, which
 * would look like a clean end.  Say so instead.
 */
static int
check_shrunk(struct pm_src *s)
{
	struct stat st;
	off_t pos;

	if (fstat(s->fd, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	if ((pos = lseek(s->fd, 0, SEEK_CUR)) < 0 || pos <= st.st_size)
		return 0;
	return pm_seterr(s->errbuf, PM_ERR_IO, "the file shrank to %lld "
	    "bytes while being read (%lld bytes read); the rest is lost",
	    (long long)st.st_size, (long long)pos);
}

static int
zfill(struct pm_src *s)
{
	ssize_t r;

	if (s->zpos < s->zend || s->zeof)
		return 0;
	r = read_some(s, s->zbuf, s->zcap);
	if (r < 0)
		return pm_seterr(s->errbuf, PM_ERR_IO, "read: %s",
		    strerror(errno));
	s->zpos = 0;
	s->zend = (size_t)r;
	s->bytes_in += (uint64_t)r;
	if (r == 0) {
		s->zeof = 1;
		return check_shrunk(s);
	}
	return 0;
}

/* Append decompressed (or plain) bytes at buf + end; sets eof. */
static int
produce(struct pm_src *s)
{
	ssize_t r;
	int rc;

	switch (s->comp) {
	case PM_COMP_NONE:
		r = read_some(s, s->buf + s->end, s->cap - s->end);
		if (r < 0)
			return pm_seterr(s->errbuf, PM_ERR_IO, "read: %s",
			    strerror(errno));
		if (r == 0) {
			s->eof = 1;
			if ((rc = check_shrunk(s)) < 0)
				return rc;
		}
		s->end += (size_t)r;
		s->bytes_in += (uint64_t)r;
		return 0;

	case PM_COMP_GZIP: {
		z_stream *z = s->gz;
		int zr;

		if ((rc = zfill(s)) < 0)
			return rc;
		if (s->zpos == s->zend) {
			/* Input over.  Clean only between members. */
			if (z->total_in != 0 || z->avail_in != 0)
				s->trunc = 1;
			s->eof = 1;
			return 0;
		}
		z->next_in = s->zbuf + s->zpos;
		z->avail_in = (uInt)(s->zend - s->zpos);
		z->next_out = s->buf + s->end;
		z->avail_out = (uInt)(s->cap - s->end);
		zr = inflate(z, Z_NO_FLUSH);
		s->zpos = s->zend - z->avail_in;
		s->end = s->cap - z->avail_out;
		if (zr == Z_STREAM_END) {
			/* gzip allows concatenated members. */
			inflateReset(z);
			z->total_in = 0;
		} else if (zr == Z_BUF_ERROR) {
			/* no progress possible with this input: need more */
		} else if (zr != Z_OK) {
			return pm_seterr(s->errbuf, PM_ERR_COMPRESS,
			    "gzip data corrupt near compressed offset %llu: %s",
			    (unsigned long long)(s->bytes_in - (s->zend -
			    s->zpos)), z->msg != NULL ? z->msg : "error");
		}
		return 0;
	}

	case PM_COMP_ZSTD: {
		ZSTD_inBuffer in;
		ZSTD_outBuffer out;
		size_t zr;

		if ((rc = zfill(s)) < 0)
			return rc;
		if (s->zpos == s->zend) {
			s->eof = 1;
			return 0;
		}
		in.src = s->zbuf;
		in.size = s->zend;
		in.pos = s->zpos;
		out.dst = s->buf;
		out.size = s->cap;
		out.pos = s->end;
		zr = ZSTD_decompressStream(s->zd, &out, &in);
		if (ZSTD_isError(zr))
			return pm_seterr(s->errbuf, PM_ERR_COMPRESS,
			    "zstd data corrupt near compressed offset %llu: %s",
			    (unsigned long long)(s->bytes_in - (s->zend -
			    in.pos)), ZSTD_getErrorName(zr));
		s->zpos = in.pos;
		s->end = out.pos;
		/* zr == 0: a frame ended and is fully flushed. */
		s->trunc = zr != 0;
		return 0;
	}
	}
	return PM_ERR_INVAL;
}

/* Only through pm_src_fill, which has found fewer than need bytes. */
long
pm_src_refill(struct pm_src *s, size_t need)
{
	int rc;

	/*
	 * At the end, move and grow nothing: a resync scanning the last
	 * bytes byte by byte would otherwise move them all at every step.
	 */
	if (s->eof)
		return (long)(s->end - s->pos);
	if (s->release != NULL && (s->pos > 0 || need > s->cap))
		s->release(s->release_arg, s->buf, s->cap);
	if (s->pos > 0) {
		memmove(s->buf, s->buf + s->pos, s->end - s->pos);
		s->base += s->pos;
		s->end -= s->pos;
		s->pos = 0;
	}
	if (need > s->cap) {
		size_t ncap = s->cap * 2 > need ? s->cap * 2 : need;
		uint8_t *nb = s->lent ? malloc(ncap) : realloc(s->buf, ncap);
		if (nb == NULL)
			return pm_seterr(s->errbuf, PM_ERR_NOMEM,
			    "out of memory for a %zu-byte buffer", ncap);
		if (s->lent)
			memcpy(nb, s->buf, s->end);
		s->lent = 0;
		s->buf = nb;
		s->cap = ncap;
	}
	while (s->end < need && !s->eof) {
		/* Fill the whole free space so that reads stay large. */
		if ((rc = produce(s)) < 0)
			return rc;
	}
	return (long)(s->end < need ? s->end : need);
}

int
pm_src_init(struct pm_src *s, int fd, uint8_t *buf, size_t bufsize,
    int crc, char *errbuf)
{
	const uint8_t *m;
	size_t lim, n;
	ssize_t r;

	memset(s, 0, sizeof(*s));
	s->fd = fd;
	s->crc_on = crc;
	s->errbuf = errbuf;
	s->cap = bufsize;
	s->zcap = bufsize / 4 < 4096 ? 4096 : bufsize / 4;
	s->buf = buf;
	s->lent = buf != NULL;
	if (s->buf == NULL && (s->buf = malloc(s->cap)) == NULL)
		return pm_seterr(errbuf, PM_ERR_NOMEM, "out of memory");
	/*
	 * Sniff: at least 6 bytes, or the whole file if shorter, read into
	 * the buffer itself (a merge's are prefaulted), where a plain file's
	 * bytes stay; only a compressed one gets zbuf, and they move there.
	 */
	lim = s->zcap < s->cap ? s->zcap : s->cap;
	while (s->end < 6) {
		r = read_some(s, s->buf + s->end, lim - s->end);
		if (r < 0)
			return pm_seterr(errbuf, PM_ERR_IO, "read: %s",
			    strerror(errno));
		if (r == 0)
			break;
		s->end += (size_t)r;
		s->bytes_in += (uint64_t)r;
	}
	m = s->buf;
	n = s->end;
	if (n >= 2 && m[0] == 0x1f && m[1] == 0x8b)
		s->comp = PM_COMP_GZIP;
	else if (n >= 4 && ((m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f &&
	    m[3] == 0xfd) || ((m[0] & 0xf0) == 0x50 && m[1] == 0x2a &&
	    m[2] == 0x4d && m[3] == 0x18)))
		s->comp = PM_COMP_ZSTD;
	if (s->comp != PM_COMP_NONE) {
		if ((s->zbuf = malloc(s->zcap)) == NULL)
			return pm_seterr(errbuf, PM_ERR_NOMEM, "out of memory");
		memcpy(s->zbuf, s->buf, n);
		s->zend = n;
		s->end = 0;
	}
	if (s->comp == PM_COMP_GZIP) {
		z_stream *z = calloc(1, sizeof(*z));
		if (z == NULL)
			return pm_seterr(errbuf, PM_ERR_NOMEM, "out of memory");
		s->gz = z;
		if (inflateInit2(z, 15 + 16) != Z_OK)
			return pm_seterr(errbuf, PM_ERR_NOMEM,
			    "cannot start gzip decoder");
	} else if (s->comp == PM_COMP_ZSTD) {
		if ((s->zd = ZSTD_createDCtx()) == NULL)
			return pm_seterr(errbuf, PM_ERR_NOMEM,
			    "cannot start zstd decoder");
	} else if (n >= 6 && memcmp(m, "\xfd" "7zXZ\0", 6) == 0) {
		return pm_seterr(errbuf, PM_ERR_FORMAT,
		    "xz-compressed; only gzip and zstd are read, "
		    "decompress it first");
	} else if (n >= 3 && memcmp(m, "BZh", 3) == 0) {
		return pm_seterr(errbuf, PM_ERR_FORMAT,
		    "bzip2-compressed; only gzip and zstd are read, "
		    "decompress it first");
	} else if (n >= 4 && memcmp(m, "\x04\x22\x4d\x18", 4) == 0) {
		return pm_seterr(errbuf, PM_ERR_FORMAT,
		    "lz4-compressed; only gzip and zstd are read, "
		    "decompress it first");
	}
	return 0;
}

void
pm_src_free(struct pm_src *s)
{
	if (s->release != NULL)
		s->release(s->release_arg, s->buf, s->cap);
	if (s->gz != NULL) {
		inflateEnd(s->gz);
		free(s->gz);
	}
	if (s->zd != NULL)
		ZSTD_freeDCtx(s->zd);
	if (!s->lent)
		free(s->buf);
	free(s->zbuf);
	if (s->fd >= 0)
		close(s->fd);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
}
