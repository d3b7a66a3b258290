/* test_cpuinfo.c — /proc/cpuinfo from the host's: one entry per configured
 * CPU (uvfs_tasks_set_ncpus), gVisor's field list in its order, values of
 * the host's entries; checked by field and by util-linux lscpu reading it
 * from a sysroot. */
#include <stdio.h>
#include <sys/stat.h>

#include "fsimpl/sys/sys.h"
#include "proc_fx.h"

#if defined(__x86_64__)
static const char *const fields[] = {
	"processor", "vendor_id", "cpu family", "model", "model name", "stepping", "cpu MHz", "physical id",
	"siblings", "core id", "cpu cores", "apicid", "initial apicid", "fpu", "fpu_exception", "cpuid level", "wp",
	"flags", "bogomips", "clflush size", "cache_alignment", "address sizes", "power management", NULL,
};
#define HOST_KEY "model name"
#define LSCPU_KEY "Model name:"
#elif defined(__aarch64__)
static const char *const fields[] = {
	"processor", "BogoMIPS", "Features", "CPU implementer", "CPU architecture", "CPU variant", "CPU part",
	"CPU revision", NULL,
};
#define HOST_KEY "CPU part"
#define LSCPU_KEY "Model:"
#endif

/* Value of key in the entry of text starting at *pos (advances it past the entry). */
static bool entry_value(const char *entry, const char *key, char *out, size_t len)
{
	for (const char *l = entry; *l && *l != '\n'; l = strchr(l, '\n') + 1) {
		const char *colon = strchr(l, ':');
		const char *eol = strchr(l, '\n');
		if (!colon || !eol || colon > eol)
			return false;
		size_t kl = strcspn(l, "\t:");
		if (kl == strlen(key) && !strncmp(l, key, kl)) {
			const char *v = colon + 1 + (colon[1] == ' ');
			snprintf(out, len, "%.*s", (int)(eol - v), v);
			return true;
		}
	}
	return false;
}

static char *host_cpuinfo(void)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	cr_assert(f);
	static char buf[1 << 20];
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	return buf;
}

PROC_TEST(cpuinfo, entries_and_fields)
{
	FX_ASSERT_ERR(uvfs_tasks_set_ncpus(T, 0), -EINVAL);
	FX_ASSERT_ERR(uvfs_tasks_set_ncpus(T, -2), -EINVAL);
	FX_ASSERT_OK(uvfs_tasks_set_ncpus(T, 3));
	char *s;
	cr_assert_gt(pfx_read("/proc/cpuinfo", &s), 0);
	const char *host = host_cpuinfo();
	char hv[4096], v[4096];
	cr_assert(entry_value(host, HOST_KEY, hv, sizeof hv));
	int n = 0;
	for (char *e = s; *e; n++) {
		/* The fields, each once, in order, then a blank line. */
		char *l = e;
		for (int i = 0; fields[i]; i++) {
			size_t kl = strcspn(l, "\t:");
			cr_assert(kl == strlen(fields[i]) && !strncmp(l, fields[i], kl), "entry %d field %d: %.40s", n, i, l);
			l = strchr(l, '\n') + 1;
		}
		cr_assert_eq(*l, '\n', "entry %d ends with a blank line", n);
		cr_assert(entry_value(e, "processor", v, sizeof v));
		cr_assert_eq(atoi(v), n);
		cr_assert(entry_value(e, HOST_KEY, v, sizeof v));
		cr_assert_str_eq(v, hv);
#if defined(__x86_64__)
		cr_assert(entry_value(e, "core id", v, sizeof v) && atoi(v) == n);
		cr_assert(entry_value(e, "siblings", v, sizeof v) && atoi(v) == 3);
		cr_assert(entry_value(e, "flags", v, sizeof v) && entry_value(host, "flags", hv + 2048, 2048));
		cr_assert_str_eq(v, hv + 2048);
		cr_assert(entry_value(e, "vendor_id", v, sizeof v) && entry_value(host, "vendor_id", hv + 2048, 2048));
		cr_assert_str_eq(v, hv + 2048);
		/* Linux's padding: a tab, two for keys shorter than 8. */
		cr_assert(strstr(e, "model\t\t: ") && strstr(e, "processor\t: "));
#endif
		e = l + 1;
	}
	cr_assert_eq(n, 3);
	/* /proc/stat agrees. */
	char *st;
	cr_assert_gt(pfx_read("/proc/stat", &st), 0);
	cr_assert(strstr(st, "\ncpu2 ") && !strstr(st, "\ncpu3 "), "%s", st);
	free(st);

	/* sysfs mounted after the setting agrees. */
	FX_ASSERT_OK(uvfs_register_fs_type(fx.vfs, &uvfs_sysfs_type, UVFS_FS_USER_MOUNT));
	fx_must_mkdir("/sys", 0555);
	struct uvfs_pathop sp = fx_popf("/sys");
	FX_ASSERT_OK(uvfs_mount_at(fx.vfs, &fx.cred, "sysfs", &sp, "sysfs", &(struct uvfs_mount_opts){ 0 }));
	char list[256];
	fx_list_dir("/sys/devices/system/cpu", list, sizeof list);
	cr_assert_str_eq(list, "cpu0,cpu1,cpu2,kernel_max,online,possible,present");

	/* lscpu, reading our cpuinfo and sysfs cpu files from a sysroot. */
	char dir[] = "/tmp/uvfs-cpuinfo-XXXXXX", path[256], cmd[512];
	cr_assert(mkdtemp(dir));
	snprintf(cmd, sizeof cmd, "mkdir -p %s/proc %s/sys/devices/system/cpu", dir, dir);
	cr_assert_eq(system(cmd), 0);
	snprintf(path, sizeof path, "%s/proc/cpuinfo", dir);
	FILE *f = fopen(path, "w");
	fputs(s, f);
	fclose(f);
	const char *sysfiles[] = { "possible", "present", "online", NULL };
	for (int i = 0; sysfiles[i]; i++) {
		char src[128], buf[64];
		snprintf(src, sizeof src, "/sys/devices/system/cpu/%s", sysfiles[i]);
		cr_assert_gt(fx_read_file(src, buf, sizeof buf), 0);
		cr_assert_str_eq(buf, "0-2\n", "%s", src);
		snprintf(path, sizeof path, "%s/sys/devices/system/cpu/%s", dir, sysfiles[i]);
		f = fopen(path, "w");
		fputs(buf, f);
		fclose(f);
	}
	snprintf(cmd, sizeof cmd, "lscpu -s %s", dir);
	FILE *p = popen(cmd, "r");
	char line[4096];
	bool cpus = false, model = false;
	cr_assert(entry_value(host, HOST_KEY, hv, sizeof hv));
	while (fgets(line, sizeof line, p)) {
		if (!strncmp(line, "CPU(s):", 7))
			cpus = atoi(line + 7) == 3;
		if (!strncmp(line, LSCPU_KEY, strlen(LSCPU_KEY)))
			model = strstr(line, hv) != NULL;
	}
	cr_assert_eq(pclose(p), 0);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	system(cmd);
	cr_assert(cpus, "lscpu: CPU(s) is not 3");
	cr_assert(model, "lscpu: model is not the host's %s", hv);
	free(s);
}
