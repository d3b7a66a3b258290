/* test_mount_move.c — uvfs_move_mount_at (MS_MOVE) and uvfs_remount_at
 * (MS_REMOUNT, MS_REMOUNT|MS_BIND) against the kernel: each case runs one
 * list of mounts, moves, remounts, writes and mount listings in a private
 * mount namespace on the host (mntdiff.h) and through the core calls on
 * the fixture's tree, and every result must match. */
#include <sys/mount.h>

#include "fixture.h"
#include "mntdiff.h"

static unsigned ms_to_uvfs(unsigned long ms)
{
	return ((ms & MS_RDONLY) ? UVFS_MNT_RDONLY : 0) | ((ms & MS_NOSUID) ? UVFS_MNT_NOSUID : 0) |
	       ((ms & MS_NODEV) ? UVFS_MNT_NODEV : 0) | ((ms & MS_NOEXEC) ? UVFS_MNT_NOEXEC : 0) |
	       ((ms & MS_NOATIME) ? UVFS_MNT_NOATIME : 0);
}

static struct uvfs_file *slots[8];

static void core_step(void *ctx, const struct mstep *s, struct mres *r)
{
	(void)ctx;
	struct uvfs_pathop p = fx_popf(s->p ? s->p : "/"), p2 = fx_popf(s->p2 ? s->p2 : "/");
	struct uvfs_file *f;
	char buf[64];
	switch (s->op) {
	case M_MKDIR: {
		struct uvfs_pathop np = fx_pop(s->p); /* creation calls do not follow */
		r->ret = uvfs_mkdir_at(fx.vfs, &fx.cred, &np, 0755);
		break;
	}
	case M_FILE:
	case M_WRITE:
		r->ret = uvfs_open_at(fx.vfs, &fx.cred, &p, O_CREAT | O_WRONLY, 0644, 0, &f);
		if (!r->ret)
			uvfs_file_put(f);
		break;
	case M_MOUNT: {
		struct uvfs_mount_opts o = { .flags = ms_to_uvfs(s->a), .data = s->data };
		r->ret = uvfs_mount_at(fx.vfs, &fx.cred, "none", &p, "tmpfs", &o);
		break;
	}
	case M_BIND:
		r->ret = uvfs_bind_at(fx.vfs, &fx.cred, &p, &p2, (s->a & MS_REC) ? UVFS_BIND_REC : 0);
		break;
	case M_MOVE:
		r->ret = uvfs_move_mount_at(fx.vfs, &fx.cred, &p, &p2);
		break;
	case M_REMOUNT:
		r->ret = uvfs_remount_at(fx.vfs, &fx.cred, &p, ms_to_uvfs(s->a), s->data,
					 (s->a & MS_BIND) ? UVFS_REMOUNT_BIND : 0);
		break;
	case M_UMOUNT:
		r->ret = uvfs_umount_at(fx.vfs, &fx.cred, &p, (s->a & MNT_DETACH) ? UVFS_UMOUNT_DETACH : 0);
		break;
	case M_OPENW:
		r->ret = uvfs_open_at(fx.vfs, &fx.cred, &p, O_CREAT | O_RDWR, 0644, 0, &slots[s->slot]);
		if (!r->ret)
			r->ret = uvfs_write(slots[s->slot], "x", 1) == 1 ? 0 : -EIO;
		break;
	case M_CLOSE:
		uvfs_file_put(slots[s->slot]);
		slots[s->slot] = NULL;
		break;
	case M_FREAD:
		r->ret = uvfs_pread(slots[s->slot], buf, sizeof(buf), 0);
		break;
	case M_CAT:
		r->ret = uvfs_open_at(fx.vfs, &fx.cred, &p, O_RDONLY, 0, 0, &f);
		if (!r->ret) {
			r->ret = uvfs_read(f, buf, sizeof(buf));
			uvfs_file_put(f);
		}
		break;
	case M_STATMODE: {
		struct statx x;
		r->ret = uvfs_stat_at(fx.vfs, &fx.cred, &p, STATX_BASIC_STATS, &x);
		if (!r->ret)
			snprintf(r->data, MDATA, "%o", x.stx_mode);
		break;
	}
	case M_STATFS: {
		struct statfs sf;
		r->ret = uvfs_statfs_at(fx.vfs, &fx.cred, &p, &sf);
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

#define DIFF(...)                                                         \
	do {                                                              \
		const struct mstep st_[] = { __VA_ARGS__, MS_END_ };      \
		md_diff(st_, core_step, NULL);                            \
	} while (0)

FX_TEST(mount_move, rules_and_errnos)
{
	DIFF(MS_(M_MKDIR, .p = "/a"), MS_(M_MKDIR, .p = "/b"), MS_(M_MKDIR, .p = "/c"), MS_(M_FILE, .p = "/f"),
	     MS_(M_FILE, .p = "/g"), MS_(M_FILE, .p = "/h"), MS_(M_MOUNT, .p = "/a", .data = "size=1m"),
	     MS_(M_MKDIR, .p = "/a/sub"), MS_(M_MKDIR, .p = "/a/in"), MS_(M_MOUNT, .p = "/a/sub"),
	     MS_(M_MOVE, .p = "/a/in", .p2 = "/b"), /* not a mount root */
	     MS_(M_MOVE, .p = "/a", .p2 = "/a/in"), /* under itself */
	     MS_(M_MOVE, .p = "/a", .p2 = "/a"), MS_(M_MOVE, .p = "/a", .p2 = "/a/sub"),
	     MS_(M_MOVE, .p = "/a", .p2 = "/nope"), MS_(M_MOVE, .p = "/a", .p2 = "/f"), /* dir onto file */
	     MS_(M_MOVE, .p = "/nope", .p2 = "/b"), MS_(M_MOVE, .p = "/a", .p2 = "/b"), MS_(M_LIST),
	     MS_(M_MOVE, .p = "/b/sub", .p2 = "/c"), MS_(M_LIST),
	     MS_(M_MOVE, .p = "/b", .p2 = "/c"), /* on top of the mount at /c */
	     MS_(M_LIST), MS_(M_UMOUNT, .p = "/b"), /* nothing mounted there any more */
	     MS_(M_STATMODE, .p = "/b"), MS_(M_BIND, .p = "/f", .p2 = "/g"), /* file mounts */
	     MS_(M_MOVE, .p = "/g", .p2 = "/c/in"), MS_(M_MOVE, .p = "/g", .p2 = "/h"), MS_(M_LIST),
	     MS_(M_UMOUNT, .p = "/c"), MS_(M_LIST));
}

FX_TEST(mount_move, keeps_open_files_and_submounts)
{
	DIFF(MS_(M_MKDIR, .p = "/a"), MS_(M_MKDIR, .p = "/b"), MS_(M_MOUNT, .p = "/a", .data = "mode=755"),
	     MS_(M_MKDIR, .p = "/a/s"), MS_(M_MOUNT, .p = "/a/s", .data = "size=64k"),
	     MS_(M_OPENW, .p = "/a/s/x", .slot = 0), MS_(M_MOVE, .p = "/a", .p2 = "/b"),
	     MS_(M_FREAD, .slot = 0), MS_(M_CAT, .p = "/b/s/x"), MS_(M_CAT, .p = "/a/s/x"),
	     MS_(M_STATMODE, .p = "/b"), MS_(M_LIST), MS_(M_UMOUNT, .p = "/b/s"), /* busy: the open file */
	     MS_(M_CLOSE, .slot = 0), MS_(M_UMOUNT, .p = "/b"), /* busy: the submount */
	     MS_(M_UMOUNT, .p = "/b/s"), MS_(M_UMOUNT, .p = "/b"), MS_(M_LIST));
}

FX_TEST(mount_move, remount_bind_flags)
{
	DIFF(MS_(M_MKDIR, .p = "/a"), MS_(M_MKDIR, .p = "/b"), MS_(M_MOUNT, .p = "/a", .data = "size=1m"),
	     MS_(M_MKDIR, .p = "/a/in"), MS_(M_REMOUNT, .p = "/a", .a = MS_BIND | MS_RDONLY),
	     MS_(M_WRITE, .p = "/a/y"), MS_(M_LIST),
	     MS_(M_REMOUNT, .p = "/a/in", .a = MS_BIND | MS_RDONLY), /* not a mount root */
	     MS_(M_REMOUNT, .p = "/nope", .a = MS_BIND),
	     MS_(M_REMOUNT, .p = "/a", .a = MS_BIND | MS_NOSUID | MS_NODEV), /* replaces: rw again */
	     MS_(M_WRITE, .p = "/a/y"), MS_(M_LIST), MS_(M_OPENW, .p = "/a/w", .slot = 0),
	     MS_(M_REMOUNT, .p = "/a", .a = MS_BIND | MS_RDONLY), /* a writer */
	     MS_(M_CLOSE, .slot = 0), MS_(M_REMOUNT, .p = "/a", .a = MS_BIND | MS_RDONLY | MS_NOEXEC),
	     MS_(M_BIND, .p = "/a", .p2 = "/b"), /* a bind copies the flags */
	     MS_(M_WRITE, .p = "/b/y2"), MS_(M_LIST), MS_(M_REMOUNT, .p = "/b", .a = MS_BIND),
	     MS_(M_WRITE, .p = "/b/y2"), MS_(M_WRITE, .p = "/a/y3"), MS_(M_LIST),
	     MS_(M_REMOUNT, .p = "/", .a = MS_BIND | MS_RDONLY), /* the tree's root mount */
	     MS_(M_WRITE, .p = "/z"), MS_(M_REMOUNT, .p = "/", .a = MS_BIND), MS_(M_WRITE, .p = "/z"));
}

FX_TEST(mount_move, remount_filesystem)
{
	DIFF(MS_(M_MKDIR, .p = "/a"), MS_(M_MKDIR, .p = "/b"), MS_(M_MOUNT, .p = "/a", .data = "size=1m"),
	     MS_(M_MKDIR, .p = "/a/in"), MS_(M_BIND, .p = "/a", .p2 = "/b"),
	     MS_(M_REMOUNT, .p = "/a/in", .data = "size=2m"), /* not a mount root */
	     MS_(M_REMOUNT, .p = "/a", .data = "size=2m"), MS_(M_LIST), /* both mounts show it */
	     MS_(M_OPENW, .p = "/b/w", .slot = 0), MS_(M_REMOUNT, .p = "/a", .a = MS_RDONLY), /* writer elsewhere */
	     MS_(M_CLOSE, .slot = 0), MS_(M_REMOUNT, .p = "/a", .a = MS_RDONLY, .data = "size=4m,mode=700"),
	     MS_(M_STATMODE, .p = "/a"), /* mode= is accepted and ignored on remount */
	     MS_(M_WRITE, .p = "/a/z"), MS_(M_WRITE, .p = "/b/z"), /* the fs is read-only: both mounts */
	     MS_(M_STATFS, .p = "/b"), MS_(M_STATFS, .p = "/"),
	     MS_(M_LIST), MS_(M_REMOUNT, .p = "/a", .data = ""), MS_(M_WRITE, .p = "/b/z"), MS_(M_LIST),
	     MS_(M_REMOUNT, .p = "/a", .data = "bogus=1"), MS_(M_REMOUNT, .p = "/a", .data = "size=bad"),
	     MS_(M_LIST), MS_(M_REMOUNT, .p = "/a", .data = "size=0"), MS_(M_LIST),
	     MS_(M_REMOUNT, .p = "/a", .data = "size=1m"), /* cannot limit an unlimited fs again */
	     MS_(M_REMOUNT, .p = "/a", .data = "nr_inodes=100,uid=5"), MS_(M_LIST));
}

/* Superblock flag words in the data (Linux vfs_parse_sb_flag): "ro" and
 * "rw" set the filesystem's read-only state, over MS_RDONLY's; the others
 * are accepted. */
FX_TEST(mount_move, sb_flag_words)
{
	DIFF(MS_(M_MKDIR, .p = "/a"), MS_(M_MKDIR, .p = "/b"), MS_(M_MOUNT, .p = "/a", .data = "ro,size=1m"),
	     MS_(M_WRITE, .p = "/a/x"), MS_(M_LIST), MS_(M_REMOUNT, .p = "/a", .data = "rw"),
	     MS_(M_WRITE, .p = "/a/x"), MS_(M_LIST), MS_(M_REMOUNT, .p = "/a", .data = "size=2m,ro"),
	     MS_(M_WRITE, .p = "/a/y"), MS_(M_STATFS, .p = "/a"), MS_(M_LIST),
	     MS_(M_REMOUNT, .p = "/a", .a = MS_RDONLY, .data = "rw,ro,rw"), MS_(M_WRITE, .p = "/a/y"),
	     MS_(M_LIST), MS_(M_REMOUNT, .p = "/a", .data = "sync,lazytime,async,nolazytime"),
	     MS_(M_WRITE, .p = "/a/y"), MS_(M_MOUNT, .p = "/b", .data = "dirsync,mode=700"), MS_(M_LIST),
	     MS_(M_REMOUNT, .p = "/b", .data = "ro=1"), MS_(M_MOUNT, .p = "/b", .data = "rw=0"),
	     /* the mount turns read-only under a writer when the fs stays rw */
	     MS_(M_OPENW, .p = "/a/w", .slot = 0), MS_(M_REMOUNT, .p = "/a", .a = MS_RDONLY, .data = "rw"),
	     MS_(M_FREAD, .slot = 0), MS_(M_WRITE, .p = "/a/w2"), MS_(M_CLOSE, .slot = 0), MS_(M_LIST));
}

FX_TEST(mount_move, remount_below_use)
{
	DIFF(MS_(M_MKDIR, .p = "/a"), MS_(M_MOUNT, .p = "/a", .data = "size=64k,nr_inodes=10"),
	     MS_(M_OPENW, .p = "/a/x", .slot = 0), MS_(M_OPENW, .p = "/a/y", .slot = 1),
	     MS_(M_OPENW, .p = "/a/z", .slot = 2), MS_(M_CLOSE, .slot = 0), MS_(M_CLOSE, .slot = 1),
	     MS_(M_CLOSE, .slot = 2), MS_(M_REMOUNT, .p = "/a", .data = "nr_inodes=2"),
	     MS_(M_REMOUNT, .p = "/a", .data = "size=4k"), MS_(M_LIST),
	     MS_(M_REMOUNT, .p = "/a", .data = "size=12k,nr_inodes=4"), MS_(M_LIST),
	     MS_(M_WRITE, .p = "/a/w"));
}
