/*
 * pcap-filter - refilter captures by filter_v1 tuples and BPF.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "merge.h"
#include "filter.h"
#include "common.h"
#include "filteropt.h"

/* pcap-filter(1), EXIT STATUS: grep's. */
enum {
	FILTER_SELECTED = 0,	/* a packet was selected */
	FILTER_NONE = 1,	/* none was */
	FILTER_USAGE = 2,
	FILTER_ERROR = 3
};

/* A shared helper's failure (enum pk_status) as pcap-filter's status. */
static int
exit_status(int s)
{
	return s == PK_USAGE ? FILTER_USAGE : FILTER_ERROR;
}

static void
usage(int status)
{
	FILE *f = stdout;

	if (status != 0)	/* a usage error: its one line was said */
		pk_try_help(status);

	fprintf(f,
"usage: pcap-filter [--src addr] [--dst addr] [--sport port] [--dport port]\n"
"                   [--host addr] [--port port] [--proto proto] [-f json]\n"
"                   [--from-capture file] [-e bpf] [-cvz]\n"
"                   [--layer outer|inner|any] [--both-directions]\n"
"                   [--start time] [--stop time] [--split-packets n |\n"
"                   --split-seconds s] [-F format] [--stats] [--json]\n"
"                   [--ignore-errors] [--tmpdir dir] [-V listfile]\n"
"                   [-w outfile|-] [input ...]\n"
"       pcap-filter [options] -r file [-r file ...] [bpf expression ...]\n");
	fprintf(f,
"\n"
"  --src, --dst ADDR    address or prefix (10.0.0.0/8, 2001:db8::/32)\n"
"  --sport, --dport N   port, 0-65535\n"
"  --host ADDR          source or destination address or prefix (tcpdump's host)\n"
"  --port N             source or destination port (tcpdump's port)\n"
"  --proto P            protocol number or name (tcp, udp, icmp, gre, ...)\n"
"  -f JSON              a filter_v1 object; several -f are ORed\n"
"  --from-capture FILE  the filter_v1 of a capture object (API JSON)\n"
"  -e EXPR              a tcpdump (BPF) expression, ANDed with the tuples\n"
"  -r FILE              read FILE, as tcpdump; the arguments left are then\n"
"                       the BPF expression (tcpdump -r FILE EXPR)\n"
"  -V FILE              read the names of the inputs from FILE, one per line\n"
"  -v                   select the packets that do not match\n"
"  -c                   print only the number of packets selected\n"
"  --layer L            which IP header must match: outer, inner, any (default)\n"
"  --both-directions    also match with source and destination swapped\n"
"  --start, --stop TIME only packets in [start, stop) (RFC 3339, epoch seconds)\n"
"  --split-packets N    split the output into files of N packets, as editcap\n"
"  --split-seconds S    split it into files of S seconds, as editcap\n"
"  --tmpdir DIR         directory for temporary files of big merges\n"
"  -w FILE, -F, -z      output as in pcap-merge (default: stdout)\n"
"  --stats              counts on stdout (stderr when stdout has the capture)\n"
"  --json               the --stats counts as JSON (implies --stats)\n"
"  -h, --help           this text;  --version  the version\n"
"\n"
"Exit status: 0 a packet was selected, 1 none was, 2 usage error,\n"
"3 runtime error (including a damaged input unless --ignore-errors).\n");
	exit(status);
}

struct counts {
	uint64_t read, matched, undecidable, unsupported;
};

/* Input i of nin, or a merge's temporary file (i past the inputs). */
static const char *
input_name(const pm_merge *m, size_t nin, size_t i)
{
	return i < nin ? pm_merge_input_name(m, i) : "(input)";
}

/* outside: packets --start/--stop left out, or -1 without a window */
static void
print_stats(FILE *f, const struct counts *n, int json, int64_t outside)
{
	char w[64] = "";

	if (json) {
		if (outside >= 0)
			snprintf(w, sizeof(w), ", \"outside_window\": %lld",
			    (long long)outside);
		fprintf(f, "{\"packets_read\": %llu, \"matched\": %llu, "
		    "\"undecidable\": %llu, \"unsupported_linktype\": %llu%s}\n",
		    (unsigned long long)n->read,
		    (unsigned long long)n->matched,
		    (unsigned long long)n->undecidable,
		    (unsigned long long)n->unsupported, w);
	} else {
		if (outside >= 0)
			snprintf(w, sizeof(w), ", %lld outside the time window",
			    (long long)outside);
		fprintf(f, "%s: %llu packets read, %llu matched, %llu "
		    "undecidable, %llu unsupported linktype%s\n", pk_progname,
		    (unsigned long long)n->read,
		    (unsigned long long)n->matched,
		    (unsigned long long)n->undecidable,
		    (unsigned long long)n->unsupported, w);
	}
}

/*
 * Words that start a tcpdump expression: a trailing argument that is not a
 * file and starts with one is taken for an expression given where tcpdump
 * takes it.  (A bare word would be a host name to libpcap, looked up in
 * the DNS: a misspelt file name must not cause that.)
 */
static int
bpf_word(const char *a)
{
	static const char *const w[] = {
		"tcp", "udp", "icmp", "icmp6", "ip", "ip6", "arp", "rarp",
		"sctp", "igmp", "pim", "esp", "ah", "gre", "vrrp", "host",
		"net", "port", "portrange", "src", "dst", "not", "ether",
		"vlan", "mpls", "pppoed", "pppoes", "geneve", "proto", "less",
		"greater", "len", "broadcast", "multicast", "inbound",
		"outbound", "ifname", "wlan", "link", "!", "(", NULL
	};
	size_t i, n = strcspn(a, " \t(!");

	if (n == 0)
		n = 1;
	for (i = 0; w[i] != NULL; i++)
		if (strlen(w[i]) == n && strncmp(a, w[i], n) == 0)
			return 1;
	return 0;
}

/* args joined by spaces, as tcpdump joins its expression; NULL: no memory */
static char *
join(char **args, size_t n)
{
	size_t i, len = 1;
	char *s;

	for (i = 0; i < n; i++)
		len += strlen(args[i]) + 1;
	if ((s = malloc(len)) == NULL)
		return NULL;
	s[0] = '\0';
	for (i = 0; i < n; i++) {
		if (i > 0)
			strcat(s, " ");
		strcat(s, args[i]);
	}
	return s;
}

/*
 * Without -r: the first argument that is not a file, when it and the rest
 * form an expression libpcap takes, is an expression given as tcpdump
 * takes one.  Refused (2) with the two ways to say it.
 */
static int
trailing_expression(char **args, size_t n)
{
	struct pf_filter_opts fo = { .layer = PF_LAYER_ANY };
	char errbuf[PF_ERRBUF_SIZE], *expr;
	struct stat st;
	pf_filter *f;
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(args[i], "-") != 0 && stat(args[i], &st) < 0 &&
		    errno == ENOENT)
			break;
	if (i == n || !bpf_word(args[i]) || (expr = join(args + i, n - i)) ==
	    NULL)
		return 0;
	fo.bpf = expr;
	if ((f = pf_filter_new(NULL, 0, &fo, errbuf)) == NULL) {
		free(expr);
		return 0;
	}
	pf_filter_free(f);
	pk_warn("'%s' is not a file but a BPF expression: give it with -e "
	    "'%s', or read the capture with -r FILE as tcpdump does", expr,
	    expr);
	free(expr);
	return FILTER_USAGE;
}

/* Packets the time window left out, over all inputs. */
static uint64_t
outside_window(const pm_merge *m)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < pm_merge_count(m); i++)
		n += pm_merge_input(m, i)->stats.outside_window;
	return n;
}

int
main(int argc, char **argv)
{
	enum { O_STATS = 256, O_JSON, O_IGN, O_VERSION, O_TMPDIR, O_START,
	    O_STOP, O_SPLITP, O_SPLITS };
	static const struct option longopts[] = {
		PK_FILTER_LONGOPTS,
		{ "stats", no_argument, NULL, O_STATS },
		{ "json", no_argument, NULL, O_JSON },
		{ "ignore-errors", no_argument, NULL, O_IGN },
		{ "tmpdir", required_argument, NULL, O_TMPDIR },
		{ "start", required_argument, NULL, O_START },
		{ "stop", required_argument, NULL, O_STOP },
		{ "split-packets", required_argument, NULL, O_SPLITP },
		{ "split-seconds", required_argument, NULL, O_SPLITS },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, O_VERSION },
		{ NULL, 0, NULL, 0 }
	};
	static struct pk_filteropt fopt;
	struct pk_capout_opts co = { .format = PM_FMT_PCAP,
	    .appname = "pcapkit pcap-filter " PK_VERSION };
	struct pk_inputs in = { 0 };
	struct pk_output out = { .fd = -1 };
	struct pk_capin cin = { 0 };
	struct counts n = { 0 };
	struct pm_packet pkt;
	pf_filter *f = NULL;
	pm_writer *w = NULL;
	char errbuf[PF_ERRBUF_SIZE];
	const char *outpath = NULL, *tmpdir = NULL;
	unsigned char *warned = NULL;
	int c, rc, status = 0, invert = 0, count = 0, stats = 0, json = 0;
	int format_given = 0;
	struct pk_window win = { 0 };
	struct pk_split split = { 0 };
	/* static: reachable on every way out (usage() exits) */
	static const char **rfiles, **lists;
	static char *expr;	/* the -r expression; static, as rfiles */
	size_t i, nr = 0, nl = 0;

	pk_setprogname(argv);
	if ((rfiles = calloc((size_t)argc, sizeof(*rfiles))) == NULL ||
	    (lists = calloc((size_t)argc, sizeof(*lists))) == NULL) {
		pk_warn("out of memory");
		return FILTER_ERROR;
	}
	/*
	 * tcpdump's letters where they fit: -r, -V (a list of files), -w;
	 * grep's -c and -v.  tcpdump's -T (a packet type) is refused with a
	 * hint; the temporary directory is --tmpdir.
	 */
	while ((c = getopt_long(argc, argv, "ce:f:F:hr:T:vV:w:z", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'r':
			rfiles[nr++] = optarg;
			break;
		case 'V':
			lists[nl++] = optarg;
			break;
		case O_START:
		case O_STOP:
			if (pk_window_opt(&win, c == O_STOP, c == O_START ?
			    "--start" : "--stop", optarg) != 0)
				usage(FILTER_USAGE);
			break;
		case O_SPLITP:
		case O_SPLITS:
			if (pk_split_opt(&split, c == O_SPLITS, c == O_SPLITS ?
			    "--split-seconds" : "--split-packets", optarg) != 0)
				usage(FILTER_USAGE);
			break;
		case 'e':
			fopt.fo.bpf = optarg;
			break;
		case 'v':
			invert = 1;
			break;
		case 'c':
			count = 1;
			break;
		case 'F':
			if (pk_parse_format(optarg, &co.format, &co.nano) < 0)
				usage(FILTER_USAGE);
			format_given = 1;
			break;
		case 'z':
			co.comp = PM_COMP_ZSTD;
			break;
		case 'w':
			outpath = optarg;
			break;
		case 'T':
			pk_warn("-T is tcpdump's packet type, which pcap-filter "
			    "does not take; the directory for temporary files is "
			    "--tmpdir");
			usage(FILTER_USAGE);
			break;
		case O_TMPDIR:
			tmpdir = optarg;
			break;
		case O_STATS:
			stats = 1;
			break;
		case O_JSON:
			json = 1;
			stats = 1;	/* the counts are what --json prints */
			break;
		case O_IGN:
			cin.ignore_errors = 1;
			break;
		case 'h':
			usage(0);
			break;
		case O_VERSION:
			printf("pcap-filter (pcapkit) %s\n", PK_VERSION);
			return 0;
		default:
			if ((rc = pk_filteropt(&fopt, c, optarg)) == 1)
				break;
			usage(FILTER_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (pk_filteropt_finish(&fopt) != 0 || pk_window_check(&win) != 0)
		usage(FILTER_USAGE);
	if (split.packets != 0 && split.interval != 0) {
		pk_warn("--split-packets and --split-seconds split by count or "
		    "by time, not both");
		usage(FILTER_USAGE);
	}
	if (nr > 0 && argc > 0) {
		/* tcpdump -r FILE EXPR */
		if (fopt.fo.bpf != NULL) {
			pk_warn("an expression with -e and another after the "
			    "options: give one");
			usage(FILTER_USAGE);
		}
		if ((expr = join(argv, (size_t)argc)) == NULL) {
			pk_warn("out of memory");
			return FILTER_ERROR;
		}
		fopt.fo.bpf = expr;
		argc = 0;
	} else if (trailing_expression(argv, (size_t)argc) != 0) {
		usage(FILTER_USAGE);
	}
	if ((f = pf_filter_new(fopt.tuples, fopt.n, &fopt.fo, errbuf)) == NULL) {
		pk_warn("%s", errbuf);
		return FILTER_USAGE;
	}
	if (count && outpath != NULL) {
		pk_warn("-c counts packets and writes none: drop -w");
		pf_filter_free(f);
		usage(FILTER_USAGE);
	}

	if (!count && outpath == NULL)
		outpath = "-";
	if (count && PK_SPLITTING(&split)) {
		pk_warn("-c counts packets and writes none: drop "
		    "--split-packets/--split-seconds");
		pf_filter_free(f);
		usage(FILTER_USAGE);
	}
	if ((rc = pk_split_init(&split, outpath)) != 0) {
		pf_filter_free(f);
		if (rc == PK_USAGE)
			usage(FILTER_USAGE);
		status = FILTER_ERROR;
		goto out;
	}
	if ((rc = pk_output_by_name(outpath, format_given, &co.format,
	    &co.comp)) != 0) {
		status = exit_status(rc);
		goto out;
	}
	pk_inputs_output(&in, outpath);
	for (i = 0; i < nr; i++)
		if ((status = pk_inputs_add(&in, rfiles[i])) != 0) {
			status = exit_status(status);
			goto out;
		}
	for (i = 0; i < nl; i++)
		if ((status = pk_inputs_add_list(&in, lists[i])) != 0) {
			status = exit_status(status);
			goto out;
		}
	for (i = 0; i < (size_t)argc; i++)
		if ((status = pk_inputs_add(&in, argv[i])) != 0) {
			status = exit_status(status);
			goto out;
		}
	if (argc == 0 && nr == 0 && nl == 0) {
		if (isatty(STDIN_FILENO)) {
			pk_warn("no input files, and stdin is a terminal");
			pf_filter_free(f);
			usage(FILTER_USAGE);
		}
		pk_inputs_add(&in, "-");
	}
	if (in.n == 0) {
		pk_warn("no input files");
		status = FILTER_ERROR;
		goto out;
	}
	if (pk_split_check_inputs(&split, &in) != 0) {
		status = FILTER_USAGE;
		goto out;
	}
	if (outpath != NULL && strcmp(outpath, "-") == 0 &&
	    isatty(STDOUT_FILENO)) {
		pk_warn("refusing to write a capture to a terminal; use -w "
		    "FILE, a pipe, or -c");
		status = FILTER_USAGE;
		goto out;
	}

	pk_signals_init();
	cin.win = &win;
	if (pk_capin_open(&cin, &in, 0, tmpdir ? tmpdir : getenv("TMPDIR"))) {
		status = FILTER_ERROR;
		goto out;
	}
	if ((warned = calloc(in.n + 1, 1)) == NULL) {
		pk_warn("out of memory");
		status = FILTER_ERROR;
		goto out;
	}
	while ((rc = pk_capin_next(&cin, &pkt)) >= 0) {
		size_t input;
		int v, sel, orc;

		if (outpath != NULL && w == NULL && !PK_SPLITTING(&split) &&
		    (orc = pk_capout_open(&out, &w, outpath, cin.m, &co)) != 0) {
			status = exit_status(orc);
			goto out;
		}
		if (rc == 0)
			break;
		n.read++;
		input = pm_merge_last_input(cin.m);
		v = pf_filter_match(f, (uint32_t)input, pkt.linktype, pkt.data,
		    pkt.caplen, pkt.len, pkt.ts);
		if (v < 0) {
			pk_warnf(input_name(cin.m, in.n, input), "%s",
			    pf_filter_geterr(f));
			status = FILTER_ERROR;
			goto out;
		}
		if (v == PF_UNDECIDABLE) {
			n.undecidable++;
			continue;
		}
		if (v == PF_UNSUPPORTED) {
			size_t k = input < in.n ? input : in.n;
			n.unsupported++;
			if (!warned[k]) {
				warned[k] = 1;
				pk_warnf(input_name(cin.m, in.n, k), "linktype %s "
				    "(%u) is not dissected; its packets never match",
				    pk_linktype_name(pkt.linktype),
				    pkt.linktype);
			}
			continue;
		}
		sel = (v == PF_MATCH) != invert;
		if (!sel)
			continue;
		n.matched++;
		if (PK_SPLITTING(&split)) {
			if ((orc = pk_split_write(&split, &out, &w, cin.m, &co,
			    &pkt)) != 0) {
				status = exit_status(orc);
				goto out;
			}
		} else if (w != NULL &&
		    (rc = pm_writer_write_ref(w, &pkt)) < 0) {
			if (rc == PM_ERR_LINKTYPE)
				pk_report_mixed(cin.m);
			else
				pk_warnf(outpath, "%s", pm_writer_geterr(w));
			status = FILTER_ERROR;
			goto out;
		}
	}
	if (rc < 0) {
		status = FILTER_ERROR;
		goto out;
	}
	if (PK_SPLITTING(&split)) {
		if ((rc = pk_split_finish(&split, &out, &w)) != 0) {
			status = exit_status(rc);
			goto out;
		}
	} else if (w != NULL) {
		if (pk_capout_finish(w, outpath) != 0) {
			status = FILTER_ERROR;
			goto out;
		}
		if (pk_output_commit(&out) < 0) {
			status = FILTER_ERROR;
			goto out;
		}
	}
	if (count)
		printf("%llu\n", (unsigned long long)n.matched);
	/*
	 * -c prints the number alone, as grep -c; a verdict that could not
	 * be given is still said, in one line, never silently.
	 */
	if (stats)
		print_stats(outpath != NULL && strcmp(outpath, "-") == 0 ?
		    stderr : stdout, &n, json, win.set ?
		    (int64_t)outside_window(cin.m) : -1);
	else if (!count)
		print_stats(stderr, &n, 0, win.set ?
		    (int64_t)outside_window(cin.m) : -1);
	else if (n.undecidable > 0)
		pk_warn("%llu packet%s undecidable (a needed header cut short "
		    "or nested too deep), not counted; --stats for all counts",
		    (unsigned long long)n.undecidable,
		    n.undecidable == 1 ? "" : "s");
	if (fflush(stdout) != 0 || ferror(stdout)) {
		pk_warn("stdout: %s", strerror(errno));
		status = FILTER_ERROR;
	} else if (cin.damaged && !cin.ignore_errors) {
		status = FILTER_ERROR;
	} else {
		status = n.matched > 0 ? FILTER_SELECTED : FILTER_NONE;
	}
out:
	if (status == FILTER_USAGE || status == FILTER_ERROR) {
		pk_output_abort(&out);
		pk_split_abort(&split);
	}
	pk_split_free(&split);
	free(expr);
	free(rfiles);
	free(lists);
	free(warned);
	pm_writer_close(w);
	pk_capin_close(&cin);
	pf_filter_free(f);
	pk_inputs_free(&in);
	return status;
}
