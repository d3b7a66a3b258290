/* test_sbx_mount.c — mount(2)'s MS_MOVE, MS_REMOUNT and
 * MS_REMOUNT|MS_BIND through uvfs_sbx_mount, against the kernel (the
 * differential runner of tests/vfs/mntdiff.h: the same steps in a private
 * mount namespace on the host): flag precedence as Linux's path_mount,
 * atime flags kept by a remount that names none, errnos, and the mount
 * list afterwards. Then what only the sandbox shows: propagation flags are
 * -EINVAL (uvfs has no propagation), a move needs a source, and
 * CAP_SYS_ADMIN. */
#include "harness.h"
#include "../vfs/mntdiff.h"

static int slot_fd[8];

static void sbx_step(void *ctx, const struct mstep *s, struct mres *r)
{
	struct uvfs_sbx_task *t = ctx;
	char buf[64];
	long fd;
	switch (s->op) {
	case M_MKDIR:
		r->ret = uvfs_sbx_mkdirat(t, AT_FDCWD, s->p, 0755);
		break;
	case M_FILE:
	case M_WRITE:
		fd = uvfs_sbx_openat(t, AT_FDCWD, s->p, O_CREAT | O_WRONLY, 0644);
		r->ret = fd < 0 ? fd : uvfs_sbx_close(t, (int)fd);
		break;
	case M_MOUNT:
		r->ret = uvfs_sbx_mount(t, "none", s->p, "tmpfs", s->a, s->data);
		break;
	case M_BIND:
		r->ret = uvfs_sbx_mount(t, s->p, s->p2, NULL, MS_BIND | s->a, NULL);
		break;
	case M_MOVE:
		r->ret = uvfs_sbx_mount(t, s->p, s->p2, NULL, MS_MOVE, NULL);
		break;
	case M_REMOUNT:
		r->ret = uvfs_sbx_mount(t, NULL, s->p, NULL, MS_REMOUNT | s->a, s->data);
		break;
	case M_MSFLAGS:
		r->ret = uvfs_sbx_mount(t, NULL, s->p, NULL, s->a, NULL);
		break;
	case M_UMOUNT:
		r->ret = uvfs_sbx_umount2(t, s->p, (int)s->a);
		break;
	case M_OPENW:
		fd = uvfs_sbx_openat(t, AT_FDCWD, s->p, O_CREAT | O_RDWR, 0644);
		slot_fd[s->slot] = (int)fd;
		r->ret = fd < 0 ? fd : uvfs_sbx_write(t, (int)fd, "x", 1) == 1 ? 0 : -EIO;
		break;
	case M_CLOSE:
		r->ret = uvfs_sbx_close(t, slot_fd[s->slot]);
		break;
	case M_FREAD:
		r->ret = uvfs_sbx_pread64(t, slot_fd[s->slot], buf, sizeof(buf), 0);
		break;
	case M_CAT:
		fd = uvfs_sbx_openat(t, AT_FDCWD, s->p, O_RDONLY, 0);
		r->ret = fd < 0 ? fd : uvfs_sbx_read(t, (int)fd, buf, sizeof(buf));
		if (fd >= 0)
			uvfs_sbx_close(t, (int)fd);
		break;
	case M_STATMODE: {
		struct stat st;
		r->ret = uvfs_sbx_newfstatat(t, AT_FDCWD, s->p, &st, 0);
		if (!r->ret)
			snprintf(r->data, MDATA, "%o", st.st_mode);
		break;
	}
	case M_STATFS: {
		struct statfs sf;
		r->ret = uvfs_sbx_statfs(t, s->p, &sf);
		if (!r->ret)
			snprintf(r->data, MDATA, "%s", (sf.f_flags & ST_RDONLY) ? "ro" : "rw");
		break;
	}
	case M_LIST: {
		char *text;
		ssize_t n = uvfs_mntns_show(fx.ns, &fx.root, UVFS_SHOW_MOUNTINFO, &text);
		cr_assert(n >= 0);
		md_reduce(text, "", r->data, MDATA);
		free(text);
		break;
	}
	default:
		r->ret = -9999;
	}
}

static struct uvfs_sbx_task *new_task(void)
{
	struct uvfs_sbx_task *t;
	struct uvfs_sbx_task_params p = { .vfs = fx.vfs, .mntns = fx.ns, .root = &fx.root, .umask = 022 };
	cr_assert_eq(uvfs_sbx_task_new(&p, &t), 0);
	return t;
}

#define DIFF(...)                                                         \
	do {                                                              \
		struct uvfs_sbx_task *t_ = new_task();                    \
		const struct mstep st_[] = { __VA_ARGS__, MS_END_ };      \
		md_diff(st_, sbx_step, t_);                               \
		uvfs_sbx_task_put(t_);                                    \
	} while (0)

FX_TEST(sbx_mount, move)
{
	DIFF(MS_(M_MKDIR, .p = "/a"), MS_(M_MKDIR, .p = "/b"), MS_(M_MOUNT, .p = "/a", .data = "size=1m"),
	     MS_(M_MKDIR, .p = "/a/s"), MS_(M_MOUNT, .p = "/a/s"), MS_(M_OPENW, .p = "/a/s/f", .slot = 0),
	     MS_(M_MOVE, .p = "/a/s", .p2 = "/a/s"), MS_(M_MOVE, .p = "/a", .p2 = "/a/s"),
	     MS_(M_MOVE, .p = "/a/s/f", .p2 = "/b"), MS_(M_MOVE, .p = "/a", .p2 = "/b"), MS_(M_FREAD, .slot = 0),
	     MS_(M_CAT, .p = "/b/s/f"), MS_(M_LIST), MS_(M_CLOSE, .slot = 0),
	     /* MS_BIND wins over MS_MOVE, MS_REMOUNT over both (path_mount's order) */
	     MS_(M_MSFLAGS, .p = "/b", .a = MS_MOVE | MS_REMOUNT | MS_RDONLY), MS_(M_LIST),
	     MS_(M_MSFLAGS, .p = "/b", .a = MS_REMOUNT), MS_(M_UMOUNT, .p = "/b/s"), MS_(M_UMOUNT, .p = "/b"),
	     MS_(M_LIST));
}

FX_TEST(sbx_mount, remount)
{
	DIFF(MS_(M_MKDIR, .p = "/a"), MS_(M_MKDIR, .p = "/b"),
	     MS_(M_MOUNT, .p = "/a", .a = MS_NOATIME | MS_NOSUID, .data = "size=1m"), MS_(M_MKDIR, .p = "/a/in"),
	     MS_(M_REMOUNT, .p = "/a", .a = MS_BIND | MS_RDONLY), /* noatime kept, nosuid dropped */
	     MS_(M_LIST), MS_(M_WRITE, .p = "/a/x"), MS_(M_REMOUNT, .p = "/a/in", .a = MS_BIND),
	     MS_(M_REMOUNT, .p = "/a", .a = MS_BIND | MS_STRICTATIME), /* an atime flag: noatime goes */
	     MS_(M_LIST), MS_(M_WRITE, .p = "/a/x"), MS_(M_BIND, .p = "/a", .p2 = "/b"),
	     MS_(M_REMOUNT, .p = "/a", .a = MS_RDONLY, .data = "size=2m"), MS_(M_WRITE, .p = "/b/y"),
	     MS_(M_STATFS, .p = "/b"), MS_(M_STATFS, .p = "/a"),
	     MS_(M_LIST), MS_(M_REMOUNT, .p = "/a", .data = "size=2m,bogus"), MS_(M_LIST),
	     MS_(M_REMOUNT, .p = "/b", .data = NULL), MS_(M_WRITE, .p = "/b/y"), MS_(M_LIST),
	     MS_(M_REMOUNT, .p = "/", .a = MS_RDONLY), /* the tree's root filesystem */
	     MS_(M_WRITE, .p = "/z"), MS_(M_REMOUNT, .p = "/"), MS_(M_WRITE, .p = "/z"), MS_(M_LIST));
}

FX_TEST(sbx_mount, sandbox_only)
{
	struct uvfs_sbx_task *t = new_task();
	cr_assert_eq(uvfs_sbx_mkdirat(t, AT_FDCWD, "/a", 0755), 0);
	cr_assert_eq(uvfs_sbx_mkdirat(t, AT_FDCWD, "/b", 0755), 0);
	cr_assert_eq(uvfs_sbx_mount(t, "none", "/a", "tmpfs", 0, NULL), 0);
	/* no propagation in uvfs: these stay -EINVAL (Linux: 0) */
	cr_expect_eq(uvfs_sbx_mount(t, NULL, "/a", NULL, MS_SHARED, NULL), -EINVAL);
	cr_expect_eq(uvfs_sbx_mount(t, NULL, "/a", NULL, MS_PRIVATE | MS_REC, NULL), -EINVAL);
	cr_expect_eq(uvfs_sbx_mount(t, NULL, "/a", NULL, MS_SLAVE, NULL), -EINVAL);
	cr_expect_eq(uvfs_sbx_mount(t, NULL, "/a", NULL, MS_UNBINDABLE, NULL), -EINVAL);
	/* Linux do_move_mount_old: no source is -EINVAL */
	cr_expect_eq(uvfs_sbx_mount(t, NULL, "/b", NULL, MS_MOVE, NULL), -EINVAL);
	cr_expect_eq(uvfs_sbx_mount(t, "", "/b", NULL, MS_MOVE, NULL), -EINVAL);
	/* the old magic number is ignored, as Linux does */
	cr_expect_eq(uvfs_sbx_mount(t, NULL, "/a", NULL, MS_MGC_VAL | MS_REMOUNT | MS_BIND | MS_RDONLY, NULL), 0);
	cr_expect_eq(uvfs_sbx_mkdirat(t, AT_FDCWD, "/a/x", 0755), -EROFS);
	struct uvfs_cred u;
	uvfs_cred_init_user(&u, 1000, 1000);
	cr_assert_eq(uvfs_sbx_task_set_cred(t, &u), 0);
	cr_expect_eq(uvfs_sbx_mount(t, "/a", "/b", NULL, MS_MOVE, NULL), -EPERM);
	cr_expect_eq(uvfs_sbx_mount(t, NULL, "/a", NULL, MS_REMOUNT, NULL), -EPERM);
	uvfs_sbx_task_put(t);
}
