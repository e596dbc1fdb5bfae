/*
 * cmd.h - pcap-fetch's commands (cmd_api.c: list, show, wait, create,
 * stop; cmd_get.c: get, bucket) and what they share with main in
 * tools/pcap-fetch.c.  Unlike the other tools/fetch modules these print:
 * every message through fwarn, every server string through pk_render.
 * Each command returns the exit status.
 */
#ifndef PCAPKIT_FETCH_CMD_H
#define PCAPKIT_FETCH_CMD_H

#include <stdint.h>

#include <jansson.h>

#include "api.h"
#include "filteropt.h"

/* pcap-fetch(1), EXIT STATUS; every command returns one of these. */
enum {
	FETCH_OK = 0,		/* every file fetched and verified */
	FETCH_FAILED = 1,	/* any failure, each named */
	FETCH_USAGE = 2
};

/* The options of every command (main checks which a command takes). */
struct fetch_opts {
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
 * Every message goes through fwarn: whatever a server put in it (keys,
 * ids, statuses, error messages) is rendered by pk_render, so that no
 * escape sequence from a server reaches a terminal or a log raw.
 */
void fwarn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fnote(const char *msg);			/* fwarn("%s", msg) */
/* Erase the progress line, if one is shown (before a message). */
void fetch_progress_erase(void);
const char *fetch_env(const char *name);
/* The retry and time bounds the options ask for. */
void set_retry(const struct fetch_opts *o, struct pk_retry *r);
const char *jstr(json_t *o, const char *k);	/* "" for none */
int api_open(const struct fetch_opts *o, struct pk_api *a);
/* GET /pcaps/ID; the capture object or NULL (said why). */
json_t *get_capture(struct pk_api *a, const char *id);
int is_done(const char *status);
/* Poll until done: 0 done (*cap set), 1 failed or timed out (said). */
int wait_for(const struct fetch_opts *o, struct pk_api *a, json_t **cap);

int cmd_list(const struct fetch_opts *o);
int cmd_show(const struct fetch_opts *o);
int cmd_wait(const struct fetch_opts *o);
int cmd_get(const struct fetch_opts *o);
int cmd_bucket(const struct fetch_opts *o);
int cmd_create(const struct fetch_opts *o);
int cmd_stop(const struct fetch_opts *o);

#endif
