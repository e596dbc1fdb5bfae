/*
 * split.h - output split into files as editcap splits it (-c packets per
 * file, -i seconds per file), for pcap-merge and pcap-filter (split.c).
 */
#ifndef PCAPKIT_SPLIT_H
#define PCAPKIT_SPLIT_H

#include <stdint.h>

#include "capio.h"

/*
 * The files are named as editcap names them: -w out.pcap gives
 * out_00000_20231114221320.pcap, out_00001_..., the index counting from 0
 * and the time the file's first packet's, in local time; the suffix is
 * what follows the last dot of the name (so out.pcap.gz gives
 * out.pcap_00000_...gz, compressed by that name).  Each file is written
 * whole (pk_output) before the next one starts; when the run fails, the
 * files it already wrote are removed, so a run leaves all or nothing.
 */
struct pk_split {
	uint64_t packets;	/* packets per file; 0: not by count */
	int64_t interval;	/* ns per file; 0: not by time */
	/* state */
	char *prefix, *suffix;
	unsigned idx;		/* the next file's index */
	uint64_t n;		/* packets in the current file */
	int64_t next;		/* -i: when the next file starts */
	char *cur;		/* the current file's name, or NULL */
	char **done;		/* files written, removed on failure */
	size_t ndone;
};

/* 1 when s splits at all. */
#define PK_SPLITTING(s) ((s)->packets != 0 || (s)->interval != 0)

/*
 * Take option opt's value: a number of packets per file (by_time 0) or a
 * duration per file (by_time 1; fractions allowed).  0, or prints why and
 * returns 2.
 */
int pk_split_opt(struct pk_split *s, int by_time, const char *opt,
    const char *arg);
/* After the options: the names from outpath.  0, or prints and returns 1
 * or 2. */
int pk_split_init(struct pk_split *s, const char *outpath);
/*
 * A file named as one of those this run would write (prefix_NNNNN_
 * YYYYMMDDHHMMSS suffix) is never an input: 0, or says which input is and
 * returns 2.
 */
int pk_split_check_inputs(const struct pk_split *s,
    const struct pk_inputs *in);
/*
 * Write pkt of merge m into the file it belongs to, starting a new one
 * (finishing the last) when it is due.  0, or prints why and returns the
 * status (1, or 2).
 */
int pk_split_write(struct pk_split *s, struct pk_output *out, pm_writer **w,
    pm_merge *m, const struct pk_capout_opts *co, const struct pm_packet *pkt);
/* The last file finished.  0, or prints why and returns 1. */
int pk_split_finish(struct pk_split *s, struct pk_output *out, pm_writer **w);
/* A failed run: remove the files written (the current one is out's). */
void pk_split_abort(struct pk_split *s);
void pk_split_free(struct pk_split *s);

#endif
