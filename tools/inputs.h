/*
 * inputs.h - the list of input files: arguments, directories walked, what
 * is passed over and why.
 */
#ifndef PCAPKIT_INPUTS_H
#define PCAPKIT_INPUTS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

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
/*
 * Each line of file list (tcpdump's -V; "-" is stdin) as an argument;
 * empty lines are passed over.  Returns 0, or prints why and returns 1 or
 * 2.
 */
int pk_inputs_add_list(struct pk_inputs *in, const char *list);
/* Before any pk_inputs_add: the output file, which is never read. */
int pk_inputs_output(struct pk_inputs *in, const char *path);
void pk_inputs_free(struct pk_inputs *in);

/*
 * Raise the soft limit on open files towards want + a reserve and return
 * how many inputs may be open at once.
 */
size_t pk_raise_nofile(size_t want);

#endif
