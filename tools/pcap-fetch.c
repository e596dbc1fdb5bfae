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

#include "msg.h"
#include "text.h"
#include "cmd.h"
#include "filteropt.h"

static void
usage(FILE *f)
{
	fprintf(f,
"usage: pcap-fetch list   [--json] [--status S] [--limit N]\n"
"       pcap-fetch show   ID [--json]\n"
"       pcap-fetch wait   ID [--timeout DUR] [--interval DUR]\n"
"       pcap-fetch get    ID [-o DIR] [--wait [--timeout DUR] [--interval DUR]]\n"
"                         [-j N] [--dry-run] [--progress]\n"
"       pcap-fetch bucket URL [-o DIR] [--include GLOB] [--exclude GLOB] [-j N]\n"
"                         [--dry-run] [--progress]\n"
"       pcap-fetch create --type simple|full [TUPLE OPTIONS | -f JSON]\n"
"                         --time-limit S [--packet-limit N] [--byte-limit N]\n"
"                         [--colo C] [--dest URL] [--offset-time T]\n"
"                         [--system NAME] [--json]\n"
"       pcap-fetch stop   ID\n"
"       pcap-fetch --version\n"
"listings (list, get, bucket): [--page-size N] [--max-pages N] [--max-objects N]\n"
"downloads (get, bucket): [--max-size SIZE] [--speed-limit BYTES]\n"
"                         [--speed-time DUR]\n"
"all but bucket: [--account ID]\n"
"all: [--retries N] [--connect-timeout DUR] [--request-timeout DUR]\n"
"     [--allow-plain-http] [-h]\n"
"  -o, --output DIR     where files go (default: .)\n"
"  -j, --jobs N         parallel transfers (default 4)\n"
"  --progress, --no-progress   progress on stderr (default: when a terminal)\n"
"  -h, --help           this text;  --version  the version\n"
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

/*
 * Every message goes through here: whatever a server put in it (keys,
 * ids, statuses, error messages) is rendered by pk_render, so that no
 * escape sequence from a server reaches a terminal or a log raw.
 */
void
fwarn(const char *fmt, ...)
{
	char raw[2048], shown[4096];
	va_list ap;

	fetch_progress_erase();
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	pk_warn("%s", pk_render(raw, shown, sizeof(shown)));
}

void
fnote(const char *msg)
{
	fwarn("%s", msg);
}

const char *
fetch_env(const char *name)
{
	return getenv(name);
}

void
set_retry(const struct fetch_opts *o, struct pk_retry *r)
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
	int (*run)(const struct fetch_opts *);
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
	struct fetch_opts o;
	const struct command *cmd = NULL;
	int c, r, progress_set = 0, li;
	size_t i;

	pk_setprogname(argv);
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
		fwarn("no command (list, show, wait, get, bucket, create, "
		    "stop)");
		pk_try_help(FETCH_USAGE);
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("pcap-fetch (pcapkit) %s\n", PK_VERSION);
		return 0;
	}
	o.cmd = argv[1];
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, o.cmd) == 0)
			cmd = &commands[i];
	if (cmd == NULL) {
		fwarn("unknown command '%s' (list, show, wait, get, bucket, "
		    "create, stop)", o.cmd);
		pk_try_help(FETCH_USAGE);
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
				fwarn("option '%s' needs a value",
				    argv[optind - 1]);
			else
				fwarn("unknown option '%s'", argv[optind - 1]);
			pk_try_help(FETCH_USAGE);
		}
		if ((option_cmds(c) & cmd->bit) == 0) {
			if (li >= 0)
				fwarn("--%s is not an option of %s",
				    longopts[li].name, cmd->name);
			else
				fwarn("-%c is not an option of %s", c,
				    cmd->name);
			pk_try_help(FETCH_USAGE);
		}
		if ((r = pk_filteropt(&o.fo, c, optarg)) == 2)
			pk_try_help(FETCH_USAGE);
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
				pk_try_help(FETCH_USAGE);
			}
			break;
		case O_TIMEOUT:
		case O_INTERVAL: {
			int64_t ns;
			if (pk_parse_duration(optarg, &ns) < 0 ||
			    (c == O_INTERVAL && ns < 1000000)) {
				fwarn("--%s: bad duration '%s'", c == O_TIMEOUT
				    ? "timeout" : "interval", optarg);
				pk_try_help(FETCH_USAGE);
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
				pk_try_help(FETCH_USAGE);
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
				pk_try_help(FETCH_USAGE);
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
				pk_try_help(FETCH_USAGE);
			}
			o.have_retries = 1;
			break;
		case O_PAGESIZE:
			if (pk_parse_u64(optarg, 1, 1000, &o.page_size) < 0) {
				fwarn("--page-size: bad number '%s' (1-1000)",
				    optarg);
				pk_try_help(FETCH_USAGE);
			}
			break;
		case O_MAXPAGES:
		case O_MAXOBJ:
			if (pk_parse_u64(optarg, 1, UINT32_MAX, c == O_MAXPAGES ?
			    &o.max_pages : &o.max_objects) < 0) {
				fwarn("--%s: bad number '%s' (1-%u)",
				    c == O_MAXPAGES ? "max-pages" :
				    "max-objects", optarg, UINT32_MAX);
				pk_try_help(FETCH_USAGE);
			}
			break;
		case O_MAXSIZE:
			if (pk_parse_size(optarg, 1, UINT64_MAX / 2,
			    &o.max_size) < 0) {
				fwarn("--max-size: bad size '%s'", optarg);
				pk_try_help(FETCH_USAGE);
			}
			o.have_max_size = 1;
			break;
		case O_SPEEDLIM:
			if (pk_parse_size(optarg, 0, UINT32_MAX,
			    &o.speed_limit) < 0) {
				fwarn("--speed-limit: bad number of bytes per "
				    "second '%s'", optarg);
				pk_try_help(FETCH_USAGE);
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
				pk_try_help(FETCH_USAGE);
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
				pk_try_help(FETCH_USAGE);
			}
			break;
		default:
			pk_try_help(FETCH_USAGE);
		}
	}
	if (pk_filteropt_finish(&o.fo) != 0)
		pk_try_help(FETCH_USAGE);
	if (!progress_set)
		o.progress = isatty(2);

	if (cmd->arg == NULL && optind != argc) {
		fwarn("%s takes no argument: '%s'", cmd->name, argv[optind]);
		pk_try_help(FETCH_USAGE);
	}
	if (cmd->arg != NULL) {
		if (optind + 1 != argc) {
			fwarn("%s takes exactly one %s", cmd->name, cmd->arg);
			pk_try_help(FETCH_USAGE);
		}
		o.arg = argv[optind];
		if (strcmp(cmd->arg, "ID") == 0 && !pk_valid_hex32(o.arg)) {
			fwarn("bad capture id '%s' (32 lower-case hex "
			    "digits, as the API gives them)", o.arg);
			pk_try_help(FETCH_USAGE);
		}
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		fwarn("cannot start libcurl");
		return FETCH_FAILED;
	}
	r = cmd->run(&o);
	curl_global_cleanup();
	if (r == FETCH_USAGE)
		pk_try_help(FETCH_USAGE);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fwarn("stdout: %s", strerror(errno));
		return FETCH_FAILED;
	}
	return r;
}
