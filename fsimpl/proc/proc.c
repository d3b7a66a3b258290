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

static long ncpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? n : 1;
}

/* Sandbox uptime: since the task table was made. */
static uint64_t uptime_ns(struct uvfs_tasks *t) { return tasks_now_ns() - t->boot_ns; }

/* ------------------------------------------------------------ root files */

static int show_cmdline(struct kernfs_node *n, struct kernfs_buf *b)
{
	kernfs_printf(b, "BOOT_IMAGE=/vmlinuz-%s-uvfs quiet\n", TASKS(n)->release);
	return 0;
}

static int show_cpuinfo(struct kernfs_node *n, struct kernfs_buf *b)
{
	long nc = ncpus();
	for (long i = 0; i < nc; i++)
		kernfs_printf(b,
			      "processor\t: %ld\n"
			      "vendor_id\t: GenuineIntel\n"
			      "cpu family\t: 6\n"
			      "model\t\t: 85\n"
			      "model name\t: uvfs virtual CPU\n"
			      "stepping\t: 7\n"
			      "cpu MHz\t\t: 2000.000\n"
			      "cache size\t: 8192 KB\n"
			      "physical id\t: 0\n"
			      "siblings\t: %ld\n"
			      "core id\t\t: %ld\n"
			      "cpu cores\t: %ld\n"
			      "apicid\t\t: %ld\n"
			      "initial apicid\t: %ld\n"
			      "fpu\t\t: yes\n"
			      "fpu_exception\t: yes\n"
			      "cpuid level\t: 13\n"
			      "wp\t\t: yes\n"
			      "flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 "
			      "clflush mmx fxsr sse sse2 ss ht syscall nx pdpe1gb rdtscp lm constant_tsc rep_good nopl "
			      "xtopology nonstop_tsc cpuid pni pclmulqdq ssse3 fma cx16 pcid sse4_1 sse4_2 x2apic movbe "
			      "popcnt aes xsave avx f16c rdrand hypervisor lahf_lm abm 3dnowprefetch fsgsbase bmi1 hle "
			      "avx2 smep bmi2 erms invpcid rtm avx512f avx512dq rdseed adx smap clflushopt clwb "
			      "avx512cd avx512bw avx512vl xsaveopt xsavec xgetbv1 xsaves\n"
			      "bogomips\t: 4000.00\n"
			      "clflush size\t: 64\n"
			      "cache_alignment\t: 64\n"
			      "address sizes\t: 46 bits physical, 48 bits virtual\n"
			      "power management:\n\n",
			      i, nc, i, nc, i, i);
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
	long nc = ncpus();
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
	unsigned long long idle = up * (unsigned long long)ncpus();
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
