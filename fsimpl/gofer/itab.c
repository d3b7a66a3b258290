/* fsimpl/gofer/itab.c — the filesystem's live non-directory inodes by
 * qid.path, so that a lookup reaching a file we already have (a hard link
 * made on the host, or another name of it) shares that inode as a local
 * filesystem does: one size, one nlink, one set of attributes. Directories
 * are left out (a directory has one dentry in the VFS).
 *
 * Locks: fs->itab_lock, a leaf (never held across a 9P call or an inode
 * put), protects the buckets and each inode's itab_next/in_itab. A found
 * inode is taken only if its count is not zero yet (it may be on its way
 * to evict, which removes it here first thing). */
#include <stdlib.h>

#include "fsimpl/gofer/internal.h"

static size_t bucket(const struct gofer_fs *fs, uint64_t qp)
{
	return (size_t)((qp * 0x9e3779b97f4a7c15ull) >> 17) & (fs->itab_size - 1);
}

static void grow(struct gofer_fs *fs)
{
	size_t nsize = fs->itab_size ? fs->itab_size * 2 : 256;
	struct gofer_inode **nt = calloc(nsize, sizeof(*nt));
	if (!nt)
		return; /* longer chains, still correct */
	struct gofer_inode **old = fs->itab;
	size_t osize = fs->itab_size;
	fs->itab = nt;
	fs->itab_size = nsize;
	for (size_t b = 0; b < osize; b++)
		for (struct gofer_inode *gi = old[b], *next; gi; gi = next) {
			next = gi->itab_next;
			size_t k = bucket(fs, gi->qid_path);
			gi->itab_next = nt[k];
			nt[k] = gi;
		}
	free(old);
}

void gofer_itab_add(struct gofer_fs *fs, struct gofer_inode *gi)
{
	if (gi->type == S_IFDIR)
		return;
	uvfs_lock_acquire(&fs->itab_lock);
	if (fs->itab_count >= fs->itab_size)
		grow(fs);
	if (fs->itab_size) {
		size_t k = bucket(fs, gi->qid_path);
		gi->itab_next = fs->itab[k];
		fs->itab[k] = gi;
		gi->in_itab = true;
		fs->itab_count++;
	}
	uvfs_lock_release(&fs->itab_lock);
}

void gofer_itab_del(struct gofer_fs *fs, struct gofer_inode *gi)
{
	uvfs_lock_acquire(&fs->itab_lock);
	if (gi->in_itab) {
		for (struct gofer_inode **pp = &fs->itab[bucket(fs, gi->qid_path)]; *pp; pp = &(*pp)->itab_next)
			if (*pp == gi) {
				*pp = gi->itab_next;
				break;
			}
		gi->in_itab = false;
		fs->itab_count--;
	}
	uvfs_lock_release(&fs->itab_lock);
}

struct gofer_inode *gofer_itab_get(struct gofer_fs *fs, uint64_t qid_path)
{
	struct gofer_inode *found = NULL;
	uvfs_lock_acquire(&fs->itab_lock);
	if (fs->itab_size)
		for (struct gofer_inode *gi = fs->itab[bucket(fs, qid_path)]; gi; gi = gi->itab_next) {
			if (gi->qid_path != qid_path)
				continue;
			long n = atomic_load_explicit(&gi->vfs.i_count, memory_order_relaxed);
			while (n > 0 && !atomic_compare_exchange_weak_explicit(&gi->vfs.i_count, &n, n + 1,
										memory_order_acquire,
										memory_order_relaxed))
				;
			if (n > 0)
				found = gi;
			break;
		}
	uvfs_lock_release(&fs->itab_lock);
	return found;
}

void gofer_itab_free(struct gofer_fs *fs)
{
	free(fs->itab);
	fs->itab = NULL;
	fs->itab_size = fs->itab_count = 0;
}
