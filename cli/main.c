/* cli/main.c — `uvfs` command line entry point: dispatches subcommands. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

#define WEAK __attribute__((weak))
WEAK int cmd_demo(int argc, char **argv);
WEAK int cmd_ls(int argc, char **argv);
WEAK int cmd_stat(int argc, char **argv);
WEAK int cmd_cat(int argc, char **argv);
WEAK int cmd_tree(int argc, char **argv);
WEAK int cmd_mount(int argc, char **argv);
WEAK int cmd_9p(int argc, char **argv);
WEAK int cmd_verity(int argc, char **argv);
WEAK int cmd_boot(int argc, char **argv);
WEAK int cmd_spec(int argc, char **argv);

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *help;
} cmds[] = {
	{ "demo", cmd_demo, "build the default tree and show it (the README's run job)" },
	{ "mount", cmd_mount, "export the default tree through FUSE: mount [-f -d -s -o opts] MOUNTPOINT" },
	{ "ls", cmd_ls, "ls PATH...      list directories of the default tree (no FUSE)" },
	{ "stat", cmd_stat, "stat PATH...    stat files of the default tree" },
	{ "cat", cmd_cat, "cat PATH...     print files of the default tree" },
	{ "tree", cmd_tree, "tree [PATH]     print the default tree recursively" },
	{ "9p", cmd_9p, "9p ls|cat|stat ADDR|fd:N PATH   talk to a 9P2000.L server" },
	{ "verity", cmd_verity, "verity digest FILE... | build FILE --out-tree T" },
	{ "boot", cmd_boot, "boot --bundle DIR --print   boot an OCI bundle, print its mountinfo" },
	{ "spec", cmd_spec, "spec [--rootless] [--bundle DIR]   write a default config.json (as runc spec)" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: uvfs COMMAND [ARGS]\n       uvfs --version\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (cmds[i].fn)
			fprintf(f, "  %-7s %s\n", cmds[i].name, cmds[i].help);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("uvfs %s\n", UVFS_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[1], cmds[i].name))
			continue;
		if (!cmds[i].fn) {
			fprintf(stderr, "uvfs: command '%s' is not built in this version\n", argv[1]);
			return 2;
		}
		return cmds[i].fn(argc - 1, argv + 1);
	}
	fprintf(stderr, "uvfs: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
