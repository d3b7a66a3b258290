/* Change notification from the overlay: a copy-up changes overlay inodes
 * (a directory becomes merged: nlink 1; a broken lower hard link gets its
 * own st_ino) without a VFS op on them, so the overlay reports each copied
 * inode itself (uvfs_notify_inode), and a subscriber such as the FUSE
 * export can drop the kernel's cached attributes. */
#include "ov.h"
#include "uvfs_fs.h"

#define MAXEV 64
static struct {
	struct uvfs_inode *inode;
	enum uvfs_watch_event ev;
} evs[MAXEV];
static int nevs;

static void on_inode(void *arg, enum uvfs_watch_event ev, struct uvfs_inode *inode, uint64_t off, uint64_t len)
{
	(void)arg, (void)off, (void)len;
	if (nevs < MAXEV)
		evs[nevs++] = (typeof(evs[0])){ inode, ev };
}
static const struct uvfs_watch_ops ops = { .inode = on_inode };

static int count(struct uvfs_inode *i, enum uvfs_watch_event ev)
{
	int n = 0;
	for (int k = 0; k < nevs; k++)
		n += evs[k].inode == i && evs[k].ev == ev;
	return n;
}

/* The overlay inode at p, with a reference on its vd (caller puts it). */
static struct uvfs_inode *inode_at(const char *p, struct uvfs_vd *vd)
{
	struct uvfs_pathop pp = fx_pop(p);
	FX_ASSERT_OK(uvfs_get_dentry_at(fx.vfs, &fx.cred, &pp, 0, vd));
	return uvfs_dentry_inode(vd->dentry);
}

FX_TEST(ovl_notify, copy_up_reports_the_copied_inodes)
{
	ov_layers();
	fx_must_mkdir("/l1/d", 0755);
	fx_must_mkdir("/l1/d/sub", 0755);
	fx_must_write("/l1/d/f", "data");
	ov_mount();
	struct uvfs_vd dv, fv;
	struct uvfs_inode *di = inode_at("/m/d", &dv), *fi = inode_at("/m/d/f", &fv);
	struct statx st;
	FX_ASSERT_OK(fx_lstat("/m/d", &st));
	cr_assert_eq(st.stx_nlink, 3);
	nevs = 0;
	FX_ASSERT_OK(uvfs_watch_set(fx.vfs, &ops, NULL));
	/* Open for write: copies up d then f; no VFS op reports either. */
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/m/d/f", O_WRONLY, 0, &f));
	uvfs_file_put(f);
	cr_assert_eq(count(di, UVFS_WATCH_ATTR), 1, "the directory's copy-up (nlink 3 -> 1) not reported");
	cr_assert_eq(count(fi, UVFS_WATCH_ATTR), 1, "the file's copy-up not reported");
	FX_ASSERT_OK(fx_lstat("/m/d", &st));
	cr_assert_eq(st.stx_nlink, 1);
	/* Already copied up: nothing more to report. */
	nevs = 0;
	FX_ASSERT_OK(fx_open("/m/d/f", O_WRONLY, 0, &f));
	uvfs_file_put(f);
	cr_assert_eq(nevs, 0);
	FX_ASSERT_OK(uvfs_watch_set(fx.vfs, NULL, NULL));
	uvfs_vd_put(&fv);
	uvfs_vd_put(&dv);
}

FX_TEST(ovl_notify, create_in_a_lower_only_directory_reports_its_copy_up)
{
	ov_layers();
	fx_must_mkdir("/l1/e", 0755);
	fx_must_mkdir("/l1/e/s", 0755);
	ov_mount();
	struct uvfs_vd ev;
	struct uvfs_inode *ei = inode_at("/m/e", &ev);
	nevs = 0;
	FX_ASSERT_OK(uvfs_watch_set(fx.vfs, &ops, NULL));
	fx_must_write("/m/e/new", "x");
	cr_assert_eq(count(ei, UVFS_WATCH_ATTR), 1, "the parent's copy-up not reported");
	FX_ASSERT_OK(uvfs_watch_set(fx.vfs, NULL, NULL));
	uvfs_vd_put(&ev);
}
