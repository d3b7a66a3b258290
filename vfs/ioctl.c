/* vfs/ioctl.c — ioctl(2) on open files (Linux do_vfs_ioctl + vfs_ioctl):
 * the few commands the VFS answers for every file, then the file's op.
 *
 * arg is a pointer in our own address space (uvfs runs in-process; a
 * syscall layer copies user memory around the call), or an integer for
 * commands that take one. No lock is held across the op. */
#include <sys/ioctl.h>

#include "internal.h"

UVFS_API long uvfs_ioctl(struct uvfs_file *f, unsigned long cmd, void *arg)
{
	rcu_enter();
	if (f->f_flags & O_PATH)
		return -EBADF;
	switch (cmd) {
	case FIONBIO:
	case FIOASYNC: {
		if (!arg)
			return -EFAULT;
		int bit = cmd == FIONBIO ? O_NONBLOCK : O_ASYNC;
		int old = __atomic_load_n(&f->f_flags, __ATOMIC_RELAXED);
		return file_setfl(f, NULL, *(const int *)arg ? old | bit : old & ~bit);
	}
	case FIONREAD:
		/* Regular files only; others (pipes, ttys, sockets) answer it in
		 * their own op. */
		if (!S_ISREG(load_relaxed(f->f_inode->i_mode)))
			break;
		if (!arg)
			return -EFAULT;
		uvfs_lock_acquire(&f->f_lock);
		*(int *)arg = (int)(load_relaxed(f->f_inode->i_size) - f->f_pos); /* Linux truncates to int too */
		uvfs_lock_release(&f->f_lock);
		return 0;
	}
	if (!f->f_op->ioctl)
		return -ENOTTY;
	long r = f->f_op->ioctl(f, cmd, arg);
	return r == -UVFS_ENOIOCTLCMD ? -ENOTTY : r;
}
