/*
 * summary.h - pcap-summary's pieces, private to it: tally.c (what is
 * counted, flows), scan.c (the threaded ordered scan of the inputs),
 * checks.c (--expect: the capture object, the manifest, the checks),
 * report.c (text and JSON), and tools/pcap-summary.c (options, main).
 */
#ifndef PCAPKIT_SUMMARY_H
#define PCAPKIT_SUMMARY_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "capture.h"
#include "common.h"
#include "filter.h"
#include "filteropt.h"
#include "merge.h"

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

enum { P_IPV4, P_IPV6, P_TCP, P_UDP, P_ICMP, P_ICMP6, P_GRE, P_OTHER,
    P_NOTIP, P_TUNNEL, P_N };

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

enum { CK_OK, CK_WARN, CK_FAIL };

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

extern const char *const proto_key[P_N];	/* JSON keys */
extern const char *const proto_label[P_N];	/* text labels */
extern const char *const ck_word[];		/* "ok", "warn", "FAIL" */

/* tally.c: counting, flows, how a packet is described */
void tally_add(struct tally *to, const struct tally *t);
int flow_add(struct flowtab *ft, const struct flowkey *k, uint64_t bytes,
    uint64_t packets);
void fmt_endpoint(char *buf, size_t n, int version, const uint8_t *a,
    int ports, uint16_t port);
void fmt_proto(char *buf, size_t n, uint8_t proto);
void describe_packet(char *buf, size_t n, const struct pf_dissection *d);
int flow_cmp(const void *a, const void *b);

/* checks.c: --expect */
void offender_fill(struct offender *o, const char *file, uint64_t index,
    const struct pm_packet *pkt, const struct pf_dissection *d,
    const char *why);
int expect_load(struct expect *e, const char *path, int64_t tolerance);
int manifest_load(struct expect *e, const char *dir);
size_t run_checks(struct run *r, struct check *ck);

/* scan.c: the run */
const struct pm_input_info *run_input_info(const struct run *r, size_t i);
void scan_stop(struct run *r);
int scan_fold(struct run *r);
int scan_start(struct run *r, size_t threads, const char *tmpdir);
int scan_collect(struct run *r, struct pk_progress *prog);
void run_free(struct run *r);

/* report.c: output */
int report_output(struct run *r, struct check *ck, size_t nck, int verdict);

#endif
