/* msg.c - messages; see msg.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"

const char *pk_progname = "pcapkit";

void
pk_setprogname(const char *argv0)
{
	const char *s = strrchr(argv0, '/');

	pk_progname = s ? s + 1 : argv0;
}

void
pk_warn(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", pk_progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
pk_warnf(const char *file, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: %s: ", pk_progname, file);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
