/*
 * outdir.c - what pcap-fetch writes beside the files it fetches: the
 * output directory, capture.json and manifest.json, each whole or not at
 * all (a temporary name, then a rename).  See outdir.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "outdir.h"

int
pk_outdir_open(const char *dir, char *err)
{
	char path[4096], *p;
	int fd;

	if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path)) {
		snprintf(err, PK_ERRLEN, "%.200s...: name too long", dir);
		return -1;
	}
	for (p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			goto fail;
		*p = '/';
	}
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		goto fail;
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		goto fail;
	return fd;
fail:
	snprintf(err, PK_ERRLEN, "%.300s: %s", path, strerror(errno));
	return -1;
}

/* Append the JSON of v to f, each line after the first indented by ind. */
static int
put_json(FILE *f, json_t *v, const char *ind)
{
	char *d = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
	    JSON_ENCODE_ANY), *p;

	if (d == NULL)
		return -1;
	for (p = d; *p; p++) {
		putc(*p, f);
		if (*p == '\n')
			fputs(ind, f);
	}
	free(d);
	return 0;
}

/*
 * Open dirfd/.NAME.PID.tmp for writing; *tmp gets its name.  The caller
 * writes, then finish() closes and renames it, or removes it.
 */
static FILE *
start(int dirfd, const char *name, char *tmp, size_t n)
{
	FILE *f;
	int fd;

	snprintf(tmp, n, ".%s.%ld.tmp", name, (long)getpid());
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0644);
	if (fd < 0)
		return NULL;
	if ((f = fdopen(fd, "w")) == NULL)
		close(fd);
	return f;
}

static int
finish(int dirfd, const char *dir, const char *name, const char *tmp,
    FILE *f, int bad, char *err)
{
	int e = 0;

	if (bad)
		e = ENOMEM;
	else if (fflush(f) != 0 || ferror(f))
		e = errno ? errno : EIO;
	if (fclose(f) != 0 && e == 0)
		e = errno;
	if (e == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
		e = errno;
	if (e == 0)
		return 0;
	unlinkat(dirfd, tmp, 0);
	snprintf(err, PK_ERRLEN, "%s/%s: %s", dir, name, strerror(e));
	return -1;
}

int
pk_save_json(int dirfd, const char *dir, const char *name, json_t *v,
    char *err)
{
	char tmp[300];
	FILE *f = start(dirfd, name, tmp, sizeof(tmp));
	int bad;

	if (f == NULL) {
		snprintf(err, PK_ERRLEN, "%s/%s: %s", dir, name,
		    strerror(errno));
		return -1;
	}
	bad = put_json(f, v, "") < 0;
	putc('\n', f);
	return finish(dirfd, dir, name, tmp, f, bad, err);
}

static const char *
state_name(enum pk_dl_state s)
{
	switch (s) {
	case PK_DL_FETCHED: return "fetched";
	case PK_DL_PRESENT: return "present";
	case PK_DL_SKIPPED: return "skipped";
	default: return "failed";
	}
}

void
pk_object_source(const struct pk_store *st, const char *api_source,
    const struct pk_object *ob, char *out, size_t n)
{
	if (st != NULL)
		pk_store_source(st, ob->key, out, n);
	else
		snprintf(out, n, "%s", api_source);
}

int
pk_save_manifest(int dirfd, const char *dir, const char *id,
    const char *source, const struct pk_store *st,
    const struct pk_object *v, size_t n, const struct pk_dl_result *r,
    char *err)
{
	char tmp[64], src[4200];
	FILE *f = start(dirfd, "manifest.json", tmp, sizeof(tmp));
	json_t *s;
	size_t i;
	int bad = 0;

	if (f == NULL) {
		snprintf(err, PK_ERRLEN, "%s/manifest.json: %s", dir,
		    strerror(errno));
		return -1;
	}
	fputs("{\n  \"pcap_fetch_manifest\": 1,\n", f);
	if (id != NULL) {
		fputs("  \"id\": ", f);
		s = json_string(id);
		bad |= s == NULL || put_json(f, s, "") < 0;
		json_decref(s);
		fputs(",\n", f);
	}
	fputs("  \"source\": ", f);
	s = json_string(source);
	bad |= s == NULL || put_json(f, s, "") < 0;
	json_decref(s);
	fputs(",\n  \"files\": [", f);
	for (i = 0; i < n && !bad; i++) {
		json_t *e = json_object();
		char crc[9];

		if (e == NULL) {
			bad = 1;
			break;
		}
		pk_object_source(st, source, &v[i], src, sizeof(src));
		json_object_set_new(e, "name", json_string(v[i].name));
		json_object_set_new(e, "key", json_string(v[i].key));
		json_object_set_new(e, "source", json_string(src));
		json_object_set_new(e, "status",
		    json_string(state_name(r[i].state)));
		if (r[i].state == PK_DL_FETCHED || r[i].state == PK_DL_PRESENT) {
			json_object_set_new(e, "size",
			    json_integer((json_int_t)r[i].size));
			json_object_set_new(e, "md5", json_string(r[i].md5));
			snprintf(crc, sizeof(crc), "%08x", r[i].crc32c);
			json_object_set_new(e, "crc32c", json_string(crc));
			json_object_set_new(e, "verified",
			    json_boolean(v[i].md5[0] != '\0' ||
			    v[i].have_crc32c));
		} else
			json_object_set_new(e, "error", json_string(r[i].why ?
			    r[i].why : "unknown"));
		fputs(i == 0 ? "\n    " : ",\n    ", f);
		bad |= put_json(f, e, "    ") < 0;
		json_decref(e);
	}
	fputs(n > 0 ? "\n  ]\n}\n" : "]\n}\n", f);
	return finish(dirfd, dir, "manifest.json", tmp, f, bad, err);
}
