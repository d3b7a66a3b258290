/* cli/cmd_9p.c — `uvfs 9p`: poke a 9P2000.L server by hand.
 *
 *   uvfs 9p [-a ANAME] [-u UID] [-m MSIZE] ls|cat|stat ADDR PATH
 *
 * ADDR is tcp:HOST:PORT, unix:/path, fd:N (or fd:R,W) for an inherited
 * connection as in trans=fd, or diod:DIR to spawn a private diod exporting
 * DIR on a socketpair (the gofer shape; ANAME then defaults to DIR). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/escape.h"
#include "cli/statfmt.h"
#include "fsimpl/gofer/p9/p9.h"

static void usage(void)
{
	fprintf(stderr, "usage: uvfs 9p [-a ANAME] [-u UID] [-m MSIZE] ls|cat|stat ADDR PATH\n"
			"  ADDR: tcp:HOST:PORT | unix:/path | fd:N | fd:R,W | diod:DIR\n");
}

static pid_t spawn_diod(const char *dir, int *fd)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(sv[1], 3); /* dup2 clears CLOEXEC on the copy */
		execl("/usr/sbin/diod", "diod", "-f", "-r", "3", "-w", "3", "-e", dir, "-n", "-N", "-c",
		      "/dev/null", "-L", "stderr", (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		return -1;
	}
	*fd = sv[0];
	return pid;
}

static int dial(const char *addr, const struct uvfs_p9_opts *o, struct uvfs_p9_client **c, pid_t *child)
{
	*child = 0;
	if (!strncmp(addr, "fd:", 3)) {
		char *end;
		long r = strtol(addr + 3, &end, 10), w = r;
		if (*end == ',')
			w = strtol(end + 1, &end, 10);
		if (*end || r < 0 || w < 0 || end == addr + 3)
			return -EINVAL;
		return uvfs_p9_connect_fds((int)r, (int)w, o, c);
	}
	if (!strncmp(addr, "diod:", 5)) {
		int fd;
		*child = spawn_diod(addr + 5, &fd);
		if (*child < 0)
			return -errno;
		return uvfs_p9_connect_fds(fd, fd, o, c);
	}
	return uvfs_p9_connect(addr, o, c);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct names {
	char **v;
	size_t n, cap;
	uint64_t off;
	int err;
};

static int collect(void *arg, const struct uvfs_p9_dirent *de)
{
	struct names *ns = arg;
	ns->off = de->offset;
	if (!strcmp(de->name, ".") || !strcmp(de->name, ".."))
		return 0;
	if (ns->n == ns->cap) {
		size_t cap = ns->cap ? ns->cap * 2 : 64;
		char **v = realloc(ns->v, cap * sizeof(*v));
		if (!v) {
			ns->err = -ENOMEM;
			return 1;
		}
		ns->v = v;
		ns->cap = cap;
	}
	size_t len = strlen(de->name);
	char *s = malloc(len + 2);
	if (!s) {
		ns->err = -ENOMEM;
		return 1;
	}
	memcpy(s, de->name, len);
	s[len] = de->type == DT_DIR ? '/' : '\0';
	s[len + 1] = '\0';
	ns->v[ns->n++] = s;
	return 0;
}

static int do_ls(struct uvfs_p9_client *c, uint32_t fid)
{
	int err = uvfs_p9_lopen(c, fid, O_RDONLY | O_DIRECTORY, NULL, NULL);
	if (err)
		return err;
	struct names ns = { 0 };
	int n;
	while ((n = uvfs_p9_readdir(c, fid, ns.off, 0, collect, &ns)) > 0 && !ns.err)
		;
	err = n < 0 ? n : ns.err;
	if (!err) {
		qsort(ns.v, ns.n, sizeof(*ns.v), name_cmp);
		for (size_t i = 0; i < ns.n; i++)
			cli_put_str(stdout, ns.v[i]), putchar('\n');
	}
	for (size_t i = 0; i < ns.n; i++)
		free(ns.v[i]);
	free(ns.v);
	return err;
}

static int do_cat(struct uvfs_p9_client *c, uint32_t fid)
{
	int err = uvfs_p9_lopen(c, fid, O_RDONLY, NULL, NULL);
	if (err)
		return err;
	size_t cap = 1u << 20;
	char *buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	uint64_t off = 0;
	long n;
	while ((n = uvfs_p9_read(c, fid, off, buf, cap)) > 0) {
		if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n) {
			n = -EIO;
			break;
		}
		off += (uint64_t)n;
	}
	free(buf);
	return n < 0 ? (int)n : 0;
}

/* Tgetattr shown in the format of `uvfs stat` (cli/statfmt.h); the qid,
 * which has no statx field, is the extra line. */
static int do_stat(struct uvfs_p9_client *c, uint32_t fid, const char *path)
{
	struct uvfs_p9_attr a;
	int err = uvfs_p9_getattr(c, fid, UVFS_P9_GETATTR_ALL, &a);
	if (err)
		return err;
	struct statx x = {
		.stx_mask = STATX_BASIC_STATS | STATX_BTIME,
		.stx_blksize = (uint32_t)a.blksize,
		.stx_nlink = (uint32_t)a.nlink,
		.stx_uid = a.uid,
		.stx_gid = a.gid,
		.stx_mode = (uint16_t)a.mode,
		.stx_ino = a.qid.path,
		.stx_size = a.size,
		.stx_blocks = a.blocks,
		.stx_atime = { (int64_t)a.atime_sec, (uint32_t)a.atime_nsec, 0 },
		.stx_btime = { (int64_t)a.btime_sec, (uint32_t)a.btime_nsec, 0 },
		.stx_ctime = { (int64_t)a.ctime_sec, (uint32_t)a.ctime_nsec, 0 },
		.stx_mtime = { (int64_t)a.mtime_sec, (uint32_t)a.mtime_nsec, 0 },
		.stx_rdev_major = major(a.rdev),
		.stx_rdev_minor = minor(a.rdev),
	};
	if (!a.btime_sec && !a.btime_nsec)
		x.stx_mask &= ~(unsigned)STATX_BTIME;
	char t[4096], extra[128];
	const char *target = NULL;
	if (S_ISLNK(a.mode) && uvfs_p9_readlink(c, fid, t, sizeof(t)) >= 0)
		target = t;
	snprintf(extra, sizeof(extra), "   Qid: type 0x%02x version %u path %" PRIu64, a.qid.type, a.qid.version,
		 a.qid.path);
	cli_print_stat(stdout, path, &x, target, extra);
	return 0;
}

int cmd_9p(int argc, char **argv)
{
	const char *aname = NULL;
	uint32_t uid = 0;
	struct uvfs_p9_opts o = { 0 };
	int opt;
	optind = 1;
	while ((opt = getopt(argc, argv, "+a:u:m:h")) != -1) {
		switch (opt) {
		case 'a': aname = optarg; break;
		case 'u': uid = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'm': o.msize = (uint32_t)strtoul(optarg, NULL, 10); break;
		default: usage(); return opt == 'h' ? 0 : 2;
		}
	}
	if (argc - optind != 3) {
		usage();
		return 2;
	}
	const char *cmd = argv[optind], *addr = argv[optind + 1], *path = argv[optind + 2];
	if (strcmp(cmd, "ls") && strcmp(cmd, "cat") && strcmp(cmd, "stat")) {
		usage();
		return 2;
	}
	if (!aname)
		aname = !strncmp(addr, "diod:", 5) ? addr + 5 : "/";

	struct uvfs_p9_client *c = NULL;
	pid_t child;
	int err = dial(addr, &o, &c, &child);
	uint32_t root = UVFS_P9_NOFID, fid = UVFS_P9_NOFID;
	if (err) {
		fprintf(stderr, "uvfs 9p: %s: %s\n", addr, strerror(-err));
		goto out;
	}
	err = uvfs_p9_attach(c, uid ? "" : "root", uid, aname, &root, NULL);
	if (err) {
		fprintf(stderr, "uvfs 9p: attach %s: %s\n", aname, strerror(-err));
		goto out;
	}
	err = uvfs_p9_walk_path(c, root, path, &fid, NULL);
	if (!err) {
		if (!strcmp(cmd, "ls"))
			err = do_ls(c, fid);
		else if (!strcmp(cmd, "cat"))
			err = do_cat(c, fid);
		else
			err = do_stat(c, fid, path);
	}
	if (err)
		fprintf(stderr, "uvfs 9p: %s: %s\n", path, strerror(-err));
	fflush(stdout);
out:
	if (c) {
		if (fid != UVFS_P9_NOFID)
			uvfs_p9_clunk(c, fid);
		if (root != UVFS_P9_NOFID)
			uvfs_p9_clunk(c, root);
		uvfs_p9_close(c);
	}
	if (child > 0) {
		/* diod exits when its connection closes; don't wait forever. */
		bool reaped = false;
		for (int i = 0; i < 100 && !reaped; i++) {
			reaped = waitpid(child, NULL, WNOHANG) == child;
			if (!reaped)
				usleep(10000);
		}
		if (!reaped) {
			kill(child, SIGKILL);
			waitpid(child, NULL, 0);
		}
	}
	return err ? 1 : 0;
}
