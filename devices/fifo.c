/* devices/fifo.c — the pipe object behind FIFO inodes (Linux fs/pipe.c
 * fifo_open/pipe_read/pipe_write/pipe_poll, gVisor pipe.VFSPipe).
 *
 * A pipe exists while some file of its inode is open (or an open is in
 * progress): the first open creates it, the last release frees it and
 * drops any unread data, as Linux frees pipe_inode_info. Pipes are found
 * by inode address in a process-wide table (an inode cannot be freed while
 * one of its files is open, so the key is stable while the pipe lives).
 *
 * Data lives in 16 page buffers (Linux's default pipe size, 64 KiB), used
 * as Linux uses them: a write first merges its sub-page remainder into the
 * last page if it fits, then fills fresh pages; a page is freed when read
 * empty. Writes of at most PIPE_BUF bytes are therefore all-or-nothing;
 * larger ones may be split and, when non-blocking, partial. Without readers a write is -EPIPE; no signal is
 * raised (a syscall layer above decides about SIGPIPE).
 *
 * Locks: pipe_table.mu (the table, each pipe's `files`) → pipe->mu (the
 * rest of the pipe) → pipe->wq.lock (poll wakes are issued under mu; the
 * poll op takes wq.lock and then mu, never both at once). Opens, reads and
 * writes sleep on pipe->mu's condition variables, interruptibly (a caller
 * context with a pending interrupt gets -EINTR: devices/wait.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "devices/fifo.h"
#include "devices/wait.h"

#define PIPE_PAGE 4096
#define PIPE_SLOTS (UVFS_PIPE_CAPACITY / PIPE_PAGE)

struct pipe {
	/* Under pipe_table.mu. */
	struct uvfs_inode *key;
	struct pipe *next;
	long files; /* open files + opens in progress */
	/* Under mu. */
	pthread_mutex_t mu;
	pthread_cond_t rd_cv; /* readers wait for data or writers' departure */
	pthread_cond_t wr_cv; /* writers wait for room or readers' departure */
	pthread_cond_t open_cv; /* opens wait for a partner (counter change) */
	unsigned readers, writers; /* files open for reading / writing */
	unsigned r_counter, w_counter; /* opens ever made for reading / writing (Linux) */
	/* A ring of PIPE_SLOTS page buffers, as Linux's pipe_buffer ring:
	 * capacity, merging and POLLOUT then behave byte for byte as there
	 * (1000-byte writes fill 64000 bytes, not 65536). */
	struct {
		uint16_t off, len;
	} slot[PIPE_SLOTS];
	unsigned tail, nr; /* first used slot, used slots */
	size_t bytes; /* unread bytes (FIONREAD) */
	char *buf; /* PIPE_SLOTS pages, immutable; slot i is buf + i * PIPE_PAGE */
	struct uvfs_waitq wq; /* pollers; woken under mu */
};

/* Per open file (f_private); immutable after open. */
struct fifo_file {
	struct pipe *p;
	unsigned w_seen; /* w_counter when the open completed (Linux f_version): POLLHUP only after a writer came */
};

#define PIPE_BUCKETS 64
static struct {
	pthread_mutex_t mu;
	struct pipe *b[PIPE_BUCKETS];
} pipe_table = { .mu = PTHREAD_MUTEX_INITIALIZER };

static size_t bucket(const struct uvfs_inode *inode) { return ((uintptr_t)inode >> 6) % PIPE_BUCKETS; }

static void pipe_destroy(struct pipe *p)
{
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->rd_cv);
	pthread_cond_destroy(&p->wr_cv);
	pthread_cond_destroy(&p->open_cv);
	free(p->buf);
	free(p);
}

/* The inode's pipe with one more `files`, created if needed. */
static int pipe_get(struct uvfs_inode *inode, struct pipe **out)
{
	pthread_mutex_lock(&pipe_table.mu);
	struct pipe **pp = &pipe_table.b[bucket(inode)], *p;
	for (p = *pp; p && p->key != inode; p = p->next)
		;
	if (!p) {
		if (!(p = calloc(1, sizeof(*p))) || !(p->buf = malloc(UVFS_PIPE_CAPACITY))) {
			free(p);
			pthread_mutex_unlock(&pipe_table.mu);
			return -ENOMEM;
		}
		p->key = inode;
		pthread_mutex_init(&p->mu, NULL);
		pthread_cond_init(&p->rd_cv, NULL);
		pthread_cond_init(&p->wr_cv, NULL);
		pthread_cond_init(&p->open_cv, NULL);
		uvfs_waitq_init(&p->wq);
		p->next = *pp;
		*pp = p;
	}
	p->files++;
	pthread_mutex_unlock(&pipe_table.mu);
	*out = p;
	return 0;
}

/* mu held: every sleeper and poller re-checks. */
static void pipe_wake_all(struct pipe *p)
{
	pthread_cond_broadcast(&p->rd_cv);
	pthread_cond_broadcast(&p->wr_cv);
	pthread_cond_broadcast(&p->open_cv);
	uvfs_waitq_wake(&p->wq, 0);
}

/* Undo one open (rd/wr: the roles it took) and free the pipe with its last file. */
static void pipe_put(struct pipe *p, bool rd, bool wr)
{
	pthread_mutex_lock(&pipe_table.mu);
	pthread_mutex_lock(&p->mu);
	if (rd)
		p->readers--;
	if (wr)
		p->writers--;
	pipe_wake_all(p);
	bool last = --p->files == 0;
	if (last) {
		struct pipe **pp = &pipe_table.b[bucket(p->key)];
		while (*pp != p)
			pp = &(*pp)->next;
		*pp = p->next;
	}
	pthread_mutex_unlock(&p->mu);
	pthread_mutex_unlock(&pipe_table.mu);
	if (last)
		pipe_destroy(p);
}

static bool nonblock(struct uvfs_file *f) { return __atomic_load_n(&f->f_flags, __ATOMIC_RELAXED) & O_NONBLOCK; }
static bool f_rd(struct uvfs_file *f) { return (f->f_flags & O_ACCMODE) != O_WRONLY; }
static bool f_wr(struct uvfs_file *f) { return (f->f_flags & O_ACCMODE) != O_RDONLY; }

/* mu held: sleep until *counter moves (a partner opened), as Linux's
 * wait_for_partner; -EINTR if the caller's context is interrupted first. */
static int wait_for_partner(struct pipe *p, const unsigned *counter)
{
	unsigned cur = *counter;
	int err = 0;
	while (*counter == cur && !err)
		err = uvfs_dev_cond_wait(&p->open_cv, &p->mu, NULL);
	return *counter != cur ? 0 : err;
}

static int fifo_open(struct uvfs_inode *inode, struct uvfs_file *f)
{
	struct fifo_file *ff = malloc(sizeof(*ff));
	if (!ff)
		return -ENOMEM;
	int err = pipe_get(inode, &ff->p);
	if (err) {
		free(ff);
		return err;
	}
	struct pipe *p = ff->p;
	bool rd = f_rd(f), wr = f_wr(f);
	pthread_mutex_lock(&p->mu);
	if (rd && !wr) {
		p->readers++;
		p->r_counter++;
		pipe_wake_all(p);
		if (!p->writers && !nonblock(f) && (err = wait_for_partner(p, &p->w_counter))) {
			p->readers--; /* interrupted: undone (Linux err_rd) */
			pipe_wake_all(p);
		}
	} else if (wr && !rd) {
		if (!p->readers && nonblock(f)) {
			err = -ENXIO;
		} else {
			p->writers++;
			p->w_counter++;
			pipe_wake_all(p);
			if (!p->readers && (err = wait_for_partner(p, &p->r_counter))) {
				p->writers--; /* interrupted: undone (Linux err_wr) */
				pipe_wake_all(p);
			}
		}
	} else {
		/* O_RDWR: both ends at once, never blocks (Linux). */
		p->readers++;
		p->writers++;
		p->r_counter++;
		p->w_counter++;
		pipe_wake_all(p);
	}
	ff->w_seen = p->w_counter;
	pthread_mutex_unlock(&p->mu);
	if (err) {
		pipe_put(p, false, false);
		free(ff);
		return err;
	}
	f->f_private = ff;
	return 0;
}

static void fifo_release(struct uvfs_file *f)
{
	struct fifo_file *ff = f->f_private;
	pipe_put(ff->p, f_rd(f), f_wr(f));
	free(ff);
}

static ssize_t fifo_read(struct uvfs_file *f, void *buf, size_t len, uint64_t off)
{
	struct pipe *p = ((struct fifo_file *)f->f_private)->p;
	if (!len)
		return 0;
	ssize_t ret;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		if (p->bytes) {
			size_t done = 0;
			while (done < len && p->nr) {
				unsigned t = p->tail;
				size_t n = len - done < p->slot[t].len ? len - done : p->slot[t].len;
				memcpy((char *)buf + done, p->buf + (size_t)t * PIPE_PAGE + p->slot[t].off, n);
				p->slot[t].off += (uint16_t)n;
				p->slot[t].len -= (uint16_t)n;
				p->bytes -= n;
				done += n;
				if (!p->slot[t].len) {
					p->tail = (t + 1) % PIPE_SLOTS;
					p->nr--;
				}
			}
			pthread_cond_broadcast(&p->wr_cv);
			uvfs_waitq_wake(&p->wq, POLLOUT);
			ret = (ssize_t)done;
			break;
		}
		if (!p->writers) {
			ret = 0;
			break;
		}
		if (nonblock(f)) {
			ret = -EAGAIN;
			break;
		}
		int err = uvfs_dev_cond_wait(&p->rd_cv, &p->mu, NULL);
		if (err) {
			ret = err;
			break;
		}
	}
	pthread_mutex_unlock(&p->mu);
	return ret;
}

/* mu held: append n bytes to slot s at its end. */
static void slot_append(struct pipe *p, unsigned s, const char *src, size_t n)
{
	memcpy(p->buf + (size_t)s * PIPE_PAGE + p->slot[s].off + p->slot[s].len, src, n);
	p->slot[s].len += (uint16_t)n;
	p->bytes += n;
}

/* Stream file: *off is left alone. */
static ssize_t fifo_write(struct uvfs_file *f, const void *buf, size_t len, uint64_t *off)
{
	struct pipe *p = ((struct fifo_file *)f->f_private)->p;
	const char *src = buf;
	if (!len)
		return 0; /* Linux pipe_write: before the reader check */
	size_t done = 0;
	ssize_t ret;
	pthread_mutex_lock(&p->mu);
	if (!p->readers) {
		ret = -EPIPE;
		goto out;
	}
	/* The sub-page remainder goes into the last page if it fits whole. */
	size_t chars = len & (PIPE_PAGE - 1);
	if (chars && p->nr) {
		unsigned last = (p->tail + p->nr - 1) % PIPE_SLOTS;
		if (p->slot[last].off + p->slot[last].len + chars <= PIPE_PAGE) {
			slot_append(p, last, src, chars);
			done = chars;
			pthread_cond_broadcast(&p->rd_cv);
			uvfs_waitq_wake(&p->wq, POLLIN);
		}
	}
	for (;;) {
		if (done == len) {
			ret = (ssize_t)done;
			break;
		}
		if (!p->readers) {
			ret = done ? (ssize_t)done : -EPIPE;
			break;
		}
		if (p->nr < PIPE_SLOTS) {
			unsigned s = (p->tail + p->nr) % PIPE_SLOTS;
			size_t n = len - done < PIPE_PAGE ? len - done : PIPE_PAGE;
			p->slot[s].off = p->slot[s].len = 0;
			p->nr++;
			slot_append(p, s, src + done, n);
			done += n;
			pthread_cond_broadcast(&p->rd_cv);
			uvfs_waitq_wake(&p->wq, POLLIN);
			continue;
		}
		if (nonblock(f)) {
			ret = done ? (ssize_t)done : -EAGAIN;
			break;
		}
		int err = uvfs_dev_cond_wait(&p->wr_cv, &p->mu, NULL);
		if (err) {
			ret = done ? (ssize_t)done : err; /* Linux: the count so far */
			break;
		}
	}
out:
	pthread_mutex_unlock(&p->mu);
	return ret;
}

static unsigned fifo_poll(struct uvfs_file *f, struct uvfs_poll_table *pt)
{
	struct fifo_file *ff = f->f_private;
	struct pipe *p = ff->p;
	uvfs_poll_wait(f, &p->wq, pt);
	unsigned mask = 0;
	pthread_mutex_lock(&p->mu);
	if (f_rd(f)) {
		if (p->bytes)
			mask |= POLLIN | POLLRDNORM;
		if (!p->writers && ff->w_seen != p->w_counter)
			mask |= POLLHUP;
	}
	if (f_wr(f)) {
		/* Linux: writable while a page is free. */
		if (p->nr < PIPE_SLOTS)
			mask |= POLLOUT | POLLWRNORM;
		if (!p->readers)
			mask |= POLLERR;
	}
	pthread_mutex_unlock(&p->mu);
	return mask;
}

static long fifo_ioctl(struct uvfs_file *f, unsigned long cmd, void *arg)
{
	struct pipe *p = ((struct fifo_file *)f->f_private)->p;
	if (cmd != FIONREAD)
		return -ENOTTY;
	if (!arg)
		return -EFAULT;
	pthread_mutex_lock(&p->mu);
	*(int *)arg = (int)p->bytes;
	pthread_mutex_unlock(&p->mu);
	return 0;
}

static int64_t fifo_llseek(struct uvfs_file *f, int64_t off, int whence) { return -ESPIPE; }

__attribute__((visibility("hidden"))) const struct uvfs_file_ops uvfs_fifo_fops = {
	.open = fifo_open,
	.release = fifo_release,
	.read = fifo_read,
	.write = fifo_write,
	.poll = fifo_poll,
	.ioctl = fifo_ioctl,
	.llseek = fifo_llseek,
	.fop_flags = UVFS_FOP_STREAM,
};
