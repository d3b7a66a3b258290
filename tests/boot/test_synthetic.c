/* test_synthetic.c — synthetic mount points of a read-only gofer root
 * (gVisor's syntheticChildren): a directory listing shows them once, with
 * their type, beside the server's names (also after the host makes the
 * same name), and offsets from the listing seek back to the same entries;
 * file binds onto missing destinations get in-memory file mount points.
 * Real diods; run from the repository root. */
#include <dirent.h>

#include "boot_fx.h"

#define BIND(dest, src, opts)                                                                                \
	"{\"destination\": \"" dest "\", \"type\": \"bind\", \"source\": \"" src "\", \"options\": [\"rbind\"" \
	opts "]}"

struct ent {
	char name[64];
	unsigned type;
	int64_t next;
};
struct listing {
	struct ent e[64];
	int n, max; /* max: stop after this many entries in one call (0: all) */
};

static int collect(void *arg, const char *name, size_t len, uint64_t ino, unsigned dtype, int64_t next_off)
{
	(void)ino;
	struct listing *l = arg;
	if (l->n == 64 || (l->max && l->n >= l->max))
		return 1;
	snprintf(l->e[l->n].name, sizeof l->e[l->n].name, "%.*s", (int)len, name);
	l->e[l->n].type = dtype;
	l->e[l->n].next = next_off;
	l->n++;
	return 0;
}

/* The whole listing of dir, read `batch` entries per call (0: one call). */
static void list_dir(struct booted *t, const char *dir, int batch, struct listing *out)
{
	struct uvfs_file *f;
	cr_assert_eq(open_in(t, dir, O_RDONLY | O_DIRECTORY, &f), 0, "open %s", dir);
	memset(out, 0, sizeof *out);
	for (;;) {
		int before = out->n;
		out->max = batch ? before + batch : 0;
		cr_assert_eq(uvfs_iterate_dir(f, collect, out), 0);
		if (out->n == before || !batch)
			break;
	}
	uvfs_file_put(f);
}

static int count(const struct listing *l, const char *name, unsigned *type)
{
	int c = 0;
	for (int i = 0; i < l->n; i++)
		if (!strcmp(l->e[i].name, name)) {
			c++;
			if (type)
				*type = l->e[i].type;
		}
	return c;
}

static void expect_once(const struct listing *l, const char *name, unsigned type)
{
	unsigned got = 0;
	int c = count(l, name, &got);
	cr_assert_eq(c, 1, "%s listed %d times", name, c);
	cr_assert_eq(got, type, "%s: d_type %u, want %u", name, got, type);
}

/* runc spec's root is read-only: diod refuses mkdir, so /proc, /sys,
 * /dev, /tmp and the bind's /newdir are synthetic directories of /. */
Test(synthetic, readdir_lists_synthetic_dirs, .timeout = 60)
{
	make_bundle(DATA "runc/config.json");
	shf("mkdir -p %s/A && echo A > %s/A/f", bundle, bundle);
	add_mount(BIND("/newdir", "A", ));
	struct booted t;
	cr_assert_eq(boot(&t, 0), 0, "%s", t.err);
	struct listing l;
	list_dir(&t, "/", 0, &l);
	expect_once(&l, "bin", DT_DIR);
	const char *synth[] = { "proc", "sys", "dev", "tmp", "newdir" };
	for (size_t i = 0; i < sizeof synth / sizeof *synth; i++)
		expect_once(&l, synth[i], DT_DIR);
	expect_once(&l, ".", DT_DIR);
	cr_assert_eq(l.n, 8, "%d entries", l.n);
	/* One entry per call lists the same names in the same order. */
	struct listing one;
	list_dir(&t, "/", 1, &one);
	cr_assert_eq(one.n, l.n);
	for (int i = 0; i < l.n; i++)
		cr_assert_str_eq(one.e[i].name, l.e[i].name);
	/* The host makes one of the names: still listed once. */
	shf("mkdir %s/rootfs/newdir", bundle);
	list_dir(&t, "/", 0, &l);
	expect_once(&l, "newdir", DT_DIR);
	expect_once(&l, "bin", DT_DIR);
	cr_assert_eq(l.n, 8, "%d entries", l.n);
	unboot(&t);
	shf("test ! -e %s/rootfs/proc", bundle);
	rm_bundle();
}

/* telldir/seekdir: each entry's next offset, sought to, yields the entry
 * after it — across the server's names and the synthetic ones. */
Test(synthetic, seek_to_every_offset, .timeout = 60)
{
	make_bundle(DATA "runc/config.json");
	shf("mkdir -p %s/rootfs/etc %s/rootfs/usr", bundle, bundle);
	struct booted t;
	cr_assert_eq(boot(&t, 0), 0, "%s", t.err);
	struct listing l;
	list_dir(&t, "/", 0, &l);
	cr_assert_eq(l.n, 9, "%d entries", l.n); /* . .. bin etc usr + proc sys dev tmp */
	struct uvfs_file *f;
	cr_assert_eq(open_in(&t, "/", O_RDONLY | O_DIRECTORY, &f), 0);
	for (int i = l.n - 1; i >= 0; i--) {
		cr_assert_eq(uvfs_seek(f, l.e[i].next, SEEK_SET), l.e[i].next);
		struct listing r = { .max = 1 };
		cr_assert_eq(uvfs_iterate_dir(f, collect, &r), 0);
		if (i == l.n - 1) {
			cr_assert_eq(r.n, 0, "after the last entry: %s", r.e[0].name);
			continue;
		}
		cr_assert_eq(r.n, 1, "offset %lld", (long long)l.e[i].next);
		cr_assert_str_eq(r.e[0].name, l.e[i + 1].name, "offset %lld", (long long)l.e[i].next);
	}
	uvfs_file_put(f);
	unboot(&t);
	rm_bundle();
}

/* A file bind under the read-only root onto a missing destination: the
 * file mount point is synthetic (in memory), listed as a regular file, and
 * the host image is untouched. */
Test(synthetic, file_bind_under_ro_root, .timeout = 60)
{
	make_bundle(DATA "runc/config.json");
	shf("echo host > %s/conf && mkdir -p %s/rootfs/etc", bundle, bundle);
	add_mount(BIND("/etc/conf", "conf", ));
	add_mount(BIND("/new/dir/conf2", "conf", ", \"ro\""));
	struct booted t;
	int rc = boot(&t, 0);
	cr_assert_eq(rc, 0, "boot: %d %s", rc, t.err);
	char *s = read_all(&t, "/etc/conf");
	cr_assert_str_eq(s, "host\n");
	free(s);
	s = read_all(&t, "/new/dir/conf2");
	cr_assert_str_eq(s, "host\n");
	free(s);
	struct uvfs_file *f;
	cr_assert_eq(open_in(&t, "/etc/conf", O_WRONLY | O_APPEND, &f), 0);
	cr_assert_eq(uvfs_write(f, "more\n", 5), 5);
	uvfs_file_put(f);
	cr_assert_eq(open_in(&t, "/etc/other", O_CREAT | O_WRONLY, &f), -EROFS, "the root is read-only");
	struct listing l;
	list_dir(&t, "/etc", 0, &l);
	expect_once(&l, "conf", DT_REG);
	list_dir(&t, "/new/dir", 0, &l);
	expect_once(&l, "conf2", DT_REG);
	cr_assert_eq(l.n, 3);
	char *mi = mountinfo(&t);
	expect_type(mi, "/etc/conf", "9p");
	expect_type(mi, "/new/dir/conf2", "9p");
	free(mi);
	unboot(&t);
	shf("grep -qx more %s/conf", bundle);
	shf("test ! -e %s/rootfs/etc/conf && test ! -e %s/rootfs/new", bundle, bundle);
	rm_bundle();
}
