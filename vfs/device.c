/* vfs/device.c — the device registry ((kind, major, minor range) → file
 * ops, Linux's cdev map) and anonymous device minors for filesystems.
 *
 * The registry is a sorted array of non-overlapping regions, published
 * under RCU: an open looks its node's number up by binary search inside a
 * read section, without a lock. Registration and unregistration copy the
 * array under vfs->dev_lock, publish the copy and free the old one after a
 * grace period. Files keep the fops/priv they were opened with, so an
 * unregistration never reaches into open files (Linux cdev_del).
 *
 * Lock: vfs->dev_lock (a leaf) serialises registry writers and protects
 * the anon minor bitmap. */
#include <stdio.h>

#include "internal.h"

#define DEV_MINOR_BITS 20 /* Linux MINORBITS */
#define DEV_MAJOR_MAX 4096 /* Linux: majors are 12 bits */

/* Immutable once published. */
struct dev_region {
	uint64_t start; /* dev_key(kind, major, base_minor) */
	uint32_t count;
	const struct uvfs_file_ops *fops;
	void *priv;
	char group[32];
};

struct dev_table {
	struct rcu_head rcu;
	size_t n;
	struct dev_region r[]; /* sorted by start; ranges never overlap */
};

/* One ordered number space: a region never crosses a major, because base +
 * count <= 2^20. */
static inline uint64_t dev_key(int kind, uint32_t major, uint32_t minor)
{
	return ((uint64_t)kind << 32) | ((uint64_t)major << DEV_MINOR_BITS) | minor;
}

/* Index of the first region with start > key (0..n). */
static size_t table_upper(const struct dev_table *t, uint64_t key)
{
	size_t lo = 0, hi = t ? t->n : 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->r[mid].start <= key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void table_free_rcu(struct rcu_head *h)
{
	RCU_CALLBACK_ENTER();
	free(container_of(h, struct dev_table, rcu));
	RCU_CALLBACK_EXIT();
}

/* dev_lock held: publish t in place of the current table. */
static void table_publish(struct uvfs *vfs, struct dev_table *t)
{
	struct dev_table *old = vfs->devices;
	rcu_store(vfs->devices, t);
	if (old)
		call_rcu(&old->rcu, table_free_rcu);
}

static int check_range(int kind, uint32_t major, uint32_t base, uint32_t count)
{
	if (kind != UVFS_DEV_CHAR && kind != UVFS_DEV_BLOCK)
		return -EINVAL;
	if (count == 0 || major >= DEV_MAJOR_MAX || base >= (1u << DEV_MINOR_BITS) ||
	    count > (1u << DEV_MINOR_BITS) - base)
		return -EINVAL;
	return 0;
}

UVFS_API int uvfs_register_chrdev_region(struct uvfs *vfs, int kind, uint32_t major, uint32_t base_minor,
					 uint32_t count, const struct uvfs_file_ops *fops, void *priv,
					 const char *group)
{
	int err = check_range(kind, major, base_minor, count);
	if (err)
		return err;
	if (!fops)
		return -EINVAL;
	rcu_enter();
	struct dev_region reg = { .start = dev_key(kind, major, base_minor), .count = count, .fops = fops, .priv = priv };
	if (group)
		snprintf(reg.group, sizeof(reg.group), "%s", group);
	pthread_mutex_lock(&vfs->dev_lock);
	struct dev_table *old = vfs->devices;
	size_t n = old ? old->n : 0;
	size_t at = table_upper(old, reg.start);
	/* Neighbours: the one before must end at or before start, the one
	 * after must begin at or after our end. */
	if ((at > 0 && old->r[at - 1].start + old->r[at - 1].count > reg.start) ||
	    (at < n && reg.start + count > old->r[at].start)) {
		err = -EBUSY;
		goto out;
	}
	struct dev_table *t = malloc(sizeof(*t) + (n + 1) * sizeof(t->r[0]));
	if (!t) {
		err = -ENOMEM;
		goto out;
	}
	t->n = n + 1;
	if (at)
		memcpy(t->r, old->r, at * sizeof(t->r[0]));
	t->r[at] = reg;
	if (n > at)
		memcpy(t->r + at + 1, old->r + at, (n - at) * sizeof(t->r[0]));
	table_publish(vfs, t);
out:
	pthread_mutex_unlock(&vfs->dev_lock);
	return err;
}

UVFS_API int uvfs_unregister_device_region(struct uvfs *vfs, int kind, uint32_t major, uint32_t base_minor,
					   uint32_t count)
{
	int err = check_range(kind, major, base_minor, count);
	if (err)
		return err;
	rcu_enter();
	uint64_t start = dev_key(kind, major, base_minor);
	pthread_mutex_lock(&vfs->dev_lock);
	struct dev_table *old = vfs->devices;
	size_t at = table_upper(old, start);
	if (at == 0 || old->r[at - 1].start != start || old->r[at - 1].count != count) {
		err = -ENOENT;
		goto out;
	}
	at--;
	struct dev_table *t = NULL;
	if (old->n > 1) {
		if (!(t = malloc(sizeof(*t) + (old->n - 1) * sizeof(t->r[0])))) {
			err = -ENOMEM;
			goto out;
		}
		t->n = old->n - 1;
		memcpy(t->r, old->r, at * sizeof(t->r[0]));
		memcpy(t->r + at, old->r + at + 1, (old->n - at - 1) * sizeof(t->r[0]));
	}
	table_publish(vfs, t);
out:
	pthread_mutex_unlock(&vfs->dev_lock);
	return err;
}

UVFS_API int uvfs_register_device(struct uvfs *vfs, int kind, uint32_t major, uint32_t minor,
				  const struct uvfs_file_ops *fops, void *priv, const char *group)
{
	int err = uvfs_register_chrdev_region(vfs, kind, major, minor, 1, fops, priv, group);
	return err == -EBUSY ? -EEXIST : err;
}

/* Caller registered with liburcu (uvfs_open_at is). */
HIDDEN int device_lookup(struct uvfs *vfs, int kind, dev_t rdev, const struct uvfs_file_ops **fops, void **priv)
{
	if (major(rdev) >= DEV_MAJOR_MAX || minor(rdev) >= (1u << DEV_MINOR_BITS))
		return -ENXIO;
	uint64_t key = dev_key(kind, major(rdev), minor(rdev));
	int err = -ENXIO;
	rcu_read_lock();
	struct dev_table *t = rcu_load(vfs->devices);
	size_t at = table_upper(t, key);
	if (at > 0 && key - t->r[at - 1].start < t->r[at - 1].count) {
		*fops = t->r[at - 1].fops;
		*priv = t->r[at - 1].priv;
		err = 0;
	}
	rcu_read_unlock();
	return err;
}

/* uvfs_destroy, after its RCU barrier: no reader is left. */
HIDDEN void device_fini(struct uvfs *vfs)
{
	free(vfs->devices);
	vfs->devices = NULL;
}

/* Smallest free minor at or after the hint (gVisor GetAnonBlockDevMinor). */
UVFS_API int uvfs_get_anon_minor(struct uvfs *vfs, uint32_t *minor)
{
	int err = -EMFILE;
	pthread_mutex_lock(&vfs->dev_lock);
	for (uint32_t i = 0, m = vfs->anon_next; i < ANON_MINOR_MAX; i++, m++) {
		if (m >= ANON_MINOR_MAX - 1 || m == 0)
			m = 1;
		if (!(vfs->anon_minors[m / 8] & (1u << (m % 8)))) {
			vfs->anon_minors[m / 8] |= (uint8_t)(1u << (m % 8));
			vfs->anon_next = m + 1;
			*minor = m;
			err = 0;
			break;
		}
	}
	pthread_mutex_unlock(&vfs->dev_lock);
	return err;
}

UVFS_API void uvfs_put_anon_minor(struct uvfs *vfs, uint32_t minor)
{
	if (minor == 0 || minor >= ANON_MINOR_MAX)
		return;
	pthread_mutex_lock(&vfs->dev_lock);
	vfs->anon_minors[minor / 8] &= (uint8_t) ~(1u << (minor % 8));
	if (minor < vfs->anon_next)
		vfs->anon_next = minor;
	pthread_mutex_unlock(&vfs->dev_lock);
}
