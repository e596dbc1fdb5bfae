/*
 * cmd_api.c - pcap-fetch's commands that only talk to the API: list,
 * show, wait, create, stop.  See cmd.h.
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

const char *
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

int
api_open(const struct fetch_opts *o, struct pk_api *a)
{
	char err[PK_ERRLEN];

	if (pk_api_init(a, o->account, o->allow_http, fetch_env, err) < 0) {
		fwarn("%s", err);
		return -1;
	}
	set_retry(o, &a->retry);
	a->say = fnote;
	return 0;
}

/* GET /pcaps/ID; the capture object or NULL (said why). */
json_t *
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
	    pk_render(jstr(c, "id"), id, sizeof(id)),
	    pk_render(jstr(c, "type"), ty, sizeof(ty)),
	    pk_render(jstr(c, "status"), st, sizeof(st)),
	    pk_render(jstr(c, "submitted"), sub, sizeof(sub)),
	    pk_render(jstr(c, "colo_name"), colo, sizeof(colo)),
	    pk_render(pk, pkr, sizeof(pkr)));
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
int
cmd_list(const struct fetch_opts *o)
{
	struct pk_api a;
	json_t *res, *info, *c;
	char err[PK_ERRLEN], q[64];
	unsigned per = o->page_size ? (unsigned)o->page_size : 50;
	uint64_t page = 1, seen = 0;
	size_t i, shown = 0, got;
	int rc = FETCH_FAILED;

	if (api_open(o, &a) < 0)
		return FETCH_FAILED;
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
	rc = FETCH_OK;
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
		printf("%-17s %s\n", keys[i], pk_render(t, r, sizeof(r)));
	}
	json_object_foreach(c, k, v) {
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (strcmp(k, keys[i]) == 0)
				break;
		if (i < sizeof(keys) / sizeof(keys[0]))
			continue;
		jtext(v, t, sizeof(t));
		printf("%-17s %s\n", pk_render(k, kr, sizeof(kr)),
		    pk_render(t, r, sizeof(r)));
	}
}

int
cmd_show(const struct fetch_opts *o)
{
	struct pk_api a;
	json_t *c;

	if (api_open(o, &a) < 0)
		return FETCH_FAILED;
	c = get_capture(&a, o->arg);
	pk_api_close(&a);
	if (c == NULL)
		return FETCH_FAILED;
	if (o->json)
		print_json(c);
	else
		show_table(c);
	json_decref(c);
	return 0;
}

/* ---- wait ------------------------------------------------------------- */

int
is_done(const char *s)
{
	return strcmp(s, "success") == 0 || strcmp(s, "complete") == 0;
}

/*
 * Poll until done: 0 done (*cap set), 1 failed or timed out.  --timeout
 * bounds the whole wait: each request is cut at the deadline, and so is
 * each pause between them.
 */
int
wait_for(const struct fetch_opts *o, struct pk_api *a, json_t **cap)
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
			return FETCH_FAILED;
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
			return FETCH_FAILED;
		}
		json_decref(c);
		left = deadline - pk_now_ms();
		if (left <= 0) {
			fwarn("%s: still %s after the --timeout", o->arg,
			    last);
			a->retry.deadline_ms = 0;
			return FETCH_FAILED;
		}
		pk_sleep_ms(o->interval_ns / 1000000 < left ?
		    o->interval_ns / 1000000 : left);
	}
}

int
cmd_wait(const struct fetch_opts *o)
{
	struct pk_api a;
	json_t *c = NULL;
	int rc;

	if (api_open(o, &a) < 0)
		return FETCH_FAILED;
	rc = wait_for(o, &a, &c);
	json_decref(c);
	pk_api_close(&a);
	return rc;
}

/* ---- create, stop ------------------------------------------------------ */

int
cmd_create(const struct fetch_opts *o)
{
	json_t *req = json_object(), *fv = NULL, *res = NULL;
	struct pk_api a;
	char err[PK_ERRLEN], *body = NULL;
	int simple, rc = FETCH_FAILED;

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
	rc = FETCH_OK;
out:
	free(body);
	json_decref(res);
	json_decref(req);
	return rc;
usage:
	json_decref(req);
	return FETCH_USAGE;
}

int
cmd_stop(const struct fetch_opts *o)
{
	struct pk_api a;
	char path[96], err[PK_ERRLEN];

	if (api_open(o, &a) < 0)
		return FETCH_FAILED;
	snprintf(path, sizeof(path), "/%s/stop", o->arg);
	if (pk_api_call(&a, "PUT", path, NULL, NULL, NULL, NULL, err) < 0) {
		fwarn("%s: stop: %s", o->arg, err);
		pk_api_close(&a);
		return FETCH_FAILED;
	}
	pk_api_close(&a);
	fwarn("%s: stop requested", o->arg);
	return 0;
}

