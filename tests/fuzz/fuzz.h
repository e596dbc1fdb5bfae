/*
 * fuzz.h - the libFuzzer entry point every harness defines.  The same
 * object links either with libFuzzer (make fuzz) or with driver.c, which
 * replays committed inputs in make check.
 *
 * A harness aborts (FUZZ_ASSERT) when an invariant breaks, so that both
 * libFuzzer and the replay driver report it as a crash.
 */
#ifndef PCAPKIT_FUZZ_H
#define PCAPKIT_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(c) do {						\
	if (!(c)) {							\
		fprintf(stderr, "%s:%d: invariant broken: %s\n",	\
		    __FILE__, __LINE__, #c);				\
		abort();						\
	}								\
} while (0)

/* The input as a file: a memfd at offset 0 (the caller closes it). */
static inline int
fuzz_memfd(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz", MFD_CLOEXEC);
	size_t off = 0;

	FUZZ_ASSERT(fd >= 0);
	while (off < size) {
		ssize_t w = write(fd, data + off, size - off);
		FUZZ_ASSERT(w > 0);
		off += (size_t)w;
	}
	FUZZ_ASSERT(lseek(fd, 0, SEEK_SET) == 0);
	return fd;
}

/* A NUL-terminated copy (the parsers under test take C strings). */
static inline char *
fuzz_strndup(const uint8_t *d, size_t n)
{
	char *s = malloc(n + 1);

	FUZZ_ASSERT(s != NULL);
	for (size_t i = 0; i < n; i++)
		s[i] = (char)d[i];
	s[n] = '\0';
	return s;
}

/* An MD5 as the fetch code keeps it: "" or 32 lower-case hex digits. */
static inline void
fuzz_check_md5(const char md5[33])
{
	size_t n = 0;

	while (n < 33 && md5[n] != '\0')
		n++;
	FUZZ_ASSERT(n == 0 || n == 32);
	for (size_t i = 0; i < n; i++)
		FUZZ_ASSERT((md5[i] >= '0' && md5[i] <= '9') ||
		    (md5[i] >= 'a' && md5[i] <= 'f'));
}

/*
 * An independent statement of a safe relative path (what pk_safe_relpath
 * promises): components non-empty, not "." or "..", no control characters.
 */
static inline int
fuzz_path_ok(const char *p)
{
	const char *c = p;

	if (*p == '\0' || *p == '/')
		return 0;
	for (;;) {
		const char *e = c;

		while (*e != '\0' && *e != '/') {
			if ((unsigned char)*e < 0x20 || *e == 0x7f)
				return 0;
			e++;
		}
		if (e == c || (e - c == 1 && c[0] == '.') ||
		    (e - c == 2 && c[0] == '.' && c[1] == '.'))
			return 0;
		if (*e == '\0')
			return 1;
		c = e + 1;
	}
}

#endif
