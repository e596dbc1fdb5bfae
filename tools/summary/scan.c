/*
 * scan.c - pcap-summary's run over the inputs: worker threads, each
 * merging a contiguous run of inputs, and the main thread merging their
 * streams in libmerge's order; see summary.h.
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
const struct pm_input_info *
run_input_info(const struct run *r, size_t i)
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
			w->flows_failed = 1;	/* said by scan_fold() */
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
event_apply(struct run *r, const struct event *ev, struct pk_progress *prog)
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
cursor_advance(struct run *r, struct worker *w, struct cursor *k,
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
			if (event_apply(r, ev, prog) < 0)
				return -1;
		}
		if (k->i < c->n)
			return 1;
		if (c->last) {
			/* What is left came with a packet never sent (the
			 * worker stopped on it): its fatal error still counts. */
			for (; k->e < c->nev; k->e++)
				if (c->ev[k->e].kind != EV_OFF &&
				    event_apply(r, &c->ev[k->e], prog) < 0)
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
cursor_take(struct run *r, struct cursor *k, struct pk_progress *prog)
{
	struct chunk *c = k->c;
	struct pm_packet p = { 0 };

	while (k->e < c->nev && c->ev[k->e].pos == k->pos)
		event_apply(r, &c->ev[k->e++], prog);
	if (r->stream_ts) {
		p.ts = c->ts[k->i];
		pm_stats_add(&r->tot, &p);	/* sizes: summed */
	}
	k->i++;
	k->pos++;
}

void
scan_stop(struct run *r)
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
int
scan_fold(struct run *r)
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
scan_split(struct run *r)
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
int
scan_start(struct run *r, size_t threads, const char *tmpdir)
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
	scan_split(r);
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
int
scan_collect(struct run *r, struct pk_progress *prog)
{
	struct cursor k[MAX_WORKERS];
	struct pm_packet p = { 0 };
	size_t i, b, limw = 0;
	int64_t lim = 0;
	int has_lim, rc;

	memset(k, 0, sizeof(k));
	for (i = 0; i < r->nw; i++)
		if (cursor_advance(r, &r->w[i], &k[i], prog) < 0)
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
			if ((rc = cursor_advance(r, &r->w[b], c, prog)) < 0)
				return -1;
			show_progress(r, k, prog);
			if (rc == 0 || !FIRST(c->c->ts[c->i]))
				break;
			cursor_take(r, c, prog);
		}
#undef FIRST
	}
	return 0;
}

void
run_free(struct run *r)
{
	size_t i, j;

	if (r->w == NULL)
		return;
	scan_stop(r);
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

