/*
 * pcap-filter - refilter captures by filter_v1 tuples and BPF.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
	FILE *f = status == 0 ? stdout : stderr;

	fprintf(f,
"usage: pcap-filter [--src addr] [--dst addr] [--sport port] [--dport port]\n"
"                   [--proto proto] [-f json] [--from-capture file]\n"
"                   [-e bpf] [-cvz] [--layer outer|inner|any]\n"
"                   [--both-directions] [-F format] [--stats] [--json]\n"
"                   [--ignore-errors] [-T tmpdir] [-w outfile|-] [input ...]\n");
	if (status != 0)	/* a usage error: the synopsis is enough */
		exit(status);
	fprintf(f,
"\n"
"  --src, --dst ADDR    address or prefix (10.0.0.0/8, 2001:db8::/32)\n"
"  --sport, --dport N   port, 0-65535\n"
"  --proto P            protocol number or name (tcp, udp, icmp, gre, ...)\n"
"  -f JSON              a filter_v1 object; several -f are ORed\n"
"  --from-capture FILE  the filter_v1 of a capture object (API JSON)\n"
"  -e EXPR              a tcpdump (BPF) expression, ANDed with the tuples\n"
"  -v                   select the packets that do not match\n"
"  -c                   print only the number of packets selected\n"
"  --layer L            which IP header must match: outer, inner, any (default)\n"
"  --both-directions    also match with source and destination swapped\n"
"  -w FILE, -F, -z      output as in pcap-merge (default: stdout)\n"
"  --stats              counts on stdout (stderr when stdout has the capture)\n"
"  --json               the --stats counts as JSON (implies --stats)\n"
"  -h, --help           this text;  -V, --version  the version\n"
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

static void
print_stats(FILE *f, const struct counts *n, int json)
{
	if (json)
		fprintf(f, "{\"packets_read\": %llu, \"matched\": %llu, "
		    "\"undecidable\": %llu, \"unsupported_linktype\": %llu}\n",
		    (unsigned long long)n->read,
		    (unsigned long long)n->matched,
		    (unsigned long long)n->undecidable,
		    (unsigned long long)n->unsupported);
	else
		fprintf(f, "%s: %llu packets read, %llu matched, %llu "
		    "undecidable, %llu unsupported linktype\n", pk_progname,
		    (unsigned long long)n->read,
		    (unsigned long long)n->matched,
		    (unsigned long long)n->undecidable,
		    (unsigned long long)n->unsupported);
}

int
main(int argc, char **argv)
{
	enum { O_STATS = 256, O_JSON, O_IGN };
	static const struct option longopts[] = {
		PK_FILTER_LONGOPTS,
		{ "stats", no_argument, NULL, O_STATS },
		{ "json", no_argument, NULL, O_JSON },
		{ "ignore-errors", no_argument, NULL, O_IGN },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
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
	size_t i;

	pk_setprogname(argv[0]);
	while ((c = getopt_long(argc, argv, "ce:f:F:hT:vVw:z", longopts,
	    NULL)) != -1) {
		switch (c) {
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
		case 'V':
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
	if (pk_filteropt_finish(&fopt) != 0)
		usage(FILTER_USAGE);
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
	if ((rc = pk_output_by_name(outpath, format_given, &co.format,
	    &co.comp)) != 0) {
		status = exit_status(rc);
		goto out;
	}
	pk_inputs_output(&in, outpath);
	for (i = 0; i < (size_t)argc; i++)
		if ((status = pk_inputs_add(&in, argv[i])) != 0) {
			status = exit_status(status);
			goto out;
		}
	if (argc == 0) {
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
	if (outpath != NULL && strcmp(outpath, "-") == 0 &&
	    isatty(STDOUT_FILENO)) {
		pk_warn("refusing to write a capture to a terminal; use -w "
		    "FILE, a pipe, or -c");
		status = FILTER_USAGE;
		goto out;
	}

	pk_signals_init();
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

		if (outpath != NULL && w == NULL &&
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
		if (w != NULL && (rc = pm_writer_write_ref(w, &pkt)) < 0) {
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
	if (w != NULL) {
		if (pm_writer_finish(w) < 0) {
			pk_warnf(outpath, "%s", pm_writer_geterr(w));
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
		    stderr : stdout, &n, json);
	else if (!count)
		print_stats(stderr, &n, 0);
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
	if (status == FILTER_USAGE || status == FILTER_ERROR)
		pk_output_abort(&out);
	free(warned);
	pm_writer_close(w);
	pk_capin_close(&cin);
	pf_filter_free(f);
	pk_inputs_free(&in);
	return status;
}
