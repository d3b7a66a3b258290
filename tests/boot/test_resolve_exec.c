/* test_resolve_exec.c — ResolveExecutablePath (spec §4.9) on a tmpfs tree:
 * absolute names as is, names with a '/' joined to cwd, $PATH lookup with
 * the caller's credentials (ENOENT and EACCES go on, other errors stop,
 * relative entries skipped, DefaultPath without PATH), the seed's error
 * texts; and the booted runc bundle's init resolved at boot. */
#include "boot/boot.h"
#include "boot_fx.h"

static char err[512];

static int resolve(const struct uvfs_cred *cred, const char *name, const char *cwd, const char *path_env, char **out)
{
	char *argv[] = { (char *)name };
	char *env[] = { "HOME=/root", (char *)path_env };
	err[0] = 0;
	return uvfs_resolve_executable_path(
		fx.vfs, cred, &fx.root,
		&(struct uvfs_exec_args){ .argv = argv, .argc = 1, .cwd = cwd, .env = env, .nenv = path_env ? 2 : 1 }, out,
		err, sizeof err);
}

static void expect(const char *name, const char *cwd, const char *path_env, const char *want)
{
	char *out = NULL;
	int rc = resolve(&fx.cred, name, cwd, path_env, &out);
	cr_assert_eq(rc, 0, "%s: %d %s", name, rc, err);
	cr_assert_str_eq(out, want);
	free(out);
}

static void tree(void)
{
	fx_must_mkdir("/bin", 0755);
	fx_must_mkdir("/usr", 0755);
	fx_must_mkdir("/usr/bin", 0755);
	fx_must_write("/bin/busybox", "#!");
	cr_assert_eq(fx_chmod("/bin/busybox", 0755), 0);
	cr_assert_eq(fx_symlink("busybox", "/bin/sh"), 0);
}

FX_TEST(resolve_exec, absolute_and_relative_names)
{
	tree();
	expect("/no/such", "/", NULL, "/no/such"); /* absolute: as is, unchecked */
	expect("sub/prog", "/opt", NULL, "/opt/sub/prog");
	expect("./x/../y", "", NULL, "/y"); /* path.Join cleans; empty cwd is "/" */
	char *out = NULL;
	cr_assert_eq(resolve(&fx.cred, "a/b", "rel", NULL, &out), -EINVAL);
	cr_assert_str_eq(err, "working directory \"rel\" must be absolute");
	cr_assert_eq(uvfs_resolve_executable_path(fx.vfs, &fx.cred, &fx.root, &(struct uvfs_exec_args){ 0 }, &out, err,
						  sizeof err),
		     -EINVAL);
	cr_assert_str_eq(err, "no filename or command provided");
	cr_assert_null(out);
}

FX_TEST(resolve_exec, path_lookup)
{
	tree();
	expect("sh", "/", "PATH=/usr/local/bin:/usr/bin:/bin", "/bin/sh"); /* a symlink is followed */
	expect("sh", "/", NULL, "/bin/sh"); /* DefaultPath */
	expect("sh", "/", "PATH=bin:/bin/", "/bin/sh"); /* relative entry skipped; joined clean */
	expect("busybox", "/", "PATH=/usr/bin:/bin", "/bin/busybox");
}

/* A file that cannot be executed (no x bit, a directory) is EACCES: next entry. */
FX_TEST(resolve_exec, eacces_goes_on)
{
	tree();
	fx_must_write("/usr/bin/sh", "not executable");
	fx_must_mkdir("/usr/bin/busybox", 0755);
	expect("sh", "/", "PATH=/usr/bin:/bin", "/bin/sh");
	expect("busybox", "/", "PATH=/usr/bin:/bin", "/bin/busybox");
	/* Another user cannot search /usr/bin/x: EACCES too. */
	fx_must_mkdir("/usr/bin/x", 0700);
	char *out = NULL;
	int rc = resolve(&fx.user, "sh", "/", "PATH=/usr/bin/x:/bin", &out);
	cr_assert_eq(rc, 0, "%d %s", rc, err);
	cr_assert_str_eq(out, "/bin/sh");
	free(out);
}

FX_TEST(resolve_exec, errors_in_the_seeds_words)
{
	tree();
	char *out = NULL;
	cr_assert_eq(resolve(&fx.cred, "nope", "/", NULL, &out), -ENOENT);
	cr_assert_str_eq(err, "error finding executable \"nope\" in PATH [/usr/local/sbin /usr/local/bin /usr/sbin "
			      "/usr/bin /sbin /bin]: no such file or directory");
	cr_assert_eq(resolve(&fx.cred, "sh", "/", "PATH=/bin/busybox:/bin", &out), -ENOTDIR);
	cr_assert_str_eq(err, "error finding executable \"sh\" in PATH [/bin/busybox /bin]: not a directory");
	cr_assert_eq(resolve(&fx.cred, "sh", "/", "PATH=", &out), -ENOENT);
	cr_assert_str_eq(err, "error finding executable \"sh\" in PATH []: no such file or directory");
	cr_assert_null(out);
}

/* The booted runc bundle: args ["sh"], PATH from the spec. The image has
 * only /bin/busybox, so sh is not found, in the seed's words; with a
 * /bin/sh link the boot reports /bin/sh. */
Test(resolve_exec, booted_bundle, .timeout = 60)
{
	make_bundle(DATA "runc/config.json");
	struct booted t;
	int rc = boot(&t, 0), erc;
	cr_assert_eq(rc, 0, "boot: %d %s", rc, t.err);
	const char *msg;
	cr_assert_null(uvfs_boot_executable(t.b, &erc, &msg));
	cr_assert_eq(erc, -ENOENT);
	cr_assert_str_eq(msg, "error finding executable \"sh\" in PATH [/usr/local/sbin /usr/local/bin /usr/sbin "
			      "/usr/bin /sbin /bin]: no such file or directory");
	unboot(&t);
	shf("ln -s busybox %s/rootfs/bin/sh", bundle);
	cr_assert_eq(boot(&t, 0), 0, "%s", t.err);
	cr_assert_str_eq(uvfs_boot_executable(t.b, &erc, &msg), "/bin/sh");
	cr_assert_eq(erc, 0);
	unboot(&t);
	rm_bundle();
}
