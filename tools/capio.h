/*
 * capio.h - captures in and out for the tools, through libmerge: output
 * names and formats, the inputs merged with their damage reported, the
 * writer.  The only tool header that includes merge.h.
 */
#ifndef PCAPKIT_CAPIO_H
#define PCAPKIT_CAPIO_H

#include <stdint.h>

#include "merge.h"
#include "inputs.h"
#include "output.h"
#include "progress.h"

/*
 * -F pcap|nsecpcap|pcapng (mergecap's names; nsecpcap sets *nano); prints
 * why and returns -1 on anything else.
 */
int pk_parse_format(const char *s, enum pm_format *f, int *nano);

/*
 * The output's format and compression from its name (see common.c), -F
 * (format_given) and -z (*comp already PM_COMP_ZSTD).  Returns 0, or says
 * why the name cannot be honoured and returns 2.
 */
int pk_output_by_name(const char *path, int format_given,
    enum pm_format *format, enum pm_compression *comp);
/*
 * Captures in: the inputs merged (or concatenated) by libmerge, with every
 * damage and unreadable input reported as "prog: FILE: reason".
 */
struct pk_capin {
	pm_merge *m;
	struct pk_window *win;	/* --start/--stop, or NULL */
	int ignore_errors;	/* unreadable inputs are skipped, not fatal */
	int damaged;		/* an input had damage or was skipped */
	struct pk_progress *prog;
};
/*
 * --start and --stop (pcap-merge's -A and -B, as editcap's): a window of
 * packet times, start inclusive, stop exclusive, applied as the inputs are
 * read (pm_merge_opts.window).
 */
struct pk_window {
	int set;
	int64_t start, stop;
	int have_start, have_stop;
};
/*
 * Take opt's TIME (RFC 3339, or epoch seconds with a fraction) into w.
 * 0, or prints why and returns 2.
 */
int pk_window_opt(struct pk_window *w, int stop, const char *opt,
    const char *arg);
/* After the options: start before stop.  0, or prints why and returns 2. */
int pk_window_check(const struct pk_window *w);
/* The window in libmerge's options. */
void pk_window_apply(const struct pk_window *w, struct pm_merge_opts *mo);

/* Returns 0, or prints why and returns 1. */
int pk_capin_open(struct pk_capin *c, const struct pk_inputs *in,
    int concatenate, const char *tmpdir);
/* 1: a packet; 0: the end; -1: a fatal error, already reported. */
int pk_capin_next(struct pk_capin *c, struct pm_packet *pkt);
/*
 * Say which inputs were out of time order, and by how much, which had
 * sub-second fields of a second or more, and which had times that 64-bit
 * nanoseconds cannot hold.
 */
void pk_capin_report_order(const struct pk_capin *c);
/* -V: each input's format, linktype and counts, and what was written. */
void pk_capin_report_inputs(const struct pk_capin *c, const char *out,
    uint64_t written);
void pk_capin_close(struct pk_capin *c);

/*
 * Captures out: the output file and a writer whose header follows the
 * inputs (nanoseconds when any input has them, the largest snaplen, their
 * linktype).  Mixed linktypes in a pcap are refused, naming the inputs.
 */
struct pk_capout_opts {
	enum pm_format format;
	enum pm_compression comp;
	int nano;
	uint32_t snaplen;	/* 0: from the inputs */
	const char *appname;
};
/*
 * The writer is attached to m, so pm_writer_write_ref() may borrow the
 * packets m returns.  Returns 0, or prints why and returns the exit status
 * to use (1 or 2).
 */
int pk_capout_open(struct pk_output *out, pm_writer **w, const char *path,
    pm_merge *m, const struct pk_capout_opts *o);
/*
 * Finish w, the capture written to name: flushed, and a warning naming it
 * for the packets whose time its format could not hold.  0, or prints why
 * and returns PK_ERROR.
 */
int pk_capout_finish(pm_writer *w, const char *name);
/* Name the inputs whose linktypes differ. */
void pk_report_mixed(pm_merge *m);

/* libfilter's name for a linktype, or "unknown". */
const char *pk_linktype_name(uint32_t lt);

#endif
