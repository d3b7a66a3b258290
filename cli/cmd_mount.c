/* cli/cmd_mount.c — `uvfs mount [-o OPTS] [SOURCE] MOUNTPOINT` (sshfs/bindfs
 * argument order) and the mount.fuse3 helper form `uvfs SOURCE MNT -o OPTS`.
 *
 * SOURCE: `default` (or none) the built-in tree, `TYPE:SRC` or `-t TYPE SRC`
 * one filesystem of TYPE (cli/mount_spec.h), a host directory the 9p gofer.
 * -o options are split: export options go to libfuse/fuse_export, mount.fuse3
 * bookkeeping options are dropped, the rest go to the filesystem (-t) or are
 * rejected by name (exit 2).
 *
 * Backgrounding is ours, not libfuse's: libfuse's daemonize exits 0 before
 * the tree is built or the kernel's INIT answered, losing every later error.
 * We fork first (no uvfs thread exists yet), the child serves in the
 * foreground of its own session, and the parent exits only when the mount
 * answers a stat (0) or the child died (its status). Once the tree is built
 * the child's stderr (its errors, libfuse's, the teardown report) goes to
 * -o log=FILE or to syslog. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "cli/bundle.h"
#include "cli/cli.h"
#include "cli/mount_spec.h"
#include "boot/boot.h"
#include "fuse/fuse_export.h"
#include "vfs/uvfs_fs.h" /* uvfs_log */

/* Options libfuse or fuse_export take (NAME or NAME=). */
static const char *const export_opts[] = {
	"allow_other", "allow_root", "auto_unmount", "ro", "rw", "suid", "nosuid", "dev", "nodev", "exec",
	"noexec", "atime", "noatime", "relatime", "sync", "async", "dirsync", "fsname=", "subtype=",
	"max_read=", "max_threads=", "entry_timeout=", "attr_timeout=", "writeback=", "blkdev", "blksize=", "uid=", "gid=",
	"umask=", "map=", "kernel_cache", "debug", NULL,
};
/* mount(8)/mount.fuse3/fstab bookkeeping: nothing for us to do. */
static const char *const ignored_opts[] = {
	"defaults", "nofail", "_netdev", "noauto", "auto", "user", "nouser", "users", "owner", "group",
	"comment=", "x-", "default_permissions", NULL,
};
/* Wanted, but the export cannot do them yet: refuse rather than ignore. */
static const char *const unsupported_opts[] = { "auto_cache", "idmap=", NULL };

static bool in(const char *const *list, const char *opt)
{
	for (int i = 0; list[i]; i++) {
		size_t n = strlen(list[i]);
		if (list[i][n - 1] == '=' || list[i][n - 1] == '-' ? !strncmp(opt, list[i], n) : !strcmp(opt, list[i]))
			return true;
	}
	return false;
}

static void append(char *buf, size_t len, const char *opt)
{
	size_t n = strlen(buf);
	snprintf(buf + n, len - n, "%s%s", n ? "," : "", opt);
}

struct mount_args {
	struct cli_mount_spec spec;
	bool foreground, have_type, source_default;
	char *log_file;
	char fuse_opts[1024], fs_opts[1024];
	char type_buf[32];
	int ready_fd; /* the child's end of the parent's wait pipe, or -1 */
	int log_fd;   /* what becomes stderr once the tree is built, or -1: syslog */
	int saved_err;
};

/* Sorts one -o string into fuse_opts / fs_opts. 0 or 2 (usage). */
static int sort_opts(struct mount_args *a, const char *s)
{
	char *copy = strdup(s), *save = NULL;
	if (!copy)
		return 1;
	int rc = 0;
	for (char *o = strtok_r(copy, ",", &save); o && !rc; o = strtok_r(NULL, ",", &save)) {
		if (!strncmp(o, "log=", 4)) {
			free(a->log_file);
			a->log_file = strdup(o + 4);
		} else if (in(unsupported_opts, o)) {
			fprintf(stderr, "uvfs: mount: option '%s' is not supported%s\n", o,
				!strncmp(o, "idmap=", 6) ? " (id mapping is bindfs's map=FROM/TO:@FROM/@TO)" : " yet");
			rc = 2;
		} else if (in(ignored_opts, o)) {
			uvfs_log(UVFS_LOG_DEBUG, "mount: option %s: ignored (mount(8)/fstab bookkeeping)", o);
			continue;
		} else if (in(export_opts, o)) {
			uvfs_log(UVFS_LOG_DEBUG, "mount: option %s: for the FUSE export", o);
			append(a->fuse_opts, sizeof(a->fuse_opts), o);
			if (!strcmp(o, "ro")) /* a read-only export of a read-only mount */
				append(a->fs_opts, sizeof(a->fs_opts), o);
		} else {
			uvfs_log(UVFS_LOG_DEBUG, "mount: option %s: for the filesystem", o);
			append(a->fs_opts, sizeof(a->fs_opts), o);
		}
	}
	free(copy);
	return rc;
}

/* ---------------------------------------------------------- log sink */

static int syslog_pipe = -1;
static pthread_t syslog_thread;

static void *syslog_pump(void *arg)
{
	FILE *in = fdopen((int)(long)arg, "r");
	char line[1024];
	while (in && fgets(line, sizeof(line), in)) {
		line[strcspn(line, "\n")] = 0;
		syslog(strstr(line, "teardown: 0 live") ? LOG_INFO : LOG_ERR, "%s", line);
	}
	if (in)
		fclose(in);
	return NULL;
}

/* From here on, stderr is the log (the parent has gone). */
static void redirect_stderr(struct mount_args *a)
{
	fflush(stderr);
	if (a->log_fd >= 0) {
		dup2(a->log_fd, 2);
		close(a->log_fd);
		a->log_fd = -1;
		return;
	}
	int p[2];
	if (pipe2(p, O_CLOEXEC))
		return;
	openlog("uvfs", LOG_PID, LOG_DAEMON);
	if (pthread_create(&syslog_thread, NULL, syslog_pump, (void *)(long)p[0])) {
		close(p[0]);
		close(p[1]);
		return;
	}
	dup2(p[1], 2);
	close(p[1]);
	syslog_pipe = 1;
	setvbuf(stderr, NULL, _IOLBF, 0);
}

static void end_log(void)
{
	if (syslog_pipe < 0)
		return;
	fflush(stderr);
	int nul = open("/dev/null", O_WRONLY);
	dup2(nul, 2); /* EOF for the pump */
	close(nul);
	pthread_join(syslog_thread, NULL);
	closelog();
}

/* Copies what fd from holds (from its start) to fd to. */
static void copy_fd(int from, int to)
{
	char buf[4096];
	ssize_t n;
	lseek(from, 0, SEEK_SET);
	while ((n = read(from, buf, sizeof(buf))) > 0)
		if (write(to, buf, (size_t)n) != n)
			break;
}

/* Runs after the mount: builds the tree, then (background) tells the
 * parent and moves stderr to the log. While building, stderr is a memfd:
 * a gofer started by the build inherits it, and must not hold the caller's
 * terminal or pipe open (`$(uvfs mount ...)` would never end); what the
 * build printed is then copied to the caller's stderr and to the log. */
static int build(void *arg, struct uvfs **vfs, struct uvfs_mntns **ns)
{
	struct mount_args *a = arg;
	uvfs_log(UVFS_LOG_INFO, "mount: building %s%s%s (options: %s)", a->spec.type ? a->spec.type : "the default tree",
		 a->spec.type ? " from " : "", a->spec.type ? a->spec.source : "", a->spec.opts ? a->spec.opts : "none");
	if (a->ready_fd < 0)
		return a->spec.type ? cli_build_tree(&a->spec, vfs, ns) : uvfs_default_tree(vfs, ns);
	fflush(stderr);
	int orig = fcntl(2, F_DUPFD_CLOEXEC, 3);
	int cap = memfd_create("uvfs-build", MFD_CLOEXEC);
	if (cap >= 0)
		dup2(cap, 2);
	int err = a->spec.type ? cli_build_tree(&a->spec, vfs, ns) : uvfs_default_tree(vfs, ns);
	fflush(stderr);
	if (cap >= 0 && orig >= 0)
		copy_fd(cap, orig);
	if (err) {
		if (orig >= 0)
			dup2(orig, 2); /* the caller still waits: later messages are theirs */
	} else {
		redirect_stderr(a);
		fflush(stderr);
		if (cap >= 0)
			copy_fd(cap, 2);
	}
	if (cap >= 0)
		close(cap);
	if (orig >= 0)
		close(orig);
	if (err)
		return err;
	if (write(a->ready_fd, "ok", 2) < 0) {
		/* the parent is gone; nothing to tell */
	}
	close(a->ready_fd);
	a->ready_fd = -1;
	return 0;
}

/* The parent of a background mount: 0 once MNT answers, else the child's
 * status. */
static int wait_ready(pid_t pid, int rfd, const char *mnt)
{
	char buf[2];
	ssize_t n = read(rfd, buf, sizeof(buf));
	close(rfd);
	int st;
	if (n == 2) {
		/* statfs is always a request, which waits for INIT's answer
		 * (a stat of the root may be answered from the mount's own). */
		struct statfs sb;
		if (!statfs(mnt, &sb))
			return 0;
		fprintf(stderr, "uvfs: mount: %s: the FUSE session ended at start: %s (see the log)\n", mnt,
			strerror(errno));
	}
	if (waitpid(pid, &st, 0) == pid && WIFEXITED(st))
		return WEXITSTATUS(st) ? WEXITSTATUS(st) : 1;
	return 1;
}

/* Resolves SOURCE (no -t given). 0, or the exit status. */
static int resolve_source(struct mount_args *a, char *src)
{
	if (!strcmp(src, "default")) {
		a->source_default = true;
		return 0;
	}
	char *colon = strchr(src, ':');
	if (colon && colon != src && (size_t)(colon - src) < sizeof(a->type_buf) && !strchr(src, '/')) {
		snprintf(a->type_buf, sizeof(a->type_buf), "%.*s", (int)(colon - src), src);
		a->spec.type = a->type_buf;
		a->spec.source = colon + 1;
		return 0;
	}
	struct stat st;
	if (stat(src, &st)) {
		fprintf(stderr, "uvfs: mount: source %s: %s (want default, TYPE:SOURCE or a directory)\n", src,
			strerror(errno));
		return 1;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "uvfs: mount: source %s: not a directory (want default, TYPE:SOURCE or a directory)\n",
			src);
		return 1;
	}
	a->spec.type = "9p";
	a->spec.source = src;
	return 0;
}

int cmd_mount(int argc, char **argv)
{
	struct cli_bundle bundle; /* --bundle DIR / --host: an OCI bundle booted (cli/bundle.h) */
	int b = cli_bundle_take_args(&argc, argv, &bundle);
	if (b)
		return b < 0 ? 2 : cli_bundle_mount(&bundle, argc, argv);
	struct mount_args a = { .ready_fd = -1, .log_fd = -1 };
	char *abs = NULL; /* -t overlay: its options with absolute layer paths */
	char *absmnt = NULL; /* a relative mount point made absolute */
	char *abssrc = NULL; /* a relative SOURCE made absolute */
	char *pos[3];
	int npos = 0, rc = 0;
	char *fargv[16];
	int fargc = 0;
	fargv[fargc++] = "uvfs"; /* libfuse derives the subtype from argv[0] */
	if (argc == 2 && (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))) {
		char *vargv[] = { "uvfs", "--version", NULL };
		return uvfs_fuse_main(2, vargv, build, &a);
	}
	for (int i = 1; i < argc && !rc; i++) {
		char *s = argv[i];
		if (!strcmp(s, "-o") || !strcmp(s, "-t")) {
			if (i + 1 >= argc) {
				fprintf(stderr, "uvfs: mount: %s needs an argument\n", s);
				rc = 2;
				break;
			}
			if (s[1] == 't') {
				a.spec.type = argv[++i];
				a.have_type = true;
			} else
				rc = sort_opts(&a, argv[++i]);
		} else if (!strncmp(s, "-o", 2)) {
			rc = sort_opts(&a, s + 2);
		} else if (!strcmp(s, "-f") || !strcmp(s, "-d") || !strcmp(s, "-s")) {
			if (fargc < 8)
				fargv[fargc++] = s;
			if (s[1] != 's')
				a.foreground = true;
		} else if (s[0] == '-') {
			fprintf(stderr, "uvfs: mount: unknown option '%s' (see `uvfs mount --help`)\n", s);
			rc = 2;
		} else if (npos < 3) {
			pos[npos++] = s;
		}
	}
	if (!rc && (npos == 0 || npos > 2)) {
		fprintf(stderr, npos ? "uvfs: mount: too many arguments: '%s' (want [SOURCE] MOUNTPOINT)\n"
				     : "uvfs: mount: no mount point given (see `uvfs mount --help`)\n",
			npos ? pos[2 < npos ? 2 : 1] : "");
		rc = 2;
	}
	char *mnt = npos ? pos[npos - 1] : NULL;
	bool named = a.have_type && cli_source_in_opts(a.spec.type, a.fs_opts); /* lower= */
	if (!rc && a.have_type && npos != (named ? 1 : 2)) {
		fprintf(stderr, named ? "uvfs: mount: -t %s with lower= takes no SOURCE\n"
				      : "uvfs: mount: -t %s needs a SOURCE before the mount point\n", a.spec.type);
		rc = 2;
	}
	if (!rc && a.have_type)
		a.spec.source = named ? a.spec.type : pos[0];
	else if (!rc && npos == 2)
		rc = resolve_source(&a, pos[0]);
	if (!rc && !a.spec.type && a.fs_opts[0] && strcmp(a.fs_opts, "ro")) {
		char *bad = strtok(a.fs_opts, ",");
		if (!strcmp(bad, "ro"))
			bad = strtok(NULL, ",");
		fprintf(stderr, "uvfs: mount: unknown option '%s' (see `uvfs mount --help`)\n", bad);
		rc = 2;
	}
	if (rc)
		goto out;
	if (a.spec.type)
		a.spec.opts = a.fs_opts[0] ? a.fs_opts : NULL;
	/* The tree is built after the background child chdir'ed to "/": host
	 * paths in the options (overlay's layers, verity's lower= and
	 * tree_dir=) and a SOURCE naming a host path are made absolute here. */
	if (a.spec.type && a.spec.opts && !(a.spec.opts = abs = cli_abs_path_opts(a.spec.opts))) {
		rc = 1;
		goto out;
	}
	if (a.spec.type && a.spec.source && a.spec.source[0] != '/' && (abssrc = realpath(a.spec.source, NULL)))
		a.spec.source = abssrc;
	if (a.log_file) {
		a.log_fd = open(a.log_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
		if (a.log_fd < 0) {
			fprintf(stderr, "uvfs: mount: log=%s: %s\n", a.log_file, strerror(errno));
			rc = 1;
			goto out;
		}
	}
	static char obuf[1100];
	if (a.fuse_opts[0]) {
		snprintf(obuf, sizeof(obuf), "-o%s", a.fuse_opts);
		fargv[fargc++] = obuf;
	}
	if (!a.foreground)
		fargv[fargc++] = "-f"; /* we background ourselves (above) */
	/* The background child serves from "/": a relative mount point would
	 * name another directory there. */
	if (!a.foreground && mnt[0] != '/') {
		if (!(absmnt = realpath(mnt, NULL))) {
			fprintf(stderr, "uvfs: mount: bad mount point %s: %s\n", mnt, strerror(errno));
			rc = 1;
			goto out;
		}
		mnt = absmnt;
	}
	fargv[fargc++] = mnt;
	fargv[fargc] = NULL;

	if (!a.foreground) {
		int p[2];
		if (pipe2(p, O_CLOEXEC)) {
			rc = 1;
			goto out;
		}
		fflush(NULL);
		pid_t pid = fork();
		if (pid < 0) {
			fprintf(stderr, "uvfs: mount: fork: %s\n", strerror(errno));
			rc = 1;
			goto out;
		}
		if (pid > 0) {
			close(p[1]);
			rc = wait_ready(pid, p[0], mnt);
			goto out;
		}
		close(p[0]);
		a.ready_fd = p[1];
		setsid();
		int nul = open("/dev/null", O_RDWR);
		dup2(nul, 0);
		dup2(nul, 1);
		close(nul);
		if (chdir("/")) {
			/* keep the cwd */
		}
	}
	uvfs_log(UVFS_LOG_INFO, "mount: exporting on %s (FUSE options: %s)%s", mnt, a.fuse_opts[0] ? a.fuse_opts : "none",
		 a.foreground ? "" : ", in the background");
	rc = uvfs_fuse_main(fargc, fargv, build, &a);
	uvfs_log(UVFS_LOG_INFO, "mount: %s unmounted, exit status %d", mnt, rc);
	end_log();
out:
	free(abs);
	free(absmnt);
	free(abssrc);
	if (a.log_fd >= 0)
		close(a.log_fd);
	free(a.log_file);
	return rc;
}
