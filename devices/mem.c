/* devices/mem.c — /dev/null, zero, full, random, urandom (Linux
 * drivers/char/mem.c and random.c, gVisor devices/memdev), major 1, group
 * "mem".
 *
 * null, zero, full: every seek answers 0 (Linux null_lseek). random and
 * urandom read the host's getrandom(2), accept and discard writes, and a
 * seek answers the running offset (bytes read and written through the file
 * position, which the VFS keeps in f_pos), as gVisor does; Linux's
 * noop_llseek answers 0 there. No shared state: nothing to lock. */
#include <errno.h>
#include <stdbool.h>
#include <unistd.h>
#include <linux/random.h>
#include <poll.h>
#include <string.h>
#include <sys/random.h>

#include "devices/internal.h"

static ssize_t null_read(struct uvfs_file *f, void *buf, size_t len, uint64_t off) { return 0; }

/* Swallows everything; *off is not moved (the seek answers 0 anyway). */
static ssize_t null_write(struct uvfs_file *f, const void *buf, size_t len, uint64_t *off) { return (ssize_t)len; }

static ssize_t zero_read(struct uvfs_file *f, void *buf, size_t len, uint64_t off)
{
	memset(buf, 0, len);
	return (ssize_t)len;
}

static ssize_t full_write(struct uvfs_file *f, const void *buf, size_t len, uint64_t *off) { return -ENOSPC; }

/* Linux ksys_lseek refuses whence > SEEK_MAX before the driver is asked
 * (uvfs_seek leaves that to the op). */
static bool bad_whence(int whence) { return whence < 0 || whence > SEEK_HOLE; }

static int64_t null_llseek(struct uvfs_file *f, int64_t off, int whence) { return bad_whence(whence) ? -EINVAL : 0; }

static ssize_t random_read(struct uvfs_file *f, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = getrandom((char *)buf + done, len - done, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return done ? (ssize_t)done : -errno;
		}
		done += (size_t)n;
	}
	return (ssize_t)done;
}

/* Accepted and discarded (the host pool is not ours to stir). The VFS
 * stores *off as the new f_pos: the running offset. */
static ssize_t random_write(struct uvfs_file *f, const void *buf, size_t len, uint64_t *off)
{
	*off += len;
	return (ssize_t)len;
}

/* The running offset; f_lock is held by the VFS around llseek. */
static int64_t random_llseek(struct uvfs_file *f, int64_t off, int whence)
{
	return bad_whence(whence) ? -EINVAL : (int64_t)f->f_pos;
}

/* Linux random_ioctl: the entropy count reads as a full pool (256 bits,
 * what a ready crng reports); pool changes need CAP_SYS_ADMIN and mean
 * nothing here; anything else is -EINVAL, as there. */
static long random_ioctl(struct uvfs_file *f, unsigned long cmd, void *arg)
{
	switch (cmd) {
	case RNDGETENTCNT:
		if (!arg)
			return -EFAULT;
		*(int *)arg = 256;
		return 0;
	case RNDADDTOENTCNT:
	case RNDADDENTROPY:
	case RNDZAPENTCNT:
	case RNDCLEARPOOL:
	case RNDRESEEDCRNG:
		return -EPERM; /* no CAP_SYS_ADMIN over the host's pool */
	default:
		return -EINVAL;
	}
}

/* Linux random_poll once the crng is ready (it always is for the host's
 * getrandom): readable, and not "writable" (writing credits nothing). */
static unsigned random_poll(struct uvfs_file *f, struct uvfs_poll_table *pt) { return POLLIN | POLLRDNORM; }

static const struct uvfs_file_ops null_fops = {
	.read = null_read,
	.write = null_write,
	.llseek = null_llseek,
};
static const struct uvfs_file_ops zero_fops = {
	.read = zero_read,
	.write = null_write,
	.llseek = null_llseek,
};
static const struct uvfs_file_ops full_fops = {
	.read = zero_read,
	.write = full_write,
	.llseek = null_llseek,
};
static const struct uvfs_file_ops random_fops = {
	.read = random_read,
	.write = random_write,
	.llseek = random_llseek,
	.ioctl = random_ioctl,
	.poll = random_poll,
};
/* Linux's urandom_fops has no poll: always ready both ways. */
static const struct uvfs_file_ops urandom_fops = {
	.read = random_read,
	.write = random_write,
	.llseek = random_llseek,
	.ioctl = random_ioctl,
};

DEV_HIDDEN int mem_register(struct uvfs *vfs)
{
	static const struct {
		unsigned minor;
		const struct uvfs_file_ops *fops;
	} devs[] = {
		{ UVFS_NULL_MINOR, &null_fops },     { UVFS_ZERO_MINOR, &zero_fops },
		{ UVFS_FULL_MINOR, &full_fops },     { UVFS_RANDOM_MINOR, &random_fops },
		{ UVFS_URANDOM_MINOR, &urandom_fops },
	};
	for (size_t i = 0; i < sizeof devs / sizeof devs[0]; i++) {
		int err = uvfs_register_chrdev_region(vfs, UVFS_DEV_CHAR, UVFS_MEM_MAJOR, devs[i].minor, 1,
						      devs[i].fops, NULL, "mem");
		if (err)
			return err;
	}
	return 0;
}
