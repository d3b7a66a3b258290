/* vfs/setfl.c — F_SETFL (Linux setfl): which status flags an open file
 * may change after open, and the filesystem's veto.
 *
 * f_flags is one word: the bits open fixed never change, the F_SETFL bits
 * are replaced with one atomic store, so readers need no lock (and two
 * racing calls end with the last one's flags, as on Linux). */
#include "internal.h"

#define SETFL_MASK (O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME)

/* cred NULL: the caller changes no O_NOATIME bit (ioctl FIONBIO/FIOASYNC). */
HIDDEN int file_setfl(struct uvfs_file *f, const struct uvfs_cred *cred, int arg)
{
	int old = __atomic_load_n(&f->f_flags, __ATOMIC_RELAXED);
	if ((arg & O_NOATIME) && !(old & O_NOATIME) && (!cred || !inode_owner_or_capable(cred, f->f_inode)))
		return -EPERM;
	/* O_ASYNC needs someone to deliver the signal: only a file whose fs
	 * takes part (Linux: ->fasync) changes it. */
	int mask = SETFL_MASK | (f->f_op->setfl ? O_ASYNC : 0);
	int nf = (arg & mask) | (old & ~mask);
	if (f->f_op->setfl) {
		int err = f->f_op->setfl(f, nf);
		if (err)
			return err;
	}
	__atomic_store_n(&f->f_flags, nf, __ATOMIC_RELAXED);
	return 0;
}

UVFS_API int uvfs_file_set_flags(struct uvfs_file *f, const struct uvfs_cred *cred, int flags)
{
	rcu_enter();
	if (f->f_flags & O_PATH)
		return -EBADF;
	if (!cred)
		return -EINVAL;
	return file_setfl(f, cred, flags);
}
