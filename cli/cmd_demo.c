/* cli/cmd_demo.c — `uvfs demo`, the README's run job (`make run`): boots
 * runsc do's default tree (the host's / read-only under a tmpfs overlay,
 * runc spec's mounts, /proc /sys /dev generated: `--host`, cli/bundle.h),
 * mounts it through FUSE in a temporary directory, shows it with ordinary
 * tools (ls -la /, /proc/mounts, ls -l /dev, the cpu list), writes a file
 * that lands in the overlay and not on the host (both shown), unmounts and
 * prints the teardown live-object report. Without a usable /dev/fuse it
 * shows the same tree in process and says so; without a gofer (no diod) it
 * falls back to the built-in sample tree. Always unmounts. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "boot/boot.h"
#include "cli/bundle.h"
#include "fuse/fuse_export.h"

/* Runs argv with a 10 s limit; its output (stderr too: the demo is a
 * transcript) goes to our stdout. shown: the command line printed, NULL:
 * argv. */
static int run_shown(char *const argv[], const char *shown)
{
	if (shown) {
		printf("\n$ %s\n", shown);
	} else {
		printf("\n$");
		for (int i = 0; argv[i]; i++)
			printf(" %s", argv[i]);
		printf("\n");
	}
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		signal(SIGPIPE, SIG_DFL); /* an ignored signal stays ignored across exec */
		dup2(1, 2);
		execvp(argv[0], argv);
		fprintf(stderr, "uvfs demo: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	int st;
	for (int i = 0; i < 1000; i++) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
		nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	fprintf(stderr, "uvfs demo: %s timed out\n", argv[0]);
	return -1;
}

static int run(char *const argv[]) { return run_shown(argv, NULL); }

static bool have(const char *prog)
{
	const char *path = getenv("PATH");
	char buf[4096];
	if (!path)
		path = "/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");
		snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, path, prog);
		if (!access(buf, X_OK))
			return true;
		path += n + (path[n] == ':');
	}
	return false;
}

/* The same tree in process (`uvfs ls|cat --host`), or the sample tree when
 * the host tree does not boot (no diod). */
static int in_process(const char *why)
{
	printf("uvfs demo: FUSE is not usable here (%s); showing the default tree in process instead\n\n", why);
	fflush(stdout);
	char *ls[] = { "ls", "--host", "/", NULL }, *cat[] = { "cat", "--host", "/proc/mounts", NULL };
	char *cpu[] = { "cat", "--host", "/sys/devices/system/cpu/online", NULL };
	int rc = cmd_ls(3, ls);
	if (rc) {
		printf("uvfs demo: the host tree did not boot; showing the built-in sample tree\n\n");
		fflush(stdout);
		char *sls[] = { "ls", "/", NULL }, *tree[] = { "tree", "/", NULL },
		     *scat[] = { "cat", "/etc/os-release", NULL };
		rc = cmd_ls(2, sls);
		if (!rc)
			rc = cmd_tree(2, tree);
		if (!rc)
			rc = cmd_cat(2, scat);
	} else {
		rc = cmd_cat(3, cat);
		if (!rc)
			rc = cmd_cat(3, cpu);
	}
	if (!rc)
		fprintf(stderr, "uvfs: teardown: 0 live objects\n");
	return rc;
}

static void restore_signals(void (*old[4])(int))
{
	signal(SIGINT, old[0]);
	signal(SIGTERM, old[1]);
	signal(SIGHUP, old[2]);
	signal(SIGPIPE, old[3]);
}

/* Boots the host tree; on failure (no diod, ...) the sample tree, said so.
 * b->boot is set when the host tree booted. */
static int build(struct cli_bundle *b, struct uvfs **vfs, struct uvfs_mntns **ns)
{
	char *argv[] = { "demo", "--host", NULL };
	int argc = 2;
	if (cli_bundle_take_args(&argc, argv, b) == 1 && !cli_bundle_boot(b, vfs, ns))
		return 0;
	memset(b, 0, sizeof *b);
	printf("uvfs demo: the host tree did not boot (above); showing the built-in sample tree\n");
	return uvfs_default_tree(vfs, ns);
}

int cmd_demo(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	if (access("/dev/fuse", R_OK | W_OK))
		return in_process(strerror(errno));
	/* From before the gofers start (they inherit ignored signals, so a ^C
	 * to the terminal's group does not kill them under the tree) to the
	 * directory's removal, ^C, kill and a reader that went away (uvfs demo
	 * | head: SIGPIPE) must not kill us: the children get them, we stop
	 * showing and unmount. */
	void (*old[4])(int) = { signal(SIGINT, SIG_IGN), signal(SIGTERM, SIG_IGN), signal(SIGHUP, SIG_IGN),
				 signal(SIGPIPE, SIG_IGN) };
	struct uvfs *vfs;
	struct uvfs_mntns *ns;
	struct cli_bundle b;
	int err = build(&b, &vfs, &ns);
	if (err) {
		fprintf(stderr, "uvfs demo: building the tree: %s\n", strerror(-err));
		restore_signals(old);
		return 1;
	}
	bool host = b.boot != NULL;
	char mp[] = "/tmp/uvfs-demo.XXXXXX";
	struct uvfs_fuse *fx = NULL;
	err = mkdtemp(mp) ? uvfs_fuse_start(vfs, ns, mp, NULL, NULL, &fx) : -errno;
	if (err) {
		rmdir(mp);
		uvfs_mntns_put(ns);
		cli_bundle_release(&b);
		uvfs_destroy(vfs, NULL);
		restore_signals(old);
		return in_process(strerror(-err));
	}
	int rc = 0;
	if (host) {
		printf("uvfs demo: runsc do's default tree (the host's / read-only under a tmpfs overlay, runc spec's\n"
		       "mounts, /proc /sys /dev generated) is booted in this process and mounted on %s through FUSE\n",
		       mp);
		/* The file written: /root/uvfs-demo-PID.txt in the overlay; the
		 * host's /root keeps no such file. */
		struct stat st;
		const char *dir = stat("/root", &st) == 0 && S_ISDIR(st.st_mode) ? "/root" : "";
		char name[64], in[128], proc[128], dev[128], cpu[128], line[128], echo[320];
		snprintf(name, sizeof name, "%s/uvfs-demo-%d.txt", dir, (int)getpid());
		snprintf(in, sizeof in, "%s%s", mp, name);
		snprintf(proc, sizeof proc, "%s/proc/mounts", mp);
		snprintf(dev, sizeof dev, "%s/dev", mp);
		snprintf(cpu, sizeof cpu, "%s/sys/devices/system/cpu/online", mp);
		snprintf(line, sizeof line, "hello from uvfs: %s", name);
		snprintf(echo, sizeof echo, "echo '%s' > %s", line, in);
		char *ls[] = { "ls", "-la", mp, NULL };
		char *mounts[] = { "cat", proc, NULL };
		char *lsdev[] = { "ls", "-l", dev, NULL };
		char *online[] = { "cat", cpu, NULL };
		char *write[] = { "sh", "-c", echo, NULL };
		char *readback[] = { "cat", in, NULL };
		char *onhost[] = { "ls", "-l", name, NULL };
		struct {
			char **argv;
			int want; /* exit status expected */
			const char *note;
			const char *shown;
		} steps[] = {
			{ ls, 0, NULL, NULL },
			{ mounts, 0, NULL, NULL },
			{ lsdev, 0, NULL, NULL },
			{ online, 0, NULL, NULL },
			{ write, 0, "a write through the mount", echo },
			{ readback, 0, "it is in the tree (the tmpfs overlay)", NULL },
			{ onhost, 2, "and not on the host", NULL },
		};
		for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]) && !rc && !ferror(stdout); i++) {
			if (steps[i].note) {
				printf("\n# %s", steps[i].note);
				fflush(stdout);
			}
			if (run_shown(steps[i].argv, steps[i].shown) != steps[i].want)
				rc = 1;
		}
	} else {
		printf("uvfs demo: the default tree (a tmpfs in this process) is mounted on %s through FUSE\n", mp);
		char hello[256], osr[256];
		snprintf(hello, sizeof(hello), "%s/usr/bin/hello", mp);
		snprintf(osr, sizeof(osr), "%s/etc/os-release", mp);
		char *ls[] = { "ls", "-la", mp, NULL };
		char *tree[] = { "tree", "-a", "-p", "-u", mp, NULL };
		char *find[] = { "find", mp, "-ls", NULL };
		char *cat[] = { "cat", osr, NULL };
		char *sh[] = { hello, NULL };
		char **steps[] = { ls, have("tree") ? tree : find, cat, sh };
		for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]) && !rc && !ferror(stdout); i++)
			if (run(steps[i]))
				rc = 1;
	}
	printf("\n$ fusermount3 -u %s\n", mp);
	fflush(stdout);
	bool pipe_gone = ferror(stdout) && errno == EPIPE;
	uvfs_fuse_stop(fx);
	rmdir(mp);
	uvfs_mntns_put(ns);
	cli_bundle_release(&b);
	struct uvfs_live live;
	memset(&live, 0, sizeof(live));
	int drc = uvfs_destroy(vfs, &live);
	if (!uvfs_report_teardown(drc, &live))
		rc = 3;
	restore_signals(old);
	if (pipe_gone && rc != 3)
		raise(SIGPIPE); /* die as a writer to a closed pipe does, now that all is clean */
	return rc;
}
