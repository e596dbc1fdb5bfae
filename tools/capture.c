/* capture.c - the Cloudflare capture object; see capture.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "text.h"

static const char *
str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* A count: a non-negative integer (or a real that is one). */
static int
count(json_t *v, uint64_t *out)
{
	double d;

	if (json_is_integer(v)) {
		if (json_integer_value(v) < 0)
			return -1;
		*out = (uint64_t)json_integer_value(v);
		return 0;
	}
	if (json_is_real(v)) {
		d = json_real_value(v);
		if (d < 0 || d > 1.8e19 || d != (double)(uint64_t)d)
			return -1;
		*out = (uint64_t)d;
		return 0;
	}
	return -1;
}

int
pk_capture_parse(struct pk_capture *c, json_t *v, char *err, size_t n)
{
	json_t *o = v, *f;

	memset(c, 0, sizeof(*c));
	if (json_is_object(v) && json_is_object(json_object_get(v, "result")))
		o = json_object_get(v, "result");
	if (!json_is_object(o) || json_object_get(o, "id") == NULL) {
		snprintf(err, n, "not a capture object (no \"id\", bare or in "
		    "\"result\")");
		return -1;
	}
	c->root = json_incref(o);
	c->id = str(o, "id");
	c->type = str(o, "type");
	c->status = str(o, "status");
	c->error_message = str(o, "error_message");
	c->destination_conf = str(o, "destination_conf");
	if (c->type == NULL && json_object_get(o, "destination_conf") != NULL)
		c->type = "full";
	c->simple = c->type != NULL && strcmp(c->type, "simple") == 0;
	c->full = c->type != NULL && strcmp(c->type, "full") == 0;
	if ((f = json_object_get(o, "time_limit")) != NULL) {
		/* The API allows 1 to 86,400 s; past 10^9 s the window's
		 * arithmetic in nanoseconds would overflow. */
		if (!json_is_number(f) || !(json_number_value(f) > 0 &&
		    json_number_value(f) <= 1e9)) {
			snprintf(err, n, "time_limit: not a number of seconds "
			    "above 0 and at most 1e9");
			goto fail;
		}
		c->time_limit = json_number_value(f);
		c->has_time_limit = 1;
	}
#define COUNT(key, has, val) \
	if ((f = json_object_get(o, key)) != NULL && !json_is_null(f)) { \
		if (count(f, &c->val) < 0) { \
			snprintf(err, n, "%s: not a count", key); \
			goto fail; \
		} \
		c->has = 1; \
	}
	COUNT("packet_limit", has_packet_limit, packet_limit)
	COUNT("byte_limit", has_byte_limit, byte_limit)
	COUNT("packets_captured", has_captured, packets_captured)
#undef COUNT
	if ((f = json_object_get(o, "offset_time")) != NULL &&
	    json_is_string(f))
		c->start_field = "offset_time";
	else if ((f = json_object_get(o, "submitted")) != NULL &&
	    json_is_string(f))
		c->start_field = "submitted";
	if (c->start_field != NULL) {
		if (pk_parse_time(json_string_value(f), &c->start) < 0) {
			snprintf(err, n, "%s: '%s' is not an RFC 3339 time",
			    c->start_field, json_string_value(f));
			goto fail;
		}
		c->have_start = 1;
	}
	return 0;
fail:
	pk_capture_free(c);
	return -1;
}

int
pk_capture_tuple(struct pk_capture *c, char *err, size_t n)
{
	char errbuf[PF_ERRBUF_SIZE];
	json_t *f = json_object_get(c->root, "filter_v1");

	memset(&c->tuple, 0, sizeof(c->tuple));
	c->has_filter = 0;
	if (f != NULL && !json_is_null(f)) {
		char *text = json_dumps(f, JSON_ENCODE_ANY | JSON_COMPACT);

		if (text == NULL) {
			snprintf(err, n, "out of memory");
			return -1;
		}
		if (pf_tuple_from_json(text, strlen(text), &c->tuple,
		    errbuf) < 0) {
			snprintf(err, n, "%s", errbuf);
			free(text);
			return -1;
		}
		free(text);
		c->has_filter = c->tuple.has != 0;
	}
	return 0;
}

int
pk_capture_load(struct pk_capture *c, const char *path, char *err, size_t n)
{
	json_error_t je;
	json_t *v;
	size_t len;
	char *text;
	int rc;

	memset(c, 0, sizeof(*c));
	if ((text = pk_slurp(path, &len)) == NULL) {
		snprintf(err, n, "%s", strerror(errno));
		return -1;
	}
	/* Duplicate keys would leave which one counts to the parser. */
	v = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	free(text);
	if (v == NULL) {
		snprintf(err, n, "line %d: %s", je.line, je.text);
		return -1;
	}
	rc = pk_capture_parse(c, v, err, n);
	json_decref(v);
	if (rc == 0 && (rc = pk_capture_tuple(c, err, n)) < 0)
		pk_capture_free(c);
	return rc;
}

void
pk_capture_free(struct pk_capture *c)
{
	json_decref(c->root);
	memset(c, 0, sizeof(*c));
}
