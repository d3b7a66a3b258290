/* sandbox/fdtable.c — the fd table: lowest free descriptor, CLOEXEC bits,
 * sharing (CLONE_FILES) and copying (fork).
 *
 * Lock: fdt->lock (a leaf) around ents[]/cap. Files leaving the table are
 * closed (flush + put) after the lock is dropped: ->flush may block, and a
 * put may run a filesystem's release. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox/sbx.h"

/* A slot held by an open in progress (Linux get_unused_fd_flags runs
 * before the path walk: a full table is -EMFILE before any lookup or
 * creation). Neither open nor free: lookups see -EBADF, allocation skips
 * it, dup2 onto it is -EBUSY, copies and closes leave it alone. */
#define FD_RESERVED ((struct uvfs_file *)1)
#define FD_OPEN(e) ((e)->file && (e)->file != FD_RESERVED)

HIDDEN int fdt_new(struct sbx_fdtable **out)
{
	struct sbx_fdtable *fdt = calloc(1, sizeof(*fdt));
	if (!fdt)
		return -ENOMEM;
	atomic_init(&fdt->refs, 1);
	pthread_mutex_init(&fdt->lock, NULL);
	*out = fdt;
	return 0;
}

/* Grows ents[] to hold fd (under lock). */
static int fdt_grow(struct sbx_fdtable *fdt, unsigned fd)
{
	if (fd < fdt->cap)
		return 0;
	unsigned cap = fdt->cap ? fdt->cap : 64;
	while (cap <= fd)
		cap *= 2;
	struct sbx_fdent *e = realloc(fdt->ents, cap * sizeof(*e));
	if (!e)
		return -ENOMEM;
	memset(e + fdt->cap, 0, (cap - fdt->cap) * sizeof(*e));
	fdt->ents = e;
	fdt->cap = cap;
	return 0;
}

HIDDEN int fdt_copy(struct sbx_fdtable *src, struct sbx_fdtable **out)
{
	struct sbx_fdtable *fdt;
	int err = fdt_new(&fdt);
	if (err)
		return err;
	pthread_mutex_lock(&src->lock);
	if (src->cap) {
		fdt->ents = calloc(src->cap, sizeof(*fdt->ents));
		if (!fdt->ents) {
			pthread_mutex_unlock(&src->lock);
			fdt_put(fdt);
			return -ENOMEM;
		}
		fdt->cap = src->cap;
		for (unsigned i = 0; i < src->cap; i++) {
			if (FD_OPEN(&src->ents[i])) {
				fdt->ents[i] = src->ents[i];
				uvfs_file_get(fdt->ents[i].file);
			}
		}
	}
	pthread_mutex_unlock(&src->lock);
	*out = fdt;
	return 0;
}

HIDDEN void fdt_get(struct sbx_fdtable *fdt)
{
	atomic_fetch_add_explicit(&fdt->refs, 1, memory_order_relaxed);
}

HIDDEN void fdt_put(struct sbx_fdtable *fdt)
{
	if (!fdt || atomic_fetch_sub_explicit(&fdt->refs, 1, memory_order_acq_rel) != 1)
		return;
	/* Last user: nobody else can reach the table, no lock needed. */
	for (unsigned i = 0; i < fdt->cap; i++)
		if (FD_OPEN(&fdt->ents[i])) {
			sbx_locks_remove(fdt, fdt->ents[i].file);
			uvfs_file_close(fdt->ents[i].file);
		}
	free(fdt->ents);
	pthread_mutex_destroy(&fdt->lock);
	free(fdt);
}

HIDDEN int fdt_file(struct sbx_fdtable *fdt, int fd, struct uvfs_file **out, bool *cloexec)
{
	int err = -EBADF;
	pthread_mutex_lock(&fdt->lock);
	if (fd >= 0 && (unsigned)fd < fdt->cap && FD_OPEN(&fdt->ents[fd])) {
		*out = fdt->ents[fd].file;
		uvfs_file_get(*out);
		if (cloexec)
			*cloexec = fdt->ents[fd].cloexec;
		err = 0;
	}
	pthread_mutex_unlock(&fdt->lock);
	return err;
}

HIDDEN long fdt_alloc(struct sbx_fdtable *fdt, struct uvfs_file *f, unsigned minfd, unsigned limit, bool cloexec)
{
	long ret = -EMFILE;
	pthread_mutex_lock(&fdt->lock);
	unsigned fd = minfd;
	while (fd < fdt->cap && fdt->ents[fd].file)
		fd++;
	if (fd < limit) {
		int err = fdt_grow(fdt, fd);
		if (err) {
			ret = err;
		} else {
			fdt->ents[fd] = (struct sbx_fdent){ .file = f, .cloexec = cloexec };
			ret = fd;
		}
	}
	pthread_mutex_unlock(&fdt->lock);
	return ret;
}

HIDDEN int fdt_replace(struct sbx_fdtable *fdt, unsigned fd, struct uvfs_file *f, bool cloexec,
		       struct uvfs_file **old)
{
	pthread_mutex_lock(&fdt->lock);
	int err = fdt_grow(fdt, fd);
	if (!err && fdt->ents[fd].file == FD_RESERVED)
		err = -EBUSY; /* Linux do_dup2: an fd being installed */
	if (!err) {
		*old = fdt->ents[fd].file;
		fdt->ents[fd] = (struct sbx_fdent){ .file = f, .cloexec = cloexec };
	}
	pthread_mutex_unlock(&fdt->lock);
	return err;
}

HIDDEN int fdt_remove(struct sbx_fdtable *fdt, int fd, struct uvfs_file **old)
{
	int err = -EBADF;
	pthread_mutex_lock(&fdt->lock);
	if (fd >= 0 && (unsigned)fd < fdt->cap && FD_OPEN(&fdt->ents[fd])) {
		*old = fdt->ents[fd].file;
		fdt->ents[fd] = (struct sbx_fdent){ 0 };
		err = 0;
	}
	pthread_mutex_unlock(&fdt->lock);
	return err;
}

HIDDEN int fdt_set_cloexec(struct sbx_fdtable *fdt, int fd, bool on)
{
	int err = -EBADF;
	pthread_mutex_lock(&fdt->lock);
	if (fd >= 0 && (unsigned)fd < fdt->cap && FD_OPEN(&fdt->ents[fd])) {
		fdt->ents[fd].cloexec = on;
		err = 0;
	}
	pthread_mutex_unlock(&fdt->lock);
	return err;
}

HIDDEN void fdt_close_range(struct sbx_fdtable *fdt, unsigned first, unsigned last, bool cloexec_only,
			    bool mark_cloexec)
{
	/* Close in batches so that no flush runs under the lock. */
	for (;;) {
		struct uvfs_file *batch[32];
		int n = 0;
		pthread_mutex_lock(&fdt->lock);
		unsigned end = last < fdt->cap ? last : (fdt->cap ? fdt->cap - 1 : 0);
		for (unsigned i = first; fdt->cap && i <= end && n < 32; i++) {
			struct sbx_fdent *e = &fdt->ents[i];
			if (!FD_OPEN(e) || (cloexec_only && !e->cloexec))
				continue;
			if (mark_cloexec) {
				e->cloexec = true;
				continue;
			}
			batch[n++] = e->file;
			*e = (struct sbx_fdent){ 0 };
		}
		pthread_mutex_unlock(&fdt->lock);
		for (int i = 0; i < n; i++) {
			sbx_locks_remove(fdt, batch[i]);
			uvfs_file_close(batch[i]);
		}
		if (n < 32)
			return;
	}
}

HIDDEN int fdt_list(struct sbx_fdtable *fdt, int after, int *fds, int max)
{
	int n = 0;
	pthread_mutex_lock(&fdt->lock);
	for (unsigned i = after < 0 ? 0 : (unsigned)after + 1; i < fdt->cap && n < max; i++)
		if (FD_OPEN(&fdt->ents[i]))
			fds[n++] = (int)i;
	pthread_mutex_unlock(&fdt->lock);
	return n;
}

HIDDEN long fdt_reserve(struct sbx_fdtable *fdt, unsigned minfd, unsigned limit)
{
	return fdt_alloc(fdt, FD_RESERVED, minfd, limit, false);
}

HIDDEN void fdt_install(struct sbx_fdtable *fdt, unsigned fd, struct uvfs_file *f, bool cloexec)
{
	pthread_mutex_lock(&fdt->lock);
	fdt->ents[fd] = (struct sbx_fdent){ .file = f, .cloexec = cloexec };
	pthread_mutex_unlock(&fdt->lock);
}

HIDDEN void fdt_unreserve(struct sbx_fdtable *fdt, unsigned fd)
{
	pthread_mutex_lock(&fdt->lock);
	fdt->ents[fd] = (struct sbx_fdent){ 0 };
	pthread_mutex_unlock(&fdt->lock);
}
