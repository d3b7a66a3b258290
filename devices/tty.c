/* devices/tty.c — /dev/tty, 5:0, group "tty": the opener's controlling
 * terminal. gVisor (2021) answers EIO; here the embedder's callback
 * (uvfs_devices_opts.ctty_open) hands us an open file on the terminal and
 * this file forwards to it, as Linux's tty_open redirects to the current
 * task's tty. Without a callback, or when the task has no terminal,
 * -ENXIO as Linux.
 *
 * Per-file state: f_private is the registration's opts until ->open
 * replaces it with the terminal's file (a reference, put at release);
 * immutable afterwards. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>

#include "devices/internal.h"

static int tty_open(struct uvfs_inode *inode, struct uvfs_file *f)
{
	const struct uvfs_devices_opts *o = f->f_private;
	if (!o || !o->ctty_open)
		return -ENXIO;
	struct uvfs_file *t = NULL;
	int err = o->ctty_open(o->ctty_arg, f->f_flags, &t);
	if (err)
		return err;
	if (!t)
		return -ENXIO;
	f->f_private = t;
	return 0;
}

static void tty_release(struct uvfs_file *f) { uvfs_file_put(f->f_private); }

static ssize_t tty_read(struct uvfs_file *f, void *buf, size_t len, uint64_t off)
{
	return uvfs_read(f->f_private, buf, len);
}

static ssize_t tty_write(struct uvfs_file *f, const void *buf, size_t len, uint64_t *off)
{
	return uvfs_write(f->f_private, buf, len);
}

static unsigned tty_poll(struct uvfs_file *f, struct uvfs_poll_table *pt)
{
	struct uvfs_file *t = f->f_private;
	if (!t->f_op->poll)
		return POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;
	return t->f_op->poll(t, pt);
}

static long tty_ioctl(struct uvfs_file *f, unsigned long cmd, void *arg) { return uvfs_ioctl(f->f_private, cmd, arg); }

static int tty_flush(struct uvfs_file *f) { return uvfs_flush(f->f_private); }

static int64_t tty_llseek(struct uvfs_file *f, int64_t off, int whence) { return -ESPIPE; }

static const struct uvfs_file_ops tty_fops = {
	.open = tty_open,
	.release = tty_release,
	.read = tty_read,
	.write = tty_write,
	.poll = tty_poll,
	.ioctl = tty_ioctl,
	.flush = tty_flush,
	.llseek = tty_llseek,
	.fop_flags = UVFS_FOP_STREAM,
};

DEV_HIDDEN int tty_register(struct uvfs *vfs, const struct uvfs_devices_opts *opts)
{
	return uvfs_register_chrdev_region(vfs, UVFS_DEV_CHAR, UVFS_TTYAUX_MAJOR, UVFS_TTY_MINOR, 1, &tty_fops,
					   (void *)opts, "tty");
}
