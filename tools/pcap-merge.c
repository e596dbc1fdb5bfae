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
	FILE *f = stdout;

	if (status != 0)	/* a usage error: its one line was said */
		pk_try_help(status);

	fprintf(f,
"usage: pcap-merge [-aVz] [-F pcap|nsecpcap|pcapng] [-I any|all|none]\n"
"                  [-s snaplen] [-A start] [-B stop] [-c packets | -i seconds]\n"
"                  [--nano] [--dedup] [--dedup-window dur] [--progress]\n"
"                  [--ignore-errors] [--clock-offsets summary.json]\n"
"                  [--tmpdir dir] [-w outfile|-] [input ...]\n");
	fprintf(f,
"\n"
"  -w FILE           output file, written whole or not at all; - is stdout\n"
"  -a                concatenate the inputs instead of merging by time\n"
"  -F FORMAT         pcap, nsecpcap or pcapng (default: from the name, else pcap)\n"
"  -I MODE           any (default): interfaces with equal linktype and options\n"
"                    become one; none: each input's own, named after it\n"
"                    (pcapng); all: as any if the inputs' interfaces agree,\n"
"                    else as none\n"
"  -s SNAPLEN        cut packets to SNAPLEN bytes\n"
"  -A, --start TIME  only packets at or after TIME (RFC 3339, or epoch seconds)\n"
"  -B, --stop TIME   only packets before TIME\n"
"  -c, --split-packets N   split the output into files of N packets, named\n"
"                    as editcap names them (out_00000_YYYYMMDDHHMMSS.pcap)\n"
"  -i, --split-seconds S   split it into files of S seconds each\n"
"  -z                compress the output with zstd (*.gz and *.zst names: by name)\n"
"  -V                verbose: per-input figures on stderr\n"
"  --nano            nanosecond pcap even when all inputs are microsecond\n"
"  --dedup           drop a packet equal to one within the dedup window\n"
"  --dedup-window D  that window (default 5ms; ns, us, ms, s)\n"
"  --progress        show progress on stderr even when it is not a tty\n"
"  --ignore-errors   damaged or unreadable inputs do not fail the run\n"
"  --clock-offsets F correct each input's clock by the clock_offset that\n"
"                    pcap-summary measured (F: its JSON, per file)\n"
"  --tmpdir DIR      directory for temporary files of big merges\n"
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
	int ifmode;			/* -I: IF_ANY, IF_NONE, IF_ALL */
};

enum { IF_ANY, IF_NONE, IF_ALL };

/*
 * -I none: each input keeps interfaces of its own, named after it: if_name
 * is the input's path (what tshark shows as frame.interface_name);
 * an if_name it had becomes its if_description, unless it has one.  The
 * writer makes one interface per distinct linktype and options, so the
 * names keep the inputs apart.  Per input, the options last built are kept
 * with the ones they were built from, so a packet costs a compare.
 */
struct ifname {
	uint8_t *from, *to;
	uint32_t fromlen, tolen;
	int built;
};

static size_t
opt_put(uint8_t *b, uint16_t code, const void *v, size_t len)
{
	memcpy(b, &code, 2);
	memcpy(b + 2, &(uint16_t){ (uint16_t)len }, 2);
	memcpy(b + 4, v, len);
	memset(b + 4 + len, 0, (4 - len % 4) % 4);
	return 4 + len + (4 - len % 4) % 4;
}

static const uint8_t *
if_named(struct ifname *n, const char *path, const uint8_t *io, uint32_t iol,
    uint32_t *outlen)
{
	/* the path as given or walked: two machines' files of one name under
	 * different prefixes stay apart */
	const char *base = path;
	const uint8_t *name = NULL, *desc = NULL;
	uint16_t namelen = 0, desclen = 0, code, len;
	size_t off, k = 0, blen, step;
	uint8_t *b;

	if (n->built && n->fromlen == iol && (iol == 0 ||
	    memcmp(n->from, io, iol) == 0)) {
		*outlen = n->tolen;
		return n->to;
	}
	blen = strlen(base) > 4000 ? 4000 : strlen(base);
	/* every option at most 3 bytes of padding more than it came with */
	if ((b = malloc(2 * (size_t)iol + blen + 16)) == NULL)
		return NULL;
	for (off = 0; off + 4 <= iol; off += step) {
		memcpy(&code, io + off, 2);
		memcpy(&len, io + off + 2, 2);
		step = 4 + (size_t)len + (4 - len % 4) % 4;
		if (off + 4 + len > iol)
			break;
		if (code == 2) {		/* if_name */
			name = io + off + 4;
			namelen = len;
		} else if (code == 3) {		/* if_description */
			desc = io + off + 4;
			desclen = len;
		} else {
			size_t take = step > iol - off ? iol - off : step;

			memcpy(b + k, io + off, take);
			memset(b + k + take, 0, step - take);
			k += step;
		}
	}
	k += opt_put(b + k, 2, base, blen);
	if (desc != NULL)
		k += opt_put(b + k, 3, desc, desclen);
	else if (name != NULL)
		k += opt_put(b + k, 3, name, namelen);
	free(n->from);
	free(n->to);
	n->from = NULL;
	if (iol > 0 && (n->from = malloc(iol)) == NULL) {
		free(b);
		n->to = NULL;
		n->built = 0;
		return NULL;
	}
	if (iol > 0)
		memcpy(n->from, io, iol);
	n->fromlen = iol;
	n->to = b;
	n->tolen = (uint32_t)k;
	n->built = 1;
	*outlen = n->tolen;
	return b;
}

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
/* -I all: the inputs declare the same interfaces (by linktype). */
static int
same_interfaces(pm_merge *m)
{
	const struct pm_input_info *a = pm_merge_input(m, 0), *b;
	size_t i;

	for (i = 1; i < pm_merge_count(m); i++) {
		b = pm_merge_input(m, i);
		if (b->nlinktypes != a->nlinktypes ||
		    memcmp(b->linktypes, a->linktypes, sizeof(a->linktypes)) != 0)
			return 0;
	}
	return 1;
}

static int
copy(struct pk_capin *cin, struct pk_output *out, pm_writer **w,
    const struct opts *o, const struct pk_capout_opts *co, pm_dedup *dd,
    struct pk_progress *prog, uint64_t *packets, uint64_t *dropped,
    struct ifname *names, struct pk_split *split)
{
	struct pm_packet pkt;
	struct pm_meta meta;
	int rc, status, passes_said = 0;

	while ((rc = pk_capin_next(cin, &pkt)) >= 0) {
		if (*packets == 0 && (*w == NULL || split != NULL)) {
			if (split == NULL && (status = exit_status(
			    pk_capout_open(out, w, o->out, cin->m, co))) != 0)
				return status;
			/* every input is open now */
			if (o->ifmode == IF_ALL && same_interfaces(cin->m))
				names = NULL;		/* -I any */
		}
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
		if (names != NULL) {
			size_t i = pm_merge_last_input(cin->m);

			memset(&meta, 0, sizeof(meta));
			if (pkt.meta != NULL)
				meta = *pkt.meta;
			if (i == (size_t)-1 && !passes_said) {
				pk_warn("-I %s: more inputs than may be open at "
				    "once were merged in passes; their packets' "
				    "interfaces are not named after them",
				    o->ifmode == IF_NONE ? "none" : "all");
				passes_said = 1;
			}
			if (i != (size_t)-1 && (meta.ifopts = if_named(&names[i],
			    pm_merge_input_name(cin->m, i), meta.ifopts,
			    meta.ifoptlen, &meta.ifoptlen)) == NULL) {
				pk_warn("out of memory");
				return MERGE_ERROR;
			}
			pkt.meta = &meta;
		}
		if (split != NULL) {
			if ((status = pk_split_write(split, out, w, cin->m, co,
			    &pkt)) != 0) {
				pk_progress_done(prog);
				return exit_status(status);
			}
		} else if ((rc = pm_writer_write_ref(*w, &pkt)) < 0) {
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
	enum { O_NANO = 256, O_DEDUP, O_WINDOW, O_PROGRESS, O_IGN, O_CLOCK,
	    O_TMPDIR };
	static const struct option longopts[] = {
		{ "nano", no_argument, NULL, O_NANO },
		{ "dedup", no_argument, NULL, O_DEDUP },
		{ "dedup-window", required_argument, NULL, O_WINDOW },
		{ "progress", no_argument, NULL, O_PROGRESS },
		{ "ignore-errors", no_argument, NULL, O_IGN },
		{ "clock-offsets", required_argument, NULL, O_CLOCK },
		{ "tmpdir", required_argument, NULL, O_TMPDIR },
		{ "start", required_argument, NULL, 'A' },
		{ "stop", required_argument, NULL, 'B' },
		{ "split-packets", required_argument, NULL, 'c' },
		{ "split-seconds", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 }
	};
	struct opts o = { .format = PM_FMT_PCAP, .out = NULL,
	    .dedup_window = DEFAULT_DEDUP_WINDOW };
	struct pk_inputs in = { 0 };
	struct ifname *names = NULL;
	struct pk_output out = { .fd = -1 };
	struct pk_progress prog = { 0 };
	struct pk_capin cin = { 0 };
	struct pk_capout_opts co;
	struct pk_window win = { 0 };
	struct pk_split split = { 0 };
	pm_writer *w = NULL;
	pm_dedup *dd = NULL;
	uint64_t v, packets = 0, dropped = 0;
	int c, status = 0, format_given = 0;
	size_t i;

	pk_setprogname(argv);
	/*
	 * mergecap's letters mean what they mean there: -V verbose, -v
	 * version; editcap's -A, -B, -c, -i.  mergecap's -T (encapsulation)
	 * is refused with a hint, as is any letter neither has here.
	 */
	while ((c = getopt_long(argc, argv, "aA:B:c:F:hi:I:s:T:vVw:z", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'A':
		case 'B':
			if (pk_window_opt(&win, c == 'B', c == 'A' ? "-A" : "-B",
			    optarg) != 0)
				usage(MERGE_USAGE);
			break;
		case 'c':
		case 'i':
			if (pk_split_opt(&split, c == 'i', c == 'i' ? "-i" : "-c",
			    optarg) != 0)
				usage(MERGE_USAGE);
			break;
		case 'a':
			o.concatenate = 1;
			break;
		case 'F':
			if (pk_parse_format(optarg, &o.format, &o.nano) < 0)
				usage(MERGE_USAGE);
			format_given = 1;
			break;
		case 'I':
			if (strcmp(optarg, "any") == 0)
				o.ifmode = IF_ANY;
			else if (strcmp(optarg, "none") == 0)
				o.ifmode = IF_NONE;
			else if (strcmp(optarg, "all") == 0)
				o.ifmode = IF_ALL;
			else {
				pk_warn("-I %s: the modes are none, all and any "
				    "(the default), as mergecap's", optarg);
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
			pk_warn("-T is mergecap's encapsulation type, which "
			    "pcap-merge keeps from the inputs; the directory for "
			    "temporary files is --tmpdir");
			usage(MERGE_USAGE);
			break;
		case O_TMPDIR:
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
	if (pk_window_check(&win) != 0)
		usage(MERGE_USAGE);
	if (split.packets != 0 && split.interval != 0) {
		pk_warn("-c and -i split by count or by time, not both (as "
		    "editcap)");
		usage(MERGE_USAGE);
	}
	if (o.out == NULL)
		o.out = "-";
	if ((status = exit_status(pk_split_init(&split, o.out))) != 0) {
		if (status == MERGE_USAGE)
			usage(MERGE_USAGE);
		goto out;
	}
	if ((status = exit_status(pk_output_by_name(o.out, format_given,
	    &o.format, &o.comp))) != 0)
		goto out;
	if (o.ifmode == IF_NONE && o.format != PM_FMT_PCAPNG) {
		pk_warn("-I none keeps each input's interfaces apart, which only "
		    "pcapng can: add -F pcapng or name the output .pcapng");
		status = MERGE_USAGE;
		goto out;
	}

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
	if (pk_split_check_inputs(&split, &in) != 0) {
		status = MERGE_USAGE;
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
	cin.win = &win;
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

	if (o.ifmode != IF_ANY && (names = calloc(pm_merge_count(cin.m),
	    sizeof(*names))) == NULL) {
		pk_warn("out of memory");
		status = MERGE_ERROR;
		goto out;
	}
	if ((status = copy(&cin, &out, &w, &o, &co, dd, &prog, &packets,
	    &dropped, names, PK_SPLITTING(&split) ? &split : NULL)) != 0)
		goto out;
	if (PK_SPLITTING(&split)) {
		if ((status = exit_status(pk_split_finish(&split, &out, &w)))
		    != 0)
			goto out;
	} else if (pk_capout_finish(w, o.out) != 0) {
		status = MERGE_ERROR;
		goto out;
	} else if (pk_output_commit(&out) < 0) {
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
	if (status != 0) {
		pk_output_abort(&out);	/* a no-op once committed */
		pk_split_abort(&split);
	}
	pk_split_free(&split);
	pm_writer_close(w);
	pm_dedup_free(dd);
	for (i = 0; names != NULL && i < pm_merge_count(cin.m); i++) {
		free(names[i].from);
		free(names[i].to);
	}
	free(names);
	pk_capin_close(&cin);
	pk_inputs_free(&in);
	return status;
}
