/* text.c - numbers, times and small files, in and out; see text.h. */
#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "msg.h"
#include "text.h"

/* ---- numbers ----------------------------------------------------------- */

static int
parse_num(const char *s, uint64_t *v, const char **end)
{
	char *e;
	unsigned long long x;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	x = strtoull(s, &e, 10);
	if (errno != 0)
		return -1;
	*v = x;
	*end = e;
	return 0;
}

/*
 * A fraction of a unit at *s, ".5" or none, in billionths (digits past the
 * ninth dropped); *s moves past it.  -1 for a dot without a digit.
 */
static int
parse_frac(const char **s, uint64_t *frac)
{
	uint64_t scale = 100000000;

	*frac = 0;
	if (**s != '.')
		return 0;
	if (*++*s < '0' || **s > '9')
		return -1;
	for (; **s >= '0' && **s <= '9'; ++*s) {
		*frac += (uint64_t)(**s - '0') * scale;
		scale /= 10;
	}
	return 0;
}

int
pk_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *v)
{
	const char *e;
	uint64_t x;

	if (parse_num(s, &x, &e) < 0 || *e != '\0' || x < min || x > max)
		return -1;
	*v = x;
	return 0;
}

int
pk_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *v)
{
	const char *e;
	uint64_t x, mul = 1;

	if (parse_num(s, &x, &e) < 0)
		return -1;
	switch (*e) {
	case '\0': break;
	case 'k': case 'K': mul = 1ull << 10; e++; break;
	case 'M': mul = 1ull << 20; e++; break;
	case 'G': mul = 1ull << 30; e++; break;
	default: return -1;
	}
	if (*e != '\0' || (x != 0 && mul > UINT64_MAX / x))
		return -1;
	x *= mul;
	if (x < min || x > max)
		return -1;
	*v = x;
	return 0;
}

int
pk_parse_duration(const char *s, int64_t *ns)
{
	static const struct { const char *u; int64_t mul; } units[] = {
		{ "ns", 1 }, { "us", 1000 }, { "ms", 1000000 },
		{ "s", 1000000000 }, { "", 1000000000 },
		{ "m", 60000000000LL }, { "h", 3600000000000LL },
	};
	const char *e;
	uint64_t x, frac;	/* "0.5", "1.5ms": frac in 1e-9 of the unit */
	size_t i;

	if (parse_num(s, &x, &e) < 0 || parse_frac(&e, &frac) < 0)
		return -1;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(e, units[i].u) == 0) {
			int64_t f = (int64_t)(frac * (uint64_t)units[i].mul /
			    1000000000);

			if (units[i].mul >= 1000000000)
				f = (int64_t)frac * (units[i].mul / 1000000000);
			if (x > (uint64_t)((INT64_MAX - f) / units[i].mul))
				return -1;
			*ns = (int64_t)x * units[i].mul + f;
			return 0;
		}
	}
	return -1;
}

int
pk_ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

void
pk_fmt_seconds(char *buf, size_t n, int64_t ns)
{
	const char *sign = ns < 0 ? "-" : "";
	uint64_t a = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;

	snprintf(buf, n, "%s%llu.%09llu", sign,
	    (unsigned long long)(a / 1000000000),
	    (unsigned long long)(a % 1000000000));
}

/* ---- small files -------------------------------------------------------- */

char *
pk_slurp(const char *path, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char *b = NULL, *n;
	size_t cap = 0, r;
	int e;

	*len = 0;
	if (f == NULL)
		return NULL;
	do {
		if (*len + 4096 > cap) {
			cap = cap ? cap * 2 : 8192;
			if (cap > (64u << 20)) {
				free(b);
				b = NULL;
				errno = EFBIG;
				break;
			}
			if ((n = realloc(b, cap)) == NULL) {
				free(b);
				b = NULL;
				errno = ENOMEM;
				break;
			}
			b = n;
		}
		r = fread(b + *len, 1, cap - *len - 1, f);
		*len += r;
	} while (r > 0);
	e = errno;
	if (b != NULL && ferror(f)) {
		free(b);
		b = NULL;
	}
	if (f != stdin)
		fclose(f);
	if (b != NULL)
		b[*len] = '\0';
	errno = e;
	return b;
}

/* ---- times --------------------------------------------------------------- */

void
pk_fmt_time(char *buf, size_t n, int64_t ns)
{
	int64_t sec = ns / 1000000000, frac = ns % 1000000000;
	time_t t;
	struct tm tm;

	if (frac < 0) {		/* floor, so that frac is 0..999999999 */
		frac += 1000000000;
		sec--;
	}
	t = (time_t)sec;
	if (gmtime_r(&t, &tm) == NULL) {
		snprintf(buf, n, "?");
		return;
	}
	snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (long long)frac);
}

static int
digits(const char **s, int n, int *v)
{
	int i;

	*v = 0;
	for (i = 0; i < n; i++, (*s)++) {
		if (**s < '0' || **s > '9')
			return -1;
		*v = *v * 10 + (**s - '0');
	}
	return 0;
}

int
pk_parse_time(const char *s, int64_t *ns)
{
	struct tm tm = { 0 };
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	uint64_t frac;
	time_t t;

	if (digits(&s, 4, &y) || *s++ != '-' || digits(&s, 2, &mo) ||
	    *s++ != '-' || digits(&s, 2, &d) ||
	    (*s != 'T' && *s != 't' && *s != ' ') || (s++, 0) ||
	    digits(&s, 2, &h) || *s++ != ':' || digits(&s, 2, &mi) ||
	    *s++ != ':' || digits(&s, 2, &sec))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    sec > 60)
		return -1;
	if (parse_frac(&s, &frac) < 0)
		return -1;
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		sign = *s++ == '+' ? 1 : -1;
		if (digits(&s, 2, &oh) || *s++ != ':' || digits(&s, 2, &om) ||
		    oh > 23 || om > 59)
			return -1;
	} else {
		return -1;
	}
	if (*s != '\0')
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec == 60 ? 59 : sec;	/* a leap second: 59 + 1 */
	t = timegm(&tm);
	/*
	 * timegm normalizes Feb 30 to Mar 2: refuse dates that do not exist.
	 * (Its -1 is also 1969-12-31T23:59:59Z, and a 4-digit year cannot
	 * overflow a 64-bit time_t, so -1 is not an error here.)
	 */
	if (tm.tm_mday != d || tm.tm_mon != mo - 1)
		return -1;
	t += sec == 60;
	t -= sign * (oh * 3600 + om * 60);
	/* nanoseconds in an int64_t: 1677-09-21 to 2262-04-11 */
	if (t <= INT64_MIN / 1000000000 || t >= INT64_MAX / 1000000000)
		return -1;
	*ns = (int64_t)t * 1000000000 + (int64_t)frac;
	return 0;
}

int
pk_parse_when(const char *s, int64_t *ns)
{
	const char *p;
	uint64_t sec, frac;

	if (pk_parse_time(s, ns) == 0)
		return 0;
	if (parse_num(s, &sec, &p) < 0 || parse_frac(&p, &frac) < 0 ||
	    *p != '\0' || sec >= (uint64_t)(INT64_MAX / 1000000000))
		return -1;
	*ns = (int64_t)sec * 1000000000 + (int64_t)frac;
	return 0;
}

int
pk_parse_fraction(const char *s, double *v)
{
	char *end;
	double d;

	if (s[0] < '0' || s[0] > '9')	/* no sign, space, inf or nan */
		if (s[0] != '.')
			return -1;
	errno = 0;
	d = strtod(s, &end);
	if (end == s || errno != 0)
		return -1;
	if (*end == '%') {
		d /= 100;
		end++;
	}
	if (*end != '\0' || !(d >= 0 && d <= 1))
		return -1;
	*v = d;
	return 0;
}

int
pk_utf8_locale(void)
{
	int utf8 = 0;

	/* Asked of the environment, then back to "C": nothing else in the
	 * tools depends on the locale. */
	if (setlocale(LC_CTYPE, "") != NULL)
		utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
	setlocale(LC_CTYPE, "C");
	return utf8;
}
