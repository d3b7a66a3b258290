/* fsimpl/gofer/pcache.c — file data cached in process memory for the
 * exclusive modes (gVisor: cache=fscache and fscache_writethrough keep
 * file data in the sentry's page cache). Regular files only.
 *
 *  - Reads: missing pages (64 KiB) are fetched, runs of them in one
 *    pipelined read; bytes past the server's end read as zeros. Later
 *    reads of cached pages cost no round trip.
 *  - fscache: writes go to the pages (a partly written missing page is
 *    fetched first) and are marked dirty; they reach the server on fsync,
 *    on each close (flush) and at the last put of the file (release),
 *    coalesced into large pipelined writes.
 *  - fscache_writethrough, and files opened write-only (they cannot fetch
 *    a page to merge into): writes go to the server at once and update the
 *    cached pages they overlap.
 *  - A truncate through us drops the pages past the new end and zeroes the
 *    tail of the last one. While pages are dirty an attribute refresh does
 *    not shrink i_size (gofer_attr_store): the server has not seen the end.
 * No memory bound yet: a file's pages live until the inode is evicted or
 * the file is truncated.
 *
 * Locks: the inode's pc_lock serialises all of this and IS held across
 * the 9P reads and writes it makes (the one gofer lock that is). Order:
 * i_lock (setattr) before pc_lock; nothing takes i_lock under pc_lock. */
#include <fcntl.h>
#include <stdlib.h>

#include "fsimpl/gofer/internal.h"

#define PC_SHIFT 16
#define PC_SIZE (1u << PC_SHIFT)
#define WB_MAX (4u << 20) /* bytes per coalesced write-back call */

struct gofer_page {
	uint32_t dlo, dhi; /* dirty bytes [dlo, dhi); equal: clean */
	uint8_t data[PC_SIZE];
};

bool gofer_pc_enabled(struct uvfs_inode *inode)
{
	return GFS(inode->i_fs)->cache < GOFER_CACHE_REVAL && GI(inode)->type == S_IFREG;
}

static uint64_t isize(struct uvfs_inode *inode) { return __atomic_load_n(&inode->i_size, __ATOMIC_RELAXED); }

/* pages[] covers page index idx (pc_lock held). */
static bool cover(struct gofer_inode *gi, size_t idx)
{
	if (idx < gi->npages)
		return true;
	size_t n = gi->npages ? gi->npages : 16;
	while (n <= idx)
		n *= 2;
	struct gofer_page **p = realloc(gi->pages, n * sizeof(*p));
	if (!p)
		return false;
	memset(p + gi->npages, 0, (n - gi->npages) * sizeof(*p));
	gi->pages = p;
	gi->npages = n;
	return true;
}

/* Fetches the missing pages [first, last] (pc_lock held). */
static int fetch(struct gofer_inode *gi, uint32_t fid, size_t first, size_t last)
{
	struct gofer_fs *fs = GFS(gi->vfs.i_fs);
	if (!cover(gi, last))
		return -ENOMEM;
	for (size_t i = first; i <= last;) {
		if (gi->pages[i]) {
			i++;
			continue;
		}
		size_t j = i;
		while (j <= last && !gi->pages[j] && (j - i + 1) * (size_t)PC_SIZE <= WB_MAX)
			j++;
		size_t n = j - i;
		uint8_t *tmp = malloc(n * PC_SIZE);
		if (!tmp)
			return -ENOMEM;
		long got = uvfs_p9_read(fs->c, fid, (uint64_t)i << PC_SHIFT, tmp, n * PC_SIZE);
		if (got < 0) {
			free(tmp);
			return gofer_err(fs, (int)got);
		}
		for (size_t k = 0; k < n; k++) {
			struct gofer_page *pg = malloc(sizeof(*pg));
			if (!pg) {
				free(tmp);
				return -ENOMEM;
			}
			pg->dlo = pg->dhi = 0;
			size_t have = (size_t)got > k * PC_SIZE ? (size_t)got - k * PC_SIZE : 0;
			if (have > PC_SIZE)
				have = PC_SIZE;
			memcpy(pg->data, tmp + k * PC_SIZE, have);
			memset(pg->data + have, 0, PC_SIZE - have); /* past the server's end */
			gi->pages[i + k] = pg;
		}
		free(tmp);
		i = j;
	}
	return 0;
}

ssize_t gofer_pc_read(struct uvfs_inode *inode, uint32_t fid, void *buf, size_t len, uint64_t off)
{
	struct gofer_inode *gi = GI(inode);
	uint64_t size = isize(inode);
	if (off >= size || !len)
		return 0;
	if (len > size - off)
		len = (size_t)(size - off);
	uvfs_lock_acquire(&gi->pc_lock);
	int err = fetch(gi, fid, off >> PC_SHIFT, (off + len - 1) >> PC_SHIFT);
	if (!err)
		for (size_t done = 0; done < len;) {
			uint64_t o = off + done;
			size_t in = o & (PC_SIZE - 1), n = PC_SIZE - in;
			if (n > len - done)
				n = len - done;
			memcpy((uint8_t *)buf + done, gi->pages[o >> PC_SHIFT]->data + in, n);
			done += n;
		}
	uvfs_lock_release(&gi->pc_lock);
	return err ? err : (ssize_t)len;
}

/* Copies buf into the cached pages it overlaps; dirty marks them
 * (fetching partly covered missing pages first), else only pages already
 * cached are updated. pc_lock held. */
static int to_pages(struct gofer_inode *gi, uint32_t fid, const void *buf, size_t len, uint64_t off, bool dirty)
{
	for (size_t done = 0; done < len;) {
		uint64_t o = off + done;
		size_t idx = o >> PC_SHIFT, in = o & (PC_SIZE - 1), n = PC_SIZE - in;
		if (n > len - done)
			n = len - done;
		if (dirty && !cover(gi, idx))
			return -ENOMEM;
		struct gofer_page *pg = idx < gi->npages ? gi->pages[idx] : NULL;
		if (!pg && dirty) {
			if (n == PC_SIZE) {
				if (!(pg = malloc(sizeof(*pg))))
					return -ENOMEM;
				pg->dlo = pg->dhi = 0;
				gi->pages[idx] = pg;
			} else {
				int err = fetch(gi, fid, idx, idx);
				if (err)
					return err;
				pg = gi->pages[idx];
			}
		}
		if (pg) {
			memcpy(pg->data + in, (const uint8_t *)buf + done, n);
			if (dirty) {
				if (pg->dlo == pg->dhi) {
					pg->dlo = (uint32_t)in;
					pg->dhi = (uint32_t)(in + n);
				} else {
					if (in < pg->dlo)
						pg->dlo = (uint32_t)in;
					if (in + n > pg->dhi)
						pg->dhi = (uint32_t)(in + n);
				}
			}
		}
		done += n;
	}
	if (dirty)
		atomic_store_explicit(&gi->pc_dirty, true, memory_order_relaxed);
	return 0;
}

ssize_t gofer_pc_write(struct uvfs_file *f, uint32_t fid, const void *buf, size_t len, uint64_t off)
{
	struct uvfs_inode *inode = f->f_inode;
	struct gofer_inode *gi = GI(inode);
	struct gofer_fs *fs = GFS(inode->i_fs);
	bool back = fs->cache == GOFER_CACHE_FSCACHE && (f->f_flags & O_ACCMODE) == O_RDWR;
	uvfs_lock_acquire(&gi->pc_lock);
	ssize_t ret;
	if (back) {
		gi->wb_fid = fid + 1; /* stored +1: a zeroed inode has none */
		int err = to_pages(gi, fid, buf, len, off, true);
		ret = err ? err : (ssize_t)len;
	} else {
		long n = uvfs_p9_write(fs->c, fid, off, buf, len);
		ret = n < 0 ? gofer_err(fs, (int)n) : n;
		if (n > 0)
			to_pages(gi, fid, buf, (size_t)n, off, false);
	}
	uvfs_lock_release(&gi->pc_lock);
	return ret;
}

int gofer_pc_writeback(struct uvfs_inode *inode, uint32_t fid)
{
	struct gofer_inode *gi = GI(inode);
	struct gofer_fs *fs = GFS(inode->i_fs);
	if (!atomic_load_explicit(&gi->pc_dirty, memory_order_relaxed))
		return 0;
	uvfs_lock_acquire(&gi->pc_lock);
	if (fid == UVFS_P9_NOFID)
		fid = gi->wb_fid ? gi->wb_fid - 1 : UVFS_P9_NOFID;
	if (fid == UVFS_P9_NOFID) {
		uvfs_lock_release(&gi->pc_lock);
		return 0;
	}
	uint64_t size = isize(inode);
	int err = 0;
	uint8_t *tmp = NULL;
	for (size_t i = 0; i < gi->npages && !err;) {
		struct gofer_page *pg = gi->pages[i];
		if (!pg || pg->dlo == pg->dhi) {
			i++;
			continue;
		}
		/* A run: this page's dirty bytes, then whole dirty pages that
		 * continue it, in one pipelined write. */
		uint64_t start = ((uint64_t)i << PC_SHIFT) + pg->dlo;
		size_t j = i, blen = pg->dhi - pg->dlo;
		while (pg->dhi == PC_SIZE && j + 1 < gi->npages && gi->pages[j + 1] && gi->pages[j + 1]->dlo == 0 &&
		       gi->pages[j + 1]->dhi > 0 && blen + gi->pages[j + 1]->dhi <= WB_MAX) {
			pg = gi->pages[++j];
			blen += pg->dhi;
		}
		if (start >= size) {
			blen = 0; /* truncated meanwhile */
		} else if (start + blen > size) {
			blen = (size_t)(size - start);
		}
		if (blen) {
			if (!tmp && !(tmp = malloc(WB_MAX))) {
				err = -ENOMEM;
				break;
			}
			size_t p = 0;
			for (size_t k = i; k <= j && p < blen; k++) {
				struct gofer_page *q = gi->pages[k];
				size_t n = q->dhi - q->dlo;
				if (n > blen - p)
					n = blen - p;
				memcpy(tmp + p, q->data + q->dlo, n);
				p += n;
			}
			long n = uvfs_p9_write(fs->c, fid, start, tmp, blen);
			if (n < 0) {
				err = gofer_err(fs, (int)n);
				break;
			}
			if ((size_t)n < blen) {
				err = -EIO;
				break;
			}
		}
		for (size_t k = i; k <= j; k++)
			gi->pages[k]->dlo = gi->pages[k]->dhi = 0;
		i = j + 1;
	}
	if (!err)
		atomic_store_explicit(&gi->pc_dirty, false, memory_order_relaxed);
	uvfs_lock_release(&gi->pc_lock);
	free(tmp);
	return err;
}

void gofer_pc_forget_fid(struct uvfs_inode *inode, uint32_t fid)
{
	struct gofer_inode *gi = GI(inode);
	uvfs_lock_acquire(&gi->pc_lock);
	if (gi->wb_fid == fid + 1)
		gi->wb_fid = 0;
	uvfs_lock_release(&gi->pc_lock);
}

void gofer_pc_truncate(struct uvfs_inode *inode, uint64_t size)
{
	struct gofer_inode *gi = GI(inode);
	uvfs_lock_acquire(&gi->pc_lock);
	size_t keep = (size_t)((size + PC_SIZE - 1) >> PC_SHIFT);
	for (size_t i = keep; i < gi->npages; i++) {
		free(gi->pages[i]);
		gi->pages[i] = NULL;
	}
	struct gofer_page *pg = (size & (PC_SIZE - 1)) && keep && keep - 1 < gi->npages ? gi->pages[keep - 1] : NULL;
	if (pg) {
		uint32_t in = (uint32_t)(size & (PC_SIZE - 1));
		memset(pg->data + in, 0, PC_SIZE - in);
		if (pg->dhi > in)
			pg->dhi = in;
		if (pg->dlo >= pg->dhi)
			pg->dlo = pg->dhi = 0;
	}
	uvfs_lock_release(&gi->pc_lock);
}

void gofer_pc_free(struct gofer_inode *gi)
{
	for (size_t i = 0; i < gi->npages; i++)
		free(gi->pages[i]);
	free(gi->pages);
	gi->pages = NULL;
	gi->npages = 0;
}
