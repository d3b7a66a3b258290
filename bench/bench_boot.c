/* bench/bench_boot.c — container boot time: uvfs vs runc, same bundle.
 *
 * Bundles (made under /tmp, removed at exit): `runc spec`'s default config
 * (uvfs_oci_default_spec) over a busybox-static rootfs, process
 * `/bin/busybox true`; and the same plus 100 mounts (30 directory binds,
 * 10 file binds, 40 tmpfs, 20 tmpfs nested in binds) as
 * tests/boot/test_many_mounts.c builds.
 *
 * uvfs, in process, per round: uvfs_create + registerFilesystems +
 * compileMounts + mountAll (the tree is ready: what runsc has done when its
 * first process can start), then teardown (uvfs_boot_destroy +
 * uvfs_destroy, every diod reaped) timed separately. Gofer share: the
 * same number of diods started with uvfs_gofer_spawn (fork+exec only; the
 * wait for each diod to answer falls in the boot's 9P attach) and reaped
 * untimed, as a fraction of the boot. runc: `runc run --bundle B ID` of the same
 * bundle to the process's exit (create, start `true`, exit, delete), by
 * fork/exec, output discarded. Median of BENCH_N rounds (default 10), after
 * one warm-up round each. Results: stdout and bench/results/boot.csv. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "boot/boot.h"
#include "fsimpl/gofer/gofer.h"

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_d);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int sh(const char *fmt, const char *a)
{
	char cmd[2048];
	snprintf(cmd, sizeof cmd, fmt, a, a, a, a);
	return system(cmd);
}

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

/* dir/config.json: runc spec's, args `true`, optionally the 100 mounts. */
static int make_bundle(const char *dir, bool many)
{
	char path[512], d[64], s[64];
	if (sh("mkdir -p %s/rootfs/bin %s/src && cp /bin/busybox %s/rootfs/bin/busybox", dir))
		return -1;
	char *text;
	if (uvfs_oci_default_spec(false, 0, 0, &text))
		return -1;
	json_error_t je;
	json_t *doc = json_loads(text, 0, &je);
	free(text);
	json_t *proc = json_object_get(doc, "process");
	json_object_set_new(proc, "terminal", json_false());
	json_object_set_new(proc, "args", json_pack("[s, s]", "/bin/busybox", "true"));
	if (many) {
		json_t *ms = json_object_get(doc, "mounts");
		for (int i = 0; i < 30; i++) {
			snprintf(d, sizeof d, "/binds/d%02d", i);
			snprintf(s, sizeof s, "src/d%02d", i);
			snprintf(path, sizeof path, "%s/%s", dir, s);
			if (mkdir(path, 0755) && errno != EEXIST)
				return -1;
			json_array_append_new(ms, mnt(d, "bind", s, "rbind", i % 3 ? "rw" : "ro"));
		}
		for (int i = 0; i < 10; i++) {
			snprintf(d, sizeof d, "/etc/f%02d.conf", i);
			snprintf(s, sizeof s, "src/f%02d", i);
			snprintf(path, sizeof path, "%s/%s", dir, s);
			int fd = open(path, O_CREAT | O_WRONLY, 0644);
			if (fd < 0)
				return -1;
			close(fd);
			json_array_append_new(ms, mnt(d, "bind", s, "rbind", NULL));
		}
		for (int i = 0; i < 40; i++) {
			snprintf(d, sizeof d, "/t/%02d/x", i);
			json_array_append_new(ms, mnt(d, "tmpfs", "tmpfs", "size=1m", NULL));
		}
		for (int i = 0; i < 20; i++) {
			snprintf(d, sizeof d, "/binds/d%02d/n", 1 + 3 * (i % 10) + (i / 10));
			json_array_append_new(ms, mnt(d, "tmpfs", "none", "size=64k", NULL));
		}
	}
	snprintf(path, sizeof path, "%s/config.json", dir);
	int rc = json_dump_file(doc, path, JSON_INDENT(1));
	json_decref(doc);
	return rc;
}

/* One in-process boot: ms to a booted tree, ms to tear it down. */
static int boot_once(const char *dir, double *boot_ms, double *down_ms, size_t *ngofers)
{
	char path[512], err[512];
	snprintf(path, sizeof path, "%s/config.json", dir);
	double t0 = now_ms();
	struct uvfs *vfs;
	struct uvfs_oci_spec *spec;
	struct uvfs_mount_plan *plan;
	struct uvfs_boot *b;
	if (uvfs_oci_load(path, &spec, err, sizeof err) || uvfs_oci_compile_mounts(spec, 0, &plan, err, sizeof err) ||
	    uvfs_create(&vfs) || uvfs_boot_register_filesystems(vfs, 0)) {
		fprintf(stderr, "bench_boot: %s\n", err);
		return -1;
	}
	int rc = uvfs_boot_mount_all(
		vfs, plan, &(struct uvfs_boot_opts){ .spec = spec, .bundle_dir = dir, .err = err, .errlen = sizeof err },
		&b);
	double t1 = now_ms();
	if (rc) {
		fprintf(stderr, "bench_boot: %s\n", err);
		return -1;
	}
	*ngofers = plan->ngofers;
	uvfs_boot_destroy(b);
	uvfs_mount_plan_free(plan);
	uvfs_oci_spec_free(spec);
	struct uvfs_live l;
	rc = uvfs_destroy(vfs, &l);
	*down_ms = now_ms() - t1;
	*boot_ms = t1 - t0;
	if (rc)
		fprintf(stderr, "bench_boot: live objects left after teardown\n");
	return rc;
}

/* ms to start n diods (reaped afterwards, untimed). */
static double gofers_once(const char *dir, size_t n)
{
	struct uvfs_gofer_proc **p = calloc(n, sizeof *p);
	int *fd = calloc(n, sizeof *fd);
	char root[512];
	snprintf(root, sizeof root, "%s/rootfs", dir);
	double t0 = now_ms();
	for (size_t i = 0; i < n; i++)
		if (uvfs_gofer_spawn(root, true, &fd[i], &p[i]))
			return -1;
	double t = now_ms() - t0;
	for (size_t i = 0; i < n; i++) {
		close(fd[i]);
		uvfs_gofer_reap(p[i]);
	}
	free(p);
	free(fd);
	return t;
}

static double runc_once(const char *dir)
{
	char id[64];
	snprintf(id, sizeof id, "uvfs-bench-%d", (int)getpid());
	double t0 = now_ms();
	pid_t pid = fork();
	if (pid == 0) {
		int nul = open("/dev/null", O_RDWR);
		dup2(nul, 0);
		dup2(nul, 1);
		dup2(nul, 2);
		execlp("runc", "runc", "run", "--bundle", dir, id, (char *)NULL);
		_exit(127);
	}
	int st;
	if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
		return -1;
	return now_ms() - t0;
}

int main(void)
{
	int n = getenv("BENCH_N") ? atoi(getenv("BENCH_N")) : 10;
	if (n < 1)
		n = 1;
	if (access("/bin/busybox", X_OK) || access("/usr/sbin/diod", X_OK)) {
		fprintf(stderr, "bench_boot: needs busybox-static and diod (scripts/deps.sh)\n");
		return 1;
	}
	bool runc = system("command -v runc >/dev/null 2>&1") == 0 && geteuid() == 0;
	char base[] = "/tmp/uvfs-bench-boot-XXXXXX";
	if (!mkdtemp(base))
		return 1;
	char dirs[2][100];
	const char *names[2] = { "runc-spec", "100-mounts" };
	snprintf(dirs[0], sizeof dirs[0], "%s/default", base);
	snprintf(dirs[1], sizeof dirs[1], "%s/many", base);
	FILE *csv = fopen("bench/results/boot.csv", "w");
	if (csv)
		fprintf(csv, "bundle,what,n,median_ms,min_ms,max_ms\n");
	int rc = 0;
	printf("%-11s %-26s %10s %10s %10s\n", "bundle", "what", "median ms", "min ms", "max ms");
	for (int k = 0; k < 2 && !rc; k++) {
		if (make_bundle(dirs[k], k == 1)) {
			rc = 1;
			break;
		}
		double *boot = calloc((size_t)n, sizeof(double)), *down = calloc((size_t)n, sizeof(double));
		double *gof = calloc((size_t)n, sizeof(double)), *rr = calloc((size_t)n, sizeof(double));
		size_t ng = 0;
		double w1, w2;
		boot_once(dirs[k], &w1, &w2, &ng); /* warm-up: page cache, diod binary */
		for (int i = 0; i < n && !rc; i++)
			rc = boot_once(dirs[k], &boot[i], &down[i], &ng);
		for (int i = 0; i < n && !rc; i++)
			if ((gof[i] = gofers_once(dirs[k], ng)) < 0)
				rc = 1;
		bool have_runc = runc && runc_once(dirs[k]) >= 0; /* also the warm-up */
		for (int i = 0; i < n && have_runc; i++)
			if ((rr[i] = runc_once(dirs[k])) < 0)
				have_runc = false;
		struct {
			const char *what;
			double *v;
			bool ok;
		} rows[4] = { { "uvfs boot (to tree ready)", boot, !rc },
			      { "uvfs teardown", down, !rc },
			      { "gofer fork+exec (same n)", gof, !rc },
			      { "runc run (to exit of true)", rr, have_runc } };
		double med[4] = { 0 };
		for (int r = 0; r < 4; r++) {
			if (!rows[r].ok)
				continue;
			med[r] = median(rows[r].v, n);
			printf("%-11s %-26s %10.2f %10.2f %10.2f\n", names[k], rows[r].what, med[r], rows[r].v[0],
			       rows[r].v[n - 1]);
			if (csv)
				fprintf(csv, "%s,%s,%d,%.3f,%.3f,%.3f\n", names[k], rows[r].what, n, med[r], rows[r].v[0],
					rows[r].v[n - 1]);
		}
		if (!rc)
			printf("%-11s %zu gofers: their fork+exec is %.0f%% of the boot%s\n", names[k], ng,
			       100 * med[2] / med[0], have_runc ? "" : "; runc not available");
		if (!rc && have_runc)
			printf("%-11s runc run / uvfs boot = %.2f\n", names[k], med[3] / med[0]);
		if (csv && !rc && have_runc)
			fprintf(csv, "%s,ratio runc/uvfs boot,%d,%.3f,,\n", names[k], n, med[3] / med[0]);
		free(boot);
		free(down);
		free(gof);
		free(rr);
	}
	if (csv)
		fclose(csv);
	sh("rm -rf %s", base);
	return rc;
}
