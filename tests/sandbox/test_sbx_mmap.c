/* test_sbx_mmap.c — `uvfs run` (sandbox/run) writes stores made through a
 * shared mapping of a tree file back into the tree: a static program run
 * by uvfs_run() maps /f MAP_SHARED, stores through memory (once before an
 * msync and a later call, once more on the same page — no fault, so the
 * memfd's mtime does not change — just before it exits or unmaps), and after the run
 * the uvfs file itself (not the supervisor's memfd) holds every store. */
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../lib/fixture.h"
#include "sandbox/run/run.h"

static const char prog_src[] =
	"#include <fcntl.h>\n#include <string.h>\n#include <sys/mman.h>\n#include <sys/stat.h>\n#include <unistd.h>\n"
	"int main(int argc, char **argv) {\n"
	"  struct stat st;\n"
	"  int fd = open(\"/f\", O_RDWR | O_CREAT, 0644);\n"
	"  if (fd < 0 || ftruncate(fd, 8192)) return 1;\n"
	"  stat(\"/\", &st); /* a handled call: the size is synced */\n"
	"  char *m = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);\n"
	"  if (m == MAP_FAILED) return 2;\n"
	"  close(fd);\n"
	"  memcpy(m, \"first\", 5);\n"
	"  if (msync(m, 8192, MS_SYNC)) return 3;\n"
	"  stat(\"/\", &st);\n"
	"  memcpy(m + 100, \"second\", 6); /* a page already writable: no fault, no mtime */\n"
	"  return argc > 1 && !strcmp(argv[1], \"unmap\") ? munmap(m, 8192) : 0;\n"
	"}\n";

/* Builds the program (a static binary) into the tree at /prog. */
static void put_prog(void)
{
	char dir[] = "/tmp/uvfs-sbxmm-XXXXXX", cmd[512], path[256];
	cr_assert(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/p.c", dir);
	FILE *f = fopen(path, "w");
	cr_assert(f);
	fputs(prog_src, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "cc -static -o %s/p %s/p.c 2>/dev/null", dir, dir);
	int rc = system(cmd);
	snprintf(path, sizeof(path), "%s/p", dir);
	FILE *b = rc == 0 ? fopen(path, "rb") : NULL;
	if (!b) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		(void)system(cmd);
		cr_skip_test("no static libc to build the test program");
	}
	struct uvfs_pathop pop = fx_pop("/prog");
	struct uvfs_file *uf;
	cr_assert_eq(uvfs_open_at(fx.vfs, &fx.cred, &pop, O_CREAT | O_WRONLY, 0755, 0, &uf), 0);
	char buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), b)) > 0)
		cr_assert_eq(uvfs_write(uf, buf, n), (ssize_t)n);
	fclose(b);
	uvfs_file_put(uf);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	(void)system(cmd);
}

static void run_and_check(const char *arg)
{
	put_prog();
	char *argv[] = { "/prog", (char *)arg, NULL };
	char *envp[] = { NULL };
	int status = -1;
	cr_assert_eq(uvfs_run(&(struct uvfs_run_opts){ .vfs = fx.vfs, .ns = fx.ns, .argv = argv, .envp = envp }, &status),
		     0);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %x", status);
	struct uvfs_pathop pop = fx_pop("/f");
	struct uvfs_file *f;
	cr_assert_eq(uvfs_open_at(fx.vfs, &fx.cred, &pop, O_RDONLY, 0, 0, &f), 0);
	char buf[8];
	cr_assert_eq(uvfs_pread(f, buf, 5, 0), 5);
	cr_expect_arr_eq(buf, "first", 5, "the store before msync is in the tree");
	cr_assert_eq(uvfs_pread(f, buf, 6, 100), 6);
	cr_expect_arr_eq(buf, "second", 6, "the store before exit/munmap is in the tree");
	uvfs_file_put(f);
}

FX_TEST(sbx_mmap, stores_reach_the_tree_at_exit)
{
	run_and_check(NULL);
}

FX_TEST(sbx_mmap, stores_reach_the_tree_after_munmap)
{
	run_and_check("unmap");
}
