/* sandbox/run/pty.c — pseudo-terminals and /dev/tty inside `uvfs run`.
 *
 * The memory-device approach (vfd.c host_device) extended: the tree's
 * devpts names the pairs and checks every open (permissions, the lock),
 * the host kernel's pty carries the data, so the line discipline, job
 * control (TIOCSCTTY, signals, SIGWINCH) and poll are Linux's own at
 * native speed.
 *
 * - An open of the tree's ptmx (5:2) made a uvfs pair with index I; the
 *   supervisor opens the host /dev/ptmx (host index K), installs that
 *   master in the tracee and keeps a dup of it and the uvfs master file in
 *   a record I <-> K for the life of the pair.
 * - ioctl(TIOCGPTN, TIOCGPTPEER, TIOCSPTLCK) on such a master — only those
 *   commands reach the supervisor (filter.c) — answer I, let the kernel
 *   open the replica in the tracee (once the tree's replica stands for
 *   it), and set the lock of both pairs.
 * - An open of the tree's /dev/pts/I (the uvfs replica open succeeded: the
 *   lock is off) installs the host replica, opened with TIOCGPTPEER on our
 *   dup (always O_NOCTTY: the supervisor opens it, so it could only ever
 *   become the supervisor's terminal).
 * - /dev/tty (5:0): the caller's controlling terminal from tty_nr of
 *   /proc/<pid>/stat (run_pty_ctty_open answers ENXIO for none).
 * - fstat and the other fd calls on these fds are the tree's: the lookup
 *   of vfd.c finds a master by the host ptmx inode plus its tty-index
 *   (/proc/<pid>/fdinfo), a replica by the host /dev/pts/K inode.
 *
 * A record goes when no tracee holds its master any more (run_pty_before
 * re-reads the fdinfo of the fd that last held it, one pread, and scans
 * the tracees' fds when that one is gone); its uvfs master is then released, which removes
 * /dev/pts/I from the tree, as Linux does at the master's last close.
 *
 * Threading: the supervisor's thread only (internal.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "sandbox/run/internal.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

/* One tree pair backed by a host pair. */
struct run_pty {
	unsigned index; /* I: the uvfs pair's, the tree's /dev/pts/I */
	int host_index; /* K: the host pair's */
	int master; /* the supervisor's dup of the host master (the tracee's open file description) */
	uint64_t mnt_id, ino; /* the host master's fdinfo mnt_id and ino (the host ptmx node) */
	dev_t mdev; /* and its st_dev */
	bool locked; /* the lock of both pairs (TIOCSPTLCK) */
	int holder_info; /* /proc/<pid>/fdinfo/<fd> of a tracee's fd that held the master when last looked (-1: none) */
	struct run_vfd mv; /* the tracee's masters: file is the uvfs master (references held) */
	struct run_vfd rv; /* the host replica's fds: file is a uvfs replica open (NULL until the first); key its inode */
	bool live; /* scratch of sweep() */
	struct run_pty *next;
};

/* The run being served on this thread, for the /dev/tty callback
 * (devices' opts are static, shared by every run of the process). */
static __thread struct run_sup *cur_sup;

struct fdinfo {
	uint64_t mnt_id, ino;
	int tty_index; /* -1: none (not a pty master) */
};

static int open_fdinfo(pid_t pid, int fd)
{
	char p[64];
	snprintf(p, sizeof(p), "/proc/%d/fdinfo/%d", (int)pid, fd);
	int h = open(p, O_RDONLY | O_CLOEXEC);
	return h < 0 ? -errno : h;
}

/* h: an open fdinfo file. Each read at offset 0 shows the fd as it is now
 * (an error once it is closed or its process is gone, even if the pid was
 * reused: the file holds the old task). */
static int parse_fdinfo(int h, struct fdinfo *out)
{
	char buf[512];
	ssize_t n = pread(h, buf, sizeof(buf) - 1, 0);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	*out = (struct fdinfo){ .tty_index = -1 };
	for (char *l = buf; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		unsigned long long v;
		if (sscanf(l, "mnt_id: %llu", &v) == 1)
			out->mnt_id = v;
		else if (sscanf(l, "ino: %llu", &v) == 1)
			out->ino = v;
		else if (sscanf(l, "tty-index: %llu", &v) == 1)
			out->tty_index = (int)v;
	}
	return 0;
}

static int read_fdinfo(pid_t pid, int fd, struct fdinfo *out)
{
	int h = open_fdinfo(pid, fd);
	if (h < 0)
		return h;
	int err = parse_fdinfo(h, out);
	close(h);
	return err;
}

static bool is_ptmx(const struct stat *st)
{
	return S_ISCHR(st->st_mode) && major(st->st_rdev) == 5 && minor(st->st_rdev) == 2;
}

static bool is_pts(const struct stat *st)
{
	return S_ISCHR(st->st_mode) && major(st->st_rdev) >= 136 && major(st->st_rdev) <= 143;
}

static bool is_ours(const struct run_pty *r, const struct fdinfo *fi)
{
	return fi->tty_index == r->host_index && fi->ino == r->ino && fi->mnt_id == r->mnt_id;
}

/* Does the fd we last saw holding r's master still hold it? One pread of
 * its fdinfo: before every handled call, for every pair. */
static bool still_held(const struct run_pty *r)
{
	struct fdinfo fi;
	return r->holder_info >= 0 && !parse_fdinfo(r->holder_info, &fi) && is_ours(r, &fi);
}

static void set_holder(struct run_pty *r, pid_t pid, int fd)
{
	if (r->holder_info >= 0)
		close(r->holder_info);
	r->holder_info = open_fdinfo(pid, fd);
}

static void pty_free(struct run_pty *r)
{
	if (r->rv.file) {
		uvfs_file_put(r->rv.file);
		uvfs_vd_put(&r->rv.vd);
	}
	uvfs_file_put(r->mv.file); /* the last reference: the pair goes, /dev/pts/I with it */
	uvfs_vd_put(&r->mv.vd);
	close(r->master);
	if (r->holder_info >= 0)
		close(r->holder_info);
	free(r);
}

/* Frees the records whose master no tracee holds any more. */
static void sweep(struct run_sup *s)
{
	bool missing = false;
	for (struct run_pty *r = s->ptys; r; r = r->next)
		missing |= !(r->live = still_held(r));
	if (!missing)
		return;
	/* the last holder closed it or died: another tracee may hold it
	 * (fork, dup, SCM_RIGHTS) */
	for (struct run_task *t = s->tasks; t; t = t->next) {
		char p[64];
		snprintf(p, sizeof(p), "/proc/%d/fd", (int)t->tgid);
		DIR *d = opendir(p);
		if (!d)
			continue;
		struct dirent *e;
		while ((e = readdir(d))) {
			struct stat st;
			if (e->d_name[0] == '.' || fstatat(dirfd(d), e->d_name, &st, 0) || !is_ptmx(&st))
				continue;
			int fd = atoi(e->d_name);
			struct fdinfo fi;
			if (read_fdinfo(t->tgid, fd, &fi))
				continue;
			for (struct run_pty *r = s->ptys; r; r = r->next)
				if (!r->live && st.st_dev == r->mdev && st.st_ino == r->ino && is_ours(r, &fi)) {
					r->live = true;
					set_holder(r, t->tgid, fd);
				}
		}
		closedir(d);
	}
	for (struct run_pty **pp = &s->ptys; *pp;) {
		struct run_pty *r = *pp;
		if (r->live) {
			pp = &r->next;
			continue;
		}
		*pp = r->next;
		pty_free(r);
	}
}

void run_pty_before(struct run_call *c)
{
	cur_sup = c->s;
	c->s->cur_pid = c->pid;
	if (c->s->ptys)
		sweep(c->s);
}

void run_pty_free_all(struct run_sup *s)
{
	while (s->ptys) {
		struct run_pty *r = s->ptys;
		s->ptys = r->next;
		pty_free(r);
	}
	if (cur_sup == s)
		cur_sup = NULL;
}

struct run_vfd *run_pty_lookup(struct run_sup *s, pid_t pid, int fd, const struct stat *st)
{
	if (!s->ptys)
		return NULL;
	if (is_pts(st)) {
		for (struct run_pty *r = s->ptys; r; r = r->next)
			if (r->rv.file && r->rv.key_ino == st->st_ino && r->rv.key_dev == st->st_dev)
				return &r->rv;
		return NULL;
	}
	if (!is_ptmx(st))
		return NULL;
	struct fdinfo fi;
	if (read_fdinfo(pid, fd, &fi) || fi.tty_index < 0)
		return NULL;
	for (struct run_pty *r = s->ptys; r; r = r->next)
		if (r->host_index == fi.tty_index && r->mdev == st->st_dev && r->ino == st->st_ino &&
		    r->mnt_id == fi.mnt_id)
			return &r->mv;
	return NULL;
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

static struct run_pty *by_index(struct run_sup *s, unsigned index)
{
	for (struct run_pty *r = s->ptys; r; r = r->next)
		if (r->index == index)
			return r;
	return NULL;
}

/* A new master: the uvfs pair f made, and a host pair behind it. */
static int open_master(struct run_sup *s, uint64_t id, struct uvfs_file *f, int hostflags, int oflags)
{
	unsigned index;
	if (uvfs_ioctl(f, TIOCGPTN, &index) < 0)
		return -ENODEV; /* not devpts's ptmx: the placeholder */
	/* f consumed on success only (run_pty_install) */
	int h = open("/dev/ptmx", hostflags | O_NOCTTY | O_CLOEXEC);
	if (h < 0)
		return errno == ENOENT || errno == ENODEV || errno == ENXIO ? -ENODEV : -errno;
	struct run_pty *r = calloc(1, sizeof(*r));
	struct fdinfo fi;
	struct stat st;
	int err = !r ? -ENOMEM : fstat(h, &st) ? -errno : read_fdinfo(getpid(), h, &fi);
	if (!err && (!is_ptmx(&st) || fi.tty_index < 0))
		err = -ENODEV; /* a kernel without tty-index in fdinfo (< 4.19): the placeholder */
	if (err) {
		free(r);
		close(h);
		return err;
	}
	r->index = index;
	r->host_index = fi.tty_index;
	r->master = h;
	r->mnt_id = fi.mnt_id;
	r->ino = fi.ino;
	r->mdev = st.st_dev;
	r->locked = true; /* both start locked (unlockpt) */
	r->mv.type = RUN_VFD_OTHER;
	r->mv.memfd = -1;
	r->mv.key_ino = st.st_ino;
	r->mv.key_dev = st.st_dev;
	r->rv.type = RUN_VFD_OTHER;
	r->rv.memfd = -1;
	int fd = addfd(s, id, h, oflags);
	if (fd < 0) {
		close(h);
		free(r);
		return fd;
	}
	r->mv.file = f;
	uvfs_file_vd(f, &r->mv.vd);
	r->holder_info = -1;
	set_holder(r, s->cur_pid, fd);
	r->next = s->ptys;
	s->ptys = r;
	return fd;
}

/* The host replica of r opened with flags (never our controlling
 * terminal: the supervisor opens it) and installed; rf (a uvfs replica
 * open) stands for it in the tree. Consumes rf on success only. */
static int open_replica(struct run_sup *s, uint64_t id, struct run_pty *r, struct uvfs_file *rf, int hostflags,
			int oflags)
{
	int h = ioctl(r->master, TIOCGPTPEER, (hostflags & ~O_CLOEXEC) | O_NOCTTY | O_CLOEXEC);
	if (h < 0)
		return -errno;
	struct stat st;
	int fd = fstat(h, &st) ? -errno : addfd(s, id, h, oflags);
	close(h);
	if (fd < 0)
		return fd;
	if (!r->rv.file) {
		r->rv.file = rf;
		uvfs_file_vd(rf, &r->rv.vd);
		r->rv.key_ino = st.st_ino;
		r->rv.key_dev = st.st_dev;
	} else {
		uvfs_file_put(rf);
	}
	return fd;
}

/* The tracee's controlling terminal as a host device number (0: none). */
static int ctty_of(pid_t pid, dev_t *out)
{
	char p[64], buf[1024];
	snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
	int h = open(p, O_RDONLY | O_CLOEXEC);
	if (h < 0)
		return -errno;
	ssize_t n = read(h, buf, sizeof(buf) - 1);
	close(h);
	if (n <= 0)
		return -EIO;
	buf[n] = 0;
	char *e = strrchr(buf, ')'); /* comm may hold anything */
	int tty_nr;
	if (!e || sscanf(e + 1, " %*c %*d %*d %*d %d", &tty_nr) != 1)
		return -EIO;
	*out = (dev_t)(unsigned)tty_nr;
	return 0;
}

/* /dev/tty: the caller's controlling terminal, opened on the host. */
static int open_ctty(struct run_sup *s, uint64_t id, struct uvfs_file *f, int hostflags, int oflags)
{
	dev_t t, mine;
	int err = ctty_of(s->cur_pid, &t);
	if (err)
		return err;
	if (!t)
		return -ENXIO;
	unsigned maj = major(t), min = minor(t);
	int h = -1;
	if (maj >= 136 && maj <= 143) {
		unsigned k = (maj - 136) * 256 + min;
		for (struct run_pty *r = s->ptys; r; r = r->next)
			if ((unsigned)r->host_index == k) {
				struct uvfs_file *rf = r->rv.file;
				if (!rf)
					break;
				uvfs_file_get(rf);
				int fd = open_replica(s, id, r, rf, hostflags, oflags);
				if (fd < 0)
					uvfs_file_put(rf);
				else
					uvfs_file_put(f);
				return fd;
			}
	}
	if (!ctty_of(getpid(), &mine) && mine == t) {
		h = open("/dev/tty", hostflags | O_NOCTTY | O_CLOEXEC);
	} else if (maj >= 136 && maj <= 143) {
		char p[64];
		snprintf(p, sizeof(p), "/dev/pts/%u", (maj - 136) * 256 + min);
		h = open(p, hostflags | O_NOCTTY | O_CLOEXEC);
		struct stat st;
		if (h >= 0 && (fstat(h, &st) || st.st_rdev != t)) {
			close(h);
			h = -1;
			errno = ENODEV;
		}
	} else {
		return -ENODEV; /* another terminal (a VT, a serial line): the placeholder */
	}
	if (h < 0)
		return errno == ENOENT ? -ENXIO : -errno;
	int fd = addfd(s, id, h, oflags);
	close(h);
	if (fd >= 0)
		uvfs_file_put(f);
	return fd;
}

int run_pty_install(struct run_sup *s, uint64_t id, struct uvfs_file *f, const struct statx *stx, int hostflags,
		    int oflags)
{
	unsigned maj = stx->stx_rdev_major, min = stx->stx_rdev_minor;
	int r = -ENODEV;
	if (maj == 5 && min == 2) {
		r = open_master(s, id, f, hostflags, oflags);
	} else if (maj == 5 && min == 0) {
		r = open_ctty(s, id, f, hostflags, oflags);
	} else if (maj >= 136 && maj <= 143) {
		struct run_pty *p = by_index(s, (maj - 136) * 256 + min);
		if (p) /* else a pair no tracee made: the placeholder */
			r = open_replica(s, id, p, f, hostflags, oflags);
	}
	if (r < 0 && r != -ENODEV)
		uvfs_file_put(f);
	return r;
}

int run_pty_ctty_open(void *arg, int flags, struct uvfs_file **out)
{
	struct run_sup *s = cur_sup;
	dev_t t;
	if (!s || ctty_of(s->cur_pid, &t) || !t)
		return -ENXIO;
	/* A stand-in the tree's /dev/tty file forwards to; run_pty_install
	 * replaces the data path by the host terminal (fstat shows /dev/tty) */
	struct uvfs_cred root;
	uvfs_cred_init_root(&root);
	struct uvfs_pathop pop = { .root = s->root, .start = s->root, .path = "", .flags = UVFS_PATH_EMPTY };
	return uvfs_open_at(s->vfs, &root, &pop, O_RDONLY, 0, 0, out);
}

/* ioctl(fd, TIOCGPTN | TIOCGPTPEER | TIOCSPTLCK, arg): only these reach
 * the supervisor (filter.c); any fd but a master we handed out continues. */
long run_h_ioctl(struct run_call *c)
{
	struct run_sup *s = c->s;
	int fd = (int)c->req->data.args[0];
	unsigned cmd = (unsigned)c->req->data.args[1];
	uint64_t arg = c->req->data.args[2];
	struct run_vfd *v = NULL;
	int err;
	char p[64];
	struct stat st;
	snprintf(p, sizeof(p), "/proc/%d/fd/%d", (int)c->pid, fd);
	if (s->ptys && !stat(p, &st))
		v = run_pty_lookup(s, c->pid, fd, &st);
	struct run_pty *r = NULL;
	for (struct run_pty *q = s->ptys; v && q; q = q->next)
		if (&q->mv == v)
			r = q;
	if (!r) {
		c->cont = true;
		return 0;
	}
	switch (cmd) {
	case TIOCGPTN:
		return run_write_mem(c->pid, arg, &r->index, sizeof(r->index)) ? -EFAULT : 0;
	case TIOCSPTLCK: {
		int lock;
		if (run_read_mem(c->pid, arg, &lock, sizeof(lock)))
			return -EFAULT;
		if (!run_id_valid(c))
			return -ESRCH;
		if ((err = (int)uvfs_ioctl(r->mv.file, TIOCSPTLCK, &lock)))
			return err;
		if (ioctl(r->master, TIOCSPTLCK, &lock))
			return -errno;
		r->locked = lock != 0;
		return 0;
	}
	case TIOCGPTPEER: {
		/* The kernel opens the replica in the tracee, as Linux (its
		 * flags, and the controlling terminal of a session leader
		 * without O_NOCTTY); the host lock is the tree's. The tree's
		 * replica must stand for it first (fstat, /proc/<pid>/fd). */
		if (r->locked || r->rv.file)
			break;
		struct uvfs_vd d = { r->mv.vd.mount, uvfs_mount_root(r->mv.vd.mount) };
		char name[16];
		snprintf(name, sizeof(name), "%u", r->index);
		struct uvfs_pathop pop = { .root = s->root, .start = d, .path = name };
		struct uvfs_cred root;
		uvfs_cred_init_root(&root);
		struct uvfs_file *rf;
		if ((err = uvfs_open_at(s->vfs, &root, &pop, O_RDWR | O_NOCTTY, 0, 0, &rf)))
			return err;
		int h = ioctl(r->master, TIOCGPTPEER, O_RDONLY | O_NOCTTY | O_CLOEXEC);
		if (h < 0 || fstat(h, &st)) {
			err = -errno;
			if (h >= 0)
				close(h);
			uvfs_file_put(rf);
			return err;
		}
		close(h);
		r->rv.file = rf;
		uvfs_file_vd(rf, &r->rv.vd);
		r->rv.key_ino = st.st_ino;
		r->rv.key_dev = st.st_dev;
		break;
	}
	}
	c->cont = true;
	return 0;
}
