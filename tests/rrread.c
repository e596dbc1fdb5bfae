/*
 * rrread - read files round-robin, SIZE bytes at a time from each in turn,
 * into one buffer per file, and do nothing else.  This is the reading any
 * k-way merge does with read(2); make bench times it over the 2,048-input
 * corpus as the floor under pcap-merge's time there.  The buffers are laid
 * out as pcap-merge lays out its own: slices of one mapping backed by huge
 * pages where the kernel gives them (malloc'ed 4 KiB pages cost more in
 * page faults and TLB misses than the reading).
 *
 * usage: rrread SIZE FILE...
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	size_t size, i, n, left;
	unsigned long long total = 0;
	char *arena, *end;
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
	    (arena = mmap(NULL, n * size + (2u << 20), PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) == MAP_FAILED) {
		perror("rrread");
		return 1;
	}
	arena += (2u << 20) - ((size_t)arena & ((2u << 20) - 1));
	(void)madvise(arena, n * size, MADV_HUGEPAGE);
	for (i = 0; i < n; i++) {
		if ((fd[i] = open(argv[i + 2], O_RDONLY)) < 0) {
			fprintf(stderr, "rrread: %s: %s\n", argv[i + 2],
			    strerror(errno));
			return 1;
		}
	}
	for (left = n; left > 0;) {
		for (i = 0; i < n; i++) {
			if (fd[i] < 0)
				continue;
			if ((r = read(fd[i], arena + i * size, size)) < 0) {
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
