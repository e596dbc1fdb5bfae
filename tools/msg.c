/* msg.c - messages; see msg.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"

const char *pk_progname = "pcapkit";

void
pk_setprogname(char **argv)
{
	const char *s = strrchr(argv[0], '/');

	pk_progname = s ? s + 1 : argv[0];
	/* getopt's own messages start with argv[0]: the name, not a path */
	argv[0] = (char *)pk_progname;
}

void
pk_try_help(int status)
{
	fprintf(stderr, "%s: try '%s -h' for more information\n",
	    pk_progname, pk_progname);
	exit(status);
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
