/*
 * scan.c - pcap-summary's work per packet, on libmerge's threaded ordered
 * scan (pm_scan): each lane (a run of inputs, worked by one thread at a
 * time) counts into its own tally and flow table and posts the first
 * offenders of each check as notes; the caller's thread takes notes and
 * damage in the merge's one order, so the first offenders and the order of
 * the warnings are those of one merge over all inputs, whatever the number
 * of threads.  Everything else is a sum.  libfilter judges fragments per
 * input, and an input is in one lane, so one filter per lane gives the
 * same verdicts as one filter for all.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "summary.h"

const struct pm_input_info *
run_input_info(const struct run *r, size_t i)
{
	return pm_scan_input(r->scan, i);
}

/* ip: the innermost IP header of d, or NULL. */
static void
count_protocols(struct worker *w, const struct pm_packet *pkt,
    const struct pf_dissection *d, const struct pf_ip *ip)
{
	int t;

	if (ip == NULL) {
		w->t.proto[P_NOTIP].packets++;
		w->t.proto[P_NOTIP].bytes += pkt->len;
		return;
	}
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

/* The first offenders of each check, posted for the caller to order. */
static int
offender(struct worker *w, const struct pm_scan_packet *p, int check,
    const struct pf_dissection *d, const char *why)
{
	struct offnote n;
	const char *file;

	if (w->noff[check] == MAX_OFFENDERS)
		return 0;
	file = pm_scan_input_name(w->r->scan, p->input);
	memset(&n, 0, sizeof(n));
	n.check = check;
	offender_fill(&n.o, file != NULL ? file : "(merged)", p->index,
	    &p->pkt, d, why);
	if (pm_scan_note(w->r->scan, p->lane, &n, sizeof(n)) < 0)
		return -1;
	w->noff[check]++;
	return 0;
}

/* A packet clock_pick() chose, posted for the caller's thread to match in
 * time order (clock_note). */
static int
note_clock(struct run *r, const struct pm_scan_packet *p,
    const struct pf_dissection *d)
{
	struct clocknote cn;

	memset(&cn, 0, sizeof(cn));
	if (!clock_key(d, p->pkt.data, p->pkt.caplen, p->pkt.len, &cn.hash))
		return 0;
	cn.kind = NOTE_CLOCK;
	cn.input = (uint32_t)p->input;
	cn.ts = p->pkt.ts;
	return pm_scan_note(r->scan, p->lane, &cn, sizeof(cn));
}

/* pm_scan's function, for lane p->lane, on one of the scan's threads. */
static int
per_packet(void *arg, const struct pm_scan_packet *p, char *errbuf)
{
	struct run *r = arg;
	struct worker *w = &r->w[p->lane];
	const struct pm_packet *pkt = &p->pkt;
	uint32_t input = (uint32_t)p->input;
	struct pf_dissection d;
	const struct pf_ip *ip;
	int v;

	/* Dissected once: for the counts, both filters, offenders and the
	 * TCP flows. */
	pf_dissect(pkt->linktype, pkt->data, pkt->caplen, &d);
	ip = d.n > 0 ? &d.ip[d.n - 1] : NULL;
	count_protocols(w, pkt, &d, ip);
	/*
	 * Completeness: r->tl is set whenever packets are told apart by file
	 * (r->clk_on and r->loss only then; p->input is never (size_t)-1
	 * then).  One test spares the rest of the work to a run without the
	 * measurements.
	 */
	if (p->input < r->ntl) {
		/* The timeline last: its count's store may alias what the
		 * others read, which the compiler would then read again. */
		if (r->clk_on && clock_pick(&d, pkt->data, pkt->len,
		    r->clk.below) && note_clock(r, p, &d) < 0) {
			snprintf(errbuf, PM_ERRBUF_SIZE, "out of memory");
			return -1;
		}
		/* loss_packet() takes TCP only; the test here spares every
		 * other packet the call's setting up. */
		if (ip != NULL && ip->proto == 6 && w->lt_state >= 0) {
			if (w->lt_state == LT_LATER)
				w->lt_state = loss_init(&w->lt, LOSS_FLOWS) <
				    0 ? LT_NOMEM : LT_MADE;
			if (w->lt_state == LT_MADE)
				loss_packet(&w->lt, r->loss, input, ip,
				    pkt->data, pkt->caplen, pkt->ts);
		}
		tl_add(&r->tl[input], pkt->ts);
	}

	if (w->filter != NULL) {
		v = pf_filter_match_dissected(w->filter, input, pkt->linktype,
		    &d, pkt->data, pkt->caplen, pkt->len, pkt->ts);
		if (v < 0) {
			snprintf(errbuf, PM_ERRBUF_SIZE, "%s",
			    pf_filter_geterr(w->filter));
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
			v = pf_filter_match_dissected(w->efilter, input,
			    pkt->linktype, &d, pkt->data, pkt->caplen,
			    pkt->len, pkt->ts);
			if (v < 0) {
				snprintf(errbuf, PM_ERRBUF_SIZE, "%s",
				    pf_filter_geterr(w->efilter));
				return -1;
			}
			if (v == PF_NOMATCH) {
				w->t.outside_filter++;
				rc |= offender(w, p, OFF_FILTER, &d, NULL);
			} else if (v != PF_MATCH) {
				w->t.undecidable++;
			}
		}
		if (e->hi > e->lo && (pkt->ts < e->lo || pkt->ts > e->hi)) {
			w->t.outside_time++;
			rc |= offender(w, p, OFF_TIME, &d, NULL);
		}
		if (e->cap.simple && pkt->caplen > SIMPLE_SNAPLEN) {
			char why[48];
			w->t.over_snap++;
			snprintf(why, sizeof(why), "caplen %u", pkt->caplen);
			rc |= offender(w, p, OFF_SNAP, &d, why);
		}
		if (rc < 0) {
			snprintf(errbuf, PM_ERRBUF_SIZE, "out of memory");
			return -1;
		}
	}
	return 0;
}

static void
show_progress(void *arg, uint64_t bytes, uint64_t packets)
{
	struct run *r = arg;

	if (r->prog != NULL && r->prog->on)
		pk_progress_update(r->prog, bytes, packets);
}

/* Open the scan and start it.  0, or prints why and returns
 * SUMMARY_ERROR (or SUMMARY_USAGE for a filter that cannot be made). */
int
scan_start(struct run *r, size_t threads, const char *tmpdir,
    struct pk_progress *prog)
{
	struct pm_scan_opts so = { 0 };
	char errbuf[PM_ERRBUF_SIZE > PF_ERRBUF_SIZE ? PM_ERRBUF_SIZE :
	    PF_ERRBUF_SIZE];
	size_t i, max_open = pk_raise_nofile(r->in.n);

	if (threads > r->in.n)
		threads = r->in.n;
	if (threads == 0)
		threads = 1;
	if (r->measure && max_open < r->in.n)
		r->loss_na = "more inputs than may be open at once: merged in "
		    "passes, so packets are not told apart by file";
	if ((r->measure || r->timeline) && max_open >= r->in.n) {
		if ((r->tl = calloc(r->in.n, sizeof(*r->tl))) == NULL) {
			pk_warn("out of memory");
			return SUMMARY_ERROR;
		}
		r->ntl = r->in.n;
	}
	/* Clock offsets need two files told apart, and packets in order. */
	if (r->measure && r->tl != NULL && r->in.n >= 2) {
		uint64_t bytes = 0;
		struct stat st;

		for (i = 0; i < r->in.n; i++)
			if (strcmp(r->in.paths[i], "-") != 0 &&
			    stat(r->in.paths[i], &st) == 0 && S_ISREG(st.st_mode))
				bytes += (uint64_t)st.st_size;
		if (clock_init(&r->clk, clock_sample_bits(bytes)) < 0) {
			pk_warn("out of memory");
			return SUMMARY_ERROR;
		}
		r->clk_on = 1;
	}
	if (r->measure && r->loss_na == NULL &&
	    (r->loss = calloc(r->in.n, sizeof(*r->loss))) == NULL) {
		pk_warn("out of memory");
		return SUMMARY_ERROR;
	}
	so.merge.max_open = max_open < r->in.n ? max_open : 0;
	so.merge.tmpdir = tmpdir;
	pk_window_apply(r->win, &so.merge);
	/* CRC-32C of every file, in the same pass, for manifest.json */
	so.merge.checksum = r->e != NULL && r->e->manifest != NULL;
	so.workers = (unsigned)threads;
	so.skip_unopened = r->ignore_errors;
	so.packet = per_packet;
	so.progress = show_progress;
	so.arg = r;
	r->prog = prog;
	if ((r->scan = pm_scan_new(&so, errbuf)) == NULL) {
		pk_warn("%s", errbuf);
		return SUMMARY_ERROR;
	}
	for (i = 0; i < r->in.n; i++) {
		int fd = strcmp(r->in.paths[i], "-") == 0 ? STDIN_FILENO : -1;
		if (pm_scan_add(r->scan, r->in.paths[i], fd) < 0) {
			pk_warn("%s", pm_scan_geterr(r->scan));
			return SUMMARY_ERROR;
		}
	}
	/* State per lane, each touched by one thread at a time. */
	r->nw = pm_scan_lanes(r->scan);
	if ((r->w = aligned_alloc(64, r->nw * sizeof(*r->w))) == NULL) {
		r->nw = 0;
		pk_warn("out of memory");
		return SUMMARY_ERROR;
	}
	memset(r->w, 0, r->nw * sizeof(*r->w));
	for (i = 0; i < r->nw; i++) {
		struct worker *w = &r->w[i];

		w->r = r;
		w->lt_state = r->loss != NULL ? LT_LATER : LT_OFF;
		if (r->fopt != NULL && (w->filter = pf_filter_new(
		    r->fopt->tuples, r->fopt->n, &r->fopt->fo, errbuf)) ==
		    NULL) {
			pk_warn("%s", errbuf);
			return SUMMARY_USAGE;
		}
		if (r->e != NULL && r->e->cap.has_filter) {
			struct pf_filter_opts eo = { .layer = PF_LAYER_ANY };
			if ((w->efilter = pf_filter_new(&r->e->cap.tuple, 1,
			    &eo, errbuf)) == NULL) {
				pk_warn("%s", errbuf);
				return SUMMARY_USAGE;
			}
		}
	}
	if (pm_scan_start(r->scan) < 0) {
		pk_warn("%s", pm_scan_geterr(r->scan));
		return SUMMARY_ERROR;
	}
	return 0;
}

/* Take the notes and damage in merge order.  0, or -1 after a fatal error
 * (printed). */
int
scan_collect(struct run *r, struct pk_progress *prog)
{
	struct pm_scan_event ev;
	const struct offnote *n;
	struct check *ck;
	int rc;

	while ((rc = pm_scan_next(r->scan, &ev)) == 1) {
		if (ev.kind == PM_SCAN_NOTE &&
		    *(const int *)ev.data == NOTE_CLOCK) {
			clock_note(&r->clk, ev.data);
			continue;
		}
		if (ev.kind == PM_SCAN_NOTE) {
			n = ev.data;
			ck = n->check == OFF_FILTER ? &r->e->ck_filter :
			    n->check == OFF_TIME ? &r->e->ck_time :
			    &r->e->ck_snap;
			if (ck->noff < MAX_OFFENDERS)
				ck->off[ck->noff++] = n->o;
			continue;
		}
		pk_progress_done(prog);
		if (ev.name != NULL)
			pk_warnf(ev.name, "%s", ev.text);
		else
			pk_warn("%s", ev.text);
		r->damaged = 1;
	}
	if (rc == 0)
		return 0;
	pk_progress_done(prog);
	if (ev.name != NULL)
		pk_warnf(ev.name, "%s", ev.text);
	else
		pk_warn("%s", ev.text);
	return -1;
}

/* Add the lanes' counts and the stream's into the run. */
int
scan_fold(struct run *r)
{
	size_t i, k;

	r->tot = *pm_scan_stats(r->scan);
	for (i = 0; i < r->nw; i++) {
		struct worker *w = &r->w[i];

		if (w->lt_state == LT_NOMEM && r->loss != NULL) {
			pk_warn("out of memory for the TCP flow table; capture "
			    "loss not measured");
			free(r->loss);
			r->loss = NULL;
			r->loss_na = "out of memory";
		}
		if (w->lt_state == LT_MADE && r->loss != NULL)
			loss_flush(&w->lt, r->loss);

		tally_add(&r->t, &w->t);
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
	for (i = 0; r->loss != NULL && i < r->in.n; i++)
		loss_add(&r->loss_total, &r->loss[i]);
	return 0;
}

/* When measuring, each input's silent stretches over the span of all
 * inputs (r->tot's first and last packet).  0, or -1 after saying why. */
int
coverage_run(struct run *r)
{
	uint64_t *pk;
	size_t i;

	if (r->tl == NULL || !r->measure)
		return 0;
	if ((pk = calloc(r->in.n, sizeof(*pk))) == NULL ||
	    (r->cov = calloc(r->in.n, sizeof(*r->cov))) == NULL) {
		free(pk);
		pk_warn("out of memory");
		return -1;
	}
	for (i = 0; i < r->in.n; i++)
		pk[i] = run_input_info(r, i)->stats.packets;
	if (coverage_find(r->tl, pk, r->in.n, r->tot.ts_min, r->tot.ts_max,
	    r->cov) < 0) {
		free(pk);
		pk_warn("out of memory");
		return -1;
	}
	free(pk);
	if (!r->clk_on)
		return 0;
	if (r->clk.failed)
		pk_warn("out of memory for clock offsets; some pairs of files "
		    "have fewer samples");
	if ((r->clk_off = calloc(r->in.n, sizeof(*r->clk_off))) == NULL ||
	    (r->clk_known = calloc(r->in.n, sizeof(*r->clk_known))) == NULL ||
	    (r->clk_shared = calloc(r->in.n, sizeof(*r->clk_shared))) == NULL ||
	    clock_solve(&r->clk, r->in.n, r->clk_off, r->clk_known,
	    &r->clk_ref, r->clk_shared) < 0) {
		pk_warn("out of memory");
		return -1;
	}
	return 0;
}

void
run_free(struct run *r)
{
	size_t i;

	pm_scan_free(r->scan);
	r->scan = NULL;
	for (i = 0; r->w != NULL && i < r->nw; i++) {
		free(r->w[i].flows.t);
		pf_filter_free(r->w[i].filter);
		pf_filter_free(r->w[i].efilter);
		loss_free(&r->w[i].lt);
	}
	free(r->w);
	free(r->loss);
	r->loss = NULL;
	free(r->tl);
	r->tl = NULL;
	r->ntl = 0;
	free(r->cov);
	r->cov = NULL;
	if (r->clk_on)
		clock_free(&r->clk);
	r->clk_on = 0;
	free(r->clk_off);
	free(r->clk_known);
	free(r->clk_shared);
	r->clk_off = NULL;
	r->clk_known = NULL;
	r->clk_shared = NULL;
	r->w = NULL;
}
