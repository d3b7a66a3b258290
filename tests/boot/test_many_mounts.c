/* test_many_mounts.c — a 100-mount config.json (runc spec's, plus 100
 * mounts: directory binds, read-only binds, file binds, tmpfs with options,
 * tmpfs nested inside binds) boots with one diod per bind, every mount is
 * checked (type and flags in mountinfo, its content read, writes where
 * allowed, EROFS where not), and teardown leaves zero live objects and no
 * diod. */
#include <dirent.h>
#include <jansson.h>
#include <signal.h>
#include <time.h>

#include "boot_fx.h"

#define NDIR 30 /* directory binds, every third read-only */
#define NFILE 10 /* file binds */
#define NTMP 40 /* tmpfs */
#define NNEST 20 /* tmpfs inside the directory binds */

static json_t *mnt(const char *dest, const char *type, const char *src, const char *o1, const char *o2)
{
	json_t *m = json_pack("{s:s, s:s, s:s, s:[]}", "destination", dest, "type", type, "source", src, "options");
	json_t *o = json_object_get(m, "options");
	if (o1)
		json_array_append_new(o, json_string(o1));
	if (o2)
		json_array_append_new(o, json_string(o2));
	return m;
}

static void write_config(void)
{
	char *text, path[400], d[64], s[64];
	cr_assert_eq(uvfs_oci_default_spec(false, 0, 0, &text), 0);
	json_error_t je;
	json_t *doc = json_loads(text, 0, &je);
	free(text);
	cr_assert_not_null(doc);
	json_t *ms = json_object_get(doc, "mounts");
	for (int i = 0; i < NDIR; i++) {
		snprintf(d, sizeof d, "/binds/d%02d", i);
		snprintf(s, sizeof s, "src/d%02d", i);
		json_array_append_new(ms, mnt(d, "bind", s, "rbind", i % 3 == 0 ? "ro" : "rw"));
	}
	for (int i = 0; i < NFILE; i++) {
		snprintf(d, sizeof d, "/etc/f%02d.conf", i);
		snprintf(s, sizeof s, "src/f%02d", i);
		json_array_append_new(ms, mnt(d, "bind", s, "rbind", NULL));
	}
	for (int i = 0; i < NTMP; i++) {
		snprintf(d, sizeof d, "/t/%02d/x", i);
		json_array_append_new(ms, mnt(d, "tmpfs", "tmpfs", "size=1m", i % 2 ? "mode=0700" : "noexec"));
	}
	for (int i = 0; i < NNEST; i++) {
		snprintf(d, sizeof d, "/binds/d%02d/n", 1 + 3 * (i % 10) + (i / 10)); /* writable binds only */
		json_array_append_new(ms, mnt(d, "tmpfs", "none", "size=64k", NULL));
	}
	/* Listed in reverse: the stable sort must still put parents first. */
	size_t n = json_array_size(ms);
	json_t *rev = json_array();
	for (size_t i = n; i-- > 0;)
		json_array_append(rev, json_array_get(ms, i));
	json_object_set_new(doc, "mounts", rev);
	snprintf(path, sizeof path, "%s/config.json", bundle);
	cr_assert_eq(json_dump_file(doc, path, JSON_INDENT(1)), 0);
	json_decref(doc);
}

static bool has_flag(const char *line, const char *flag)
{
	char f[32], opts[256];
	/* field 6: the per-mount options */
	if (sscanf(line, "%*s %*s %*s %*s %*s %255s", opts) != 1)
		return false;
	snprintf(f, sizeof f, ",%s,", flag);
	char wrapped[260];
	snprintf(wrapped, sizeof wrapped, ",%s,", opts);
	return strstr(wrapped, f) != NULL;
}

Test(many_mounts, hundred_mounts_boot_verify_teardown, .timeout = 120)
{
	make_bundle(DATA "runc/config.json");
	for (int i = 0; i < NDIR; i++)
		shf("mkdir -p %s/src/d%02d && echo d%02d > %s/src/d%02d/id", bundle, i, i, bundle, i);
	/* File mount points must exist in a read-only root: a read-only gofer
	 * cannot create them, and synthetic mount points are directories. */
	for (int i = 0; i < NFILE; i++)
		shf("echo f%02d > %s/src/f%02d && mkdir -p %s/rootfs/etc && touch %s/rootfs/etc/f%02d.conf", i, bundle, i,
		    bundle, bundle, i);
	write_config();
	struct booted t;
	int rc = boot(&t, 0);
	cr_assert_eq(rc, 0, "boot: %d %s", rc, t.err);
	cr_assert_eq(t.plan->ngofers, 1 + NDIR + NFILE);
	char *mi = mountinfo(&t), line[1024], p[96], want[16];
	struct uvfs_file *f;
	for (int i = 0; i < NDIR; i++) {
		snprintf(p, sizeof p, "/binds/d%02d", i);
		expect_type(mi, p, "9p");
		mi_line(mi, p, line, sizeof line);
		cr_assert_eq(has_flag(line, "ro"), i % 3 == 0, "%s", line);
		snprintf(p, sizeof p, "/binds/d%02d/id", i);
		snprintf(want, sizeof want, "d%02d\n", i);
		char *s = read_all(&t, p);
		cr_assert_str_eq(s, want);
		free(s);
		snprintf(p, sizeof p, "/binds/d%02d/new", i);
		rc = open_in(&t, p, O_CREAT | O_WRONLY, &f);
		cr_assert_eq(rc, i % 3 == 0 ? -EROFS : 0, "%s: %d", p, rc);
		if (!rc)
			uvfs_file_put(f);
	}
	for (int i = 0; i < NFILE; i++) {
		snprintf(p, sizeof p, "/etc/f%02d.conf", i);
		expect_type(mi, p, "9p");
		snprintf(want, sizeof want, "f%02d\n", i);
		char *s = read_all(&t, p);
		cr_assert_str_eq(s, want);
		free(s);
	}
	for (int i = 0; i < NTMP; i++) {
		snprintf(p, sizeof p, "/t/%02d/x", i);
		expect_type(mi, p, "tmpfs");
		mi_line(mi, p, line, sizeof line);
		cr_assert_eq(has_flag(line, "noexec"), i % 2 == 0, "%s", line);
		snprintf(p, sizeof p, "/t/%02d/x/w", i);
		cr_assert_eq(open_in(&t, p, O_CREAT | O_WRONLY, &f), 0, "%s", p);
		uvfs_file_put(f);
	}
	for (int i = 0; i < NNEST; i++) {
		snprintf(p, sizeof p, "/binds/d%02d/n", 1 + 3 * (i % 10) + (i / 10));
		expect_type(mi, p, "tmpfs");
	}
	/* 100 spec mounts + /proc /dev /dev/pts /dev/shm /sys /tmp + the root. */
	size_t lines = 0;
	for (const char *c = mi; *c; c++)
		lines += *c == '\n';
	cr_assert_eq(lines, 100 + 7, "%zu mounts:\n%s", lines, mi);
	free(mi);
	unboot(&t); /* zero live objects, no diod */
	for (int i = 0; i < NDIR; i++)
		if (i % 3) /* writes through writable binds reached the host */
			shf("test -e %s/src/d%02d/new", bundle, i);
	rm_bundle();
}

/* Stops every diod child of ours (SIGSTOP); returns how many. */
static int stop_diods(void)
{
	int n = 0;
	DIR *d = opendir("/proc");
	cr_assert_not_null(d);
	struct dirent *e;
	while ((e = readdir(d))) {
		char path[300], buf[512], comm[64];
		int pid, ppid;
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		bool ok = fgets(buf, sizeof buf, f) && sscanf(buf, "%d (%63[^)]) %*c %d", &pid, comm, &ppid) == 3;
		fclose(f);
		if (ok && ppid == getpid() && !strcmp(comm, "diod")) {
			cr_assert_eq(kill(pid, SIGSTOP), 0);
			n++;
		}
	}
	closedir(d);
	return n;
}

/* Teardown reaps the diods together: each gets the launcher's grace (2 s)
 * to exit after its connection closes, then SIGKILL — with every diod
 * stopped, one after another that would be 2 s per diod, in parallel about
 * 2 s in all. Every diod is still reaped. */
Test(many_mounts, stuck_diods_reaped_in_parallel, .timeout = 120)
{
	make_bundle(DATA "runc/config.json");
	for (int i = 0; i < 5; i++) {
		char m[200];
		shf("mkdir -p %s/src/d%d", bundle, i);
		snprintf(m, sizeof m,
			 "{\"destination\": \"/b%d\", \"type\": \"bind\", \"source\": \"src/d%d\", \"options\": [\"rbind\"]}",
			 i, i);
		add_mount(m);
	}
	struct booted t;
	int rc = boot(&t, 0);
	cr_assert_eq(rc, 0, "boot: %d %s", rc, t.err);
	cr_assert_eq(stop_diods(), 6, "the root's diod and one per bind");
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	unboot(&t); /* zero live objects, no diod */
	clock_gettime(CLOCK_MONOTONIC, &b);
	double ms = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
	cr_assert_lt(ms, 6000, "teardown took %.0f ms: the diods were reaped one after another", ms);
	cr_assert_gt(ms, 1900, "teardown took %.0f ms: the stopped diods got no grace", ms);
	rm_bundle();
}
