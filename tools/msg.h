/*
 * msg.h - messages and exit statuses, as every pcapkit tool says them.
 * Tool code only: the libraries never print.
 */
#ifndef PCAPKIT_MSG_H
#define PCAPKIT_MSG_H

#define PK_VERSION "0.1.0"

extern const char *pk_progname;

void pk_setprogname(const char *argv0);
/* "prog: message" on stderr. */
void pk_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "prog: file: message" on stderr. */
void pk_warnf(const char *file, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
