/* sandbox/run/hostdir.c — the run's host directory outlives a killed
 * supervisor no longer than the next run.
 *
 * uvfs_run makes a host directory per run (loop.c: exec links, directory
 * placeholders; the tracee's host cwd) and removes it at the end; a
 * supervisor killed by SIGKILL cannot. So the run holds an exclusive flock
 * on <dir>/.lock (an open file description of its own, close-on-exec: the
 * kernel drops the lock when the supervisor dies, whatever kills it), and
 * each run first removes its siblings — same parent, same name prefix,
 * owned by this user — whose lock it can take. A sibling without a lock
 * file (a run just made it, or an older uvfs that had none) or changed
 * less than RUN_HOSTDIR_AGE seconds ago (a run between mkdtemp and flock)
 * is left alone. Nothing is followed: entries are removed by
 * unlinkat/openat(O_NOFOLLOW) relative to directory fds, and the tree is a
 * few levels deep (N, Nd/NAME, iM/NAME, d/SEQ/N). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sandbox/run/internal.h"

#define RUN_HOSTDIR_AGE 3 /* seconds */
#define RUN_HOSTDIR_LOCK ".lock"

/* Empties the directory fd (consumed) and its subdirectories, up to depth. */
static void empty_dir(int fd, int depth)
{
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (!unlinkat(dirfd(d), e->d_name, 0) || errno != EISDIR || depth <= 0)
			continue;
		int sub = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub >= 0)
			empty_dir(sub, depth - 1);
		unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR);
	}
	closedir(d);
}

/* Removes the sibling name of parent when it is a dead run's directory. */
static void sweep_one(int parent, const char *name, time_t now)
{
	struct stat st;
	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    st.st_mtime > now - RUN_HOSTDIR_AGE || st.st_ctime > now - RUN_HOSTDIR_AGE)
		return;
	int dfd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return;
	int lk = openat(dfd, RUN_HOSTDIR_LOCK, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (lk < 0 || flock(lk, LOCK_EX | LOCK_NB)) {
		if (lk >= 0)
			close(lk);
		close(dfd);
		return; /* a live run's, or not a run directory we know */
	}
	empty_dir(dfd, 4);
	unlinkat(parent, name, AT_REMOVEDIR);
	close(lk);
}

int run_hostdir_claim(const char *dir)
{
	char lp[PATH_MAX];
	if (snprintf(lp, sizeof(lp), "%s/" RUN_HOSTDIR_LOCK, dir) >= (int)sizeof(lp))
		return -ENAMETOOLONG;
	int lk = open(lp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (lk < 0)
		return -errno;
	if (flock(lk, LOCK_EX | LOCK_NB)) {
		int err = -errno;
		unlink(lp); /* an unlocked lock file would mark dir dead */
		close(lk);
		return err;
	}
	/* the siblings: dir is PARENT/PREFIXxxxxxx (mkdtemp's six letters) */
	const char *slash = strrchr(dir, '/');
	size_t plen = slash ? (size_t)(slash - dir) : 0;
	const char *base = slash ? slash + 1 : dir;
	size_t blen = strlen(base);
	if (blen <= 6 || plen >= sizeof(lp))
		return lk;
	char parent[PATH_MAX];
	snprintf(parent, sizeof(parent), "%.*s", (int)(plen ? plen : 1), slash ? dir : ".");
	DIR *d = opendir(parent);
	if (!d)
		return lk;
	time_t now = time(NULL);
	struct dirent *e;
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, base, blen - 6) && strlen(e->d_name) == blen && strcmp(e->d_name, base))
			sweep_one(dirfd(d), e->d_name, now);
	closedir(d);
	return lk;
}
