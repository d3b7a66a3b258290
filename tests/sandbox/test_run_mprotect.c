/* test_run_mprotect.c — `uvfs run` (sandbox/run) sees stores through a
 * shared mapping of a tree file made writable only later, by mprotect: a
 * static program run by uvfs_run() maps /f MAP_SHARED PROT_READ, mprotects
 * it PROT_READ|PROT_WRITE, stores (the write fault stamps the memfd's
 * mtime), makes a handled call (the store is synced), stores again on the
 * same page (no fault: no mtime) and exits or unmaps; after the run the
 * uvfs file itself holds both stores. A private or anonymous mapping
 * mprotected writable changes nothing in the tree. */
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
	"  char *a = mmap(0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);\n"
	"  char *p = mmap(0, 8192, PROT_READ, MAP_PRIVATE, fd, 0);\n"
	"  char *m = mmap(0, 8192, PROT_READ, MAP_SHARED, fd, 0);\n"
	"  if (a == MAP_FAILED || p == MAP_FAILED || m == MAP_FAILED) return 2;\n"
	"  if (mprotect(a, 4096, PROT_READ | PROT_WRITE) || mprotect(p, 8192, PROT_READ | PROT_WRITE)) return 3;\n"
	"  memcpy(p + 200, \"private\", 7);\n"
	"  if (mprotect(m, 8192, PROT_READ | PROT_WRITE)) return 5;\n"
	"  close(fd);\n"
	"  memcpy(m, \"first\", 5);\n"
	"  stat(\"/\", &st); /* a handled call: synced */\n"
	"  memcpy(m + 100, \"second\", 6); /* a page already writable: no fault, no mtime */\n"
	"  return argc > 1 && !strcmp(argv[1], \"unmap\") ? munmap(m, 8192) : 0;\n"
	"}\n";

/* Builds the program (a static binary) into the tree at /prog. */
static void put_prog(void)
{
	char dir[] = "/tmp/uvfs-runmp-XXXXXX", cmd[512], path[256];
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
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (!b) {
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
	cr_expect_arr_eq(buf, "first", 5, "the first store is in the tree");
	cr_assert_eq(uvfs_pread(f, buf, 6, 100), 6);
	cr_expect_arr_eq(buf, "second", 6, "the store without a fault is in the tree");
	cr_assert_eq(uvfs_pread(f, buf, 7, 200), 7);
	cr_expect_arr_eq(buf, "\0\0\0\0\0\0\0", 7, "a private mapping's store is not");
	uvfs_file_put(f);
}

FX_TEST(run_mprotect, stores_reach_the_tree_at_exit)
{
	run_and_check(NULL);
}

FX_TEST(run_mprotect, stores_reach_the_tree_after_munmap)
{
	run_and_check("unmap");
}
