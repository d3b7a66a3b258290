/* test_notify.c — change notification (uvfs_watch_set): every committed
 * change made through the VFS reaches the subscriber once, after the
 * change, with no inode lock held; failed calls report nothing. */
#include "fixture.h"

#include <linux/falloc.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "uvfs_fs.h"

static char evlog[8192];
static bool locks_free = true;

static const char *evname(enum uvfs_watch_event ev)
{
	static const char *n[] = { "?", "create", "remove", "mount", "umount", "attr", "data" };
	return ev <= UVFS_WATCH_DATA ? n[ev] : "?";
}

/* A lock the VFS still held would make the try fail (one thread here). */
static void check_unlocked(struct uvfs_inode *i)
{
	if (!i)
		return;
	if (uvfs_lock_try(&i->i_lock))
		uvfs_lock_release(&i->i_lock);
	else
		locks_free = false;
}

static void on_entry(void *arg, enum uvfs_watch_event ev, struct uvfs_inode *dir, const char *name, size_t len,
		     struct uvfs_inode *child)
{
	check_unlocked(dir);
	check_unlocked(child);
	size_t l = strlen(evlog);
	snprintf(evlog + l, sizeof(evlog) - l, "%s %llu/%.*s %llu;", evname(ev), (unsigned long long)dir->i_ino,
		 (int)len, name, child ? (unsigned long long)child->i_ino : 0ULL);
	(*(int *)arg)++;
}

static void on_inode(void *arg, enum uvfs_watch_event ev, struct uvfs_inode *inode, uint64_t off, uint64_t len)
{
	check_unlocked(inode);
	size_t l = strlen(evlog);
	snprintf(evlog + l, sizeof(evlog) - l, "%s %llu %llu+%llu;", evname(ev), (unsigned long long)inode->i_ino,
		 (unsigned long long)off, (unsigned long long)len);
	(*(int *)arg)++;
}

static const struct uvfs_watch_ops ops = { .entry = on_entry, .inode = on_inode };
static int nev;

static void watch_on(void)
{
	FX_ASSERT_OK(uvfs_watch_set(fx.vfs, &ops, &nev));
	evlog[0] = 0;
}

/* The log since the last call, then cleared. */
static const char *take(void)
{
	static char copy[sizeof(evlog)];
	strcpy(copy, evlog);
	evlog[0] = 0;
	return copy;
}

#define EXPECT(fmt, ...)                                                                                          \
	do {                                                                                                       \
		char want_[1024];                                                                                  \
		snprintf(want_, sizeof(want_), fmt, ##__VA_ARGS__);                                                \
		const char *got_ = take();                                                                         \
		cr_assert_str_eq(got_, want_, "events: got [%s] want [%s]", got_, want_);                          \
	} while (0)

FX_TEST(notify, names)
{
	watch_on();
	uint64_t r = fx_ino("/");
	fx_must_mkdir("/d", 0755);
	uint64_t d = fx_ino("/d");
	EXPECT("create %llu/d %llu;", (unsigned long long)r, (unsigned long long)d);
	struct uvfs_pathop p = fx_pop("/d/n");
	FX_ASSERT_OK(uvfs_mknod_at(fx.vfs, &fx.cred, &p, S_IFIFO | 0644, 0));
	uint64_t n = fx_ino("/d/n");
	EXPECT("create %llu/n %llu;", (unsigned long long)d, (unsigned long long)n);
	FX_ASSERT_OK(fx_symlink("n", "/d/s"));
	EXPECT("create %llu/s %llu;", (unsigned long long)d, (unsigned long long)fx_ino("/d/s"));
	struct uvfs_pathop l = fx_pop("/l");
	FX_ASSERT_OK(uvfs_link_at(fx.vfs, &fx.cred, &p, &l));
	EXPECT("create %llu/l %llu;attr %llu 0+0;", (unsigned long long)r, (unsigned long long)n,
	       (unsigned long long)n);
	struct uvfs_pathop t = fx_pop("/t");
	FX_ASSERT_OK(uvfs_rename_at(fx.vfs, &fx.cred, &l, &t, 0));
	EXPECT("remove %llu/l %llu;create %llu/t %llu;", (unsigned long long)r, (unsigned long long)n,
	       (unsigned long long)r, (unsigned long long)n);
	FX_ASSERT_OK(uvfs_unlink_at(fx.vfs, &fx.cred, &t));
	EXPECT("remove %llu/t %llu;attr %llu 0+0;", (unsigned long long)r, (unsigned long long)n,
	       (unsigned long long)n);
	/* Rename over a victim: it loses its link. */
	fx_must_write("/v", "v");
	uint64_t v = fx_ino("/v");
	take();
	struct uvfs_pathop vp = fx_pop("/v"), sp = fx_pop("/d/s");
	FX_ASSERT_OK(uvfs_rename_at(fx.vfs, &fx.cred, &sp, &vp, 0));
	uint64_t s = fx_ino("/v");
	EXPECT("remove %llu/s %llu;create %llu/v %llu;attr %llu 0+0;", (unsigned long long)d, (unsigned long long)s,
	       (unsigned long long)r, (unsigned long long)s, (unsigned long long)v);
	FX_ASSERT_OK(uvfs_unlink_at(fx.vfs, &fx.cred, &vp));
	FX_ASSERT_OK(uvfs_unlink_at(fx.vfs, &fx.cred, &p));
	take();
	struct uvfs_pathop dp = fx_pop("/d");
	FX_ASSERT_OK(uvfs_rmdir_at(fx.vfs, &fx.cred, &dp));
	EXPECT("remove %llu/d %llu;", (unsigned long long)r, (unsigned long long)d);
	/* Failures report nothing. */
	fx_must_mkdir("/e", 0755);
	take();
	FX_ASSERT_ERR(fx_mkdir("/e", 0755), -EEXIST);
	struct uvfs_pathop gone = fx_pop("/nope");
	FX_ASSERT_ERR(uvfs_unlink_at(fx.vfs, &fx.cred, &gone), -ENOENT);
	FX_ASSERT_ERR(fx_chmod("/nope", 0), -ENOENT);
	EXPECT("%s", "");
	cr_assert(locks_free, "a callback ran with an inode lock held");
	FX_ASSERT_OK(uvfs_watch_set(fx.vfs, NULL, NULL));
}

FX_TEST(notify, attributes_and_data)
{
	fx_must_write("/f", "");
	uint64_t r = fx_ino("/"), f = fx_ino("/f");
	watch_on();
	struct uvfs_file *fl;
	FX_ASSERT_OK(fx_open("/f", O_RDWR, 0, &fl));
	cr_assert_eq(uvfs_write(fl, "hello", 5), 5);
	cr_assert_eq(uvfs_pwrite(fl, "xy", 2, 10), 2);
	struct iovec iov = { "abc", 3 };
	cr_assert_eq(uvfs_writev(fl, &iov, 1), 3);
	FX_ASSERT_OK(uvfs_file_truncate(fl, 4));
	FX_ASSERT_OK(uvfs_fallocate(fl, FALLOC_FL_KEEP_SIZE, 0, 100));
	char buf[8];
	cr_assert_eq(uvfs_pread(fl, buf, sizeof(buf), 0), 4); /* reads report nothing */
	uvfs_file_put(fl);
	EXPECT("data %llu 0+5;data %llu 10+2;data %llu 5+3;data %llu 4+0;data %llu 0+100;", (unsigned long long)f,
	       (unsigned long long)f, (unsigned long long)f, (unsigned long long)f, (unsigned long long)f);
	FX_ASSERT_OK(fx_chmod("/f", 0600));
	struct uvfs_pathop p = fx_pop("/f");
	FX_ASSERT_OK(uvfs_setxattr_at(fx.vfs, &fx.cred, &p, "user.k", "v", 1, 0));
	FX_ASSERT_OK(uvfs_removexattr_at(fx.vfs, &fx.cred, &p, "user.k"));
	EXPECT("attr %llu 0+0;attr %llu 0+0;attr %llu 0+0;", (unsigned long long)f, (unsigned long long)f,
	       (unsigned long long)f);
	/* open(O_CREAT) makes a name; O_TRUNC cuts the data. */
	FX_ASSERT_OK(fx_open("/g", O_CREAT | O_WRONLY, 0644, &fl));
	uvfs_file_put(fl);
	EXPECT("create %llu/g %llu;", (unsigned long long)r, (unsigned long long)fx_ino("/g"));
	FX_ASSERT_OK(fx_open("/f", O_WRONLY | O_TRUNC, 0, &fl));
	uvfs_file_put(fl);
	EXPECT("data %llu 0+0;", (unsigned long long)f);
	cr_assert(locks_free, "a callback ran with an inode lock held");
}

FX_TEST(notify, mounts)
{
	fx_must_mkdir("/m", 0755);
	fx_must_mkdir("/b", 0755);
	uint64_t r = fx_ino("/"), m = fx_ino("/m"), b = fx_ino("/b");
	watch_on();
	FX_ASSERT_OK(fx_mount_tmpfs("/m", NULL, 0));
	uint64_t mr = fx_ino("/m");
	EXPECT("mount %llu/m %llu;", (unsigned long long)r, (unsigned long long)mr);
	/* Stacked on the mount's root: still the name m in / */
	FX_ASSERT_OK(fx_mount_tmpfs("/m", NULL, 0));
	uint64_t mr2 = fx_ino("/m");
	EXPECT("mount %llu/m %llu;", (unsigned long long)r, (unsigned long long)mr2);
	struct uvfs_pathop s = fx_pop("/m"), d = fx_pop("/b");
	FX_ASSERT_OK(uvfs_bind_at(fx.vfs, &fx.cred, &s, &d, 0));
	EXPECT("mount %llu/b %llu;", (unsigned long long)r, (unsigned long long)mr2);
	FX_ASSERT_OK(fx_umount("/b", 0));
	EXPECT("umount %llu/b %llu;", (unsigned long long)r, (unsigned long long)b);
	FX_ASSERT_OK(fx_umount("/m", 0));
	EXPECT("umount %llu/m %llu;", (unsigned long long)r, (unsigned long long)mr);
	FX_ASSERT_OK(fx_umount("/m", 0));
	EXPECT("umount %llu/m %llu;", (unsigned long long)r, (unsigned long long)m);
	FX_ASSERT_ERR(fx_umount("/m", 0), -EINVAL);
	EXPECT("%s", "");
}

/* A subscriber caching a reference on a mount (as the FUSE export's kernel
 * nodes do) hears of a plain umount before the busy check and may drop it. */
static struct uvfs_vd held;
static bool drop_held;
static void on_umount(void *arg, struct uvfs_mount *mnt, struct uvfs_inode *dir, const char *name, size_t len)
{
	check_unlocked(dir);
	size_t l = strlen(evlog);
	snprintf(evlog + l, sizeof(evlog) - l, "pre-umount %llu/%.*s %s;", (unsigned long long)dir->i_ino, (int)len,
		 name, mnt == held.mount ? "held" : "other");
	if (drop_held && mnt == held.mount)
		uvfs_vd_put(&held);
}
static const struct uvfs_watch_ops umount_ops = { .entry = on_entry, .umount = on_umount };

FX_TEST(notify, umount_callback)
{
	fx_must_mkdir("/m", 0755);
	uint64_t r = fx_ino("/"), m = fx_ino("/m");
	FX_ASSERT_OK(fx_mount_tmpfs("/m", NULL, 0));
	FX_ASSERT_OK(fx_mount_tmpfs("/m", NULL, 0)); /* stacked: still the name m in / */
	struct uvfs_pathop p = fx_pop("/m");
	FX_ASSERT_OK(uvfs_get_dentry_at(fx.vfs, &fx.cred, &p, 0, &held));
	FX_ASSERT_OK(uvfs_watch_set(fx.vfs, &umount_ops, &nev));
	evlog[0] = 0;
	drop_held = false;
	FX_ASSERT_ERR(fx_umount("/m", 0), -EBUSY);
	EXPECT("pre-umount %llu/m held;", (unsigned long long)r);
	drop_held = true;
	FX_ASSERT_OK(fx_umount("/m", 0));
	uint64_t mr = fx_ino("/m");
	EXPECT("pre-umount %llu/m held;umount %llu/m %llu;", (unsigned long long)r, (unsigned long long)r,
	       (unsigned long long)mr);
	cr_assert_null(held.mount, "the callback dropped its reference");
	/* Lazy: no callback (nothing is checked) */
	FX_ASSERT_OK(fx_umount("/m", UVFS_UMOUNT_DETACH));
	EXPECT("umount %llu/m %llu;", (unsigned long long)r, (unsigned long long)m);
	/* Not a mount root: EINVAL, no callback */
	FX_ASSERT_ERR(fx_umount("/m", 0), -EINVAL);
	EXPECT("%s", "");
}

FX_TEST(notify, one_subscriber_and_unsubscribe)
{
	watch_on();
	FX_ASSERT_ERR(uvfs_watch_set(fx.vfs, &ops, &nev), -EBUSY);
	FX_ASSERT_OK(uvfs_watch_set(fx.vfs, NULL, NULL));
	nev = 0;
	fx_must_mkdir("/quiet", 0755);
	fx_must_write("/quiet/f", "x");
	cr_assert_eq(nev, 0, "no subscriber, no callback");
	/* Left subscribed: uvfs_destroy frees it (the fixture checks leaks). */
	watch_on();
	fx_must_mkdir("/loud", 0755);
	cr_assert_eq(nev, 1);
}

/* Callbacks run outside any RCU read section: one may wait for a grace
 * period (inside a section that would never end), and an unsubscribe waits
 * for a callback still running on another thread. */
#include <pthread.h>
#include <unistd.h>
#include <urcu/urcu-memb.h>

static atomic_int in_cb, cb_done;

static void slow_entry(void *arg, enum uvfs_watch_event ev, struct uvfs_inode *dir, const char *name, size_t len,
		       struct uvfs_inode *child)
{
	urcu_memb_synchronize_rcu(); /* hangs (test timeout) inside a read section */
	atomic_store(&in_cb, 1);
	usleep(200 * 1000);
	atomic_store(&cb_done, 1);
}
static const struct uvfs_watch_ops slow_ops = { .entry = slow_entry };

static void *mkdir_thread(void *arg)
{
	fx_mkdir("/slow", 0755); /* no criterion assert off the test's thread */
	return NULL;
}

FX_TEST(notify, callbacks_may_wait_and_unsubscribe_waits_for_them)
{
	FX_ASSERT_OK(uvfs_watch_set(fx.vfs, &slow_ops, NULL));
	pthread_t t;
	pthread_create(&t, NULL, mkdir_thread, NULL);
	while (!atomic_load(&in_cb))
		usleep(1000);
	FX_ASSERT_OK(uvfs_watch_set(fx.vfs, NULL, NULL));
	cr_assert(atomic_load(&cb_done), "unsubscribe returned while a callback was running");
	pthread_join(t, NULL);
}

/* Several subscribers (issue 17: two FUSE exports of one instance): each
 * hears every change once; unsubscribing one by its arg leaves the other. */
static char log2a[1024], log2b[1024];
static void entry_to(void *arg, enum uvfs_watch_event ev, struct uvfs_inode *dir, const char *name, size_t len,
		     struct uvfs_inode *child)
{
	char *l = arg;
	size_t n = strlen(l);
	snprintf(l + n, 1024 - n, "%s %.*s;", evname(ev), (int)len, name);
}
static void inode_to(void *arg, enum uvfs_watch_event ev, struct uvfs_inode *inode, uint64_t off, uint64_t len)
{
	char *l = arg;
	size_t n = strlen(l);
	snprintf(l + n, 1024 - n, "%s %llu;", evname(ev), (unsigned long long)inode->i_ino);
}
static const struct uvfs_watch_ops two_ops = { .entry = entry_to, .inode = inode_to };

FX_TEST(notify, two_subscribers_each_hear_every_change)
{
	log2a[0] = log2b[0] = 0;
	FX_ASSERT_OK(uvfs_watch_set(fx.vfs, &two_ops, log2a));
	FX_ASSERT_OK(uvfs_watch_set(fx.vfs, &two_ops, log2b));
	FX_ASSERT_ERR(uvfs_watch_set(fx.vfs, &two_ops, log2b), -EBUSY); /* the same pair twice */
	fx_must_mkdir("/both", 0755);
	FX_ASSERT_OK(fx_chmod("/both", 0700));
	char want[128];
	snprintf(want, sizeof want, "create both;attr %llu;", (unsigned long long)fx_ino("/both"));
	cr_assert_str_eq(log2a, want);
	cr_assert_str_eq(log2b, want);
	/* One goes (the FUSE export passes its own arg); the other stays. */
	FX_ASSERT_OK(uvfs_watch_set(fx.vfs, NULL, log2a));
	log2a[0] = log2b[0] = 0;
	fx_must_mkdir("/second", 0755);
	cr_assert_str_eq(log2a, "");
	cr_assert_str_eq(log2b, "create second;");
	FX_ASSERT_OK(uvfs_watch_set(fx.vfs, NULL, log2b));
	fx_must_mkdir("/third", 0755);
	cr_assert_str_eq(log2b, "create second;");
}

FX_TEST(notify, every_slot_then_ebusy)
{
	static char logs[UVFS_WATCH_MAX + 1][1024];
	for (int i = 0; i < UVFS_WATCH_MAX; i++)
		FX_ASSERT_OK(uvfs_watch_set(fx.vfs, &two_ops, logs[i]));
	FX_ASSERT_ERR(uvfs_watch_set(fx.vfs, &two_ops, logs[UVFS_WATCH_MAX]), -EBUSY);
	fx_must_mkdir("/all", 0755);
	for (int i = 0; i < UVFS_WATCH_MAX; i++)
		cr_assert_str_eq(logs[i], "create all;");
	/* Left subscribed: uvfs_destroy frees them (the fixture checks leaks). */
}

/* A filesystem's own report (uvfs_notify_inode/entry) reaches every
 * subscriber; events of the wrong kind are ignored. */
FX_TEST(notify, filesystem_reports_reach_subscribers)
{
	fx_must_mkdir("/n", 0755);
	struct uvfs_vd vd;
	struct uvfs_pathop pp = fx_pop("/n");
	FX_ASSERT_OK(uvfs_get_dentry_at(fx.vfs, &fx.cred, &pp, 0, &vd));
	struct uvfs_inode *i = uvfs_dentry_inode(vd.dentry);
	log2a[0] = log2b[0] = 0;
	uvfs_notify_inode(i, UVFS_WATCH_ATTR, 0, 0); /* nobody listens: nothing */
	FX_ASSERT_OK(uvfs_watch_set(fx.vfs, &two_ops, log2a));
	FX_ASSERT_OK(uvfs_watch_set(fx.vfs, &two_ops, log2b));
	uvfs_notify_inode(i, UVFS_WATCH_ATTR, 0, 0);
	uvfs_notify_inode(i, UVFS_WATCH_CREATE, 0, 0); /* not an inode event */
	uvfs_notify_entry(i, UVFS_WATCH_CREATE, "x", 1, NULL);
	uvfs_notify_entry(i, UVFS_WATCH_ATTR, "x", 1, NULL); /* not an entry event */
	char want[128];
	snprintf(want, sizeof want, "attr %llu;create x;", (unsigned long long)i->i_ino);
	cr_assert_str_eq(log2a, want);
	cr_assert_str_eq(log2b, want);
	FX_ASSERT_OK(uvfs_watch_set(fx.vfs, NULL, NULL));
	uvfs_vd_put(&vd);
}
