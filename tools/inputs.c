/* inputs.c - the list of input files; see inputs.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "merge.h"
#include "msg.h"
#include "inputs.h"
#include "text.h"

/* ---- inputs ------------------------------------------------------------ */

/*
 * The files already taken, by identity (device and inode), so that a file
 * reached twice (named twice, by name and through a directory, through a
 * link) is read once; and the directories entered, so that a symbolic link
 * loop ends.  Open addressing, at most half full.
 */
struct pk_fileid {
	dev_t dev;
	ino_t ino;
	size_t input;		/* index into paths; SIZE_MAX for directories */
	int used;
};

static size_t
id_slot(const struct pk_inputs *in, dev_t dev, ino_t ino)
{
	uint64_t h = ((uint64_t)dev * 0x9e3779b97f4a7c15ull) ^
	    ((uint64_t)ino * 0xff51afd7ed558ccdull);
	size_t i = (size_t)(h ^ (h >> 29)) & (in->idcap - 1);

	while (in->ids[i].used &&
	    (in->ids[i].dev != dev || in->ids[i].ino != ino))
		i = (i + 1) & (in->idcap - 1);
	return i;
}

/* The entry for (dev, ino), or NULL. */
static struct pk_fileid *
id_find(const struct pk_inputs *in, dev_t dev, ino_t ino)
{
	size_t i;

	if (in->idcap == 0)
		return NULL;
	i = id_slot(in, dev, ino);
	return in->ids[i].used ? &in->ids[i] : NULL;
}

static int
id_add(struct pk_inputs *in, dev_t dev, ino_t ino, size_t input)
{
	size_t i;

	if (2 * (in->nids + 1) > in->idcap) {
		struct pk_fileid *old = in->ids;
		size_t oldcap = in->idcap, ncap = oldcap ? oldcap * 2 : 64;

		if ((in->ids = calloc(ncap, sizeof(*in->ids))) == NULL) {
			in->ids = old;
			return -1;
		}
		in->idcap = ncap;
		for (i = 0; i < oldcap; i++)
			if (old[i].used)
				in->ids[id_slot(in, old[i].dev,
				    old[i].ino)] = old[i];
		free(old);
	}
	i = id_slot(in, dev, ino);
	in->ids[i].dev = dev;
	in->ids[i].ino = ino;
	in->ids[i].input = input;
	in->ids[i].used = 1;
	in->nids++;
	return 0;
}

static int
push_input(struct pk_inputs *in, const char *path, const struct stat *st)
{
	char **n;

	if (in->n == in->cap) {
		in->cap = in->cap ? in->cap * 2 : 16;
		if ((n = realloc(in->paths, in->cap * sizeof(*n))) == NULL)
			return -1;
		in->paths = n;
	}
	if ((in->paths[in->n] = strdup(path)) == NULL)
		return -1;
	if (st != NULL && id_add(in, st->st_dev, st->st_ino, in->n) < 0) {
		free(in->paths[in->n]);
		return -1;
	}
	in->n++;
	if (st != NULL && S_ISREG(st->st_mode))
		in->total_bytes += (uint64_t)st->st_size;
	return 0;
}

/* Name a file passed over, and keep it for the tools' JSON. */
static int
skip_input(struct pk_inputs *in, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
skip_input(struct pk_inputs *in, const char *path, const char *fmt, ...)
{
	struct pk_skipped *n;
	va_list ap;
	char why[PM_ERRBUF_SIZE + 64];

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	pk_warnf(path, "%s", why);
	if (in->nskipped % 16 == 0) {
		if ((n = realloc(in->skipped, (in->nskipped + 16) *
		    sizeof(*n))) == NULL)
			return -1;
		in->skipped = n;
	}
	n = &in->skipped[in->nskipped];
	if ((n->path = strdup(path)) == NULL ||
	    (n->why = strdup(why)) == NULL) {
		free(n->path);
		return -1;
	}
	in->nskipped++;
	return 0;
}

int
pk_inputs_output(struct pk_inputs *in, const char *path)
{
	struct stat st;

	if (path == NULL || strcmp(path, "-") == 0 || stat(path, &st) < 0 ||
	    !S_ISREG(st.st_mode))
		return 0;
	in->out_dev = st.st_dev;
	in->out_ino = st.st_ino;
	in->out_path = path;
	in->have_out = 1;
	return 0;
}

/*
 * A file reached a second time, or the output: passed over with a
 * warning.  Returns 1 when path must not be added, 0 when it may, -1 when
 * out of memory.
 */
static int
seen_before(struct pk_inputs *in, const char *path, const struct stat *st)
{
	const struct pk_fileid *id;

	if (in->have_out && st->st_dev == in->out_dev &&
	    st->st_ino == in->out_ino)
		return skip_input(in, path, "is the output file (%s); not "
		    "read", in->out_path) < 0 ? -1 : 1;
	if ((id = id_find(in, st->st_dev, st->st_ino)) != NULL &&
	    id->input != SIZE_MAX)
		return skip_input(in, path, "the same file as %s; read once",
		    in->paths[id->input]) < 0 ? -1 : 1;
	return 0;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct walk {
	char **v;
	size_t n, cap;
};

static int
walk_push(struct walk *w, char *p)
{
	char **nn;

	if (w->n == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 64;
		if ((nn = realloc(w->v, w->cap * sizeof(*nn))) == NULL) {
			free(p);
			return -1;
		}
		w->v = nn;
	}
	w->v[w->n++] = p;
	return 0;
}

/*
 * Collect the paths of the files below dir into w, entering each directory
 * once.  Hidden entries are not looked at.  Returns 0, 1 (an I/O error,
 * said) or -1 (out of memory).
 */
static int
walk_dir(struct pk_inputs *in, const char *dir, struct walk *w, int depth)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	char *p;
	int rc = 0;

	if (depth > 64) {
		pk_warnf(dir, "directories nested more than 64 deep; not "
		    "entered");
		return 1;
	}
	if ((d = opendir(dir)) == NULL) {
		pk_warnf(dir, "%s", strerror(errno));
		return 1;
	}
	while (rc == 0 && (errno = 0, de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (asprintf(&p, "%s%s%s", dir, pk_ends_with(dir, "/") ? "" :
		    "/", de->d_name) < 0) {
			rc = -1;
			break;
		}
		if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
			if (id_find(in, st.st_dev, st.st_ino) != NULL) {
				free(p);	/* entered already (a link) */
				continue;
			}
			if (id_add(in, st.st_dev, st.st_ino, SIZE_MAX) < 0)
				rc = -1;
			else
				rc = walk_dir(in, p, w, depth + 1);
			free(p);
			continue;
		}
		rc = walk_push(w, p);
	}
	if (errno != 0 && rc == 0) {
		pk_warnf(dir, "%s", strerror(errno));
		rc = 1;
	}
	closedir(d);
	return rc;
}

/*
 * NAME.gz or NAME.zst of a walk whose NAME (or, for NAME.zst, NAME.gz) was
 * taken already: the twin taken, or NULL.  A walk's inputs are taken in
 * sorted order, and NAME sorts before NAME.gz before NAME.zst, so the
 * twin is among v[0, n), which is sorted.
 */
static const char *
taken_twin(char *const *v, size_t n, const char *p)
{
	static const char *const sfx[] = { ".gz", ".zst" };
	char *key, **f = NULL;
	size_t i, l;

	for (i = 0; i < 2 && f == NULL; i++) {
		if (!pk_ends_with(p, sfx[i]))
			continue;
		l = strlen(p) - strlen(sfx[i]);
		if (asprintf(&key, "%.*s", (int)l, p) < 0)
			return NULL;
		f = bsearch(&key, v, n, sizeof(*v), cmp_names);
		free(key);
		if (f == NULL && i == 1) {
			if (asprintf(&key, "%.*s.gz", (int)l, p) < 0)
				return NULL;
			f = bsearch(&key, v, n, sizeof(*v), cmp_names);
			free(key);
		}
	}
	return f != NULL ? *f : NULL;
}

/*
 * Take one file of a directory walk (the inputs this walk took so far
 * start at first): the captures go in, the rest is named and passed over.
 * Returns 0, or -1 when out of memory.
 */
static int
take_walked(struct pk_inputs *in, size_t first, const char *p)
{
	const char *b = strrchr(p, '/') ? strrchr(p, '/') + 1 : p;
	char errbuf[PM_ERRBUF_SIZE];
	const char *twin;
	struct stat st;
	pm_reader *r;
	int err, rc;

	/* pcap-fetch's metadata, said nothing of. */
	if (strcmp(b, "capture.json") == 0 || strcmp(b, "manifest.json") == 0)
		return 0;
	if (pk_ends_with(b, ".part"))
		return skip_input(in, p, "a partial download (.part); "
		    "skipped");
	if (stat(p, &st) < 0)
		return skip_input(in, p, "%s; skipped", strerror(errno));
	if (!S_ISREG(st.st_mode))
		return skip_input(in, p, "not a regular file; skipped");
	if ((rc = seen_before(in, p, &st)) != 0)
		return rc < 0 ? -1 : 0;
	if ((twin = taken_twin(in->paths + first, in->n - first, p)) != NULL)
		return skip_input(in, p, "the same name as %s, compressed; "
		    "that one is read, this one skipped", twin);
	/*
	 * By its bytes, as libmerge reads it (through gzip or zstd).  Only
	 * "not a capture" is passed over: a cut header, a corrupt stream or
	 * an unreadable file is a capture in trouble, which the run reports.
	 */
	if ((r = pm_reader_open(p, 4096, &err, errbuf)) == NULL) {
		if (err == PM_ERR_FORMAT)
			return skip_input(in, p, "%s; skipped", errbuf);
	} else
		pm_reader_close(r);
	return push_input(in, p, &st);
}

int
pk_inputs_add(struct pk_inputs *in, const char *arg)
{
	struct walk w = { 0 };
	struct stat st;
	size_t i, before = in->n;
	int rc;

	if (strcmp(arg, "-") == 0) {
		if (in->stdin_used) {
			pk_warn("stdin (-) can be read only once");
			return 2;
		}
		in->stdin_used = 1;
		return push_input(in, arg, NULL) < 0 ? 1 : 0;
	}
	if (stat(arg, &st) < 0)		/* the error comes at open */
		return push_input(in, arg, NULL) < 0 ? 1 : 0;
	if (!S_ISDIR(st.st_mode)) {
		/* Named by the user: not a capture stays an error (at open). */
		if ((rc = seen_before(in, arg, &st)) != 0)
			return rc < 0 ? 1 : 0;
		return push_input(in, arg, &st) < 0 ? 1 : 0;
	}
	if (id_find(in, st.st_dev, st.st_ino) != NULL)
		return skip_input(in, arg, "a directory already read; read "
		    "once") < 0 ? 1 : 0;
	if (id_add(in, st.st_dev, st.st_ino, SIZE_MAX) < 0) {
		pk_warn("out of memory");
		return 1;
	}
	rc = walk_dir(in, arg, &w, 0);
	if (rc == 0) {
		qsort(w.v, w.n, sizeof(*w.v), cmp_names);
		for (i = 0; i < w.n && rc == 0; i++)
			rc = take_walked(in, before, w.v[i]);
	}
	for (i = 0; i < w.n; i++)
		free(w.v[i]);
	free(w.v);
	if (rc < 0) {
		pk_warn("out of memory");
		return 1;
	}
	if (rc == 0 && in->n == before)
		pk_warnf(arg, "no capture files in this directory");
	return rc;
}

void
pk_inputs_free(struct pk_inputs *in)
{
	size_t i;

	for (i = 0; i < in->n; i++)
		free(in->paths[i]);
	free(in->paths);
	for (i = 0; i < in->nskipped; i++) {
		free(in->skipped[i].path);
		free(in->skipped[i].why);
	}
	free(in->skipped);
	free(in->ids);
	memset(in, 0, sizeof(*in));
}

size_t
pk_raise_nofile(size_t want)
{
	const size_t reserve = 16;	/* stdio, output, temp files */
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 64;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want + reserve) {
		rlim_t target = want + reserve;
		if (rl.rlim_max != RLIM_INFINITY && target > rl.rlim_max)
			target = rl.rlim_max;
		rl.rlim_cur = target;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > (rlim_t)1 << 30)
		return (size_t)1 << 30;
	return rl.rlim_cur > reserve + 4 ? (size_t)rl.rlim_cur - reserve : 4;
}

int
pk_inputs_add_list(struct pk_inputs *in, const char *list)
{
	char *text, *line, *next;
	size_t len;
	int rc = 0;

	if ((text = pk_slurp(list, &len)) == NULL) {
		pk_warnf(list, "%s", strerror(errno));
		return PK_ERROR;
	}
	if (strlen(text) != len) {
		pk_warnf(list, "not a list of file names (a NUL byte)");
		free(text);
		return PK_USAGE;
	}
	for (line = text; rc == 0 && line != NULL && *line != '\0';
	    line = next) {
		size_t n;

		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		n = strlen(line);
		if (n > 0 && line[n - 1] == '\r')
			line[--n] = '\0';
		if (n > 0)
			rc = pk_inputs_add(in, line);
	}
	free(text);
	return rc;
}
