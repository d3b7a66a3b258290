/* cli/main.c — `uvfs` command line entry point: dispatches subcommands.
 *
 * `--help` anywhere in a command's arguments (or -h first) prints that
 * command's help (cli/help.c) and runs nothing. A first argument that is not
 * a command, followed by a mount point, is the mount.fuse3 helper form:
 * `mount -t fuse.uvfs SOURCE MNT -o OPTS` runs `uvfs SOURCE MNT -o OPTS`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

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
WEAK int cmd_run(int argc, char **argv);
WEAK int cmd_spec(int argc, char **argv);

/* One line per command (other branches add rows). */
static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *help;
} cmds[] = {
	{ "demo", cmd_demo, "mount the default tree, show it with ls/tree/cat, unmount" },
	{ "mount", cmd_mount, "[-o OPTS] [SOURCE] MOUNTPOINT   export a tree through FUSE" },
	{ "ls", cmd_ls, "[-l -a -R --json] [PATH...]     list directories (in process, no FUSE)" },
	{ "stat", cmd_stat, "[--json] PATH...                stat files (in process)" },
	{ "cat", cmd_cat, "PATH...                         print files (in process)" },
	{ "tree", cmd_tree, "[-a --json] [PATH...]           print a tree recursively (in process)" },
	{ "9p", cmd_9p, "ls|cat|stat ADDR PATH           talk to a 9P2000.L server" },
	{ "verity", cmd_verity, "digest|build|verify|seal ...    fs-verity digests, sealed trees" },
	{ "boot", cmd_boot, "--bundle DIR --print            boot an OCI bundle, print its mountinfo" },
	{ "spec", cmd_spec, "[--rootless] [--bundle DIR]     write a default config.json (as runc spec)" },
	{ "run", cmd_run, "[--root DIR|--bundle DIR] -- PROG  run a program on a uvfs tree (seccomp)" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: uvfs COMMAND [ARGS]\n"
		   "       uvfs help COMMAND | uvfs COMMAND --help\n"
		   "       uvfs --version\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (cmds[i].fn)
			fprintf(f, "  %-7s %s\n", cmds[i].name, cmds[i].help);
	fprintf(f, "\nexit status:\n"
		   "  0  success\n"
		   "  1  the operation failed (a file, a mount, a server)\n"
		   "  2  usage error (unknown command, option or argument)\n"
		   "  3  teardown found live objects (a leak; reported on stderr)\n"
		   "\nenvironment:\n"
		   "  UVFS_LOG=error|warn|info|debug|off   log level (default warn)\n"
		   "\nexample:\n  uvfs mount default /mnt/u && ls /mnt/u && fusermount3 -u /mnt/u\n");
}

static int find_cmd(const char *name)
{
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(name, cmds[i].name))
			return (int)i;
	return -1;
}

/* Does argv (argv[0] the command) ask for help? --help before a "--", or
 * -h first or right after a subcommand word. */
static bool wants_help(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "-h"))
		return true;
	if (argc > 2 && argv[1][0] != '-' && !strcmp(argv[2], "-h"))
		return true;
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--help"))
			return true;
	return false;
}

/* `uvfs help [CMD [SUB]]`. */
static int help_cmd(int argc, char **argv)
{
	if (argc < 2) {
		usage(stdout);
		return 0;
	}
	int k = find_cmd(argv[1]);
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return cli_help_print(stdout, "help", NULL) ? 2 : 0;
	if (k < 0 || !cmds[k].fn) {
		fprintf(stderr, "uvfs: help: unknown command '%s' (see `uvfs --help`)\n", argv[1]);
		return 2;
	}
	if (!cli_help_print(stdout, argv[1], argc > 2 ? argv[2] : NULL))
		return 0;
	char *hv[] = { argv[1], "--help", NULL }; /* a command with its own help */
	return cmds[k].fn(2, hv);
}

/* UVFS_LOG must name a level: a typo would silently hide the messages asked for. */
static bool log_env_ok(void)
{
	const char *e = getenv("UVFS_LOG");
	static const char *const levels[] = { "error", "warn", "warning", "info", "debug", "off", "none" };
	if (!e || !*e)
		return true;
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (!strcasecmp(e, levels[i]))
			return true;
	fprintf(stderr, "uvfs: UVFS_LOG=%s: unknown level (want error, warn, info, debug or off)\n", e);
	return false;
}

int main(int argc, char **argv)
{
	if (!log_env_ok())
		return 2;
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("uvfs %s\n", UVFS_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "help"))
		return help_cmd(argc - 1, argv + 1);
	int k = find_cmd(argv[1]);
	if (k >= 0 && cmds[k].fn) {
		if (wants_help(argc - 1, argv + 1) &&
		    !cli_help_print(stdout, argv[1], argc > 2 ? argv[2] : NULL))
			return 0;
		return cmds[k].fn(argc - 1, argv + 1);
	}
	if (k >= 0) {
		fprintf(stderr, "uvfs: command '%s' is not built in this version\n", argv[1]);
		return 2;
	}
	/* mount.fuse3 runs `uvfs SOURCE MOUNTPOINT [-o OPTS]`. */
	struct stat st;
	if (argc >= 3 && argv[1][0] != '-' && argv[2][0] != '-' && !stat(argv[2], &st) && S_ISDIR(st.st_mode) &&
	    cmd_mount) {
		argv[0] = "mount";
		return cmd_mount(argc, argv);
	}
	fprintf(stderr, "uvfs: unknown command '%s' (see `uvfs --help`)\n", argv[1]);
	return 2;
}
