/*
 * split.c - output split into files as editcap splits it (see split.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "msg.h"
#include "split.h"
#include "text.h"

int
pk_split_opt(struct pk_split *s, int by_time, const char *opt, const char *arg)
{
	uint64_t n;

	if (by_time) {
		if (pk_parse_duration(arg, &s->interval) < 0 ||
		    s->interval <= 0) {
			pk_warn("%s: '%s' is not a number of seconds per file "
			    "(1, 0.5, 10m)", opt, arg);
			return PK_USAGE;
		}
	} else {
		if (pk_parse_u64(arg, 1, UINT32_MAX, &n) < 0) {
			pk_warn("%s: '%s' is not a number of packets per file "
			    "from 1 to %u", opt, arg, UINT32_MAX);
			return PK_USAGE;
		}
		s->packets = n;
	}
	return 0;
}

int
pk_split_init(struct pk_split *s, const char *outpath)
{
	const char *base, *dot;

	if (!PK_SPLITTING(s))
		return 0;
	if (outpath == NULL || strcmp(outpath, "-") == 0) {
		pk_warn("splitting the output needs -w FILE: the files are "
		    "named after it, as editcap's");
		return PK_USAGE;
	}
	base = strrchr(outpath, '/');
	base = base != NULL ? base + 1 : outpath;
	dot = strrchr(base, '.');
	if (dot == NULL || dot == base)		/* ".pcap": no prefix left */
		dot = base + strlen(base);
	if ((s->prefix = strndup(outpath, (size_t)(dot - outpath))) == NULL ||
	    (s->suffix = strdup(dot)) == NULL) {
		pk_warn("out of memory");
		return PK_ERROR;
	}
	return 0;
}

static int
all_digits(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return 0;
	return 1;
}

static int
is_part(const struct pk_split *s, const char *path)
{
	size_t lp, ls, n = strlen(path);

	if (!PK_SPLITTING(s) || s->prefix == NULL)
		return 0;
	lp = strlen(s->prefix);
	ls = strlen(s->suffix);
	/* prefix "_" 5+ digits "_" 14 digits suffix */
	if (n < lp + 1 + 5 + 1 + 14 + ls || strncmp(path, s->prefix, lp) != 0 ||
	    strcmp(path + n - ls, s->suffix) != 0 || path[lp] != '_')
		return 0;
	path += lp + 1;
	n -= lp + 1 + ls;
	return n >= 5 + 1 + 14 && path[n - 15] == '_' &&
	    all_digits(path, n - 15) && all_digits(path + n - 14, 14);
}

int
pk_split_check_inputs(const struct pk_split *s, const struct pk_inputs *in)
{
	size_t i;

	for (i = 0; i < in->n; i++)
		if (is_part(s, in->paths[i])) {
			pk_warnf(in->paths[i], "named as a file this split "
			    "writes (%s_NNNNN_YYYYMMDDHHMMSS%s), so never an "
			    "input: move it or choose another -w", s->prefix,
			    s->suffix);
			return PK_USAGE;
		}
	return 0;
}

static int
finish_one(struct pk_split *s, struct pk_output *out, pm_writer **w)
{
	char **d;

	if (*w == NULL)
		return 0;
	if (pk_capout_finish(*w, s->cur) != 0)
		return PK_ERROR;
	pm_writer_close(*w);
	*w = NULL;
	if (pk_output_commit(out) < 0)
		return PK_ERROR;
	if ((d = realloc(s->done, (s->ndone + 1) * sizeof(*d))) == NULL) {
		pk_warn("out of memory");
		return PK_ERROR;
	}
	s->done = d;
	s->done[s->ndone++] = s->cur;
	s->cur = NULL;
	*out = (struct pk_output){ .fd = -1 };
	return 0;
}

int
pk_split_write(struct pk_split *s, struct pk_output *out, pm_writer **w,
    pm_merge *m, const struct pk_capout_opts *co, const struct pm_packet *pkt)
{
	int due = *w == NULL, rc;

	if (s->packets != 0 && s->n == s->packets)
		due = 1;
	if (s->interval != 0 && *w != NULL && pkt->ts > s->next) {
		/*
		 * As editcap: a file takes the packets up to its end time
		 * inclusive, and an empty interval makes no file.
		 */
		uint64_t gap = (uint64_t)pkt->ts - (uint64_t)s->next;
		uint64_t k = gap / (uint64_t)s->interval +
		    (gap % (uint64_t)s->interval != 0);

		/* whole intervals at once: a file's times may leap years */
		if (k > ((uint64_t)INT64_MAX - (uint64_t)s->next) /
		    (uint64_t)s->interval)
			s->next = INT64_MAX;
		else	/* modulo 2^64: next may be negative; the sum fits */
			s->next = (int64_t)((uint64_t)s->next +
			    k * (uint64_t)s->interval);
		due = 1;
	}
	if (due) {
		char when[32];
		/* floor(ts / 10^9), which ts - 999999999 could overflow */
		time_t t = (time_t)(pkt->ts / 1000000000 -
		    (pkt->ts % 1000000000 < 0));
		struct tm tm;

		if ((rc = finish_one(s, out, w)) != 0)
			return rc;
		if (localtime_r(&t, &tm) == NULL ||
		    strftime(when, sizeof(when), "%Y%m%d%H%M%S", &tm) == 0)
			snprintf(when, sizeof(when), "00000000000000");
		if (asprintf(&s->cur, "%s_%05u_%s%s", s->prefix, s->idx, when,
		    s->suffix) < 0) {
			s->cur = NULL;
			pk_warn("out of memory");
			return PK_ERROR;
		}
		s->idx++;
		s->n = 0;
		if (s->interval != 0 && s->idx == 1)	/* the first file */
			s->next = pkt->ts <= INT64_MAX - s->interval ?
			    pkt->ts + s->interval : INT64_MAX;
		if ((rc = pk_capout_open(out, w, s->cur, m, co)) != 0)
			return rc;
	}
	if ((rc = pm_writer_write_ref(*w, pkt)) < 0) {
		if (rc == PM_ERR_LINKTYPE)
			pk_report_mixed(m);
		else
			pk_warnf(s->cur, "%s", pm_writer_geterr(*w));
		return PK_ERROR;
	}
	s->n++;
	return 0;
}

int
pk_split_finish(struct pk_split *s, struct pk_output *out, pm_writer **w)
{
	if (s->idx == 0)
		pk_warn("no packets: no file written");
	return finish_one(s, out, w);
}

void
pk_split_abort(struct pk_split *s)
{
	size_t i;

	for (i = 0; i < s->ndone; i++)
		(void)unlink(s->done[i]);
}

void
pk_split_free(struct pk_split *s)
{
	size_t i;

	for (i = 0; i < s->ndone; i++)
		free(s->done[i]);
	free(s->done);
	free(s->cur);
	free(s->prefix);
	free(s->suffix);
	s->done = NULL;
	s->ndone = 0;
	s->cur = s->prefix = s->suffix = NULL;
}
