/* output.c - outputs that appear whole or not at all; see output.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "msg.h"
#include "output.h"

/* ---- atomic output and signals ------------------------------------------ */

/*
 * The one temporary file a tool may have, for the signal handler.  Written
 * before the handler can need it; the handler only reads it.
 */
static char sig_tmp[PATH_MAX];
static volatile sig_atomic_t sig_tmp_armed;

static void
on_signal(int sig)
{
	if (sig_tmp_armed)
		unlink(sig_tmp);
	signal(sig, SIG_DFL);
	raise(sig);
}

void
pk_signals_init(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&sa.sa_mask, sigs[i]);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		struct sigaction old;
		/* Keep a signal ignored by our parent (nohup) ignored. */
		if (sigaction(sigs[i], NULL, &old) == 0 &&
		    old.sa_handler == SIG_IGN && sigs[i] != SIGPIPE)
			continue;
		sigaction(sigs[i], &sa, NULL);
	}
}

/*
 * A fresh name beside path for the finished file, ".NAME.XXXXXX" (hidden,
 * so that a directory walk passes it over).  0, or -1 with errno.
 */
static int
tmp_name(struct pk_output *o)
{
	const char *slash = strrchr(o->path, '/');
	size_t dl = slash ? (size_t)(slash - o->path) + 1 : 0;

	if (strlen(o->path) + 16 >= sizeof(sig_tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	free(o->tmp);
	if ((o->tmp = malloc(strlen(o->path) + 16)) == NULL)
		return -1;
	memcpy(o->tmp, o->path, dl);
	sprintf(o->tmp + dl, ".%s.XXXXXX", o->path + dl);
	return 0;
}

/* Replace the Xs of o->tmp with random letters. */
static void
tmp_randomize(struct pk_output *o)
{
	static const char set[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	unsigned char r[6];
	char *x = o->tmp + strlen(o->tmp) - 6;
	size_t i;

	if (getentropy(r, sizeof(r)) < 0) {
		uint64_t t = (uint64_t)getpid() * 2654435761u ^
		    (uint64_t)clock();
		memcpy(r, &t, sizeof(r));
	}
	for (i = 0; i < 6; i++)
		x[i] = set[r[i] % (sizeof(set) - 1)];
}

char *
pk_dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash != NULL ? strndup(path, (size_t)(slash - path) + 1) :
	    strdup(".");
}

int
pk_output_open(struct pk_output *o, const char *path)
{
	struct stat st;
	char *dir;
	mode_t um, mode;
	int exists;

	memset(o, 0, sizeof(*o));
	o->path = path;
	o->fd = -1;
	if (strcmp(path, "-") == 0) {
		if (isatty(STDOUT_FILENO)) {
			pk_warn("refusing to write a capture to a terminal; "
			    "use -w FILE or a pipe");
			return 2;
		}
		o->is_stdout = 1;
		o->fd = STDOUT_FILENO;
		return 0;
	}
	exists = stat(path, &st) == 0;
	/*
	 * A device or a FIFO (-w /dev/null, a named pipe) is written in
	 * place: there is nothing to rename, and renaming over it would
	 * replace the device with a file.
	 */
	if (exists && !S_ISREG(st.st_mode)) {
		if (S_ISDIR(st.st_mode)) {
			pk_warnf(path, "is a directory");
			return 1;
		}
		if ((o->fd = open(path, O_WRONLY | O_CLOEXEC)) < 0) {
			pk_warnf(path, "%s", strerror(errno));
			return 1;
		}
		if (isatty(o->fd)) {
			pk_warn("refusing to write a capture to a terminal; "
			    "use -w FILE or a pipe");
			close(o->fd);
			o->fd = -1;
			return 2;
		}
		o->is_stdout = 1;	/* no temporary file, nothing to rename */
		return 0;
	}
	/* A file replaced keeps its mode (captures are often private). */
	um = umask(0);
	umask(um);
	mode = exists ? st.st_mode & 07777 : 0666 & ~um;
	if (tmp_name(o) < 0) {
		pk_warnf(path, "%s", strerror(errno));
		return 1;
	}
	/*
	 * An unnamed file in the output's directory (O_TMPFILE): nothing to
	 * clean up after any exit, SIGKILL included, until the commit names
	 * it.  File systems without O_TMPFILE get a named temporary file,
	 * which SIGKILL leaves behind (pcap-merge(1)).
	 */
	if ((dir = pk_dir_of(path)) == NULL) {
		pk_warn("out of memory");
		return 1;
	}
	o->fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	free(dir);
	if (o->fd >= 0) {
		o->anon = 1;
	} else if (errno == EISDIR || errno == EOPNOTSUPP ||
	    errno == EINVAL) {
		sig_tmp_armed = 0;
		o->fd = mkstemp(o->tmp);
		if (o->fd >= 0) {
			strcpy(sig_tmp, o->tmp);
			sig_tmp_armed = 1;
		}
	}
	if (o->fd < 0) {
		pk_warnf(path, "cannot create a file here: %s",
		    strerror(errno));
		free(o->tmp);
		o->tmp = NULL;
		return 1;
	}
	if (fchmod(o->fd, mode) < 0) {
		pk_warnf(path, "%s", strerror(errno));
		pk_output_abort(o);
		return 1;
	}
	return 0;
}

/* Give the unnamed file o->fd the name o->tmp.  0, or -1 with errno. */
static int
link_anon(struct pk_output *o)
{
	char proc[64];
	int tries;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", o->fd);
	for (tries = 0; tries < 100; tries++) {
		tmp_randomize(o);
		strcpy(sig_tmp, o->tmp);
		sig_tmp_armed = 1;
		if (linkat(AT_FDCWD, proc, AT_FDCWD, o->tmp,
		    AT_SYMLINK_FOLLOW) == 0)
			return 0;
		sig_tmp_armed = 0;
		if (errno == ENOENT &&	/* no /proc: needs privilege */
		    linkat(o->fd, "", AT_FDCWD, o->tmp, AT_EMPTY_PATH) == 0) {
			sig_tmp_armed = 1;
			return 0;
		}
		if (errno != EEXIST)
			return -1;
	}
	return -1;
}

int
pk_output_commit(struct pk_output *o)
{
	if (o->is_stdout) {
		/* Close now so that an error shows (NFS, a device). */
		if (close(o->fd) < 0 && errno != EINTR) {
			pk_warnf(o->fd == STDOUT_FILENO ? "stdout" : o->path,
			    "%s", strerror(errno));
			return -1;
		}
		return 0;
	}
	/* Only from here to the rename can a signal or SIGKILL leave the
	 * hidden name behind (a signal we catch removes it). */
	if (o->anon) {
		if (link_anon(o) < 0) {
			pk_warnf(o->path, "cannot name the finished file: %s",
			    strerror(errno));
			pk_output_abort(o);
			return -1;
		}
		o->anon = 0;
	}
	if (close(o->fd) < 0) {
		o->fd = -1;
		pk_warnf(o->path, "%s", strerror(errno));
		pk_output_abort(o);
		return -1;
	}
	o->fd = -1;
	if (rename(o->tmp, o->path) < 0) {
		pk_warnf(o->path, "cannot rename the finished file into "
		    "place: %s", strerror(errno));
		pk_output_abort(o);
		return -1;
	}
	sig_tmp_armed = 0;
	free(o->tmp);
	o->tmp = NULL;
	return 0;
}

void
pk_output_abort(struct pk_output *o)
{
	if (o->is_stdout || o->tmp == NULL)
		return;
	if (o->fd >= 0)
		close(o->fd);
	o->fd = -1;
	if (!o->anon)
		unlink(o->tmp);
	o->anon = 0;
	sig_tmp_armed = 0;
	free(o->tmp);
	o->tmp = NULL;
}
