/*
 * summary.h - pcap-summary's pieces, private to it: tally.c (what is
 * counted, flows), loss.c (capture loss from TCP flows), scan.c (the work
 * per packet, on libmerge's pm_scan),
 * checks.c (--expect: the capture object, the manifest, the checks),
 * report.c (text and JSON), and tools/pcap-summary.c (options, main).
 */
#ifndef PCAPKIT_SUMMARY_H
#define PCAPKIT_SUMMARY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "capture.h"
#include "common.h"
#include "filter.h"
#include "filteropt.h"
#include "clock.h"
#include "coverage.h"
#include "loss.h"
#include "merge.h"

#define SIMPLE_SNAPLEN 160		/* simple captures keep 160 bytes */
#define DEFAULT_TOLERANCE 5000000000LL	/* 5 s around the time window */
#define DEFAULT_MAX_LOSS 0.001		/* capture_loss warns above 0.1 % */
#define DEFAULT_MAX_CLOCK 1000000LL	/* clock warns above 1 ms */
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
 * What is counted packet by packet: by each lane over its inputs, then
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
	int64_t tol;			/* that tolerance */
	pf_filter *filter;
	/* per-packet findings: counts in run.t, first offenders here */
	struct check ck_filter, ck_time, ck_snap;
	/* pcap-fetch's manifest.json beside the capture object, or NULL */
	json_t *manifest;
	char *manifest_path, *manifest_dir;
};

#define MAX_WORKERS 64		/* --threads, at most */
#define DEFAULT_WORKERS 8	/* at most, by default: one per CPU */

enum { OFF_FILTER, OFF_TIME, OFF_SNAP, N_OFF };
#define NOTE_CLOCK N_OFF	/* a struct clocknote (clock.h) */

/* What a lane posts (pm_scan_note) for the caller's thread to order. */
struct offnote {
	int check;			/* OFF_*; first, as clocknote's kind */
	struct offender o;
};

/* A lane's TCP flow table: not made yet, made, out of memory, or loss
 * not measured (then the per-packet test alone spares the rest). */
enum { LT_LATER = 0, LT_MADE = 1, LT_NOMEM = -1, LT_OFF = -2 };

/* One per pm_scan lane, touched by one thread at a time until the end. */
struct worker {
	_Alignas(64) struct run *r;
	struct tally t;
	struct flowtab flows;
	int flows_failed;
	pf_filter *filter, *efilter;
	size_t noff[N_OFF];
	struct loss_tab lt;		/* TCP flows, for capture loss */
	int lt_state;			/* LT_* */
};

struct run {
	struct pk_inputs in;
	pm_scan *scan;			/* libmerge's threaded ordered scan */
	struct worker *w;		/* one per pm_scan lane */
	size_t nw;
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
	struct pk_progress *prog;	/* or NULL */
	/* Completeness measured inside the capture (loss.c) */
	int measure;			/* on: --per-file or --json, unless
					 * --no-completeness */
	const char *loss_na;		/* why loss cannot be measured, or NULL */
	struct loss_count *loss;	/* per input */
	struct loss_count loss_total;
	double max_loss;		/* --max-loss: the capture_loss check */
	struct tl *tl;			/* per input: packets over time */
	size_t ntl;			/* inputs in tl[]: 0 or in.n */
	struct coverage *cov;		/* per input: silent stretches */
	int timeline;			/* --timeline: 0, TL_UNICODE, TL_ASCII */
	/* clock offsets between files (clock.c) */
	int clk_on;
	struct clocks clk;
	int64_t *clk_off;		/* per input, ns */
	int *clk_known;
	uint64_t *clk_shared;
	size_t clk_ref;
	int64_t max_clock;		/* --max-clock-offset */
	const struct pk_window *win;	/* --start/--stop, or NULL */
	/* -T: capinfos' table (report_table) */
	int table;
	unsigned tcols;			/* TC_* selected; 0: all */
	int theader;			/* the header row (capinfos -R/-r) */
	char tsep, tquote;		/* -B/-m/-b, -N/-q/-Q */
	int tseconds;			/* -S: times as epoch seconds */
};

/* capinfos' field flags, in its column order (report_table). */
enum {
	TC_TYPE = 1 << 0,	/* -t */
	TC_ENCAP = 1 << 1,	/* -E */
	TC_SNAP = 1 << 2,	/* -l */
	TC_PACKETS = 1 << 3,	/* -c */
	TC_FILESIZE = 1 << 4,	/* -s */
	TC_DATASIZE = 1 << 5,	/* -d */
	TC_DURATION = 1 << 6,	/* -u */
	TC_START = 1 << 7,	/* -a */
	TC_END = 1 << 8,	/* -e */
	TC_BYTERATE = 1 << 9,	/* -y */
	TC_BITRATE = 1 << 10,	/* -i */
	TC_AVGSIZE = 1 << 11,	/* -z */
	TC_PKTRATE = 1 << 12,	/* -x */
	TC_ORDER = 1 << 13	/* -o */
};

enum { TL_UNICODE = 1, TL_ASCII = 2 };

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

/* scan.c: the run, through pm_scan */
const struct pm_input_info *run_input_info(const struct run *r, size_t i);
int scan_start(struct run *r, size_t threads, const char *tmpdir,
    struct pk_progress *prog);
int scan_collect(struct run *r, struct pk_progress *prog);
int scan_fold(struct run *r);
void run_free(struct run *r);

/* scan.c, after the scan: silent stretches and clock offsets */
int coverage_run(struct run *r);

/* report.c: output */
int report_output(struct run *r, struct check *ck, size_t nck, int verdict);
/* -T: a header row and one row per file, as capinfos -T prints them. */
int report_table(const struct run *r);

#endif
