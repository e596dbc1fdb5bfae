/*
 * pcap-summary - packet and byte counts of captures, and checks that a
 * capture is complete and matches the capture object that asked for it.
 *
 * The inputs are read once each, by worker threads that each merge a run
 * of them; the whole-input figures (largest gap, first and last packet,
 * first offenders) are those of the merged capture (see "the run" below).
 * Per-file figures come from libmerge's reader counters, which stay exact
 * even when a big merge goes through temporary files.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "merge.h"
#include "filter.h"
#include "capture.h"
#include "common.h"
#include "filteropt.h"

#define SIMPLE_SNAPLEN 160		/* simple captures keep 160 bytes */
#define DEFAULT_TOLERANCE 5000000000LL	/* 5 s around the time window */
#define MAX_OFFENDERS 3
#define SCHEMA_VERSION 1

/* pcap-summary(1), EXIT STATUS: grep's, as pcap-filter's. */
enum {
	SUMMARY_OK = 0,		/* every check ok */
	SUMMARY_FAILED = 1,	/* a check failed, or an input was damaged */
	SUMMARY_USAGE = 2,
	SUMMARY_ERROR = 3
};

/* A shared helper's failure (enum pk_status) as pcap-summary's status. */
static int
exit_status(int s)
{
	return s == PK_USAGE ? SUMMARY_USAGE : SUMMARY_ERROR;
}

static void
usage(int status)
{
	FILE *f = status == 0 ? stdout : stderr;

	fprintf(f,
"usage: pcap-summary [--json] [--per-file] [--flows N] [--src addr]\n"
"                    [--dst addr] [--sport port] [--dport port]\n"
"                    [--proto proto] [-f json] [--from-capture file]\n"
"                    [--layer outer|inner|any] [--both-directions]\n"
"                    [--expect capture.json|dir] [--tolerance dur]\n"
"                    [--fail-on-warn] [--ignore-errors] [--progress]\n"
"                    [--threads n] [-T tmpdir] [input ...]\n");
	if (status != 0)
		exit(status);
	fprintf(f,
"\n"
"  --per-file           the counts of each file as well as the total\n"
"  --flows N            the N largest 5-tuples by wire bytes\n"
"  --json               one JSON document (schema in pcap-summary(1))\n"
"  TUPLE OPTIONS        as in pcap-filter: count what matches, and not\n"
"  --expect FILE|DIR    check the inputs against a capture object (API JSON),\n"
"                       and manifest.json beside it; DIR: pcap-fetch's -o DIR\n"
"  --tolerance DUR      slack around the capture's time window (default 5s)\n"
"  --fail-on-warn       a warning fails the checks too\n"
"  --ignore-errors      damaged or unreadable inputs do not fail the run\n"
"  --progress           show progress on stderr even when it is not a tty\n"
"  --threads N          worker threads (default: one per CPU, at most 8)\n"
"  -T DIR               directory for temporary files of big merges\n"
"  -h, --help           this text;  -V, --version  the version\n"
"\n"
"Exit status: 0 success (every check ok), 1 a check failed or an input is\n"
"damaged, 2 usage error, 3 runtime error.\n");
	exit(status);
}

/* ---- counting ------------------------------------------------------------ */

enum { P_IPV4, P_IPV6, P_TCP, P_UDP, P_ICMP, P_ICMP6, P_GRE, P_OTHER,
    P_NOTIP, P_TUNNEL, P_N };
static const char *const proto_key[P_N] = { "ipv4", "ipv6", "tcp", "udp",
    "icmp", "icmpv6", "gre", "other", "not_ip", "tunnelled" };
static const char *const proto_label[P_N] = { "IPv4", "IPv6", "  TCP",
    "  UDP", "  ICMP", "  ICMPv6", "  GRE", "  other", "not IP",
    "tunnelled" };

struct pcount {
	uint64_t packets, bytes;
};

/*
 * What is counted packet by packet: by each worker over its inputs, then
 * summed into the run.
 */
struct tally {
	struct pcount proto[P_N];
	/* the tuple options: verdicts */
	uint64_t f_match, f_nomatch, f_undecidable, f_unsupported;
	/* --expect: packets against each check */
	uint64_t outside_filter, undecidable, outside_time, over_snap;
};

static void
tally_add(struct tally *to, const struct tally *t)
{
	size_t i;

	for (i = 0; i < P_N; i++) {
		to->proto[i].packets += t->proto[i].packets;
		to->proto[i].bytes += t->proto[i].bytes;
	}
	to->f_match += t->f_match;
	to->f_nomatch += t->f_nomatch;
	to->f_undecidable += t->f_undecidable;
	to->f_unsupported += t->f_unsupported;
	to->outside_filter += t->outside_filter;
	to->undecidable += t->undecidable;
	to->outside_time += t->outside_time;
	to->over_snap += t->over_snap;
}

/* A 5-tuple of the innermost IP header. */
struct flowkey {
	uint8_t version, proto, ports;	/* ports: 1 when known */
	uint8_t pad;
	uint16_t sport, dport;
	uint8_t src[16], dst[16];
};

struct flow {
	struct flowkey k;
	uint64_t packets, bytes;
	int used;
};

/* Open addressing, linear probing; grows at 50 % load.  Exact: one entry
 * per distinct 5-tuple (about 64 bytes each). */
struct flowtab {
	struct flow *t;
	size_t cap, n;
};

static uint64_t
flow_hash(const struct flowkey *k)
{
	const uint8_t *p = (const uint8_t *)k;
	uint64_t h = 1469598103934665603ull;
	size_t i;

	for (i = 0; i < sizeof(*k); i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h ^ (h >> 29);
}

static int
flow_add(struct flowtab *ft, const struct flowkey *k, uint64_t bytes,
    uint64_t packets)
{
	size_t i, mask;
	struct flow *f;

	if (2 * (ft->n + 1) > ft->cap) {
		struct flowtab n = { 0 };
		size_t j;

		n.cap = ft->cap ? ft->cap * 2 : 1024;
		if ((n.t = calloc(n.cap, sizeof(*n.t))) == NULL)
			return -1;
		for (j = 0; j < ft->cap; j++) {
			if (!ft->t[j].used)
				continue;
			i = flow_hash(&ft->t[j].k) & (n.cap - 1);
			while (n.t[i].used)
				i = (i + 1) & (n.cap - 1);
			n.t[i] = ft->t[j];
		}
		n.n = ft->n;
		free(ft->t);
		*ft = n;
	}
	mask = ft->cap - 1;
	for (i = flow_hash(k) & mask;; i = (i + 1) & mask) {
		f = &ft->t[i];
		if (!f->used) {
			f->used = 1;
			f->k = *k;
			ft->n++;
			break;
		}
		if (memcmp(&f->k, k, sizeof(*k)) == 0)
			break;
	}
	f->packets += packets;
	f->bytes += bytes;
	return 0;
}

static int
flow_cmp(const void *a, const void *b)
{
	const struct flow *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	if (x->packets != y->packets)
		return x->packets < y->packets ? 1 : -1;
	return memcmp(&x->k, &y->k, sizeof(x->k));	/* stable output */
}

static void
fmt_endpoint(char *buf, size_t n, int version, const uint8_t *a, int ports,
    uint16_t port)
{
	char ip[INET6_ADDRSTRLEN];

	inet_ntop(version == 6 ? AF_INET6 : AF_INET, a, ip, sizeof(ip));
	if (!ports)
		snprintf(buf, n, "%s", ip);
	else if (version == 6)
		snprintf(buf, n, "[%s]:%u", ip, port);
	else
		snprintf(buf, n, "%s:%u", ip, port);
}

static void
fmt_proto(char *buf, size_t n, uint8_t proto)
{
	const char *name = pf_proto_name(proto);

	if (name != NULL)
		snprintf(buf, n, "%s", name);
	else
		snprintf(buf, n, "%u", proto);
}

/*
 * "tcp 10.0.0.1:1234 > 10.0.0.2:80", or why there is no 5-tuple, from the
 * packet's dissection.
 */
static void
describe_packet(char *buf, size_t n, const struct pf_dissection *d)
{
	const struct pf_ip *ip;
	char s[64], t[64], p[16];

	if (d->n == 0) {
		snprintf(buf, n, "%s", d->status == PF_DISSECT_UNSUPPORTED ?
		    "linktype not dissected" : d->status == PF_DISSECT_NOT_IP ?
		    "not IP" : "cut short before the IP header");
		return;
	}
	ip = &d->ip[d->n - 1];
	fmt_endpoint(s, sizeof(s), ip->version, ip->src, ip->ports_known,
	    ip->sport);
	fmt_endpoint(t, sizeof(t), ip->version, ip->dst, ip->ports_known,
	    ip->dport);
	fmt_proto(p, sizeof(p), ip->proto);
	snprintf(buf, n, "%s %s > %s", p, s, t);
}

/* ---- the capture object (--expect) ---------------------------------------- */

enum { CK_OK, CK_WARN, CK_FAIL };
static const char *const ck_word[] = { "ok", "warn", "FAIL" };

struct offender {
	char file[256];
	uint64_t index;		/* 1-based packet number in the file; 0: unknown */
	int64_t ts;
	char what[200];
};

struct check {
	const char *name;
	int result;
	char text[512];
	struct offender off[MAX_OFFENDERS];
	size_t noff;
	json_t *measured, *expected;	/* owned */
};

struct expect {
	struct pk_capture cap;		/* the capture object (capture.h) */
	int64_t lo, hi;			/* the window, tolerance included */
	pf_filter *filter;
	/* per-packet findings: counts in run.t, first offenders here */
	struct check ck_filter, ck_time, ck_snap;
	/* pcap-fetch's manifest.json beside the capture object, or NULL */
	json_t *manifest;
	char *manifest_path, *manifest_dir;
};

static void
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
static int
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

		e->lo = (back ? e->cap.start - tl : e->cap.start) - tolerance;
		e->hi = (fwd ? e->cap.start + tl : e->cap.start) + tolerance;
	}
	return 0;
}

/*
 * pcap-fetch's manifest.json in dir, when there is one: every file it lists
 * must be there, whole (checked in the same pass as the counts, see
 * manifest_check).  Returns 0, or prints why and returns 2.
 */
static int
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

/* ---- the run --------------------------------------------------------------- */

/*
 * The inputs are split into contiguous runs, one per worker thread, each
 * merged by its own pm_merge and counted into the worker's own tally.  The
 * workers send the main thread their packets' timestamps in merged order
 * (chunks through a small ring, so memory stays bounded), with the warnings
 * and offenders tagged by position.  The main thread merges those streams
 * with the same tie-break as libmerge (earlier input first), which gives
 * exactly the single-merge order (libmerge's passes rely on the same fact),
 * so the largest gap, the first offenders and the order of the warnings
 * are those of one merge over all inputs, whatever the number of threads.
 * Everything else is a sum.  libfilter judges fragments per input, so one
 * filter per worker gives the same verdicts as one filter for all.
 */
#define CHUNK_TS 8192
#define NCHUNKS 4
#define MAX_WORKERS 64
#define DEFAULT_WORKERS 8	/* at most, by default: one per CPU */

enum { EV_WARN, EV_FATAL, EV_OFF };
enum { OFF_FILTER, OFF_TIME, OFF_SNAP, N_OFF };

struct event {
	uint64_t pos;		/* before packet pos (EV_OFF: packet pos) */
	int kind;
	int check;		/* EV_OFF: OFF_* */
	char *file;		/* a warning's file, or NULL */
	char *text;
	struct offender *off;
};

struct chunk {
	int64_t ts[CHUNK_TS];
	size_t n;
	struct event *ev;
	size_t nev, capev;
	int last;		/* the worker's stream ends here */
};

struct run;

struct worker {			/* a cache line of its own */
	_Alignas(64) struct run *r;
	size_t lo, hi;			/* its inputs: [lo, hi) */
	pm_merge *m;
	pthread_t tid;
	int started;
	/* what it counts */
	struct pm_reader_stats st;	/* the total when alone, else sums */
	struct tally t;
	struct flowtab flows;
	int flows_failed;
	uint64_t *index;		/* packets seen per input, from lo */
	pf_filter *filter, *efilter;
	size_t noff[N_OFF];
	int damaged;
	int failed;			/* out of memory for an event */
	uint64_t pos;			/* packets sent */
	/* the ring to the main thread */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct chunk *ring;
	size_t head, count;		/* filled: ring[head], ... */
	atomic_uint_least64_t bytes_in;
};

struct run {
	struct pk_inputs in;
	struct worker *w;
	size_t nw;
	int stream_ts;			/* workers send times (nw > 1) */
	atomic_int cancel;
	int ignore_errors;		/* unreadable inputs are skipped */
	int damaged;			/* an input had damage or was skipped */
	/* Counts over the merged stream; per file, libmerge keeps them. */
	struct pm_reader_stats tot;
	struct tally t;
	struct flowtab flows;
	size_t nflows;			/* --flows N; 0: none */
	struct pk_filteropt *fopt;	/* tuple options, or NULL */
	struct expect *e;
	int per_file, json;
};

static const struct pm_input_info *
input_info(const struct run *r, size_t i)
{
	size_t k = 0;

	while (i >= r->w[k].hi)
		k++;
	return pm_merge_input(r->w[k].m, i - r->w[k].lo);
}

/* Worker side: add an event to chunk c.  -1: no memory. */
static int
event_add(struct chunk *c, uint64_t pos, int kind, const char *file,
    const char *text, struct offender *off, int check)
{
	struct event *ev;

	if (c->nev == c->capev) {
		size_t ncap = c->capev ? 2 * c->capev : 8;
		if ((ev = realloc(c->ev, ncap * sizeof(*ev))) == NULL)
			return -1;
		c->ev = ev;
		c->capev = ncap;
	}
	ev = &c->ev[c->nev];
	memset(ev, 0, sizeof(*ev));
	ev->pos = pos;
	ev->kind = kind;
	ev->check = check;
	ev->off = off;
	if ((file != NULL && (ev->file = strdup(file)) == NULL) ||
	    (text != NULL && (ev->text = strdup(text)) == NULL)) {
		free(ev->file);
		free(ev->text);
		return -1;
	}
	c->nev++;
	return 0;
}

static void
chunk_clear(struct chunk *c)
{
	size_t i;

	for (i = 0; i < c->nev; i++) {
		free(c->ev[i].file);
		free(c->ev[i].text);
		free(c->ev[i].off);
	}
	c->nev = 0;
	c->n = 0;
	c->last = 0;
}

/* Worker side: the next chunk to fill, or NULL when the run is cancelled. */
static struct chunk *
chunk_begin(struct worker *w)
{
	struct chunk *c;

	pthread_mutex_lock(&w->mu);
	while (w->count == NCHUNKS && !atomic_load(&w->r->cancel))
		pthread_cond_wait(&w->cv, &w->mu);
	c = atomic_load(&w->r->cancel) ? NULL :
	    &w->ring[(w->head + w->count) % NCHUNKS];
	pthread_mutex_unlock(&w->mu);
	if (c != NULL)
		chunk_clear(c);
	return c;
}

static void
chunk_publish(struct worker *w)
{
	atomic_store_explicit(&w->bytes_in, pm_merge_bytes_in(w->m),
	    memory_order_relaxed);
	pthread_mutex_lock(&w->mu);
	w->count++;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

/* Main side: the oldest filled chunk of w (waits for it). */
static struct chunk *
chunk_get(struct worker *w)
{
	struct chunk *c;

	pthread_mutex_lock(&w->mu);
	while (w->count == 0)
		pthread_cond_wait(&w->cv, &w->mu);
	c = &w->ring[w->head];
	pthread_mutex_unlock(&w->mu);
	return c;
}

static void
chunk_release(struct worker *w)
{
	pthread_mutex_lock(&w->mu);
	w->head = (w->head + 1) % NCHUNKS;
	w->count--;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

/* A fatal event, or the failed flag when even that cannot be said. */
static void
fatal_event(struct worker *w, struct chunk *c, const char *file,
    const char *text)
{
	if (event_add(c, w->pos, EV_FATAL, file, text, NULL, 0) < 0)
		w->failed = 1;
}

static void
count_protocols(struct worker *w, const struct pm_packet *pkt,
    const struct pf_dissection *d)
{
	const struct pf_ip *ip;
	int t;

	if (d->n == 0) {
		w->t.proto[P_NOTIP].packets++;
		w->t.proto[P_NOTIP].bytes += pkt->len;
		return;
	}
	ip = &d->ip[d->n - 1];
	t = ip->version == 4 ? P_IPV4 : P_IPV6;
	w->t.proto[t].packets++;
	w->t.proto[t].bytes += pkt->len;
	if (d->n > 1) {
		w->t.proto[P_TUNNEL].packets++;
		w->t.proto[P_TUNNEL].bytes += pkt->len;
	}
	if (!ip->proto_known)
		t = P_OTHER;
	else switch (ip->proto) {
	case 6: t = P_TCP; break;
	case 17: t = P_UDP; break;
	case 1: t = P_ICMP; break;
	case 58: t = P_ICMP6; break;
	case 47: t = P_GRE; break;
	default: t = P_OTHER; break;
	}
	w->t.proto[t].packets++;
	w->t.proto[t].bytes += pkt->len;
	if (w->r->nflows > 0 && !w->flows_failed) {
		struct flowkey k;

		memset(&k, 0, sizeof(k));
		k.version = (uint8_t)ip->version;
		k.proto = ip->proto_known ? ip->proto : 255;
		k.ports = ip->ports_known != 0;
		if (k.ports) {
			k.sport = ip->sport;
			k.dport = ip->dport;
		}
		memcpy(k.src, ip->src, ip->version == 4 ? 4 : 16);
		memcpy(k.dst, ip->dst, ip->version == 4 ? 4 : 16);
		if (flow_add(&w->flows, &k, pkt->len, 1) < 0)
			w->flows_failed = 1;	/* said by fold() */
	}
}

/* The first offenders of each check, sent for the main thread to order. */
static int
offender(struct worker *w, struct chunk *c, int check, const char *file,
    uint64_t idx, const struct pm_packet *pkt, const struct pf_dissection *d,
    const char *why)
{
	struct offender *o;

	if (w->noff[check] == MAX_OFFENDERS)
		return 0;
	if ((o = calloc(1, sizeof(*o))) == NULL)
		return -1;
	offender_fill(o, file, idx, pkt, d, why);
	if (event_add(c, w->pos, EV_OFF, NULL, NULL, o, check) < 0) {
		free(o);
		return -1;
	}
	w->noff[check]++;
	return 0;
}

/* 0, or -1 with a fatal event added. */
static int
per_packet(struct worker *w, struct chunk *c, const struct pm_packet *pkt)
{
	struct run *r = w->r;
	size_t input = pm_merge_last_input(w->m);
	uint64_t idx = 0;
	const char *file = "(merged)";
	struct pf_dissection d;
	int v;

	if (input != (size_t)-1) {
		idx = ++w->index[input];
		file = pm_merge_input_name(w->m, input);
		input += w->lo;
	}
	pm_stats_add(&w->st, pkt);
	/* Dissected once: for the counts, both filters and offenders. */
	pf_dissect(pkt->linktype, pkt->data, pkt->caplen, &d);
	count_protocols(w, pkt, &d);

	if (w->filter != NULL) {
		v = pf_filter_match_dissected(w->filter, (uint32_t)input,
		    pkt->linktype, &d, pkt->data, pkt->caplen, pkt->len,
		    pkt->ts);
		if (v < 0) {
			fatal_event(w, c, file, pf_filter_geterr(w->filter));
			return -1;
		}
		if (v == PF_MATCH)
			w->t.f_match++;
		else if (v == PF_NOMATCH)
			w->t.f_nomatch++;
		else if (v == PF_UNDECIDABLE)
			w->t.f_undecidable++;
		else
			w->t.f_unsupported++;
	}
	if (r->e != NULL) {
		const struct expect *e = r->e;
		int rc = 0;

		if (w->efilter != NULL) {
			v = pf_filter_match_dissected(w->efilter,
			    (uint32_t)input, pkt->linktype, &d, pkt->data,
			    pkt->caplen, pkt->len, pkt->ts);
			if (v < 0) {
				fatal_event(w, c, file,
				    pf_filter_geterr(w->efilter));
				return -1;
			}
			if (v == PF_NOMATCH) {
				w->t.outside_filter++;
				rc |= offender(w, c, OFF_FILTER, file, idx,
				    pkt, &d, NULL);
			} else if (v != PF_MATCH) {
				w->t.undecidable++;
			}
		}
		if (e->hi > e->lo && (pkt->ts < e->lo || pkt->ts > e->hi)) {
			w->t.outside_time++;
			rc |= offender(w, c, OFF_TIME, file, idx, pkt, &d,
			    NULL);
		}
		if (e->cap.simple && pkt->caplen > SIMPLE_SNAPLEN) {
			char why[48];
			w->t.over_snap++;
			snprintf(why, sizeof(why), "caplen %u", pkt->caplen);
			rc |= offender(w, c, OFF_SNAP, file, idx, pkt, &d,
			    why);
		}
		if (rc < 0) {
			fatal_event(w, c, NULL, "out of memory");
			return -1;
		}
	}
	return 0;
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct chunk *c;
	struct pm_packet pkt;
	const struct pm_input_info *f;
	int rc;

	if ((c = chunk_begin(w)) == NULL)
		return NULL;
	for (;;) {
		rc = pm_merge_next(w->m, &pkt);
		if (rc == 1) {
			if (per_packet(w, c, &pkt) < 0)
				break;
			if (w->r->stream_ts)
				c->ts[c->n] = pkt.ts;
			c->n++;
			w->pos++;
			if (c->n == CHUNK_TS) {
				chunk_publish(w);
				if ((c = chunk_begin(w)) == NULL)
					return NULL;
			}
			continue;
		}
		if (rc == 0)
			break;
		if (pk_merge_failure(w->m, rc, w->r->ignore_errors, &f)) {
			fatal_event(w, c, f != NULL ? f->name : NULL,
			    pm_merge_geterr(w->m));
			break;
		}
		if (event_add(c, w->pos, EV_WARN, f->name,
		    pm_merge_geterr(w->m), NULL, 0) < 0) {
			w->failed = 1;
			break;
		}
		w->damaged = 1;
	}
	c->last = 1;
	chunk_publish(w);
	return NULL;
}

/* Main side: one worker's place in its stream. */
struct cursor {
	struct chunk *c;
	size_t i, e;
	uint64_t pos;
	int done;
};

/* Print a warning or take an offender.  -1: a fatal event. */
static int
apply(struct run *r, const struct event *ev, struct pk_progress *prog)
{
	struct check *ck;

	if (ev->kind == EV_OFF) {
		ck = ev->check == OFF_FILTER ? &r->e->ck_filter :
		    ev->check == OFF_TIME ? &r->e->ck_time : &r->e->ck_snap;
		if (ck->noff < MAX_OFFENDERS)
			ck->off[ck->noff++] = *ev->off;
		return 0;
	}
	pk_progress_done(prog);
	if (ev->file != NULL)
		pk_warnf(ev->file, "%s", ev->text);
	else
		pk_warn("%s", ev->text);
	return ev->kind == EV_FATAL ? -1 : 0;
}

/*
 * Bring w's cursor to its next packet, taking the events before it.
 * 1: there is one; 0: w is done; -1: a fatal event.
 */
static int
advance(struct run *r, struct worker *w, struct cursor *k,
    struct pk_progress *prog)
{
	struct chunk *c;
	struct event *ev;

	for (;;) {
		if (k->c == NULL) {
			k->c = chunk_get(w);
			k->i = k->e = 0;
		}
		c = k->c;
		while (k->e < c->nev) {
			ev = &c->ev[k->e];
			if (ev->pos > k->pos || (ev->pos == k->pos &&
			    ev->kind == EV_OFF))
				break;
			k->e++;
			if (apply(r, ev, prog) < 0)
				return -1;
		}
		if (k->i < c->n)
			return 1;
		if (c->last) {
			/* What is left came with a packet never sent (the
			 * worker stopped on it): its fatal error still counts. */
			for (; k->e < c->nev; k->e++)
				if (c->ev[k->e].kind != EV_OFF &&
				    apply(r, &c->ev[k->e], prog) < 0)
					return -1;
			k->done = 1;
			return 0;
		}
		chunk_release(w);
		k->c = NULL;
	}
}

/* Take w's next packet: its offenders, and its time for the totals. */
static void
consume(struct run *r, struct cursor *k, struct pk_progress *prog)
{
	struct chunk *c = k->c;
	struct pm_packet p = { 0 };

	while (k->e < c->nev && c->ev[k->e].pos == k->pos)
		apply(r, &c->ev[k->e++], prog);
	if (r->stream_ts) {
		p.ts = c->ts[k->i];
		pm_stats_add(&r->tot, &p);	/* sizes: summed */
	}
	k->i++;
	k->pos++;
}

static void
stop_workers(struct run *r)
{
	size_t i;

	atomic_store(&r->cancel, 1);
	for (i = 0; i < r->nw; i++) {
		struct worker *w = &r->w[i];
		pthread_mutex_lock(&w->mu);
		pthread_cond_broadcast(&w->cv);
		pthread_mutex_unlock(&w->mu);
	}
	for (i = 0; i < r->nw; i++)
		if (r->w[i].started) {
			pthread_join(r->w[i].tid, NULL);
			r->w[i].started = 0;
		}
}

/* Add the workers' counts into the run. */
static int
fold(struct run *r)
{
	size_t i, k;

	for (i = 0; i < r->nw; i++) {
		struct worker *w = &r->w[i];

		if (!r->stream_ts) {
			r->tot = w->st;		/* its stream is the merge */
		} else {
			r->tot.caplen_bytes += w->st.caplen_bytes;
			r->tot.wire_bytes += w->st.wire_bytes;
			r->tot.cut_short += w->st.cut_short;
			if (w->st.max_caplen > r->tot.max_caplen)
				r->tot.max_caplen = w->st.max_caplen;
		}
		tally_add(&r->t, &w->t);
		r->damaged |= w->damaged;
		if (w->flows_failed && r->nflows > 0) {
			pk_warn("out of memory for --flows; counting stopped");
			r->nflows = 0;
		}
		for (k = 0; r->nflows > 0 && k < w->flows.cap; k++) {
			const struct flow *f = &w->flows.t[k];
			if (f->used && flow_add(&r->flows, &f->k, f->bytes,
			    f->packets) < 0) {
				pk_warn("out of memory for --flows");
				return -1;
			}
		}
	}
	return 0;
}

/*
 * Split the inputs into nw contiguous runs of about the same size (an
 * input of unknown size, stdin, counts as an average one).
 */
static void
split(struct run *r)
{
	uint64_t *sz, total = 0, known = 0, acc = 0;
	size_t i, k = 0, nknown = 0;
	struct stat st;

	if ((sz = calloc(r->in.n, sizeof(*sz))) == NULL) {
		r->nw = 1;
		r->w[0].lo = 0;
		r->w[0].hi = r->in.n;
		return;
	}
	for (i = 0; i < r->in.n; i++)
		if (strcmp(r->in.paths[i], "-") != 0 &&
		    stat(r->in.paths[i], &st) == 0 && S_ISREG(st.st_mode)) {
			sz[i] = (uint64_t)st.st_size + 1;
			known += sz[i];
			nknown++;
		}
	for (i = 0; i < r->in.n; i++) {
		if (sz[i] == 0)
			sz[i] = nknown ? known / nknown : 1;
		total += sz[i];
	}
	r->w[0].lo = 0;
	for (i = 0; i < r->in.n; i++) {
		acc += sz[i];
		/* close worker k after input i when it has its share, as
		 * long as every later worker can still get an input */
		if (k + 1 < r->nw && r->in.n - (i + 1) >= r->nw - (k + 1) &&
		    (acc * r->nw >= total * (k + 1) ||
		    r->in.n - (i + 1) == r->nw - (k + 1))) {
			r->w[k].hi = i + 1;
			r->w[++k].lo = i + 1;
		}
	}
	r->w[k].hi = r->in.n;
	r->nw = k + 1;
	free(sz);
}

/* Open the merges and start the workers.  0, or prints why and returns 3
 * (or 2 for a filter that cannot be made). */
static int
start(struct run *r, size_t threads, const char *tmpdir)
{
	struct pm_merge_opts mo = { 0 };
	char errbuf[PM_ERRBUF_SIZE > PF_ERRBUF_SIZE ? PM_ERRBUF_SIZE :
	    PF_ERRBUF_SIZE];
	size_t i, j, max_open = pk_raise_nofile(r->in.n);

	/* More inputs than may be open: one merge, in passes. */
	if (threads > r->in.n)
		threads = r->in.n;
	if (max_open < r->in.n || threads == 0)
		threads = 1;
	if ((r->w = aligned_alloc(64, threads * sizeof(*r->w))) == NULL) {
		pk_warn("out of memory");
		return SUMMARY_ERROR;
	}
	memset(r->w, 0, threads * sizeof(*r->w));
	r->nw = threads;
	split(r);
	r->stream_ts = r->nw > 1;
	mo.max_open = max_open < r->in.n ? max_open : 0;
	mo.tmpdir = tmpdir;
	/* CRC-32C of every file, in the same pass, for manifest.json */
	mo.checksum = r->e != NULL && r->e->manifest != NULL;
	for (i = 0; i < r->nw; i++) {
		struct worker *w = &r->w[i];

		w->r = r;
		pthread_mutex_init(&w->mu, NULL);
		pthread_cond_init(&w->cv, NULL);
		if ((w->ring = calloc(NCHUNKS, sizeof(*w->ring))) == NULL ||
		    (w->index = calloc(w->hi - w->lo,
		    sizeof(*w->index))) == NULL) {
			pk_warn("out of memory");
			return SUMMARY_ERROR;
		}
		if ((w->m = pm_merge_new(&mo, errbuf)) == NULL) {
			pk_warn("%s", errbuf);
			return SUMMARY_ERROR;
		}
		for (j = w->lo; j < w->hi; j++) {
			int fd = strcmp(r->in.paths[j], "-") == 0 ?
			    STDIN_FILENO : -1;
			if (pm_merge_add(w->m, r->in.paths[j], fd) < 0) {
				pk_warn("%s", pm_merge_geterr(w->m));
				return SUMMARY_ERROR;
			}
		}
		if (r->fopt != NULL && (w->filter = pf_filter_new(
		    r->fopt->tuples, r->fopt->n, &r->fopt->fo, errbuf)) ==
		    NULL) {
			pk_warn("%s", errbuf);
			return SUMMARY_USAGE;
		}
		if (r->e != NULL && r->e->cap.has_filter) {
			struct pf_filter_opts eo = { .layer = PF_LAYER_ANY };
			if ((w->efilter = pf_filter_new(&r->e->cap.tuple, 1, &eo,
			    errbuf)) == NULL) {
				pk_warn("%s", errbuf);
				return SUMMARY_USAGE;
			}
		}
	}
	for (i = 0; i < r->nw; i++) {
		int err = pthread_create(&r->w[i].tid, NULL, worker_main,
		    &r->w[i]);
		if (err != 0) {
			pk_warn("cannot start a thread: %s", strerror(err));
			return SUMMARY_ERROR;
		}
		r->w[i].started = 1;
	}
	return 0;
}

static void
show_progress(struct run *r, const struct cursor *k, struct pk_progress *prog)
{
	uint64_t bytes = 0, packets = 0;
	size_t i;

	if (!prog->on)
		return;
	for (i = 0; i < r->nw; i++) {
		bytes += atomic_load_explicit(&r->w[i].bytes_in,
		    memory_order_relaxed);
		packets += k[i].pos;
	}
	pk_progress_update(prog, bytes, packets);
}

/* Merge the workers' streams.  0, or -1 after a fatal error (printed). */
static int
collect(struct run *r, struct pk_progress *prog)
{
	struct cursor k[MAX_WORKERS];
	struct pm_packet p = { 0 };
	size_t i, b, limw = 0;
	int64_t lim = 0;
	int has_lim, rc;

	memset(k, 0, sizeof(k));
	for (i = 0; i < r->nw; i++)
		if (advance(r, &r->w[i], &k[i], prog) < 0)
			return -1;
	for (;;) {
		/* The next packet: the first head in the merge's order. */
		b = r->nw;
		for (i = 0; i < r->nw; i++)
			if (!k[i].done && (b == r->nw ||
			    pm_order_before(k[i].c->ts[k[i].i], i,
			    k[b].c->ts[k[b].i], b)))
				b = i;
		if (b == r->nw)
			break;
		/*
		 * Worker b stays first while its packets come before the first
		 * of the other heads (lim from worker limw), in that order.
		 */
		has_lim = 0;
		for (i = 0; i < r->nw; i++) {
			int64_t t;
			if (i == b || k[i].done)
				continue;
			t = k[i].c->ts[k[i].i];
			if (!has_lim || pm_order_before(t, i, lim, limw)) {
				lim = t;
				limw = i;
				has_lim = 1;
			}
		}
#define FIRST(t) (!has_lim || pm_order_before((t), b, lim, limw))
		for (;;) {
			struct cursor *c = &k[b];
			struct chunk *ch = c->c;
			uint64_t evpos = c->e < ch->nev ? ch->ev[c->e].pos :
			    UINT64_MAX;

			/* the common case: packets without events */
			if (!r->stream_ts) {	/* one worker, no times */
				uint64_t left = ch->n - c->i;
				if (evpos - c->pos < left)
					left = evpos - c->pos;
				c->i += left;
				c->pos += left;
			}
			while (c->i < ch->n && c->pos < evpos &&
			    FIRST(ch->ts[c->i])) {
				p.ts = ch->ts[c->i++];
				c->pos++;
				pm_stats_add(&r->tot, &p);  /* sizes: summed */
			}
			if (c->i < ch->n && c->pos < evpos)
				break;			/* another is first */
			/* events due here, or the chunk is used up */
			if ((rc = advance(r, &r->w[b], c, prog)) < 0)
				return -1;
			show_progress(r, k, prog);
			if (rc == 0 || !FIRST(c->c->ts[c->i]))
				break;
			consume(r, c, prog);
		}
#undef FIRST
	}
	return 0;
}

static void
free_run(struct run *r)
{
	size_t i, j;

	if (r->w == NULL)
		return;
	stop_workers(r);
	for (i = 0; i < r->nw; i++) {
		struct worker *w = &r->w[i];

		for (j = 0; w->ring != NULL && j < NCHUNKS; j++) {
			chunk_clear(&w->ring[j]);
			free(w->ring[j].ev);
		}
		free(w->ring);
		free(w->index);
		free(w->flows.t);
		pf_filter_free(w->filter);
		pf_filter_free(w->efilter);
		pm_merge_free(w->m);
		pthread_mutex_destroy(&w->mu);
		pthread_cond_destroy(&w->cv);
	}
	free(r->w);
	r->w = NULL;
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
				in = input_info(r, i);
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

/* Fill checks[]; returns how many. */
static size_t
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
		const struct pm_input_info *f = input_info(r, i);
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
				const char *b = base_name(input_info(r,
				    i)->name);
				if (strncmp(b, prefix, strlen(prefix)) != 0 &&
				    bad++ == 0)
					badname = input_info(r, i)->name;
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
		const struct pm_input_info *f = input_info(r, i);
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
	if (e->cap.type == NULL)
		check_set(&ck[n++], "type", CK_WARN, json_null(), json_null(),
		    "the capture object has no type; simple/full checks "
		    "skipped");
	return n;
}

/* ---- output ---------------------------------------------------------------- */

struct view {				/* one block of figures */
	const char *format, *precision, *compression;
	uint32_t linktypes[PM_INFO_LINKTYPES * 4];
	size_t nlinktypes;
	uint32_t snaplen;
	struct pm_reader_stats st;
	int has_damage_offset;		/* st.first_damage means something */
	int unreadable;
};

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
		const struct pm_input_info *f = input_info(r, i);
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
	int64_t dur = v->st.packets ? v->st.ts_max - v->st.ts_min : 0;
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
	int64_t dur = v->st.packets ? v->st.ts_max - v->st.ts_min : 0;
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

static int
output(struct run *r, struct check *ck, size_t nck, int verdict)
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
		json_object_set_new(doc, "total", json_view(&v));
		if (r->per_file) {
			a = json_array();
			for (i = 0; i < nin; i++) {
				const struct pm_input_info *f =
				    input_info(r, i);
				json_t *fv;

				view_file(&v, f);
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
	print_view(&v);
	if (r->per_file)
		for (i = 0; i < nin; i++) {
			const struct pm_input_info *f = input_info(r, i);
			view_file(&v, f);
			printf("\nFile: %s\n", f->name);
			print_view(&v);
		}
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

int
main(int argc, char **argv)
{
	enum { O_JSON = 256, O_PERFILE, O_FLOWS, O_EXPECT, O_FAILWARN,
	    O_TOL, O_IGN, O_PROGRESS, O_THREADS };
	static const struct option longopts[] = {
		PK_FILTER_LONGOPTS,
		{ "json", no_argument, NULL, O_JSON },
		{ "per-file", no_argument, NULL, O_PERFILE },
		{ "flows", required_argument, NULL, O_FLOWS },
		{ "expect", required_argument, NULL, O_EXPECT },
		{ "fail-on-warn", no_argument, NULL, O_FAILWARN },
		{ "tolerance", required_argument, NULL, O_TOL },
		{ "ignore-errors", no_argument, NULL, O_IGN },
		{ "progress", no_argument, NULL, O_PROGRESS },
		{ "threads", required_argument, NULL, O_THREADS },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	static struct pk_filteropt fopt;
	static struct run r;
	static struct expect e;
	struct check ck[16];
	struct pk_progress prog = { 0 };
	char errbuf[PF_ERRBUF_SIZE];
	const char *expect_path = NULL, *tmpdir = NULL, *expect_dir = NULL;
	char *capture_path = NULL, *dir_buf = NULL;
	int64_t tolerance = DEFAULT_TOLERANCE;
	uint64_t v;
	int c, status = 0, fail_on_warn = 0, progress = 0, verdict = CK_OK;
	size_t i, nck = 0, threads = 0;

	pk_setprogname(argv[0]);
	memset(ck, 0, sizeof(ck));
	while ((c = getopt_long(argc, argv, "f:hT:V", longopts, NULL)) != -1) {
		switch (c) {
		case O_JSON:
			r.json = 1;
			break;
		case O_PERFILE:
			r.per_file = 1;
			break;
		case O_FLOWS:
			if (pk_parse_u64(optarg, 1, 1000000, &v) < 0) {
				pk_warn("--flows: '%s' is not a number from 1 "
				    "to 1000000", optarg);
				usage(SUMMARY_USAGE);
			}
			r.nflows = (size_t)v;
			break;
		case O_EXPECT:
			expect_path = optarg;
			break;
		case O_FAILWARN:
			fail_on_warn = 1;
			break;
		case O_TOL:
			if (pk_parse_duration(optarg, &tolerance) < 0) {
				pk_warn("--tolerance: '%s' is not a duration",
				    optarg);
				usage(SUMMARY_USAGE);
			}
			break;
		case O_IGN:
			r.ignore_errors = 1;
			break;
		case O_PROGRESS:
			progress = 1;
			break;
		case O_THREADS:
			if (pk_parse_u64(optarg, 0, MAX_WORKERS, &v) < 0) {
				pk_warn("--threads: '%s' is not a number from 0 "
				    "to %d", optarg, MAX_WORKERS);
				usage(SUMMARY_USAGE);
			}
			threads = (size_t)v;
			break;
		case 'T':
			tmpdir = optarg;
			break;
		case 'h':
			usage(0);
			break;
		case 'V':
			printf("pcap-summary (pcapkit) %s\n", PK_VERSION);
			return 0;
		default:
			if (pk_filteropt(&fopt, c, optarg) == 1)
				break;
			usage(SUMMARY_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (pk_filteropt_finish(&fopt) != 0)
		usage(SUMMARY_USAGE);
	if (fopt.given) {
		/* made here for the usage error; each worker makes its own */
		pf_filter *f = pf_filter_new(fopt.tuples, fopt.n, &fopt.fo,
		    errbuf);
		if (f == NULL) {
			pk_warn("%s", errbuf);
			return SUMMARY_USAGE;
		}
		pf_filter_free(f);
		r.fopt = &fopt;
	}
	if (expect_path != NULL) {
		struct pf_filter_opts eo = { .layer = PF_LAYER_ANY };
		struct stat st;

		/*
		 * --expect DIR: what pcap-fetch wrote there, capture.json,
		 * manifest.json and (without other inputs) the captures.
		 * --expect FILE: manifest.json beside FILE, when there is one.
		 */
		if (stat(expect_path, &st) == 0 && S_ISDIR(st.st_mode)) {
			expect_dir = expect_path;
			if (asprintf(&capture_path, "%s%scapture.json",
			    expect_dir, pk_ends_with(expect_dir, "/") ? "" :
			    "/") < 0) {
				pk_warn("out of memory");
				status = SUMMARY_ERROR;
				goto out;
			}
		} else if ((capture_path = strdup(expect_path)) == NULL ||
		    (dir_buf = pk_dir_of(expect_path)) == NULL) {
			pk_warn("out of memory");
			status = SUMMARY_ERROR;
			goto out;
		}
		if ((status = expect_load(&e, capture_path, tolerance)) != 0 ||
		    (status = manifest_load(&e, expect_dir ? expect_dir :
		    dir_buf)) != 0)
			goto out;
		if (e.cap.has_filter && (e.filter = pf_filter_new(&e.cap.tuple, 1, &eo,
		    errbuf)) == NULL) {
			pk_warnf(capture_path, "%s", errbuf);
			status = SUMMARY_USAGE;
			goto out;
		}
		r.e = &e;
	}
	if (argc == 0 && expect_dir != NULL) {
		argv = (char **)&expect_dir;
		argc = 1;
	}

	for (i = 0; i < (size_t)argc; i++)
		if ((status = pk_inputs_add(&r.in, argv[i])) != 0) {
			status = exit_status(status);
			goto out;
		}
	if (argc == 0) {
		if (isatty(STDIN_FILENO)) {
			pk_warn("no input files, and stdin is a terminal");
			usage(SUMMARY_USAGE);
		}
		pk_inputs_add(&r.in, "-");
	}
	if (r.in.n == 0) {
		pk_warn("no input files");
		status = SUMMARY_ERROR;
		goto out;
	}
	pk_progress_init(&prog, progress || isatty(STDERR_FILENO),
	    r.in.total_bytes);
	if (threads == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		threads = n < 1 ? 1 : n > DEFAULT_WORKERS ? DEFAULT_WORKERS :
		    (size_t)n;
	}
	if ((status = start(&r, threads, tmpdir ? tmpdir :
	    getenv("TMPDIR"))) != 0)
		goto out;
	if (collect(&r, &prog) < 0) {
		/* Said already.  Do not wait for the workers: one may be
		 * blocked reading a pipe. */
		atomic_store(&r.cancel, 1);
		for (i = 0; i < r.nw; i++)
			pthread_detach(r.w[i].tid);
		exit(SUMMARY_ERROR);
	}
	stop_workers(&r);
	pk_progress_done(&prog);
	for (i = 0; i < r.nw; i++)
		if (r.w[i].failed) {
			pk_warn("out of memory");
			status = SUMMARY_ERROR;
			goto out;
		}
	if (fold(&r) < 0) {
		status = SUMMARY_ERROR;
		goto out;
	}
	if (r.e != NULL) {
		nck = run_checks(&r, ck);
		for (i = 0; i < nck; i++)
			if (ck[i].result > verdict)
				verdict = ck[i].result;
	}
	if (output(&r, ck, nck, verdict) < 0 || fflush(stdout) != 0 ||
	    ferror(stdout)) {
		pk_warn("stdout: %s", strerror(errno));
		status = SUMMARY_ERROR;
		goto out;
	}
	if (verdict == CK_FAIL || (verdict == CK_WARN && fail_on_warn))
		status = SUMMARY_FAILED;
	else if (r.damaged && !r.ignore_errors)
		status = SUMMARY_FAILED;
	else
		status = SUMMARY_OK;
out:
	pk_progress_done(&prog);
	for (i = 0; i < nck; i++) {
		json_decref(ck[i].measured);
		json_decref(ck[i].expected);
	}
	free(r.flows.t);
	free_run(&r);
	pk_inputs_free(&r.in);
	pf_filter_free(e.filter);
	pk_capture_free(&e.cap);
	json_decref(e.manifest);
	free(e.manifest_path);
	free(e.manifest_dir);
	free(capture_path);
	free(dir_buf);
	return status;
}
