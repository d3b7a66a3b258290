/* Hard links in a lower layer, as the kernel's overlayfs with index=off
 * (this host's default, /sys/module/overlay/parameters/index = N): the
 * names are one file until one is copied up, which breaks the link. Unlike
 * the kernel (which keeps the origin's st_ino for the copy), the copy then
 * gets a number of its own: two different files never share (dev, ino),
 * which tar, rsync -H and our FUSE export take to mean "the same file". */
#include <dirent.h>

#include "ov.h"

static struct statx lst(const char *p)
{
	struct statx st;
	int rc = fx_lstat(p, &st);
	cr_assert_eq(rc, 0, "lstat %s: %s", p, fx_err(rc));
	return st;
}

static uint64_t dir_ino(const char *dir, const char *name)
{
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open(dir, O_RDONLY | O_DIRECTORY, 0, &f));
	char buf[4096];
	uint64_t ino = 0;
	ssize_t n;
	while ((n = uvfs_getdents64(f, buf, sizeof buf)) > 0)
		for (ssize_t off = 0; off < n;) {
			struct dirent64 *de = (struct dirent64 *)(buf + off);
			if (!strcmp(de->d_name, name))
				ino = de->d_ino;
			off += de->d_reclen;
		}
	uvfs_file_put(f);
	return ino;
}

FX_TEST(ovl_hardlink, copy_up_breaks_the_link_with_its_own_ino)
{
	ov_layers();
	fx_must_write("/l2/h1", "h");
	FX_ASSERT_OK(ov_link("/l2/h1", "/l2/h2"));
	ov_mount();
	struct statx a = lst("/m/h1"), b = lst("/m/h2");
	cr_assert_eq(a.stx_ino, b.stx_ino, "one lower file: one number");
	cr_assert_eq(a.stx_nlink, 2);
	fx_must_write("/m/h1", "new");
	struct statx a2 = lst("/m/h1"), b2 = lst("/m/h2");
	ov_expect_file("/m/h2", "h");
	ov_expect_file("/m/h1", "new");
	cr_assert_eq(a2.stx_nlink, 1);
	cr_assert_eq(b2.stx_nlink, 2, "the lower file still has its two links");
	cr_assert_eq(b2.stx_ino, b.stx_ino, "the untouched name keeps its number");
	cr_assert_neq(a2.stx_ino, b2.stx_ino, "two different files share st_ino %llu", (unsigned long long)a2.stx_ino);
	/* readdir agrees with stat, and the number stays for the copy */
	cr_assert_eq(dir_ino("/m", "h1"), a2.stx_ino);
	cr_assert_eq(dir_ino("/m", "h2"), b2.stx_ino);
	fx_must_write("/m/h1", "again");
	cr_assert_eq(lst("/m/h1").stx_ino, a2.stx_ino);
}

/* A lower file with one link keeps its number across copy-up (as before). */
FX_TEST(ovl_hardlink, single_link_keeps_ino)
{
	ov_layers();
	fx_must_write("/l2/f", "x");
	ov_mount();
	uint64_t ino = lst("/m/f").stx_ino;
	fx_must_write("/m/f", "y");
	cr_assert_eq(lst("/m/f").stx_ino, ino);
	cr_assert_eq(dir_ino("/m", "f"), ino);
}
