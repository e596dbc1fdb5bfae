/* capio.c - captures in and out, through libmerge; see capio.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capio.h"
#include "filter.h"
#include "msg.h"
#include "text.h"

int
pk_parse_format(const char *s, enum pm_format *f, int *nano)
{
	if (strcmp(s, "pcap") == 0 || strcmp(s, "libpcap") == 0)
		*f = PM_FMT_PCAP;
	else if (strcmp(s, "nsecpcap") == 0) {
		*f = PM_FMT_PCAP;
		*nano = 1;
	} else if (strcmp(s, "pcapng") == 0)
		*f = PM_FMT_PCAPNG;
	else {
		pk_warn("-F: unknown format '%s' (pcap, nsecpcap or pcapng)",
		    s);
		return -1;
	}
	return 0;
}

/* s[0, len) ends with suffix */
static int
ends_with_n(const char *s, size_t len, const char *suffix)
{
	size_t b = strlen(suffix);

	return len >= b && memcmp(s + len - b, suffix, b) == 0;
}

/*
 * What an output file's name asks for.  Its last suffix may name a
 * compression: .gz and .zst are written, others (.bz2, .xz, ...) cannot be.
 * What is left may name a format: .pcapng is pcapng, .pcap, .cap and .dmp
 * are classic pcap.  A name that says nothing leaves -F and -z as given.
 * A file named x.pcap.gz that held an uncompressed pcap, or .pcapng that
 * held classic pcap, would be read by anything that goes by magic but not
 * by what goes by the name: such disagreements are refused.
 */
int
pk_output_by_name(const char *path, int format_given, enum pm_format *format,
    enum pm_compression *comp)
{
	static const struct {
		const char *sfx;
		enum pm_compression c;
		const char *cannot;	/* what we cannot write */
	} zs[] = {
		{ ".gz", PM_COMP_GZIP, NULL }, { ".zst", PM_COMP_ZSTD, NULL },
		{ ".bz2", 0, "bzip2" }, { ".xz", 0, "xz" }, { ".lz4", 0, "lz4" },
		{ ".lzma", 0, "lzma" }, { ".lz", 0, "lzip" }, { ".Z", 0,
		"compress" }, { ".zip", 0, "zip" }, { ".7z", 0, "7-Zip" },
		{ ".br", 0, "brotli" }, { ".tgz", 0, "tar" }, { ".tar", 0,
		"tar" },
	};
	static const char *const cname[] = { "uncompressed", "gzip", "zstd" };
	size_t len, i;
	int named_comp = 0;
	enum pm_format nf = 0;

	if (path == NULL || strcmp(path, "-") == 0)
		return 0;
	len = strlen(path);
	for (i = 0; i < sizeof(zs) / sizeof(zs[0]); i++) {
		if (!ends_with_n(path, len, zs[i].sfx))
			continue;
		if (zs[i].cannot != NULL) {
			pk_warnf(path, "cannot write %s-compressed output; "
			    "name it .gz or .zst, or without %s", zs[i].cannot,
			    zs[i].sfx);
			return 2;
		}
		if (*comp != PM_COMP_NONE && *comp != zs[i].c) {
			pk_warnf(path, "-z writes zstd, but the name asks for "
			    "%s; drop -z or name it .zst", cname[zs[i].c]);
			return 2;
		}
		*comp = zs[i].c;
		len -= strlen(zs[i].sfx);
		named_comp = 1;
		break;
	}
	if (ends_with_n(path, len, ".pcapng"))
		nf = PM_FMT_PCAPNG;
	else if (ends_with_n(path, len, ".pcap") ||
	    ends_with_n(path, len, ".cap") || ends_with_n(path, len, ".dmp"))
		nf = PM_FMT_PCAP;
	if (nf != 0 && format_given && nf != *format) {
		pk_warnf(path, "-F %s disagrees with the name, which says %s",
		    *format == PM_FMT_PCAPNG ? "pcapng" : "pcap",
		    nf == PM_FMT_PCAPNG ? "pcapng" : "pcap");
		return 2;
	}
	if (nf != 0)
		*format = nf;
	if (nf != 0 && !named_comp && *comp != PM_COMP_NONE) {
		pk_warnf(path, "-z writes zstd, but the name says an "
		    "uncompressed capture; name it %s.zst", path);
		return 2;
	}
	return 0;
}

/* ---- captures in and out -------------------------------------------------- */

int
pk_window_opt(struct pk_window *w, int stop, const char *opt, const char *arg)
{
	int64_t t;

	if (pk_parse_when(arg, &t) < 0) {
		/* editcap takes local time without a zone: say why not */
		pk_warn("%s: '%s' is not a time: RFC 3339 with its zone, as the "
		    "API writes times (2026-11-29T10:00:00Z, "
		    "...T11:00:00+01:00), or seconds since 1970 (1764410400.5)",
		    opt, arg);
		return 2;
	}
	w->set = 1;
	if (stop) {
		w->stop = t;
		w->have_stop = 1;
	} else {
		w->start = t;
		w->have_start = 1;
	}
	return 0;
}

int
pk_window_check(const struct pk_window *w)
{
	if (w->have_start && w->have_stop && w->start >= w->stop) {
		pk_warn("the start of the time window must come before its stop "
		    "(the stop is exclusive)");
		return 2;
	}
	return 0;
}

void
pk_window_apply(const struct pk_window *w, struct pm_merge_opts *mo)
{
	if (w == NULL || !w->set)
		return;
	mo->window = 1;
	mo->start = w->have_start ? w->start : INT64_MIN;
	mo->stop = w->have_stop ? w->stop : INT64_MAX;
}

int
pk_capin_open(struct pk_capin *c, const struct pk_inputs *in,
    int concatenate, const char *tmpdir)
{
	struct pm_merge_opts mo = { 0 };
	char errbuf[PM_ERRBUF_SIZE];
	size_t i;

	mo.concatenate = concatenate;
	mo.max_open = pk_raise_nofile(in->n);
	if (mo.max_open >= in->n)
		mo.max_open = 0;
	mo.tmpdir = tmpdir;
	pk_window_apply(c->win, &mo);
	c->damaged = 0;
	if ((c->m = pm_merge_new(&mo, errbuf)) == NULL) {
		pk_warn("%s", errbuf);
		return 1;
	}
	for (i = 0; i < in->n; i++) {
		int fd = strcmp(in->paths[i], "-") == 0 ? STDIN_FILENO : -1;
		if (pm_merge_add(c->m, in->paths[i], fd) < 0) {
			pk_warn("%s", pm_merge_geterr(c->m));
			return 1;
		}
	}
	return 0;
}

int
pk_capin_next(struct pk_capin *c, struct pm_packet *pkt)
{
	const char *name;
	int rc;

	for (;;) {
		rc = pm_merge_next(c->m, pkt);
		if (rc >= 0)
			return rc;
		if (c->prog != NULL)
			pk_progress_done(c->prog);
		name = rc == PM_ERR_DAMAGED || rc == PM_ERR_TRUNCATED ||
		    rc == PM_ERR_INPUT ? pm_merge_input_name(c->m,
		    pm_merge_failed(c->m)) : NULL;
		if (name == NULL)
			pk_warn("%s", pm_merge_geterr(c->m));
		else
			pk_warnf(name, "%s", pm_merge_geterr(c->m));
		if (pm_merge_fatal(c->m, rc, c->ignore_errors))
			return -1;
		c->damaged = 1;
	}
}

void
pk_capin_report_order(const struct pk_capin *c)
{
	size_t i;

	for (i = 0; i < pm_merge_count(c->m); i++) {
		const struct pm_input_info *f = pm_merge_input(c->m, i);
		char s[48];

		if (f->stats.bad_frac > 0)
			pk_warnf(f->name, "%llu packet%s with a sub-second field "
			    "of a second or more (%s); carried into the seconds",
			    (unsigned long long)f->stats.bad_frac,
			    f->stats.bad_frac == 1 ? "" : "s", f->nano ?
			    "1000000000 ns" : "1000000 us");
		if (f->stats.bad_time > 0)
			pk_warnf(f->name, "%llu packet%s with a time before "
			    "1677 or after 2262, which 64-bit nanoseconds "
			    "cannot hold; held at the nearest end",
			    (unsigned long long)f->stats.bad_time,
			    f->stats.bad_time == 1 ? "" : "s");
		if (f->stats.backwards == 0)
			continue;
		pk_fmt_seconds(s, sizeof(s), f->stats.max_backwards);
		pk_warnf(f->name, "%llu packet%s out of time order, up to %s s "
		    "backwards; merged as they are",
		    (unsigned long long)f->stats.backwards,
		    f->stats.backwards == 1 ? "" : "s", s);
	}
}

void
pk_capin_report_inputs(const struct pk_capin *c, const char *out,
    uint64_t written)
{
	static const char *const comp[] = { "", " (gzip)", " (zstd)" };
	size_t i, n = pm_merge_count(c->m);

	for (i = 0; i < n; i++) {
		const struct pm_input_info *f = pm_merge_input(c->m, i);

		if (!f->opened)
			continue;	/* said when it failed */
		char win[64] = "";

		if (c->win != NULL && c->win->set)
			snprintf(win, sizeof(win), "; %llu outside the time "
			    "window", (unsigned long long)
			    f->stats.outside_window);
		pk_warnf(f->name, "%s%s, %s (%u)%s, %llu packets, %llu bytes "
		    "captured, %llu on the wire%s", f->format == PM_FMT_PCAPNG ?
		    "pcapng" : "pcap", comp[f->compression],
		    pk_linktype_name(f->linktype), f->linktype,
		    f->mixed_linktypes ? " and others" : "",
		    (unsigned long long)f->stats.packets,
		    (unsigned long long)f->stats.caplen_bytes,
		    (unsigned long long)f->stats.wire_bytes, win);
	}
	pk_warn("%zu input%s, %llu packet%s written to %s", n, n == 1 ? "" :
	    "s", (unsigned long long)written, written == 1 ? "" : "s",
	    strcmp(out, "-") == 0 ? "stdout" : out);
}

void
pk_capin_close(struct pk_capin *c)
{
	pm_merge_free(c->m);
	c->m = NULL;
}

void
pk_report_mixed(pm_merge *m)
{
	const struct pm_input_info *first = NULL, *f;
	size_t i;

	pk_warn("inputs have different linktypes, which a pcap file cannot "
	    "hold; use -F pcapng");
	for (i = 0; i < pm_merge_count(m); i++) {
		f = pm_merge_input(m, i);
		if (!f->opened)
			continue;
		if (first == NULL)
			first = f;
		if (f == first || f->linktype != first->linktype ||
		    f->mixed_linktypes)
			pk_warnf(f->name, "linktype %s (%u)%s",
			    pk_linktype_name(f->linktype), f->linktype,
			    f->mixed_linktypes ? " and others" : "");
	}
}

int
pk_capout_open(struct pk_output *out, pm_writer **w, const char *path,
    pm_merge *m, const struct pk_capout_opts *o)
{
	struct pm_merge_summary sum;
	struct pm_writer_opts wo;
	char errbuf[PM_ERRBUF_SIZE];
	int rc, err;

	pm_merge_summary(m, &sum);
	if (o->format == PM_FMT_PCAP && sum.mixed_linktypes) {
		pk_report_mixed(m);
		return 1;
	}
	if ((rc = pk_output_open(out, path)) != 0)
		return rc;
	wo.format = o->format;
	wo.compression = o->comp;
	wo.nano = o->nano || sum.nano;
	wo.snaplen = o->snaplen ? o->snaplen :
	    sum.snaplen ? sum.snaplen : PM_MAX_CAPLEN;
	wo.linktype = sum.linktype;
	wo.appname = o->appname;
	if ((*w = pm_writer_open(out->fd, &wo, &err, errbuf)) == NULL) {
		pk_warnf(path, "%s", errbuf);
		return 1;
	}
	pm_merge_attach(m, *w);
	return 0;
}

int
pk_capout_finish(pm_writer *w, const char *name)
{
	uint64_t n;

	if (pm_writer_finish(w) < 0) {
		pk_warnf(name, "%s", pm_writer_geterr(w));
		return PK_ERROR;
	}
	if ((n = pm_writer_times_held(w)) > 0)
		pk_warnf(name, "%llu packet%s with a time the format cannot "
		    "hold (before 1970, or after 2106 in pcap); written at "
		    "the nearest time it can", (unsigned long long)n,
		    n == 1 ? "" : "s");
	return 0;
}

const char *
pk_linktype_name(uint32_t lt)
{
	const char *n = pf_linktype_name(lt);	/* libfilter's one table */

	return n != NULL ? n : "unknown";
}
