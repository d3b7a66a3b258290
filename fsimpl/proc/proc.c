/* fsimpl/proc/proc.c — proc's root, /proc/sys and the filesystem type.
 * Per-task directories are in task.c. Values without a source in the
 * sandbox (memory, CPU times) come from the host or are zeros, always in
 * Linux's exact format so that procps, busybox and util-linux parse them. */
#include "fsimpl/proc/internal.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#define USER_HZ 100

struct task *current_task(struct proc_fs *fs) { return tasks_current(fs->tasks); }

static struct uvfs_tasks *TASKS(struct kernfs_node *n) { return proc_fs_of(n)->tasks; }

/* The configured CPU count (uvfs_tasks_set_ncpus), else the host's. */
static long ncpus(struct uvfs_tasks *t) { return tasks_ncpus(t); }

/* Sandbox uptime: since the task table was made. */
static uint64_t uptime_ns(struct uvfs_tasks *t) { return tasks_now_ns() - t->boot_ns; }

/* ------------------------------------------------------------ root files */

static int show_cmdline(struct kernfs_node *n, struct kernfs_buf *b)
{
	kernfs_printf(b, "BOOT_IMAGE=/vmlinuz-%s-uvfs quiet\n", TASKS(n)->release);
	return 0;
}

/* /proc/cpuinfo: gVisor's field list (WriteCPUInfoTo), one entry per
 * configured CPU, values from the host's /proc/cpuinfo entry of the same
 * index (wrapping around when the sandbox has more CPUs than the host) and
 * the topology of one socket with a core per CPU, as gVisor pretends. */
enum { F_HOST, F_CPU, F_COUNT, F_CONST };
static const struct cpu_field {
	const char *key;
	int kind;
	const char *dflt; /* F_CONST's value, F_HOST's when the host has none */
} cpu_fields[] = {
#if defined(__aarch64__)
	{ "processor", F_CPU, NULL },
	{ "BogoMIPS", F_HOST, "0.00" },
	{ "Features", F_HOST, "" },
	{ "CPU implementer", F_HOST, "0x00" },
	{ "CPU architecture", F_HOST, "8" },
	{ "CPU variant", F_HOST, "0x0" },
	{ "CPU part", F_HOST, "0x000" },
	{ "CPU revision", F_HOST, "0" },
#else
	{ "processor", F_CPU, NULL },
	{ "vendor_id", F_HOST, "unknown" },
	{ "cpu family", F_HOST, "0" },
	{ "model", F_HOST, "0" },
	{ "model name", F_HOST, "unknown" },
	{ "stepping", F_HOST, "unknown" },
	{ "cpu MHz", F_HOST, "0.000" },
	{ "physical id", F_CONST, "0" },
	{ "siblings", F_COUNT, NULL },
	{ "core id", F_CPU, NULL },
	{ "cpu cores", F_COUNT, NULL },
	{ "apicid", F_CPU, NULL },
	{ "initial apicid", F_CPU, NULL },
	{ "fpu", F_CONST, "yes" },
	{ "fpu_exception", F_CONST, "yes" },
	{ "cpuid level", F_HOST, "0" },
	{ "wp", F_CONST, "yes" },
	{ "flags", F_HOST, "" },
	{ "bogomips", F_HOST, "0.00" },
	{ "clflush size", F_HOST, "64" },
	{ "cache_alignment", F_HOST, "64" },
	{ "address sizes", F_HOST, "46 bits physical, 48 bits virtual" },
	{ "power management", F_HOST, "" },
#endif
};
#define NCPU_FIELDS (sizeof cpu_fields / sizeof cpu_fields[0])

/* The whole host file (NUL-terminated, malloc'd) or NULL. */
static char *read_host_cpuinfo(void)
{
	FILE *f = fopen("/proc/cpuinfo", "re");
	if (!f)
		return NULL;
	size_t cap = 16384, len = 0;
	char *p = malloc(cap);
	while (p) {
		len += fread(p + len, 1, cap - len - 1, f);
		if (len < cap - 1)
			break;
		char *q = realloc(p, cap *= 2);
		if (!q) {
			free(p);
			p = NULL;
		}
		p = q;
	}
	fclose(f);
	if (p)
		p[len] = 0;
	return p;
}

/* Start of host entry i (entries are separated by blank lines), or NULL. */
static const char *host_entry(const char *text, long i)
{
	const char *e = text;
	while (e && *e && i--) {
		e = strstr(e, "\n\n");
		e = e ? e + 2 : NULL;
	}
	return e && *e ? e : NULL;
}

/* Value of key in the entry at e: *val and *vlen, or false. */
static bool host_value(const char *e, const char *key, const char **val, size_t *vlen)
{
	size_t kl = strlen(key);
	for (const char *l = e; l && *l && *l != '\n';) {
		const char *eol = strchr(l, '\n');
		size_t ll = eol ? (size_t)(eol - l) : strlen(l);
		size_t k = strcspn(l, "\t:\n");
		const char *colon = memchr(l, ':', ll);
		if (k == kl && !memcmp(l, key, kl) && colon) {
			const char *v = colon + 1;
			if (v < l + ll && *v == ' ')
				v++;
			*val = v;
			*vlen = (size_t)(l + ll - v);
			return true;
		}
		l = eol ? eol + 1 : NULL;
	}
	return false;
}

static int show_cpuinfo(struct kernfs_node *n, struct kernfs_buf *b)
{
	long nc = ncpus(TASKS(n));
	char *host = read_host_cpuinfo();
	long nhost = 0;
	while (host && host_entry(host, nhost))
		nhost++;
	for (long i = 0; i < nc; i++) {
		const char *e = nhost ? host_entry(host, i % nhost) : NULL;
		for (size_t f = 0; f < NCPU_FIELDS; f++) {
			const struct cpu_field *cf = &cpu_fields[f];
			size_t kl = strlen(cf->key);
			/* Linux pads keys with tabs to column 16; "power management" has none. */
			const char *pad = kl >= 16 ? "" : kl < 8 ? "\t\t" : "\t";
			const char *v = cf->dflt;
			size_t vl = v ? strlen(v) : 0;
			if (cf->kind == F_HOST && e)
				host_value(e, cf->key, &v, &vl);
			kernfs_printf(b, "%s%s:", cf->key, pad);
			if (cf->kind == F_CPU)
				kernfs_printf(b, " %ld\n", i);
			else if (cf->kind == F_COUNT)
				kernfs_printf(b, " %ld\n", nc);
			else if (vl || kl < 16)
				kernfs_printf(b, " %.*s\n", (int)vl, v);
			else
				kernfs_write(b, "\n", 1);
		}
		kernfs_write(b, "\n", 1);
	}
	free(host);
	return 0;
}

static int show_filesystems(struct kernfs_node *n, struct kernfs_buf *b)
{
	struct uvfs *vfs = kernfs_node_fs(n)->vfs.vfs;
	for (;;) {
		ssize_t need = uvfs_list_fs_types(vfs, NULL, 0);
		if (need < 0)
			return (int)need;
		char *p = malloc((size_t)need + 1);
		if (!p)
			return -ENOMEM;
		ssize_t got = uvfs_list_fs_types(vfs, p, (size_t)need + 1);
		if (got == need) {
			kernfs_write(b, p, (size_t)got);
			free(p);
			return 0;
		}
		free(p); /* a type registered meanwhile */
		if (got < 0)
			return (int)got;
	}
}

static int show_loadavg(struct kernfs_node *n, struct kernfs_buf *b)
{
	int nt, nr;
	int32_t last;
	tasks_counts(TASKS(n), &nt, &nr, &last);
	kernfs_printf(b, "0.00 0.00 0.00 %d/%d %d\n", nr, nt, last);
	return 0;
}

static void kb(struct kernfs_buf *b, const char *name, unsigned long long v)
{
	char key[32];
	snprintf(key, sizeof key, "%s:", name);
	kernfs_printf(b, "%-16s%8llu kB\n", key, v);
}

static int show_meminfo(struct kernfs_node *n, struct kernfs_buf *b)
{
	struct sysinfo si;
	if (sysinfo(&si))
		memset(&si, 0, sizeof si);
	unsigned long long u = si.mem_unit ? si.mem_unit : 1;
	unsigned long long total = si.totalram * u / 1024, fre = si.freeram * u / 1024;
	unsigned long long buf = si.bufferram * u / 1024, shm = si.sharedram * u / 1024;
	unsigned long long swt = si.totalswap * u / 1024, swf = si.freeswap * u / 1024;
	unsigned long long used = total > fre ? total - fre : 0;
	kb(b, "MemTotal", total);
	kb(b, "MemFree", fre);
	kb(b, "MemAvailable", fre);
	kb(b, "Buffers", buf);
	kb(b, "Cached", shm);
	kb(b, "SwapCached", 0);
	kb(b, "Active", used);
	kb(b, "Inactive", 0);
	kb(b, "Active(anon)", used);
	kb(b, "Inactive(anon)", 0);
	kb(b, "Active(file)", 0);
	kb(b, "Inactive(file)", 0);
	kb(b, "Unevictable", 0);
	kb(b, "Mlocked", 0);
	kb(b, "SwapTotal", swt);
	kb(b, "SwapFree", swf);
	kb(b, "Dirty", 0);
	kb(b, "Writeback", 0);
	kb(b, "AnonPages", used);
	kb(b, "Mapped", 0);
	kb(b, "Shmem", shm);
	kb(b, "KReclaimable", 0);
	kb(b, "Slab", 0);
	kb(b, "SReclaimable", 0);
	kb(b, "SUnreclaim", 0);
	kb(b, "KernelStack", 0);
	kb(b, "PageTables", 0);
	kb(b, "CommitLimit", total / 2 + swt);
	kb(b, "Committed_AS", used);
	kb(b, "VmallocTotal", 34359738367ULL);
	kb(b, "VmallocUsed", 0);
	kb(b, "VmallocChunk", 0);
	return 0;
}

static int show_stat(struct kernfs_node *n, struct kernfs_buf *b)
{
	struct uvfs_tasks *t = TASKS(n);
	long nc = ncpus(t);
	unsigned long long up = uptime_ns(t), idle = up / (1000000000ULL / USER_HZ);
	/* All time idle: no CPU accounting in a VFS. */
	kernfs_printf(b, "cpu  0 0 0 %llu 0 0 0 0 0 0\n", idle * (unsigned long long)nc);
	for (long i = 0; i < nc; i++)
		kernfs_printf(b, "cpu%ld 0 0 0 %llu 0 0 0 0 0 0\n", i, idle);
	int nt, nr;
	int32_t last;
	tasks_counts(t, &nt, &nr, &last);
	struct timespec now = uvfs_now();
	kernfs_printf(b, "intr 0\nctxt 0\nbtime %llu\nprocesses %d\nprocs_running %d\nprocs_blocked 0\n",
		      (unsigned long long)now.tv_sec - up / 1000000000ULL, last, nr);
	kernfs_printf(b, "softirq 0 0 0 0 0 0 0 0 0 0 0\n");
	return 0;
}

static int show_uptime(struct kernfs_node *n, struct kernfs_buf *b)
{
	unsigned long long up = uptime_ns(TASKS(n)) / 10000000ULL; /* centiseconds */
	unsigned long long idle = up * (unsigned long long)ncpus(TASKS(n));
	kernfs_printf(b, "%llu.%02llu %llu.%02llu\n", up / 100, up % 100, idle / 100, idle % 100);
	return 0;
}

static int show_version(struct kernfs_node *n, struct kernfs_buf *b)
{
	struct uvfs_tasks *t = TASKS(n);
	pthread_mutex_lock(&t->lock);
	kernfs_printf(b, "Linux version %s (uvfs@uvfs) (gcc version 12.2.0) %s\n", t->release, t->version);
	pthread_mutex_unlock(&t->lock);
	return 0;
}

static ssize_t copy_link(const char *s, char *buf, size_t len)
{
	size_t l = strlen(s);
	if (l > len)
		l = len;
	memcpy(buf, s, l);
	return (ssize_t)l;
}

static ssize_t mounts_readlink(struct kernfs_node *n, char *buf, size_t len) { return copy_link("self/mounts", buf, len); }

ssize_t proc_self_readlink(struct kernfs_node *n, char *buf, size_t len)
{
	struct task *tk = current_task(proc_fs_of(n));
	if (!tk)
		return -ENOENT;
	char s[16];
	snprintf(s, sizeof s, "%d", tk->pid);
	task_put(tk);
	return copy_link(s, buf, len);
}

ssize_t proc_thread_self_readlink(struct kernfs_node *n, char *buf, size_t len)
{
	struct task *tk = current_task(proc_fs_of(n));
	if (!tk)
		return -ENOENT;
	char s[40];
	snprintf(s, sizeof s, "%d/task/%d", tk->pid, tk->tid);
	task_put(tk);
	return copy_link(s, buf, len);
}

/* ------------------------------------------------------------ /proc/sys */

enum { UTS_HOST, UTS_TYPE, UTS_RELEASE, UTS_VERSION };

static int show_uts(struct kernfs_node *n, struct kernfs_buf *b, int which)
{
	struct uvfs_tasks *t = TASKS(n);
	pthread_mutex_lock(&t->lock);
	const char *v = which == UTS_HOST ? t->hostname
		      : which == UTS_TYPE ? "Linux"
		      : which == UTS_RELEASE ? t->release
					     : t->version;
	kernfs_printf(b, "%s\n", v);
	pthread_mutex_unlock(&t->lock);
	return 0;
}
static int show_hostname(struct kernfs_node *n, struct kernfs_buf *b) { return show_uts(n, b, UTS_HOST); }
static int show_ostype(struct kernfs_node *n, struct kernfs_buf *b) { return show_uts(n, b, UTS_TYPE); }
static int show_osrelease(struct kernfs_node *n, struct kernfs_buf *b) { return show_uts(n, b, UTS_RELEASE); }
static int show_kversion(struct kernfs_node *n, struct kernfs_buf *b) { return show_uts(n, b, UTS_VERSION); }

/* proc_dostring: a write at offset 0 replaces the value (up to the first
 * newline); the UTS namespace's owner needs CAP_SYS_ADMIN. */
static ssize_t store_hostname(struct kernfs_node *n, struct uvfs_file *f, const char *buf, size_t len, uint64_t off)
{
	if (!uvfs_cred_has_cap(&f->f_cred, CAP_SYS_ADMIN))
		return -EPERM;
	if (off != 0)
		return (ssize_t)len; /* Linux ignores writes past the start (sysctl_writes_strict warns) */
	size_t l = 0;
	while (l < len && buf[l] != '\n' && buf[l] != 0)
		l++;
	if (l > 64)
		l = 64;
	struct uvfs_tasks *t = TASKS(n);
	pthread_mutex_lock(&t->lock);
	memcpy(t->hostname, buf, l);
	t->hostname[l] = 0;
	pthread_mutex_unlock(&t->lock);
	return (ssize_t)len;
}

#define RO_FILE(n, fn) { .name = n, .mode = S_IFREG | 0444, .show = fn }

static int show_max_map_count(struct kernfs_node *n, struct kernfs_buf *b) { kernfs_printf(b, "2147483647\n"); return 0; }
static int show_mmap_min_addr(struct kernfs_node *n, struct kernfs_buf *b) { kernfs_printf(b, "65536\n"); return 0; }
static int show_overcommit(struct kernfs_node *n, struct kernfs_buf *b) { kernfs_printf(b, "0\n"); return 0; }

static const struct kernfs_entry sys_kernel[] = {
	{ .name = "hostname", .mode = S_IFREG | 0644, .show = show_hostname, .store = store_hostname },
	RO_FILE("ostype", show_ostype),
	RO_FILE("osrelease", show_osrelease),
	RO_FILE("version", show_kversion),
	{ 0 },
};
static const struct kernfs_entry sys_vm[] = {
	RO_FILE("max_map_count", show_max_map_count),
	RO_FILE("mmap_min_addr", show_mmap_min_addr),
	RO_FILE("overcommit_memory", show_overcommit),
	{ 0 },
};
static const struct kernfs_entry sys_dir[] = {
	{ .name = "kernel", .mode = S_IFDIR | 0555, .children = sys_kernel },
	{ .name = "vm", .mode = S_IFDIR | 0555, .children = sys_vm },
	{ 0 },
};

static const struct kernfs_entry root_children[] = {
	RO_FILE("cmdline", show_cmdline),
	RO_FILE("cpuinfo", show_cpuinfo),
	RO_FILE("filesystems", show_filesystems),
	RO_FILE("loadavg", show_loadavg),
	RO_FILE("meminfo", show_meminfo),
	{ .name = "mounts", .mode = S_IFLNK | 0777, .readlink = mounts_readlink },
	{ .name = "self", .mode = S_IFLNK | 0777, .readlink = proc_self_readlink },
	RO_FILE("stat", show_stat),
	{ .name = "sys", .mode = S_IFDIR | 0555, .children = sys_dir },
	{ .name = "thread-self", .mode = S_IFLNK | 0777, .readlink = proc_thread_self_readlink },
	RO_FILE("uptime", show_uptime),
	RO_FILE("version", show_version),
	{ 0 },
};
static const struct kernfs_entry proc_root = {
	.name = "", .mode = S_IFDIR | 0555, .children = root_children, .dyn = &proc_pid_dyn,
};

/* ------------------------------------------------------------------ type */

static void proc_release(struct kernfs_fs *k)
{
	struct proc_fs *fs = container_of(k, struct proc_fs, k);
	tasks_put(fs->tasks);
	free(fs);
}

static int proc_get_fs(struct uvfs *vfs, const struct uvfs_cred *cred, const char *source,
		       const struct uvfs_fs_opts *opts, struct uvfs_filesystem **out)
{
	struct uvfs_opts o;
	int err = uvfs_opts_parse(&o, opts ? opts->data : NULL);
	if (err)
		return err;
	uint64_t limit;
	err = kernfs_take_common_opts(&o, "proc", &limit);
	uvfs_opts_free(&o);
	if (err)
		return err;
	const struct uvfs_proc_internal *in = opts ? opts->internal : NULL;
	struct uvfs_tasks *t = NULL;
	if (in && in->tasks) {
		t = in->tasks;
		tasks_get(t);
	} else if (!(t = tasks_default(vfs))) {
		uvfs_log(UVFS_LOG_ERROR, "proc: no task table for this instance (uvfs_tasks_new)");
		return -EINVAL;
	}
	struct proc_fs *fs = calloc(1, sizeof(*fs));
	if (!fs) {
		tasks_put(t);
		return -ENOMEM;
	}
	fs->tasks = t;
	fs->k.dops = &proc_task_dops;
	fs->k.release = proc_release;
	fs->k.magic = UVFS_PROC_SUPER_MAGIC;
	if ((err = kernfs_fs_init(&fs->k, vfs, &uvfs_proc_type, &proc_root, NULL, (unsigned long)limit))) {
		tasks_put(t);
		free(fs);
		return err;
	}
	*out = &fs->k.vfs;
	return 0;
}

UVFS_API const struct uvfs_fs_type uvfs_proc_type = { .name = "proc", .get_fs = proc_get_fs };
