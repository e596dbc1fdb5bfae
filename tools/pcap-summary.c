/*
 * pcap-summary - packet and byte counts of captures, and checks that a
 * capture is complete and matches the capture object that asked for it.
 *
 * The inputs are read once each, by worker threads that take turns at
 * merging runs of them (lanes: libmerge's pm_scan); the whole-input figures (largest gap, first and last packet,
 * first offenders) are those of the merged capture (tools/summary/scan.c).
 * Per-file figures come from libmerge's reader counters, which stay exact
 * even when a big merge goes through temporary files.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "summary.h"

/* A shared helper's failure (enum pk_status) as pcap-summary's status. */
static int
exit_status(int s)
{
	return s == PK_USAGE ? SUMMARY_USAGE : SUMMARY_ERROR;
}

static void
usage(int status)
{
	FILE *f = stdout;

	if (status != 0)	/* a usage error: its one line was said */
		pk_try_help(status);

	fprintf(f,
"usage: pcap-summary [--json] [--per-file] [--flows N] [--src addr]\n"
"                    [--dst addr] [--sport port] [--dport port] [--host addr]\n"
"                    [--port port] [--proto proto] [-f json] [--from-capture file]\n"
"                    [--layer outer|inner|any] [--both-directions]\n"
"                    [--expect capture.json|dir] [--tolerance dur]\n"
"                    [--fail-on-warn] [--max-loss frac] [--no-completeness]\n"
"                    [--max-clock-offset dur] [--timeline[=ascii|unicode]]\n"
"                    [--start time] [--stop time] [--ignore-errors] [--progress]\n"
"                    [--threads n] [--tmpdir dir] [input ...]\n"
"       pcap-summary -T [-cdeilostuxyzES] [-Rr] [-Bmb] [-NqQ] [input ...]\n");
	fprintf(f,
"\n"
"  --per-file           the counts of each file as well as the total\n"
"  --flows N            the N largest 5-tuples by wire bytes\n"
"  --json               one JSON document (schema in pcap-summary(1))\n"
"  TUPLE OPTIONS        as in pcap-filter: count what matches, and not\n"
"  --start, --stop TIME only packets in [start, stop) (RFC 3339, epoch seconds)\n"
"  --expect FILE|DIR    check the inputs against a capture object (API JSON),\n"
"                       and manifest.json beside it; DIR: pcap-fetch's -o DIR\n"
"  --tolerance DUR      slack around the capture's time window (default 5s)\n"
"  --fail-on-warn       a warning fails the checks too\n"
"  --max-loss FRAC      capture_loss warns above FRAC (default 0.1%%)\n"
"  --max-clock-offset DUR  the clock check warns above DUR (default 1ms)\n"
"  --no-completeness    do not measure capture loss, silent stretches and\n"
"                       clock offsets (on with --per-file, --json, --expect)\n"
"  --timeline[=ascii]   one row per file: its packets over the capture's time\n"
"  --ignore-errors      damaged or unreadable inputs do not fail the run\n"
"  --progress           show progress on stderr even when it is not a tty\n"
"  --threads N          worker threads (default: one per CPU, at most 8)\n"
"  --tmpdir DIR         directory for temporary files of big merges\n"
"  -T                   capinfos' table: a header and a row per file, the\n"
"                       columns chosen by capinfos' letters: -c packets,\n"
"                       -s file size, -d data size, -l snaplen, -u duration,\n"
"                       -a start, -e end, -S times as seconds, -y, -i byte\n"
"                       and bit rate, -z packet size, -x packet rate, -o in\n"
"                       order, -t type, -E encapsulation (none: all);\n"
"                       -r no header; -m, -b comma or space; -q, -Q quotes\n"
"  -h, --help           this text;  -v, -V, --version  the version\n"
"\n"
"Exit status: 0 success (every check ok), 1 a check failed or an input is\n"
"damaged, 2 usage error, 3 runtime error.\n");
	exit(status);
}

int
main(int argc, char **argv)
{
	enum { O_JSON = 256, O_PERFILE, O_FLOWS, O_EXPECT, O_FAILWARN,
	    O_TOL, O_IGN, O_PROGRESS, O_THREADS, O_MAXLOSS, O_NOCOMP,
	    O_TIMELINE, O_MAXCLOCK, O_TMPDIR, O_START, O_STOP };
	static const struct option longopts[] = {
		PK_FILTER_LONGOPTS,
		{ "json", no_argument, NULL, O_JSON },
		{ "per-file", no_argument, NULL, O_PERFILE },
		{ "flows", required_argument, NULL, O_FLOWS },
		{ "expect", required_argument, NULL, O_EXPECT },
		{ "fail-on-warn", no_argument, NULL, O_FAILWARN },
		{ "tolerance", required_argument, NULL, O_TOL },
		{ "ignore-errors", no_argument, NULL, O_IGN },
		{ "progress", no_argument, NULL, O_PROGRESS },
		{ "threads", required_argument, NULL, O_THREADS },
		{ "max-loss", required_argument, NULL, O_MAXLOSS },
		{ "no-completeness", no_argument, NULL, O_NOCOMP },
		{ "timeline", optional_argument, NULL, O_TIMELINE },
		{ "max-clock-offset", required_argument, NULL, O_MAXCLOCK },
		{ "tmpdir", required_argument, NULL, O_TMPDIR },
		{ "start", required_argument, NULL, O_START },
		{ "stop", required_argument, NULL, O_STOP },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 }
	};
	static struct pk_filteropt fopt;
	static struct run r;
	static struct expect e;
	struct check ck[16];
	struct pk_progress prog = { 0 };
	char errbuf[PF_ERRBUF_SIZE];
	const char *expect_path = NULL, *tmpdir = NULL, *expect_dir = NULL;
	char *capture_path = NULL, *dir_buf = NULL;
	int64_t tolerance = DEFAULT_TOLERANCE;
	uint64_t v;
	int c, status = 0, fail_on_warn = 0, progress = 0, verdict = CK_OK;
	int nocomp = 0;
	size_t i, nck = 0, threads = 0;
	static struct pk_window win;
	const char *tflag = NULL;	/* the first capinfos letter given */
	char letter[3] = "-?";

	pk_setprogname(argv);
	memset(ck, 0, sizeof(ck));
	r.max_loss = DEFAULT_MAX_LOSS;
	r.max_clock = DEFAULT_MAX_CLOCK;
	r.tsep = '\t';
	r.theader = 1;
	/*
	 * capinfos' letters mean what they mean there: -T the table, its
	 * columns and layout, -v the version.  -V stays the version too.
	 */
	while ((c = getopt_long(argc, argv, "f:hTvVcsdlueaoSyizxtERrBmbNqQ",
	    longopts, NULL)) != -1) {
		static const char cols[] = "tElcsduaeyizxo";	/* TC_* order */
		const char *k;

		if (c < 128 && c > 0 && (k = strchr(cols, c)) != NULL) {
			r.tcols |= 1u << (k - cols);
			if (tflag == NULL) {
				letter[1] = (char)c;
				tflag = letter;
			}
			continue;
		}
		switch (c) {
		case 'T':
			r.table = 1;
			break;
		case 'S':
			r.tseconds = 1;
			break;
		case 'R': case 'r':
			r.theader = c == 'R';
			break;
		case 'B': case 'm': case 'b':
			r.tsep = c == 'B' ? '\t' : c == 'm' ? ',' : ' ';
			break;
		case 'N': case 'q': case 'Q':
			r.tquote = c == 'N' ? 0 : c == 'q' ? '\'' : '"';
			break;
		case O_START:
		case O_STOP:
			if (pk_window_opt(&win, c == O_STOP, c == O_START ?
			    "--start" : "--stop", optarg) != 0)
				usage(SUMMARY_USAGE);
			break;
		case O_JSON:
			r.json = 1;
			break;
		case O_PERFILE:
			r.per_file = 1;
			break;
		case O_FLOWS:
			if (pk_parse_u64(optarg, 1, 1000000, &v) < 0) {
				pk_warn("--flows: '%s' is not a number from 1 "
				    "to 1000000", optarg);
				usage(SUMMARY_USAGE);
			}
			r.nflows = (size_t)v;
			break;
		case O_EXPECT:
			expect_path = optarg;
			break;
		case O_FAILWARN:
			fail_on_warn = 1;
			break;
		case O_MAXLOSS:
			if (pk_parse_fraction(optarg, &r.max_loss) < 0) {
				pk_warn("--max-loss: '%s' is not a fraction from "
				    "0 to 1 (0.001, or 0.1%%)", optarg);
				usage(SUMMARY_USAGE);
			}
			break;
		case O_NOCOMP:
			nocomp = 1;
			break;
		case O_MAXCLOCK:
			if (pk_parse_duration(optarg, &r.max_clock) < 0) {
				pk_warn("--max-clock-offset: '%s' is not a "
				    "duration", optarg);
				usage(SUMMARY_USAGE);
			}
			break;
		case O_TIMELINE:
			if (optarg == NULL)
				r.timeline = TL_UNICODE;
			else if (strcmp(optarg, "ascii") == 0)
				r.timeline = TL_ASCII;
			else if (strcmp(optarg, "unicode") == 0)
				r.timeline = TL_UNICODE;
			else {
				pk_warn("--timeline: '%s' is not ascii or "
				    "unicode", optarg);
				usage(SUMMARY_USAGE);
			}
			break;
		case O_TOL:
			if (pk_parse_duration(optarg, &tolerance) < 0) {
				pk_warn("--tolerance: '%s' is not a duration",
				    optarg);
				usage(SUMMARY_USAGE);
			}
			break;
		case O_IGN:
			r.ignore_errors = 1;
			break;
		case O_PROGRESS:
			progress = 1;
			break;
		case O_THREADS:
			if (pk_parse_u64(optarg, 0, MAX_WORKERS, &v) < 0) {
				pk_warn("--threads: '%s' is not a number from 0 "
				    "to %d", optarg, MAX_WORKERS);
				usage(SUMMARY_USAGE);
			}
			threads = (size_t)v;
			break;
		case O_TMPDIR:
			tmpdir = optarg;
			break;
		case 'h':
			usage(0);
			break;
		case 'v':
		case 'V':
			printf("pcap-summary (pcapkit) %s\n", PK_VERSION);
			return 0;
		default:
			if (pk_filteropt(&fopt, c, optarg) == 1)
				break;
			usage(SUMMARY_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (pk_filteropt_finish(&fopt) != 0 || pk_window_check(&win) != 0)
		usage(SUMMARY_USAGE);
	if (!r.table && (tflag != NULL || r.tseconds)) {
		pk_warn("%s picks a column of capinfos' table: add -T (the "
		    "report without -T has every figure)", tflag ? tflag :
		    "-S");
		usage(SUMMARY_USAGE);
	}
	if (r.table && (r.json || r.per_file || expect_path != NULL ||
	    r.timeline || r.nflows)) {
		pk_warn("-T prints capinfos' table alone: drop --json, "
		    "--per-file, --expect, --timeline and --flows");
		usage(SUMMARY_USAGE);
	}
	r.win = &win;
	if (fopt.given) {
		/* made here for the usage error; each worker makes its own */
		pf_filter *f = pf_filter_new(fopt.tuples, fopt.n, &fopt.fo,
		    errbuf);
		if (f == NULL) {
			pk_warn("%s", errbuf);
			return SUMMARY_USAGE;
		}
		pf_filter_free(f);
		r.fopt = &fopt;
	}
	if (expect_path != NULL) {
		struct pf_filter_opts eo = { .layer = PF_LAYER_ANY };
		struct stat st;

		/*
		 * --expect DIR: what pcap-fetch wrote there, capture.json,
		 * manifest.json and (without other inputs) the captures.
		 * --expect FILE: manifest.json beside FILE, when there is one.
		 */
		if (stat(expect_path, &st) == 0 && S_ISDIR(st.st_mode)) {
			expect_dir = expect_path;
			if (asprintf(&capture_path, "%s%scapture.json",
			    expect_dir, pk_ends_with(expect_dir, "/") ? "" :
			    "/") < 0) {
				pk_warn("out of memory");
				status = SUMMARY_ERROR;
				goto out;
			}
		} else if ((capture_path = strdup(expect_path)) == NULL ||
		    (dir_buf = pk_dir_of(expect_path)) == NULL) {
			pk_warn("out of memory");
			status = SUMMARY_ERROR;
			goto out;
		}
		if ((status = expect_load(&e, capture_path, tolerance)) != 0 ||
		    (status = manifest_load(&e, expect_dir ? expect_dir :
		    dir_buf)) != 0)
			goto out;
		if (e.cap.has_filter && (e.filter = pf_filter_new(&e.cap.tuple, 1, &eo,
		    errbuf)) == NULL) {
			pk_warnf(capture_path, "%s", errbuf);
			status = SUMMARY_USAGE;
			goto out;
		}
		r.e = &e;
	}
	if (argc == 0 && expect_dir != NULL) {
		argv = (char **)&expect_dir;
		argc = 1;
	}

	for (i = 0; i < (size_t)argc; i++)
		if ((status = pk_inputs_add(&r.in, argv[i])) != 0) {
			status = exit_status(status);
			goto out;
		}
	if (argc == 0) {
		if (isatty(STDIN_FILENO)) {
			pk_warn("no input files, and stdin is a terminal");
			usage(SUMMARY_USAGE);
		}
		pk_inputs_add(&r.in, "-");
	}
	if (r.in.n == 0) {
		pk_warn("no input files");
		status = SUMMARY_ERROR;
		goto out;
	}
	pk_progress_init(&prog, progress || isatty(STDERR_FILENO),
	    r.in.total_bytes);
	if (threads == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		threads = n < 1 ? 1 : n > DEFAULT_WORKERS ? DEFAULT_WORKERS :
		    (size_t)n;
	}
	r.measure = (r.per_file || r.json || r.e != NULL) && !nocomp &&
	    !r.table;
	if (r.timeline == TL_UNICODE && !r.json && !pk_utf8_locale())
		r.timeline = TL_ASCII;
	if (r.e != NULL && r.e->cap.simple)
		r.loss_na = "a simple capture is sampled (the first 160 bytes "
		    "of some packets)";
	if ((status = scan_start(&r, threads, tmpdir ? tmpdir :
	    getenv("TMPDIR"), &prog)) != 0)
		goto out;
	if (scan_collect(&r, &prog) < 0) {
		/* Said already.  Do not wait for the workers: one may be
		 * blocked reading a pipe. */
		pm_scan_abandon(r.scan);
		exit(SUMMARY_ERROR);
	}
	pk_progress_done(&prog);
	if (scan_fold(&r) < 0 || coverage_run(&r) < 0) {
		status = SUMMARY_ERROR;
		goto out;
	}
	if (r.e != NULL) {
		nck = run_checks(&r, ck);
		for (i = 0; i < nck; i++)
			if (ck[i].result > verdict)
				verdict = ck[i].result;
	}
	if ((r.table ? report_table(&r) : report_output(&r, ck, nck,
	    verdict)) < 0 || fflush(stdout) != 0 || ferror(stdout)) {
		pk_warn("stdout: %s", strerror(errno));
		status = SUMMARY_ERROR;
		goto out;
	}
	if (verdict == CK_FAIL || (verdict == CK_WARN && fail_on_warn))
		status = SUMMARY_FAILED;
	else if (r.damaged && !r.ignore_errors)
		status = SUMMARY_FAILED;
	else
		status = SUMMARY_OK;
out:
	pk_progress_done(&prog);
	for (i = 0; i < nck; i++) {
		json_decref(ck[i].measured);
		json_decref(ck[i].expected);
	}
	free(r.flows.t);
	run_free(&r);
	pk_inputs_free(&r.in);
	pf_filter_free(e.filter);
	pk_capture_free(&e.cap);
	json_decref(e.manifest);
	free(e.manifest_path);
	free(e.manifest_dir);
	free(capture_path);
	free(dir_buf);
	return status;
}
