/* sandbox/run/vfd.c — uvfs files as fds of the tracee.
 *
 * Every uvfs open gives the tracee a placeholder host file installed with
 * SECCOMP_IOCTL_NOTIF_ADDFD, always a memfd (or a new open file description
 * of one). The tracee fd is recognised later by the placeholder's host
 * inode (stat of /proc/<pid>/fd/<n>), not by fd number: dup, dup2, fcntl
 * F_DUPFD, fork, SCM_RIGHTS and close need no interception, and no
 * per-process fd table can drift out of step with the kernel's.
 *
 * Regular files: a read-only open of a file the tree serves from a host
 * file gets that host file (run_vfd_host_for); otherwise one memfd per uvfs
 * inode holds the content (copied in on first open). Each open gets its own open file description of it
 * (reopened through /proc/self/fd), so offsets and O_APPEND are per open
 * as in Linux, and read, write, lseek, mmap (shared libraries), ftruncate
 * run in the kernel at native speed. Changes reach the uvfs inode at the
 * next notification of any tracee (run_vfd_sync_all runs before every
 * handled call, so a later stat, open or exec sees them) and when the run
 * ends. Stores through a shared mapping may not stamp the memfd's mtime: they
 * are written back only together with a write(2) or truncate.
 * Directories: an empty host directory of their own per open (under
 * <hostdir>/d, so the kernel's read gives EISDIR); other types: a fresh
 * empty memfd per open, reopened read-only. The vfd keeps the uvfs open
 * file, whose position getdents64 and lseek use; they are
 * garbage-collected (gc below). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "sandbox/run/internal.h"

static size_t hidx(struct run_sup *s, uint64_t k)
{
	return (size_t)((k * 0x9e3779b97f4a7c15ULL) >> 20) & (s->vfd_nbuckets - 1);
}

static int ensure_tables(struct run_sup *s)
{
	if (s->vfd_hash)
		return 0;
	s->vfd_nbuckets = 4096;
	s->vfd_hash = calloc(s->vfd_nbuckets, sizeof(*s->vfd_hash));
	s->src_hash = calloc(s->vfd_nbuckets, sizeof(*s->src_hash));
	if (!s->vfd_hash || !s->src_hash)
		return -ENOMEM;
	int fd = memfd_create("uvfs-probe", MFD_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st)) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	close(fd);
	s->memfd_dev = st.st_dev;
	/* directories' placeholders live in <hostdir>/d (see dir_placeholder) */
	char p[PATH_MAX];
	if (s->hostdir && snprintf(p, sizeof(p), "%s/d", s->hostdir) < (int)sizeof(p) &&
	    (!mkdir(p, 0711) || errno == EEXIST) && !stat(p, &st))
		s->dir_dev = st.st_dev;
	return 0;
}

int run_vfd_dir_path(struct run_sup *s, const struct run_vfd *v, char *buf)
{
	if (v->type != RUN_VFD_DIR || !v->dirseq || !s->hostdir)
		return -ENOENT;
	snprintf(buf, PATH_MAX, "%s/d/%llu", s->hostdir, (unsigned long long)v->dirseq);
	return 0;
}

/* A directory's placeholder is an empty host directory of its own, so
 * that read(2), pread, mmap … on it fail as on any directory (EISDIR,
 * ENODEV) in the kernel, and execveat(dirfd, "name") has a directory to
 * resolve "name" in (exec.c puts its symlink there). It is opened, not
 * removed, until the vfd is collected: a live inode keeps its number, so
 * no other placeholder can take it meanwhile. Returns the open host fd. */
static int dir_placeholder(struct run_sup *s, struct run_vfd *v, int flags)
{
	char p[PATH_MAX];
	v->dirseq = ++s->dirseq;
	if (run_vfd_dir_path(s, v, p) || mkdir(p, 0700)) {
		v->dirseq = 0;
		return -errno;
	}
	int h = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC); /* never O_PATH: see run_vfd_install */
	if (h < 0) {
		int err = -errno;
		rmdir(p);
		v->dirseq = 0;
		return err;
	}
	return h;
}

/* Removes a placeholder directory and what exec.c put in it. */
static void dir_placeholder_free(struct run_sup *s, struct run_vfd *v)
{
	char p[PATH_MAX];
	if (run_vfd_dir_path(s, v, p) || !rmdir(p) || (errno != ENOTEMPTY && errno != EEXIST))
		return; /* most hold nothing: one rmdir, no directory read */
	DIR *d = opendir(p);
	if (d) {
		struct dirent *e;
		while ((e = readdir(d)))
			if (e->d_name[0] != '.')
				unlinkat(dirfd(d), e->d_name, 0);
		closedir(d);
	}
	rmdir(p);
}

struct run_vfd *run_vfd_lookup(struct run_sup *s, pid_t pid, int fd, int *err)
{
	char p[64];
	struct stat st;
	*err = 0;
	if (fd < 0) {
		*err = -EBADF;
		return NULL;
	}
	/* The caller's fd: a copy of it through the thread's pidfd and fstat
	 * (~2 us) rather than stat of /proc/<tid>/fd/<n> (~4.5 us: a procfs
	 * walk and a magic link). pidfd_getfd fails when the fd is not open,
	 * for a caller we may not ptrace-attach, or before Linux 5.6: /proc
	 * then says which. (A socket copied so gets the supervisor's net_cls
	 * and net_prio ids, as any SCM_RIGHTS receiver: the same cgroup.) */
	int h = pid == s->cur_tid && s->cur_pidfd >= 0 ? (int)syscall(SYS_pidfd_getfd, s->cur_pidfd, fd, 0) : -1;
	if (h >= 0) {
		int r = fstat(h, &st);
		close(h);
		if (r) {
			*err = -errno;
			return NULL;
		}
	} else {
		snprintf(p, sizeof(p), "/proc/%d/fd/%d", (int)pid, fd);
		if (stat(p, &st)) {
			*err = errno == ENOENT ? -EBADF : -errno;
			return NULL;
		}
	}
	if (S_ISCHR(st.st_mode)) /* a host pty we handed out (pty.c) */
		return run_pty_lookup(s, pid, fd, &st);
	if (!s->vfd_hash ||
	    (st.st_dev != s->memfd_dev && (!s->dir_dev || st.st_dev != s->dir_dev) && !s->any_host))
		return NULL;
	for (struct run_vfd *v = s->vfd_hash[hidx(s, st.st_ino)]; v; v = v->next)
		if (v->key_ino == st.st_ino && v->key_dev == st.st_dev)
			return v;
	return NULL;
}

struct run_vfd *run_vfd_find(struct run_sup *s, dev_t dev, uint64_t ino)
{
	if (!s->vfd_hash)
		return NULL;
	for (struct run_vfd *v = s->vfd_hash[hidx(s, ino)]; v; v = v->next)
		if (v->key_ino == ino && v->key_dev == dev)
			return v;
	return NULL;
}

static void add_key(struct run_sup *s, struct run_vfd *v, int hostfd)
{
	struct stat st;
	fstat(hostfd, &st);
	v->key_ino = st.st_ino;
	v->key_dev = st.st_dev;
	size_t i = hidx(s, v->key_ino);
	v->next = s->vfd_hash[i];
	s->vfd_hash[i] = v;
	s->nvfds++;
}

static int copy_in(int memfd, struct uvfs_file *f)
{
	char *buf = malloc(65536);
	if (!buf)
		return -ENOMEM;
	off_t off = 0;
	int err = 0;
	for (;;) {
		ssize_t n = uvfs_pread(f, buf, 65536, off);
		if (n < 0)
			err = (int)n;
		if (n <= 0)
			break;
		if (pwrite(memfd, buf, (size_t)n, off) != n) {
			err = -errno;
			break;
		}
		off += n;
	}
	free(buf);
	return err;
}

/* After a sync the memfd's mtime is set to a sentinel no write can leave
 * behind (any write or truncate stamps the current time): dirty is then
 * exact, with no clock granularity to guess about. */
static const struct timespec SYNCED_MTIME = { 1, 0 };

/* Stores through a shared mapping stamp the mtime only when they fault
 * (the first store to a page since it was mapped writable), so a mapped
 * memfd's content is compared by hash as well. */
static uint64_t content_hash(int memfd, off_t size)
{
	if (size <= 0)
		return 0;
	void *m = mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED, memfd, 0);
	if (m == MAP_FAILED)
		return 0;
	uint64_t h = XXH3_64bits(m, (size_t)size);
	munmap(m, (size_t)size);
	return h;
}

static void mark_synced(struct run_vfd *v)
{
	struct stat st;
	struct timespec ts[2] = { { 0, UTIME_OMIT }, SYNCED_MTIME };
	v->gen++; /* the content may differ from what an exec image was built of */
	if (futimens(v->memfd, ts) || fstat(v->memfd, &st))
		return;
	v->synced_size = st.st_size;
	if (v->mapped)
		v->synced_hash = content_hash(v->memfd, st.st_size);
}

void run_vfd_mapped(struct run_sup *s, struct run_vfd *v)
{
	if (v->type != RUN_VFD_REG || v->mapped || v->host)
		return; /* a host file's fd is read-only: the kernel refuses the mapping */
	v->mapped = true;
	if (!v->writable_seen) { /* a writable shared mapping needs a writable open */
		v->writable_seen = true;
		v->dirty_next = s->reg_list;
		s->reg_list = v;
	}
	/* run_vfd_sync_all ran before this call: the content is synced */
	mark_synced(v);
}

static struct run_vfd *src_find(struct run_sup *s, uint64_t dev, uint64_t ino)
{
	for (struct run_vfd *v = s->src_hash[hidx(s, ino ^ dev)]; v; v = v->src_next)
		if (v->src_dev == dev && v->src_ino == ino)
			return v;
	return NULL;
}

/* Read-only opens of a file the tree serves from a host file (a direct
 * lower through an overlay: uvfs_file_host_fd) get that host file itself,
 * so reads and mmaps (libraries) run on the host's page cache and nothing
 * is copied. As long as no memfd holds the inode's content: once a
 * writable open made one (the overlay copied the file up), later opens of
 * either kind use the memfd; a read-only fd opened before keeps reading
 * the host file, as a Linux overlayfs fd opened before a copy-up keeps
 * reading the lower file. The vfd (one per host inode, found by its
 * dev+ino as a placeholder is) serves the fd calls from the tree through
 * v->vd. Not for a noexec mount: libraries are mapped PROT_EXEC and
 * programs exec'd from these. */
int run_vfd_host_for(struct run_sup *s, struct uvfs_file *f, bool opath, struct run_vfd **out, int *hostfd)
{
	int err = ensure_tables(s);
	if (err)
		return err;
	struct statx stx;
	if ((err = uvfs_file_stat(f, STATX_BASIC_STATS, &stx)))
		return err;
	if (!S_ISREG(stx.stx_mode) ||
	    src_find(s, ((uint64_t)stx.stx_dev_major << 32) | stx.stx_dev_minor, stx.stx_ino))
		return -EOPNOTSUPP;
	struct uvfs_file *rf = f;
	struct uvfs_vd vd;
	if (opath) { /* the layer gives no host fd for an O_PATH file: a handle of ours */
		struct uvfs_cred root;
		uvfs_cred_init_root(&root);
		uvfs_file_vd(f, &vd);
		struct uvfs_pathop pop = { .root = s->root, .start = vd, .path = "", .flags = UVFS_PATH_EMPTY };
		err = uvfs_open_at(s->vfs, &root, &pop, O_RDONLY, 0, 0, &rf);
		uvfs_vd_put(&vd);
		if (err)
			return -EOPNOTSUPP;
	}
	int h = uvfs_file_host_fd(rf);
	if (rf != f)
		uvfs_file_put(rf);
	if (h < 0)
		return -EOPNOTSUPP;
	struct stat st;
	if (fstat(h, &st) || !S_ISREG(st.st_mode))
		goto no;
	for (struct run_vfd *v = s->vfd_hash[hidx(s, st.st_ino)]; v; v = v->next)
		if (v->host && v->key_ino == st.st_ino && v->key_dev == st.st_dev) {
			*out = v;
			*hostfd = h;
			return 0;
		}
	struct statvfs sv;
	if (fstatvfs(h, &sv) || (sv.f_flag & ST_NOEXEC))
		goto no;
	struct run_vfd *v = calloc(1, sizeof(*v));
	if (!v) {
		close(h);
		return -ENOMEM;
	}
	v->type = RUN_VFD_REG;
	v->host = true;
	v->memfd = -1;
	uvfs_file_vd(f, &v->vd);
	add_key(s, v, h);
	s->any_host = true;
	*out = v;
	*hostfd = h;
	return 0;
no:
	close(h);
	return -EOPNOTSUPP;
}

int run_vfd_memfd_for(struct run_sup *s, struct uvfs_file *f, struct run_vfd **out)
{
	int err = ensure_tables(s);
	if (err)
		return err;
	struct statx stx;
	err = uvfs_file_stat(f, STATX_BASIC_STATS, &stx);
	if (err)
		return err;
	uint64_t dev = ((uint64_t)stx.stx_dev_major << 32) | stx.stx_dev_minor;
	size_t i = hidx(s, stx.stx_ino ^ dev);
	if ((*out = src_find(s, dev, stx.stx_ino)))
		return 0;
	struct run_vfd *v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->type = RUN_VFD_REG;
	v->memfd = memfd_create("uvfs", MFD_CLOEXEC);
	if (v->memfd < 0) {
		err = -errno;
		free(v);
		return err;
	}
	/* f may be write-only: read the content through a handle of our own */
	struct uvfs_cred root;
	uvfs_cred_init_root(&root);
	struct uvfs_file *rf;
	uvfs_file_vd(f, &v->vd);
	struct uvfs_pathop pop = { .root = s->root, .start = v->vd, .path = "", .flags = UVFS_PATH_EMPTY };
	err = uvfs_open_at(s->vfs, &root, &pop, O_RDONLY, 0, 0, &rf);
	if (!err) {
		err = copy_in(v->memfd, rf);
		uvfs_file_put(rf);
	}
	if (err) {
		uvfs_vd_put(&v->vd);
		close(v->memfd);
		free(v);
		return err;
	}
	v->src_dev = dev;
	v->src_ino = stx.stx_ino;
	mark_synced(v);
	add_key(s, v, v->memfd);
	v->src_next = s->src_hash[i];
	s->src_hash[i] = v;
	*out = v;
	return 0;
}

static int addfd(struct run_sup *s, uint64_t id, int hostfd, int oflags)
{
	struct seccomp_notif_addfd a = {
		.id = id,
		.srcfd = (uint32_t)hostfd,
		.newfd_flags = (uint32_t)(oflags & O_CLOEXEC),
	};
	int r = ioctl(s->listener, SECCOMP_IOCTL_NOTIF_ADDFD, &a);
	return r < 0 ? -errno : r;
}

static int reopen(int memfd, int flags)
{
	char p[64];
	snprintf(p, sizeof(p), "/proc/self/fd/%d", memfd);
	int fd = open(p, flags | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* A writable open of a generated file (proc, sysfs, cgroupfs) no tracee
 * holds any more: off reg_list (what it wrote was delivered at the sync
 * before this call: nobody can have written it since). */
static void pseudo_forget(struct run_sup *s, struct run_vfd *v)
{
	for (struct run_vfd **pp = &s->reg_list; *pp; pp = &(*pp)->dirty_next)
		if (*pp == v) {
			*pp = v->dirty_next;
			break;
		}
	close(v->memfd);
	v->memfd = -1;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Drops directory (and other non-regular) vfds that no process holds any
 * more: the placeholders' inodes still open anywhere are collected from
 * /proc/<pid>/fd (every process we may read: a superset of the tracees),
 * the rest are freed. Runs when their number doubled since the last run,
 * so its cost is amortised; a placeholder in flight in an SCM_RIGHTS
 * message would be lost (its fd then acts as a host memfd). */
static void gc(struct run_sup *s)
{
	size_t n = 0, cap = 1024;
	uint64_t *live = malloc(cap * sizeof(*live));
	DIR *proc = opendir("/proc");
	if (!live || !proc)
		goto out;
	struct dirent *pe;
	while ((pe = readdir(proc))) {
		if (pe->d_name[0] < '0' || pe->d_name[0] > '9')
			continue;
		if (atoi(pe->d_name) == getpid())
			continue; /* ours: the memfds of writable generated files */
		char p[300];
		snprintf(p, sizeof(p), "/proc/%s/fd", pe->d_name);
		DIR *fds = opendir(p);
		if (!fds)
			continue;
		struct dirent *fe;
		while ((fe = readdir(fds))) {
			struct stat st;
			if (fe->d_name[0] == '.' || fstatat(dirfd(fds), fe->d_name, &st, 0) ||
			    (st.st_dev != s->memfd_dev && st.st_dev != s->dir_dev))
				continue;
			if (n == cap) {
				uint64_t *nl = realloc(live, 2 * cap * sizeof(*live));
				if (!nl) {
					closedir(fds);
					goto out; /* keep everything */
				}
				live = nl, cap *= 2;
			}
			live[n++] = st.st_ino;
		}
		closedir(fds);
	}
	qsort(live, n, sizeof(*live), cmp_u64);
	for (size_t i = 0; i < s->vfd_nbuckets; i++)
		for (struct run_vfd **pp = &s->vfd_hash[i]; *pp;) {
			struct run_vfd *v = *pp;
			if (v->type == RUN_VFD_REG || bsearch(&v->key_ino, live, n, sizeof(*live), cmp_u64)) {
				pp = &v->next;
				continue;
			}
			*pp = v->next;
			if (v->memfd >= 0)
				pseudo_forget(s, v);
			dir_placeholder_free(s, v);
			uvfs_file_put(v->file);
			uvfs_vd_put(&v->vd);
			free(v);
			s->nvfds--;
			s->ndirlike--;
		}
out:
	if (proc)
		closedir(proc);
	free(live);
	s->gc_at = s->ndirlike * 2 + 1024;
}

/* Character devices whose behaviour is the same on every Linux and holds
 * no state (mem devices: null, zero, full, random, urandom) are the host's
 * own: the tracee reads and writes them in the kernel at native speed.
 * uvfs has checked the open (permissions, nodev mounts) already. Returns
 * the tracee fd (f consumed) or -ENODEV for any other device (f kept). */
static int host_device(struct run_sup *s, uint64_t id, struct uvfs_file *f, int hostflags, int oflags)
{
	static const struct {
		unsigned major, minor;
		const char *path;
	} same[] = { { 1, 3, "/dev/null" },    { 1, 5, "/dev/zero" },	 { 1, 7, "/dev/full" },
		     { 1, 8, "/dev/random" }, { 1, 9, "/dev/urandom" } };
	struct statx stx;
	if (uvfs_file_stat(f, STATX_TYPE, &stx))
		return -ENODEV;
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		if (stx.stx_rdev_major != same[i].major || stx.stx_rdev_minor != same[i].minor)
			continue;
		int h = open(same[i].path, hostflags | O_NOCTTY | O_CLOEXEC);
		struct stat st;
		if (h < 0 || fstat(h, &st) || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(same[i].major, same[i].minor)) {
			if (h >= 0)
				close(h);
			return -ENODEV; /* the host has no such device: the placeholder */
		}
		uvfs_file_put(f);
		int r = addfd(s, id, h, oflags);
		close(h);
		return r;
	}
	return -ENODEV;
}

int run_vfd_install(struct run_sup *s, uint64_t id, struct uvfs_file *f, int oflags)
{
	struct statx stx;
	int err = ensure_tables(s);
	if (!err)
		err = uvfs_file_stat(f, STATX_TYPE, &stx);
	if (err) {
		uvfs_file_put(f);
		return err;
	}
	int acc = oflags & O_ACCMODE;
	/* SECCOMP_IOCTL_NOTIF_ADDFD takes its file with fget, which does not
	 * see O_PATH files (EBADF): an O_PATH open gets a read-only one */
	int hostflags = (oflags & O_PATH) ? O_RDONLY : (acc == O_ACCMODE ? O_RDWR : acc) | (oflags & O_APPEND);
	if (S_ISCHR(stx.stx_mode) && !(oflags & O_PATH)) {
		int r = host_device(s, id, f, hostflags | (oflags & O_NONBLOCK), oflags);
		if (r == -ENODEV) /* ptys and /dev/tty: the host's too */
			r = run_pty_install(s, id, f, &stx, hostflags | (oflags & O_NONBLOCK), oflags);
		if (r != -ENODEV)
			return r; /* f consumed */
	}
	bool pseudo = run_pseudo_fs(s, f);
	if (S_ISREG(stx.stx_mode) && !pseudo) {
		struct run_vfd *v;
		int h;
		if ((oflags & O_PATH) || (acc == O_RDONLY && !(oflags & O_TRUNC))) {
			err = run_vfd_host_for(s, f, oflags & O_PATH, &v, &h);
			if (!err) { /* the host file itself */
				uvfs_file_put(f);
				int r = addfd(s, id, h, oflags);
				close(h);
				return r;
			}
			if (err != -EOPNOTSUPP) {
				uvfs_file_put(f);
				return err;
			}
		}
		err = run_vfd_memfd_for(s, f, &v);
		uvfs_file_put(f);
		if (err)
			return err;
		if ((oflags & O_TRUNC) && acc != O_RDONLY && !(oflags & O_PATH)) {
			if (ftruncate(v->memfd, 0))
				return -errno;
			mark_synced(v);
		}
		h = reopen(v->memfd, hostflags);
		if (h < 0)
			return h;
		if (acc != O_RDONLY && !(oflags & O_PATH) && !v->writable_seen) {
			v->writable_seen = true;
			v->dirty_next = s->reg_list;
			s->reg_list = v;
		}
		int r = addfd(s, id, h, oflags);
		close(h);
		return r;
	}
	if (s->ndirlike >= s->gc_at)
		gc(s);
	struct run_vfd *v = calloc(1, sizeof(*v));
	if (!v) {
		uvfs_file_put(f);
		return -ENOMEM;
	}
	v->type = S_ISDIR(stx.stx_mode) ? RUN_VFD_DIR : RUN_VFD_OTHER;
	v->file = f;
	v->memfd = -1;
	v->pseudo = pseudo;
	uvfs_file_vd(f, &v->vd);
	int m = -1, h;
	if (v->type == RUN_VFD_DIR && s->dir_dev) {
		h = dir_placeholder(s, v, oflags);
	} else {
		m = memfd_create("uvfs-dir", MFD_CLOEXEC);
		/* a generated file: what it reads now, in a memfd of this open's
		 * own (a file opened only for writing reads nothing). Opened
		 * writable (uvfs allowed it: the file has a store), the memfd is
		 * writable too and what the tracee writes is delivered to f at
		 * the next sync (pseudo_deliver) */
		bool gen = m >= 0 && pseudo && S_ISREG(stx.stx_mode) && !(oflags & O_PATH);
		if (gen && acc != O_WRONLY)
			copy_in(m, f);
		v->memfd = gen && acc != O_RDONLY ? m : -1;
		h = m < 0 ? -errno : reopen(m, v->memfd >= 0 ? hostflags : O_RDONLY);
	}
	if (h < 0) {
		if (m >= 0)
			close(m);
		uvfs_vd_put(&v->vd);
		uvfs_file_put(f);
		free(v);
		return h;
	}
	add_key(s, v, m >= 0 ? m : h);
	s->ndirlike++;
	if (v->memfd >= 0) {
		mark_synced(v);
		v->dirty_next = s->reg_list;
		s->reg_list = v;
	} else if (m >= 0) {
		close(m);
	}
	int r = addfd(s, id, h, oflags);
	close(h);
	return r;
}

int run_vfd_alias(struct run_sup *s, int hostfd, const struct run_vfd *v)
{
	struct run_vfd *a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	struct uvfs_cred root;
	uvfs_cred_init_root(&root);
	struct uvfs_pathop pop = { .root = s->root, .start = v->vd, .path = "", .flags = UVFS_PATH_EMPTY };
	int err = uvfs_open_at(s->vfs, &root, &pop, O_RDONLY, 0, 0, &a->file);
	if (err) {
		free(a);
		return err;
	}
	a->type = RUN_VFD_OTHER; /* collected as the directory-like ones */
	a->alias = true;
	a->memfd = -1;
	a->vd = v->vd;
	uvfs_vd_get(&a->vd);
	add_key(s, a, hostfd);
	s->ndirlike++;
	return 0;
}

static void writeback(struct run_sup *s, struct run_vfd *v, const struct stat *st)
{
	struct uvfs_cred root;
	uvfs_cred_init_root(&root);
	struct uvfs_pathop pop = { .root = s->root, .start = v->vd, .path = "", .flags = UVFS_PATH_EMPTY };
	struct uvfs_file *f;
	if (uvfs_open_at(s->vfs, &root, &pop, O_WRONLY, 0, 0, &f))
		return; /* unlinked or unwritable: nothing in the tree to update */
	char *buf = malloc(65536);
	int err = buf ? uvfs_file_truncate(f, (uint64_t)st->st_size) : -ENOMEM;
	for (off_t off = 0; !err && off < st->st_size;) {
		ssize_t n = pread(v->memfd, buf, 65536, off);
		if (n <= 0)
			break;
		if (uvfs_pwrite(f, buf, (size_t)n, off) != n)
			break;
		off += n;
	}
	free(buf);
	uvfs_file_close(f);
}

/* What a tracee wrote to a generated file (proc, sysfs, cgroupfs) goes to
 * its store as one write at offset 0, with the opener's credentials (f):
 * what a shell's `echo x > file` does. The store's error (EINVAL for bad
 * input) cannot reach the tracee's write(2), which returned long before:
 * it is dropped. */
static void pseudo_deliver(struct run_vfd *v, const struct stat *st)
{
	if (st->st_size <= 0 || st->st_size > (1 << 20))
		return;
	char *buf = malloc((size_t)st->st_size);
	ssize_t n = buf ? pread(v->memfd, buf, (size_t)st->st_size, 0) : -1;
	if (n > 0)
		uvfs_pwrite(v->file, buf, (size_t)n, 0);
	free(buf);
}

/* Does any open file description of memfd allow writing (a tracee's fd,
 * one in flight in SCM_RIGHTS, or a shared writable mapping's)? The kernel
 * refuses a read lease exactly then (the supervisor's own fd from
 * memfd_create is not counted). 1 yes, 0 no, -1 cannot tell. */
static int has_writers(int memfd)
{
	char p[64];
	snprintf(p, sizeof(p), "/proc/self/fd/%d", memfd);
	int ro = open(p, O_RDONLY | O_CLOEXEC);
	if (ro < 0)
		return -1;
	int r = fcntl(ro, F_SETLEASE, F_RDLCK) == 0 ? 0 : errno == EAGAIN ? 1 : -1;
	close(ro); /* drops the lease */
	return r;
}

/* Leases may be off (fs.leases-enable) or behave otherwise: checked once. */
static bool lease_works(struct run_sup *s)
{
	if (!s->lease_probe) {
		char p[64];
		int m = memfd_create("uvfs-probe", MFD_CLOEXEC), w = -1;
		if (m >= 0)
			snprintf(p, sizeof(p), "/proc/self/fd/%d", m);
		bool ok = m >= 0 && has_writers(m) == 0 && (w = open(p, O_WRONLY | O_CLOEXEC)) >= 0 && has_writers(m) == 1;
		if (w >= 0)
			close(w);
		ok = ok && has_writers(m) == 0;
		if (m >= 0)
			close(m);
		s->lease_probe = ok ? 1 : 2;
	}
	return s->lease_probe == 1;
}

/* Every RUN_PRUNE_EVERY calls, files no tracee can write any more leave
 * reg_list, so a call's cost does not grow with every file ever written
 * (make: every object and temporary file). A file with no writer cannot
 * get one without an open we serve (run_vfd_install puts it back), so once
 * synced it stays synced. */
enum { RUN_PRUNE_EVERY = 32 };

void run_vfd_sync_all(struct run_sup *s)
{
	bool prune = s->reg_list && ++s->sync_calls % RUN_PRUNE_EVERY == 0 && lease_works(s);
	for (struct run_vfd **pp = &s->reg_list, *v; (v = *pp);) {
		/* writers first: none now means none can write after the sync below */
		bool idle = prune && has_writers(v->memfd) == 0;
		struct stat st;
		if (fstat(v->memfd, &st)) {
			pp = &v->dirty_next;
			continue;
		}
		if (st.st_size != v->synced_size || st.st_mtim.tv_sec != SYNCED_MTIME.tv_sec ||
		    st.st_mtim.tv_nsec != SYNCED_MTIME.tv_nsec ||
		    (v->mapped && content_hash(v->memfd, st.st_size) != v->synced_hash)) {
			if (v->pseudo)
				pseudo_deliver(v, &st);
			else
				writeback(s, v, &st);
			mark_synced(v);
		}
		if (!idle) {
			pp = &v->dirty_next;
			continue;
		}
		*pp = v->dirty_next;
		v->dirty_next = NULL;
		v->writable_seen = false; /* the next writable open puts it back */
		v->mapped = false; /* a writable mapping is a writer: none left */
	}
}

void run_vfd_truncated(struct run_sup *s, const struct statx *stx, uint64_t size)
{
	if (!s->src_hash)
		return;
	uint64_t dev = ((uint64_t)stx->stx_dev_major << 32) | stx->stx_dev_minor;
	for (struct run_vfd *v = s->src_hash[hidx(s, stx->stx_ino ^ dev)]; v; v = v->src_next)
		if (v->src_dev == dev && v->src_ino == stx->stx_ino) {
			if (ftruncate(v->memfd, (off_t)size) == 0)
				mark_synced(v);
		}
}

void run_vfd_free_all(struct run_sup *s)
{
	run_pty_free_all(s);
	for (size_t i = 0; s->vfd_hash && i < s->vfd_nbuckets; i++) {
		while (s->vfd_hash[i]) {
			struct run_vfd *v = s->vfd_hash[i];
			s->vfd_hash[i] = v->next;
			if (v->file)
				uvfs_file_put(v->file);
			if (v->rfile)
				uvfs_file_put(v->rfile);
			if (v->memfd >= 0)
				close(v->memfd);
			dir_placeholder_free(s, v);
			uvfs_vd_put(&v->vd);
			free(v);
		}
	}
	char p[PATH_MAX];
	if (s->dir_dev && snprintf(p, sizeof(p), "%s/d", s->hostdir) < (int)sizeof(p))
		rmdir(p);
	run_exec_free(s);
	free(s->vfd_hash);
	free(s->src_hash);
	s->vfd_hash = s->src_hash = NULL;
	s->reg_list = NULL;
	s->nvfds = 0;
}
