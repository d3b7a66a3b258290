/* test_namei.c — path resolution corners. Expected errnos were checked
 * against Linux (tmpfs under /dev/shm, as root and as uid 1000 via setpriv). */
#include "fixture.h"

/* Layout used by most tests:
 *   /d (0755)  /d/e (0755)  /d/f (file "hello")  /priv (0700)  /priv/f
 */
static void tree(void)
{
	fx_must_mkdir("/d", 0755);
	fx_must_mkdir("/d/e", 0755);
	fx_must_write("/d/f", "hello");
	fx_must_mkdir("/priv", 0700);
	fx_must_write("/priv/f", "secret");
}

static int stat_as(const struct uvfs_cred *c, const char *path, unsigned flags, struct statx *st)
{
	struct uvfs_pathop p = fx_pop_at(&fx.root, path, flags);
	memset(st, 0, sizeof *st);
	return uvfs_stat_at(fx.vfs, c, &p, STATX_BASIC_STATS, st);
}

static int lstat_err(const char *path)
{
	struct statx st;
	return fx_lstat(path, &st);
}

static int stat_err(const char *path)
{
	struct statx st;
	return fx_stat(path, &st);
}

static uint64_t root_ino(void) { return fx_ino("/"); }

static void get_vd(const char *path, struct uvfs_vd *out)
{
	struct uvfs_pathop p = fx_popf(path);
	int rc = uvfs_get_dentry_at(fx.vfs, &fx.cred, &p, 0, out);
	cr_assert_eq(rc, 0, "get_dentry_at %s: %s", path, fx_err(rc));
	cr_assert(uvfs_vd_ok(out));
}

static uint64_t ino_at(const struct uvfs_vd *start, const char *path, unsigned flags)
{
	struct uvfs_pathop p = fx_pop_at(start, path, flags);
	struct statx st;
	int rc = uvfs_stat_at(fx.vfs, &fx.cred, &p, STATX_INO, &st);
	cr_assert_eq(rc, 0, "stat %s from start: %s", path, fx_err(rc));
	return st.stx_ino;
}

FX_TEST(namei, dot)
{
	tree();
	cr_assert_eq(fx_ino("."), root_ino());
	cr_assert_eq(fx_ino("/."), root_ino());
	cr_assert_eq(fx_ino("d/."), fx_ino("d"));
	cr_assert_eq(fx_ino("./d/./e/."), fx_ino("d/e"));
	cr_assert_eq(fx_ino("d/./f"), fx_ino("d/f"));
	cr_assert_neq(fx_ino("d"), fx_ino("d/e"));
}

FX_TEST(namei, dotdot_at_namespace_root_stays)
{
	tree();
	uint64_t r = root_ino();
	cr_assert_eq(fx_ino(".."), r);
	cr_assert_eq(fx_ino("/.."), r);
	cr_assert_eq(fx_ino("/../../.."), r);
	cr_assert_eq(fx_ino("/../d/../.."), r);
	cr_assert_eq(fx_ino("/../../d"), fx_ino("/d"));
	cr_assert_eq(fx_ino("../d/e"), fx_ino("/d/e"));
}

FX_TEST(namei, dotdot_inside_fs)
{
	tree();
	cr_assert_eq(fx_ino("d/e/.."), fx_ino("d"));
	cr_assert_eq(fx_ino("d/e/../.."), root_ino());
	cr_assert_eq(fx_ino("d/e/../../d/f"), fx_ino("d/f"));
}

FX_TEST(namei, dotdot_at_mount_root_climbs_into_parent_mount)
{
	tree();
	fx_must_mkdir("/d/e/m", 0755);
	fx_must_write("/d/e/sib", "x");
	FX_ASSERT_OK(fx_mount_tmpfs("/d/e/m", NULL, 0));
	struct statx st_m, st_e;
	FX_ASSERT_OK(fx_lstat("/d/e/m", &st_m));
	FX_ASSERT_OK(fx_lstat("/d/e", &st_e));
	cr_assert(st_m.stx_dev_major != st_e.stx_dev_major || st_m.stx_dev_minor != st_e.stx_dev_minor,
		  "mount root reports the parent's st_dev");
	cr_assert_eq(fx_ino("/d/e/m/.."), st_e.stx_ino);
	cr_assert_eq(fx_ino("/d/e/m/../.."), fx_ino("/d"));
	cr_assert_eq(fx_ino("/d/e/m/../sib"), fx_ino("/d/e/sib"));
	cr_assert_eq(fx_ino("/d/e/m/../m"), st_m.stx_ino);
	/* Starting at the mount root itself. */
	struct uvfs_vd m;
	get_vd("/d/e/m", &m);
	cr_assert_eq(ino_at(&m, "..", 0), st_e.stx_ino);
	cr_assert_eq(ino_at(&m, "../../f", 0), fx_ino("/d/f"));
	uvfs_vd_put(&m);
}

FX_TEST(namei, dotdot_from_nested_mount_roots)
{
	/* A mount on the root of another mount: ".." from the top one climbs
	 * past both to the directory holding the mount point. */
	tree();
	fx_must_mkdir("/d/m", 0755);
	FX_ASSERT_OK(fx_mount_tmpfs("/d/m", NULL, 0));
	FX_ASSERT_OK(fx_mount_tmpfs("/d/m", NULL, 0));
	fx_must_mkdir("/d/m/in", 0755);
	cr_assert_eq(fx_ino("/d/m/in/.."), fx_ino("/d/m"));
	cr_assert_eq(fx_ino("/d/m/.."), fx_ino("/d"));
	cr_assert_eq(fx_ino("/d/m/in/../../f"), fx_ino("/d/f"));
}

FX_TEST(namei, dotdot_stops_at_contextual_root)
{
	/* root = /d (chroot): ".." and absolute paths stay inside it. */
	tree();
	struct uvfs_vd d;
	get_vd("/d", &d);
	struct uvfs_pathop p = { .root = d, .start = d, .path = "/../../e", .flags = 0 };
	struct statx st;
	FX_ASSERT_OK(uvfs_stat_at(fx.vfs, &fx.cred, &p, STATX_INO, &st));
	cr_assert_eq(st.stx_ino, fx_ino("/d/e"));
	p.path = "..";
	FX_ASSERT_OK(uvfs_stat_at(fx.vfs, &fx.cred, &p, STATX_INO, &st));
	cr_assert_eq(st.stx_ino, fx_ino("/d"));
	p.path = "/f";
	FX_ASSERT_OK(uvfs_stat_at(fx.vfs, &fx.cred, &p, STATX_INO, &st));
	cr_assert_eq(st.stx_ino, fx_ino("/d/f"));
	/* An absolute symlink resolves against the contextual root. */
	FX_ASSERT_OK(fx_symlink("/f", "/d/abs"));
	p.path = "abs";
	p.flags = UVFS_PATH_FOLLOW;
	FX_ASSERT_OK(uvfs_stat_at(fx.vfs, &fx.cred, &p, STATX_INO, &st));
	cr_assert_eq(st.stx_ino, fx_ino("/d/f"));
	p.path = "/priv";
	FX_ASSERT_ERR(uvfs_stat_at(fx.vfs, &fx.cred, &p, STATX_INO, &st), -ENOENT);
	uvfs_vd_put(&d);
}

FX_TEST(namei, repeated_slashes)
{
	tree();
	cr_assert_eq(fx_ino("//d///e"), fx_ino("/d/e"));
	cr_assert_eq(fx_ino("d//f"), fx_ino("/d/f"));
	cr_assert_eq(fx_ino("///"), root_ino());
	cr_assert_eq(fx_ino("/"), root_ino());
}

FX_TEST(namei, trailing_slash_on_directory)
{
	tree();
	cr_assert_eq(fx_ino("d/"), fx_ino("d"));
	cr_assert_eq(fx_ino("d//e///"), fx_ino("d/e"));
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("d/e/", O_RDONLY, 0, &f));
	uvfs_file_put(f);
	/* mkdir accepts a trailing slash. */
	FX_ASSERT_OK(fx_mkdir("d/nd/", 0755));
	cr_assert(S_ISDIR(fx_mode("d/nd")));
}

FX_TEST(namei, trailing_slash_on_file_is_enotdir)
{
	tree();
	FX_ASSERT_ERR(lstat_err("d/f/"), -ENOTDIR);
	FX_ASSERT_ERR(lstat_err("d/f//"), -ENOTDIR);
	FX_ASSERT_ERR(lstat_err("d/f/."), -ENOTDIR);
	struct uvfs_file *f = NULL;
	FX_ASSERT_ERR(fx_open("d/f/", O_RDONLY, 0, &f), -ENOTDIR);
	cr_assert_null(f);
	/* O_CREAT of a new name with a trailing slash: EISDIR (Linux). */
	FX_ASSERT_ERR(fx_open("d/new/", O_CREAT | O_WRONLY, 0644, &f), -EISDIR);
	FX_ASSERT_ERR(lstat_err("d/new"), -ENOENT);
}

FX_TEST(namei, trailing_slash_follows_symlink_to_dir)
{
	tree();
	FX_ASSERT_OK(fx_symlink("d", "/ld"));
	FX_ASSERT_OK(fx_symlink("d/f", "/lf"));
	struct statx st;
	FX_ASSERT_OK(fx_lstat("ld", &st));
	cr_assert(S_ISLNK(st.stx_mode));
	FX_ASSERT_OK(fx_lstat("ld/", &st));
	cr_assert(S_ISDIR(st.stx_mode), "ld/ must resolve to the directory, got mode %o", st.stx_mode);
	cr_assert_eq(st.stx_ino, fx_ino("d"));
	FX_ASSERT_ERR(lstat_err("lf/"), -ENOTDIR);
}

FX_TEST(namei, empty_path)
{
	tree();
	FX_ASSERT_ERR(lstat_err(""), -ENOENT);
	FX_ASSERT_ERR(stat_err(""), -ENOENT);
	struct uvfs_vd d;
	get_vd("/d", &d);
	struct statx st;
	struct uvfs_pathop p = fx_pop_at(&d, "", 0);
	FX_ASSERT_ERR(uvfs_stat_at(fx.vfs, &fx.cred, &p, STATX_INO, &st), -ENOENT);
	p.flags = UVFS_PATH_EMPTY;
	FX_ASSERT_OK(uvfs_stat_at(fx.vfs, &fx.cred, &p, STATX_INO, &st));
	cr_assert_eq(st.stx_ino, fx_ino("/d"));
	/* Also for open. */
	struct uvfs_file *f;
	FX_ASSERT_OK(uvfs_open_at(fx.vfs, &fx.cred, &p, O_RDONLY | O_DIRECTORY, 0, 0, &f));
	struct statx fst;
	FX_ASSERT_OK(uvfs_file_stat(f, STATX_INO, &fst));
	cr_assert_eq(fst.stx_ino, st.stx_ino);
	uvfs_file_put(f);
	uvfs_vd_put(&d);
}

FX_TEST(namei, name_max_255_works)
{
	tree();
	char path[300];
	path[0] = '/';
	memset(path + 1, 'a', 255);
	path[256] = 0;
	fx_must_write(path, "long");
	char buf[16];
	cr_assert_eq(fx_read_file(path, buf, sizeof buf), 4);
	cr_assert_str_eq(buf, "long");
	/* As a directory in the middle of a path too. */
	memset(path + 1, 'b', 255);
	fx_must_mkdir(path, 0755);
	strcat(path, "/x");
	fx_must_write(path, "");
	cr_assert(S_ISREG(fx_mode(path)));
}

FX_TEST(namei, name_max_256_enametoolong)
{
	tree();
	char path[300];
	path[0] = '/';
	memset(path + 1, 'a', 256);
	path[257] = 0;
	FX_ASSERT_ERR(lstat_err(path), -ENAMETOOLONG);
	struct uvfs_file *f = NULL;
	FX_ASSERT_ERR(fx_open(path, O_CREAT | O_WRONLY, 0644, &f), -ENAMETOOLONG);
	FX_ASSERT_ERR(fx_mkdir(path, 0755), -ENAMETOOLONG);
	FX_ASSERT_ERR(fx_symlink("x", path), -ENAMETOOLONG);
	/* A too-long component in the middle. */
	strcat(path, "/x");
	FX_ASSERT_ERR(lstat_err(path), -ENAMETOOLONG);
}

FX_TEST(namei, symlink_relative)
{
	tree();
	FX_ASSERT_OK(fx_symlink("d/f", "/l"));
	FX_ASSERT_OK(fx_symlink("f", "/d/l2")); /* relative to the link's directory */
	FX_ASSERT_OK(fx_symlink("../f", "/d/e/l3"));
	FX_ASSERT_OK(fx_symlink("../../d/./f", "/d/e/l5"));
	FX_ASSERT_OK(fx_symlink("e/..", "/d/l4")); /* -> /d */
	uint64_t f = fx_ino("/d/f");
	struct statx st;
	FX_ASSERT_OK(fx_stat("/l", &st));
	cr_assert_eq(st.stx_ino, f);
	cr_assert(S_ISREG(st.stx_mode));
	FX_ASSERT_OK(fx_stat("/d/l2", &st));
	cr_assert_eq(st.stx_ino, f);
	FX_ASSERT_OK(fx_stat("/d/e/l3", &st));
	cr_assert_eq(st.stx_ino, f);
	FX_ASSERT_OK(fx_stat("/d/e/l5", &st));
	cr_assert_eq(st.stx_ino, f);
	FX_ASSERT_OK(fx_stat("/d/l4", &st));
	cr_assert_eq(st.stx_ino, fx_ino("/d"));
	char buf[16];
	cr_assert_eq(fx_read_file("/d/e/l3", buf, sizeof buf), 5);
	cr_assert_str_eq(buf, "hello");
}

FX_TEST(namei, symlink_absolute)
{
	tree();
	FX_ASSERT_OK(fx_symlink("/d/f", "/d/e/abs"));
	FX_ASSERT_OK(fx_symlink("/d", "/d/e/absdir"));
	struct statx st;
	FX_ASSERT_OK(fx_stat("/d/e/abs", &st));
	cr_assert_eq(st.stx_ino, fx_ino("/d/f"));
	cr_assert_eq(fx_ino("/d/e/absdir/e"), fx_ino("/d/e"));
	/* From a relative start, an absolute target still starts at root. */
	struct uvfs_vd e;
	get_vd("/d/e", &e);
	cr_assert_eq(ino_at(&e, "abs", UVFS_PATH_FOLLOW), fx_ino("/d/f"));
	cr_assert_eq(ino_at(&e, "absdir/f", 0), fx_ino("/d/f"));
	uvfs_vd_put(&e);
	/* An absolute link inside a mount leads back to the namespace root. */
	fx_must_mkdir("/m", 0755);
	FX_ASSERT_OK(fx_mount_tmpfs("/m", NULL, 0));
	FX_ASSERT_OK(fx_symlink("/d/f", "/m/toroot"));
	FX_ASSERT_OK(fx_stat("/m/toroot", &st));
	cr_assert_eq(st.stx_ino, fx_ino("/d/f"));
}

FX_TEST(namei, symlink_final_follow_flag)
{
	tree();
	FX_ASSERT_OK(fx_symlink("d/f", "/l"));
	struct statx st;
	FX_ASSERT_OK(fx_lstat("/l", &st));
	cr_assert(S_ISLNK(st.stx_mode), "no-follow stat must see the link, mode %o", st.stx_mode);
	cr_assert_eq(st.stx_size, 3, "symlink size is its target length");
	FX_ASSERT_OK(fx_stat("/l", &st));
	cr_assert(S_ISREG(st.stx_mode));
	cr_assert_eq(st.stx_size, 5);
}

FX_TEST(namei, symlink_in_middle_always_followed)
{
	tree();
	FX_ASSERT_OK(fx_symlink("d", "/ld"));
	cr_assert_eq(fx_ino("/ld/f"), fx_ino("/d/f")); /* no UVFS_PATH_FOLLOW */
	cr_assert_eq(fx_ino("/ld/e"), fx_ino("/d/e"));
	/* ".." after a symlink is the target's parent (physical walk). */
	FX_ASSERT_OK(fx_symlink("d/e", "/le"));
	cr_assert_eq(fx_ino("/le/.."), fx_ino("/d"));
}

FX_TEST(namei, symlink_dangling)
{
	tree();
	FX_ASSERT_OK(fx_symlink("nowhere", "/dl"));
	FX_ASSERT_ERR(stat_err("/dl"), -ENOENT);
	struct statx st;
	FX_ASSERT_OK(fx_lstat("/dl", &st));
	cr_assert(S_ISLNK(st.stx_mode));
	FX_ASSERT_ERR(lstat_err("/dl/x"), -ENOENT);
}

static void make_chain(int links, const char *final_target)
{
	/* c1 -> c2 -> ... -> c<links> -> final_target */
	char name[32], target[32];
	for (int i = 1; i <= links; i++) {
		snprintf(name, sizeof name, "/c%d", i);
		if (i == links)
			snprintf(target, sizeof target, "%s", final_target);
		else
			snprintf(target, sizeof target, "c%d", i + 1);
		int rc = fx_symlink(target, name);
		cr_assert_eq(rc, 0, "symlink %s: %s", name, fx_err(rc));
	}
}

FX_TEST(namei, symlink_chain_of_40_works)
{
	tree();
	make_chain(41, "d/f");
	/* c2 .. c41: 40 links. */
	struct statx st;
	FX_ASSERT_OK(fx_stat("/c2", &st));
	cr_assert_eq(st.stx_ino, fx_ino("/d/f"));
	char buf[16];
	cr_assert_eq(fx_read_file("/c2", buf, sizeof buf), 5);
	cr_assert_str_eq(buf, "hello");
}

FX_TEST(namei, symlink_chain_of_41_eloop)
{
	tree();
	make_chain(41, "d/f");
	FX_ASSERT_ERR(stat_err("/c1"), -ELOOP);
	struct uvfs_file *f = NULL;
	FX_ASSERT_ERR(fx_open("/c1", O_RDONLY, 0, &f), -ELOOP);
}

FX_TEST(namei, symlink_count_spans_whole_path)
{
	tree();
	/* c1..c40 -> d (40 links), then "/dl" inside d adds a 41st. */
	make_chain(40, "d");
	FX_ASSERT_OK(fx_symlink("e", "/d/le"));
	cr_assert_eq(fx_ino("/c1/e"), fx_ino("/d/e")); /* 40 links */
	FX_ASSERT_ERR(lstat_err("/c1/le/"), -ELOOP); /* 41 */
}

FX_TEST(namei, symlink_loop_eloop)
{
	tree();
	FX_ASSERT_OK(fx_symlink("loopb", "/loopa"));
	FX_ASSERT_OK(fx_symlink("loopa", "/loopb"));
	FX_ASSERT_OK(fx_symlink("self", "/self"));
	FX_ASSERT_ERR(stat_err("/loopa"), -ELOOP);
	FX_ASSERT_ERR(stat_err("/self"), -ELOOP);
	FX_ASSERT_ERR(lstat_err("/loopa/x"), -ELOOP);
	struct statx st;
	FX_ASSERT_OK(fx_lstat("/loopa", &st));
	cr_assert(S_ISLNK(st.stx_mode));
}

FX_TEST(namei, o_nofollow_on_symlink_eloop)
{
	tree();
	FX_ASSERT_OK(fx_symlink("d/f", "/l"));
	struct uvfs_file *f = NULL;
	FX_ASSERT_ERR(fx_open("/l", O_RDONLY | O_NOFOLLOW, 0, &f), -ELOOP);
	cr_assert_null(f);
	/* O_NOFOLLOW only concerns the final component. */
	FX_ASSERT_OK(fx_symlink("d", "/ld"));
	FX_ASSERT_OK(fx_open("/ld/f", O_RDONLY | O_NOFOLLOW, 0, &f));
	uvfs_file_put(f);
}

FX_TEST(namei, o_creat_excl_existing_eexist)
{
	tree();
	struct uvfs_file *f = NULL;
	FX_ASSERT_ERR(fx_open("/d/f", O_CREAT | O_EXCL | O_WRONLY, 0644, &f), -EEXIST);
	FX_ASSERT_ERR(fx_open("/d", O_CREAT | O_EXCL | O_RDONLY, 0644, &f), -EEXIST);
	/* A symlink, even dangling, is never followed with O_EXCL. */
	FX_ASSERT_OK(fx_symlink("d/nothere", "/dl"));
	FX_ASSERT_ERR(fx_open("/dl", O_CREAT | O_EXCL | O_WRONLY, 0644, &f), -EEXIST);
	FX_ASSERT_ERR(lstat_err("/d/nothere"), -ENOENT);
	/* And the new-name case works. */
	FX_ASSERT_OK(fx_open("/d/newx", O_CREAT | O_EXCL | O_WRONLY, 0600, &f));
	uvfs_file_put(f);
	cr_assert_eq(fx_mode("/d/newx"), S_IFREG | 0600);
}

FX_TEST(namei, o_creat_through_dangling_symlink_creates_target)
{
	tree();
	FX_ASSERT_OK(fx_symlink("d/created", "/dl"));
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open("/dl", O_CREAT | O_WRONLY, 0644, &f));
	uvfs_file_put(f);
	cr_assert(S_ISREG(fx_mode("/d/created")));
	cr_assert(S_ISLNK(fx_mode("/dl")));
}

FX_TEST(namei, o_directory_on_file_enotdir)
{
	tree();
	struct uvfs_file *f = NULL;
	FX_ASSERT_ERR(fx_open("/d/f", O_RDONLY | O_DIRECTORY, 0, &f), -ENOTDIR);
	FX_ASSERT_OK(fx_symlink("d/f", "/lf"));
	FX_ASSERT_ERR(fx_open("/lf", O_RDONLY | O_DIRECTORY, 0, &f), -ENOTDIR);
	/* Through a symlink to a directory it works. */
	FX_ASSERT_OK(fx_symlink("d", "/ld"));
	FX_ASSERT_OK(fx_open("/ld", O_RDONLY | O_DIRECTORY, 0, &f));
	uvfs_file_put(f);
}

FX_TEST(namei, search_permission_eacces_for_user)
{
	tree();
	struct statx st;
	FX_ASSERT_ERR(stat_as(&fx.user, "/priv/f", 0, &st), -EACCES);
	FX_ASSERT_ERR(stat_as(&fx.user, "/priv/.", 0, &st), -EACCES);
	FX_ASSERT_ERR(stat_as(&fx.user, "/priv/nonexistent", 0, &st), -EACCES);
	/* The directory itself can be stat'ed (needs search on / only). */
	FX_ASSERT_OK(stat_as(&fx.user, "/priv", 0, &st));
	cr_assert_eq(st.stx_mode, S_IFDIR | 0700);
	/* Root passes. */
	FX_ASSERT_OK(stat_as(&fx.cred, "/priv/f", 0, &st));
	/* A user with no caps passes a 0755 directory. */
	FX_ASSERT_OK(stat_as(&fx.user, "/d/f", 0, &st));
	/* Search denied on an intermediate dir reached through a symlink too. */
	FX_ASSERT_OK(fx_symlink("priv", "/lp"));
	FX_ASSERT_ERR(stat_as(&fx.user, "/lp/f", 0, &st), -EACCES);
}

FX_TEST(namei, search_permission_with_cap_dac_override)
{
	tree();
	struct uvfs_cred c = fx_user_with_cap(CAP_DAC_OVERRIDE);
	struct statx st;
	FX_ASSERT_OK(stat_as(&c, "/priv/f", 0, &st));
	cr_assert_eq(st.stx_ino, fx_ino("/priv/f"));
}

FX_TEST(namei, search_permission_with_cap_dac_read_search)
{
	tree();
	struct uvfs_cred c = fx_user_with_cap(CAP_DAC_READ_SEARCH);
	struct statx st;
	FX_ASSERT_OK(stat_as(&c, "/priv/f", 0, &st));
	cr_assert_eq(st.stx_ino, fx_ino("/priv/f"));
	/* Other caps do not help. */
	struct uvfs_cred c2 = fx_user_with_cap(CAP_CHOWN);
	FX_ASSERT_ERR(stat_as(&c2, "/priv/f", 0, &st), -EACCES);
}

FX_TEST(namei, search_permission_owner_and_group)
{
	tree();
	/* Owned by 1000 with 0700: the owner searches, others don't. */
	fx_must_mkdir("/own", 0700);
	fx_must_write("/own/f", "x");
	FX_ASSERT_OK(fx_chown("/own", 1000, 1000));
	struct statx st;
	FX_ASSERT_OK(stat_as(&fx.user, "/own/f", 0, &st));
	FX_ASSERT_ERR(stat_as(&fx.user2, "/own/f", 0, &st), -EACCES);
	/* 0710 group 1000: a member of group 1000 passes. */
	FX_ASSERT_OK(fx_chmod("/own", 0710));
	struct uvfs_cred member = fx.user2;
	uint32_t g1000[] = { 1000 };
	uvfs_cred_set_groups(&member, g1000, 1);
	FX_ASSERT_OK(stat_as(&member, "/own/f", 0, &st));
	FX_ASSERT_ERR(stat_as(&fx.user2, "/own/f", 0, &st), -EACCES);
}

FX_TEST(namei, component_is_file_enotdir)
{
	tree();
	FX_ASSERT_ERR(lstat_err("/d/f/x"), -ENOTDIR);
	FX_ASSERT_ERR(lstat_err("/d/f/x/y"), -ENOTDIR);
	FX_ASSERT_ERR(lstat_err("/d/f/.."), -ENOTDIR);
	FX_ASSERT_ERR(fx_mkdir("/d/f/x", 0755), -ENOTDIR);
	struct uvfs_file *f = NULL;
	FX_ASSERT_ERR(fx_open("/d/f/x", O_CREAT | O_WRONLY, 0644, &f), -ENOTDIR);
}

FX_TEST(namei, missing_component_enoent)
{
	tree();
	FX_ASSERT_ERR(lstat_err("/nope"), -ENOENT);
	FX_ASSERT_ERR(lstat_err("/nope/x"), -ENOENT);
	FX_ASSERT_ERR(lstat_err("/d/nope/.."), -ENOENT);
	FX_ASSERT_ERR(fx_mkdir("/nope/x", 0755), -ENOENT);
	/* A negative lookup must not turn positive by itself. */
	FX_ASSERT_ERR(lstat_err("/nope"), -ENOENT);
	fx_must_write("/nope", "now");
	cr_assert(S_ISREG(fx_mode("/nope")));
}

FX_TEST(namei, relative_paths_from_non_root_start)
{
	tree();
	struct uvfs_vd d;
	get_vd("/d", &d);
	cr_assert_eq(ino_at(&d, "e", 0), fx_ino("/d/e"));
	cr_assert_eq(ino_at(&d, "./f", 0), fx_ino("/d/f"));
	cr_assert_eq(ino_at(&d, "../priv", 0), fx_ino("/priv"));
	cr_assert_eq(ino_at(&d, ".", 0), fx_ino("/d"));
	/* Absolute paths ignore start. */
	cr_assert_eq(ino_at(&d, "/d/e", 0), fx_ino("/d/e"));
	/* Create relative to start. */
	struct uvfs_pathop p = fx_pop_at(&d, "e/new", 0);
	FX_ASSERT_OK(uvfs_mkdir_at(fx.vfs, &fx.cred, &p, 0755));
	cr_assert(S_ISDIR(fx_mode("/d/e/new")));
	p.path = "f";
	struct statx st;
	FX_ASSERT_OK(uvfs_stat_at(fx.vfs, &fx.cred, &p, STATX_SIZE, &st));
	cr_assert_eq(st.stx_size, 5);
	uvfs_vd_put(&d);
}

FX_TEST(namei, get_dentry_at_searchable)
{
	tree();
	struct uvfs_vd vd = { 0 };
	struct uvfs_pathop p = fx_pop("/d/f");
	FX_ASSERT_ERR(uvfs_get_dentry_at(fx.vfs, &fx.cred, &p, UVFS_GET_SEARCHABLE, &vd), -ENOTDIR);
	cr_assert(!uvfs_vd_ok(&vd));
	p = fx_pop("/priv");
	FX_ASSERT_ERR(uvfs_get_dentry_at(fx.vfs, &fx.user, &p, UVFS_GET_SEARCHABLE, &vd), -EACCES);
	FX_ASSERT_OK(uvfs_get_dentry_at(fx.vfs, &fx.user, &p, 0, &vd));
	uvfs_vd_put(&vd);
	p = fx_pop("/d");
	FX_ASSERT_OK(uvfs_get_dentry_at(fx.vfs, &fx.user, &p, UVFS_GET_SEARCHABLE, &vd));
	cr_assert_eq(vd.mount, fx.root.mount);
	uvfs_vd_put(&vd);
	cr_assert_null(vd.dentry);
}

FX_TEST(namei, get_dentry_at_same_dentry_twice)
{
	tree();
	struct uvfs_vd a, b;
	get_vd("/d/e", &a);
	get_vd("/d/./e/../e", &b);
	cr_assert_eq(a.dentry, b.dentry);
	cr_assert_eq(a.mount, b.mount);
	uvfs_vd_put(&a);
	uvfs_vd_put(&b);
}

FX_TEST(namei, symlink_target_with_trailing_slash)
{
	tree();
	FX_ASSERT_OK(fx_symlink("d/f/", "/lslash"));
	FX_ASSERT_OK(fx_symlink("d/e/", "/ldslash"));
	FX_ASSERT_ERR(stat_err("/lslash"), -ENOTDIR);
	struct statx st;
	FX_ASSERT_OK(fx_stat("/ldslash", &st));
	cr_assert_eq(st.stx_ino, fx_ino("/d/e"));
}

FX_TEST(namei, search_permission_on_the_start_directory)
{
	tree();
	struct uvfs_vd p;
	get_vd("/priv", &p);
	struct uvfs_pathop op = { .root = fx.root, .start = p, .path = "f" };
	struct statx st;
	FX_ASSERT_ERR(uvfs_stat_at(fx.vfs, &fx.user, &op, STATX_INO, &st), -EACCES);
	op.path = ".";
	FX_ASSERT_ERR(uvfs_stat_at(fx.vfs, &fx.user, &op, STATX_INO, &st), -EACCES);
	/* AT_EMPTY_PATH needs no search permission on the start itself. */
	op.path = "";
	op.flags = UVFS_PATH_EMPTY;
	FX_ASSERT_OK(uvfs_stat_at(fx.vfs, &fx.user, &op, STATX_INO, &st));
	cr_assert_eq(st.stx_ino, fx_ino("/priv"));
	uvfs_vd_put(&p);
}

FX_TEST(namei, empty_path_on_a_file_start)
{
	tree();
	struct uvfs_vd f;
	get_vd("/d/f", &f);
	struct uvfs_pathop op = { .root = fx.root, .start = f, .path = "", .flags = UVFS_PATH_EMPTY };
	struct statx st;
	FX_ASSERT_OK(uvfs_stat_at(fx.vfs, &fx.cred, &op, STATX_SIZE | STATX_INO, &st));
	cr_assert_eq(st.stx_size, 5);
	/* A relative path below a file start: ENOTDIR. */
	op.path = "x";
	op.flags = 0;
	FX_ASSERT_ERR(uvfs_stat_at(fx.vfs, &fx.cred, &op, STATX_INO, &st), -ENOTDIR);
	uvfs_vd_put(&f);
}

FX_TEST(namei, dotdot_through_symlink_in_chroot_stays)
{
	tree();
	FX_ASSERT_OK(fx_symlink("../../../..", "/d/e/up"));
	struct uvfs_vd d;
	get_vd("/d", &d);
	struct uvfs_pathop p = { .root = d, .start = d, .path = "e/up/e", .flags = 0 };
	struct statx st;
	FX_ASSERT_OK(uvfs_stat_at(fx.vfs, &fx.cred, &p, STATX_INO, &st));
	cr_assert_eq(st.stx_ino, fx_ino("/d/e"), "'..' chain escaped the contextual root");
	uvfs_vd_put(&d);
}

/* O_CREAT on a final dangling symlink, each case as the host's tmpfs
 * answers it (checked with open(2) on tmpfs): followed and the target made
 * (through a chain, and an absolute link too); O_EXCL → EEXIST and
 * O_NOFOLLOW → ELOOP with nothing made; a target in a missing directory →
 * ENOENT; a target with a trailing slash → EISDIR. */
FX_TEST(namei, o_creat_dangling_symlink_host_cases)
{
	tree();
	struct uvfs_file *f = NULL;
	FX_ASSERT_OK(fx_symlink("t3", "/d/dl3"));
	FX_ASSERT_ERR(fx_open("/d/dl3", O_CREAT | O_NOFOLLOW | O_WRONLY, 0644, &f), -ELOOP);
	cr_assert_null(f);
	FX_ASSERT_ERR(lstat_err("/d/t3"), -ENOENT);
	FX_ASSERT_OK(fx_symlink("nodir/t4", "/d/dl4"));
	FX_ASSERT_ERR(fx_open("/d/dl4", O_CREAT | O_WRONLY, 0644, &f), -ENOENT);
	FX_ASSERT_OK(fx_symlink("dl5b", "/d/dl5"));
	FX_ASSERT_OK(fx_symlink("t5", "/d/dl5b"));
	FX_ASSERT_OK(fx_open("/d/dl5", O_CREAT | O_WRONLY, 0640, &f));
	uvfs_file_put(f);
	cr_assert_eq(fx_mode("/d/t5"), S_IFREG | 0640);
	FX_ASSERT_OK(fx_symlink("t6/", "/d/dl6"));
	FX_ASSERT_ERR(fx_open("/d/dl6", O_CREAT | O_WRONLY, 0644, &f), -EISDIR);
	FX_ASSERT_ERR(lstat_err("/d/t6"), -ENOENT);
	FX_ASSERT_OK(fx_symlink("/d/abs7", "/d/dl7"));
	FX_ASSERT_OK(fx_open("/d/dl7", O_CREAT | O_WRONLY, 0644, &f));
	uvfs_file_put(f);
	cr_assert(S_ISREG(fx_mode("/d/abs7")));
	/* Now that the target exists, O_EXCL on the link is still EEXIST and
	 * a plain O_CREAT opens the target. */
	FX_ASSERT_ERR(fx_open("/d/dl7", O_CREAT | O_EXCL | O_WRONLY, 0644, &f), -EEXIST);
	FX_ASSERT_OK(fx_open("/d/dl7", O_CREAT | O_WRONLY, 0644, &f));
	uvfs_file_put(f);
}
