/*
 * scan.c - the parallel ordered scan (pm_scan; contract in merge.h).
 *
 * The inputs are split into contiguous runs of about the same size, the
 * lanes, each merged by its own pm_merge; there are twice as many lanes as
 * threads.  A thread takes whichever free lane has the fewest chunks
 * waiting for the caller, fills one chunk from it (up to CHUNK_TS packets,
 * handing each packet to the caller's function) and lets it go, so a lane
 * moves between threads but is only ever worked on by one at a time, in its
 * merge's order.  A core that runs slower (a busy neighbour on a shared
 * host makes one vCPU run at 60% of the other) then does fewer chunks
 * instead of holding up the whole scan, as one fixed run per thread did.
 * Each lane sends the caller's thread its packets' timestamps in its
 * merged order (chunks through a small ring, so memory stays bounded),
 * with damage, errors and the function's notes tagged by position.  The
 * caller's thread merges those streams with pm_order_before, the merge's
 * own tie-break (earlier input first): merging contiguous runs that way
 * gives exactly the order of one merge over all inputs (the merge's passes
 * rely on the same fact), so events arrive in that order and the stream's
 * statistics (first, last, largest gap) are those of one merge, whatever
 * the number of threads or lanes.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "merge_int.h"

/*
 * Timestamps per chunk.  Each chunk is a hand-over between threads, and a
 * wake-up costs tens of microseconds under a hypervisor: with 8,192 the
 * 16-file summary switched threads about 1,300 times and took 1.18x the
 * CPU time it takes with 32,768 (1 MiB of ring per lane) and 250 switches.
 */
#define CHUNK_TS 32768
#define NCHUNKS 4		/* chunks in a lane's ring */
#define MAX_WORKERS 256		/* threads */
#define LANES_PER_WORKER 2	/* enough for a fast thread to find a free
				 * lane while the others work theirs */

/*
 * EV_DAMAGE and EV_FATAL come before the packet at pos (its place in time
 * unknown); EV_NOTE and EV_STOP (the function failed) at it, which is sent
 * so that the caller's thread knows where in time they belong.
 */
enum { EV_DAMAGE, EV_FATAL, EV_NOTE, EV_STOP };

struct event {
	uint64_t pos;		/* a packet's position in the lane's stream */
	int kind;
	int err;
	size_t input;		/* of all inputs, or (size_t)-1 */
	char *text;		/* EV_DAMAGE, EV_FATAL */
	void *data;		/* EV_NOTE: allocated, or NULL when in inl */
	size_t len;
	uint8_t inl[32];	/* a small note, without a malloc (the events
				 * move: no pointer may point here) */
};

struct chunk {
	int64_t ts[CHUNK_TS];
	size_t n;
	struct event *ev;
	size_t nev, capev;
	int last;		/* the lane's stream ends here */
};
/* pm_scan_start clears a chunk from n on: the times come before it. */
_Static_assert(offsetof(struct chunk, n) == sizeof(int64_t) * CHUNK_TS,
    "a chunk's times, then its header");

struct lane {			/* a cache line of its own */
	_Alignas(64) pm_scan *s;
	unsigned id;
	size_t lo, hi;		/* its inputs: [lo, hi) */
	pm_merge *m;
	/* touched by the thread working the lane, one thread at a time */
	struct pm_reader_stats st;
	uint64_t *index;	/* packets seen per input, from lo */
	uint64_t pos;		/* packets sent */
	int failed;		/* out of memory for an event */
	struct chunk *fill;	/* the chunk being filled */
	/* under s->mu: the ring to the caller's thread, and who works it */
	struct chunk *ring;
	size_t head, count;	/* filled: ring[head], ... */
	int busy;		/* a thread is filling ring[head + count] */
	int done;		/* its last chunk is in the ring */
	unsigned thread;	/* the thread that filled its last chunk */
	atomic_uint_least64_t bytes_in;
};

struct thread {
	pm_scan *s;
	unsigned id;
	pthread_t tid;
	int started;
};

/* The caller's place in one lane's stream. */
struct cursor {
	struct chunk *c;
	size_t i, e;
	uint64_t pos;
	int done;
};

struct pm_scan {
	struct pm_scan_opts o;
	char **paths;
	int *fds;
	size_t n, cap;
	struct lane *w;
	size_t nw;		/* lanes */
	struct thread *t;
	size_t nt;
	struct cursor *k;
	struct chunk *rings;	/* every lane's ring, in one block */
	int started;
	int stream_ts;		/* lanes send times (nw > 1) */
	atomic_int cancel;
	/* the lanes' rings and who works them */
	pthread_mutex_t mu;
	pthread_cond_t work;	/* a thread may find a lane to fill */
	pthread_cond_t ready;	/* a chunk of lane `waiting` was filled */
	const struct lane *waiting;	/* the caller waits for it, or NULL */
	int sync_made;
	size_t ndone;		/* lanes done */
	size_t nidle;		/* threads waiting for work */
	/* pm_scan_next's state, kept across calls */
	size_t prime;		/* cursors brought to their first packet */
	size_t b;		/* the lane whose packets come first; nw: none */
	int has_lim;		/* ...while they come before lim (from limw) */
	int64_t lim;
	size_t limw;
	/*
	 * choose()'s tree of losers over the lanes' next times (merge_int.h).
	 * Only the lane chosen last moves between two choices, so a choice
	 * replays that lane's path, log2(nw) matches: a pass over every lane
	 * for every packet made the caller's thread the slowest with 16 lanes
	 * (--threads 8 on 2 cores: the summary takes 0.78x-0.82x the time
	 * with the tree).
	 */
	struct pm_tkey *node;	/* nw, then the keys it is built from (nw) */
	size_t *win;		/* 2 nw, for pm_tree_build */
	size_t lastb;		/* the winner when the tree was last current
				 * (only its key may have moved); nw: no
				 * tree yet */
	int end;		/* 1: 0 returned; <0: that error returned */
	struct event last;	/* the error returned */
	uint64_t taken;		/* packets merged */
	struct pm_reader_stats tot;
	char err[PM_ERRBUF_SIZE];
};

static void
seterr(pm_scan *s, const char *fmt, const char *arg)
{
	snprintf(s->err, sizeof(s->err), fmt, arg);
}

pm_scan *
pm_scan_new(const struct pm_scan_opts *o, char *errbuf)
{
	pm_scan *s;

	if (o == NULL || o->packet == NULL) {
		snprintf(errbuf, PM_ERRBUF_SIZE, "pm_scan_new: no function");
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(errbuf, PM_ERRBUF_SIZE, "out of memory");
		return NULL;
	}
	s->o = *o;
	return s;
}

int
pm_scan_add(pm_scan *s, const char *path, int fd)
{
	if (s->started) {
		seterr(s, "%s: the scan has started", path);
		return PM_ERR_INVAL;
	}
	if (s->n == s->cap) {
		size_t ncap = s->cap ? 2 * s->cap : 16;
		char **p = realloc(s->paths, ncap * sizeof(*p));
		int *f;

		if (p == NULL)
			goto nomem;
		s->paths = p;
		if ((f = realloc(s->fds, ncap * sizeof(*f))) == NULL)
			goto nomem;
		s->fds = f;
		s->cap = ncap;
	}
	if ((s->paths[s->n] = strdup(path)) == NULL)
		goto nomem;
	s->fds[s->n++] = fd;
	return 0;
nomem:
	seterr(s, "%s", "out of memory");
	return PM_ERR_NOMEM;
}

/* ---- the threads' side ------------------------------------------------- */

/* Add an event to the chunk being filled.  -1: no memory. */
static int
event_add(struct lane *w, int kind, int err, size_t input,
    const char *text, const void *data, size_t len)
{
	struct chunk *c = w->fill;
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
	ev->pos = w->pos;
	ev->kind = kind;
	ev->err = err;
	ev->input = input;
	if (text != NULL && (ev->text = strdup(text)) == NULL)
		return -1;
	if (len > 0) {
		if (len > sizeof(ev->inl) && (ev->data = malloc(len)) == NULL) {
			free(ev->text);
			return -1;
		}
		memcpy(ev->data != NULL ? ev->data : ev->inl, data, len);
		ev->len = len;
	}
	c->nev++;
	return 0;
}

static void
chunk_clear(struct chunk *c)
{
	size_t i;

	for (i = 0; i < c->nev; i++) {
		free(c->ev[i].text);
		free(c->ev[i].data);
	}
	c->nev = 0;
	c->n = 0;
	c->last = 0;
}

int
pm_scan_note(pm_scan *s, unsigned lane, const void *data, size_t len)
{
	if (lane >= s->nw || len == 0)
		return PM_ERR_INVAL;
	return event_add(&s->w[lane], EV_NOTE, 0, (size_t)-1, NULL, data,
	    len) < 0 ? PM_ERR_NOMEM : 0;
}

/*
 * Fill w->fill from the lane's merge, handing each packet to the
 * function: 0 when the chunk is full, 1 when the lane has ended (its end,
 * a fatal error or the function's stop; the chunk is marked last).
 */
static int
lane_fill(struct lane *w)
{
	pm_scan *s = w->s;
	struct pm_scan_packet p;
	char errbuf[PM_ERRBUF_SIZE];
	size_t failed;
	int rc, fatal;

	memset(&p, 0, sizeof(p));
	p.lane = w->id;
	for (;;) {
		rc = pm_merge_next(w->m, &p.pkt);
		if (rc == 1) {
			p.input = pm_merge_last_input(w->m);
			p.index = 0;
			if (p.input != (size_t)-1) {
				p.index = ++w->index[p.input];
				p.input += w->lo;
			}
			/* Several lanes: only the sizes are summed (fold());
			 * the times come through the caller's merge. */
			if (s->stream_ts)
				pm_stats_add_sizes(&w->st, &p.pkt);
			else
				pm_stats_add(&w->st, &p.pkt);
			errbuf[0] = '\0';
			if ((rc = s->o.packet(s->o.arg, &p, errbuf)) < 0) {
				/* Its notes go; the packet is sent with the
				 * stop, so that it is said in its place. */
				while (w->fill->nev > 0 && w->fill->ev[
				    w->fill->nev - 1].kind == EV_NOTE &&
				    w->fill->ev[w->fill->nev - 1].pos ==
				    w->pos) {
					struct event *ev =
					    &w->fill->ev[--w->fill->nev];
					free(ev->data);
				}
				if (event_add(w, EV_STOP, rc, p.input,
				    errbuf, NULL, 0) < 0)
					w->failed = 1;
				w->fill->ts[w->fill->n++] = p.pkt.ts;
				break;
			}
			if (s->stream_ts)
				w->fill->ts[w->fill->n] = p.pkt.ts;
			w->fill->n++;
			w->pos++;
			if (w->fill->n == CHUNK_TS)
				return 0;
			continue;
		}
		if (rc == 0)
			break;
		fatal = pm_merge_fatal(w->m, rc, s->o.skip_unopened);
		failed = rc == PM_ERR_INPUT || rc == PM_ERR_DAMAGED ||
		    rc == PM_ERR_TRUNCATED ? pm_merge_failed(w->m) + w->lo :
		    (size_t)-1;
		if (event_add(w, fatal ? EV_FATAL : EV_DAMAGE, rc, failed,
		    pm_merge_geterr(w->m), NULL, 0) < 0) {
			w->failed = 1;
			break;
		}
		if (fatal)
			break;
	}
	w->fill->last = 1;
	return 1;
}

/*
 * The lane thread t should fill next (under s->mu), or NULL: one not
 * worked, not done, with room in its ring; of those, the one with the
 * fewest chunks waiting, which the caller's thread will run out of first,
 * and on a tie the one t filled last (its data is in t's caches).
 */
static struct lane *
lane_pick(pm_scan *s, unsigned t)
{
	struct lane *best = NULL, *l;
	size_t i;

	for (i = 0; i < s->nw; i++) {
		l = &s->w[i];
		if (l->busy || l->done || l->count == NCHUNKS)
			continue;
		if (best == NULL || l->count < best->count ||
		    (l->count == best->count && l->thread == t &&
		    best->thread != t))
			best = l;
	}
	return best;
}

static void *
thread_main(void *arg)
{
	struct thread *t = arg;
	pm_scan *s = t->s;
	struct lane *l;
	int ended;

	pthread_mutex_lock(&s->mu);
	while (!atomic_load(&s->cancel) && s->ndone < s->nw) {
		if ((l = lane_pick(s, t->id)) == NULL) {
			s->nidle++;
			pthread_cond_wait(&s->work, &s->mu);
			s->nidle--;
			continue;
		}
		l->busy = 1;
		l->thread = t->id;
		l->fill = &l->ring[(l->head + l->count) % NCHUNKS];
		pthread_mutex_unlock(&s->mu);
		/* ring[head + count] is not the caller's until counted */
		chunk_clear(l->fill);
		ended = lane_fill(l);
		atomic_store_explicit(&l->bytes_in, pm_merge_bytes_in(l->m),
		    memory_order_relaxed);
		pthread_mutex_lock(&s->mu);
		l->busy = 0;
		l->count++;
		if (ended) {
			l->done = 1;
			s->ndone++;
		}
		/* Only the lane the caller waits for wakes it: a wake-up costs
		 * tens of microseconds under a hypervisor, and the caller
		 * needs one lane at a time. */
		if (s->waiting == l)
			pthread_cond_signal(&s->ready);
		/* the lane is free again, or the last one is done */
		if (s->nidle > 0)
			pthread_cond_broadcast(&s->work);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* ---- starting ----------------------------------------------------------- */

/*
 * Split the inputs into nw contiguous runs of about the same size (an
 * input of unknown size, a pipe, counts as an average one).
 */
static void
split(pm_scan *s)
{
	uint64_t *sz, total = 0, known = 0, acc = 0;
	size_t i, k = 0, nknown = 0;
	struct stat st;

	if ((sz = calloc(s->n, sizeof(*sz))) == NULL) {
		s->nw = 1;
		s->w[0].lo = 0;
		s->w[0].hi = s->n;
		return;
	}
	for (i = 0; i < s->n; i++)
		if (s->fds[i] < 0 && stat(s->paths[i], &st) == 0 &&
		    S_ISREG(st.st_mode)) {
			sz[i] = (uint64_t)st.st_size + 1;
			known += sz[i];
			nknown++;
		}
	for (i = 0; i < s->n; i++) {
		if (sz[i] == 0)
			sz[i] = nknown ? known / nknown : 1;
		total += sz[i];
	}
	s->w[0].lo = 0;
	for (i = 0; i < s->n; i++) {
		acc += sz[i];
		/* close lane k after input i when it has its share, as
		 * long as every later lane can still get an input */
		if (k + 1 < s->nw && s->n - (i + 1) >= s->nw - (k + 1) &&
		    (acc * s->nw >= total * (k + 1) ||
		    s->n - (i + 1) == s->nw - (k + 1))) {
			s->w[k].hi = i + 1;
			s->w[++k].lo = i + 1;
		}
	}
	s->w[k].hi = s->n;
	s->nw = k + 1;
	free(sz);
}

/* Threads and lanes for the inputs added so far: one lane with one thread,
 * else LANES_PER_WORKER lanes a thread, at most one an input. */
static void
lanes_for(const pm_scan *s, size_t *nt, size_t *nl)
{
	size_t t = s->o.workers ? s->o.workers : 1, l;

	if (t > MAX_WORKERS)
		t = MAX_WORKERS;
	/* More inputs than may be open: one merge, in passes. */
	if (s->o.merge.max_open != 0 && s->o.merge.max_open < s->n)
		t = 1;
	l = t > 1 ? t * LANES_PER_WORKER : 1;
	if (l > s->n)
		l = s->n > 0 ? s->n : 1;
	*nt = t < l ? t : l;
	*nl = l;
}

size_t
pm_scan_lanes(const pm_scan *s)
{
	size_t nt, nl;

	if (s->started)
		return s->nw;
	lanes_for(s, &nt, &nl);
	return nl;
}

int
pm_scan_start(pm_scan *s)
{
	struct pm_merge_opts mo;
	size_t i, j, nw;
	char errbuf[PM_ERRBUF_SIZE];
	int err;

	if (s->started || s->n == 0) {
		seterr(s, "%s", s->started ? "the scan has started" :
		    "no inputs");
		return PM_ERR_INVAL;
	}
	s->started = 1;
	lanes_for(s, &s->nt, &nw);
	if ((s->w = aligned_alloc(64, nw * sizeof(*s->w))) == NULL ||
	    (s->k = calloc(nw, sizeof(*s->k))) == NULL ||
	    (s->node = calloc(2 * nw, sizeof(*s->node))) == NULL ||
	    (s->win = calloc(2 * nw, sizeof(*s->win))) == NULL ||
	    (s->t = calloc(s->nt, sizeof(*s->t))) == NULL)
		goto nomem;
	memset(s->w, 0, nw * sizeof(*s->w));
	s->nw = nw;
	split(s);
	if (s->nt > s->nw)
		s->nt = s->nw;
	s->stream_ts = s->nw > 1;
	s->b = s->nw;
	s->lastb = s->nw;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->work, NULL);
	pthread_cond_init(&s->ready, NULL);
	s->sync_made = 1;
	/*
	 * The rings (1 MiB a lane) in one block on huge pages where the
	 * kernel gives them: in 4 KiB pages each lane's took a page fault
	 * per 512 times, 15-25 us each under this hypervisor.  Only the
	 * chunks' headers are cleared: a chunk's times are read only as far
	 * as they were written, so its pages are touched only as it fills
	 * (a scan of few packets, or with many threads, touches little).
	 */
	if ((s->rings = pm_huge_alloc(nw * NCHUNKS * sizeof(struct chunk))) ==
	    NULL)
		goto nomem;
	for (i = 0; i < nw * NCHUNKS; i++)
		memset(&s->rings[i].n, 0, sizeof(struct chunk) -
		    offsetof(struct chunk, n));
	/* The lanes share what one merge per thread had: 4 MiB of read
	 * buffers a thread, not a lane (each page of them is a fault). */
	mo = s->o.merge;
	if (mo.buffer_budget == 0 && s->nw > s->nt)
		mo.buffer_budget = (size_t)(4u << 20) * s->nt / s->nw;
	for (i = 0; i < s->nw; i++) {
		struct lane *w = &s->w[i];

		w->s = s;
		w->id = (unsigned)i;
		w->thread = (unsigned)(i % s->nt);	/* first picks spread */
		w->ring = &s->rings[i * NCHUNKS];
		if ((w->index = calloc(w->hi - w->lo,
		    sizeof(*w->index))) == NULL)
			goto nomem;
		if ((w->m = pm_merge_new(&mo, errbuf)) == NULL) {
			seterr(s, "%s", errbuf);
			return PM_ERR_NOMEM;
		}
		for (j = w->lo; j < w->hi; j++) {
			int fd = s->fds[j];

			s->fds[j] = -1;		/* the merge's now */
			if ((err = pm_merge_add(w->m, s->paths[j], fd)) < 0) {
				seterr(s, "%s", pm_merge_geterr(w->m));
				return err;
			}
		}
	}
	for (i = 0; i < s->nt; i++) {
		s->t[i].s = s;
		s->t[i].id = (unsigned)i;
		if ((err = pthread_create(&s->t[i].tid, NULL, thread_main,
		    &s->t[i])) != 0) {
			seterr(s, "cannot start a thread: %s", strerror(err));
			return PM_ERR_IO;
		}
		s->t[i].started = 1;
	}
	return 0;
nomem:
	seterr(s, "%s", "out of memory");
	return PM_ERR_NOMEM;
}

unsigned
pm_scan_workers(const pm_scan *s)
{
	return s->started ? (unsigned)s->nt : 0;
}

/* ---- the caller's side -------------------------------------------------- */

/* The oldest filled chunk of lane w (waits for it). */
static struct chunk *
chunk_get(struct lane *w)
{
	pm_scan *s = w->s;
	struct chunk *c;

	pthread_mutex_lock(&s->mu);
	while (w->count == 0) {
		s->waiting = w;
		pthread_cond_wait(&s->ready, &s->mu);
	}
	s->waiting = NULL;
	c = &w->ring[w->head];
	pthread_mutex_unlock(&s->mu);
	return c;
}

static void
chunk_release(struct lane *w)
{
	pm_scan *s = w->s;

	pthread_mutex_lock(&s->mu);
	w->head = (w->head + 1) % NCHUNKS;
	w->count--;
	if (s->nidle > 0)
		pthread_cond_broadcast(&s->work);
	pthread_mutex_unlock(&s->mu);
}

static const struct lane *owner(const pm_scan *s, size_t i);

enum { TAKEN = 2 };	/* an event is in *ev for the caller */

/* Fill ev from event e.  1, or the error that ends the scan. */
static int
deliver(pm_scan *s, const struct event *e, struct pm_scan_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->input = e->input;
	ev->name = pm_scan_input_name(s, e->input);
	ev->err = e->err;
	ev->text = e->text;
	ev->data = e->len == 0 ? NULL : e->data != NULL ? e->data : e->inl;
	ev->len = e->len;
	if (e->kind == EV_NOTE) {
		ev->kind = PM_SCAN_NOTE;
		return 1;
	}
	if (e->kind == EV_DAMAGE) {
		ev->kind = PM_SCAN_DAMAGE;
		return 1;
	}
	ev->kind = PM_SCAN_ERROR;
	s->last = *e;
	s->last.text = NULL;		/* the chunk keeps it */
	snprintf(s->err, sizeof(s->err), "%s", e->text ? e->text : "");
	return s->end = e->err < 0 ? e->err : PM_ERR_INVAL;
}

static void
progress(pm_scan *s)
{
	uint64_t bytes = 0;
	size_t i;

	if (s->o.progress == NULL)
		return;
	for (i = 0; i < s->nw; i++)
		bytes += atomic_load_explicit(&s->w[i].bytes_in,
		    memory_order_relaxed);
	s->o.progress(s->o.arg, bytes, s->taken);
}

/*
 * Bring lane i's cursor to its next packet, handing over the events
 * before it.  1: there is one; 0: the lane is done; TAKEN: *ev has an
 * event (call again to go on); <0: the error that ends the scan.
 */
static int
advance(pm_scan *s, size_t i, struct pm_scan_event *ev)
{
	struct lane *w = &s->w[i];
	struct cursor *k = &s->k[i];
	struct chunk *c;
	struct event *e;

	for (;;) {
		if (k->c == NULL) {
			k->c = chunk_get(w);
			k->i = k->e = 0;
		}
		c = k->c;
		while (k->e < c->nev) {
			e = &c->ev[k->e];
			if (e->pos > k->pos || (e->pos == k->pos &&
			    e->kind >= EV_NOTE))
				break;
			k->e++;
			return deliver(s, e, ev) == 1 ? TAKEN : s->end;
		}
		if (k->i < c->n)
			return 1;
		if (c->last) {
			if (w->failed) {
				seterr(s, "%s", "out of memory");
				memset(&s->last, 0, sizeof(s->last));
				s->last.input = (size_t)-1;
				return s->end = PM_ERR_NOMEM;
			}
			k->done = 1;
			return 0;
		}
		chunk_release(w);
		k->c = NULL;
		progress(s);
	}
}

/* The position of the next event in c's chunk, UINT64_MAX for none. */
static inline uint64_t
next_event(const struct cursor *c)
{
	return c->e < c->c->nev ? c->c->ev[c->e].pos : UINT64_MAX;
}

/* Lane i's next time, as a key of the tree. */
static inline struct pm_tkey
lane_key(const pm_scan *s, size_t i)
{
	const struct cursor *k = &s->k[i];
	struct pm_tkey e;

	e.ts = k->done ? INT64_MAX : k->c->ts[k->i];
	e.s = k->done ? s->nw + i : i;
	return e;
}

/*
 * Choose the lane whose packets come next, and until when: the first and
 * second of the lanes' next times in pm_order_before's order.  The
 * second lost only to the first, so it is the first of the losers on
 * the winner's path.
 */
static void
choose(pm_scan *s)
{
	size_t n = s->nw, x, w;
	struct pm_tkey l;

	if (s->lastb == n) {
		for (x = 0; x < n; x++)
			s->node[n + x] = lane_key(s, x);
		pm_tree_build(s->node, s->node + n, n, s->win);
	} else {
		pm_tree_replay(s->node, n, s->lastb, lane_key(s, s->lastb));
	}
	w = s->node[0].s;
	if (w >= n) {			/* every lane is done */
		s->b = n;
		s->has_lim = 0;
		return;
	}
	s->b = s->lastb = w;
	l.ts = INT64_MAX;
	l.s = 2 * n;
	for (x = (w + n) >> 1; x > 0; x >>= 1)
		if (pm_tkey_before(&s->node[x], &l))
			l = s->node[x];
	s->has_lim = l.s < n;
	s->lim = l.ts;
	s->limw = l.s;
}

/* Sizes are summed; the times came through the merged stream. */
static void
fold(pm_scan *s)
{
	size_t i;

	for (i = 0; i < s->nt; i++)
		if (s->t[i].started) {
			pthread_join(s->t[i].tid, NULL);
			s->t[i].started = 0;
		}
	for (i = 0; i < s->nw; i++) {
		struct lane *w = &s->w[i];

		if (!s->stream_ts) {
			s->tot = w->st;		/* its stream is the merge */
			continue;
		}
		s->tot.caplen_bytes += w->st.caplen_bytes;
		s->tot.wire_bytes += w->st.wire_bytes;
		s->tot.cut_short += w->st.cut_short;
		if (w->st.max_caplen > s->tot.max_caplen)
			s->tot.max_caplen = w->st.max_caplen;
	}
}

/*
 * One time of the merged stream counted into st as pm_stats_add would
 * count it, the hot fields in the caller's registers: last, the largest
 * gap and the latest time (st->last_ts, max_gap, ts_max once written
 * back).
 */
static inline void
count_ts(struct pm_reader_stats *st, int64_t t, int64_t *last, int64_t *gap,
    int64_t *hi)
{
	int64_t d;

	if (__builtin_expect(t < *last, 0)) {
		d = pm_ts_sub(*last, t);
		st->backwards++;
		if (d > st->max_backwards)
			st->max_backwards = d;
		if (t < st->ts_min)
			st->ts_min = t;
	} else {
		d = pm_ts_sub(t, *last);
		*gap = d > *gap ? d : *gap;
		*hi = t > *hi ? t : *hi;
	}
	*last = t;
}

/*
 * Packets in merged order, one lane's at a time, for as long as the first
 * lane's next packet has no event before or at it and is not its chunk's
 * last (the caller's loop sees to those): where the lanes' packets
 * interleave one by one, a run of one lane is one packet, and a choose()
 * and a take_run() for each took the caller's thread 182 instructions a
 * packet where bursts take 72 (callgrind, 4 lanes).  Needs the tree
 * current (right after choose()); leaves it current.  Returns the packets
 * taken.
 */
static uint64_t
burst(pm_scan *s)
{
	struct pm_reader_stats *st = &s->tot;
	uint64_t n = 0;
	int64_t last, gap, hi;
	size_t w;

	if (st->packets == 0)
		return 0;	/* take_run() sets the first time */
	last = st->last_ts;
	gap = st->max_gap;
	hi = st->ts_max;
	while ((w = s->node[0].s) < s->nw) {
		struct cursor *c = &s->k[w];
		const struct chunk *ch = c->c;
		struct pm_tkey k;

		if (c->pos >= next_event(c) || c->i + 1 >= ch->n)
			break;
		count_ts(st, s->node[0].ts, &last, &gap, &hi);
		c->i++;
		c->pos++;
		n++;
		k.ts = ch->ts[c->i];
		k.s = w;
		pm_tree_replay(s->node, s->nw, w, k);
	}
	/* The winner, whose key has not moved: choose() replays it. */
	if (w < s->nw)
		s->lastb = w;
	st->last_ts = last;
	st->max_gap = gap;
	st->ts_max = hi;
	st->packets += n;
	s->taken += n;
	return n;
}

/*
 * Take lane s->b's times from cursor c while they come first (before
 * s->lim, from lane s->limw, in pm_order_before's order) and before the
 * event at evpos: counted into s->tot exactly as pm_stats_add would count
 * each (their sizes are summed at the end), but in registers, since this
 * loop runs once for every packet of the scan on the caller's thread.
 */
static void
take_run(pm_scan *s, struct cursor *c, uint64_t evpos)
{
	struct pm_reader_stats *st = &s->tot;
	const int64_t *ts = c->c->ts;
	size_t i = c->i, end = c->c->n, n;
	int64_t last, gap, hi, top = INT64_MAX;

	if (evpos - c->pos < end - i)
		end = i + (size_t)(evpos - c->pos);
	if (s->has_lim) {
		/* first: t < lim, or t == lim from an earlier lane */
		if (s->b < s->limw)
			top = s->lim;
		else if (s->lim == INT64_MIN)
			return;
		else
			top = s->lim - 1;
	}
	if (i == end || ts[i] > top)
		return;
	if (st->packets == 0)
		st->ts_min = st->ts_max = st->last_ts = ts[i];
	last = st->last_ts;
	gap = st->max_gap;
	hi = st->ts_max;
	for (; i < end && ts[i] <= top; i++)
		count_ts(st, ts[i], &last, &gap, &hi);
	n = i - c->i;
	st->last_ts = last;
	st->max_gap = gap;
	st->ts_max = hi;
	st->packets += n;
	c->i = i;
	c->pos += n;
	s->taken += n;
}

int
pm_scan_next(pm_scan *s, struct pm_scan_event *ev)
{
	struct pm_packet p = { 0 };
	int rc;

	if (s->end != 0) {
		if (s->end < 0) {
			memset(ev, 0, sizeof(*ev));
			ev->kind = PM_SCAN_ERROR;
			ev->err = s->end;
			ev->input = s->last.input;
			ev->name = pm_scan_input_name(s, s->last.input);
			ev->text = s->err;
		}
		return s->end == 1 ? 0 : s->end;
	}
	if (!s->started) {
		seterr(s, "%s", "the scan has not started");
		return PM_ERR_INVAL;
	}
	for (; s->prime < s->nw; s->prime++)
		if ((rc = advance(s, s->prime, ev)) == TAKEN)
			return 1;
		else if (rc < 0)
			return rc;
	for (;;) {
		struct cursor *c;
		struct chunk *ch;
		uint64_t evpos;

		if (s->b == s->nw) {
			choose(s);
			if (s->b == s->nw)
				break;
			if (s->stream_ts && burst(s) > 0) {
				s->b = s->nw;
				continue;
			}
		}
		c = &s->k[s->b];
		ch = c->c;
		evpos = next_event(c);
#define FIRST(t) (!s->has_lim || pm_order_before((t), s->b, s->lim, s->limw))
		/* the common case: packets without events */
		if (!s->stream_ts) {	/* one lane, no times */
			uint64_t left = ch->n - c->i;
			if (evpos - c->pos < left)
				left = evpos - c->pos;
			c->i += left;
			c->pos += left;
			s->taken += left;
		} else {
			take_run(s, c, evpos);
		}
		if (c->i < ch->n && c->pos < evpos) {
			s->b = s->nw;			/* another is first */
			continue;
		}
		/* events due here, or the chunk is used up */
		if ((rc = advance(s, s->b, ev)) == TAKEN)
			return 1;
		if (rc < 0)
			return rc;
		if (rc == 0 || !FIRST(c->c->ts[c->i])) {
			s->b = s->nw;
			continue;
		}
#undef FIRST
		/* packet c->pos: its notes, then the packet */
		ch = c->c;
		if (next_event(c) == c->pos)
			return deliver(s, &ch->ev[c->e++], ev);
		if (s->stream_ts) {
			p.ts = ch->ts[c->i];
			pm_stats_add(&s->tot, &p);
		}
		c->i++;
		c->pos++;
		s->taken++;
	}
	fold(s);
	progress(s);
	s->end = 1;
	return 0;
}

const char *
pm_scan_geterr(const pm_scan *s)
{
	return s->err;
}

const struct pm_reader_stats *
pm_scan_stats(const pm_scan *s)
{
	return s->end == 1 ? &s->tot : NULL;
}

size_t
pm_scan_count(const pm_scan *s)
{
	return s->n;
}

/* The lane that reads input i, or NULL. */
static const struct lane *
owner(const pm_scan *s, size_t i)
{
	size_t k = 0;

	if (s->w == NULL || i >= s->n)
		return NULL;
	while (i >= s->w[k].hi)
		k++;
	return s->w[k].m != NULL ? &s->w[k] : NULL;
}

const struct pm_input_info *
pm_scan_input(const pm_scan *s, size_t i)
{
	const struct lane *w = owner(s, i);

	return w != NULL && s->end == 1 ? pm_merge_input(w->m, i - w->lo) :
	    NULL;
}

/* Safe while the threads run: names are set when an input is added. */
const char *
pm_scan_input_name(const pm_scan *s, size_t i)
{
	const struct lane *w = owner(s, i);

	return w != NULL ? pm_merge_input_name(w->m, i - w->lo) : NULL;
}

/* Tell every thread to stop, waking those waiting for a lane; one filling
 * a chunk stops at its end. */
static void
cancel_workers(pm_scan *s)
{
	atomic_store(&s->cancel, 1);
	if (!s->sync_made)
		return;
	pthread_mutex_lock(&s->mu);
	pthread_cond_broadcast(&s->work);
	pthread_mutex_unlock(&s->mu);
}

void
pm_scan_abandon(pm_scan *s)
{
	size_t i;

	cancel_workers(s);
	for (i = 0; s->t != NULL && i < s->nt; i++)
		if (s->t[i].started) {
			pthread_detach(s->t[i].tid);
			s->t[i].started = 0;
		}
}

void
pm_scan_free(pm_scan *s)
{
	size_t i, j;

	if (s == NULL)
		return;
	cancel_workers(s);
	for (i = 0; s->t != NULL && i < s->nt; i++)
		if (s->t[i].started)
			pthread_join(s->t[i].tid, NULL);
	for (i = 0; s->w != NULL && i < s->nw; i++) {
		struct lane *w = &s->w[i];

		for (j = 0; w->ring != NULL && j < NCHUNKS; j++) {
			chunk_clear(&w->ring[j]);
			free(w->ring[j].ev);
		}
		free(w->index);
		pm_merge_free(w->m);
	}
	if (s->sync_made) {
		pthread_mutex_destroy(&s->mu);
		pthread_cond_destroy(&s->work);
		pthread_cond_destroy(&s->ready);
	}
	for (i = 0; i < s->n; i++) {
		free(s->paths[i]);
		if (s->fds[i] >= 0)
			close(s->fds[i]);
	}
	free(s->paths);
	free(s->fds);
	free(s->w);
	free(s->rings);
	free(s->t);
	free(s->k);
	free(s->node);
	free(s->win);
	free(s);
}
