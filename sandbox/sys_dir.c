/* sandbox/sys_dir.c — getdents64, readlinkat, the namespace calls
 * (mkdirat ... symlinkat), chdir/fchdir/getcwd/chroot. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <stdio.h> /* RENAME_* */
#include <stdlib.h>
#include <string.h>

#include "fsimpl/kernfs/task.h"
#include "sandbox/sbx.h"

/* Linux iterate_dir: -ENOTDIR for a non-directory, -ENOENT once the
 * directory was removed (IS_DEADDIR; the VFS's readdir would still list
 * "." and "..", so a removed directory — nlink 0 — is caught here). */
static long do_getdents(struct uvfs_file *f, void *dirp, size_t count)
{
	if (!S_ISDIR(__atomic_load_n(&f->f_inode->i_mode, __ATOMIC_RELAXED)))
		return -ENOTDIR;
	struct statx x;
	if (!uvfs_file_stat(f, STATX_NLINK, &x) && (x.stx_mask & STATX_NLINK) && x.stx_nlink == 0)
		return -ENOENT;
	if (!dirp && count)
		return -EFAULT;
	return uvfs_getdents64(f, dirp, count > INT_MAX ? INT_MAX : count);
}

UVFS_API long uvfs_sbx_getdents64(struct uvfs_sbx_task *t, int fd, void *dirp, size_t count)
{
	SBX_CTX(t);
	return WITH_FILE_NOPATH(t, fd, do_getdents(f, dirp, count));
}

UVFS_API long uvfs_sbx_readlinkat(struct uvfs_sbx_task *t, int dirfd, const char *path, char *buf, size_t bufsiz)
{
	SBX_CTX(t);
	/* bufsiz is an int in the kernel. */
	if (bufsiz == 0 || bufsiz > INT_MAX)
		return -EINVAL;
	struct sbx_at at;
	/* readlinkat(fd, "") reads the symlink fd names (LOOKUP_EMPTY). */
	long err = sbx_at_begin(t, dirfd, path, SBX_AT_EMPTY, &at);
	if (err)
		return err;
	if (buf) {
		err = uvfs_readlink_at(t->vfs, &t->cred, &at.pop, buf, bufsiz);
	} else {
		/* Linux faults only when copying the target: errors first. */
		char c;
		err = uvfs_readlink_at(t->vfs, &t->cred, &at.pop, &c, 1);
		if (err >= 0)
			err = -EFAULT;
	}
	sbx_at_end(&at);
	if (err == -EINVAL && !path[0])
		err = -ENOENT; /* Linux: "" naming a non-symlink */
	return err;
}

UVFS_API long uvfs_sbx_mkdirat(struct uvfs_sbx_task *t, int dirfd, const char *path, mode_t mode)
{
	SBX_CTX(t);
	struct sbx_at at;
	long err = sbx_at_begin(t, dirfd, path, 0, &at);
	if (err)
		return err;
	err = uvfs_mkdir_at(t->vfs, &t->cred, &at.pop, mode & 01777 & ~sbx_umask(t));
	sbx_at_end(&at);
	return err;
}

UVFS_API long uvfs_sbx_mknodat(struct uvfs_sbx_task *t, int dirfd, const char *path, mode_t mode, dev_t dev)
{
	SBX_CTX(t);
	/* Linux may_mknod: 0 is a regular file; directories -EPERM. */
	switch (mode & S_IFMT) {
	case 0:
		mode |= S_IFREG;
		break;
	case S_IFREG:
	case S_IFCHR:
	case S_IFBLK:
	case S_IFIFO:
	case S_IFSOCK:
		break;
	case S_IFDIR:
		return -EPERM;
	default:
		return -EINVAL;
	}
	struct sbx_at at;
	long err = sbx_at_begin(t, dirfd, path, 0, &at);
	if (err)
		return err;
	mode = (mode & S_IFMT) | (mode & 07777 & ~sbx_umask(t));
	err = uvfs_mknod_at(t->vfs, &t->cred, &at.pop, mode, S_ISCHR(mode) || S_ISBLK(mode) ? dev : 0);
	sbx_at_end(&at);
	return err;
}

UVFS_API long uvfs_sbx_unlinkat(struct uvfs_sbx_task *t, int dirfd, const char *path, int flags)
{
	SBX_CTX(t);
	if (flags & ~AT_REMOVEDIR)
		return -EINVAL;
	struct sbx_at at;
	long err = sbx_at_begin(t, dirfd, path, 0, &at);
	if (err)
		return err;
	err = (flags & AT_REMOVEDIR) ? uvfs_rmdir_at(t->vfs, &t->cred, &at.pop)
				     : uvfs_unlink_at(t->vfs, &t->cred, &at.pop);
	sbx_at_end(&at);
	return err;
}

UVFS_API long uvfs_sbx_renameat2(struct uvfs_sbx_task *t, int olddirfd, const char *oldpath, int newdirfd,
				 const char *newpath, unsigned flags)
{
	SBX_CTX(t);
	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT))
		return -EINVAL;
	if ((flags & (RENAME_NOREPLACE | RENAME_WHITEOUT)) && (flags & RENAME_EXCHANGE))
		return -EINVAL;
	struct sbx_at o, n;
	long err = sbx_at_begin(t, olddirfd, oldpath, 0, &o);
	if (err)
		return err;
	err = sbx_at_begin(t, newdirfd, newpath, 0, &n);
	if (!err) {
		err = uvfs_rename_at(t->vfs, &t->cred, &o.pop, &n.pop, flags);
		sbx_at_end(&n);
	}
	sbx_at_end(&o);
	return err;
}

UVFS_API long uvfs_sbx_linkat(struct uvfs_sbx_task *t, int olddirfd, const char *oldpath, int newdirfd,
			      const char *newpath, int flags)
{
	SBX_CTX(t);
	if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	/* Linux: linking by fd needs CAP_DAC_READ_SEARCH, else -ENOENT. */
	if ((flags & AT_EMPTY_PATH) && !uvfs_cred_has_cap(&t->cred, CAP_DAC_READ_SEARCH))
		return -ENOENT;
	unsigned of = ((flags & AT_EMPTY_PATH) ? SBX_AT_EMPTY : 0) | ((flags & AT_SYMLINK_FOLLOW) ? SBX_AT_FOLLOW : 0);
	struct sbx_at o, n;
	long err = sbx_at_begin(t, olddirfd, oldpath, of, &o);
	if (err)
		return err;
	err = sbx_at_begin(t, newdirfd, newpath, 0, &n);
	if (!err) {
		err = uvfs_link_at(t->vfs, &t->cred, &o.pop, &n.pop);
		sbx_at_end(&n);
	}
	sbx_at_end(&o);
	return err;
}

UVFS_API long uvfs_sbx_symlinkat(struct uvfs_sbx_task *t, const char *target, int newdirfd, const char *linkpath)
{
	SBX_CTX(t);
	if (!target)
		return -EFAULT;
	if (!target[0])
		return -ENOENT;
	struct sbx_at at;
	long err = sbx_at_begin(t, newdirfd, linkpath, 0, &at);
	if (err)
		return err;
	err = uvfs_symlink_at(t->vfs, &t->cred, target, &at.pop);
	sbx_at_end(&at);
	return err;
}

/* Resolves a directory the task may search, for chdir/fchdir/chroot. */
static long searchable_dir(struct uvfs_sbx_task *t, int dirfd, const char *path, unsigned atf, struct uvfs_vd *out)
{
	struct sbx_at at;
	long err = sbx_at_begin(t, dirfd, path, atf | SBX_AT_FOLLOW, &at);
	if (err)
		return err;
	err = uvfs_get_dentry_at(t->vfs, &t->cred, &at.pop, UVFS_GET_SEARCHABLE, out);
	sbx_at_end(&at);
	return err;
}

static void set_vd(struct uvfs_sbx_task *t, struct uvfs_vd *vd, bool root)
{
	struct sbx_fs *fs = t->fs;
	pthread_mutex_lock(&fs->lock);
	struct uvfs_vd *slot = root ? &fs->root : &fs->cwd;
	struct uvfs_vd old = *slot;
	*slot = *vd;
	if (!root)
		fs->cwd_gen++;
	pthread_mutex_unlock(&fs->lock);
	uvfs_vd_put(&old);
	if (root || !t->tasks)
		return;
	/* /proc/[tid]/cwd of every registered task sharing the fs state
	 * (CLONE_FS) follows. The table is updated outside the leaf fs lock;
	 * a chdir racing this one makes us go round again, so the last
	 * writer always leaves the current cwd behind. */
	for (;;) {
		pthread_mutex_lock(&fs->lock);
		uint64_t gen = fs->cwd_gen;
		struct uvfs_vd cwd = fs->cwd;
		uvfs_vd_get(&cwd);
		unsigned n = fs->ntids;
		int32_t one, *tids = n > 1 ? malloc(n * sizeof(*tids)) : &one;
		if (!tids)
			tids = &one, n = 1, one = t->tid; /* at least our own */
		else if (n)
			memcpy(tids, fs->tids, n * sizeof(*tids));
		pthread_mutex_unlock(&fs->lock);
		for (unsigned i = 0; i < n; i++)
			uvfs_task_set_cwd(t->tasks, tids[i], &cwd);
		uvfs_vd_put(&cwd);
		if (tids != &one)
			free(tids);
		pthread_mutex_lock(&fs->lock);
		bool same = fs->cwd_gen == gen;
		pthread_mutex_unlock(&fs->lock);
		if (same)
			break;
	}
}

UVFS_API long uvfs_sbx_chdir(struct uvfs_sbx_task *t, const char *path)
{
	SBX_CTX(t);
	struct uvfs_vd vd;
	long err = searchable_dir(t, AT_FDCWD, path, 0, &vd);
	if (err)
		return err;
	set_vd(t, &vd, false);
	return 0;
}

UVFS_API long uvfs_sbx_fchdir(struct uvfs_sbx_task *t, int fd)
{
	SBX_CTX(t);
	if (fd < 0)
		return -EBADF;
	struct uvfs_vd vd;
	long err = searchable_dir(t, fd, "", SBX_AT_EMPTY, &vd);
	if (err)
		return err;
	set_vd(t, &vd, false);
	return 0;
}

UVFS_API long uvfs_sbx_getcwd(struct uvfs_sbx_task *t, char *buf, size_t size)
{
	SBX_CTX(t);
	pthread_mutex_lock(&t->fs->lock);
	struct uvfs_vd root = t->fs->root, cwd = t->fs->cwd;
	uvfs_vd_get(&root);
	uvfs_vd_get(&cwd);
	pthread_mutex_unlock(&t->fs->lock);
	char tmp[UVFS_PATH_MAX];
	long n = uvfs_vd_path(t->vfs, &root, &cwd, tmp, sizeof(tmp), UVFS_VD_PATH_GETCWD);
	uvfs_vd_put(&cwd);
	uvfs_vd_put(&root);
	if (n < 0)
		return n == -ERANGE ? -ENAMETOOLONG : n; /* longer than a page: Linux too */
	if ((size_t)n + 1 > size)
		return -ERANGE;
	if (!buf)
		return -EFAULT;
	memcpy(buf, tmp, (size_t)n + 1);
	return n + 1;
}

UVFS_API long uvfs_sbx_chroot(struct uvfs_sbx_task *t, const char *path)
{
	SBX_CTX(t);
	struct uvfs_vd vd;
	long err = searchable_dir(t, AT_FDCWD, path, 0, &vd);
	if (err)
		return err;
	if (!uvfs_cred_has_cap(&t->cred, CAP_SYS_CHROOT)) {
		uvfs_vd_put(&vd);
		return -EPERM;
	}
	set_vd(t, &vd, true);
	return 0;
}
