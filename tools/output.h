/*
 * output.h - an output file that appears whole or not at all, and the
 * signal handling that keeps it so.
 */
#ifndef PCAPKIT_OUTPUT_H
#define PCAPKIT_OUTPUT_H

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

#endif
