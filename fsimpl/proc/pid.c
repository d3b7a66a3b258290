/* fsimpl/proc/pid.c — /proc/[pid] and /proc/[pid]/task/[tid]: one
 * directory per registered task, its node data the task (a reference), so
 * that the directory and everything below go stale when it unregisters. */
#include "fsimpl/proc/internal.h"

#include "fsimpl/cgroup/internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define USER_HZ 100

static void td_get(void *d) { task_get(d); }
static void td_put(void *d) { task_put(d); }
static bool td_alive(void *d) { return !atomic_load(&((struct task *)d)->dead); }
static void td_owner(void *d, uint32_t *uid, uint32_t *gid)
{
	struct task *tk = d;
	*uid = tk->cred.euid;
	*gid = tk->cred.egid;
}
const struct kernfs_data_ops proc_task_dops = { .get = td_get, .put = td_put, .alive = td_alive, .owner = td_owner };

static struct task *TK(struct kernfs_node *n) { return n->data; }

/* ------------------------------------------------- ptrace-style access */

/* Linux ptrace_may_access(task, PTRACE_MODE_READ_FSCREDS): a task of the
 * same thread group (the caller context's), a caller whose fsuid equals
 * each of the task's uids and whose fsgid equals each of its gids, or
 * CAP_SYS_PTRACE. (Linux also refuses non-dumpable tasks to callers
 * without the capability; tasks here are all dumpable.) */
static bool may_read_task(struct task *tk, const struct uvfs_cred *c)
{
	int32_t me = uvfs_current_ctx()->tid;
	if (me) {
		struct task *cur = tasks_find(tk->tasks, me);
		bool same = cur && cur->pid == tk->pid;
		if (cur)
			task_put(cur);
		if (same)
			return true;
	}
	const struct uvfs_cred *t = &tk->cred;
	if (c->fsuid == t->uid && c->fsuid == t->euid && c->fsgid == t->gid && c->fsgid == t->egid)
		return true;
	return uvfs_cred_has_cap(c, CAP_SYS_PTRACE);
}

/* Opens of environ (Linux mm_access: EACCES). */
static int ptrace_open(struct kernfs_node *n, struct uvfs_file *f)
{
	return may_read_task(TK(n), &f->f_cred) ? 0 : -EACCES;
}
/* fdinfo/ (Linux proc_fdinfo_permission). */
static int ptrace_permission(struct kernfs_node *n, const struct uvfs_cred *cred, int mask)
{
	return may_read_task(TK(n), cred) ? 0 : -EACCES;
}
/* Links (cwd, root, exe, fd/N: Linux proc_fd_access_allowed). readlink
 * has no credentials argument: the caller is the context's cred. With
 * none (an embedder's own call, outside any task) nothing is checked. */
static int ptrace_link(struct kernfs_node *n)
{
	const struct uvfs_cred *c = uvfs_current_ctx()->cred;
	return !c || may_read_task(TK(n), c) ? 0 : -EACCES;
}

/* ------------------------------------------------------------- contents */

static int show_cmdline(struct kernfs_node *n, struct kernfs_buf *b)
{
	kernfs_write(b, TK(n)->argv, TK(n)->argv_len);
	return 0;
}

static int show_environ(struct kernfs_node *n, struct kernfs_buf *b)
{
	kernfs_write(b, TK(n)->env, TK(n)->env_len);
	return 0;
}

static int show_comm(struct kernfs_node *n, struct kernfs_buf *b)
{
	struct task *tk = TK(n);
	pthread_mutex_lock(&tk->lock);
	kernfs_printf(b, "%s\n", tk->comm);
	pthread_mutex_unlock(&tk->lock);
	return 0;
}

static ssize_t store_comm(struct kernfs_node *n, struct uvfs_file *f, const char *buf, size_t len, uint64_t off)
{
	struct task *tk = TK(n);
	char c[16];
	size_t l = len < 15 ? len : 15;
	memcpy(c, buf, l);
	c[l] = 0;
	c[strcspn(c, "\n")] = 0;
	pthread_mutex_lock(&tk->lock);
	strcpy(tk->comm, c);
	pthread_mutex_unlock(&tk->lock);
	return (ssize_t)len;
}

static int show_cgroup(struct kernfs_node *n, struct kernfs_buf *b)
{
	return cgroup_show_task(kernfs_node_fs(n)->vfs.vfs, TK(n), b);
}

/* Path of a task vd as the reader sees it: relative to the current task's
 * root (the reader, once the caller context exists), else the task's own. */
static ssize_t vd_link(struct kernfs_node *n, const struct uvfs_vd *vd, char *buf, size_t len)
{
	struct proc_fs *fs = proc_fs_of(n);
	struct uvfs_vd root = { 0 };
	struct task *cur = current_task(fs);
	int err = cur ? task_get_vd(cur, TASK_ROOT, &root) : -ESRCH;
	if (cur)
		task_put(cur);
	if (err && (err = task_get_vd(TK(n), TASK_ROOT, &root)))
		return err;
	/* readlink(2) truncates: build the whole path, then copy. */
	char *full = malloc(UVFS_PATH_MAX);
	ssize_t r = full ? uvfs_vd_path(fs->k.vfs.vfs, &root, vd, full, UVFS_PATH_MAX, UVFS_VD_PATH_DELETED) : -ENOMEM;
	uvfs_vd_put(&root);
	if (r >= 0) {
		if ((size_t)r > len)
			r = (ssize_t)len;
		memcpy(buf, full, (size_t)r);
	}
	free(full);
	return r;
}

static ssize_t task_vd_readlink(struct kernfs_node *n, int which, char *buf, size_t len)
{
	struct uvfs_vd vd;
	int err = ptrace_link(n);
	if (!err)
		err = task_get_vd(TK(n), which, &vd);
	if (err)
		return err;
	ssize_t r = vd_link(n, &vd, buf, len);
	uvfs_vd_put(&vd);
	return r;
}
static ssize_t cwd_readlink(struct kernfs_node *n, char *buf, size_t len) { return task_vd_readlink(n, TASK_CWD, buf, len); }
static ssize_t root_readlink(struct kernfs_node *n, char *buf, size_t len) { return task_vd_readlink(n, TASK_ROOT, buf, len); }
static ssize_t exe_readlink(struct kernfs_node *n, char *buf, size_t len) { return task_vd_readlink(n, TASK_EXE, buf, len); }

static int show_mounts_fmt(struct kernfs_node *n, struct kernfs_buf *b, int format)
{
	struct task *tk = TK(n);
	struct uvfs_mntns *ns;
	struct uvfs_vd root;
	int err = task_get_mntns(tk, &ns);
	if (err)
		return err;
	if ((err = task_get_vd(tk, TASK_ROOT, &root))) {
		uvfs_mntns_put(ns);
		return err;
	}
	char *text;
	ssize_t r = uvfs_mntns_show(ns, &root, format, &text);
	uvfs_vd_put(&root);
	uvfs_mntns_put(ns);
	if (r < 0)
		return (int)r;
	kernfs_write(b, text, (size_t)r);
	free(text);
	return 0;
}
static int show_mounts(struct kernfs_node *n, struct kernfs_buf *b) { return show_mounts_fmt(n, b, UVFS_SHOW_MOUNTS); }
static int show_mountinfo(struct kernfs_node *n, struct kernfs_buf *b) { return show_mounts_fmt(n, b, UVFS_SHOW_MOUNTINFO); }

static const char *state_name(char s)
{
	switch (s) {
	case 'R': return "R (running)";
	case 'S': return "S (sleeping)";
	case 'D': return "D (disk sleep)";
	case 'T': return "T (stopped)";
	case 't': return "t (tracing stop)";
	case 'X': return "X (dead)";
	case 'Z': return "Z (zombie)";
	case 'P': return "P (parked)";
	case 'I': return "I (idle)";
	default: return "S (sleeping)";
	}
}

static int nthreads(struct task *tk)
{
	struct uvfs_tasks *t = tk->tasks;
	int n = 0;
	pthread_mutex_lock(&t->lock);
	for (size_t i = 0; i < t->n; i++)
		n += t->v[i]->pid == tk->pid;
	pthread_mutex_unlock(&t->lock);
	return n ? n : 1;
}

static int show_status(struct kernfs_node *n, struct kernfs_buf *b)
{
	struct task *tk = TK(n);
	const struct uvfs_cred *c = &tk->cred;
	char comm[16], state;
	pthread_mutex_lock(&tk->lock);
	memcpy(comm, tk->comm, sizeof comm);
	state = tk->state;
	pthread_mutex_unlock(&tk->lock);
	kernfs_printf(b, "Name:\t%s\nUmask:\t0022\nState:\t%s\nTgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t%d\nTracerPid:\t0\n",
		      comm, state_name(state), tk->pid, tk->tid, tk->ppid);
	kernfs_printf(b, "Uid:\t%u\t%u\t%u\t%u\nGid:\t%u\t%u\t%u\t%u\nFDSize:\t64\nGroups:\t", c->uid, c->euid, c->uid,
		      c->fsuid, c->gid, c->egid, c->gid, c->fsgid);
	for (uint32_t i = 0; i < c->ngroups; i++)
		kernfs_printf(b, "%u ", c->groups[i]);
	kernfs_printf(b, "\nNStgid:\t%d\nNSpid:\t%d\nNSpgid:\t%d\nNSsid:\t%d\n", tk->pid, tk->tid, tk->pid, tk->pid);
	kernfs_printf(b, "Threads:\t%d\nSigQ:\t0/0\n", nthreads(tk));
	kernfs_printf(b, "SigPnd:\t%016x\nShdPnd:\t%016x\nSigBlk:\t%016x\nSigIgn:\t%016x\nSigCgt:\t%016x\n", 0, 0, 0, 0, 0);
	unsigned long long caps = c->caps & 0x1ffffffffffULL; /* CAP_LAST_CAP 40 */
	kernfs_printf(b, "CapInh:\t%016llx\nCapPrm:\t%016llx\nCapEff:\t%016llx\nCapBnd:\t%016llx\nCapAmb:\t%016llx\n",
		      0ULL, caps, caps, 0x1ffffffffffULL, 0ULL);
	kernfs_printf(b, "NoNewPrivs:\t0\nSeccomp:\t0\nSeccomp_filters:\t0\n");
	kernfs_printf(b, "voluntary_ctxt_switches:\t0\nnonvoluntary_ctxt_switches:\t0\n");
	return 0;
}

static int show_stat(struct kernfs_node *n, struct kernfs_buf *b)
{
	struct task *tk = TK(n);
	char comm[16], state;
	pthread_mutex_lock(&tk->lock);
	memcpy(comm, tk->comm, sizeof comm);
	state = tk->state;
	pthread_mutex_unlock(&tk->lock);
	unsigned long long start = tk->start_ns / (1000000000ULL / USER_HZ);
	/* Fields 1-52 of proc(5); 4-8 ppid pgrp session tty_nr tpgid. */
	kernfs_printf(b, "%d (%s) %c %d %d %d 0 -1 4194304 0 0 0 0 0 0 0 0 20 0 %d 0 %llu 0 0 %llu", tk->tid, comm,
		      state, tk->ppid, tk->pid, tk->pid, nthreads(tk), start, 18446744073709551615ULL);
	/* 26-37: startcode..cnswap; 38 exit_signal; 39-52. */
	kernfs_printf(b, " 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n");
	return 0;
}

/* The sandbox's user namespace maps every id to itself (Linux's initial
 * namespace: "%10u %10u %10u"). */
static int show_id_map(struct kernfs_node *n, struct kernfs_buf *b)
{
	kernfs_printf(b, "%10u %10u %10u\n", 0u, 0u, 4294967295u);
	return 0;
}

static int show_statm(struct kernfs_node *n, struct kernfs_buf *b)
{
	kernfs_printf(b, "0 0 0 0 0 0 0\n");
	return 0;
}

/* ------------------------------------------------------------ fd/ */

static ssize_t fd_readlink(struct kernfs_node *n, char *buf, size_t len)
{
	struct task *tk = TK(n);
	struct uvfs_file *f;
	if (!tk->fd_ops)
		return -ENOENT;
	int err = ptrace_link(n);
	if (err)
		return err;
	err = task_fd_get(tk, (int)n->idx, &f);
	if (err)
		return err == -EBADF ? -ENOENT : err;
	struct uvfs_vd vd;
	uvfs_file_vd(f, &vd);
	uvfs_file_put(f);
	ssize_t r = vd_link(n, &vd, buf, len);
	uvfs_vd_put(&vd);
	return r;
}
/* Linux tid_fd_revalidate: the link lives as long as the descriptor. */
static bool fd_valid(struct kernfs_node *n)
{
	struct task *tk = TK(n);
	struct uvfs_file *f;
	if (task_fd_get(tk, (int)n->idx, &f))
		return false;
	uvfs_file_put(f);
	return true;
}
static const struct kernfs_entry fd_link = {
	.name = "fd", .mode = S_IFLNK | 0700, .readlink = fd_readlink, .valid = fd_valid,
};

/* ------------------------------------------------------------ fdinfo/ */

/* The kernel's O_LARGEFILE (glibc defines it 0 on 64-bit): Linux adds it
 * to every 64-bit open, and fdinfo shows it. */
#if defined(__x86_64__)
#define K_O_LARGEFILE 0100000
#elif defined(__aarch64__)
#define K_O_LARGEFILE 0400000
#else
#define K_O_LARGEFILE 0
#endif

/* Linux seq_show (fs/proc/fd.c): pos, flags in octal with O_CLOEXEC from
 * the descriptor, mnt_id, ino. */
static int show_fdinfo(struct kernfs_node *n, struct kernfs_buf *b)
{
	struct task *tk = TK(n);
	struct uvfs_file *f;
	if (task_fd_get(tk, (int)n->idx, &f))
		return -ENOENT;
	uvfs_lock_acquire(&f->f_lock);
	uint64_t pos = f->f_pos;
	uvfs_lock_release(&f->f_lock);
	unsigned flags = (unsigned)uvfs_file_flags(f) | K_O_LARGEFILE;
	if (task_fd_flags(tk, (int)n->idx) & FD_CLOEXEC)
		flags |= O_CLOEXEC;
	kernfs_printf(b, "pos:\t%" PRIu64 "\nflags:\t0%o\nmnt_id:\t%" PRIu64 "\nino:\t%" PRIu64 "\n", pos, flags,
		      uvfs_mount_id(f->f_vd.mount), f->f_inode->i_ino);
	uvfs_file_put(f);
	return 0;
}
static const struct kernfs_entry fdinfo_file = {
	.name = "fdinfo", .mode = S_IFREG | 0444, .show = show_fdinfo, .valid = fd_valid,
};

static bool parse_num(const char *name, size_t len, int64_t max, int64_t *out)
{
	if (!len || len > 10 || (name[0] == '0' && len > 1))
		return false;
	int64_t v = 0;
	for (size_t i = 0; i < len; i++) {
		if (name[i] < '0' || name[i] > '9')
			return false;
		v = v * 10 + (name[i] - '0');
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

static uint64_t child_ino(struct kernfs_node *dir, int64_t v)
{
	char s[24];
	snprintf(s, sizeof s, "#%lld", (long long)v);
	return kernfs_ino(dir->vfs.i_ino, s, strlen(s));
}

static int fd_lookup_tmpl(struct kernfs_node *dir, const char *name, size_t len, const struct kernfs_entry *tmpl,
			  struct kernfs_node **out)
{
	struct task *tk = TK(dir);
	int64_t fd;
	*out = NULL;
	if (!tk->fd_ops || !parse_num(name, len, INT_MAX, &fd))
		return 0;
	struct uvfs_file *f;
	if (task_fd_get(tk, (int)fd, &f))
		return 0;
	uvfs_file_put(f);
	struct kernfs_node *n = kernfs_new_node(kernfs_node_fs(dir), dir, tmpl, tk, child_ino(dir, fd));
	if (!n)
		return -ENOMEM;
	n->idx = fd;
	*out = n;
	return 0;
}

static int fd_lookup(struct kernfs_node *dir, const char *name, size_t len, struct kernfs_node **out)
{
	return fd_lookup_tmpl(dir, name, len, &fd_link, out);
}
static int fdinfo_lookup(struct kernfs_node *dir, const char *name, size_t len, struct kernfs_node **out)
{
	return fd_lookup_tmpl(dir, name, len, &fdinfo_file, out);
}

static int fd_iterate_type(struct kernfs_node *dir, struct uvfs_dir_ctx *ctx, int64_t pos, unsigned dtype)
{
	struct task *tk = TK(dir);
	if (!tk->fd_ops)
		return 0;
	int fds[32];
	int after = (int)pos - 1; /* dynamic offset of fd N is N */
	for (;;) {
		int k = task_fd_list(tk, after, fds, 32);
		if (k <= 0)
			return k;
		for (int i = 0; i < k; i++) {
			char s[16];
			snprintf(s, sizeof s, "%d", fds[i]);
			if (kernfs_emit(ctx, dir, s, child_ino(dir, fds[i]), dtype, fds[i]))
				return 0;
			after = fds[i];
		}
	}
}
static int fd_iterate(struct kernfs_node *dir, struct uvfs_dir_ctx *ctx, int64_t pos)
{
	return fd_iterate_type(dir, ctx, pos, DT_LNK);
}
static int fdinfo_iterate(struct kernfs_node *dir, struct uvfs_dir_ctx *ctx, int64_t pos)
{
	return fd_iterate_type(dir, ctx, pos, DT_REG);
}
static const struct kernfs_dyn_ops fd_dyn = { .lookup = fd_lookup, .iterate = fd_iterate };
static const struct kernfs_dyn_ops fdinfo_dyn = { .lookup = fdinfo_lookup, .iterate = fdinfo_iterate };

/* ---------------------------------------------------------- the tables */

#define RO_FILE(n, fn) { .name = n, .mode = S_IFREG | 0444, .show = fn }
#define LINK(n, fn) { .name = n, .mode = S_IFLNK | 0777, .readlink = fn }
#define TASK_ENTRIES                                                                                     \
	RO_FILE("cgroup", show_cgroup), RO_FILE("cmdline", show_cmdline),                                \
		{ .name = "comm", .mode = S_IFREG | 0644, .show = show_comm, .store = store_comm },       \
		LINK("cwd", cwd_readlink),                                                                \
		{ .name = "environ", .mode = S_IFREG | 0400, .show = show_environ, .open = ptrace_open },  \
		LINK("exe", exe_readlink), { .name = "fd", .mode = S_IFDIR | 0500, .dyn = &fd_dyn },      \
		{ .name = "fdinfo", .mode = S_IFDIR | 0555, .dyn = &fdinfo_dyn, .permission = ptrace_permission }, \
		RO_FILE("gid_map", show_id_map), RO_FILE("mountinfo", show_mountinfo), RO_FILE("mounts", show_mounts), LINK("root", root_readlink), \
		RO_FILE("stat", show_stat), RO_FILE("statm", show_statm), RO_FILE("status", show_status)

static const struct kernfs_dyn_ops tid_dyn;
static const struct kernfs_entry tid_children[] = { TASK_ENTRIES, RO_FILE("uid_map", show_id_map), { 0 } };
static const struct kernfs_entry pid_children[] = {
	TASK_ENTRIES,
	{ .name = "task", .mode = S_IFDIR | 0555, .dyn = &tid_dyn },
	RO_FILE("uid_map", show_id_map),
	{ 0 },
};
static const struct kernfs_entry pid_dir = { .name = "pid", .mode = S_IFDIR | 0555, .children = pid_children };
static const struct kernfs_entry tid_dir = { .name = "tid", .mode = S_IFDIR | 0555, .children = tid_children };

/* Looks up tid among the tasks (of thread group pid if nonzero). */
static int task_lookup(struct kernfs_node *dir, const char *name, size_t len, int32_t pid,
		       const struct kernfs_entry *tmpl, struct kernfs_node **out)
{
	int64_t tid;
	*out = NULL;
	if (!parse_num(name, len, INT32_MAX, &tid) || tid == 0)
		return 0;
	struct task *tk = tasks_find(proc_fs_of(dir)->tasks, (int32_t)tid);
	if (!tk)
		return 0;
	if (!pid || tk->pid == pid) {
		*out = kernfs_new_node(kernfs_node_fs(dir), dir, tmpl, tk, child_ino(dir, tid));
		if (*out)
			(*out)->idx = tid;
	}
	bool nomem = (!pid || tk->pid == pid) && !*out;
	task_put(tk);
	return nomem ? -ENOMEM : 0;
}

static int task_iterate(struct kernfs_node *dir, struct uvfs_dir_ctx *ctx, int64_t pos, int32_t pid)
{
	struct task *batch[32];
	/* Dynamic offset of task N is N: stable while others come and go. */
	int32_t from = pos > INT32_MAX ? INT32_MAX : (int32_t)pos;
	for (;;) {
		int k = tasks_list(proc_fs_of(dir)->tasks, from, pid == 0, pid, batch, 32);
		if (k == 0)
			return 0;
		int i = 0;
		for (; i < k; i++) {
			char s[16];
			snprintf(s, sizeof s, "%d", batch[i]->tid);
			if (kernfs_emit(ctx, dir, s, child_ino(dir, batch[i]->tid), DT_DIR, batch[i]->tid))
				break;
			from = batch[i]->tid + 1;
		}
		bool stop = i < k;
		for (int j = 0; j < k; j++)
			task_put(batch[j]);
		if (stop || from == INT32_MAX)
			return 0;
	}
}

static int pid_lookup(struct kernfs_node *dir, const char *name, size_t len, struct kernfs_node **out)
{
	/* Any tid answers at the top, as on Linux; only leaders are listed. */
	return task_lookup(dir, name, len, 0, &pid_dir, out);
}
static int pid_iterate(struct kernfs_node *dir, struct uvfs_dir_ctx *ctx, int64_t pos)
{
	return task_iterate(dir, ctx, pos, 0);
}
const struct kernfs_dyn_ops proc_pid_dyn = { .lookup = pid_lookup, .iterate = pid_iterate };

static int tid_lookup(struct kernfs_node *dir, const char *name, size_t len, struct kernfs_node **out)
{
	return task_lookup(dir, name, len, TK(dir)->pid, &tid_dir, out);
}
static int tid_iterate(struct kernfs_node *dir, struct uvfs_dir_ctx *ctx, int64_t pos)
{
	return task_iterate(dir, ctx, pos, TK(dir)->pid);
}
static const struct kernfs_dyn_ops tid_dyn = { .lookup = tid_lookup, .iterate = tid_iterate };
