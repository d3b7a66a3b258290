/* sandbox/run/exec.c — execve of a program that lives in the uvfs tree.
 *
 * The kernel must load the program, but it resolves the path in the host
 * file system and we cannot change the syscall's arguments. So: the file's
 * content is the memfd of its vfd (shared with every open of it); a new
 * read-only description of it is installed in the tracee (ADDFD, lowest
 * free fd N, close-on-exec unless the file is a #! script, whose
 * interpreter reads it through /dev/fd/N); the supervisor's exec directory
 * (the tracee's host cwd, see filter.c) holds a symlink "N" ->
 * "/proc/self/fd/N"; and the path string in the tracee is overwritten with
 * "N" (through /proc/<pid>/mem: string literals live in read-only pages).
 * Then the syscall continues, and the kernel execs the memfd. When argv[0]
 * is the very same string (a shell execs argv[0]), argv[0] is first copied
 * below the tracee's stack pointer (read from /proc/<tid>/syscall; below
 * the red zone is dead space at a syscall) and the argv slot repointed, so
 * the program still sees its name. The kernel copies argv before it
 * discards the old memory, so nothing of this outlives a successful exec.
 *
 * Not covered: an ELF interpreter (PT_INTERP, ld.so) and a #! interpreter
 * are loaded by the kernel from the host's file system; the libraries ld.so
 * opens come from the tree. A failing exec (after our checks) leaves the
 * rewritten string behind in the tracee. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox/run/internal.h"

static int tracee_sp(pid_t tid, uint64_t *sp)
{
	char p[64], buf[512];
	snprintf(p, sizeof(p), "/proc/%d/syscall", (int)tid);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = 0;
	unsigned long long v[9];
	long nr;
	if (sscanf(buf, "%ld %llx %llx %llx %llx %llx %llx %llx %llx", &nr, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		   &v[6], &v[7]) != 9)
		return -EIO;
	*sp = v[6];
	return 0;
}

long run_exec(struct run_call *c, struct uvfs_file *f, uint64_t path_addr, uint64_t argv_addr)
{
	struct run_sup *s = c->s;
	char path[PATH_MAX];
	int err = run_read_path(c->pid, path_addr, path, sizeof(path));
	if (err)
		return err;
	size_t plen = strlen(path);
	struct run_vfd *v;
	err = run_vfd_memfd_for(s, f, &v);
	if (err)
		return err;
	char magic[2] = { 0, 0 };
	if (pread(v->memfd, magic, 2, 0) < 0)
		return -EIO;
	bool script = magic[0] == '#' && magic[1] == '!';
	char p[64];
	snprintf(p, sizeof(p), "/proc/self/fd/%d", v->memfd);
	int h = open(p, O_RDONLY | O_CLOEXEC);
	if (h < 0)
		return -errno;
	struct seccomp_notif_addfd a = { .id = c->req->id, .srcfd = (uint32_t)h,
					 .newfd_flags = script ? 0 : O_CLOEXEC };
	int n = ioctl(s->listener, SECCOMP_IOCTL_NOTIF_ADDFD, &a);
	err = n < 0 ? -errno : 0;
	close(h);
	if (err)
		return err;
	char name[16], target[64];
	snprintf(name, sizeof(name), "%d", n);
	snprintf(target, sizeof(target), "/proc/self/fd/%d", n);
	char lpath[PATH_MAX];
	snprintf(lpath, sizeof(lpath), "%s/%s", s->hostdir, name);
	if (symlink(target, lpath) && errno != EEXIST)
		return -errno;
	if (strlen(name) > plen)
		return -ENOEXEC; /* a 1-byte path and fd >= 10: no room to rewrite */
	/* A caller sharing its memory with its parent (vfork, posix_spawn:
	 * gcc's driver running cc1) must leave the parent's argv array alone
	 * (the parent resumes after the exec and may free argv[0]). The path
	 * becomes "N/BASENAME" (N/ a directory of links beside N), so an
	 * argv[0] aliasing it keeps its basename, which is what programs
	 * (busybox) look at. */
	const char *base = strrchr(path, '/');
	bool shared_vm = !script && base && base[1] && (size_t)(base - path) >= strlen(name) + 1 &&
			 syscall(SYS_kcmp, c->pid, c->st.ppid, 0 /* KCMP_VM */, 0, 0) == 0;
	if (shared_vm) {
		char dpath[64];
		snprintf(dpath, sizeof(dpath), "%s/%sd", s->hostdir, name);
		if (mkdir(dpath, 0711) && errno != EEXIST)
			return -errno;
		if (snprintf(lpath, sizeof(lpath), "%s/%s", dpath, base + 1) >= (int)sizeof(lpath))
			return -ENAMETOOLONG;
		unlink(lpath);
		if (symlink(target, lpath))
			return -errno;
		snprintf(name, sizeof(name), "%dd", n);
		if (!run_id_valid(c))
			return -EINTR;
		char npath[PATH_MAX];
		snprintf(npath, sizeof(npath), "%s%s", name, base); /* "Nd" is no longer than the dirname */
		err = run_poke_mem(c->pid, path_addr, npath, strlen(npath) + 1);
		if (err)
			return err;
		c->cont = true;
		return 0;
	}
	/* argv[0] aliasing the path string: move it out of the way first */
	uint64_t a0 = 0;
	if (argv_addr && run_read_mem(c->pid, argv_addr, &a0, sizeof(a0)) == 0 && a0 >= path_addr &&
	    a0 <= path_addr + plen) {
		const char *s0 = path + (a0 - path_addr);
		size_t l0 = strlen(s0) + 1;
		uint64_t sp = 0;
		err = tracee_sp(c->pid, &sp);
		if (err)
			return err;
		uint64_t na = (sp - 256 - l0) & ~(uint64_t)15;
		err = run_write_mem(c->pid, na, s0, l0);
		if (!err)
			err = run_write_mem(c->pid, argv_addr, &na, sizeof(na));
		if (err)
			return err;
	}
	if (!run_id_valid(c))
		return -EINTR;
	err = run_poke_mem(c->pid, path_addr, name, strlen(name) + 1);
	if (err)
		return err;
	c->cont = true;
	return 0;
}
