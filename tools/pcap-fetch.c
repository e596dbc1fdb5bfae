/*
 * pcap-fetch - get Cloudflare packet captures: from the API (list, show,
 * wait, create, stop, and the download of a simple capture) and from the
 * S3, R2 or GCS bucket a full capture was written to.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "common.h"
#include "api.h"
#include "dl.h"
#include "outdir.h"
#include "filteropt.h"

static void
usage(FILE *f)
{
	fprintf(f,
"usage: pcap-fetch list   [--json] [--status S] [--limit N]\n"
"       pcap-fetch show   ID [--json]\n"
"       pcap-fetch wait   ID [--timeout DUR] [--interval DUR]\n"
"       pcap-fetch get    ID [-o DIR] [--wait] [-j N] [--dry-run] [--progress]\n"
"       pcap-fetch bucket URL [-o DIR] [--include GLOB] [--exclude GLOB] [-j N]\n"
"                         [--dry-run] [--progress]\n"
"       pcap-fetch create --type simple|full [TUPLE OPTIONS | -f JSON]\n"
"                         --time-limit S [--packet-limit N] [--byte-limit N]\n"
"                         [--colo C] [--dest URL] [--offset-time T]\n"
"       pcap-fetch stop   ID\n"
"common: [--account ID] [--retries N] [--page-size N] [--max-pages N]\n"
"        [--max-objects N] [--max-size SIZE] [--connect-timeout DUR]\n"
"        [--request-timeout DUR] [--speed-limit BYTES --speed-time DUR]\n"
"        [--allow-plain-http] [-h]\n"
"tuple options: --src ADDR --dst ADDR --sport N --dport N --proto P\n"
"environment: CLOUDFLARE_API_TOKEN (or CLOUDFLARE_EMAIL + CLOUDFLARE_API_KEY),\n"
"  CLOUDFLARE_ACCOUNT_ID, CLOUDFLARE_API_BASE; AWS_ACCESS_KEY_ID,\n"
"  AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION, AWS_ENDPOINT_URL,\n"
"  AWS_PROFILE; GOOGLE_OAUTH_ACCESS_TOKEN, STORAGE_EMULATOR_HOST\n");
}

enum {
	O_JSON = 2000, O_STATUS, O_LIMIT, O_TIMEOUT, O_INTERVAL, O_WAIT,
	O_DRY, O_PROGRESS, O_NOPROGRESS, O_INCLUDE, O_EXCLUDE, O_TYPE,
	O_TLIMIT, O_PLIMIT, O_BLIMIT, O_COLO, O_DEST, O_OFFSET, O_ACCOUNT,
	O_RETRIES, O_PAGESIZE, O_SYSTEM, O_MAXPAGES, O_MAXOBJ, O_MAXSIZE,
	O_CTIMEOUT, O_RTIMEOUT, O_SPEEDLIM, O_SPEEDTIME, O_PLAINHTTP
};

struct opts {
	const char *cmd;
	const char *arg;		/* ID or URL */
	int json, wait, dry, progress;
	const char *status;
	uint64_t limit;
	int64_t timeout_ns, interval_ns;
	const char *outdir;
	uint64_t jobs;
	struct { int include; const char *glob; } filt[64];
	size_t nfilt;
	const char *type, *colo, *dest, *offset, *account, *system;
	uint64_t tlimit, plimit, blimit;
	int have_tlimit, have_plimit, have_blimit;
	const char *fjson;
	struct pk_filteropt fo;
	uint64_t retries, page_size;
	int have_retries;
	uint64_t max_pages, max_objects, max_size;
	int have_max_size;
	int64_t connect_ns, request_ns, speed_time_ns;
	uint64_t speed_limit;
	int allow_http;
};

/*
 * Every message goes through here: whatever a server put in it (keys,
 * ids, statuses, error messages) is rendered by pk_render, so that no
 * escape sequence from a server reaches a terminal or a log raw.
 */
static void
fwarn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
fwarn(const char *fmt, ...)
{
	char raw[2048], shown[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	pk_warn("%s", pk_render(raw, shown, sizeof(shown)));
}

/* A server string for a table cell. */
static const char *
cell(const char *s, char *buf, size_t n)
{
	return pk_render(s, buf, n);
}

static void
note(const char *msg)
{
	fwarn("%s", msg);
}

static const char *
env(const char *name)
{
	return getenv(name);
}

static void
set_retry(const struct opts *o, struct pk_retry *r)
{
	pk_retry_defaults(r);
	if (o->have_retries)
		r->attempts = (int)o->retries + 1;
	r->connect_ms = (long)(o->connect_ns / 1000000);
	r->request_ms = (long)(o->request_ns / 1000000);
	r->speed_limit = (long)o->speed_limit;
	r->speed_time_s = (long)((o->speed_time_ns + 999999999) / 1000000000);
	r->allow_http = o->allow_http;
	/* For the test suite only: short backoffs, so that runs stay quick. */
	if (getenv("PCAPKIT_TEST_BACKOFF_MS") != NULL) {
		uint64_t v;
		if (pk_parse_u64(getenv("PCAPKIT_TEST_BACKOFF_MS"), 0, 60000,
		    &v) == 0)
			r->base_ms = r->cap_ms = (int64_t)v;
	}
}

/* Capture ids are 32 lower-case hex digits (the API's pattern). */
static int
valid_id(const char *id)
{
	return pk_valid_hex32(id);
}

static const char *
jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s != NULL ? s : "";
}

/* A JSON value as short text for tables ("" for none). */
static void
jtext(json_t *v, char *out, size_t n)
{
	out[0] = '\0';
	if (json_is_string(v))
		snprintf(out, n, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(out, n, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(out, n, "%.15g", json_real_value(v));
	else if (json_is_boolean(v))
		snprintf(out, n, "%s", json_is_true(v) ? "true" : "false");
	else if (v != NULL && !json_is_null(v)) {
		char *d = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
		snprintf(out, n, "%s", d ? d : "");
		free(d);
	}
}

static int
print_json(json_t *v)
{
	char *d = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
	    JSON_ENCODE_ANY);

	if (d == NULL)
		return -1;
	puts(d);
	free(d);
	return 0;
}

static int
api_open(const struct opts *o, struct pk_api *a)
{
	char err[PK_ERRLEN];

	if (pk_api_init(a, o->account, o->allow_http, env, err) < 0) {
		fwarn("%s", err);
		return -1;
	}
	set_retry(o, &a->retry);
	a->say = note;
	return 0;
}

/* GET /pcaps/ID; the capture object or NULL (said why). */
static json_t *
get_capture(struct pk_api *a, const char *id)
{
	char path[80], err[PK_ERRLEN];
	json_t *r;

	snprintf(path, sizeof(path), "/%s", id);
	if (pk_api_call(a, "GET", path, NULL, NULL, &r, NULL, err) < 0) {
		fwarn("%s: %s", id, err);
		return NULL;
	}
	if (!json_is_object(r)) {
		fwarn("%s: the API returned no capture object", id);
		json_decref(r);
		return NULL;
	}
	return r;
}

/* ---- list, show ------------------------------------------------------ */

static void
table_row(json_t *c)
{
	char pk[32], pkr[140], id[140], ty[80], st[80], sub[120], colo[80];

	jtext(json_object_get(c, "packets_captured"), pk, sizeof(pk));
	printf("%-32s  %-6s  %-18s  %-27s  %-6s  %s\n",
	    cell(jstr(c, "id"), id, sizeof(id)),
	    cell(jstr(c, "type"), ty, sizeof(ty)),
	    cell(jstr(c, "status"), st, sizeof(st)),
	    cell(jstr(c, "submitted"), sub, sizeof(sub)),
	    cell(jstr(c, "colo_name"), colo, sizeof(colo)),
	    cell(pk, pkr, sizeof(pkr)));
}

/* One element of `list --json`'s array, indented as json_dumps would. */
static void
json_element(json_t *c, int first)
{
	char *d = json_dumps(c, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	const char *p;

	fputs(first ? "[\n  " : ",\n  ", stdout);
	for (p = d ? d : "null"; *p; p++) {
		putchar(*p);
		if (*p == '\n')
			fputs("  ", stdout);
	}
	free(d);
}

/*
 * list: pages of per_page captures, printed as they come, so that memory
 * is one page.  A page larger than asked for, more than --max-pages
 * pages or --max-objects captures stop it with exit 1; with --json the
 * array is then left unclosed, so that no parser takes it as whole.
 */
static int
cmd_list(const struct opts *o)
{
	struct pk_api a;
	json_t *res, *info, *c;
	char err[PK_ERRLEN], q[64];
	unsigned per = o->page_size ? (unsigned)o->page_size : 50;
	uint64_t page = 1, seen = 0;
	size_t i, shown = 0, got;
	int rc = 1;

	if (api_open(o, &a) < 0)
		return 1;
	if (!o->json)
		printf("%-32s  %-6s  %-18s  %-27s  %-6s  %s\n", "ID", "TYPE",
		    "STATUS", "SUBMITTED", "COLO", "PACKETS");
	for (;;) {
		json_t *tc;
		int more;

		if (page > o->max_pages) {
			fwarn("list: more than %llu pages (--max-pages); "
			    "stopped", (unsigned long long)o->max_pages);
			goto out;
		}
		snprintf(q, sizeof(q), "page=%llu&per_page=%u",
		    (unsigned long long)page, per);
		if (pk_api_call(&a, "GET", "", q, NULL, &res, &info, err) < 0) {
			fwarn("list: %s", err);
			goto out;
		}
		if (!json_is_array(res)) {
			fwarn("list: the API returned no list");
			json_decref(res);
			json_decref(info);
			goto out;
		}
		got = json_array_size(res);
		if (got > per) {
			fwarn("list: page %llu holds %zu captures, more than "
			    "the %u asked for; the listing cannot be trusted",
			    (unsigned long long)page, got, per);
			json_decref(res);
			json_decref(info);
			goto out;
		}
		seen += got;
		if (seen > o->max_objects) {
			fwarn("list: more than %llu captures (--max-objects); "
			    "stopped", (unsigned long long)o->max_objects);
			json_decref(res);
			json_decref(info);
			goto out;
		}
		json_array_foreach(res, i, c) {
			if (o->status && strcmp(jstr(c, "status"), o->status))
				continue;
			if (o->limit && shown >= o->limit)
				break;
			if (o->json)
				json_element(c, shown == 0);
			else
				table_row(c);
			shown++;
		}
		json_decref(res);
		/*
		 * The next page while this one was full and the total (when
		 * given) is not reached; the page size is the one asked for,
		 * whatever result_info claims.
		 */
		tc = json_object_get(info, "total_count");
		more = got == per && (!json_is_number(tc) ||
		    (double)page * per < json_number_value(tc));
		json_decref(info);
		if (!more || (o->limit && shown >= o->limit))
			break;
		page++;
	}
	if (o->json)
		fputs(shown == 0 ? "[]\n" : "\n]\n", stdout);
	rc = 0;
out:
	pk_api_close(&a);
	return rc;
}

static void
show_table(json_t *c)
{
	static const char *keys[] = { "id", "type", "status", "system",
	    "submitted", "offset_time", "time_limit", "packet_limit",
	    "byte_limit", "colo_name", "destination_conf",
	    "packets_captured", "stop_requested", "error_message",
	    "filter_v1" };
	const char *k;
	json_t *v;
	char t[512], r[2048], kr[256];
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if ((v = json_object_get(c, keys[i])) == NULL)
			continue;
		jtext(v, t, sizeof(t));
		printf("%-17s %s\n", keys[i], cell(t, r, sizeof(r)));
	}
	json_object_foreach(c, k, v) {
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (strcmp(k, keys[i]) == 0)
				break;
		if (i < sizeof(keys) / sizeof(keys[0]))
			continue;
		jtext(v, t, sizeof(t));
		printf("%-17s %s\n", cell(k, kr, sizeof(kr)),
		    cell(t, r, sizeof(r)));
	}
}

static int
cmd_show(const struct opts *o)
{
	struct pk_api a;
	json_t *c;

	if (api_open(o, &a) < 0)
		return 1;
	c = get_capture(&a, o->arg);
	pk_api_close(&a);
	if (c == NULL)
		return 1;
	if (o->json)
		print_json(c);
	else
		show_table(c);
	json_decref(c);
	return 0;
}

/* ---- wait ------------------------------------------------------------- */

static int
is_done(const char *s)
{
	return strcmp(s, "success") == 0 || strcmp(s, "complete") == 0;
}

/*
 * Poll until done: 0 done (*cap set), 1 failed or timed out.  --timeout
 * bounds the whole wait: each request is cut at the deadline, and so is
 * each pause between them.
 */
static int
wait_for(const struct opts *o, struct pk_api *a, json_t **cap)
{
	int64_t deadline = pk_now_ms() + o->timeout_ns / 1000000, left;
	char last[64] = "";
	json_t *c;

	/* --timeout 0: one look, bounded by --request-timeout alone. */
	a->retry.deadline_ms = o->timeout_ns > 0 ? deadline : 0;
	for (;;) {
		const char *st;

		if ((c = get_capture(a, o->arg)) == NULL) {
			if (pk_now_ms() >= deadline)
				fwarn("%s: no answer within the --timeout",
				    o->arg);
			a->retry.deadline_ms = 0;
			return 1;
		}
		st = jstr(c, "status");
		if (strcmp(st, last) != 0) {
			fwarn("%s: %s%s%s", o->arg, last[0] ? last : "",
			    last[0] ? " -> " : "status ", st);
			snprintf(last, sizeof(last), "%s", st);
		}
		if (is_done(st)) {
			*cap = c;
			a->retry.deadline_ms = 0;
			return 0;
		}
		if (strcmp(st, "failed") == 0) {
			const char *m = jstr(c, "error_message");
			fwarn("%s: capture failed%s%s", o->arg,
			    *m ? ": " : "", m);
			json_decref(c);
			a->retry.deadline_ms = 0;
			return 1;
		}
		json_decref(c);
		left = deadline - pk_now_ms();
		if (left <= 0) {
			fwarn("%s: still %s after the --timeout", o->arg,
			    last);
			a->retry.deadline_ms = 0;
			return 1;
		}
		pk_sleep_ms(o->interval_ns / 1000000 < left ?
		    o->interval_ns / 1000000 : left);
	}
}

static int
cmd_wait(const struct opts *o)
{
	struct pk_api a;
	json_t *c = NULL;
	int rc;

	if (api_open(o, &a) < 0)
		return 1;
	rc = wait_for(o, &a, &c);
	json_decref(c);
	pk_api_close(&a);
	return rc;
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
 * Fetch objs into dir; write manifest.json.  st is the store they come
 * from (NULL: the API, whose one object's source is `source`); max_size
 * bounds a body of no listed size.  Returns the exit status.
 */
static int
download(const struct opts *o, const char *id, const char *source,
    const struct pk_store *st, struct pk_object *objs, size_t n,
    pk_get_fn get, void *ctx, json_t *capture, uint64_t max_size)
{
	struct pk_dl_opts d;
	struct pk_dl_result *res;
	char err[PK_ERRLEN];
	size_t failed, i;
	int dfd, rc = 0;

	if (o->dry) {
		dry_list(st, source, objs, n);
		return 0;
	}
	if ((dfd = pk_outdir_open(o->outdir, err)) < 0) {
		fwarn("%s", err);
		return 1;
	}
	if ((res = calloc(n ? n : 1, sizeof(*res))) == NULL) {
		fwarn("out of memory");
		close(dfd);
		return 1;
	}
	memset(&d, 0, sizeof(d));
	d.jobs = (int)o->jobs;
	set_retry(o, &d.retry);
	d.max_size = max_size;
	d.progress = o->progress;
	d.get = get;
	d.ctx = ctx;
	d.say = note;
	failed = pk_dl_run(dfd, objs, n, &d, res);
	if (capture != NULL && pk_save_json(dfd, o->outdir, "capture.json",
	    capture, err) < 0) {
		fwarn("%s", err);
		rc = 1;
	}
	if (pk_save_manifest(dfd, o->outdir, id, source, st, objs, n, res,
	    err) < 0) {
		fwarn("%s", err);
		rc = 1;
	}
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
		rc = 1;
	} else if (n == 0) {
		fwarn("%s: no files", source);
		rc = 1;
	}
	pk_dl_results_free(res, n);
	close(dfd);
	return rc;
}

/* aws-cli semantics: all included; each matching filter, in order, says. */
static int
included(const struct opts *o, const char *name)
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
list_store(const struct opts *o, const char *url, const char *what,
    struct pk_store *st, struct pk_objlist *l)
{
	char err[PK_ERRLEN];
	struct pk_retry r;
	CURL *c;
	int rc;

	if (pk_store_open(st, url, o->allow_http, env, err) < 0) {
		if (what != NULL)
			fwarn("%s: %s", what, err);
		else
			fwarn("%s", err);
		return what != NULL ? 1 : 2;
	}
	st->page_size = (unsigned)o->page_size;
	st->max_pages = o->max_pages;
	st->max_objects = o->max_objects;
	set_retry(o, &r);
	if ((c = curl_easy_init()) == NULL) {
		fwarn("out of memory");
		pk_store_close(st);
		return 1;
	}
	rc = pk_store_list(st, c, &r, l, err, note);
	curl_easy_cleanup(c);
	if (rc < 0) {
		fwarn("%s", err);
		pk_objlist_free(l);
		pk_store_close(st);
		return 1;
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
fetch_listed(const struct opts *o, const char *id, struct pk_store *st,
    struct pk_objlist *l, json_t *capture)
{
	int rc = download(o, id, st->url, st, l->v, l->n, store_get, st,
	    capture, o->max_size);

	pk_objlist_free(l);
	pk_store_close(st);
	return rc;
}

static int
cmd_bucket(const struct opts *o)
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
	if (pk_api_auth(g->a, rq) < 0 ||
	    (from > 0 && pk_req_header(rq, "Range: bytes=%llu-",
	    (unsigned long long)from) < 0) ||
	    (from > 0 && v->etag[0] != '\0' &&
	    pk_req_header(rq, "If-Range: %s", v->etag) < 0))
		goto oom;
	return 0;
oom:
	snprintf(err, PK_ERRLEN, "out of memory");
	return -1;
}

static int
get_full(const struct opts *o, json_t *cap)
{
	const char *id = jstr(cap, "id"), *dest = jstr(cap, "destination_conf");
	struct pk_store st;
	struct pk_objlist l = { 0 };
	char want[96], what[120];
	size_t i, k = 0;
	int rc;

	if (*dest == '\0') {
		fwarn("%s: full capture without destination_conf", o->arg);
		return 1;
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
	return fetch_listed(o, id, &st, &l, cap);
}

static int
cmd_get(const struct opts *o)
{
	struct pk_api a;
	json_t *cap = NULL;
	const char *st, *type;
	int rc = 1;

	if (api_open(o, &a) < 0)
		return 1;
	if (o->wait) {
		if (wait_for(o, &a, &cap) != 0)
			goto out;
	} else if ((cap = get_capture(&a, o->arg)) == NULL)
		goto out;
	/* The id goes into URLs and file names: the one asked for. */
	if (strcmp(jstr(cap, "id"), o->arg) != 0) {
		fwarn("%s: the API returned capture '%s' instead", o->arg,
		    jstr(cap, "id"));
		goto out;
	}
	st = jstr(cap, "status");
	type = jstr(cap, "type");
	if (!is_done(st)) {
		const char *m = jstr(cap, "error_message");
		if (strcmp(st, "failed") == 0)
			fwarn("%s: capture failed%s%s", o->arg, *m ? ": " : "",
			    m);
		else
			fwarn("%s: capture is %s, not complete (use --wait)",
			    o->arg, *st ? st : "of unknown status");
		goto out;
	}
	if (strcmp(type, "full") == 0) {
		rc = get_full(o, cap);
	} else if (strcmp(type, "simple") == 0) {
		struct apiget g;
		struct pk_object ob;
		char name[96], src[200];
		json_t *pl = json_object_get(cap, "packet_limit");
		json_int_t plimit = json_is_integer(pl) ?
		    json_integer_value(pl) : 0;
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
		    24 + (uint64_t)plimit * (16 + 160);
		rc = download(o, g.id, src, NULL, &ob, 1, api_get, &g, cap,
		    bound);
	} else
		fwarn("%s: unknown capture type '%s'", o->arg, type);
out:
	json_decref(cap);
	pk_api_close(&a);
	return rc;
}

/* ---- create, stop ------------------------------------------------------ */

static int
cmd_create(const struct opts *o)
{
	json_t *req = json_object(), *fv = NULL, *res = NULL;
	struct pk_api a;
	char err[PK_ERRLEN], *body = NULL;
	int simple, rc = 1;

	if (o->type == NULL || (strcmp(o->type, "simple") != 0 &&
	    strcmp(o->type, "full") != 0)) {
		fwarn("create: --type simple or --type full is required");
		goto usage;
	}
	simple = strcmp(o->type, "simple") == 0;
	if (!o->have_tlimit) {
		fwarn("create: --time-limit is required");
		goto usage;
	}
	if (o->tlimit < 1 || o->tlimit > (simple ? 300 : 86400)) {
		fwarn("create: --time-limit %llu is out of range (1-%d for "
		    "%s captures)", (unsigned long long)o->tlimit,
		    simple ? 300 : 86400, o->type);
		goto usage;
	}
	if (simple) {
		if (!o->have_plimit) {
			fwarn("create: simple captures need --packet-limit");
			goto usage;
		}
		if (o->plimit < 1 || o->plimit > 10000) {
			fwarn("create: --packet-limit %llu is out of range "
			    "(1-10000 for simple captures)",
			    (unsigned long long)o->plimit);
			goto usage;
		}
		if (o->have_blimit || o->colo || o->dest) {
			fwarn("create: --byte-limit, --colo and --dest are "
			    "for full captures");
			goto usage;
		}
	} else {
		if (o->colo == NULL || o->dest == NULL) {
			fwarn("create: full captures need --colo and --dest");
			goto usage;
		}
		if (o->have_blimit && (o->blimit < 1 ||
		    o->blimit > 1000000000)) {
			fwarn("create: --byte-limit %llu is out of range "
			    "(1-1000000000)", (unsigned long long)o->blimit);
			goto usage;
		}
		if (o->have_plimit && o->plimit < 1) {
			fwarn("create: --packet-limit must be at least 1");
			goto usage;
		}
		if (strncmp(o->dest, "s3://", 5) != 0 &&
		    strncmp(o->dest, "gs://", 5) != 0 &&
		    strncmp(o->dest, "r2://", 5) != 0) {
			fwarn("create: --dest must be an s3://, gs:// or "
			    "r2:// URL");
			goto usage;
		}
	}
	if (o->offset != NULL) {
		int64_t ns;
		if (pk_parse_time(o->offset, &ns) < 0) {
			fwarn("create: --offset-time '%s' is not an RFC 3339 "
			    "time", o->offset);
			goto usage;
		}
	}
	/* The tuple: -f JSON as given (checked), or the flags. */
	if (o->fjson != NULL && o->fo.flags.has != 0) {
		fwarn("create: give the tuple as -f JSON or as flags, not "
		    "both");
		goto usage;
	}
	if (o->fjson != NULL) {
		struct pf_tuple t;
		char ferr[256];
		json_error_t je;

		if (pf_tuple_from_json(o->fjson, strlen(o->fjson), &t,
		    ferr) < 0) {
			fwarn("create: -f: %s", ferr);
			goto usage;
		}
		fv = json_loads(o->fjson, 0, &je);
	} else if (o->fo.flags.has != 0) {
		const struct pf_tuple *t = &o->fo.flags;
		fv = json_object();
		if (t->has & PF_HAS_SRC)
			json_object_set_new(fv, "source_address",
			    json_string(o->fo.src_text));
		if (t->has & PF_HAS_DST)
			json_object_set_new(fv, "destination_address",
			    json_string(o->fo.dst_text));
		if (t->has & PF_HAS_SPORT)
			json_object_set_new(fv, "source_port",
			    json_integer(t->sport));
		if (t->has & PF_HAS_DPORT)
			json_object_set_new(fv, "destination_port",
			    json_integer(t->dport));
		if (t->has & PF_HAS_PROTO)
			json_object_set_new(fv, "protocol",
			    json_integer(t->proto));
	}
	json_object_set_new(req, "system", json_string(o->system ? o->system :
	    "magic-transit"));
	json_object_set_new(req, "type", json_string(o->type));
	json_object_set_new(req, "time_limit", json_integer((json_int_t)
	    o->tlimit));
	if (o->have_plimit)
		json_object_set_new(req, "packet_limit",
		    json_integer((json_int_t)o->plimit));
	if (o->have_blimit)
		json_object_set_new(req, "byte_limit",
		    json_integer((json_int_t)o->blimit));
	if (o->colo)
		json_object_set_new(req, "colo_name", json_string(o->colo));
	if (o->dest)
		json_object_set_new(req, "destination_conf",
		    json_string(o->dest));
	if (o->offset)
		json_object_set_new(req, "offset_time", json_string(o->offset));
	if (fv != NULL)
		json_object_set_new(req, "filter_v1", fv);
	body = json_dumps(req, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (api_open(o, &a) < 0)
		goto out;
	if (pk_api_call(&a, "POST", "", NULL, body, &res, NULL, err) < 0) {
		fwarn("create: %s", err);
		pk_api_close(&a);
		goto out;
	}
	pk_api_close(&a);
	if (o->json)
		print_json(res);
	else
		show_table(res);
	rc = 0;
out:
	free(body);
	json_decref(res);
	json_decref(req);
	return rc;
usage:
	json_decref(req);
	return 2;
}

static int
cmd_stop(const struct opts *o)
{
	struct pk_api a;
	char path[96], err[PK_ERRLEN];

	if (api_open(o, &a) < 0)
		return 1;
	snprintf(path, sizeof(path), "/%s/stop", o->arg);
	if (pk_api_call(&a, "PUT", path, NULL, NULL, NULL, NULL, err) < 0) {
		fwarn("%s: stop: %s", o->arg, err);
		pk_api_close(&a);
		return 1;
	}
	pk_api_close(&a);
	fwarn("%s: stop requested", o->arg);
	return 0;
}

/* ---- commands and the options each takes ------------------------------ */

enum {
	C_LIST = 1 << 0, C_SHOW = 1 << 1, C_WAIT = 1 << 2, C_GET = 1 << 3,
	C_BUCKET = 1 << 4, C_CREATE = 1 << 5, C_STOP = 1 << 6
};
#define C_API	(C_LIST | C_SHOW | C_WAIT | C_GET | C_CREATE | C_STOP)
#define C_ANY	(C_API | C_BUCKET)
#define C_LISTS	(C_LIST | C_GET | C_BUCKET)	/* page through listings */
#define C_DL	(C_GET | C_BUCKET)		/* download files */

static const struct command {
	const char *name;
	const char *arg;	/* the one argument: "ID", "URL", or none */
	unsigned bit;
	int (*run)(const struct opts *);
} commands[] = {
	{ "list", NULL, C_LIST, cmd_list },
	{ "show", "ID", C_SHOW, cmd_show },
	{ "wait", "ID", C_WAIT, cmd_wait },
	{ "get", "ID", C_GET, cmd_get },
	{ "bucket", "URL", C_BUCKET, cmd_bucket },
	{ "create", NULL, C_CREATE, cmd_create },
	{ "stop", "ID", C_STOP, cmd_stop },
};

/*
 * Which commands take each option (by getopt_long's value); an option
 * given to a command that does not take it is a usage error, never
 * silently ignored.
 */
static const struct {
	int val;
	unsigned cmds;
} takes[] = {
	{ 'h', C_ANY }, { O_JSON, C_LIST | C_SHOW | C_CREATE },
	{ O_STATUS, C_LIST }, { O_LIMIT, C_LIST },
	{ O_TIMEOUT, C_WAIT | C_GET }, { O_INTERVAL, C_WAIT | C_GET },
	{ O_WAIT, C_GET }, { O_DRY, C_DL }, { O_PROGRESS, C_DL },
	{ O_NOPROGRESS, C_DL }, { O_INCLUDE, C_BUCKET }, { O_EXCLUDE, C_BUCKET },
	{ O_TYPE, C_CREATE }, { O_TLIMIT, C_CREATE }, { O_PLIMIT, C_CREATE },
	{ O_BLIMIT, C_CREATE }, { O_COLO, C_CREATE }, { O_DEST, C_CREATE },
	{ O_OFFSET, C_CREATE }, { O_SYSTEM, C_CREATE }, { 'f', C_CREATE },
	{ PK_O_SRC, C_CREATE }, { PK_O_DST, C_CREATE },
	{ PK_O_SPORT, C_CREATE }, { PK_O_DPORT, C_CREATE },
	{ PK_O_PROTO, C_CREATE },
	{ O_ACCOUNT, C_API }, { O_RETRIES, C_ANY }, { O_PAGESIZE, C_LISTS },
	{ O_MAXPAGES, C_LISTS }, { O_MAXOBJ, C_LISTS }, { O_MAXSIZE, C_DL },
	{ O_CTIMEOUT, C_ANY }, { O_RTIMEOUT, C_ANY }, { O_SPEEDLIM, C_DL },
	{ O_SPEEDTIME, C_DL }, { O_PLAINHTTP, C_ANY }, { 'o', C_DL },
	{ 'j', C_DL },
};

/* The commands that take option val (0: no such option). */
static unsigned
option_cmds(int val)
{
	size_t i;

	for (i = 0; i < sizeof(takes) / sizeof(takes[0]); i++)
		if (takes[i].val == val)
			return takes[i].cmds;
	return 0;
}

/* ---- main ------------------------------------------------------------- */

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, O_JSON },
		{ "status", required_argument, NULL, O_STATUS },
		{ "limit", required_argument, NULL, O_LIMIT },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "interval", required_argument, NULL, O_INTERVAL },
		{ "wait", no_argument, NULL, O_WAIT },
		{ "dry-run", no_argument, NULL, O_DRY },
		{ "progress", no_argument, NULL, O_PROGRESS },
		{ "no-progress", no_argument, NULL, O_NOPROGRESS },
		{ "include", required_argument, NULL, O_INCLUDE },
		{ "exclude", required_argument, NULL, O_EXCLUDE },
		{ "type", required_argument, NULL, O_TYPE },
		{ "time-limit", required_argument, NULL, O_TLIMIT },
		{ "packet-limit", required_argument, NULL, O_PLIMIT },
		{ "byte-limit", required_argument, NULL, O_BLIMIT },
		{ "colo", required_argument, NULL, O_COLO },
		{ "dest", required_argument, NULL, O_DEST },
		{ "offset-time", required_argument, NULL, O_OFFSET },
		{ "account", required_argument, NULL, O_ACCOUNT },
		{ "retries", required_argument, NULL, O_RETRIES },
		{ "page-size", required_argument, NULL, O_PAGESIZE },
		{ "system", required_argument, NULL, O_SYSTEM },
		{ "max-pages", required_argument, NULL, O_MAXPAGES },
		{ "max-objects", required_argument, NULL, O_MAXOBJ },
		{ "max-size", required_argument, NULL, O_MAXSIZE },
		{ "connect-timeout", required_argument, NULL, O_CTIMEOUT },
		{ "request-timeout", required_argument, NULL, O_RTIMEOUT },
		{ "speed-limit", required_argument, NULL, O_SPEEDLIM },
		{ "speed-time", required_argument, NULL, O_SPEEDTIME },
		{ "allow-plain-http", no_argument, NULL, O_PLAINHTTP },
		{ "output", required_argument, NULL, 'o' },
		{ "jobs", required_argument, NULL, 'j' },
		PK_FILTER_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct opts o;
	const struct command *cmd = NULL;
	int c, r, progress_set = 0, li;
	size_t i;

	pk_setprogname(argv[0]);
	/*
	 * Tokens and keys live in this process: no core dump, and no
	 * ptrace or /proc/PID/mem or environ by other processes of the user.
	 */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	memset(&o, 0, sizeof(o));
	o.outdir = ".";
	o.jobs = 4;
	o.timeout_ns = 3600LL * 1000000000;
	o.interval_ns = 10LL * 1000000000;
	/* The bounds no server can stretch; pcap-fetch(1) and README. */
	o.max_pages = 100000;
	o.max_objects = 2000000;
	o.max_size = 16ULL << 30;
	o.connect_ns = 15LL * 1000000000;
	o.request_ns = 60LL * 1000000000;
	o.speed_limit = 1024;
	o.speed_time_ns = 30LL * 1000000000;
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	o.cmd = argv[1];
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, o.cmd) == 0)
			cmd = &commands[i];
	if (cmd == NULL) {
		fwarn("unknown command '%s' (list, show, wait, get, bucket, "
		    "create, stop; -h for usage)", o.cmd);
		return 2;
	}
	argv++;
	argc--;
	opterr = 0;
	for (;;) {
		li = -1;
		if ((c = getopt_long(argc, argv, "ho:j:f:", longopts, &li)) == -1)
			break;
		if (c == '?') {
			/* Said here, so that it starts "pcap-fetch:". */
			if (optopt != 0 && option_cmds(optopt) != 0)
				fwarn("%s: %s needs a value", cmd->name,
				    argv[optind - 1]);
			else
				fwarn("%s: unknown option '%s' (-h for usage)",
				    cmd->name, argv[optind - 1]);
			return 2;
		}
		if ((option_cmds(c) & cmd->bit) == 0) {
			if (li >= 0)
				fwarn("%s: --%s is not an option of %s",
				    cmd->name, longopts[li].name, cmd->name);
			else
				fwarn("%s: -%c is not an option of %s",
				    cmd->name, c, cmd->name);
			return 2;
		}
		if ((r = pk_filteropt(&o.fo, c, optarg)) == 2)
			return 2;
		if (r == 1) {
			if (c == 'f')
				o.fjson = optarg;
			continue;
		}
		switch (c) {
		case 'h':
			usage(stdout);
			return 0;
		case O_JSON: o.json = 1; break;
		case O_STATUS: o.status = optarg; break;
		case O_LIMIT:
			if (pk_parse_u64(optarg, 1, UINT32_MAX, &o.limit) < 0) {
				fwarn("--limit: bad number '%s'", optarg);
				return 2;
			}
			break;
		case O_TIMEOUT:
		case O_INTERVAL: {
			int64_t ns;
			if (pk_parse_duration(optarg, &ns) < 0 ||
			    (c == O_INTERVAL && ns < 1000000)) {
				fwarn("--%s: bad duration '%s'", c == O_TIMEOUT
				    ? "timeout" : "interval", optarg);
				return 2;
			}
			if (c == O_TIMEOUT)
				o.timeout_ns = ns;
			else
				o.interval_ns = ns;
			break;
		}
		case O_WAIT: o.wait = 1; break;
		case O_DRY: o.dry = 1; break;
		case O_PROGRESS: o.progress = 1; progress_set = 1; break;
		case O_NOPROGRESS: o.progress = 0; progress_set = 1; break;
		case O_INCLUDE:
		case O_EXCLUDE:
			if (o.nfilt == sizeof(o.filt) / sizeof(o.filt[0])) {
				fwarn("too many --include/--exclude");
				return 2;
			}
			o.filt[o.nfilt].include = c == O_INCLUDE;
			o.filt[o.nfilt++].glob = optarg;
			break;
		case O_TYPE: o.type = optarg; break;
		case O_TLIMIT:
		case O_PLIMIT:
		case O_BLIMIT: {
			uint64_t v;
			if (pk_parse_u64(optarg, 0, UINT64_MAX / 2, &v) < 0) {
				fwarn("bad number '%s'", optarg);
				return 2;
			}
			if (c == O_TLIMIT) {
				o.tlimit = v;
				o.have_tlimit = 1;
			} else if (c == O_PLIMIT) {
				o.plimit = v;
				o.have_plimit = 1;
			} else {
				o.blimit = v;
				o.have_blimit = 1;
			}
			break;
		}
		case O_COLO: o.colo = optarg; break;
		case O_DEST: o.dest = optarg; break;
		case O_OFFSET: o.offset = optarg; break;
		case O_ACCOUNT: o.account = optarg; break;
		case O_SYSTEM: o.system = optarg; break;
		case O_RETRIES:
			if (pk_parse_u64(optarg, 0, 100, &o.retries) < 0) {
				fwarn("--retries: bad number '%s' (0-100)",
				    optarg);
				return 2;
			}
			o.have_retries = 1;
			break;
		case O_PAGESIZE:
			if (pk_parse_u64(optarg, 1, 1000, &o.page_size) < 0) {
				fwarn("--page-size: bad number '%s' (1-1000)",
				    optarg);
				return 2;
			}
			break;
		case O_MAXPAGES:
		case O_MAXOBJ:
			if (pk_parse_u64(optarg, 1, UINT32_MAX, c == O_MAXPAGES ?
			    &o.max_pages : &o.max_objects) < 0) {
				fwarn("--%s: bad number '%s' (1-%u)",
				    c == O_MAXPAGES ? "max-pages" :
				    "max-objects", optarg, UINT32_MAX);
				return 2;
			}
			break;
		case O_MAXSIZE:
			if (pk_parse_size(optarg, 1, UINT64_MAX / 2,
			    &o.max_size) < 0) {
				fwarn("--max-size: bad size '%s'", optarg);
				return 2;
			}
			o.have_max_size = 1;
			break;
		case O_SPEEDLIM:
			if (pk_parse_size(optarg, 0, UINT32_MAX,
			    &o.speed_limit) < 0) {
				fwarn("--speed-limit: bad number of bytes per "
				    "second '%s'", optarg);
				return 2;
			}
			break;
		case O_CTIMEOUT:
		case O_RTIMEOUT:
		case O_SPEEDTIME: {
			int64_t ns;
			const char *nm = c == O_CTIMEOUT ? "connect-timeout" :
			    c == O_RTIMEOUT ? "request-timeout" : "speed-time";

			/* At least 1 ms (0 would mean "none" to libcurl). */
			if (pk_parse_duration(optarg, &ns) < 0 ||
			    ns < 1000000 || ns > 86400LL * 1000000000) {
				fwarn("--%s: bad duration '%s' (1ms-24h)", nm,
				    optarg);
				return 2;
			}
			if (c == O_CTIMEOUT)
				o.connect_ns = ns;
			else if (c == O_RTIMEOUT)
				o.request_ns = ns;
			else
				o.speed_time_ns = ns;
			break;
		}
		case O_PLAINHTTP: o.allow_http = 1; break;
		case 'o': o.outdir = optarg; break;
		case 'j':
			if (pk_parse_u64(optarg, 1, 64, &o.jobs) < 0) {
				fwarn("-j: bad number '%s' (1-64)", optarg);
				return 2;
			}
			break;
		default:
			return 2;
		}
	}
	if (pk_filteropt_finish(&o.fo) != 0)
		return 2;
	if (!progress_set)
		o.progress = isatty(2);

	if (cmd->arg == NULL && optind != argc) {
		fwarn("%s: unexpected argument '%s'", cmd->name, argv[optind]);
		return 2;
	}
	if (cmd->arg != NULL) {
		if (optind + 1 != argc) {
			fwarn("%s: needs exactly one %s", cmd->name, cmd->arg);
			return 2;
		}
		o.arg = argv[optind];
		if (strcmp(cmd->arg, "ID") == 0 && !valid_id(o.arg)) {
			fwarn("%s: bad capture id '%s' (32 lower-case hex "
			    "digits, as the API gives them)", cmd->name, o.arg);
			return 2;
		}
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		fwarn("cannot start libcurl");
		return 1;
	}
	r = cmd->run(&o);
	curl_global_cleanup();
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fwarn("stdout: %s", strerror(errno));
		return 1;
	}
	return r;
}
