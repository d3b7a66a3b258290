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
 *  - A bound per mount (pcache_max=): past it the least recently used
 *    page of any file goes (a dirty one written back first, with its
 *    file's other dirty pages); when nothing can go, reads and writes go
 *    straight to the server. A sequential reader reads ahead in a growing
 *    window (1 to 8 MiB, at most a quarter of the bound).
 *
 * Locks: the inode's pc_lock serialises all of this and IS held across
 * the 9P reads and writes it makes (the one gofer lock that is). Order:
 * i_lock (setattr) before pc_lock; nothing takes i_lock under pc_lock.
 * An evictor holding its own file's pc_lock takes another file's only
 * with a trylock. The fs's pc_lru_lock is a leaf inside any pc_lock: a
 * page is on the LRU list while cached, and freed only by a holder of
 * its owner's pc_lock. */
#include <fcntl.h>
#include <stdlib.h>

#include "fsimpl/gofer/internal.h"

#define PC_SHIFT 16
#define PC_SIZE (1u << PC_SHIFT)
#define WB_MAX (4u << 20) /* bytes per coalesced write-back call, and per fetch */
#define RA_START (1u << 20) /* the first readahead window of a sequential reader */
#define RA_MAX (8u << 20)

struct gofer_page {
	struct uvfs_list_head lru; /* under the fs's pc_lru_lock */
	struct gofer_inode *owner; /* immutable */
	size_t idx; /* immutable: the page's index in owner->pages */
	uint32_t dlo, dhi; /* dirty bytes [dlo, dhi); equal: clean */
	uint8_t data[PC_SIZE];
};

static void l_del(struct uvfs_list_head *e)
{
	e->prev->next = e->next;
	e->next->prev = e->prev;
	e->next = e->prev = e;
}

static void l_add_tail(struct uvfs_list_head *h, struct uvfs_list_head *e)
{
	e->prev = h->prev;
	e->next = h;
	h->prev->next = e;
	h->prev = e;
}

void gofer_pc_init(struct gofer_fs *fs, uint64_t max)
{
	fs->pc_max = max;
	fs->pc_lru.next = fs->pc_lru.prev = &fs->pc_lru;
}

void gofer_pc_fini(struct gofer_fs *fs) { free(atomic_exchange(&fs->pc_spare, NULL)); }

/* A WB_MAX buffer: the spare one if free, else a new one. */
static uint8_t *bounce_get(struct gofer_fs *fs)
{
	uint8_t *b = atomic_exchange(&fs->pc_spare, NULL);
	return b ? b : malloc(WB_MAX);
}

static void bounce_put(struct gofer_fs *fs, uint8_t *b)
{
	free(atomic_exchange(&fs->pc_spare, b));
}

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

/* ------------------------------------------------------------ the bound */

/* Pages [lo, hi] of self (whose pc_lock the caller holds) are in use by
 * the caller and must not be dropped. */
struct pin {
	struct gofer_inode *self;
	size_t lo, hi;
};

static int writeback_locked(struct gofer_inode *gi, uint32_t fid);

/* Publishes pg as page idx of gi (pc_lock held; its bytes are reserved),
 * most recently used. */
static void page_insert(struct gofer_inode *gi, size_t idx, struct gofer_page *pg)
{
	struct gofer_fs *fs = GFS(gi->vfs.i_fs);
	pg->owner = gi;
	pg->idx = idx;
	gi->pages[idx] = pg;
	uvfs_lock_acquire(&fs->pc_lru_lock);
	l_add_tail(&fs->pc_lru, &pg->lru);
	uvfs_lock_release(&fs->pc_lru_lock);
}

/* Frees gi's page idx (pc_lock held). */
static void page_drop(struct gofer_inode *gi, size_t idx)
{
	struct gofer_fs *fs = GFS(gi->vfs.i_fs);
	struct gofer_page *pg = gi->pages[idx];
	if (!pg)
		return;
	uvfs_lock_acquire(&fs->pc_lru_lock);
	l_del(&pg->lru);
	uvfs_lock_release(&fs->pc_lru_lock);
	gi->pages[idx] = NULL;
	free(pg);
	atomic_fetch_sub_explicit(&fs->pc_bytes, PC_SIZE, memory_order_relaxed);
}

/* Pages [first, last] of gi were used: most recently used now. */
static void pages_touch(struct gofer_inode *gi, size_t first, size_t last)
{
	struct gofer_fs *fs = GFS(gi->vfs.i_fs);
	uvfs_lock_acquire(&fs->pc_lru_lock);
	for (size_t i = first; i <= last && i < gi->npages; i++)
		if (gi->pages[i]) {
			l_del(&gi->pages[i]->lru);
			l_add_tail(&fs->pc_lru, &gi->pages[i]->lru);
		}
	uvfs_lock_release(&fs->pc_lru_lock);
}

/* Drops the least recently used page it may take: one of the caller's own
 * file outside the pinned range, or of another file whose pc_lock is free
 * right now (a trylock: two files' pc_locks have no order). A dirty page
 * is written back first, with the rest of its file's dirty pages in one
 * coalesced pass. false: nothing could go. */
static bool evict_one(struct gofer_fs *fs, const struct pin *pin)
{
	uvfs_lock_acquire(&fs->pc_lru_lock);
	for (struct uvfs_list_head *e = fs->pc_lru.next; e != &fs->pc_lru; e = e->next) {
		struct gofer_page *pg = container_of(e, struct gofer_page, lru);
		struct gofer_inode *o = pg->owner;
		bool mine = o == pin->self;
		if (mine ? pg->idx >= pin->lo && pg->idx <= pin->hi : !uvfs_lock_try(&o->pc_lock))
			continue;
		bool dirty = pg->dlo != pg->dhi;
		if (dirty && !o->wb_fid) { /* no open file to write it through */
			if (!mine)
				uvfs_lock_release(&o->pc_lock);
			continue;
		}
		/* Off the list: no other evictor sees it, and its owner's
		 * pc_lock (held) keeps it from being freed under us. */
		l_del(&pg->lru);
		uvfs_lock_release(&fs->pc_lru_lock);
		if (dirty && (writeback_locked(o, o->wb_fid - 1) || pg->dlo != pg->dhi)) {
			uvfs_lock_acquire(&fs->pc_lru_lock);
			l_add_tail(&fs->pc_lru, &pg->lru);
			uvfs_lock_release(&fs->pc_lru_lock);
			if (!mine)
				uvfs_lock_release(&o->pc_lock);
			return false;
		}
		o->pages[pg->idx] = NULL;
		free(pg);
		atomic_fetch_sub_explicit(&fs->pc_bytes, PC_SIZE, memory_order_relaxed);
		if (!mine)
			uvfs_lock_release(&o->pc_lock);
		return true;
	}
	uvfs_lock_release(&fs->pc_lru_lock);
	return false;
}

/* Room for n more pages under the bound, evicting as needed; the bytes
 * are counted from here on (release them if not used). false: no room
 * (the caller goes to the server uncached). */
static bool reserve(struct gofer_fs *fs, const struct pin *pin, size_t n)
{
	uint64_t bytes = (uint64_t)n * PC_SIZE;
	uint64_t now = atomic_fetch_add_explicit(&fs->pc_bytes, bytes, memory_order_relaxed) + bytes;
	while (now > fs->pc_max) {
		if (!evict_one(fs, pin)) {
			atomic_fetch_sub_explicit(&fs->pc_bytes, bytes, memory_order_relaxed);
			return false;
		}
		now = atomic_load_explicit(&fs->pc_bytes, memory_order_relaxed);
	}
	return true;
}

static void unreserve(struct gofer_fs *fs, size_t n)
{
	atomic_fetch_sub_explicit(&fs->pc_bytes, (uint64_t)n * PC_SIZE, memory_order_relaxed);
}

/* ------------------------------------------------------------ reads */

/* Fetches the missing pages [first, last] (pc_lock held), pinning
 * [plo, phi]. -ENOBUFS: no room under the bound for them. */
static int fetch(struct gofer_inode *gi, uint32_t fid, size_t first, size_t last, size_t plo, size_t phi)
{
	struct gofer_fs *fs = GFS(gi->vfs.i_fs);
	if (!cover(gi, last))
		return -ENOMEM;
	struct pin pin = { gi, plo < first ? plo : first, phi > last ? phi : last };
	for (size_t i = first; i <= last;) {
		if (gi->pages[i]) {
			i++;
			continue;
		}
		size_t j = i;
		while (j <= last && !gi->pages[j] && (j - i + 1) * (size_t)PC_SIZE <= WB_MAX)
			j++;
		size_t n = j - i;
		if (!reserve(fs, &pin, n))
			return -ENOBUFS;
		uint8_t *tmp = bounce_get(fs); /* n * PC_SIZE <= WB_MAX */
		if (!tmp) {
			unreserve(fs, n);
			return -ENOMEM;
		}
		long got = uvfs_p9_read(fs->c, fid, (uint64_t)i << PC_SHIFT, tmp, n * PC_SIZE);
		if (got < 0) {
			bounce_put(fs, tmp);
			unreserve(fs, n);
			return gofer_err(fs, (int)got);
		}
		for (size_t k = 0; k < n; k++) {
			struct gofer_page *pg = malloc(sizeof(*pg));
			if (!pg) {
				bounce_put(fs, tmp);
				unreserve(fs, n - k);
				return -ENOMEM;
			}
			pg->dlo = pg->dhi = 0;
			size_t have = (size_t)got > k * PC_SIZE ? (size_t)got - k * PC_SIZE : 0;
			if (have > PC_SIZE)
				have = PC_SIZE;
			memcpy(pg->data, tmp + k * PC_SIZE, have);
			memset(pg->data + have, 0, PC_SIZE - have); /* past the server's end */
			page_insert(gi, i + k, pg);
		}
		bounce_put(fs, tmp);
		i = j;
	}
	return 0;
}

/* Cold pages [first, last], all missing, covering exactly the caller's
 * [o, cend) (page-aligned, or ending at the file's end): read straight
 * into the caller's buffer dst, then copied into new pages (one copy
 * fewer than through a bounce buffer). 1: done (dst filled; a page
 * without memory is just not cached); -EAGAIN: not that shape, use
 * fetch; -ENOBUFS: no room under the bound. pc_lock held. */
static int fetch_direct(struct gofer_inode *gi, uint32_t fid, size_t first, size_t last, uint8_t *dst, uint64_t o,
			uint64_t cend, uint64_t size)
{
	struct gofer_fs *fs = GFS(gi->vfs.i_fs);
	if (o != (uint64_t)first << PC_SHIFT || (cend != ((uint64_t)last + 1) << PC_SHIFT && cend != size) ||
	    !cover(gi, last))
		return -EAGAIN;
	for (size_t i = first; i <= last; i++)
		if (gi->pages[i])
			return -EAGAIN;
	size_t n = last - first + 1, len = (size_t)(cend - o);
	struct pin pin = { gi, first, last };
	if (!reserve(fs, &pin, n))
		return -ENOBUFS;
	long got = uvfs_p9_read(fs->c, fid, o, dst, len);
	if (got < 0) {
		unreserve(fs, n);
		return gofer_err(fs, (int)got);
	}
	memset(dst + got, 0, len - (size_t)got); /* past the server's end: our size is ahead */
	for (size_t k = 0; k < n; k++) {
		struct gofer_page *pg = malloc(sizeof(*pg));
		if (!pg) {
			unreserve(fs, n - k);
			return 1;
		}
		pg->dlo = pg->dhi = 0;
		size_t have = len > k * PC_SIZE ? len - k * PC_SIZE : 0;
		if (have > PC_SIZE)
			have = PC_SIZE;
		memcpy(pg->data, dst + k * PC_SIZE, have);
		memset(pg->data + have, 0, PC_SIZE - have);
		page_insert(gi, first + k, pg);
	}
	return 1;
}

/* The cache had no room: bytes [off, off+len) straight from the server
 * into buf, then every cached page over them copied on top (a dirty page
 * is newer than the server's bytes); zeros past the server's end (the
 * size may be ours, from dirty pages not written back). */
static int read_uncached(struct gofer_inode *gi, uint32_t fid, uint8_t *buf, size_t len, uint64_t off)
{
	struct gofer_fs *fs = GFS(gi->vfs.i_fs);
	long got = uvfs_p9_read(fs->c, fid, off, buf, len);
	if (got < 0)
		return gofer_err(fs, (int)got);
	memset(buf + got, 0, len - (size_t)got);
	for (size_t done = 0; done < len;) {
		uint64_t o = off + done;
		size_t idx = o >> PC_SHIFT, in = o & (PC_SIZE - 1), n = PC_SIZE - in;
		if (n > len - done)
			n = len - done;
		if (idx < gi->npages && gi->pages[idx])
			memcpy(buf + done, gi->pages[idx]->data + in, n);
		done += n;
	}
	return 0;
}

ssize_t gofer_pc_read(struct uvfs_inode *inode, uint32_t fid, void *buf, size_t len, uint64_t off)
{
	struct gofer_inode *gi = GI(inode);
	struct gofer_fs *fs = GFS(inode->i_fs);
	uint64_t size = isize(inode);
	if (off >= size || !len)
		return 0;
	if (len > size - off)
		len = (size_t)(size - off);
	uint64_t end = off + len;
	/* At most a quarter of the bound in use by one call at a time, so a
	 * read larger than the bound still goes through the cache. */
	uint64_t cmax = fs->pc_max / 4 < WB_MAX ? fs->pc_max / 4 : WB_MAX;
	size_t chunk = (size_t)(cmax >> PC_SHIFT);
	uvfs_lock_acquire(&gi->pc_lock);
	/* A sequential reader gets a growing readahead window: fetching
	 * ahead in larger runs keeps more reads in flight per round trip. */
	uint64_t ra_end = end;
	if (off == gi->ra_next && len < RA_START) { /* large reads are their own readahead */
		uint64_t w = gi->ra_win ? gi->ra_win * 2 : RA_START;
		gi->ra_win = w > RA_MAX ? RA_MAX : w;
		if (gi->ra_win > cmax)
			gi->ra_win = cmax;
		ra_end = end + gi->ra_win < size ? end + gi->ra_win : size;
	} else {
		gi->ra_win = 0;
	}
	gi->ra_next = end;
	int err = 0;
	for (uint64_t o = off; o < end && !err;) {
		size_t first = (size_t)(o >> PC_SHIFT), last = (size_t)((end - 1) >> PC_SHIFT);
		if (last - first + 1 > chunk)
			last = first + chunk - 1;
		uint64_t cend = ((uint64_t)last + 1) << PC_SHIFT;
		if (cend > end)
			cend = end;
		size_t n = (size_t)(cend - o);
		uint8_t *dst = (uint8_t *)buf + (o - off);
		err = fetch_direct(gi, fid, first, last, dst, o, cend, size);
		if (err == -EAGAIN)
			err = fetch(gi, fid, first, last, first, last);
		if (err == 1) { /* dst filled, pages cached */
			err = 0;
		} else if (err == -ENOBUFS) {
			err = read_uncached(gi, fid, dst, n, o);
		} else if (!err) {
			for (size_t done = 0; done < n;) {
				uint64_t p = o + done;
				size_t in = p & (PC_SIZE - 1), k = PC_SIZE - in;
				if (k > n - done)
					k = n - done;
				memcpy(dst + done, gi->pages[p >> PC_SHIFT]->data + in, k);
				done += k;
			}
			pages_touch(gi, first, last);
		}
		o = cend;
	}
	if (!err && ra_end > end) {
		size_t first = (size_t)(end >> PC_SHIFT), last = (size_t)((ra_end - 1) >> PC_SHIFT);
		(void)fetch(gi, fid, first, last, first, last); /* best effort */
	}
	uvfs_lock_release(&gi->pc_lock);
	return err ? err : (ssize_t)len;
}

/* ------------------------------------------------------------ writes */

/* Copies buf into the cached pages it overlaps; dirty marks them
 * (fetching partly covered missing pages first), else only pages already
 * cached are updated. A page the bound has no room for is written to the
 * server at once instead. pc_lock held. */
static int to_pages(struct gofer_inode *gi, uint32_t fid, const void *buf, size_t len, uint64_t off, bool dirty)
{
	struct gofer_fs *fs = GFS(gi->vfs.i_fs);
	for (size_t done = 0; done < len;) {
		uint64_t o = off + done;
		size_t idx = o >> PC_SHIFT, in = o & (PC_SIZE - 1), n = PC_SIZE - in;
		if (n > len - done)
			n = len - done;
		if (dirty && !cover(gi, idx))
			return -ENOMEM;
		struct gofer_page *pg = idx < gi->npages ? gi->pages[idx] : NULL;
		if (!pg && dirty) {
			int err = 0;
			struct pin pin = { gi, idx, idx };
			if (n == PC_SIZE) {
				if (!reserve(fs, &pin, 1)) {
					err = -ENOBUFS;
				} else if (!(pg = malloc(sizeof(*pg)))) {
					unreserve(fs, 1);
					return -ENOMEM;
				} else {
					pg->dlo = pg->dhi = 0;
					page_insert(gi, idx, pg);
				}
			} else if (!(err = fetch(gi, fid, idx, idx, idx, idx))) {
				pg = gi->pages[idx];
			}
			if (err == -ENOBUFS) { /* no room: straight to the server */
				long w = uvfs_p9_write(fs->c, fid, o, (const uint8_t *)buf + done, n);
				if (w < 0)
					return gofer_err(fs, (int)w);
				if ((size_t)w < n)
					return -EIO;
				done += n;
				continue;
			}
			if (err)
				return err;
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
				atomic_store_explicit(&gi->pc_dirty, true, memory_order_relaxed);
			}
		}
		done += n;
	}
	if (len && dirty)
		pages_touch(gi, off >> PC_SHIFT, (off + len - 1) >> PC_SHIFT);
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
		gi->wr_end = off + len; /* an eviction meanwhile writes back up to here */
		int err = to_pages(gi, fid, buf, len, off, true);
		gi->wr_end = 0;
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

/* Writes every dirty page of gi through fid (pc_lock held). */
static int writeback_locked(struct gofer_inode *gi, uint32_t fid)
{
	struct gofer_fs *fs = GFS(gi->vfs.i_fs);
	uint64_t size = isize(&gi->vfs);
	if (gi->wr_end > size)
		size = gi->wr_end; /* evicting in a write that grows the file */
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
			if (!tmp && !(tmp = bounce_get(fs))) {
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
	if (tmp)
		bounce_put(fs, tmp);
	return err;
}

int gofer_pc_writeback(struct uvfs_inode *inode, uint32_t fid)
{
	struct gofer_inode *gi = GI(inode);
	if (!atomic_load_explicit(&gi->pc_dirty, memory_order_relaxed))
		return 0;
	uvfs_lock_acquire(&gi->pc_lock);
	if (fid == UVFS_P9_NOFID)
		fid = gi->wb_fid ? gi->wb_fid - 1 : UVFS_P9_NOFID;
	int err = fid == UVFS_P9_NOFID ? 0 : writeback_locked(gi, fid);
	uvfs_lock_release(&gi->pc_lock);
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
	for (size_t i = keep; i < gi->npages; i++)
		page_drop(gi, i);
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

/* Evict: nobody else can reach gi's pages but an evictor of another file,
 * which takes them only with gi's pc_lock. */
void gofer_pc_free(struct gofer_inode *gi)
{
	uvfs_lock_acquire(&gi->pc_lock);
	for (size_t i = 0; i < gi->npages; i++)
		page_drop(gi, i);
	uvfs_lock_release(&gi->pc_lock);
	free(gi->pages);
	gi->pages = NULL;
	gi->npages = 0;
}
