/* test_perm.c — permission checks and credentials. Expected results were
 * checked against Linux as uid 1000 (setpriv --reuid 1000 --regid 1000
 * --clear-groups, with --ambient-caps for the capability cases). */
#include "fixture.h"

static int access_as(const struct uvfs_cred *c, const char *path, int mode)
{
	struct uvfs_pathop p = fx_popf(path);
	return uvfs_access_at(fx.vfs, c, &p, mode);
}

static int open_as(const struct uvfs_cred *c, const char *path, int oflags)
{
	struct uvfs_file *f = NULL;
	int rc = fx_open_as(c, path, oflags, 0644, &f);
	if (rc == 0) {
		cr_assert_not_null(f);
		uvfs_file_put(f);
	} else {
		cr_assert_null(f, "failed open must not return a file");
	}
	return rc;
}

static int exec_open_as(const struct uvfs_cred *c, const char *path)
{
	struct uvfs_pathop p = fx_popf(path);
	struct uvfs_file *f = NULL;
	int rc = uvfs_open_at(fx.vfs, c, &p, O_RDONLY, 0, UVFS_OPEN_EXEC, &f);
	if (rc == 0)
		uvfs_file_put(f);
	return rc;
}

Test(cred, init_root_and_user, .timeout = 10)
{
	struct uvfs_cred r, u;
	memset(&r, 0x5a, sizeof r);
	memset(&u, 0x5a, sizeof u);
	uvfs_cred_init_root(&r);
	uvfs_cred_init_user(&u, 1000, 2000);
	cr_assert_eq(r.uid, 0);
	cr_assert_eq(r.fsuid, 0);
	cr_assert_eq(r.fsgid, 0);
	cr_assert(uvfs_cred_has_cap(&r, CAP_DAC_OVERRIDE));
	cr_assert(uvfs_cred_has_cap(&r, CAP_SYS_ADMIN));
	cr_assert_eq(u.uid, 1000);
	cr_assert_eq(u.euid, 1000);
	cr_assert_eq(u.fsuid, 1000);
	cr_assert_eq(u.gid, 2000);
	cr_assert_eq(u.egid, 2000);
	cr_assert_eq(u.fsgid, 2000);
	cr_assert_eq(u.ngroups, 0);
	cr_assert_eq(u.caps, 0);
	cr_assert_not(uvfs_cred_has_cap(&u, CAP_DAC_OVERRIDE));
	u.caps |= UVFS_CAP(CAP_FOWNER);
	cr_assert(uvfs_cred_has_cap(&u, CAP_FOWNER));
	cr_assert_not(uvfs_cred_has_cap(&u, CAP_CHOWN));
	cr_assert(uvfs_cred_in_group(&u, 2000), "fsgid counts as a group");
	cr_assert_not(uvfs_cred_in_group(&u, 3000));
	uint32_t two[] = { 3000, 5 };
	uvfs_cred_set_groups(&u, two, 2);
	cr_assert_eq(u.ngroups, 2);
	cr_assert(uvfs_cred_in_group(&u, 3000));
	cr_assert(uvfs_cred_in_group(&u, 5));
	cr_assert_not(uvfs_cred_in_group(&u, 6));
}

/* Linux allows 65,536 supplementary groups: every one of them counts, in
 * whatever order the caller lists them (issue 9 item 5; issue 17). */
Test(cred, unbounded_groups, .timeout = 10)
{
	enum { N = 65536 };
	uint32_t *g = malloc(N * sizeof(*g));
	cr_assert_not_null(g);
	for (uint32_t i = 0; i < N; i++)
		g[i] = 100000 + (i * 7919u) % N; /* a permutation: unsorted */
	struct uvfs_cred u;
	uvfs_cred_init_user(&u, 1000, 1000);
	uvfs_cred_set_groups(&u, g, N);
	cr_assert_eq(u.ngroups, N);
	for (uint32_t i = 0; i < N; i += 97)
		cr_assert(uvfs_cred_in_group(&u, 100000 + i), "group %u", 100000 + i);
	cr_assert(uvfs_cred_in_group(&u, 100000));
	cr_assert(uvfs_cred_in_group(&u, 100000 + N - 1));
	cr_assert(uvfs_cred_in_group(&u, 1000), "fsgid counts as a group");
	cr_assert_not(uvfs_cred_in_group(&u, 99999));
	cr_assert_not(uvfs_cred_in_group(&u, 100000 + N));
	cr_assert_not(uvfs_cred_in_group(&u, 0));
	/* No groups, or a NULL list, is simply no membership. */
	uvfs_cred_set_groups(&u, NULL, 0);
	cr_assert_not(uvfs_cred_in_group(&u, 100000));
	u.ngroups = 5; /* bad input: a count without a list */
	cr_assert_not(uvfs_cred_in_group(&u, 100000));
	free(g);
}

/* A group list learned on first use: loaded once, only when membership is
 * asked beyond fsgid, and a failed load is no groups (fail closed). */
struct counting_src {
	struct uvfs_groups_src src;
	int calls, rc;
};
static int counting_load(struct uvfs_groups_src *s, const uint32_t **groups, uint32_t *n)
{
	static const uint32_t g[] = { 7, 40, 41, 9000 };
	struct counting_src *cs = (struct counting_src *)s;
	cs->calls++;
	*groups = g;
	*n = 4;
	return cs->rc;
}

Test(cred, lazy_groups, .timeout = 10)
{
	struct counting_src cs = { .src = { .load = counting_load } };
	struct uvfs_cred u;
	uvfs_cred_init_user(&u, 1000, 1000);
	u.groups_src = &cs.src;
	cr_assert(uvfs_cred_in_group(&u, 1000));
	cr_assert_eq(cs.calls, 0, "fsgid needs no list");
	cr_assert(uvfs_cred_in_group(&u, 41));
	cr_assert(uvfs_cred_in_group(&u, 9000));
	cr_assert_not(uvfs_cred_in_group(&u, 42));
	cr_assert_eq(cs.calls, 1, "loaded once");
	struct counting_src bad = { .src = { .load = counting_load }, .rc = -EIO };
	u.groups_src = &bad.src;
	cr_assert_not(uvfs_cred_in_group(&u, 41), "a failed load is no groups");
	cr_assert_not(uvfs_cred_in_group(&u, 7));
	cr_assert_eq(bad.calls, 1);
}

/* Where group and other bits agree, membership cannot change the answer:
 * the list is not loaded (every path walk through 0755 root directories). */
FX_TEST(perm, group_list_loaded_only_when_it_matters)
{
	struct counting_src cs = { .src = { .load = counting_load } };
	struct uvfs_cred u = fx.user;
	u.groups_src = &cs.src;
	fx_must_mkdir("/d", 0755);
	fx_must_write("/d/f", "x");
	FX_ASSERT_OK(fx_chmod("/d/f", 0644));
	FX_ASSERT_OK(open_as(&u, "/d/f", O_RDONLY));
	cr_assert_eq(cs.calls, 0);
	FX_ASSERT_OK(fx_chown("/d/f", 0, 41));
	FX_ASSERT_OK(fx_chmod("/d/f", 0640));
	FX_ASSERT_OK(open_as(&u, "/d/f", O_RDONLY)); /* group 41 from the list */
	cr_assert_eq(cs.calls, 1);
}

/* The 40th and 41st groups decide access like the first (a 41-group user). */
FX_TEST(perm, forty_first_group_counts)
{
	uint32_t g[41];
	for (uint32_t i = 0; i < 41; i++)
		g[i] = 5001 + i;
	struct uvfs_cred u = fx.user;
	uvfs_cred_set_groups(&u, g, 41);
	fx_must_write("/g40", "x");
	FX_ASSERT_OK(fx_chown("/g40", 0, 5040));
	FX_ASSERT_OK(fx_chmod("/g40", 0640));
	fx_must_write("/g41", "x");
	FX_ASSERT_OK(fx_chown("/g41", 0, 5041));
	FX_ASSERT_OK(fx_chmod("/g41", 0604));
	FX_ASSERT_OK(open_as(&u, "/g40", O_RDONLY));
	FX_ASSERT_ERR(open_as(&u, "/g41", O_RDONLY), -EACCES); /* group class: --- */
	FX_ASSERT_OK(open_as(&fx.user, "/g41", O_RDONLY)); /* other class: r-- */
}

FX_TEST(perm, access_owner_group_other_bits)
{
	fx_must_write("/f", "x");
	FX_ASSERT_OK(fx_chmod("/f", 0640));
	FX_ASSERT_OK(fx_chown("/f", 1000, 1000));
	/* owner: rw- */
	FX_ASSERT_OK(access_as(&fx.user, "/f", R_OK | W_OK));
	FX_ASSERT_ERR(access_as(&fx.user, "/f", X_OK), -EACCES);
	FX_ASSERT_OK(access_as(&fx.user, "/f", F_OK));
	/* other: --- */
	FX_ASSERT_ERR(access_as(&fx.user2, "/f", R_OK), -EACCES);
	FX_ASSERT_OK(access_as(&fx.user2, "/f", F_OK));
	/* group member: r-- */
	struct uvfs_cred member = fx.user2;
	uint32_t g1000[] = { 1000 };
	uvfs_cred_set_groups(&member, g1000, 1);
	FX_ASSERT_OK(access_as(&member, "/f", R_OK));
	FX_ASSERT_ERR(access_as(&member, "/f", W_OK), -EACCES);
}

FX_TEST(perm, owner_bits_take_precedence)
{
	/* 0077 owned by the caller: the owner class applies even though
	 * group/other would allow (Linux semantics). */
	fx_must_write("/f", "x");
	FX_ASSERT_OK(fx_chown("/f", 1000, 1000));
	FX_ASSERT_OK(fx_chmod("/f", 0077));
	FX_ASSERT_ERR(open_as(&fx.user, "/f", O_RDONLY), -EACCES);
	FX_ASSERT_OK(open_as(&fx.user2, "/f", O_RDWR));
}

FX_TEST(perm, open_needs_read_write_permission)
{
	fx_must_write("/rootfile", "data"); /* 0644 */
	FX_ASSERT_OK(open_as(&fx.user, "/rootfile", O_RDONLY));
	FX_ASSERT_ERR(open_as(&fx.user, "/rootfile", O_WRONLY), -EACCES);
	FX_ASSERT_ERR(open_as(&fx.user, "/rootfile", O_RDWR), -EACCES);
	FX_ASSERT_ERR(open_as(&fx.user, "/rootfile", O_RDONLY | O_TRUNC), -EACCES);
	/* The failed O_TRUNC did not truncate. */
	char buf[8];
	cr_assert_eq(fx_read_file("/rootfile", buf, sizeof buf), 4);
	FX_ASSERT_OK(fx_chmod("/rootfile", 0));
	FX_ASSERT_ERR(open_as(&fx.user, "/rootfile", O_RDONLY), -EACCES);
	/* Root passes through 0000. */
	FX_ASSERT_OK(open_as(&fx.cred, "/rootfile", O_RDWR));
}

FX_TEST(perm, cap_dac_override_reads_and_writes)
{
	fx_must_write("/f", "x");
	FX_ASSERT_OK(fx_chmod("/f", 0));
	struct uvfs_cred c = fx_user_with_cap(CAP_DAC_OVERRIDE);
	FX_ASSERT_OK(open_as(&c, "/f", O_RDWR));
	FX_ASSERT_OK(access_as(&c, "/f", R_OK | W_OK));
	/* Exec needs at least one x bit even with the capability. */
	FX_ASSERT_ERR(access_as(&c, "/f", X_OK), -EACCES);
	FX_ASSERT_OK(fx_chmod("/f", 0001));
	FX_ASSERT_OK(access_as(&c, "/f", X_OK));
	/* Directories: write too. */
	fx_must_mkdir("/d", 0555);
	struct uvfs_pathop p = fx_pop("/d/sub");
	FX_ASSERT_OK(uvfs_mkdir_at(fx.vfs, &c, &p, 0755));
}

FX_TEST(perm, cap_dac_read_search_reads_not_writes)
{
	fx_must_write("/f", "x");
	FX_ASSERT_OK(fx_chmod("/f", 0));
	struct uvfs_cred c = fx_user_with_cap(CAP_DAC_READ_SEARCH);
	FX_ASSERT_OK(open_as(&c, "/f", O_RDONLY));
	FX_ASSERT_ERR(open_as(&c, "/f", O_WRONLY), -EACCES);
	fx_must_mkdir("/d", 0);
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open_as(&c, "/d", O_RDONLY | O_DIRECTORY, 0, &f));
	uvfs_file_put(f);
	struct uvfs_pathop p = fx_pop("/d/sub");
	FX_ASSERT_ERR(uvfs_mkdir_at(fx.vfs, &c, &p, 0755), -EACCES);
}

FX_TEST(perm, root_exec_needs_an_x_bit)
{
	fx_must_write("/f", "x"); /* 0644 */
	cr_assert_eq(fx_mode("/f"), S_IFREG | 0644);
	FX_ASSERT_ERR(access_as(&fx.cred, "/f", X_OK), -EACCES);
	FX_ASSERT_ERR(exec_open_as(&fx.cred, "/f"), -EACCES);
	FX_ASSERT_OK(fx_chmod("/f", 0744));
	FX_ASSERT_OK(exec_open_as(&fx.cred, "/f"));
	FX_ASSERT_ERR(exec_open_as(&fx.user, "/f"), -EACCES);
	FX_ASSERT_OK(fx_chmod("/f", 0755));
	FX_ASSERT_OK(exec_open_as(&fx.user, "/f"));
	/* Exec-open of a directory. */
	fx_must_mkdir("/d", 0755);
	FX_ASSERT_ERR(exec_open_as(&fx.cred, "/d"), -EACCES);
}

FX_TEST(perm, create_needs_write_and_search_on_parent)
{
	fx_must_mkdir("/d", 0755);
	struct uvfs_pathop p = fx_pop("/d/x");
	FX_ASSERT_ERR(uvfs_mkdir_at(fx.vfs, &fx.user, &p, 0755), -EACCES);
	struct uvfs_file *f = NULL;
	FX_ASSERT_ERR(fx_open_as(&fx.user, "/d/x", O_CREAT | O_WRONLY, 0644, &f), -EACCES);
	FX_ASSERT_ERR(uvfs_symlink_at(fx.vfs, &fx.user, "t", &p), -EACCES);
	FX_ASSERT_ERR(uvfs_mknod_at(fx.vfs, &fx.user, &p, S_IFIFO | 0644, 0), -EACCES);
	/* w without x for others (0766 owned by root): still EACCES. */
	FX_ASSERT_OK(fx_chmod("/d", 0766));
	FX_ASSERT_ERR(uvfs_mkdir_at(fx.vfs, &fx.user, &p, 0755), -EACCES);
	FX_ASSERT_OK(fx_chmod("/d", 0777));
	FX_ASSERT_OK(uvfs_mkdir_at(fx.vfs, &fx.user, &p, 0755));
	struct statx st;
	FX_ASSERT_OK(fx_lstat("/d/x", &st));
	cr_assert_eq(st.stx_uid, 1000, "new directory owned by the creator's fsuid");
	cr_assert_eq(st.stx_gid, 1000);
}

FX_TEST(perm, unlink_needs_write_on_parent)
{
	fx_must_mkdir("/d", 0755);
	fx_must_write("/d/f", "x");
	FX_ASSERT_OK(fx_chmod("/d/f", 0666));
	struct uvfs_pathop p = fx_pop("/d/f");
	FX_ASSERT_ERR(uvfs_unlink_at(fx.vfs, &fx.user, &p), -EACCES);
	cr_assert(S_ISREG(fx_mode("/d/f")));
	FX_ASSERT_OK(fx_chmod("/d", 0777));
	FX_ASSERT_OK(uvfs_unlink_at(fx.vfs, &fx.user, &p));
}

FX_TEST(perm, fsuid_is_what_counts)
{
	fx_must_write("/f", "x");
	FX_ASSERT_OK(fx_chmod("/f", 0600)); /* owned by 0 */
	struct uvfs_cred c = fx.user;
	c.uid = c.euid = 0; /* real/effective root, filesystem id 1000, no caps */
	FX_ASSERT_ERR(open_as(&c, "/f", O_RDONLY), -EACCES);
	FX_ASSERT_OK(fx_chown("/f", 1000, 1000));
	c.uid = c.euid = 4242;
	FX_ASSERT_OK(open_as(&c, "/f", O_RDWR));
}

FX_TEST(perm, sticky_dir_delete_rules)
{
	/* /tmp-like dir 1777 owned by user2 (1001). user (1000) creates a file;
	 * a third user (1002) can neither unlink nor rename it; the file owner,
	 * the dir owner and CAP_FOWNER can. */
	fx_must_mkdir("/t", 0777);
	FX_ASSERT_OK(fx_chmod("/t", 01777));
	FX_ASSERT_OK(fx_chown("/t", 1001, 1001));
	cr_assert_eq(fx_mode("/t"), S_IFDIR | 01777);
	struct uvfs_cred other;
	uvfs_cred_init_user(&other, 1002, 1002);
	const char *names[] = { "/t/a", "/t/b", "/t/c" };
	for (int i = 0; i < 3; i++) {
		struct uvfs_file *f;
		FX_ASSERT_OK(fx_open_as(&fx.user, names[i], O_CREAT | O_WRONLY, 0666, &f));
		uvfs_file_put(f);
	}
	struct uvfs_pathop a = fx_pop("/t/a"), b = fx_pop("/t/b"), c = fx_pop("/t/c"), x = fx_pop("/t/x");
	FX_ASSERT_ERR(uvfs_unlink_at(fx.vfs, &other, &a), -EPERM);
	FX_ASSERT_ERR(uvfs_rename_at(fx.vfs, &other, &a, &x, 0), -EPERM);
	/* Replacing someone else's file by rename is a delete too. */
	struct uvfs_file *f;
	FX_ASSERT_OK(fx_open_as(&other, "/t/mine", O_CREAT | O_WRONLY, 0666, &f));
	uvfs_file_put(f);
	struct uvfs_pathop mine = fx_pop("/t/mine");
	FX_ASSERT_ERR(uvfs_rename_at(fx.vfs, &other, &mine, &a, 0), -EPERM);
	/* Not sticky-protected: own file. */
	FX_ASSERT_OK(uvfs_unlink_at(fx.vfs, &other, &mine));
	/* File owner. */
	FX_ASSERT_OK(uvfs_unlink_at(fx.vfs, &fx.user, &a));
	/* Directory owner. */
	FX_ASSERT_OK(uvfs_unlink_at(fx.vfs, &fx.user2, &b));
	/* CAP_FOWNER. */
	struct uvfs_cred fowner = other;
	fowner.caps |= UVFS_CAP(CAP_FOWNER);
	FX_ASSERT_OK(uvfs_rename_at(fx.vfs, &fowner, &c, &x, 0));
	cr_assert(S_ISREG(fx_mode("/t/x")));
	/* Directories in sticky dirs too. */
	struct uvfs_pathop sd = fx_pop("/t/sd");
	FX_ASSERT_OK(uvfs_mkdir_at(fx.vfs, &fx.user, &sd, 0777));
	FX_ASSERT_ERR(uvfs_rmdir_at(fx.vfs, &other, &sd), -EPERM);
	FX_ASSERT_OK(uvfs_rmdir_at(fx.vfs, &fx.user, &sd));
}

FX_TEST(perm, mknod_device_needs_cap_mknod)
{
	fx_must_mkdir("/d", 0777);
	struct uvfs_pathop p = fx_pop("/d/c");
	FX_ASSERT_ERR(uvfs_mknod_at(fx.vfs, &fx.user, &p, S_IFCHR | 0600, makedev(1, 3)), -EPERM);
	FX_ASSERT_ERR(uvfs_mknod_at(fx.vfs, &fx.user, &p, S_IFBLK | 0600, makedev(7, 0)), -EPERM);
	struct uvfs_cred c = fx_user_with_cap(CAP_MKNOD);
	FX_ASSERT_OK(uvfs_mknod_at(fx.vfs, &c, &p, S_IFCHR | 0600, makedev(1, 3)));
	struct statx st;
	FX_ASSERT_OK(fx_lstat("/d/c", &st));
	cr_assert(S_ISCHR(st.stx_mode));
	cr_assert_eq(st.stx_rdev_major, 1);
	cr_assert_eq(st.stx_rdev_minor, 3);
	/* FIFOs need nothing special. */
	p = fx_pop("/d/p");
	FX_ASSERT_OK(uvfs_mknod_at(fx.vfs, &fx.user, &p, S_IFIFO | 0600, 0));
	cr_assert(S_ISFIFO(fx_mode("/d/p")));
}

/* Linux do_linkat checks protected_hardlinks (EPERM) before vfs_link's
 * may_create (EACCES): a user linking root's 0644 file inside root's 0755
 * directory gets EPERM (checked on the host's tmpfs as nobody). */
FX_TEST(perm, link_protection_comes_before_dir_write_permission)
{
	fx_must_mkdir("/d", 0755);
	fx_must_write("/d/f", "x");
	cr_assert_eq(fx_chmod("/d/f", 0644), 0);
	struct uvfs_pathop o = fx_pop("/d/f"), n = fx_pop("/d/g");
	cr_assert_eq(uvfs_link_at(fx.vfs, &fx.user, &o, &n), -EPERM);
	/* The user's own file in root's directory: now the directory's EACCES. */
	cr_assert_eq(fx_chown("/d/f", 1000, 1000), 0);
	cr_assert_eq(uvfs_link_at(fx.vfs, &fx.user, &o, &n), -EACCES);
}

/* access(X_OK) on a regular file of a noexec mount is EACCES even for root
 * (Linux do_faccessat checks path_noexec first); directories stay
 * searchable and R_OK is unaffected. Host: tmpfs -o noexec in a private
 * mount namespace gives EACCES, 0, 0 for the three calls below. */
FX_TEST(perm, access_x_ok_noexec_mount_eacces)
{
	fx_must_mkdir("/ne", 0755);
	FX_ASSERT_OK(fx_mount_tmpfs("/ne", NULL, UVFS_MNT_NOEXEC));
	fx_must_write("/ne/f", "x");
	FX_ASSERT_OK(fx_chmod("/ne/f", 0755));
	fx_must_mkdir("/ne/d", 0755);
	FX_ASSERT_ERR(access_as(&fx.cred, "/ne/f", X_OK), -EACCES);
	FX_ASSERT_ERR(access_as(&fx.user, "/ne/f", X_OK), -EACCES);
	FX_ASSERT_ERR(access_as(&fx.cred, "/ne/f", R_OK | X_OK), -EACCES);
	FX_ASSERT_OK(access_as(&fx.cred, "/ne/d", X_OK));
	FX_ASSERT_OK(access_as(&fx.cred, "/ne/f", R_OK));
	/* The same file on an exec mount is executable. */
	fx_must_write("/f", "x");
	FX_ASSERT_OK(fx_chmod("/f", 0755));
	FX_ASSERT_OK(access_as(&fx.cred, "/f", X_OK));
	FX_ASSERT_OK(fx_umount("/ne", 0));
}
