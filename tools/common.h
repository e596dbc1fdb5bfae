/*
 * common.h - what every pcapkit tool shares: messages, number parsing,
 * atomic output, signal clean-up, input lists, progress.  Tool code only:
 * the libraries never use it.
 */
#ifndef PCAPKIT_COMMON_H
#define PCAPKIT_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "merge.h"

#define PK_VERSION "0.1.0"

extern const char *pk_progname;

void pk_setprogname(const char *argv0);
/* "prog: message" on stderr. */
void pk_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "prog: file: message" on stderr. */
void pk_warnf(const char *file, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Numbers: the whole string must parse, within [min, max].  Return 0, or -1
 * (nothing printed).  Sizes take k/M/G suffixes (powers of 1024); durations
 * take ns, us, ms, s, m, h (a bare number is seconds).
 */
int pk_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *v);
int pk_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *v);
int pk_parse_duration(const char *s, int64_t *ns);
/*
 * -F pcap|nsecpcap|pcapng (mergecap's names; nsecpcap sets *nano); prints
 * why and returns -1 on anything else.
 */
int pk_parse_format(const char *s, enum pm_format *f, int *nano);

/*
 * An output file that appears only when complete.  "-" is stdout, refused
 * when it is a terminal (binary data); an existing device or FIFO is
 * written in place.  Otherwise the data goes to an unnamed O_TMPFILE file
 * in the same directory (a hidden named one where the file system has no
 * O_TMPFILE), which pk_output_commit links to a hidden unique name and
 * renames over path.  A file replaced keeps its mode; a new one gets
 * 0666 less the umask.  On pk_output_abort, or on SIGINT, SIGTERM, SIGHUP
 * or SIGPIPE (see pk_signals_init), nothing is left.
 */
struct pk_output {
	const char *path;
	char *tmp;		/* the hidden name, once it has one */
	int fd;
	int is_stdout;		/* stdout, or a device: written in place */
	int anon;		/* fd has no name yet (O_TMPFILE) */
};
/* The directory of path: "a/b/" for "a/b/c", "." for "c"; NULL: no memory. */
char *pk_dir_of(const char *path);
/* Returns 0, or prints why and returns the exit status to use (1 or 2). */
int pk_output_open(struct pk_output *o, const char *path);
int pk_output_commit(struct pk_output *o);	/* 0, or -1 with a message */
void pk_output_abort(struct pk_output *o);
void pk_signals_init(void);

/*
 * Input lists.  "-" is stdin.  A directory stands for the capture files
 * below it, walked recursively and taken in byte order of their paths.
 * Symbolic links are followed, to files and to directories; a directory
 * is entered once however it is reached, so a loop of links ends.
 * Inside a directory: hidden entries, capture.json and manifest.json
 * (pcap-fetch's metadata) are passed over silently; a *.part file (a
 * partial download), anything that is not a regular file, a file whose
 * bytes are not a capture, and NAME.gz or NAME.zst beside NAME (NAME is
 * read) are passed over with one warning each.  Anywhere: the output
 * (pk_inputs_output) is never an input, and a file reached twice (named
 * twice, by name and through a directory, a hard or symbolic link) is
 * read once, with a warning.  Every file passed over with a warning is
 * also kept in skipped[], for the tools' JSON.
 */
struct pk_skipped {
	char *path;
	char *why;
};
struct pk_fileid;
struct pk_inputs {
	char **paths;
	size_t n, cap;
	uint64_t total_bytes;	/* of the regular files, for progress */
	int stdin_used;
	struct pk_skipped *skipped;
	size_t nskipped;
	/* private */
	struct pk_fileid *ids;
	size_t nids, idcap;
	dev_t out_dev;
	ino_t out_ino;
	const char *out_path;
	int have_out;
};
/* Returns 0, or prints why and returns 1 (I/O) or 2 (usage). */
int pk_inputs_add(struct pk_inputs *in, const char *arg);
/* Before any pk_inputs_add: the output file, which is never read. */
int pk_inputs_output(struct pk_inputs *in, const char *path);
void pk_inputs_free(struct pk_inputs *in);

/*
 * Raise the soft limit on open files towards want + a reserve and return
 * how many inputs may be open at once.
 */
size_t pk_raise_nofile(size_t want);

/* Progress on stderr, at most four times a second; done() erases it, and
 * may be called any number of times (before each warning, say). */
struct pk_progress {
	int on;
	uint64_t total;
	double start, last;
	unsigned tick;
	int shown;		/* a progress line is on the screen */
};
void pk_progress_init(struct pk_progress *p, int on, uint64_t total);
void pk_progress_update(struct pk_progress *p, uint64_t bytes,
    uint64_t packets);
void pk_progress_done(struct pk_progress *p);

int pk_ends_with(const char *s, const char *suffix);
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
	int ignore_errors;	/* unreadable inputs are skipped, not fatal */
	int damaged;		/* an input had damage or was skipped */
	struct pk_progress *prog;
};
/* Returns 0, or prints why and returns 1. */
int pk_capin_open(struct pk_capin *c, const struct pk_inputs *in,
    int concatenate, const char *tmpdir);
/* 1: a packet; 0: the end; -1: a fatal error, already reported. */
int pk_capin_next(struct pk_capin *c, struct pm_packet *pkt);
/*
 * After pm_merge_next() failed with rc: the input concerned (*f, NULL when
 * the merge itself broke), and 1 when the run must stop, 0 when it goes on
 * past the damage or the skipped input.
 */
int pk_merge_failure(const pm_merge *m, int rc, int ignore_errors,
    const struct pm_input_info **f);
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
/* Name the inputs whose linktypes differ. */
void pk_report_mixed(pm_merge *m);

/*
 * All of a small file (at most 64 MiB; "-" is stdin), NUL-terminated.
 * NULL with errno set on failure.
 */
char *pk_slurp(const char *path, size_t *len);

const char *pk_linktype_name(uint32_t lt);
/* "2026-11-23T10:00:00.123456789Z" from nanoseconds since the epoch. */
void pk_fmt_time(char *buf, size_t n, int64_t ns);
/* An RFC 3339 time ("2022-06-01T20:50:00.123456Z", "...+02:00"); 0 or -1. */
int pk_parse_time(const char *s, int64_t *ns);
/* "1.234567890" seconds from nanoseconds. */
void pk_fmt_seconds(char *buf, size_t n, int64_t ns);

#endif
