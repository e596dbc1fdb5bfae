/*
 * pcap-merge - merge captures into one, in timestamp order.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "merge.h"
#include "common.h"

#define DEFAULT_DEDUP_WINDOW 5000000	/* 5 ms */

/* pcap-merge(1), EXIT STATUS: mergecap's. */
enum {
	MERGE_OK = 0,
	MERGE_ERROR = 1,	/* also a damaged input, all else written */
	MERGE_USAGE = 2
};

/*
 * A shared helper's failure (enum pk_status) as pcap-merge's status; cold
 * and never inlined, so that it adds nothing to the per-packet loop.
 */
static int exit_status(int s) __attribute__((cold, noinline));

static int
exit_status(int s)
{
	return s == PK_USAGE ? MERGE_USAGE : s != PK_OK ? MERGE_ERROR : MERGE_OK;
}

static void
usage(int status)
{
	FILE *f = status == 0 ? stdout : stderr;

	fprintf(f,
"usage: pcap-merge [-aVz] [-F pcap|nsecpcap|pcapng] [-I any] [-s snaplen]\n"
"                  [--nano] [--dedup] [--dedup-window dur] [--progress]\n"
"                  [--ignore-errors] [--clock-offsets summary.json]\n"
"                  [-T tmpdir] [-w outfile|-] [input ...]\n");
	if (status != 0)	/* a usage error: the synopsis is enough */
		exit(status);
	fprintf(f,
"\n"
"  -w FILE           output file, written whole or not at all; - is stdout\n"
"  -a                concatenate the inputs instead of merging by time\n"
"  -F FORMAT         pcap, nsecpcap or pcapng (default: from the name, else pcap)\n"
"  -I any            interfaces with equal linktype and options become one\n"
"  -s SNAPLEN        cut packets to SNAPLEN bytes\n"
"  -z                compress the output with zstd (*.gz and *.zst names: by name)\n"
"  -V                verbose: per-input figures on stderr\n"
"  --nano            nanosecond pcap even when all inputs are microsecond\n"
"  --dedup           drop a packet equal to one within the dedup window\n"
"  --dedup-window D  that window (default 5ms; ns, us, ms, s)\n"
"  --progress        show progress on stderr even when it is not a tty\n"
"  --ignore-errors   damaged or unreadable inputs do not fail the run\n"
"  --clock-offsets F correct each input's clock by the clock_offset that\n"
"                    pcap-summary --json --per-file measured (F: its output)\n"
"  -T, --tmpdir DIR  directory for temporary files of big merges\n"
"  -h, --help        this text;  -v, --version  the version\n"
"\n"
"An input may be a directory (the captures below it), or - for stdin.\n"
"Exit status: 0 success, 1 runtime error or damaged input, 2 usage error.\n");
	exit(status);
}

struct opts {
	int concatenate, nano, dedup, progress, ignore_errors, verbose;
	enum pm_compression comp;
	enum pm_format format;
	uint32_t snaplen;
	int64_t dedup_window;
	const char *out, *tmpdir;
	const char *clock;		/* --clock-offsets: pcap-summary's JSON */
};

/*
 * --clock-offsets FILE: pcap-summary --json --per-file's clock_offset of
 * each file, taken off its timestamps, so that every machine's packets are
 * on the reference file's clock.  Files are matched by the name
 * pcap-summary printed, which is the path as given or walked; an input
 * with no measured offset, or an offset for no input, is named.
 */
static int
clock_offsets(const char *path, pm_merge *m, const struct pk_inputs *in)
{
	json_error_t je;
	json_t *doc, *files, *f;
	size_t i, j, used = 0;
	int status = MERGE_OK;

	if ((doc = json_load_file(path, 0, &je)) == NULL) {
		pk_warnf(path, "line %d: %s", je.line, je.text);
		return MERGE_USAGE;
	}
	if (!json_is_array(files = json_object_get(doc, "files"))) {
		pk_warnf(path, "no \"files\" array: run pcap-summary --json "
		    "--per-file");
		json_decref(doc);
		return MERGE_USAGE;
	}
	for (i = 0; i < in->n; i++) {
		json_t *off = NULL;

		json_array_foreach(files, j, f) {
			const char *name = json_string_value(
			    json_object_get(f, "name"));
			if (name != NULL && strcmp(name, in->paths[i]) == 0) {
				off = json_object_get(f, "clock_offset");
				used++;
				break;
			}
		}
		if (!json_is_number(off)) {
			pk_warnf(in->paths[i], "%s in %s; its times are kept",
			    off == NULL && j == json_array_size(files) ?
			    "not listed" : "no clock offset measured", path);
			continue;
		}
		if (fabs(json_number_value(off)) > 9e9 ||
		    pm_merge_shift(m, i, -llround(json_number_value(off) *
		    1e9)) < 0) {
			pk_warnf(path, "%s: clock_offset out of range",
			    in->paths[i]);
			status = MERGE_USAGE;
		}
	}
	if (used < json_array_size(files))
		pk_warnf(path, "%zu listed file%s not among the inputs",
		    json_array_size(files) - used,
		    json_array_size(files) - used == 1 ? "" : "s");
	json_decref(doc);
	return status;
}

/*
 * Every packet from cin to the output, opened after the first packet (its
 * header needs every input open).  0, or the exit status, said.  The loop
 * lives apart from main so that what GCC inlines into it does not change
 * with main's size (when it did, pcap-merge took 20% more user time for
 * the same instructions; make bench BASELINE=REV).
 */
static int
copy(struct pk_capin *cin, struct pk_output *out, pm_writer **w,
    const struct opts *o, const struct pk_capout_opts *co, pm_dedup *dd,
    struct pk_progress *prog, uint64_t *packets, uint64_t *dropped)
{
	struct pm_packet pkt;
	int rc, status;

	while ((rc = pk_capin_next(cin, &pkt)) >= 0) {
		if (*w == NULL &&
		    (status = exit_status(pk_capout_open(out, w, o->out, cin->m,
		    co))) != 0)
			return status;
		if (rc == 0)
			break;
		if (o->snaplen && pkt.caplen > o->snaplen)
			pkt.caplen = o->snaplen;
		if (dd != NULL) {
			if ((rc = pm_dedup_check(dd, &pkt)) < 0) {
				pk_warn("out of memory");
				return MERGE_ERROR;
			}
			if (rc == 1) {
				(*dropped)++;
				continue;
			}
		}
		if ((rc = pm_writer_write_ref(*w, &pkt)) < 0) {
			pk_progress_done(prog);
			if (rc == PM_ERR_LINKTYPE)
				pk_report_mixed(cin->m);
			else
				pk_warnf(o->out, "%s", pm_writer_geterr(*w));
			return MERGE_ERROR;
		}
		(*packets)++;
		if (prog->on)
			pk_progress_update(prog, pm_merge_bytes_in(cin->m),
			    *packets);
	}
	pk_progress_done(prog);
	return rc < 0 ? MERGE_ERROR : MERGE_OK;
}

int
main(int argc, char **argv)
{
	/* long-only options: codes no letter has */
	enum { O_NANO = 256, O_DEDUP, O_WINDOW, O_PROGRESS, O_IGN, O_CLOCK };
	static const struct option longopts[] = {
		{ "nano", no_argument, NULL, O_NANO },
		{ "dedup", no_argument, NULL, O_DEDUP },
		{ "dedup-window", required_argument, NULL, O_WINDOW },
		{ "progress", no_argument, NULL, O_PROGRESS },
		{ "ignore-errors", no_argument, NULL, O_IGN },
		{ "clock-offsets", required_argument, NULL, O_CLOCK },
		{ "tmpdir", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 }
	};
	struct opts o = { .format = PM_FMT_PCAP, .out = NULL,
	    .dedup_window = DEFAULT_DEDUP_WINDOW };
	struct pk_inputs in = { 0 };
	struct pk_output out = { .fd = -1 };
	struct pk_progress prog = { 0 };
	struct pk_capin cin = { 0 };
	struct pk_capout_opts co;
	pm_writer *w = NULL;
	pm_dedup *dd = NULL;
	uint64_t v, packets = 0, dropped = 0;
	int c, status = 0, format_given = 0;
	size_t i;

	pk_setprogname(argv[0]);
	/* mergecap's letters mean what they mean there: -V verbose, -v
	 * version; any other letter is refused, never silently taken. */
	while ((c = getopt_long(argc, argv, "aF:hI:s:T:vVw:z", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'a':
			o.concatenate = 1;
			break;
		case 'F':
			if (pk_parse_format(optarg, &o.format, &o.nano) < 0)
				usage(MERGE_USAGE);
			format_given = 1;
			break;
		case 'I':
			if (strcmp(optarg, "any") != 0) {
				pk_warn("-I %s: pcap-merge makes interfaces "
				    "with equal linktype and options one, as "
				    "mergecap's -I any; other modes are not "
				    "supported", optarg);
				usage(MERGE_USAGE);
			}
			break;
		case 's':
			if (pk_parse_u64(optarg, 1, PM_MAX_CAPLEN, &v) < 0) {
				pk_warn("-s: '%s' is not a snaplen from 1 to "
				    "%u", optarg, PM_MAX_CAPLEN);
				usage(MERGE_USAGE);
			}
			o.snaplen = (uint32_t)v;
			break;
		case 'T':
			o.tmpdir = optarg;
			break;
		case 'w':
			o.out = optarg;
			break;
		case 'z':
			o.comp = PM_COMP_ZSTD;
			break;
		case O_NANO:
			o.nano = 1;
			break;
		case O_DEDUP:
			o.dedup = 1;
			break;
		case O_WINDOW:
			if (pk_parse_duration(optarg, &o.dedup_window) < 0) {
				pk_warn("--dedup-window: '%s' is not a "
				    "duration such as 5ms", optarg);
				usage(MERGE_USAGE);
			}
			o.dedup = 1;
			break;
		case O_PROGRESS:
			o.progress = 1;
			break;
		case O_IGN:
			o.ignore_errors = 1;
			break;
		case O_CLOCK:
			o.clock = optarg;
			break;
		case 'h':
			usage(0);
			break;
		case 'V':
			o.verbose = 1;
			break;
		case 'v':
			printf("pcap-merge (pcapkit) %s\n", PK_VERSION);
			return 0;
		default:
			usage(MERGE_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (o.out == NULL)
		o.out = "-";
	if ((status = exit_status(pk_output_by_name(o.out, format_given,
	    &o.format, &o.comp))) != 0)
		goto out;

	pk_inputs_output(&in, o.out);
	for (i = 0; i < (size_t)argc; i++)
		if ((status = exit_status(pk_inputs_add(&in, argv[i]))) != 0)
			goto out;
	if (argc == 0) {
		if (isatty(STDIN_FILENO)) {
			pk_warn("no input files, and stdin is a terminal");
			usage(MERGE_USAGE);
		}
		pk_inputs_add(&in, "-");
	}
	if (in.n == 0) {
		pk_warn("no input files");
		status = MERGE_ERROR;
		goto out;
	}
	if (strcmp(o.out, "-") == 0 && isatty(STDOUT_FILENO)) {
		pk_warn("refusing to write a capture to a terminal; use -w "
		    "FILE or a pipe");
		status = MERGE_USAGE;
		goto out;
	}

	pk_signals_init();
	pk_progress_init(&prog, o.progress || isatty(STDERR_FILENO),
	    in.total_bytes);
	cin.ignore_errors = o.ignore_errors;
	cin.prog = &prog;
	if ((status = exit_status(pk_capin_open(&cin, &in, o.concatenate,
	    o.tmpdir ? o.tmpdir : getenv("TMPDIR")))) != 0)
		goto out;
	if (o.clock != NULL &&
	    (status = clock_offsets(o.clock, cin.m, &in)) != 0)
		goto out;
	if (o.dedup && (dd = pm_dedup_new(o.dedup_window)) == NULL) {
		pk_warn("out of memory");
		status = MERGE_ERROR;
		goto out;
	}
	co.format = o.format;
	co.comp = o.comp;
	co.nano = o.nano;
	co.snaplen = o.snaplen;
	co.appname = "pcapkit pcap-merge " PK_VERSION;

	if ((status = copy(&cin, &out, &w, &o, &co, dd, &prog, &packets,
	    &dropped)) != 0)
		goto out;
	if (pm_writer_finish(w) < 0) {
		pk_warnf(o.out, "%s", pm_writer_geterr(w));
		status = MERGE_ERROR;
		goto out;
	}
	if (pk_output_commit(&out) < 0) {
		status = MERGE_ERROR;
		goto out;
	}
	pk_capin_report_order(&cin);
	if (o.verbose)
		pk_capin_report_inputs(&cin, o.out, packets);
	if (dd != NULL)
		pk_warn("%llu duplicate packet%s dropped",
		    (unsigned long long)dropped, dropped == 1 ? "" : "s");
	if (cin.damaged && !o.ignore_errors)
		status = MERGE_ERROR;
out:
	pk_progress_done(&prog);
	if (status != 0)
		pk_output_abort(&out);	/* a no-op once committed */
	pm_writer_close(w);
	pm_dedup_free(dd);
	pk_capin_close(&cin);
	pk_inputs_free(&in);
	return status;
}
