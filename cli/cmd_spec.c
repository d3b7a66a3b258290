/* cli/cmd_spec.c — `uvfs spec [--rootless] [--bundle DIR]`: writes the
 * default config.json (the one `runc spec` / `runsc spec` write) into DIR
 * (default "."). Like runc, an existing config.json is not overwritten.
 * Exit 0, 1 on errors, 2 on usage errors. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "boot/boot.h"

int cmd_spec(int argc, char **argv);

int cmd_spec(int argc, char **argv)
{
	static const struct option lo[] = { { "rootless", no_argument, NULL, 'r' },
					    { "bundle", required_argument, NULL, 'b' },
					    { NULL, 0, NULL, 0 } };
	bool rootless = false;
	const char *dir = ".";
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "b:", lo, NULL)) != -1) {
		switch (c) {
		case 'r': rootless = true; break;
		case 'b': dir = optarg; break;
		default: fprintf(stderr, "usage: uvfs spec [--rootless] [--bundle DIR]\n"); return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "usage: uvfs spec [--rootless] [--bundle DIR]\n");
		return 2;
	}
	char path[4096];
	snprintf(path, sizeof path, "%s/config.json", dir);
	char *text;
	if (uvfs_oci_default_spec(rootless, (uint32_t)geteuid(), (uint32_t)getegid(), &text)) {
		fprintf(stderr, "uvfs: spec: out of memory\n");
		return 1;
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd < 0) {
		fprintf(stderr, "uvfs: spec: %s: %s%s\n", path, strerror(errno),
			errno == EEXIST ? " (remove it first)" : "");
		free(text);
		return 1;
	}
	size_t len = strlen(text), off = 0;
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);
		if (w < 0) {
			fprintf(stderr, "uvfs: spec: writing %s: %s\n", path, strerror(errno));
			close(fd);
			free(text);
			return 1;
		}
		off += (size_t)w;
	}
	free(text);
	if (close(fd)) {
		fprintf(stderr, "uvfs: spec: writing %s: %s\n", path, strerror(errno));
		return 1;
	}
	return 0;
}
