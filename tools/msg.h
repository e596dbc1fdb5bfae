/*
 * msg.h - messages and exit statuses, as every pcapkit tool says them.
 * Tool code only: the libraries never print.
 */
#ifndef PCAPKIT_MSG_H
#define PCAPKIT_MSG_H

#define PK_VERSION "0.2.0"

/*
 * What a shared helper returns when it fails, having said why: an error
 * at run time, or a usage error.  Each tool names its own exit statuses
 * (pcap-filter and pcap-summary follow grep: 1 is an answer, not an
 * error) and turns these into them in one function, exit_status().
 */
enum pk_status { PK_OK = 0, PK_ERROR = 1, PK_USAGE = 2 };

extern const char *pk_progname;

/* Also makes argv[0] the bare name, for getopt's messages. */
void pk_setprogname(char **argv);
/*
 * After a usage error's one line: "try 'prog -h' for more information",
 * then exit(status).  A usage error never prints the whole synopsis.
 */
void pk_try_help(int status) __attribute__((noreturn));
/* "prog: message" on stderr. */
void pk_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "prog: file: message" on stderr. */
void pk_warnf(const char *file, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
