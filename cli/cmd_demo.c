/* cli/cmd_demo.c — `uvfs demo`, the README's run job: mounts the default
 * tree through FUSE in a temporary directory, shows it with ordinary tools
 * (ls -la, tree or find, cat, a script run from the mount), unmounts and
 * prints the teardown live-object report. Without a usable /dev/fuse it
 * shows the same tree in process and says so. Always unmounts. */
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
#include "fuse/fuse_export.h"

/* Runs argv with a 10 s limit; its output goes to ours. */
static int run(char *const argv[])
{
	printf("\n$");
	for (int i = 0; argv[i]; i++)
		printf(" %s", argv[i]);
	printf("\n");
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		signal(SIGPIPE, SIG_DFL); /* an ignored signal stays ignored across exec */
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

static int in_process(const char *why)
{
	printf("uvfs demo: FUSE is not usable here (%s); showing the default tree in process instead\n\n", why);
	fflush(stdout);
	char *ls[] = { "ls", "/", NULL }, *tree[] = { "tree", "/", NULL }, *cat[] = { "cat", "/etc/os-release", NULL };
	int rc = cmd_ls(2, ls);
	if (!rc)
		rc = cmd_tree(2, tree);
	if (!rc)
		rc = cmd_cat(2, cat);
	if (!rc)
		fprintf(stderr, "uvfs: teardown: 0 live objects\n");
	return rc;
}

int cmd_demo(int argc, char **argv)
{
	if (access("/dev/fuse", R_OK | W_OK))
		return in_process(strerror(errno));
	struct uvfs *vfs;
	struct uvfs_mntns *ns;
	int err = uvfs_default_tree(&vfs, &ns);
	if (err) {
		fprintf(stderr, "uvfs demo: building the tree: %s\n", strerror(-err));
		return 1;
	}
	/* From the directory's creation to its removal, ^C, kill and a reader
	 * that went away (uvfs demo | head: SIGPIPE) must not kill us: the
	 * children get them, we stop showing and unmount. */
	void (*old_int)(int) = signal(SIGINT, SIG_IGN);
	void (*old_term)(int) = signal(SIGTERM, SIG_IGN);
	void (*old_hup)(int) = signal(SIGHUP, SIG_IGN);
	void (*old_pipe)(int) = signal(SIGPIPE, SIG_IGN);
	char mp[] = "/tmp/uvfs-demo.XXXXXX";
	if (!mkdtemp(mp)) {
		fprintf(stderr, "uvfs demo: mkdtemp: %s\n", strerror(errno));
		uvfs_mntns_put(ns);
		uvfs_destroy(vfs, NULL);
		signal(SIGINT, old_int);
		signal(SIGTERM, old_term);
		signal(SIGHUP, old_hup);
		signal(SIGPIPE, old_pipe);
		return 1;
	}
	struct uvfs_fuse *fx = NULL;
	err = uvfs_fuse_start(vfs, ns, mp, NULL, NULL, &fx);
	int rc = 0;
	if (err) {
		rmdir(mp);
		uvfs_mntns_put(ns);
		uvfs_destroy(vfs, NULL);
		signal(SIGINT, old_int);
		signal(SIGTERM, old_term);
		signal(SIGHUP, old_hup);
		signal(SIGPIPE, old_pipe);
		return in_process(strerror(-err));
	}
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
	printf("\n$ fusermount3 -u %s\n", mp);
	fflush(stdout);
	bool pipe_gone = ferror(stdout) && errno == EPIPE;
	uvfs_fuse_stop(fx);
	rmdir(mp);
	signal(SIGINT, old_int);
	signal(SIGTERM, old_term);
	signal(SIGHUP, old_hup);
	uvfs_mntns_put(ns);
	struct uvfs_live live;
	memset(&live, 0, sizeof(live));
	int drc = uvfs_destroy(vfs, &live);
	if (!uvfs_report_teardown(drc, &live))
		rc = 3;
	signal(SIGPIPE, old_pipe);
	if (pipe_gone && rc != 3)
		raise(SIGPIPE); /* die as a writer to a closed pipe does, now that all is clean */
	return rc;
}
