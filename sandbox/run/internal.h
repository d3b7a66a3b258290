/* sandbox/run/internal.h — the supervisor's pieces (one .c per concept):
 * mem.c (tracee memory), proc.c (tasks from /proc), vfd.c (uvfs files as
 * tracee fds), dispatch.c (the syscall handlers), exec.c (execve of a uvfs
 * file), filter.c (the seccomp filter and the launch), loop.c (the notify
 * loop and uvfs_run).
 *
 * Threading: one thread serves the notifications (one at a time), so none
 * of these structures has a lock; loop.c's watcher thread touches only its
 * own struct watch (atomics). */
#pragma once

#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "sandbox/run/run.h"
#include "sandbox/uvfs_sandbox.h"

#ifndef HIDDEN
#define HIDDEN __attribute__((visibility("hidden")))
#endif

/* ------------------------------------------------------------- mem.c */
/* Copies a NUL-terminated path out of pid's memory into buf (PATH_MAX
 * bytes): -EFAULT on an unreadable byte before the NUL, -ENAMETOOLONG when
 * no NUL is found within PATH_MAX bytes (Linux strncpy_from_user +
 * getname order). */
HIDDEN int run_read_path(pid_t pid, uint64_t addr, char *buf, size_t bufsz);
/* Exactly len bytes, or -EFAULT. */
HIDDEN int run_read_mem(pid_t pid, uint64_t addr, void *buf, size_t len);
HIDDEN int run_write_mem(pid_t pid, uint64_t addr, const void *buf, size_t len);
/* Through /proc/pid/mem: may write read-only pages (FOLL_FORCE). */
HIDDEN int run_poke_mem(pid_t pid, uint64_t addr, const void *buf, size_t len);

struct run_sup; /* below */
struct run_img; /* exec.c */
struct run_call;

/* ------------------------------------------------------------ proc.c */
/* A tracee process: its task of the syscall layer holds root, cwd and
 * umask; its fd table is scratch (a uvfs fd is installed there for the
 * duration of one call, see dispatch.c), the real fds live in the kernel. */
struct run_task {
	pid_t tgid;
	struct uvfs_sbx_task *sbx;
	struct run_task *next;
};
/* What /proc/pid/status says right now (read at every notification: the
 * tracee may have changed ids or umask since). */
struct run_status {
	pid_t tgid, ppid;
	mode_t umask;
	struct uvfs_cred cred;
	uint32_t groups[64];
};
HIDDEN int run_read_status(pid_t pid, struct run_status *st);

/* A tracee thread's cached status. Reading /proc/<tid>/status costs more
 * than the rest of a typical call, so it is read once per thread and again
 * only after the thread's process may have changed ids, groups, caps or
 * umask (those syscalls are in the table and mark it stale) or exec'd. A
 * pidfd of the thread (PIDFD_THREAD) proves the tid was not reused: it
 * turns readable once that thread is gone. */
struct run_thread {
	pid_t tid;
	int pidfd; /* -1: no pidfd (old kernel): never cached */
	bool stale;
	struct run_status st;
	struct run_thread *next;
};
/* The caller's status (fresh or cached) and task. */
HIDDEN int run_caller(struct run_sup *s, pid_t tid, struct run_status *st, struct run_task **task);
/* Ids or umask of tgid's threads may have changed: read them again. */
HIDDEN void run_caller_stale(struct run_sup *s, pid_t tgid);
HIDDEN void run_threads_free(struct run_sup *s);

/* The task of tgid, created on first sight as a fork of its parent's (or
 * fresh at the tree's root). */
HIDDEN struct run_task *run_task_get(struct run_sup *s, pid_t tgid, pid_t ppid);
/* The program's own task, with the initial cwd. */
HIDDEN int run_task_first(struct run_sup *s, pid_t tgid, const struct uvfs_vd *cwd);
HIDDEN void run_tasks_free(struct run_sup *s);
/* The exact number of live tracee processes (fork.c): the known tasks
 * still alive (the dead are dropped) plus their children not yet known;
 * forks_unseen is set to the latter. */
HIDDEN size_t run_tasks_recount(struct run_sup *s);

/* ------------------------------------------------------------- vfd.c */
enum { RUN_VFD_REG = 1, RUN_VFD_DIR, RUN_VFD_OTHER };
/* One uvfs object behind placeholder host files. REG: one per uvfs inode;
 * memfd holds the content the tracee reads, writes and maps; it is written
 * back to uvfs when it changed (run_vfd_sync_all). DIR/OTHER: one per open,
 * file is the uvfs open file (getdents offset lives there). Keyed by the
 * placeholder's host inode number (memfds: unique per boot). */
struct run_vfd {
	int type;
	uint64_t key_ino; /* host inode of memfd / placeholder */
	dev_t key_dev; /* its host device: memfds' or the placeholder directories' */
	uint64_t dirseq; /* DIR: its placeholder is <hostdir>/d/<dirseq> (0: a memfd) */
	struct uvfs_vd vd; /* references held */
	struct uvfs_file *file; /* DIR/OTHER: the open file; REG: NULL */
	int memfd; /* REG: the supervisor's copy (-1 for a host file: v->host); else -1 */
	uint64_t src_dev, src_ino; /* REG: the uvfs inode */
	bool writable_seen; /* REG: some open allowed writing */
	bool alias; /* OTHER: the exec image of a script, standing for it (exec.c) */
	int64_t synced_size; /* REG: memfd size at the last sync (mtime then is a sentinel) */
	bool mapped; /* REG: mapped shared and writable by some tracee (stores may not stamp mtime) */
	uint64_t synced_hash; /* REG, mapped: hash of the content at the last sync */
	uint64_t gen; /* REG: bumped whenever the memfd's content may have changed (every mark_synced): exec.c's cached images compare it */
	struct run_vfd *next; /* in the placeholder hash */
	struct uvfs_file *rfile; /* REG: a read-only handle for fd calls through the layer (lazy) */
	struct run_vfd *src_next; /* REG: in the uvfs-inode hash */
	struct run_vfd *dirty_next; /* REG: on reg_list once opened writable */
	bool pseudo; /* DIR/OTHER on proc/sysfs/cgroupfs (a regular file: a snapshot per open) */
	bool host; /* REG: read-only opens of a host file the tree serves (vfd.c run_vfd_host_for): keyed by
		    * that file's dev+ino, memfd -1, never on reg_list or src_hash */
};
/* The host path of a DIR vfd's placeholder directory into buf (PATH_MAX),
 * or -ENOENT when it has none. */
HIDDEN int run_vfd_dir_path(struct run_sup *s, const struct run_vfd *v, char *buf);
/* The vfd behind fd in pid, or NULL (a host fd: let the kernel act). *err
 * is -EBADF when fd is not open at all. */
HIDDEN struct run_vfd *run_vfd_lookup(struct run_sup *s, pid_t pid, int fd, int *err);
/* Opens a tracee fd for f (an uvfs open file, reference consumed) with
 * oflags: returns the tracee fd or -errno. */
HIDDEN int run_vfd_install(struct run_sup *s, uint64_t notif_id, struct uvfs_file *f, int oflags);
/* The vfd whose placeholder is the host inode (dev, ino), or NULL. */
HIDDEN struct run_vfd *run_vfd_find(struct run_sup *s, dev_t dev, uint64_t ino);
/* v's memfd was mapped shared and writable: from now on its content is
 * compared with the last synced copy (by hash) at every sync. */
HIDDEN void run_vfd_mapped(struct run_sup *s, struct run_vfd *v);
/* Writes changed memfds back into uvfs. */
HIDDEN void run_vfd_sync_all(struct run_sup *s);
/* After an O_TRUNC / truncate of the uvfs inode. */
HIDDEN void run_vfd_truncated(struct run_sup *s, const struct statx *stx, uint64_t size);
HIDDEN void run_vfd_free_all(struct run_sup *s);
/* Makes the host file hostfd (an exec image of a script) stand for v's
 * file: a tracee fd of it is looked up as an open of v's inode. */
HIDDEN int run_vfd_alias(struct run_sup *s, int hostfd, const struct run_vfd *v);
/* The memfd holding the content of the regular file f (materialised on
 * first use; the vfd keeps it). */
HIDDEN int run_vfd_memfd_for(struct run_sup *s, struct uvfs_file *f, struct run_vfd **out);
/* The host file behind the regular file f, for reading only: *hostfd a new
 * O_RDONLY fd of it (the caller's), *out its vfd (v->host). -EOPNOTSUPP
 * when the memfd path applies: a memfd holds the inode's content already,
 * or the layer has no host file for f, or it lives on a noexec mount.
 * opath: f is an O_PATH file (the layer gives none for those). */
HIDDEN int run_vfd_host_for(struct run_sup *s, struct uvfs_file *f, bool opath, struct run_vfd **out, int *hostfd);

/* ------------------------------------------------------------- pty.c */
/* Pseudo-terminals and /dev/tty (see pty.c): the tree's devpts names the
 * pairs, the host's carry the data. */
struct run_pty;
struct stat;
/* The tree's ptmx, /dev/pts/I or /dev/tty (f: the uvfs open, checked):
 * the host device installed in the tracee (f consumed), -ENODEV for the
 * placeholder (f kept), or another -errno (f consumed). */
HIDDEN int run_pty_install(struct run_sup *s, uint64_t notif_id, struct uvfs_file *f, const struct statx *stx,
			   int hostflags, int oflags);
/* The vfd standing for fd of pid (st: its stat) when it is a host master
 * or replica we handed out, else NULL. */
HIDDEN struct run_vfd *run_pty_lookup(struct run_sup *s, pid_t pid, int fd, const struct stat *st);
/* Before each handled call: notes the caller, drops the pairs whose
 * master no tracee holds any more. */
HIDDEN void run_pty_before(struct run_call *c);
HIDDEN void run_pty_free_all(struct run_sup *s);
/* ioctl TIOCGPTN, TIOCGPTPEER, TIOCSPTLCK (the filter sends no other). */
HIDDEN long run_h_ioctl(struct run_call *c);
/* uvfs_devices_opts.ctty_open of the run's devices: -ENXIO when the
 * caller has no controlling terminal. */
HIDDEN int run_pty_ctty_open(void *arg, int flags, struct uvfs_file **out);

/* ---------------------------------------------------------- pseudo.c */
enum { RUN_NPSEUDO = 4 }; /* /proc, /sys, /dev, /dev/pts */
struct uvfs_tasks;
struct uvfs_devtmpfs_accessor;
/* Registers proc, sysfs, devtmpfs, devpts and the devices when missing,
 * makes the task table, fills devtmpfs and mounts them in the tree. */
HIDDEN int run_pseudo_setup(struct run_sup *s);
/* Unregisters every task, unmounts, removes the mount points we made. */
HIDDEN void run_pseudo_teardown(struct run_sup *s);
/* Is f on proc, sysfs or cgroupfs (content generated at open)? */
HIDDEN bool run_pseudo_fs(struct run_sup *s, struct uvfs_file *f);

/* ---------------------------------------------------------- fdview.c */
/* /proc/<pid>/fd of a tracee lists its task's fd table, which is scratch
 * (see dispatch.c): for a call that may read it, the tracee's uvfs fds are
 * copied in at their numbers first, and dropped after the call. */
/* path: the absolute tree path the call names, or NULL; a /proc/<pid>/...
 * path fills that tracee's table too. */
HIDDEN void run_fdview_fill(struct run_call *c, const char *path);
HIDDEN void run_fdview_clear(struct run_call *c);

/* ------------------------------------------------------------ fork.c */
/* clone, clone3, fork, vfork: EAGAIN past max_tasks live processes,
 * else the kernel forks (CONTINUE). */
HIDDEN long run_h_clone(struct run_call *c);
HIDDEN long run_h_clone3(struct run_call *c);
HIDDEN long run_h_fork(struct run_call *c);

/* ------------------------------------------------------------ maps.c */
/* mprotect, pkey_mprotect with PROT_WRITE: a shared mapping of a tree
 * file made writable is noted as mmap notes it (CONTINUE). */
HIDDEN long run_h_mprotect(struct run_call *c);

/* --------------------------------------------------------- hostdir.c */
/* Locks the run's host directory dir (just made by mkdtemp) for the run
 * and removes the siblings that dead runs left (their lock free). Returns
 * the lock's fd (close it after removing dir) or -errno. */
HIDDEN int run_hostdir_claim(const char *dir);

/* ------------------------------------------------------ supervisor */
struct run_sup {
	struct uvfs *vfs;
	struct uvfs_mntns *ns;
	struct uvfs_vd root; /* references held */
	int listener;
	pid_t child;
	char *hostdir; /* the tracee's host cwd: holds the exec symlinks */
	struct run_img *imgs; /* exec.c: cached exec images, most recently used first */
	size_t nimgs, img_bytes; /* their number and total size */
	struct run_task *tasks;
	size_t ntasks, sweep_at;
	struct run_thread *threads;
	size_t nthreads, tsweep_at;
	dev_t memfd_dev; /* st_dev of every memfd */
	dev_t dir_dev; /* st_dev of the placeholder directories (<hostdir>/d) */
	uint64_t dirseq; /* the last placeholder directory's number */
	struct run_vfd **vfd_hash, **src_hash;
	size_t vfd_nbuckets, nvfds;
	size_t ndirlike, gc_at; /* DIR/OTHER vfds; collect when ndirlike reaches gc_at */
	struct run_vfd *reg_list; /* REG vfds that were opened writable */
	unsigned sync_calls; /* run_vfd_sync_all calls (vfd.c prunes reg_list every few) */
	int lease_probe; /* vfd.c: 0 not probed yet, 1 a read lease tells whether a memfd has writers, 2 not */
	bool any_host; /* some vfd is a host file (run_vfd_lookup then looks up fds of any device) */
	struct uvfs_tasks *tasks_table; /* proc's task table (NULL: no pseudo mounts) */
	struct uvfs_devtmpfs_accessor *dev;
	bool mounted[RUN_NPSEUDO], made_point[RUN_NPSEUDO];
	unsigned max_tasks; /* live tracee processes allowed (fork.c) */
	size_t forks_unseen; /* forks allowed whose child we have not counted yet */
	uint64_t full_until_ns; /* a recount said "full": deny without recounting until then */
	struct run_pty *ptys; /* pty.c: the tree's pairs backed by host pairs */
	pid_t cur_pid; /* the caller of the call being served (pty.c) */
	pid_t cur_tid; /* the notification being served: its thread (0: none) */
	int cur_pidfd; /* and that thread's pidfd (-1: none), owned by its run_thread (proc.c) */
};

/* One notification being served. */
struct run_call {
	struct run_sup *s;
	struct seccomp_notif *req;
	struct seccomp_notif_resp *resp;
	pid_t pid;
	struct run_status st;
	struct run_task *task;
	bool cont; /* answer with SECCOMP_USER_NOTIF_FLAG_CONTINUE */
	bool fdview; /* the tracee's uvfs fds are in the task's table (fdview.c) */
};

/* ------------------------------------------------------- dispatch.c */
/* The dispatch table: every syscall the filter sends to the supervisor,
 * with its handler (a negative errno, a result, or c->cont set). */
struct run_handler {
	int nr;
	const char *name;
	long (*fn)(struct run_call *c);
};
HIDDEN extern const struct run_handler run_handlers[];
HIDDEN extern const size_t run_nhandlers;
/* Serves c->req into c->resp (val/error, or the CONTINUE flag). */
HIDDEN void run_dispatch(struct run_call *c);

/* ----------------------------------------------------------- exec.c */
/* execve of f (the tree's file at path_addr): builds the image and lets the
 * syscall continue; linkdir is the host directory the kernel resolves a
 * relative path in (the exec directory, or a directory fd's placeholder). */
HIDDEN long run_exec(struct run_call *c, struct uvfs_file *f, uint64_t path_addr, uint64_t argv_addr,
		     const char *linkdir);

/* fexecve of the tracee's fd: when it is a tree file that needs an
 * interpreter, the fd is replaced by the exec image (same fd, same
 * close-on-exec flag). 0 or -errno. */
HIDDEN int run_exec_fd(struct run_call *c, int fd);
/* Removes what exec left in the exec directory besides its top-level links
 * (the interpreters' link directories); run_vfd_free_all calls it. */
HIDDEN void run_exec_free(struct run_sup *s);

/* --------------------------------------------------------- filter.c */
/* Forks the tracee: it installs the filter, passes back the listener and
 * execs argv[0]. */
HIDDEN int run_launch(struct run_sup *s, const struct uvfs_run_opts *o);
/* Is the notification still live (the tracee did not die or get
 * interrupted since we read its memory)? */
HIDDEN bool run_id_valid(struct run_call *c);
