/*
 * text.h - numbers, times and small files, in and out.
 */
#ifndef PCAPKIT_TEXT_H
#define PCAPKIT_TEXT_H

#include <stddef.h>
#include <stdint.h>

/*
 * Numbers: the whole string must parse, within [min, max].  Return 0, or -1
 * (nothing printed).  Sizes take k/M/G suffixes (powers of 1024); durations
 * take ns, us, ms, s, m, h (a bare number is seconds).
 */
int pk_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *v);
int pk_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *v);
int pk_parse_duration(const char *s, int64_t *ns);
/* A fraction from 0 to 1, as 0.001 or 0.1%; -1 for anything else. */
int pk_parse_fraction(const char *s, double *v);
/* 1 when the user's locale (LC_ALL, LC_CTYPE, LANG) is UTF-8. */
int pk_utf8_locale(void);
int pk_ends_with(const char *s, const char *suffix);

/*
 * All of a small file (at most 64 MiB; "-" is stdin), NUL-terminated.
 * NULL with errno set on failure.
 */
char *pk_slurp(const char *path, size_t *len);

/* "2026-11-23T10:00:00.123456789Z" from nanoseconds since the epoch. */
void pk_fmt_time(char *buf, size_t n, int64_t ns);
/* An RFC 3339 time ("2022-06-01T20:50:00.123456Z", "...+02:00"); 0 or -1. */
int pk_parse_time(const char *s, int64_t *ns);
/* That, or seconds since the epoch with a fraction ("1700000000.25"). */
int pk_parse_when(const char *s, int64_t *ns);
/* "1.234567890" seconds from nanoseconds. */
void pk_fmt_seconds(char *buf, size_t n, int64_t ns);


#endif
