/*
 * cmd_get.c - pcap-fetch's commands that fetch files: get (a simple
 * capture's download, or a full capture's bucket objects) and bucket.
 * See cmd.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cmd.h"
#include "msg.h"
#include "text.h"

#include "capture.h"
#include "dl.h"
#include "outdir.h"
#include "progress.h"

/* The one progress meter (progress.h), also erased before each message. */
static struct pk_progress meter;

void
fetch_progress_erase(void)
{
	pk_progress_done(&meter);
}

static void
show_progress(void *ctx, size_t done, size_t n, uint64_t bytes,
    uint64_t total, int final)
{
	pk_progress_files(ctx, done, n, bytes, total, final);
}

static void
dry_list(const struct pk_store *st, const char *source,
    const struct pk_object *v, size_t n)
{
	uint64_t total = 0;
	size_t i, k = 0;
	char src[4200], name[1100], shown[4200], why[400];

	for (i = 0; i < n; i++) {
		pk_object_source(st, source, &v[i], src, sizeof(src));
		pk_render(src, shown, sizeof(shown));
		if (v[i].unsafe) {
			printf("%-40s  %12s  %s  (unsafe name: %s; skipped)\n",
			    "-", "-", shown, pk_render(v[i].why, why,
			    sizeof(why)));
			continue;
		}
		pk_render(v[i].name, name, sizeof(name));
		if (v[i].have_size) {
			printf("%-40s  %12llu  %s\n", name,
			    (unsigned long long)v[i].size, shown);
			total += v[i].size;
		} else
			printf("%-40s  %12s  %s\n", name, "?", shown);
		k++;
	}
	printf("%zu file%s, %llu bytes\n", k, k == 1 ? "" : "s",
	    (unsigned long long)total);
}

static int
store_get(void *ctx, const struct pk_object *ob, uint64_t from,
    const struct pk_validator *v, struct pk_req *rq, char *err)
{
	return pk_store_get_req(ctx, ob, from, v, rq, err);
}

/*
 * One line on stderr for every run that downloads, terminal or not, so
 * that a job's log shows what it got: files fetched, already present,
 * failed; their bytes; how many were checked against a checksum the
 * server listed (MD5 or CRC-32C), and how many had none to check.
 */
static void
summary_line(const struct pk_object *objs, size_t n,
    const struct pk_dl_result *res)
{
	size_t i, fetched = 0, present = 0, failed = 0, verified = 0;
	uint64_t bytes = 0;

	for (i = 0; i < n; i++) {
		if (res[i].state == PK_DL_FETCHED || res[i].state ==
		    PK_DL_PRESENT) {
			if (res[i].state == PK_DL_FETCHED)
				fetched++;
			else
				present++;
			bytes += res[i].size;
			if (objs[i].md5[0] != '\0' || objs[i].have_crc32c)
				verified++;
		} else {
			failed++;
		}
	}
	fwarn("%zu file%s: %zu fetched, %zu already present, %zu failed; "
	    "%llu bytes; %zu verified%s", n, n == 1 ? "" : "s", fetched,
	    present, failed, (unsigned long long)bytes, verified,
	    fetched + present > verified ? " (the others had no checksum "
	    "listed)" : "");
}

/*
 * Fetch objs into dir; write manifest.json.  st is the store they come
 * from (NULL: the API, whose one object's source is `source`); max_size
 * bounds a body of no listed size.  Returns the exit status.
 */
static int
download(const struct fetch_opts *o, const char *id, const char *source,
    const struct pk_store *st, struct pk_object *objs, size_t n,
    pk_get_fn get, void *ctx, json_t *capture, uint64_t max_size)
{
	struct pk_dl_opts d;
	struct pk_dl_result *res;
	char err[PK_ERRLEN];
	size_t failed, i;
	int dfd, rc = FETCH_OK;

	if (o->dry) {
		dry_list(st, source, objs, n);
		return 0;
	}
	if ((dfd = pk_outdir_open(o->outdir, err)) < 0) {
		fwarn("%s", err);
		return FETCH_FAILED;
	}
	if ((res = calloc(n ? n : 1, sizeof(*res))) == NULL) {
		fwarn("out of memory");
		close(dfd);
		return FETCH_FAILED;
	}
	memset(&d, 0, sizeof(d));
	d.jobs = (int)o->jobs;
	set_retry(o, &d.retry);
	d.max_size = max_size;
	if (o->progress) {
		pk_progress_init(&meter, 1, 0);
		d.progress = show_progress;
		d.ctx_progress = &meter;
	}
	d.get = get;
	d.ctx = ctx;
	d.say = fnote;
	failed = pk_dl_run(dfd, objs, n, &d, res);
	if (capture != NULL && pk_save_json(dfd, o->outdir, "capture.json",
	    capture, err) < 0) {
		fwarn("%s", err);
		rc = FETCH_FAILED;
	}
	if (pk_save_manifest(dfd, o->outdir, id, source, st, objs, n, res,
	    err) < 0) {
		fwarn("%s", err);
		rc = FETCH_FAILED;
	}
	summary_line(objs, n, res);
	if (failed > 0) {
		char name[1100], why[2048];

		fwarn("%zu of %zu file%s not fetched:", failed, n,
		    n == 1 ? "" : "s");
		for (i = 0; i < n; i++)
			if (res[i].state == PK_DL_FAILED ||
			    res[i].state == PK_DL_SKIPPED)
				fprintf(stderr, "  %s: %s\n",
				    pk_render(objs[i].name, name, sizeof(name)),
				    pk_render(res[i].why, why, sizeof(why)));
		rc = FETCH_FAILED;
	} else if (n == 0) {
		fwarn("%s: no files", source);
		rc = FETCH_FAILED;
	}
	pk_dl_results_free(res, n);
	close(dfd);
	return rc;
}

/* aws-cli semantics: all included; each matching filter, in order, says. */
static int
included(const struct fetch_opts *o, const char *name)
{
	int in = 1;
	size_t i;

	for (i = 0; i < o->nfilt; i++)
		if (pk_glob(o->filt[i].glob, name))
			in = o->filt[i].include;
	return in;
}

/*
 * Open the bucket at url and list it; what names it in messages (NULL: the
 * URL is the user's own, and a bad one is a usage error).  Returns 0, or
 * the exit status to use.
 */
static int
list_store(const struct fetch_opts *o, const char *url, const char *what,
    struct pk_store *st, struct pk_objlist *l)
{
	char err[PK_ERRLEN];
	struct pk_retry r;
	CURL *c;
	int rc;

	if (pk_store_open(st, url, o->allow_http, fetch_env, err) < 0) {
		if (what != NULL)
			fwarn("%s: %s", what, err);
		else
			fwarn("%s", err);
		return what != NULL ? FETCH_FAILED : FETCH_USAGE;
	}
	st->page_size = (unsigned)o->page_size;
	st->max_pages = o->max_pages;
	st->max_objects = o->max_objects;
	set_retry(o, &r);
	if ((c = curl_easy_init()) == NULL) {
		fwarn("out of memory");
		pk_store_close(st);
		return FETCH_FAILED;
	}
	rc = pk_store_list(st, c, &r, l, err, fnote);
	curl_easy_cleanup(c);
	if (rc < 0) {
		fwarn("%s", err);
		pk_objlist_free(l);
		pk_store_close(st);
		return FETCH_FAILED;
	}
	return 0;
}

static void
drop_object(struct pk_object *ob)
{
	free(ob->key);
	free(ob->why);
}

/* Download the objects kept in l from st, then free both. */
static int
fetch_listed(const struct fetch_opts *o, const char *id, struct pk_store *st,
    struct pk_objlist *l, json_t *capture)
{
	int rc = download(o, id, st->url, st, l->v, l->n, store_get, st,
	    capture, o->max_size);

	pk_objlist_free(l);
	pk_store_close(st);
	return rc;
}

int
cmd_bucket(const struct fetch_opts *o)
{
	struct pk_store st;
	struct pk_objlist l = { 0 };
	size_t i, k = 0;
	int rc;

	/* aws s3's rule, which we keep, surprises: say so, never silently. */
	if (o->nfilt > 0 && o->filt[0].include)
		fwarn("--include '%s' comes before any --exclude, so it "
		    "changes nothing: every key starts included (aws s3 "
		    "rules); put --exclude '*' first to fetch only what "
		    "--include names", o->filt[0].glob);

	if ((rc = list_store(o, o->arg, NULL, &st, &l)) != 0)
		return rc;
	for (i = 0; i < l.n; i++) {
		struct pk_object ob = l.v[i];
		if (!ob.unsafe && !included(o, ob.name)) {
			drop_object(&ob);
			continue;
		}
		if (!ob.unsafe && (strcmp(ob.name, "manifest.json") == 0 ||
		    strcmp(ob.name, "capture.json") == 0)) {
			ob.unsafe = 1;
			free(ob.why);
			ob.why = strdup("the name of pcap-fetch's own "
			    "metadata");
		}
		l.v[k++] = ob;
	}
	l.n = k;
	return fetch_listed(o, NULL, &st, &l, NULL);
}

/* ---- get -------------------------------------------------------------- */

struct apiget {
	struct pk_api *a;
	char id[80];
};

static int
api_get(void *ctx, const struct pk_object *ob, uint64_t from,
    const struct pk_validator *v, struct pk_req *rq, char *err)
{
	struct apiget *g = ctx;
	struct pk_buf u = { 0 };

	(void)ob;
	if (pk_buf_printf(&u, "%s/accounts/%s/pcaps/%s/download", g->a->base,
	    g->a->account, g->id) < 0)
		goto oom;
	rq->url = u.p;
	if (pk_api_auth(g->a, rq) < 0 || pk_req_resume(rq, from, v, 0) < 0)
		goto oom;
	return 0;
oom:
	snprintf(err, PK_ERRLEN, "out of memory");
	return -1;
}

static int
get_full(const struct fetch_opts *o, const struct pk_capture *c)
{
	const char *id = c->id, *dest = c->destination_conf ?
	    c->destination_conf : "";
	struct pk_store st;
	struct pk_objlist l = { 0 };
	char want[96], what[120];
	size_t i, k = 0;
	int rc;

	if (*dest == '\0') {
		fwarn("%s: full capture without destination_conf", o->arg);
		return FETCH_FAILED;
	}
	snprintf(what, sizeof(what), "%s: destination_conf", o->arg);
	if ((rc = list_store(o, dest, what, &st, &l)) != 0)
		return rc;
	snprintf(want, sizeof(want), "pcap_%s", id);
	/*
	 * The capture's files, by their base names, anywhere below the
	 * destination's prefix; each keeps its path below the prefix (the
	 * store's listing checked it is safe), so that files of the same
	 * base name under different prefixes stay apart, and pcap-merge,
	 * pcap-filter and pcap-summary read DIR recursively.
	 */
	for (i = 0; i < l.n; i++) {
		struct pk_object ob = l.v[i];
		const char *b = strrchr(ob.key, '/');

		b = b ? b + 1 : ob.key;
		if (strncmp(b, want, strlen(want)) != 0) {
			drop_object(&ob);
			continue;
		}
		l.v[k++] = ob;
	}
	l.n = k;
	return fetch_listed(o, id, &st, &l, c->root);
}

int
cmd_get(const struct fetch_opts *o)
{
	struct pk_api a;
	struct pk_capture c = { 0 };
	json_t *cap = NULL;
	const char *st, *type;
	char err[PK_ERRLEN];
	int rc = FETCH_FAILED;

	if (api_open(o, &a) < 0)
		return FETCH_FAILED;
	if (o->wait) {
		if (wait_for(o, &a, &cap) != 0)
			goto out;
	} else if ((cap = get_capture(&a, o->arg)) == NULL)
		goto out;
	if (pk_capture_parse(&c, cap, err, sizeof(err)) < 0) {
		fwarn("%s: %s", o->arg, err);
		goto out;
	}
	/* The id goes into URLs and file names: the one asked for. */
	if (c.id == NULL || strcmp(c.id, o->arg) != 0) {
		fwarn("%s: the API returned capture '%s' instead", o->arg,
		    c.id ? c.id : "");
		goto out;
	}
	st = c.status ? c.status : "";
	type = c.type ? c.type : "";
	if (!is_done(st)) {
		const char *m = c.error_message ? c.error_message : "";
		if (strcmp(st, "failed") == 0)
			fwarn("%s: capture failed%s%s", o->arg, *m ? ": " : "",
			    m);
		else
			fwarn("%s: capture is %s, not complete (use --wait)",
			    o->arg, *st ? st : "of unknown status");
		goto out;
	}
	if (strcmp(type, "full") == 0) {
		rc = get_full(o, &c);
	} else if (strcmp(type, "simple") == 0) {
		struct apiget g;
		struct pk_object ob;
		char name[96], src[200];
		uint64_t plimit = c.has_packet_limit ? c.packet_limit : 0;
		uint64_t bound;

		memset(&ob, 0, sizeof(ob));
		ob.generation = -1;
		g.a = &a;
		snprintf(g.id, sizeof(g.id), "%s", o->arg);
		snprintf(name, sizeof(name), "pcap_%s.pcap", g.id);
		snprintf(src, sizeof(src), "api:/accounts/%s/pcaps/%s/download",
		    a.account, g.id);
		ob.key = name;
		ob.name = name;
		/*
		 * A simple capture is at most packet_limit packets (the API
		 * allows 1-10000) of at most 160 bytes: as classic pcap,
		 * 24 + packet_limit x (16 + 160) bytes.  That bounds the
		 * download, which has no listed size; --max-size overrides.
		 */
		if (plimit < 1 || plimit > 10000)
			plimit = 10000;
		bound = o->have_max_size ? o->max_size :
		    24 + plimit * (16 + 160);
		rc = download(o, g.id, src, NULL, &ob, 1, api_get, &g, cap,
		    bound);
	} else
		fwarn("%s: unknown capture type '%s'", o->arg, type);
out:
	pk_capture_free(&c);
	json_decref(cap);
	pk_api_close(&a);
	return rc;
}

