/* A read-only gofer must refuse every change at the server: boot relies on
 * a refused mkdir to make synthetic mountpoints instead of writing them into
 * the host image (diod ignores `-o ro` for exports given with -e). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsimpl/gofer/gofer.h"
#include "fsimpl/gofer/p9/p9.h"

static void spawn_and_attach(const char *dir, bool ro, struct uvfs_p9_client **c, struct uvfs_gofer_proc **proc,
			     uint32_t *root)
{
	int fd;
	cr_assert_eq(uvfs_gofer_spawn(dir, ro, &fd, proc), 0);
	cr_assert_eq(uvfs_p9_connect_fds(fd, fd, NULL, c), 0);
	cr_assert_eq(uvfs_p9_attach(*c, "root", 0, dir, root, NULL), 0);
}

Test(gofer_launcher, ro_gofer_refuses_changes_on_the_host)
{
	char dir[] = "/tmp/uvfs-ro-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	char path[256];
	snprintf(path, sizeof path, "%s/f", dir);
	int hf = open(path, O_CREAT | O_WRONLY, 0644);
	cr_assert_geq(hf, 0);
	close(hf);

	struct uvfs_p9_client *c;
	struct uvfs_gofer_proc *proc;
	uint32_t root;
	spawn_and_attach(dir, true, &c, &proc, &root);
	int err = uvfs_p9_mkdir(c, root, "newdir", 0755, 0, NULL);
	cr_expect_eq(err, -EROFS, "mkdir on a read-only gofer: %d", err);
	snprintf(path, sizeof path, "%s/newdir", dir);
	struct stat st;
	cr_expect_neq(stat(path, &st), 0, "the read-only gofer created %s on the host", path);
	rmdir(path);
	uvfs_p9_close(c);
	uvfs_gofer_reap(proc);

	/* The same server read-write makes it: the test can tell them apart. */
	spawn_and_attach(dir, false, &c, &proc, &root);
	cr_expect_eq(uvfs_p9_mkdir(c, root, "newdir", 0755, 0, NULL), 0);
	cr_expect_eq(stat(path, &st), 0);
	uvfs_p9_close(c);
	uvfs_gofer_reap(proc);
	rmdir(path);
	snprintf(path, sizeof path, "%s/f", dir);
	unlink(path);
	rmdir(dir);
}
