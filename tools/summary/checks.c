/*
 * checks.c - pcap-summary --expect: the capture object and manifest.json
 * it is checked against, and the checks; see summary.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "summary.h"

/* ---- the capture object (--expect) ---------------------------------------- */

const char *const ck_word[] = { "ok", "warn", "FAIL" };

void
offender_fill(struct offender *o, const char *file, uint64_t index,
    const struct pm_packet *pkt, const struct pf_dissection *d,
    const char *why)
{
	snprintf(o->file, sizeof(o->file), "%s", file);
	o->index = index;
	o->ts = pkt->ts;
	describe_packet(o->what, sizeof(o->what), d);
	if (why != NULL) {
		size_t l = strlen(o->what);
		snprintf(o->what + l, sizeof(o->what) - l, " (%s)", why);
	}
}

/* Returns 0, or prints why and returns SUMMARY_USAGE. */
int
expect_load(struct expect *e, const char *path, int64_t tolerance)
{
	char err[PF_ERRBUF_SIZE + 64];

	if (pk_capture_load(&e->cap, path, err, sizeof(err)) < 0) {
		pk_warnf(path, "%s", err);
		return SUMMARY_USAGE;
	}
	/*
	 * The window.  The API reference says offset_time is the time "from
	 * which to query backwards for packets" (default: the time of the
	 * request), so a capture with offset_time, and a simple capture
	 * without one, cover [start - time_limit, start]; a full capture
	 * records live from its submission: [submitted, + time_limit].  With
	 * no type, either may hold: [submitted - time_limit, + time_limit].
	 */
	if (e->cap.have_start && e->cap.has_time_limit) {
		int64_t tl = (int64_t)(e->cap.time_limit * 1e9);
		int offset = strcmp(e->cap.start_field, "offset_time") == 0;
		int back = offset || !e->cap.full, fwd = !offset && !e->cap.simple;

		/* held at the ends of int64: start comes from a file */
		e->lo = pm_ts_sub(pm_ts_sub(e->cap.start, back ? tl : 0),
		    tolerance);
		e->hi = pm_ts_sub(pm_ts_sub(e->cap.start, fwd ? -tl : 0),
		    -tolerance);
		e->tol = tolerance;
	}
	return 0;
}

/*
 * pcap-fetch's manifest.json in dir, when there is one: every file it lists
 * must be there, whole (checked in the same pass as the counts, see
 * manifest_check).  Returns 0, or prints why and returns 2.
 */
int
manifest_load(struct expect *e, const char *dir)
{
	json_error_t jerr;
	struct stat st;

	if (asprintf(&e->manifest_path, "%s%smanifest.json", dir,
	    pk_ends_with(dir, "/") ? "" : "/") < 0 ||
	    (e->manifest_dir = strdup(dir)) == NULL) {
		pk_warn("out of memory");
		return SUMMARY_USAGE;
	}
	if (stat(e->manifest_path, &st) < 0)
		return 0;		/* no manifest: nothing more to check */
	if ((e->manifest = json_load_file(e->manifest_path, 0, &jerr)) ==
	    NULL) {
		pk_warnf(e->manifest_path, "line %d: %s", jerr.line, jerr.text);
		return SUMMARY_USAGE;
	}
	if (!json_is_array(json_object_get(e->manifest, "files"))) {
		pk_warnf(e->manifest_path, "not a pcap-fetch manifest (no "
		    "files list)");
		return SUMMARY_USAGE;
	}
	return 0;
}

static void
check_set(struct check *c, const char *name, int result, json_t *measured,
    json_t *expected, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

static void
check_set(struct check *c, const char *name, int result, json_t *measured,
    json_t *expected, const char *fmt, ...)
{
	va_list ap;

	c->name = name;
	c->result = result;
	c->measured = measured;
	c->expected = expected;
	va_start(ap, fmt);
	vsnprintf(c->text, sizeof(c->text), fmt, ap);
	va_end(ap);
}

/* A count against a limit: at most (exact 0) or exactly (exact 1). */
static void
count_check(struct check *c, const char *name, uint64_t got, uint64_t want,
    int exact, const char *what, const char *hint)
{
	int ok = exact ? got == want : got <= want;

	check_set(c, name, ok ? CK_OK : CK_FAIL, json_integer((json_int_t)got),
	    json_integer((json_int_t)want), "%llu %s, %s %llu%s",
	    (unsigned long long)got, what, exact ? "expected exactly" :
	    "at most", (unsigned long long)want, hint != NULL ? hint : "");
}

/* ---- the checks ----------------------------------------------------------- */

static const char *
base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s != NULL ? s + 1 : p;
}

static json_t *
json_window(const struct expect *e)
{
	char a[48], b[48];

	pk_fmt_time(a, sizeof(a), e->lo);
	pk_fmt_time(b, sizeof(b), e->hi);
	return json_pack("{s:s, s:s, s:I, s:I}", "from", a, "to", b,
	    "from_epoch_ns", (json_int_t)e->lo, "to_epoch_ns", (json_int_t)e->hi);
}

static void
fmt_window(char *buf, size_t n, const struct expect *e)
{
	char a[48], b[48];

	pk_fmt_time(a, sizeof(a), e->lo);
	pk_fmt_time(b, sizeof(b), e->hi);
	snprintf(buf, n, "[%s, %s]", a, b);
}

/* A name from a file we did not write, printable: controls become '?'. */
static void
safe_copy(char *d, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i + 1 < n && s[i] != '\0'; i++)
		d[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	d[i] = '\0';
}

/* The CRC-32C of a whole file read now (one not among the inputs read). */
static int
file_crc32c(const char *path, uint32_t *crc)
{
	static uint8_t buf[1 << 16];
	ssize_t k;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	*crc = 0;
	while ((k = read(fd, buf, sizeof(buf))) > 0)
		*crc = pm_crc32c(*crc, buf, (size_t)k);
	close(fd);
	return k < 0 ? -1 : 0;
}

/*
 * Every file manifest.json lists is there, fetched, with its size and
 * CRC-32C (of the bytes as stored, computed while the counts were taken);
 * a capture file read that the manifest does not list is a warning.
 */
static void
manifest_check(struct run *r, struct check *c)
{
	const struct expect *e = r->e;
	json_t *files = json_object_get(e->manifest, "files"), *f;
	size_t i, j, nin = r->in.n, bad = 0, extra = 0, listed = 0;
	char buf[512] = "", xbuf[256] = "", nm[160], why[300];
	size_t used = 0, xused = 0;
	struct stat *ist = calloc(nin ? nin : 1, sizeof(*ist));
	unsigned char *seen = calloc(nin ? nin : 1, 1);

	if (ist == NULL || seen == NULL) {
		check_set(c, "manifest", CK_FAIL, json_null(), json_null(),
		    "out of memory");
		free(ist);
		free(seen);
		return;
	}
	for (i = 0; i < nin; i++)
		if (strcmp(r->in.paths[i], "-") == 0 ||
		    stat(r->in.paths[i], &ist[i]) < 0)
			ist[i].st_ino = 0, ist[i].st_dev = 0;
	json_array_foreach(files, j, f) {
		const char *name = json_string_value(json_object_get(f, "name"));
		const char *status = json_string_value(json_object_get(f,
		    "status"));
		const char *want = json_string_value(json_object_get(f,
		    "crc32c"));
		json_t *size = json_object_get(f, "size");
		char *path = NULL;
		struct stat st;
		uint32_t crc = 0;
		int have = 0;

		listed++;
		why[0] = '\0';
		safe_copy(nm, sizeof(nm), name != NULL ? name : "(no name)");
		if (name == NULL || *name == '\0' || *name == '/' ||
		    strstr(name, "..") != NULL)
			snprintf(why, sizeof(why), "%s: not a safe name", nm);
		else if (status == NULL || (strcmp(status, "fetched") != 0 &&
		    strcmp(status, "present") != 0)) {
			char err[120];
			safe_copy(err, sizeof(err), json_string_value(
			    json_object_get(f, "error")) ? json_string_value(
			    json_object_get(f, "error")) : "no reason given");
			snprintf(why, sizeof(why), "%s: not fetched (%s)", nm,
			    err);
		} else if (asprintf(&path, "%s/%s", e->manifest_dir, name) < 0)
			snprintf(why, sizeof(why), "out of memory");
		else if (stat(path, &st) < 0)
			snprintf(why, sizeof(why), "%s: missing", nm);
		else if (!json_is_integer(size) ||
		    (long long)st.st_size != json_integer_value(size))
			snprintf(why, sizeof(why), "%s: %lld bytes, the manifest "
			    "says %lld", nm, (long long)st.st_size,
			    json_is_integer(size) ? (long long)
			    json_integer_value(size) : -1LL);
		else {
			for (i = 0; i < nin; i++) {
				const struct pm_input_info *in;
				if (ist[i].st_ino != st.st_ino ||
				    ist[i].st_dev != st.st_dev)
					continue;
				seen[i] = 1;
				in = run_input_info(r, i);
				if (in->checksummed && in->stats.bytes_in ==
				    (uint64_t)st.st_size) {
					crc = in->crc32c;
					have = 1;
				}
			}
			if (!have && file_crc32c(path, &crc) < 0)
				snprintf(why, sizeof(why), "%s: %s", nm,
				    strerror(errno));
			else if (want == NULL || strtoul(want, NULL, 16) !=
			    crc || strlen(want) != 8)
				snprintf(why, sizeof(why), "%s: CRC-32C %08x, "
				    "the manifest says %.8s", nm, crc,
				    want != NULL ? want : "none");
		}
		free(path);
		if (why[0] == '\0')
			continue;
		if (bad++ < 3)
			used += (size_t)snprintf(buf + used, used < sizeof(buf)
			    ? sizeof(buf) - used : 0, "%s%s", bad > 1 ? "; " :
			    "", why);
		if (used >= sizeof(buf))
			used = sizeof(buf) - 1;
	}
	for (i = 0; i < nin; i++) {
		if (seen[i] || ist[i].st_ino == 0)
			continue;
		if (extra++ < 3)
			xused += (size_t)snprintf(xbuf + xused, xused <
			    sizeof(xbuf) ? sizeof(xbuf) - xused : 0, "%s%s",
			    extra > 1 ? ", " : "", r->in.paths[i]);
		if (xused >= sizeof(xbuf))
			xused = sizeof(xbuf) - 1;
	}
	if (bad > 0)
		check_set(c, "manifest", CK_FAIL, json_integer((json_int_t)bad),
		    json_integer(0), "%zu of %zu file%s listed in %s not as "
		    "fetched: %s%s", bad, listed, listed == 1 ? "" : "s",
		    e->manifest_path, buf, bad > 3 ? "; ..." : "");
	else if (extra > 0)
		check_set(c, "manifest", CK_WARN,
		    json_integer((json_int_t)extra), json_integer(0),
		    "all %zu listed file%s whole, but %zu file%s read %s not "
		    "in %s: %s%s", listed, listed == 1 ? "" : "s", extra,
		    extra == 1 ? "" : "s", extra == 1 ? "is" : "are",
		    e->manifest_path, xbuf, extra > 3 ? ", ..." : "");
	else
		check_set(c, "manifest", CK_OK, json_integer(0), json_integer(0),
		    "all %zu file%s listed in %s are here, with their sizes "
		    "and CRC-32C", listed, listed == 1 ? "" : "s",
		    e->manifest_path);
	free(ist);
	free(seen);
}

/* The files a check names: the first `max` of them, then how many more. */
struct names {
	char buf[400];
	size_t len, n, max;
	const char *sep;
};

static void
names_init(struct names *l, size_t max, const char *sep)
{
	l->buf[0] = '\0';
	l->len = l->n = 0;
	l->max = max;
	l->sep = sep;
}

/* Counts every file; describes the first max. */
static void __attribute__((format(printf, 2, 3)))
names_add(struct names *l, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (l->n++ >= l->max || l->len + 8 >= sizeof(l->buf))
		return;
	if (l->len > 0)
		l->len += (size_t)snprintf(l->buf + l->len, sizeof(l->buf) -
		    l->len, "%s", l->sep);
	va_start(ap, fmt);
	k = vsnprintf(l->buf + l->len, sizeof(l->buf) - l->len, fmt, ap);
	va_end(ap);
	if (k > 0)
		l->len += (size_t)k;
	if (l->len >= sizeof(l->buf))
		l->len = sizeof(l->buf) - 1;
}

static const char *
names_end(struct names *l)
{
	if (l->n > l->max && l->len + 1 < sizeof(l->buf))
		snprintf(l->buf + l->len, sizeof(l->buf) - l->len,
		    "%sand %zu more", l->sep, l->n - l->max);
	return l->buf;
}

/*
 * capture_loss: the capture's own loss, measured from its TCP flows
 * (loss.c), against --max-loss; names the files over it.  A simple capture
 * is sampled, and a capture without a TCP stream that goes on (UDP, a SYN
 * flood) has nothing to measure it by: no check then (the "Capture loss"
 * line and JSON "loss" say why).  Returns 0 when there is no check.
 */
static int
loss_check(const struct run *r, struct check *c)
{
	char max[32];
	struct names l;
	double f, total;
	size_t i;

	snprintf(max, sizeof(max), "%g%%", r->max_loss * 100);
	if (r->loss == NULL) {
		check_set(c, "capture_loss", CK_WARN, json_null(),
		    json_real(r->max_loss), "cannot measure: %s",
		    r->loss_na ? r->loss_na : "off");
		return 1;
	}
	if ((total = loss_fraction(&r->loss_total)) < 0)
		return 0;
	names_init(&l, 5, ", ");
	for (i = 0; i < r->in.n; i++)
		if ((f = loss_fraction(&r->loss[i])) > r->max_loss)
			names_add(&l, "%s %.4f%%",
			    base_name(pm_scan_input_name(r->scan, i)), f * 100);
	names_end(&l);
	if (l.n > 0 || total > r->max_loss)
		check_set(c, "capture_loss", CK_WARN, json_real(total),
		    json_real(r->max_loss), "%.4f%% of TCP bytes not captured, "
		    "above %s%s%s", total * 100, max, l.n ? ": " : "", l.buf);
	else
		check_set(c, "capture_loss", CK_OK, json_real(total),
		    json_real(r->max_loss), "%.4f%% of TCP bytes not captured "
		    "(%s), at most %s in every file", total * 100,
		    loss_method(&r->loss_total), max);
	return 1;
}

/*
 * coverage: no file silent while the others have packets (coverage.c says
 * what counts as silent).  Needs two files or more.
 */
static int
coverage_check(const struct run *r, struct check *c)
{
	char a[64], b[64];
	struct names l;
	size_t i, n = 0;

	if (r->cov == NULL || r->in.n < 2)
		return 0;
	names_init(&l, 3, "; ");
	for (i = 0; i < r->in.n; i++) {
		const struct coverage *cv = &r->cov[i];

		if (cv->total == 0)
			continue;
		n += cv->total;
		pk_fmt_time(a, sizeof(a), cv->s[0].from);
		pk_fmt_seconds(b, sizeof(b), cv->s[0].to - cv->s[0].from);
		names_add(&l, "%s from %s for %s s%s",
		    base_name(pm_scan_input_name(r->scan, i)), a, b,
		    cv->total > 1 ? " (and more)" : "");
	}
	names_end(&l);
	if (l.n > 0)
		check_set(c, "coverage", CK_WARN, json_integer((json_int_t)n),
		    json_integer(0), "%zu file%s silent while the others had "
		    "packets: %s", l.n, l.n == 1 ? "" : "s", l.buf);
	else
		check_set(c, "coverage", CK_OK, json_integer(0), json_integer(0),
		    "every file has packets whenever the others do");
	return 1;
}

/*
 * clock: each file's clock against the reference file's, from the packets
 * they share (clock.c), within --max-clock-offset.  No check when no two
 * files share a packet.
 */
static int
clock_check(const struct run *r, struct check *c)
{
	char a[64], mx[64];
	struct names l;
	size_t i, known = 0;
	int64_t worst = 0;

	if (r->clk_off == NULL)
		return 0;
	for (i = 0; i < r->in.n; i++)
		known += r->clk_known[i] != 0;
	if (known < 2)
		return 0;
	names_init(&l, 5, ", ");
	pk_fmt_seconds(mx, sizeof(mx), r->max_clock);
	for (i = 0; i < r->in.n; i++) {
		int64_t o = r->clk_off[i] < 0 ? -r->clk_off[i] : r->clk_off[i];

		if (!r->clk_known[i])
			continue;
		if (o > worst)
			worst = o;
		if (o <= r->max_clock)
			continue;
		pk_fmt_seconds(a, sizeof(a), o);
		names_add(&l, "%s %s%s s",
		    base_name(pm_scan_input_name(r->scan, i)),
		    r->clk_off[i] < 0 ? "-" : "+", a);
	}
	names_end(&l);
	pk_fmt_seconds(a, sizeof(a), worst);
	if (l.n > 0)
		check_set(c, "clock", CK_WARN, json_real((double)worst / 1e9),
		    json_real((double)r->max_clock / 1e9), "%zu %s off by more "
		    "than %s s from %s: %s", l.n, l.n == 1 ? "file's clock" :
		    "files' clocks", mx,
		    base_name(pm_scan_input_name(r->scan, r->clk_ref)), l.buf);
	else
		check_set(c, "clock", CK_OK, json_real((double)worst / 1e9),
		    json_real((double)r->max_clock / 1e9), "%zu files agree "
		    "within %s s (largest offset %s s)", known, mx, a);
	return 1;
}

size_t
run_checks(struct run *r, struct check *ck)
{
	struct expect *e = r->e;
	size_t n = 0, i, nin = r->in.n, bad = 0;
	const struct pm_input_info *first = NULL;
	char buf[512], w[128];
	size_t used = 0;

	/* status */
	if (e->cap.status == NULL)
		check_set(&ck[n++], "status", CK_WARN, json_null(),
		    json_string("complete"), "no status in the capture object");
	else if (strcmp(e->cap.status, "complete") == 0 ||
	    strcmp(e->cap.status, "success") == 0)
		check_set(&ck[n++], "status", CK_OK, json_string(e->cap.status),
		    json_string("complete"), "%s", e->cap.status);
	else if (strcmp(e->cap.status, "failed") == 0)
		check_set(&ck[n++], "status", CK_FAIL, json_string(e->cap.status),
		    json_string("complete"), "failed: %s", e->cap.error_message ?
		    e->cap.error_message : "(no error_message)");
	else if (strcmp(e->cap.status, "unknown") == 0)
		check_set(&ck[n++], "status", CK_WARN, json_string(e->cap.status),
		    json_string("complete"), "unknown");
	else
		check_set(&ck[n++], "status", CK_FAIL, json_string(e->cap.status),
		    json_string("complete"), "%s: the capture is not finished",
		    e->cap.status);

	/* files: opened, not empty, not damaged */
	buf[0] = '\0';
	for (i = 0; i < nin; i++) {
		const struct pm_input_info *f = run_input_info(r, i);
		const struct pm_reader_stats *s = &f->stats;
		char why[160];

		if (!f->opened)
			snprintf(why, sizeof(why), "unreadable");
		else if (s->damaged > 0)
			snprintf(why, sizeof(why), "%s at offset %llu, %llu "
			    "bytes skipped", s->truncated && s->damaged == 1 ?
			    "truncated" : "damaged",
			    (unsigned long long)s->first_damage,
			    (unsigned long long)s->skipped_bytes);
		else if (s->packets == 0)
			snprintf(why, sizeof(why), "no packets");
		else
			continue;
		if (bad++ < 3)
			used += (size_t)snprintf(buf + used, used < sizeof(buf)
			    ? sizeof(buf) - used : 0, "%s%s: %s", bad > 1 ?
			    "; " : "", f->name, why);
		if (used >= sizeof(buf))
			used = sizeof(buf) - 1;
	}
	if (bad == 0)
		check_set(&ck[n++], "files", CK_OK, json_integer(0),
		    json_integer(0), "%zu file%s read whole, none empty", nin,
		    nin == 1 ? "" : "s");
	else
		check_set(&ck[n++], "files", CK_FAIL,
		    json_integer((json_int_t)bad), json_integer(0),
		    "%zu of %zu file%s bad: %s%s", bad, nin, nin == 1 ? "" : "s",
		    buf, bad > 3 ? "; ..." : "");

	/* file names of a full capture */
	if (e->cap.full) {
		char prefix[80];
		const char *badname = NULL;

		if (e->cap.id == NULL) {
			check_set(&ck[n++], "file_names", CK_WARN, json_null(),
			    json_null(), "no id in the capture object");
		} else {
			snprintf(prefix, sizeof(prefix), "pcap_%s", e->cap.id);
			for (i = 0, bad = 0; i < nin; i++) {
				const char *b = base_name(run_input_info(r,
				    i)->name);
				if (strncmp(b, prefix, strlen(prefix)) != 0 &&
				    bad++ == 0)
					badname = run_input_info(r, i)->name;
			}
			snprintf(w, sizeof(w), "%s*", prefix);
			if (bad == 0)
				check_set(&ck[n++], "file_names", CK_OK,
				    json_integer(0),
				    json_string(w), "every file is %s", w);
			else
				check_set(&ck[n++], "file_names", CK_FAIL,
				    json_integer((json_int_t)bad),
				    json_string(w), "%zu file%s not named %s, "
				    "first %s", bad, bad == 1 ? "" : "s", w,
				    badname);
		}
	}

	/* one linktype and one format */
	for (i = 0, bad = 0; i < nin; i++) {
		const struct pm_input_info *f = run_input_info(r, i);
		if (!f->opened)
			continue;
		if (first == NULL)
			first = f;
		if (f->format != first->format ||
		    f->linktype != first->linktype || f->mixed_linktypes) {
			if (bad++ == 0)
				snprintf(buf, sizeof(buf), "%s is %s/%s (%u), "
				    "%s is %s/%s (%u)%s", first->name,
				    first->format == PM_FMT_PCAPNG ? "pcapng" :
				    "pcap", pk_linktype_name(first->linktype),
				    first->linktype, f->name,
				    f->format == PM_FMT_PCAPNG ? "pcapng" :
				    "pcap", pk_linktype_name(f->linktype),
				    f->linktype, f->mixed_linktypes ?
				    " and others" : "");
		}
	}
	if (bad == 0)
		check_set(&ck[n++], "consistent", CK_OK, json_integer(0),
		    json_integer(0), "one format and linktype%s%s",
		    first ? ": " : "", first ? pk_linktype_name(first->linktype)
		    : "");
	else
		check_set(&ck[n++], "consistent", CK_FAIL,
		    json_integer((json_int_t)bad), json_integer(0), "formats or linktypes differ: %s", buf);

	/* filter_v1 */
	if (!e->cap.has_filter)
		check_set(&ck[n++], "filter", CK_OK, json_integer(0),
		    json_integer(0), "no filter_v1: every packet belongs");
	else {
		struct check *c = &e->ck_filter;
		if (r->t.outside_filter > 0)
			check_set(c, "filter", CK_FAIL,
			    json_integer((json_int_t)r->t.outside_filter),
			    json_integer(0), "%llu of %llu packets do not "
			    "match filter_v1", (unsigned long long)
			    r->t.outside_filter, (unsigned long long)
			    r->tot.packets);
		else if (r->t.undecidable > 0)
			check_set(c, "filter", CK_WARN, json_integer(0),
			    json_integer(0), "no packet outside filter_v1, "
			    "but %llu could not be judged (headers cut or "
			    "linktype not dissected)",
			    (unsigned long long)r->t.undecidable);
		else
			check_set(c, "filter", CK_OK, json_integer(0),
			    json_integer(0), "all %llu packets match "
			    "filter_v1", (unsigned long long)r->tot.packets);
		ck[n++] = *c;
		memset(c, 0, sizeof(*c));
	}

	/* limits */
	if (e->cap.has_packet_limit)
		count_check(&ck[n++], "packet_limit", r->tot.packets,
		    e->cap.packet_limit, 0, "packets", NULL);
	if (e->cap.has_byte_limit)
		count_check(&ck[n++], "byte_limit", r->tot.caplen_bytes,
		    e->cap.byte_limit, 0, "bytes captured", NULL);
	if (e->cap.has_captured)
		count_check(&ck[n++], "packets_captured", r->tot.packets,
		    e->cap.packets_captured, 1, "packets",
		    r->tot.packets < e->cap.packets_captured ?
		    " (a file missing or cut?)" : NULL);
	else
		check_set(&ck[n++], "packets_captured", CK_WARN,
		    json_integer((json_int_t)r->tot.packets), json_null(),
		    "unknown: the capture object has no packets_captured, so "
		    "%llu packets cannot be checked against it",
		    (unsigned long long)r->tot.packets);
	if (e->manifest != NULL)
		manifest_check(r, &ck[n++]);

	/* time window */
	if (e->hi > e->lo) {
		struct check *c = &e->ck_time;
		fmt_window(buf, sizeof(buf), e);
		if (r->t.outside_time > 0)
			check_set(c, "time_window", CK_FAIL,
			    json_integer((json_int_t)r->t.outside_time),
			    json_window(e), "%llu packets outside %s "
			    "(%s and time_limit %g s, with tolerance)",
			    (unsigned long long)r->t.outside_time, buf,
			    e->cap.start_field, e->cap.time_limit);
		else
			check_set(c, "time_window", CK_OK, json_integer(0),
			    json_window(e), "all packets within %s", buf);
		ck[n++] = *c;
		memset(c, 0, sizeof(*c));
	} else {
		check_set(&ck[n++], "time_window", CK_WARN, json_null(),
		    json_null(), "cannot check: the capture object has no %s",
		    e->cap.has_time_limit ? "offset_time or submitted" :
		    "time_limit");
	}

	/* simple: 160 bytes */
	if (e->cap.simple) {
		struct check *c = &e->ck_snap;
		if (r->t.over_snap > 0)
			check_set(c, "snaplen", CK_FAIL,
			    json_integer((json_int_t)r->tot.max_caplen),
			    json_integer(SIMPLE_SNAPLEN), "%llu packets "
			    "longer than %d bytes, the largest %u",
			    (unsigned long long)r->t.over_snap, SIMPLE_SNAPLEN,
			    r->tot.max_caplen);
		else
			check_set(c, "snaplen", CK_OK,
			    json_integer((json_int_t)r->tot.max_caplen),
			    json_integer(SIMPLE_SNAPLEN), "largest caplen %u, "
			    "at most %d", r->tot.max_caplen, SIMPLE_SNAPLEN);
		ck[n++] = *c;
		memset(c, 0, sizeof(*c));
	}
	if (r->measure && !e->cap.simple && loss_check(r, &ck[n]))
		n++;
	if (r->measure && coverage_check(r, &ck[n]))
		n++;
	if (r->measure && clock_check(r, &ck[n]))
		n++;
	if (e->cap.type == NULL)
		check_set(&ck[n++], "type", CK_WARN, json_null(), json_null(),
		    "the capture object has no type; simple/full checks "
		    "skipped");
	return n;
}

