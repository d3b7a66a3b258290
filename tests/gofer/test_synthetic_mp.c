/* tests/gofer/test_synthetic_mp.c — synthetic mount points of a 9p mount
 * over a read-only gofer (gVisor's gofer syntheticChildren), in the
 * exclusive (fscache) and shared (remote_revalidating) modes: directories
 * (uvfs_make_synthetic_mountpoint) and regular files (uvfs_mknod_at2 with
 * UVFS_MKNOD_SYNTHETIC) made in memory, listed once each with their type
 * after the server's names — also when the host makes the same name
 * later, whose lookup still finds the synthetic one — and never written
 * to the host. Real diods; zero live objects at the end. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture.h"
#include "fsimpl/gofer/gofer.h"

struct t {
	char dir[64];
	struct uvfs *vfs;
	struct uvfs_mntns *ns;
	struct uvfs_vd root;
	struct uvfs_cred cred;
};

static void sh(const char *fmt, const char *arg)
{
	char cmd[512];
	snprintf(cmd, sizeof cmd, fmt, arg, arg, arg);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
}

static void up(struct t *t, bool shared)
{
	if (access("/usr/sbin/diod", X_OK))
		cr_skip_test("diod not installed");
	snprintf(t->dir, sizeof t->dir, "/tmp/uvfs-synth-XXXXXX");
	cr_assert_not_null(mkdtemp(t->dir));
	sh("echo a > %s/a && mkdir %s/d", t->dir);
	uvfs_cred_init_root(&t->cred);
	cr_assert_eq(uvfs_create(&t->vfs), 0);
	cr_assert_eq(uvfs_register_fs_type(t->vfs, &uvfs_gofer_type, 0), 0);
	int fd;
	struct uvfs_gofer_internal gi;
	cr_assert_eq(uvfs_gofer_spawn(t->dir, true, &fd, &gi.proc), 0);
	char data[128];
	snprintf(data, sizeof data, "trans=fd,rfdno=%d,wfdno=%d%s", fd, fd, shared ? ",cache=remote_revalidating" : "");
	cr_assert_eq(uvfs_mntns_new(t->vfs, &t->cred, t->dir, "9p",
				    &(struct uvfs_mount_opts){ .data = data, .internal = &gi, .internal_mount = true },
				    &t->ns),
		     0);
	uvfs_mntns_root(t->ns, &t->root);
}

static void down(struct t *t)
{
	uvfs_vd_put(&t->root);
	uvfs_mntns_put(t->ns);
	fx_destroy_checked(t->vfs);
	siginfo_t si = { 0 };
	cr_assert_neq(waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT), 0, "a diod is left");
	sh("rm -rf %s", t->dir);
}

struct listing {
	char name[16][32];
	unsigned type[16];
	int n;
};

static int collect(void *arg, const char *name, size_t len, uint64_t ino, unsigned dtype, int64_t next)
{
	(void)ino;
	(void)next;
	struct listing *l = arg;
	if (l->n == 16)
		return 1;
	snprintf(l->name[l->n], sizeof l->name[0], "%.*s", (int)len, name);
	l->type[l->n++] = dtype;
	return 0;
}

static void list(struct t *t, const char *path, struct listing *l)
{
	struct uvfs_pathop pop = { .root = t->root, .start = t->root, .path = path };
	struct uvfs_file *f;
	cr_assert_eq(uvfs_open_at(t->vfs, &t->cred, &pop, O_RDONLY | O_DIRECTORY, 0, 0, &f), 0);
	memset(l, 0, sizeof *l);
	cr_assert_eq(uvfs_iterate_dir(f, collect, l), 0);
	uvfs_file_put(f);
}

static void once(const struct listing *l, const char *name, unsigned type)
{
	int c = 0;
	for (int i = 0; i < l->n; i++)
		if (!strcmp(l->name[i], name)) {
			c++;
			cr_assert_eq(l->type[i], type, "%s: d_type %u", name, l->type[i]);
		}
	cr_assert_eq(c, 1, "%s listed %d times", name, c);
}

ParameterizedTestParameters(gofer_synthetic, mount_points) {
	static bool modes[] = { false, true };
	return cr_make_param_array(bool, modes, 2);
}

ParameterizedTest(bool *shared, gofer_synthetic, mount_points, .timeout = 60)
{
	struct t t;
	up(&t, *shared);
	struct uvfs_pathop pop = { .root = t.root, .start = t.root, .path = "/m" };
	cr_assert_eq(uvfs_mkdir_at(t.vfs, &t.cred, &pop, 0755), -EROFS, "the gofer is read-only");
	cr_assert_eq(uvfs_make_synthetic_mountpoint(t.vfs, &t.cred, "/m/n", &t.root), 0);
	pop.path = "/f";
	struct uvfs_create_opts so = { .flags = UVFS_MKNOD_SYNTHETIC };
	cr_assert_eq(uvfs_mknod_at2(t.vfs, &t.cred, &pop, S_IFIFO | 0644, 0, &so), -EINVAL, "files only");
	cr_assert_eq(uvfs_mknod_at2(t.vfs, &t.cred, &pop, S_IFREG | 0644, 0, NULL), -EROFS);
	cr_assert_eq(uvfs_mknod_at2(t.vfs, &t.cred, &pop, S_IFREG | 0644, 0, &so), 0);
	cr_assert_eq(uvfs_mknod_at2(t.vfs, &t.cred, &pop, S_IFREG | 0644, 0, &so), -EEXIST);
	pop.path = "/m/g";
	cr_assert_eq(uvfs_mknod_at2(t.vfs, &t.cred, &pop, S_IFREG | 0600, 0, &so), 0, "below a synthetic directory");
	struct listing l;
	list(&t, "/", &l);
	cr_assert_eq(l.n, 6, "%d entries", l.n); /* . .. a d m f */
	once(&l, "a", DT_REG);
	once(&l, "d", DT_DIR);
	once(&l, "m", DT_DIR);
	once(&l, "f", DT_REG);
	list(&t, "/m", &l);
	cr_assert_eq(l.n, 4);
	once(&l, "n", DT_DIR);
	once(&l, "g", DT_REG);
	/* The synthetic file: empty, takes no data, stays. */
	struct uvfs_file *f;
	pop.path = "/f";
	cr_assert_eq(uvfs_open_at(t.vfs, &t.cred, &pop, O_RDWR, 0, 0, &f), 0);
	char buf[8];
	cr_assert_eq(uvfs_read(f, buf, sizeof buf), 0);
	cr_assert_eq(uvfs_write(f, "x", 1), -EPERM);
	uvfs_file_put(f);
	cr_assert_eq(uvfs_unlink_at(t.vfs, &t.cred, &pop), -EBUSY);
	struct statx st;
	cr_assert_eq(uvfs_stat_at(t.vfs, &t.cred, &pop, STATX_BASIC_STATS, &st), 0);
	cr_assert(S_ISREG(st.stx_mode) && (st.stx_mode & 07777) == 0644, "mode %o", st.stx_mode);
	/* The host makes the same names: each listed once, the synthetic one
	 * found by lookup. */
	sh("mkdir %s/m && echo host > %s/f", t.dir);
	list(&t, "/", &l);
	cr_assert_eq(l.n, 6, "%d entries", l.n);
	once(&l, "m", DT_DIR);
	once(&l, "f", DT_REG);
	cr_assert_eq(uvfs_stat_at(t.vfs, &t.cred, &pop, STATX_BASIC_STATS, &st), 0);
	cr_assert_eq(st.stx_size, 0, "the synthetic file, not the host's");
	pop.path = "/m/n";
	cr_assert_eq(uvfs_stat_at(t.vfs, &t.cred, &pop, STATX_BASIC_STATS, &st), 0);
	down(&t);
}
