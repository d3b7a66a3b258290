/* bench/fuse_helper.c — small loops for bench/fuse_bench.sh (built by the
 * script, not a bench_*.c binary):
 *   fuse_helper stat PATH N       N lstat() calls; prints ops/s
 *   fuse_helper mktree DIR D F    D directories of F empty files each
 *   fuse_helper rmtree DIR D F    unlinks what mktree made
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "stat")) {
		long n = atol(argv[3]);
		struct stat st;
		double t0 = now();
		for (long i = 0; i < n; i++)
			if (lstat(argv[2], &st)) {
				perror(argv[2]);
				return 1;
			}
		printf("%.0f\n", (double)n / (now() - t0));
		return 0;
	}
	if (argc == 5 && !strcmp(argv[1], "mktree")) {
		int nd = atoi(argv[3]), nf = atoi(argv[4]);
		char p[4096];
		for (int d = 0; d < nd; d++) {
			snprintf(p, sizeof(p), "%s/d%04d", argv[2], d);
			if (mkdir(p, 0755)) {
				perror(p);
				return 1;
			}
			for (int f = 0; f < nf; f++) {
				snprintf(p, sizeof(p), "%s/d%04d/file%05d", argv[2], d, f);
				int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0644);
				if (fd < 0) {
					perror(p);
					return 1;
				}
				close(fd);
			}
		}
		return 0;
	}
	if (argc == 5 && !strcmp(argv[1], "rmtree")) {
		int nd = atoi(argv[3]), nf = atoi(argv[4]);
		char p[4096];
		for (int d = 0; d < nd; d++) {
			for (int f = 0; f < nf; f++) {
				snprintf(p, sizeof(p), "%s/d%04d/file%05d", argv[2], d, f);
				if (unlink(p)) {
					perror(p);
					return 1;
				}
			}
			snprintf(p, sizeof(p), "%s/d%04d", argv[2], d);
			if (rmdir(p)) {
				perror(p);
				return 1;
			}
		}
		return 0;
	}
	fprintf(stderr, "usage: fuse_helper stat PATH N | mktree|rmtree DIR NDIRS NFILES\n");
	return 2;
}
