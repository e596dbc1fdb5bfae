/* common.c - see common.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

const char *pk_progname = "pcapkit";

void
pk_setprogname(const char *argv0)
{
	const char *s = strrchr(argv0, '/');

	pk_progname = s ? s + 1 : argv0;
}

void
pk_warn(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", pk_progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
pk_warnf(const char *file, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: %s: ", pk_progname, file);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- numbers ----------------------------------------------------------- */

static int
parse_num(const char *s, uint64_t *v, const char **end)
{
	char *e;
	unsigned long long x;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	x = strtoull(s, &e, 10);
	if (errno != 0)
		return -1;
	*v = x;
	*end = e;
	return 0;
}

int
pk_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *v)
{
	const char *e;
	uint64_t x;

	if (parse_num(s, &x, &e) < 0 || *e != '\0' || x < min || x > max)
		return -1;
	*v = x;
	return 0;
}

int
pk_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *v)
{
	const char *e;
	uint64_t x, mul = 1;

	if (parse_num(s, &x, &e) < 0)
		return -1;
	switch (*e) {
	case '\0': break;
	case 'k': case 'K': mul = 1ull << 10; e++; break;
	case 'M': mul = 1ull << 20; e++; break;
	case 'G': mul = 1ull << 30; e++; break;
	default: return -1;
	}
	if (*e != '\0' || (x != 0 && mul > UINT64_MAX / x))
		return -1;
	x *= mul;
	if (x < min || x > max)
		return -1;
	*v = x;
	return 0;
}

int
pk_parse_duration(const char *s, int64_t *ns)
{
	static const struct { const char *u; int64_t mul; } units[] = {
		{ "ns", 1 }, { "us", 1000 }, { "ms", 1000000 },
		{ "s", 1000000000 }, { "", 1000000000 },
		{ "m", 60000000000LL }, { "h", 3600000000000LL },
	};
	const char *e;
	uint64_t x;
	size_t i;

	if (parse_num(s, &x, &e) < 0)
		return -1;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(e, units[i].u) == 0) {
			if (x > (uint64_t)(INT64_MAX / units[i].mul))
				return -1;
			*ns = (int64_t)x * units[i].mul;
			return 0;
		}
	}
	return -1;
}

int
pk_parse_format(const char *s, enum pm_format *f, int *nano)
{
	if (strcmp(s, "pcap") == 0 || strcmp(s, "libpcap") == 0)
		*f = PM_FMT_PCAP;
	else if (strcmp(s, "nsecpcap") == 0) {
		*f = PM_FMT_PCAP;
		*nano = 1;
	} else if (strcmp(s, "pcapng") == 0)
		*f = PM_FMT_PCAPNG;
	else {
		pk_warn("-F: unknown format '%s' (pcap, nsecpcap or pcapng)",
		    s);
		return -1;
	}
	return 0;
}

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

int
pk_ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
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

/* s[0, len) ends with suffix */
static int
ends_with_n(const char *s, size_t len, const char *suffix)
{
	size_t b = strlen(suffix);

	return len >= b && memcmp(s + len - b, suffix, b) == 0;
}

/*
 * What an output file's name asks for.  Its last suffix may name a
 * compression: .gz and .zst are written, others (.bz2, .xz, ...) cannot be.
 * What is left may name a format: .pcapng is pcapng, .pcap, .cap and .dmp
 * are classic pcap.  A name that says nothing leaves -F and -z as given.
 * A file named x.pcap.gz that held an uncompressed pcap, or .pcapng that
 * held classic pcap, would be read by anything that goes by magic but not
 * by what goes by the name: such disagreements are refused.
 */
int
pk_output_by_name(const char *path, int format_given, enum pm_format *format,
    enum pm_compression *comp)
{
	static const struct {
		const char *sfx;
		enum pm_compression c;
		const char *cannot;	/* what we cannot write */
	} zs[] = {
		{ ".gz", PM_COMP_GZIP, NULL }, { ".zst", PM_COMP_ZSTD, NULL },
		{ ".bz2", 0, "bzip2" }, { ".xz", 0, "xz" }, { ".lz4", 0, "lz4" },
		{ ".lzma", 0, "lzma" }, { ".lz", 0, "lzip" }, { ".Z", 0,
		"compress" }, { ".zip", 0, "zip" }, { ".7z", 0, "7-Zip" },
		{ ".br", 0, "brotli" }, { ".tgz", 0, "tar" }, { ".tar", 0,
		"tar" },
	};
	static const char *const cname[] = { "uncompressed", "gzip", "zstd" };
	size_t len, i;
	int named_comp = 0;
	enum pm_format nf = 0;

	if (path == NULL || strcmp(path, "-") == 0)
		return 0;
	len = strlen(path);
	for (i = 0; i < sizeof(zs) / sizeof(zs[0]); i++) {
		if (!ends_with_n(path, len, zs[i].sfx))
			continue;
		if (zs[i].cannot != NULL) {
			pk_warnf(path, "cannot write %s-compressed output; "
			    "name it .gz or .zst, or without %s", zs[i].cannot,
			    zs[i].sfx);
			return 2;
		}
		if (*comp != PM_COMP_NONE && *comp != zs[i].c) {
			pk_warnf(path, "-z writes zstd, but the name asks for "
			    "%s; drop -z or name it .zst", cname[zs[i].c]);
			return 2;
		}
		*comp = zs[i].c;
		len -= strlen(zs[i].sfx);
		named_comp = 1;
		break;
	}
	if (ends_with_n(path, len, ".pcapng"))
		nf = PM_FMT_PCAPNG;
	else if (ends_with_n(path, len, ".pcap") ||
	    ends_with_n(path, len, ".cap") || ends_with_n(path, len, ".dmp"))
		nf = PM_FMT_PCAP;
	if (nf != 0 && format_given && nf != *format) {
		pk_warnf(path, "-F %s disagrees with the name, which says %s",
		    *format == PM_FMT_PCAPNG ? "pcapng" : "pcap",
		    nf == PM_FMT_PCAPNG ? "pcapng" : "pcap");
		return 2;
	}
	if (nf != 0)
		*format = nf;
	if (nf != 0 && !named_comp && *comp != PM_COMP_NONE) {
		pk_warnf(path, "-z writes zstd, but the name says an "
		    "uncompressed capture; name it %s.zst", path);
		return 2;
	}
	return 0;
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

/* ---- progress ---------------------------------------------------------- */

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
pk_progress_init(struct pk_progress *p, int on, uint64_t total)
{
	memset(p, 0, sizeof(*p));
	p->on = on;
	p->total = total;
	p->start = p->last = now();
}

static void
human(char *buf, size_t n, double v)
{
	const char *u[] = { "", "k", "M", "G", "T" };
	int i = 0;

	while (v >= 1000 && i < 4) {
		v /= 1000;
		i++;
	}
	snprintf(buf, n, i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

void
pk_progress_update(struct pk_progress *p, uint64_t bytes, uint64_t packets)
{
	char b[32], k[32], r[32];
	double t;

	if (!p->on || (++p->tick & 1023) != 0)
		return;
	t = now();
	if (t - p->last < 0.25)
		return;
	p->last = t;
	human(b, sizeof(b), (double)bytes);
	human(k, sizeof(k), (double)packets);
	human(r, sizeof(r), (double)bytes / (t - p->start));
	if (p->total > 0)
		fprintf(stderr, "\r%s: %3.0f%% %sB read, %spackets, %sB/s   ",
		    pk_progname, 100.0 * (double)bytes / (double)p->total, b,
		    k, r);
	else
		fprintf(stderr, "\r%s: %sB read, %spackets, %sB/s   ",
		    pk_progname, b, k, r);
	p->shown = 1;
}

void
pk_progress_done(struct pk_progress *p)
{
	if (p->shown)
		fprintf(stderr, "\r%*s\r", 70, "");
	p->shown = 0;
}

/* ---- captures in and out -------------------------------------------------- */

int
pk_capin_open(struct pk_capin *c, const struct pk_inputs *in,
    int concatenate, const char *tmpdir)
{
	struct pm_merge_opts mo = { 0 };
	char errbuf[PM_ERRBUF_SIZE];
	size_t i;

	mo.concatenate = concatenate;
	mo.max_open = pk_raise_nofile(in->n);
	if (mo.max_open >= in->n)
		mo.max_open = 0;
	mo.tmpdir = tmpdir;
	c->damaged = 0;
	if ((c->m = pm_merge_new(&mo, errbuf)) == NULL) {
		pk_warn("%s", errbuf);
		return 1;
	}
	for (i = 0; i < in->n; i++) {
		int fd = strcmp(in->paths[i], "-") == 0 ? STDIN_FILENO : -1;
		if (pm_merge_add(c->m, in->paths[i], fd) < 0) {
			pk_warn("%s", pm_merge_geterr(c->m));
			return 1;
		}
	}
	return 0;
}

int
pk_capin_next(struct pk_capin *c, struct pm_packet *pkt)
{
	const struct pm_input_info *f;
	int rc, stop;

	for (;;) {
		rc = pm_merge_next(c->m, pkt);
		if (rc >= 0)
			return rc;
		if (c->prog != NULL)
			pk_progress_done(c->prog);
		stop = pk_merge_failure(c->m, rc, c->ignore_errors, &f);
		if (f == NULL)
			pk_warn("%s", pm_merge_geterr(c->m));
		else
			pk_warnf(f->name, "%s", pm_merge_geterr(c->m));
		if (stop)
			return -1;
		c->damaged = 1;
	}
}

int
pk_merge_failure(const pm_merge *m, int rc, int ignore_errors,
    const struct pm_input_info **f)
{
	if (rc != PM_ERR_DAMAGED && rc != PM_ERR_TRUNCATED &&
	    rc != PM_ERR_INPUT) {
		*f = NULL;
		return 1;
	}
	*f = pm_merge_input(m, pm_merge_failed(m));
	/* An input that is not there, or not a capture, is a mistake to fix
	 * before anything is written; damage is not. */
	return rc == PM_ERR_INPUT && !(*f)->opened && !ignore_errors;
}

void
pk_capin_report_order(const struct pk_capin *c)
{
	size_t i;

	for (i = 0; i < pm_merge_count(c->m); i++) {
		const struct pm_input_info *f = pm_merge_input(c->m, i);
		char s[48];

		if (f->stats.bad_frac > 0)
			pk_warnf(f->name, "%llu packet%s with a sub-second field "
			    "of a second or more (%s); carried into the seconds",
			    (unsigned long long)f->stats.bad_frac,
			    f->stats.bad_frac == 1 ? "" : "s", f->nano ?
			    "1000000000 ns" : "1000000 us");
		if (f->stats.bad_time > 0)
			pk_warnf(f->name, "%llu packet%s with a time before "
			    "1677 or after 2262, which 64-bit nanoseconds "
			    "cannot hold; held at the nearest end",
			    (unsigned long long)f->stats.bad_time,
			    f->stats.bad_time == 1 ? "" : "s");
		if (f->stats.backwards == 0)
			continue;
		pk_fmt_seconds(s, sizeof(s), f->stats.max_backwards);
		pk_warnf(f->name, "%llu packet%s out of time order, up to %s s "
		    "backwards; merged as they are",
		    (unsigned long long)f->stats.backwards,
		    f->stats.backwards == 1 ? "" : "s", s);
	}
}

void
pk_capin_report_inputs(const struct pk_capin *c, const char *out,
    uint64_t written)
{
	static const char *const comp[] = { "", " (gzip)", " (zstd)" };
	size_t i, n = pm_merge_count(c->m);

	for (i = 0; i < n; i++) {
		const struct pm_input_info *f = pm_merge_input(c->m, i);

		if (!f->opened)
			continue;	/* said when it failed */
		pk_warnf(f->name, "%s%s, %s (%u)%s, %llu packets, %llu bytes "
		    "captured, %llu on the wire", f->format == PM_FMT_PCAPNG ?
		    "pcapng" : "pcap", comp[f->compression],
		    pk_linktype_name(f->linktype), f->linktype,
		    f->mixed_linktypes ? " and others" : "",
		    (unsigned long long)f->stats.packets,
		    (unsigned long long)f->stats.caplen_bytes,
		    (unsigned long long)f->stats.wire_bytes);
	}
	pk_warn("%zu input%s, %llu packet%s written to %s", n, n == 1 ? "" :
	    "s", (unsigned long long)written, written == 1 ? "" : "s",
	    strcmp(out, "-") == 0 ? "stdout" : out);
}

void
pk_capin_close(struct pk_capin *c)
{
	pm_merge_free(c->m);
	c->m = NULL;
}

void
pk_report_mixed(pm_merge *m)
{
	const struct pm_input_info *first = NULL, *f;
	size_t i;

	pk_warn("inputs have different linktypes, which a pcap file cannot "
	    "hold; use -F pcapng");
	for (i = 0; i < pm_merge_count(m); i++) {
		f = pm_merge_input(m, i);
		if (!f->opened)
			continue;
		if (first == NULL)
			first = f;
		if (f == first || f->linktype != first->linktype ||
		    f->mixed_linktypes)
			pk_warnf(f->name, "linktype %s (%u)%s",
			    pk_linktype_name(f->linktype), f->linktype,
			    f->mixed_linktypes ? " and others" : "");
	}
}

int
pk_capout_open(struct pk_output *out, pm_writer **w, const char *path,
    pm_merge *m, const struct pk_capout_opts *o)
{
	struct pm_merge_summary sum;
	struct pm_writer_opts wo;
	char errbuf[PM_ERRBUF_SIZE];
	int rc, err;

	pm_merge_summary(m, &sum);
	if (o->format == PM_FMT_PCAP && sum.mixed_linktypes) {
		pk_report_mixed(m);
		return 1;
	}
	if ((rc = pk_output_open(out, path)) != 0)
		return rc;
	wo.format = o->format;
	wo.compression = o->comp;
	wo.nano = o->nano || sum.nano;
	wo.snaplen = o->snaplen ? o->snaplen :
	    sum.snaplen ? sum.snaplen : PM_MAX_CAPLEN;
	wo.linktype = sum.linktype;
	wo.appname = o->appname;
	if ((*w = pm_writer_open(out->fd, &wo, &err, errbuf)) == NULL) {
		pk_warnf(path, "%s", errbuf);
		return 1;
	}
	pm_merge_attach(m, *w);
	return 0;
}

/* ---- names ------------------------------------------------------------- */

const char *
pk_linktype_name(uint32_t lt)
{
	switch (lt) {
	case 0: return "NULL";
	case 1: return "EN10MB";
	case 101: return "RAW";
	case 105: return "IEEE802_11";
	case 108: return "LOOP";
	case 113: return "LINUX_SLL";
	case 127: return "IEEE802_11_RADIOTAP";
	case 228: return "IPV4";
	case 229: return "IPV6";
	case 276: return "LINUX_SLL2";
	}
	return "unknown";
}

void
pk_fmt_seconds(char *buf, size_t n, int64_t ns)
{
	const char *sign = ns < 0 ? "-" : "";
	uint64_t a = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;

	snprintf(buf, n, "%s%llu.%09llu", sign,
	    (unsigned long long)(a / 1000000000),
	    (unsigned long long)(a % 1000000000));
}

/* ---- small files -------------------------------------------------------- */

char *
pk_slurp(const char *path, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char *b = NULL, *n;
	size_t cap = 0, r;
	int e;

	*len = 0;
	if (f == NULL)
		return NULL;
	do {
		if (*len + 4096 > cap) {
			cap = cap ? cap * 2 : 8192;
			if (cap > (64u << 20)) {
				free(b);
				b = NULL;
				errno = EFBIG;
				break;
			}
			if ((n = realloc(b, cap)) == NULL) {
				free(b);
				b = NULL;
				errno = ENOMEM;
				break;
			}
			b = n;
		}
		r = fread(b + *len, 1, cap - *len - 1, f);
		*len += r;
	} while (r > 0);
	e = errno;
	if (b != NULL && ferror(f)) {
		free(b);
		b = NULL;
	}
	if (f != stdin)
		fclose(f);
	if (b != NULL)
		b[*len] = '\0';
	errno = e;
	return b;
}

/* ---- times --------------------------------------------------------------- */

void
pk_fmt_time(char *buf, size_t n, int64_t ns)
{
	int64_t sec = ns / 1000000000, frac = ns % 1000000000;
	time_t t;
	struct tm tm;

	if (frac < 0) {		/* floor, so that frac is 0..999999999 */
		frac += 1000000000;
		sec--;
	}
	t = (time_t)sec;
	if (gmtime_r(&t, &tm) == NULL) {
		snprintf(buf, n, "?");
		return;
	}
	snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (long long)frac);
}

static int
digits(const char **s, int n, int *v)
{
	int i;

	*v = 0;
	for (i = 0; i < n; i++, (*s)++) {
		if (**s < '0' || **s > '9')
			return -1;
		*v = *v * 10 + (**s - '0');
	}
	return 0;
}

int
pk_parse_time(const char *s, int64_t *ns)
{
	struct tm tm = { 0 };
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	int64_t frac = 0, scale = 100000000;
	time_t t;

	if (digits(&s, 4, &y) || *s++ != '-' || digits(&s, 2, &mo) ||
	    *s++ != '-' || digits(&s, 2, &d) ||
	    (*s != 'T' && *s != 't' && *s != ' ') || (s++, 0) ||
	    digits(&s, 2, &h) || *s++ != ':' || digits(&s, 2, &mi) ||
	    *s++ != ':' || digits(&s, 2, &sec))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    sec > 60)
		return -1;
	if (*s == '.') {
		s++;
		if (*s < '0' || *s > '9')
			return -1;
		for (; *s >= '0' && *s <= '9'; s++) {
			frac += (*s - '0') * scale;	/* digits past ns dropped */
			scale /= 10;
		}
	}
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		sign = *s++ == '+' ? 1 : -1;
		if (digits(&s, 2, &oh) || *s++ != ':' || digits(&s, 2, &om) ||
		    oh > 23 || om > 59)
			return -1;
	} else {
		return -1;
	}
	if (*s != '\0')
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec == 60 ? 59 : sec;	/* a leap second: 59 + 1 */
	t = timegm(&tm);
	/*
	 * timegm normalizes Feb 30 to Mar 2: refuse dates that do not exist.
	 * (Its -1 is also 1969-12-31T23:59:59Z, and a 4-digit year cannot
	 * overflow a 64-bit time_t, so -1 is not an error here.)
	 */
	if (tm.tm_mday != d || tm.tm_mon != mo - 1)
		return -1;
	t += sec == 60;
	t -= sign * (oh * 3600 + om * 60);
	/* nanoseconds in an int64_t: 1677-09-21 to 2262-04-11 */
	if (t <= INT64_MIN / 1000000000 || t >= INT64_MAX / 1000000000)
		return -1;
	*ns = (int64_t)t * 1000000000 + frac;
	return 0;
}
