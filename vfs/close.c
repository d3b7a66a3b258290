/* vfs/close.c — closing a descriptor (Linux filp_close): ->flush runs on
 * every close, while ->release runs only when the last reference goes
 * (uvfs_file_put). An fd table, the FUSE export's FLUSH and the sandbox's
 * close(2) call uvfs_flush or uvfs_file_close. No lock is held. */
#include "internal.h"

UVFS_API int uvfs_flush(struct uvfs_file *f)
{
	rcu_enter();
	/* O_PATH files never call into the filesystem. */
	if ((f->f_flags & O_PATH) || !f->f_op->flush)
		return 0;
	return f->f_op->flush(f);
}

UVFS_API int uvfs_file_close(struct uvfs_file *f)
{
	int err = uvfs_flush(f);
	uvfs_file_put(f);
	return err;
}
