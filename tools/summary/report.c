/* report.c - pcap-summary's output, text and JSON; see summary.h. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "summary.h"

/* ---- output ---------------------------------------------------------------- */

struct view {				/* one block of figures */
	const char *format, *precision, *compression;
	uint32_t linktypes[PM_INFO_LINKTYPES * 4];
	size_t nlinktypes;
	uint32_t snaplen;
	struct pm_reader_stats st;
	int has_damage_offset;		/* st.first_damage means something */
	int window;			/* --start/--stop: st.outside_window */
	int unreadable;
	/* capture loss: measured (loss), not measurable (loss_na), or
	 * neither when the measurements are off */
	const struct loss_count *loss;
	const char *loss_na;
	const struct coverage *cov;	/* a file's silent stretches, or NULL */
	/* with a capture window: its first packet after the window opened,
	 * its last before it closed (ns; has_win 0 without a window) */
	int has_win;
	int64_t after_open, before_close;
	/* a file's clock against the reference file */
	int clk;			/* 0: not measured; 1: known; -1: not;
					 * -2: no two files share a packet */
	int clk_ref;			/* this file is the reference */
	int64_t clk_off;
	uint64_t clk_shared;
	const char *clk_ref_name;
};

/* The loss figures of input i (or the total, i == (size_t)-1). */
static void
view_loss(struct view *v, const struct run *r, size_t i)
{
	v->loss = NULL;
	v->loss_na = NULL;
	if (!r->measure)
		return;
	if (r->loss_na != NULL)
		v->loss_na = r->loss_na;
	else if (r->loss != NULL)
		v->loss = i == (size_t)-1 ? &r->loss_total : &r->loss[i];
	v->cov = r->cov != NULL && i != (size_t)-1 ? &r->cov[i] : NULL;
	v->has_win = v->cov != NULL && r->e != NULL && r->e->hi > r->e->lo &&
	    v->st.packets > 0;
	if (v->has_win) {
		v->after_open = pm_ts_sub(v->st.ts_min,
		    pm_ts_sub(r->e->lo, -r->e->tol));
		v->before_close = pm_ts_sub(pm_ts_sub(r->e->hi, r->e->tol),
		    v->st.ts_max);
	}
	v->clk = 0;
	if (r->clk_off != NULL && i != (size_t)-1) {
		v->clk = r->clk_known[i] ? 1 : r->clk_known[r->clk_ref] ? -1 :
		    -2;
		v->clk_ref = r->clk_known[i] && i == r->clk_ref;
		v->clk_off = r->clk_off[i];
		v->clk_shared = r->clk_shared[i];
		v->clk_ref_name = pm_scan_input_name(r->scan, r->clk_ref);
	}
}

static json_t *json_time(int64_t ns);

static void
print_silences(const struct coverage *c)
{
	char a[64], b[64];
	size_t i;

	if (c->total == 0) {
		printf("none\n");
		return;
	}
	for (i = 0; i < c->ns; i++) {
		pk_fmt_time(a, sizeof(a), c->s[i].from);
		pk_fmt_seconds(b, sizeof(b), c->s[i].to - c->s[i].from);
		printf("%s%s for %s s", i ? ", " : "", a, b);
	}
	if (c->total > c->ns)
		printf(", and %zu shorter", c->total - c->ns);
	printf("\n");
}

static json_t *
json_silences(const struct coverage *c)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < c->ns; i++)
		json_array_append_new(a, json_pack("{s:o, s:o, s:f}",
		    "from", json_time(c->s[i].from), "to", json_time(c->s[i].to),
		    "seconds", (double)(c->s[i].to - c->s[i].from) / 1e9));
	return json_pack("{s:I, s:o}", "silent_stretches",
	    (json_int_t)c->total, "longest", a);
}

static void
fmt_loss(char *buf, size_t n, const struct loss_count *c)
{
	double f = loss_fraction(c);

	if (f < 0) {
		snprintf(buf, n, "- (no TCP flow to measure it by)");
		return;
	}
	snprintf(buf, n, "%.4f%% (%llu of %llu bytes unseen; %s; %llu hole%s, "
	    "%llu ACK%s of unseen data%s)", f * 100,
	    (unsigned long long)(c->acked_unseen + c->stream_holes),
	    (unsigned long long)(c->acked + c->stream), loss_method(c),
	    (unsigned long long)c->holes, c->holes == 1 ? "" : "s",
	    (unsigned long long)c->acks_unseen, c->acks_unseen == 1 ? "" : "s",
	    c->evicted ? "; flow table full, some flows measured in parts" :
	    "");
}

static json_t *
json_loss(const struct view *v)
{
	const struct loss_count *c = v->loss;

	if (c == NULL)
		return json_pack("{s:s, s:s}", "method", "none", "reason",
		    v->loss_na);
	return json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
	    "s:I, s:I}", "method", loss_method(c),
	    "acked_bytes", (json_int_t)c->acked,
	    "acked_unseen_bytes", (json_int_t)c->acked_unseen,
	    "one_way_bytes", (json_int_t)c->stream,
	    "one_way_hole_bytes", (json_int_t)c->stream_holes,
	    "holes", (json_int_t)c->holes,
	    "acks_of_unseen_data", (json_int_t)c->acks_unseen,
	    "flows_two_way", (json_int_t)c->flows_two_way,
	    "flows_one_way", (json_int_t)c->flows_one_way,
	    "flows_evicted", (json_int_t)c->evicted,
	    "tcp_headers_cut", (json_int_t)c->cut,
	    "sequence_resyncs", (json_int_t)c->resyncs);
}

static const char *
fmt_name(enum pm_format f)
{
	return f == PM_FMT_PCAPNG ? "pcapng" : "pcap";
}

static const char *
comp_name(enum pm_compression c)
{
	return c == PM_COMP_GZIP ? "gzip" : c == PM_COMP_ZSTD ? "zstd" : "none";
}

static void
view_add_linktype(struct view *v, uint32_t lt)
{
	size_t i;

	for (i = 0; i < v->nlinktypes; i++)
		if (v->linktypes[i] == lt)
			return;
	if (v->nlinktypes < sizeof(v->linktypes) / sizeof(v->linktypes[0]))
		v->linktypes[v->nlinktypes++] = lt;
}

static void
view_file(struct view *v, const struct pm_input_info *f)
{
	size_t i;

	memset(v, 0, sizeof(*v));
	v->unreadable = !f->opened;
	v->format = f->opened ? fmt_name(f->format) : "unreadable";
	v->precision = f->nano ? "nanoseconds" : "microseconds";
	v->compression = comp_name(f->compression);
	for (i = 0; i < f->nlinktypes && i < PM_INFO_LINKTYPES; i++)
		view_add_linktype(v, f->linktypes[i]);
	v->snaplen = f->snaplen;
	v->st = f->stats;
	v->has_damage_offset = f->stats.damaged > 0;
}

static void
view_window(struct view *v, const struct run *r)
{
	v->window = r->win != NULL && r->win->set;
}

static void
view_total(struct view *v, const struct run *r)
{
	size_t i, j, nin = r->in.n;
	int fmt = 0, nano = -1, comp = -1;

	memset(v, 0, sizeof(*v));
	/*
	 * Times, sizes and the largest gap are those of the merged stream;
	 * order and damage belong to files, so they are the files' sums.
	 */
	v->st = r->tot;
	v->st.backwards = 0;
	v->st.max_backwards = 0;
	for (i = 0; i < nin; i++) {
		const struct pm_input_info *f = run_input_info(r, i);
		if (!f->opened) {
			v->unreadable++;
			continue;
		}
		fmt |= f->format;
		nano = nano < 0 || nano == f->nano ? f->nano : 2;
		comp = comp < 0 || comp == (int)f->compression ?
		    (int)f->compression : 3;
		for (j = 0; j < f->nlinktypes && j < PM_INFO_LINKTYPES; j++)
			view_add_linktype(v, f->linktypes[j]);
		if (f->snaplen > v->snaplen)
			v->snaplen = f->snaplen;
		v->st.backwards += f->stats.backwards;
		if (f->stats.max_backwards > v->st.max_backwards)
			v->st.max_backwards = f->stats.max_backwards;
		v->st.bad_frac += f->stats.bad_frac;
		v->st.bad_time += f->stats.bad_time;
		v->st.damaged += f->stats.damaged;
		v->st.skipped_bytes += f->stats.skipped_bytes;
		v->st.truncated |= f->stats.truncated;
		v->st.outside_window += f->stats.outside_window;
	}
	v->format = fmt == 0 ? "none" : fmt == PM_FMT_PCAP ? "pcap" :
	    fmt == PM_FMT_PCAPNG ? "pcapng" : "mixed";
	v->precision = nano == 2 ? "mixed" : nano == 1 ? "nanoseconds" :
	    "microseconds";
	v->compression = comp == 3 ? "mixed" : comp_name(comp < 0 ? 0 : comp);
}

static double
rate(uint64_t n, int64_t ns)
{
	return ns > 0 ? (double)n * 1e9 / (double)ns : 0;
}

static void
print_view(const struct view *v)
{
	char a[64], b[64];
	int64_t dur = v->st.packets ? pm_ts_sub(v->st.ts_max, v->st.ts_min) : 0;
	size_t i;

#define ROW(label) printf("  %-20s", label)
	ROW("Format");
	printf("%s, %s, compression %s\n", v->format, v->precision,
	    v->compression);
	ROW("Linktype");
	for (i = 0; i < v->nlinktypes; i++)
		printf("%s%s (%u)", i ? ", " : "",
		    pk_linktype_name(v->linktypes[i]), v->linktypes[i]);
	printf("%s\n", v->nlinktypes ? "" : "-");
	ROW("Snaplen");
	printf("%u\n", v->snaplen);
	ROW("Packets");
	printf("%llu\n", (unsigned long long)v->st.packets);
	if (v->window) {
		ROW("Outside window");
		printf("%llu (left out by --start/--stop)\n",
		    (unsigned long long)v->st.outside_window);
	}
	ROW("Bytes captured");
	printf("%llu\n", (unsigned long long)v->st.caplen_bytes);
	ROW("Bytes on the wire");
	printf("%llu\n", (unsigned long long)v->st.wire_bytes);
	if (v->st.packets) {
		pk_fmt_time(a, sizeof(a), v->st.ts_min);
		pk_fmt_seconds(b, sizeof(b), v->st.ts_min);
		ROW("First packet");
		printf("%s  %s\n", a, b);
		pk_fmt_time(a, sizeof(a), v->st.ts_max);
		pk_fmt_seconds(b, sizeof(b), v->st.ts_max);
		ROW("Last packet");
		printf("%s  %s\n", a, b);
	} else {
		ROW("First packet");
		printf("-\n");
		ROW("Last packet");
		printf("-\n");
	}
	pk_fmt_seconds(a, sizeof(a), dur);
	ROW("Duration");
	printf("%s s\n", a);
	ROW("Average rate");
	if (dur > 0)
		printf("%.2f packets/s, %.0f bits/s\n", rate(v->st.packets, dur),
		    rate(v->st.wire_bytes * 8, dur));
	else
		printf("-\n");
	ROW("Cut short");
	printf("%llu (largest caplen %u)\n", (unsigned long long)v->st.cut_short,
	    v->st.max_caplen);
	pk_fmt_seconds(a, sizeof(a), v->st.max_backwards);
	ROW("Out of order");
	printf("%llu (largest step back %s s)\n",
	    (unsigned long long)v->st.backwards, a);
	if (v->st.bad_frac > 0) {	/* rare: no row without it */
		ROW("Bad sub-second");
		printf("%llu (a second or more; carried into the seconds)\n",
		    (unsigned long long)v->st.bad_frac);
	}
	if (v->st.bad_time > 0) {	/* rare: no row without it */
		ROW("Time out of range");
		printf("%llu (before 1677 or after 2262; held at the nearest "
		    "end)\n", (unsigned long long)v->st.bad_time);
	}
	pk_fmt_seconds(a, sizeof(a), v->st.max_gap);
	ROW("Largest gap");
	printf("%s s\n", a);
	ROW("Damage");
	if (v->st.damaged == 0)
		printf("none\n");
	else if (v->has_damage_offset)
		printf("%llu report%s, %llu bytes skipped, first at offset "
		    "%llu%s\n", (unsigned long long)v->st.damaged,
		    v->st.damaged == 1 ? "" : "s", (unsigned long long)v->st.skipped_bytes,
		    (unsigned long long)v->st.first_damage, v->st.truncated ?
		    ", truncated" : "");
	else
		printf("%llu report%s, %llu bytes skipped%s\n",
		    (unsigned long long)v->st.damaged, v->st.damaged == 1 ? "" : "s",
		    (unsigned long long)v->st.skipped_bytes, v->st.truncated ?
		    ", truncated" : "");
	if (v->loss != NULL || v->loss_na != NULL) {
		char l[256];

		ROW("Capture loss");
		if (v->loss != NULL)
			fmt_loss(l, sizeof(l), v->loss);
		else
			snprintf(l, sizeof(l), "not measurable: %s", v->loss_na);
		printf("%s\n", l);
	}
	if (v->cov != NULL) {
		ROW("Silent");
		print_silences(v->cov);
	}
	if (v->has_win) {
		char c[64], d[64];

		pk_fmt_seconds(c, sizeof(c), v->after_open < 0 ?
		    -v->after_open : v->after_open);
		pk_fmt_seconds(d, sizeof(d), v->before_close < 0 ?
		    -v->before_close : v->before_close);
		ROW("Window");
		printf("first packet %s s %s it opened, last %s s %s it "
		    "closed\n", c, v->after_open < 0 ? "before" : "after", d,
		    v->before_close < 0 ? "after" : "before");
	}
	if (v->clk != 0) {
		ROW("Clock offset");
		if (v->clk == -2)
			printf("- (no two files share a packet)\n");
		else if (v->clk < 0)
			printf("- (no packet in common with the reference or "
			    "files linked to it)\n");
		else if (v->clk_ref)
			printf("0 (the reference: %llu packets in common with "
			    "the others, sampled)\n",
			    (unsigned long long)v->clk_shared);
		else {
			pk_fmt_seconds(a, sizeof(a), v->clk_off < 0 ?
			    -v->clk_off : v->clk_off);
			printf("%s%s s %s %s\n", v->clk_off < 0 ? "-" : "+",
			    a, v->clk_off < 0 ? "behind" : "ahead of",
			    v->clk_ref_name);
		}
	}
#undef ROW
}

static json_t *
json_time(int64_t ns)
{
	char a[64];

	pk_fmt_time(a, sizeof(a), ns);
	return json_pack("{s:s, s:I}", "time", a, "epoch_ns", (json_int_t)ns);
}

static json_t *
json_view(const struct view *v)
{
	int64_t dur = v->st.packets ? pm_ts_sub(v->st.ts_max, v->st.ts_min) : 0;
	json_t *o, *lts = json_array();
	size_t i;

	for (i = 0; i < v->nlinktypes; i++)
		json_array_append_new(lts, json_pack("{s:I, s:s}", "value",
		    (json_int_t)v->linktypes[i], "name",
		    pk_linktype_name(v->linktypes[i])));
	o = json_pack("{s:s, s:s, s:s, s:o, s:I, s:I, s:I, s:I}",
	    "format", v->format, "precision", v->precision,
	    "compression", v->compression, "linktypes", lts,
	    "snaplen", (json_int_t)v->snaplen,
	    "packets", (json_int_t)v->st.packets,
	    "bytes_captured", (json_int_t)v->st.caplen_bytes,
	    "bytes_wire", (json_int_t)v->st.wire_bytes);
	if (v->window)
		json_object_set_new(o, "outside_window", json_integer(
		    (json_int_t)v->st.outside_window));
	json_object_set_new(o, "first", v->st.packets ? json_time(v->st.ts_min) :
	    json_null());
	json_object_set_new(o, "last", v->st.packets ? json_time(v->st.ts_max) :
	    json_null());
	json_object_set_new(o, "duration_ns", json_integer(dur));
	json_object_set_new(o, "packets_per_second", dur > 0 ?
	    json_real(rate(v->st.packets, dur)) : json_null());
	json_object_set_new(o, "bits_per_second", dur > 0 ?
	    json_real(rate(v->st.wire_bytes * 8, dur)) : json_null());
	json_object_set_new(o, "cut_short", json_integer((json_int_t)
	    v->st.cut_short));
	json_object_set_new(o, "max_caplen", json_integer(v->st.max_caplen));
	json_object_set_new(o, "out_of_order", json_integer((json_int_t)
	    v->st.backwards));
	json_object_set_new(o, "max_backwards_ns",
	    json_integer(v->st.max_backwards));
	json_object_set_new(o, "max_gap_ns", json_integer(v->st.max_gap));
	json_object_set_new(o, "bad_subsecond", json_integer((json_int_t)
	    v->st.bad_frac));
	json_object_set_new(o, "time_out_of_range", json_integer((json_int_t)
	    v->st.bad_time));
	json_object_set_new(o, "damage", json_pack("{s:I, s:I, s:o, s:b}",
	    "reports", (json_int_t)v->st.damaged,
	    "bytes_skipped", (json_int_t)v->st.skipped_bytes,
	    "first_offset", v->has_damage_offset ?
	    json_integer((json_int_t)v->st.first_damage) : json_null(),
	    "truncated", v->st.truncated));
	if (v->loss != NULL || v->loss_na != NULL) {
		double f = v->loss != NULL ? loss_fraction(v->loss) : -1;

		json_object_set_new(o, "capture_loss", f >= 0 ?
		    json_real(f) : json_null());
		json_object_set_new(o, "loss", json_loss(v));
	}
	if (v->cov != NULL) {
		json_t *cv = json_silences(v->cov);

		if (v->has_win) {
			json_object_set_new(cv, "first_after_window_opened_s",
			    json_real((double)v->after_open / 1e9));
			json_object_set_new(cv, "last_before_window_closed_s",
			    json_real((double)v->before_close / 1e9));
		}
		json_object_set_new(o, "coverage", cv);
	}
	if (v->clk != 0) {
		if (v->clk > 0)
			json_object_set_new(o, "clock_offset",
			    json_real((double)v->clk_off / 1e9));
		json_object_set_new(o, "clock", json_pack("{s:o, s:I}",
		    "reference", v->clk == -2 ? json_null() :
		    json_string(v->clk_ref_name), "shared_packets",
		    (json_int_t)v->clk_shared));
	}
	return o;
}

static void
fmt_flow(char *buf, size_t n, const struct flow *f)
{
	char s[64], d[64], p[16];

	fmt_endpoint(s, sizeof(s), f->k.version, f->k.src, f->k.ports,
	    f->k.sport);
	fmt_endpoint(d, sizeof(d), f->k.version, f->k.dst, f->k.ports,
	    f->k.dport);
	if (f->k.proto == 255 && !f->k.ports)
		snprintf(p, sizeof(p), "?");
	else
		fmt_proto(p, sizeof(p), f->k.proto);
	snprintf(buf, n, "%-6s %s > %s", p, s, d);
}

/* The top flows, sorted; *n gets how many. */
static struct flow *
top_flows(struct run *r, size_t *n)
{
	struct flow *v;
	size_t i, k = 0;

	*n = 0;
	if (r->flows.n == 0)
		return NULL;
	if ((v = malloc(r->flows.n * sizeof(*v))) == NULL)
		return NULL;
	for (i = 0; i < r->flows.cap; i++)
		if (r->flows.t[i].used)
			v[k++] = r->flows.t[i];
	qsort(v, k, sizeof(*v), flow_cmp);
	*n = k < r->nflows ? k : r->nflows;
	return v;
}

static json_t *
json_offenders(const struct check *c)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < c->noff; i++) {
		const struct offender *o = &c->off[i];
		json_t *t = json_time(o->ts);
		json_object_set_new(t, "file", json_string(o->file));
		json_object_set_new(t, "packet", o->index ?
		    json_integer((json_int_t)o->index) : json_null());
		json_object_set_new(t, "packet_summary", json_string(o->what));
		json_array_append_new(a, t);
	}
	return a;
}

static void
print_offenders(const struct check *c)
{
	size_t i;
	char t[64];

	for (i = 0; i < c->noff; i++) {
		const struct offender *o = &c->off[i];
		pk_fmt_time(t, sizeof(t), o->ts);
		if (o->index)
			printf("      %s packet %llu, %s, %s\n", o->file,
			    (unsigned long long)o->index, t, o->what);
		else
			printf("      %s, %s, %s\n", o->file, t, o->what);
	}
}

/* ---- --timeline ----------------------------------------------------------- */

#define TL_JSON_COLUMNS 100

/*
 * A row's label: the input's name without what every name starts with,
 * and a capture id (32 hex digits, the same in every file of a capture)
 * shown as "..", so that what tells machines apart is what shows.
 */
static void
label_of(char *buf, size_t n, const char *name, size_t common)
{
	const char *p = name + common;
	size_t k = 0, h;

	while (*p != '\0' && k + 1 < n) {
		for (h = 0; h < 32 && isxdigit((unsigned char)p[h]); h++)
			;
		if (h == 32 && !isxdigit((unsigned char)p[32]) && k + 3 < n) {
			memcpy(buf + k, "..", 2);
			k += 2;
			p += 32;
			continue;
		}
		buf[k++] = *p++;
	}
	buf[k] = '\0';
}

/* Bytes every input's name starts with, up to a '/'. */
static size_t
common_dir(const struct run *r)
{
	const char *a = pm_scan_input_name(r->scan, 0);
	size_t i, c = strlen(a);

	for (i = 1; i < r->in.n; i++) {
		const char *b = pm_scan_input_name(r->scan, i);
		size_t k = 0;

		while (k < c && a[k] == b[k])
			k++;
		c = k;
	}
	while (c > 0 && a[c - 1] != '/')
		c--;
	return r->in.n > 1 ? c : 0;
}

/* Columns for the picture: the terminal's, $COLUMNS, or 80. */
static size_t
term_columns(void)
{
	struct winsize ws;
	const char *c;
	uint64_t v;

	if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 &&
	    ws.ws_col > 0)
		return ws.ws_col;
	if ((c = getenv("COLUMNS")) != NULL && pk_parse_u64(c, 20, 1000, &v) == 0)
		return (size_t)v;
	return 80;
}

/*
 * One row per file over the span of all inputs: each column a time bucket,
 * its packets as a block whose height is scaled to the row's busiest column
 * (so a quiet machine's shape shows as well as a busy one's); blank: no
 * packet.
 */
static void
print_timeline(const struct run *r)
{
	static const char *const uni[] = { "\u2581", "\u2582", "\u2583",
	    "\u2584", "\u2585", "\u2586", "\u2587", "\u2588" };
	static const char asc[] = ".:-=+*#%@";
	size_t i, j, label = 8, ncol, nlev = r->timeline == TL_ASCII ?
	    sizeof(asc) - 1 : 8, common = common_dir(r);
	double *col, max;
	int64_t w, t0;
	char a[64], b[64], name[256];

	for (i = 0; i < r->in.n; i++) {
		label_of(name, sizeof(name), pm_scan_input_name(r->scan, i),
		    common);
		if (strlen(name) > label)
			label = strlen(name);
	}
	if (label > 28)
		label = 28;
	ncol = term_columns();
	ncol = ncol > label + 14 ? ncol - label - 4 : 10;
	w = tl_axis(r->tot.ts_min, r->tot.ts_max, ncol, &t0);
	pk_fmt_time(a, sizeof(a), t0);
	pk_fmt_seconds(b, sizeof(b), w);
	printf("\nTimeline from %s, %s s per column%s\n", a, b,
	    r->tl == NULL ? ": not drawn (inputs merged in passes)" : "");
	if (r->tl == NULL || (col = calloc(ncol, sizeof(*col))) == NULL)
		return;
	for (i = 0; i < r->in.n; i++) {
		label_of(name, sizeof(name), pm_scan_input_name(r->scan, i),
		    common);
		memset(col, 0, ncol * sizeof(*col));
		tl_spread(&r->tl[i], t0, w, ncol, col);
		for (max = 0, j = 0; j < ncol; j++)
			if (col[j] > max)
				max = col[j];
		/* a long name keeps its end, where machines' names differ */
		if (strlen(name) > label)
			printf("  ..%s  ", name + strlen(name) - (label - 2));
		else
			printf("  %-*s  ", (int)label, name);
		for (j = 0; j < ncol; j++) {
			size_t lv = col[j] == 0 ? 0 :
			    (size_t)(col[j] * (double)nlev / max);

			if (lv >= nlev)
				lv = nlev - 1;
			if (col[j] == 0)
				putchar(' ');
			else if (r->timeline == TL_ASCII)
				putchar(asc[lv]);
			else
				fputs(uni[lv], stdout);
		}
		printf("\n");
	}
	free(col);
}

static json_t *
json_timeline(const struct run *r)
{
	int64_t t0, w = tl_axis(r->tot.ts_min, r->tot.ts_max,
	    TL_JSON_COLUMNS, &t0);
	uint64_t col[TL_JSON_COLUMNS];
	json_t *files = json_array(), *a;
	size_t i, j;

	for (i = 0; r->tl != NULL && i < r->in.n; i++) {
		memset(col, 0, sizeof(col));
		tl_columns(&r->tl[i], t0, w, TL_JSON_COLUMNS, col);
		a = json_array();
		for (j = 0; j < TL_JSON_COLUMNS; j++)
			json_array_append_new(a, json_integer((json_int_t)col[j]));
		json_array_append_new(files, json_pack("{s:s, s:o}", "name",
		    pm_scan_input_name(r->scan, i), "packets", a));
	}
	return json_pack("{s:o, s:I, s:I, s:o}", "start", json_time(t0),
	    "bucket_ns", (json_int_t)w, "buckets", (json_int_t)TL_JSON_COLUMNS,
	    "files", files);
}

int
report_output(struct run *r, struct check *ck, size_t nck, int verdict)
{
	size_t i, nin = r->in.n, nf = 0;
	struct flow *fl = r->nflows ? top_flows(r, &nf) : NULL;
	struct view v;
	char buf[256];

	if (r->nflows && fl == NULL && r->flows.n > 0) {
		pk_warn("out of memory");
		return -1;
	}
	if (r->json) {
		json_t *doc = json_object(), *a, *o;

		json_object_set_new(doc, "pcap_summary_schema",
		    json_integer(SCHEMA_VERSION));
		json_object_set_new(doc, "inputs", json_integer((json_int_t)nin));
		view_total(&v, r);
		json_object_set_new(doc, "unreadable_inputs",
		    json_integer(v.unreadable));
		a = json_array();
		for (i = 0; i < r->in.nskipped; i++)
			json_array_append_new(a, json_pack("{s:s, s:s}",
			    "name", r->in.skipped[i].path, "reason",
			    r->in.skipped[i].why));
		json_object_set_new(doc, "skipped", a);
		view_loss(&v, r, (size_t)-1);
		view_window(&v, r);
		json_object_set_new(doc, "total", json_view(&v));
		if (r->per_file) {
			a = json_array();
			for (i = 0; i < nin; i++) {
				const struct pm_input_info *f =
				    run_input_info(r, i);
				json_t *fv;

				view_file(&v, f);
				view_loss(&v, r, i);
				view_window(&v, r);
				fv = json_view(&v);
				o = json_pack("{s:s, s:b}", "name", f->name,
				    "readable", f->opened);
				json_object_update(o, fv);
				json_decref(fv);
				json_array_append_new(a, o);
			}
			json_object_set_new(doc, "files", a);
		}
		o = json_object();
		for (i = 0; i < P_N; i++)
			json_object_set_new(o, proto_key[i], json_pack(
			    "{s:I, s:I}", "packets",
			    (json_int_t)r->t.proto[i].packets, "bytes_wire",
			    (json_int_t)r->t.proto[i].bytes));
		json_object_set_new(doc, "protocols", o);
		if (r->nflows) {
			a = json_array();
			for (i = 0; i < nf; i++) {
				char s[64], d[64];
				fmt_endpoint(s, sizeof(s), fl[i].k.version,
				    fl[i].k.src, 0, 0);
				fmt_endpoint(d, sizeof(d), fl[i].k.version,
				    fl[i].k.dst, 0, 0);
				o = json_pack("{s:o, s:s, s:o, s:s, s:o, "
				    "s:I, s:I}",
				    "protocol", fl[i].k.proto == 255 ?
				    json_null() : json_integer(fl[i].k.proto),
				    "source", s,
				    "source_port", fl[i].k.ports ?
				    json_integer(fl[i].k.sport) : json_null(),
				    "destination", d,
				    "destination_port", fl[i].k.ports ?
				    json_integer(fl[i].k.dport) : json_null(),
				    "packets", (json_int_t)fl[i].packets,
				    "bytes_wire", (json_int_t)fl[i].bytes);
				json_array_append_new(a, o);
			}
			json_object_set_new(doc, "flows", a);
		}
		if (r->fopt != NULL)
			json_object_set_new(doc, "filter", json_pack(
			    "{s:I, s:I, s:I, s:I}",
			    "matched", (json_int_t)r->t.f_match,
			    "not_matched", (json_int_t)r->t.f_nomatch,
			    "undecidable", (json_int_t)r->t.f_undecidable,
			    "unsupported_linktype",
			    (json_int_t)r->t.f_unsupported));
		if (r->e != NULL) {
			a = json_array();
			for (i = 0; i < nck; i++) {
				o = json_pack("{s:s, s:s, s:O, s:O, s:s}",
				    "name", ck[i].name,
				    "result", ck_word[ck[i].result],
				    "measured", ck[i].measured,
				    "expected", ck[i].expected,
				    "detail", ck[i].text);
				if (ck[i].noff > 0)
					json_object_set_new(o, "offenders",
					    json_offenders(&ck[i]));
				json_array_append_new(a, o);
			}
			json_object_set_new(doc, "expect", json_pack(
			    "{s:o, s:o, s:s, s:o}",
			    "capture_id", r->e->cap.id ? json_string(r->e->cap.id) :
			    json_null(),
			    "type", r->e->cap.type ? json_string(r->e->cap.type) :
			    json_null(),
			    "result", ck_word[verdict], "checks", a));
		}
		if (r->timeline)
			json_object_set_new(doc, "timeline", json_timeline(r));
		if (json_dumpf(doc, stdout, JSON_INDENT(2) |
		    JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10)) < 0) {
			json_decref(doc);
			free(fl);
			return -1;
		}
		putchar('\n');
		json_decref(doc);
		free(fl);
		return 0;
	}

	view_total(&v, r);
	printf("Total: %zu file%s", nin, nin == 1 ? "" : "s");
	if (v.unreadable)
		printf(", %d unreadable", v.unreadable);
	if (r->in.nskipped)
		printf(", %zu skipped (named on stderr)", r->in.nskipped);
	printf("\n");
	view_loss(&v, r, (size_t)-1);
	view_window(&v, r);
	print_view(&v);
	if (r->per_file)
		for (i = 0; i < nin; i++) {
			const struct pm_input_info *f = run_input_info(r, i);
			view_file(&v, f);
			view_loss(&v, r, i);
			view_window(&v, r);
			printf("\nFile: %s\n", f->name);
			print_view(&v);
		}
	if (r->timeline)
		print_timeline(r);
	printf("\n  %-20s%12s %16s\n", "Protocol", "Packets", "Wire bytes");
	for (i = 0; i < P_N; i++)
		printf("  %-20s%12llu %16llu\n", proto_label[i],
		    (unsigned long long)r->t.proto[i].packets,
		    (unsigned long long)r->t.proto[i].bytes);
	if (r->nflows) {
		snprintf(buf, sizeof(buf), "Top %zu flow%s by wire bytes",
		    r->nflows, r->nflows == 1 ? "" : "s");
		printf("\n  %-58s %12s %16s\n", buf, "Packets", "Wire bytes");
		for (i = 0; i < nf; i++) {
			fmt_flow(buf, sizeof(buf), &fl[i]);
			printf("  %-58s %12llu %16llu\n", buf,
			    (unsigned long long)fl[i].packets,
			    (unsigned long long)fl[i].bytes);
		}
	}
	if (r->fopt != NULL)
		printf("\n  %-20s%llu matched, %llu not matched, %llu "
		    "undecidable, %llu unsupported linktype\n", "Filter",
		    (unsigned long long)r->t.f_match,
		    (unsigned long long)r->t.f_nomatch,
		    (unsigned long long)r->t.f_undecidable,
		    (unsigned long long)r->t.f_unsupported);
	if (r->e != NULL) {
		printf("\nExpect: capture %s (%s)\n", r->e->cap.id ? r->e->cap.id :
		    "(no id)", r->e->cap.type ? r->e->cap.type : "type unknown");
		for (i = 0; i < nck; i++) {
			printf("  %-4s  %-16s  %s\n", ck_word[ck[i].result],
			    ck[i].name, ck[i].text);
			print_offenders(&ck[i]);
		}
		printf("  result: %s\n", ck_word[verdict]);
	}
	free(fl);
	return 0;
}

/* ---- main -------------------------------------------------------------------- */


/* ---- -T: capinfos' table ------------------------------------------------ */

static void
cell(const struct run *r, int *first, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
cell(const struct run *r, int *first, const char *fmt, ...)
{
	va_list ap;

	if (!*first)
		putchar(r->tsep);
	*first = 0;
	if (r->tquote)
		putchar(r->tquote);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (r->tquote)
		putchar(r->tquote);
}

/* capinfos' time: local, to the file's precision, or epoch seconds (-S) */
static void
table_time(char *buf, size_t n, int64_t ns, int nano, int seconds)
{
	int64_t s = ns >= 0 ? ns / 1000000000 : (ns - 999999999) / 1000000000;
	int64_t f = ns - s * 1000000000;
	time_t t = (time_t)s;
	struct tm tm;
	size_t k;

	if (seconds)
		k = (size_t)snprintf(buf, n, "%lld", (long long)s);
	else if (localtime_r(&t, &tm) != NULL)
		k = strftime(buf, n, "%Y-%m-%d %H:%M:%S", &tm);
	else
		k = (size_t)snprintf(buf, n, "%lld", (long long)s);
	if (k < n)
		snprintf(buf + k, n - k, nano ? ".%09lld" : ".%06lld",
		    (long long)(nano ? f : f / 1000));
}

int
report_table(const struct run *r)
{
	enum {
		C_TYPE, C_ENCAP, C_PREC, C_SNAP, C_SNAPMIN, C_SNAPMAX,
		C_PACKETS, C_FILESIZE, C_DATASIZE, C_DURATION, C_START, C_END,
		C_BYTERATE, C_BITRATE, C_AVGSIZE, C_PKTRATE, C_ORDER
	};
	static const struct {
		unsigned col;		/* the TC_ letter that shows it */
		int what;
		const char *head;
	} cols[] = {
		{ TC_TYPE, C_TYPE, "File type" },
		{ TC_ENCAP, C_ENCAP, "File encapsulation" },
		/* with every column only */
		{ 0, C_PREC, "File time precision" },
		{ TC_SNAP, C_SNAP, "Packet size limit" },
		{ TC_SNAP, C_SNAPMIN, "Packet size limit min (inferred)" },
		{ TC_SNAP, C_SNAPMAX, "Packet size limit max (inferred)" },
		{ TC_PACKETS, C_PACKETS, "Number of packets" },
		{ TC_FILESIZE, C_FILESIZE, "File size (bytes)" },
		{ TC_DATASIZE, C_DATASIZE, "Data size (bytes)" },
		{ TC_DURATION, C_DURATION, "Capture duration (seconds)" },
		{ TC_START, C_START, "Start time" },
		{ TC_END, C_END, "End time" },
		{ TC_BYTERATE, C_BYTERATE, "Data byte rate (bytes/sec)" },
		{ TC_BITRATE, C_BITRATE, "Data bit rate (bits/sec)" },
		{ TC_AVGSIZE, C_AVGSIZE, "Average packet size (bytes)" },
		{ TC_PKTRATE, C_PKTRATE, "Average packet rate (packets/sec)" },
		{ TC_ORDER, C_ORDER, "Strict time order" },
	};
	const size_t ncols = sizeof(cols) / sizeof(cols[0]);
	unsigned want = r->tcols;
	size_t i, c;
	int first;

#define SHOWN(k) (want == 0 || (cols[k].col != 0 && (want & cols[k].col)))
	if (r->theader) {
		first = 1;
		cell(r, &first, "File name");
		for (c = 0; c < ncols; c++)
			if (SHOWN(c))
				cell(r, &first, "%s", cols[c].head);
		putchar('\n');
	}
	for (i = 0; i < r->in.n; i++) {
		const struct pm_input_info *f = run_input_info(r, i);
		const struct pm_reader_stats *st = &f->stats;
		int64_t dur = st->packets ? pm_ts_sub(st->ts_max, st->ts_min) : 0;
		double secs = (double)dur / 1e9;
		char t[64];

		if (!f->opened)
			continue;	/* said on stderr, as capinfos does */
		first = 1;
		cell(r, &first, "%s", f->name);
		for (c = 0; c < ncols; c++) {
			if (!SHOWN(c))
				continue;
			switch (cols[c].what) {
			case C_TYPE:
				cell(r, &first, "%s", f->format == PM_FMT_PCAPNG ?
				    "pcapng" : f->nano ? "nsecpcap" : "pcap");
				break;
			case C_ENCAP:
				cell(r, &first, "%s",
				    pk_linktype_name(f->linktype));
				break;
			case C_PREC:
				cell(r, &first, "%s", f->nano ? "nanoseconds" :
				    "microseconds");
				break;
			case C_SNAP:
				cell(r, &first, "%u", f->snaplen);
				break;
			case C_SNAPMIN: case C_SNAPMAX:
				cell(r, &first, "n/a");
				break;
			case C_PACKETS:
				cell(r, &first, "%llu",
				    (unsigned long long)st->packets);
				break;
			case C_FILESIZE:
				cell(r, &first, "%llu",
				    (unsigned long long)st->bytes_in);
				break;
			case C_DATASIZE:
				cell(r, &first, "%llu",
				    (unsigned long long)st->wire_bytes);
				break;
			case C_DURATION:
				if (st->packets == 0)
					cell(r, &first, "n/a");
				else
					cell(r, &first, f->nano ? "%.9f" :
					    "%.6f", secs);
				break;
			case C_START: case C_END:
				if (st->packets == 0) {
					cell(r, &first, "n/a");
					break;
				}
				table_time(t, sizeof(t),
				    cols[c].what == C_START ? st->ts_min :
				    st->ts_max, f->nano, r->tseconds);
				cell(r, &first, "%s", t);
				break;
			case C_BYTERATE: case C_BITRATE: case C_PKTRATE:
				if (st->packets == 0)
					cell(r, &first, "n/a");
				else
					cell(r, &first, "%.2f", dur == 0 ? 0.0 :
					    (cols[c].what == C_PKTRATE ?
					    (double)st->packets :
					    (double)st->wire_bytes *
					    (cols[c].what == C_BITRATE ? 8 : 1)) /
					    secs);
				break;
			case C_AVGSIZE:
				if (st->packets == 0)
					cell(r, &first, "n/a");
				else
					cell(r, &first, "%.2f",
					    (double)st->wire_bytes /
					    (double)st->packets);
				break;
			case C_ORDER:
				cell(r, &first, "%s", st->backwards ? "False" :
				    "True");
				break;
			}
		}
		putchar('\n');
	}
#undef SHOWN
	return ferror(stdout) ? -1 : 0;
}
