/*
 * rrread - read files round-robin, SIZE bytes at a time from each in turn,
 * into one buffer per file, and do nothing else.  This is the reading any
 * k-way merge does with read(2); make bench times it over the 2,048-input
 * corpus as the floor under pcap-merge's time there.
 *
 * usage: rrread SIZE FILE...
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	size_t size, i, n, left;
	unsigned long long total = 0;
	char **buf, *end;
	int *fd;
	ssize_t r;
	struct rlimit rl;

	if (argc < 3 || (size = strtoul(argv[1], &end, 10)) == 0 || *end) {
		fprintf(stderr, "usage: rrread SIZE FILE...\n");
		return 2;
	}
	n = (size_t)argc - 2;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {	/* as pcap-merge does */
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if ((fd = calloc(n, sizeof(*fd))) == NULL ||
	    (buf = calloc(n, sizeof(*buf))) == NULL) {
		perror("rrread");
		return 1;
	}
	for (i = 0; i < n; i++) {
		if ((fd[i] = open(argv[i + 2], O_RDONLY)) < 0 ||
		    (buf[i] = malloc(size)) == NULL) {
			fprintf(stderr, "rrread: %s: %s\n", argv[i + 2],
			    strerror(errno));
			return 1;
		}
	}
	for (left = n; left > 0;) {
		for (i = 0; i < n; i++) {
			if (fd[i] < 0)
				continue;
			if ((r = read(fd[i], buf[i], size)) < 0) {
				fprintf(stderr, "rrread: %s: %s\n",
				    argv[i + 2], strerror(errno));
				return 1;
			}
			if (r == 0) {
				close(fd[i]);
				fd[i] = -1;
				left--;
			}
			total += (unsigned long long)r;
		}
	}
	printf("%llu\n", total);
	return 0;
}
