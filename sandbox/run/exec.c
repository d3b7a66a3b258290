/* sandbox/run/exec.c — execve of a program that lives in the uvfs tree.
 *
 * The kernel must load the program, but it resolves the path in the host
 * file system and we cannot change the syscall's arguments. So the
 * supervisor builds the *image* the kernel is to exec (below), installs a
 * read-only description of it in the tracee (ADDFD, lowest free fd N,
 * close-on-exec unless the program is a #! script), makes the path resolve
 * to it on the host, and lets the syscall continue:
 *  - the path string in the tracee is overwritten with "N" (through
 *    /proc/<pid>/mem: string literals live in read-only pages) and the
 *    directory the kernel resolves "N" in (the tracee's host cwd, the
 *    supervisor's exec directory; for execveat with a directory fd of the
 *    tree, that directory's placeholder, see vfd.c) holds a symlink
 *    "N" -> "/proc/self/fd/N";
 *  - a #! script's interpreter receives the path string as the script's
 *    name, so for a script the string must also name the script when the
 *    interpreter opens it: a one-component relative name ("x", "./x") is
 *    left as it is (the symlink then has that name, unless another exec's
 *    link holds it: those are never replaced), any other path is
 *    rewritten to "/dev/fd/N" — what Linux itself passes for a script run
 *    by fexecve — and dispatch.c serves opens of /dev/fd/N and
 *    /proc/self/fd/N on our fds by reopening the file.
 * When argv[0] is the very same string (a shell execs argv[0]), argv[0]
 * is first copied below the tracee's stack pointer (read from
 * /proc/<tid>/syscall; below the red zone is dead space at a syscall) and
 * the argv slot repointed, so the program still sees its name. The kernel
 * copies argv before it discards the old memory, so nothing of this
 * outlives a successful exec.
 *
 * Interpreters come from the tree, not the host:
 *  - ELF with PT_INTERP: the image is a copy of the program (cached: see
 *    struct run_img) whose PT_INTERP string is replaced by "/proc/self/fd/L", L a close-on-exec fd of the
 *    tree's interpreter (ld.so) installed in the tracee; the kernel opens
 *    the interpreter before it closes close-on-exec fds. argv and argv[0]
 *    are the program's; /proc/self/exe is a memfd (as for every program
 *    run from the tree), and ld.so's own name (l_name of the rtld link map)
 *    is "/proc/self/fd/L".
 *  - #!: the line is parsed here as the kernel's binfmt_script does (the
 *    first 256 bytes, an interpreter and one optional argument, up to 5
 *    nested levels, then ELOOP); the interpreter is looked up in the tree
 *    as the task (exec permission) and built into an image in turn
 *    (installed close-on-exec at M); the script's image is a memfd holding
 *    "#!<exec dir>/i<M>/<interpreter's base name> [arg]\n", the link there
 *    pointing at /proc/self/fd/M, so the interpreter's argv[0] keeps its
 *    base name (busybox picks its applet by it) but is a host path.
 * fexecve (run_exec_fd): the tracee's fd is replaced by the image when the
 * program needs an interpreter. A failing exec (after our checks) leaves
 * the rewritten string (or the replaced fd) behind in the tracee. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <dirent.h>
#include <elf.h>
#include <linux/kcmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
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


/* Installs host fd h in the tracee (lowest free fd): the tracee fd. */
static int install(struct run_call *c, int h, bool cloexec)
{
	struct seccomp_notif_addfd a = { .id = c->req->id, .srcfd = (uint32_t)h, .newfd_flags = cloexec ? O_CLOEXEC : 0 };
	int n = ioctl(c->s->listener, SECCOMP_IOCTL_NOTIF_ADDFD, &a);
	return n < 0 ? -errno : n;
}

static int reopen_ro(int fd)
{
	char p[64];
	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	int h = open(p, O_RDONLY | O_CLOEXEC);
	return h < 0 ? -errno : h;
}

/* link -> target, replacing what was there */
static int put_link(const char *target, const char *link)
{
	if (!symlink(target, link))
		return 0;
	if (errno != EEXIST)
		return -errno;
	/* usually the link of an earlier exec with the same fd number, which
	 * is already right: replacing it costs two inodes on the host's disk */
	char cur[PATH_MAX];
	ssize_t n = readlink(link, cur, sizeof(cur));
	if (n >= 0 && (size_t)n == strlen(target) && !memcmp(cur, target, (size_t)n))
		return 0;
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s.new", link);
	unlink(tmp);
	if (symlink(target, tmp) || rename(tmp, link))
		return -errno;
	return 0;
}

static int image(struct run_call *c, struct uvfs_file *f, int depth, int *out, struct run_vfd **vout, bool *script);

/* A new read-only description of f's content: the host file behind it
 * (vfd.c run_vfd_host_for: nothing copied, the host's page cache) or its
 * memfd. */
static int content(struct run_call *c, struct uvfs_file *f, struct run_vfd **v)
{
	int h, err = run_vfd_host_for(c->s, f, false, v, &h);
	if (!err)
		return h;
	if (err != -EOPNOTSUPP)
		return err;
	if ((err = run_vfd_memfd_for(c->s, f, v)))
		return err;
	return reopen_ro((*v)->memfd);
}

/* Exec images of dynamically linked programs are cached: building one
 * copies the whole program (gcc's cc1 is 33 MB, exec'd once per source
 * file), and a fresh copy also starts with a cold page cache. An image is
 * the program's content with PT_INTERP naming fd L, so it is kept per
 * program (its REG vfd: one per uvfs inode, alive until the run ends) and
 * per L (normally the same small number every time). It is valid while the
 * program's memfd is unchanged: every change reaches the memfd, and is
 * synced (mark_synced bumps v->gen) before any exec is served; size, mtime
 * and ctime are compared as well. The image memfd is sealed, each exec
 * gets a read-only reopen of it. Bounded by count and total bytes, least
 * recently used evicted; freed by run_exec_free. Single-threaded (the
 * supervisor), no lock. */
struct run_img {
	struct run_vfd *v; /* the program (not referenced: REG vfds outlive the cache) */
	int l; /* the interpreter's fd number written into the image */
	int fd; /* the image: a sealed memfd */
	uint64_t gen; /* v->gen when built */
	struct stat st; /* v->memfd's when built: size, mtime, ctime compared */
	struct run_img *next; /* s->imgs: most recently used first */
};
enum { RUN_IMG_MAX = 32 };
static const size_t RUN_IMG_BYTES = (size_t)256 << 20;

static bool same_content(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec && a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	       a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

static void img_drop(struct run_sup *s, struct run_img **pp)
{
	struct run_img *i = *pp;
	*pp = i->next;
	s->nimgs--;
	s->img_bytes -= (size_t)i->st.st_size;
	close(i->fd);
	free(i);
}

/* A read-only description of the valid cached image of (v, l), or -ENOENT;
 * a stale one is dropped. */
static int img_get(struct run_sup *s, struct run_vfd *v, int l, const struct stat *st)
{
	for (struct run_img **pp = &s->imgs; *pp; pp = &(*pp)->next) {
		struct run_img *i = *pp;
		if (i->v != v || i->l != l)
			continue;
		if (i->gen != v->gen || !same_content(&i->st, st)) {
			img_drop(s, pp);
			return -ENOENT;
		}
		*pp = i->next; /* to the front */
		i->next = s->imgs;
		s->imgs = i;
		return reopen_ro(i->fd);
	}
	return -ENOENT;
}

/* Keeps fd (the image of (v, l), built from content st) in the cache, or
 * closes it when it is larger than the whole cache. */
static void img_put(struct run_sup *s, struct run_vfd *v, int l, const struct stat *st, int fd)
{
	struct run_img *i = (size_t)st->st_size <= RUN_IMG_BYTES ? malloc(sizeof(*i)) : NULL;
	if (!i) {
		close(fd);
		return;
	}
	*i = (struct run_img){ .v = v, .l = l, .fd = fd, .gen = v->gen, .st = *st, .next = s->imgs };
	s->imgs = i;
	s->nimgs++;
	s->img_bytes += (size_t)st->st_size;
	while (s->nimgs > RUN_IMG_MAX || s->img_bytes > RUN_IMG_BYTES) {
		struct run_img **pp = &s->imgs;
		while ((*pp)->next)
			pp = &(*pp)->next;
		img_drop(s, pp); /* the least recently used (never the new one: it fits) */
	}
}

/* An ELF with PT_INTERP (src: its content): a copy whose interpreter is the
 * tree's. Returns 1 when it is not such an ELF (the kernel takes it as it
 * is). */
static int elf_image(struct run_call *c, struct run_vfd *v, int src, int *out)
{
	Elf64_Ehdr eh;
	if (pread(src, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum > 256)
		return 1;
	Elf64_Phdr ph;
	size_t i;
	for (i = 0; i < eh.e_phnum; i++) {
		if (pread(src, &ph, sizeof(ph), (off_t)(eh.e_phoff + i * sizeof(ph))) != (ssize_t)sizeof(ph))
			return 1;
		if (ph.p_type == PT_INTERP)
			break;
	}
	if (i == eh.e_phnum || ph.p_filesz < 2 || ph.p_filesz > PATH_MAX)
		return 1; /* static: nothing to redirect (the kernel checks the rest) */
	char interp[PATH_MAX + 1];
	if (pread(src, interp, ph.p_filesz, (off_t)ph.p_offset) != (ssize_t)ph.p_filesz ||
	    interp[ph.p_filesz - 1])
		return 1; /* the kernel refuses it (ENOEXEC) */
	/* the kernel's open_exec(interpreter): as the task, relative to its cwd */
	struct uvfs_file *fi = NULL;
	long err = uvfs_sbx_open_exec(c->task->sbx, AT_FDCWD, interp, 0, &fi);
	if (err)
		return (int)err;
	struct run_vfd *vi;
	int h = content(c, fi, &vi);
	uvfs_file_put(fi);
	if (h < 0)
		return h;
	int l = install(c, h, true);
	close(h);
	if (l < 0)
		return l;
	char name[32];
	int nl = snprintf(name, sizeof(name), "/proc/self/fd/%d", l);
	if ((size_t)nl + 1 > ph.p_filesz)
		return 1; /* no room: the host's interpreter (documented) */
	struct stat st;
	if (fstat(src, &st))
		return -errno;
	int e = img_get(c->s, v, l, &st);
	if (e != -ENOENT) {
		if (e >= 0)
			*out = e;
		return e < 0 ? e : 0;
	}
	e = memfd_create("uvfs-exec", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (e < 0)
		return -errno;
	errno = 0;
	for (off_t off = 0; off < st.st_size;) {
		/* from a host file: no copy_file_range across file systems */
		ssize_t n = v->host ? sendfile(e, src, &off, (size_t)(st.st_size - off))
				    : copy_file_range(src, &off, e, NULL, (size_t)(st.st_size - off), 0);
		if (n <= 0)
			goto fail;
	}
	char pad[PATH_MAX + 1] = { 0 };
	memcpy(pad, name, (size_t)nl);
	if (pwrite(e, pad, ph.p_filesz, (off_t)ph.p_offset) != (ssize_t)ph.p_filesz)
		goto fail;
	/* shared by many execs: nobody may change it any more */
	if (fcntl(e, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE))
		goto fail;
	*out = reopen_ro(e);
	if (*out < 0) {
		close(e);
		return *out;
	}
	img_put(c->s, v, l, &st, e);
	return 0;
fail:
	err = errno ? -errno : -EIO;
	close(e);
	return (int)err;
}

static bool spacetab(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* A #! script: the kernel's load_script parse, the interpreter from the
 * tree. Returns 1 when buf is not a script the kernel would run. */
static int script_image(struct run_call *c, char *buf, int depth, int *out)
{
	/* buf holds the first 256 bytes, zero-padded, as bprm->buf */
	char *end = buf + 255, *i_end = memchr(buf, '\n', 256);
	if (!i_end) {
		char *p = buf + 2;
		while (p < end && spacetab(*p))
			p++;
		if (p == end)
			return 1;
		char *q = p;
		while (q < end && !spacetab(*q) && *q)
			q++;
		if (q == end)
			return 1; /* the interpreter's name may be truncated */
		i_end = end;
	}
	while (i_end > buf + 2 && spacetab(i_end[-1]))
		i_end--;
	*i_end = 0;
	char *name = buf + 2;
	while (name < i_end && spacetab(*name))
		name++;
	if (name == i_end)
		return 1;
	char *sep = name, *arg = NULL;
	while (sep < i_end && !spacetab(*sep) && *sep)
		sep++;
	if (sep < i_end && *sep) {
		arg = sep;
		while (arg < i_end && spacetab(*arg))
			arg++;
		if (arg == i_end)
			arg = NULL;
	}
	*sep = 0;
	if (depth >= 5)
		return -ELOOP;
	struct uvfs_file *fi = NULL;
	long err = uvfs_sbx_open_exec(c->task->sbx, AT_FDCWD, name, 0, &fi);
	if (err)
		return (int)err;
	int h;
	struct run_vfd *vi;
	bool iscript;
	err = image(c, fi, depth + 1, &h, &vi, &iscript);
	uvfs_file_put(fi);
	if (err)
		return (int)err;
	/* a nested script is the next interpreter's argument: it opens it as
	 * /dev/fd/M (an alias of the script, as for the top level) */
	err = iscript ? run_vfd_alias(c->s, h, vi) : 0;
	int m = err ? (int)err : install(c, h, !iscript);
	close(h);
	if (m < 0)
		return m;
	char line[600];
	int n;
	if (iscript) {
		n = snprintf(line, sizeof(line), "#!/dev/fd/%d%s%s\n", m, arg ? " " : "", arg ? arg : "");
		goto write;
	}
	const char *base = strrchr(name, '/');
	base = base ? base + 1 : name;
	if (!*base || !strcmp(base, ".") || !strcmp(base, ".."))
		base = "interp";
	char dir[PATH_MAX], link[PATH_MAX], target[64];
	snprintf(dir, sizeof(dir), "%s/i%d", c->s->hostdir, m);
	if (mkdir(dir, 0711) && errno != EEXIST)
		return -errno;
	if (snprintf(link, sizeof(link), "%s/%s", dir, base) >= (int)sizeof(link))
		return -ENAMETOOLONG;
	snprintf(target, sizeof(target), "/proc/self/fd/%d", m);
	if ((err = put_link(target, link)))
		return (int)err;
	n = snprintf(line, sizeof(line), "#!%s%s%s\n", link, arg ? " " : "", arg ? arg : "");
write:
	if (n >= 256)
		return -ENOEXEC; /* the host path made the line too long for the kernel */
	int e = memfd_create("uvfs-script", MFD_CLOEXEC);
	if (e < 0)
		return -errno;
	if (write(e, line, (size_t)n) != n) {
		close(e);
		return -EIO;
	}
	*out = e;
	return 0;
}

/* The image the kernel is to exec for f: a host fd of the supervisor. */
static int image(struct run_call *c, struct uvfs_file *f, int depth, int *out, struct run_vfd **vout, bool *script)
{
	struct run_vfd *v;
	int src = content(c, f, &v);
	if (src < 0)
		return src;
	*vout = v;
	char buf[257] = { 0 };
	if (pread(src, buf, 256, 0) < 0) {
		close(src);
		return -EIO;
	}
	*script = buf[0] == '#' && buf[1] == '!';
	int err = *script ? script_image(c, buf, depth, out) : elf_image(c, v, src, out);
	if (err > 0)
		*script = false; /* not one the kernel runs: it fails as it will */
	if (err <= 0) {
		close(src);
		return err;
	}
	*out = src; /* static: the content itself */
	return 0;
}

long run_exec(struct run_call *c, struct uvfs_file *f, uint64_t path_addr, uint64_t argv_addr, const char *linkdir)
{
	char path[PATH_MAX];
	int err = run_read_path(c->pid, path_addr, path, sizeof(path));
	if (err)
		return err;
	size_t plen = strlen(path);
	struct run_vfd *v;
	bool script;
	int h;
	err = image(c, f, 0, &h, &v, &script);
	if (err)
		return err;
	/* a script's fd N stays open for the interpreter, which may open
	 * /dev/fd/N: that fd is an alias of the script (vfd.c) */
	err = script ? run_vfd_alias(c->s, h, v) : 0;
	int n = err ? err : install(c, h, !script);
	if (n < 0) {
		close(h);
		return n;
	}
	char name[PATH_MAX], target[64], lpath[PATH_MAX];
	snprintf(target, sizeof(target), "/proc/self/fd/%d", n);
	const char *one = !strncmp(path, "./", 2) ? path + 2 : path;
	bool keep = script && *one && !strchr(one, '/') && strcmp(one, ".") && strcmp(one, "..");
	if (keep) {
		/* Only while no other exec's link has that name: the kernel
		 * resolves it after we answer, so a link is never replaced (the
		 * exec of another process may still be on its way to it). */
		char cur[64];
		ssize_t k = snprintf(lpath, sizeof(lpath), "%s/%s", linkdir, one) >= (int)sizeof(lpath)
				    ? -2
				    : readlink(lpath, cur, sizeof(cur) - 1);
		keep = k == -1 ? errno == ENOENT : k >= 0 && (size_t)k == strlen(target) && !memcmp(cur, target, (size_t)k);
	}
	if (keep) { /* the interpreter gets the very name, which the tree resolves */
		snprintf(name, sizeof(name), "%s", one);
		/* and needs no fd N: make it close-on-exec (same file, same fd) */
		struct seccomp_notif_addfd a = { .id = c->req->id, .flags = SECCOMP_ADDFD_FLAG_SETFD, .srcfd = (uint32_t)h,
						 .newfd = (uint32_t)n, .newfd_flags = O_CLOEXEC };
		if (ioctl(c->s->listener, SECCOMP_IOCTL_NOTIF_ADDFD, &a) < 0)
			keep = false;
	}
	close(h);
	if (keep)
		;
	else if (script && (size_t)snprintf(name, sizeof(name), "/dev/fd/%d", n) <= plen)
		;
	else /* a short path: the interpreter opens "N" (dispatch.c: the fd's file when the tree has no "N") */
		snprintf(name, sizeof(name), "%d", n);
	if (name[0] != '/') {
		if (snprintf(lpath, sizeof(lpath), "%s/%s", linkdir, name) >= (int)sizeof(lpath))
			return -ENAMETOOLONG;
		if ((err = put_link(target, lpath)))
			return err;
	}
	if (keep) {
		c->cont = true;
		return 0;
	}
	if (strlen(name) > plen)
		return -ENOEXEC; /* a short path and a large fd: no room to rewrite */
	/* A caller sharing its memory with its parent (vfork, posix_spawn:
	 * gcc's driver running cc1) must leave the parent's argv array alone
	 * (the parent resumes after the exec and may free argv[0]). The path
	 * becomes "N/BASENAME" (N/ a directory of links beside N), so an
	 * argv[0] aliasing it keeps its basename, which is what programs
	 * (busybox) look at. */
	const char *base = strrchr(path, '/');
	bool shared_vm = !script && base && base[1] && (size_t)(base - path) >= strlen(name) + 1 &&
			 syscall(SYS_kcmp, c->pid, c->st.ppid, KCMP_VM, 0, 0) == 0;
	if (shared_vm) {
		char dpath[PATH_MAX];
		if (snprintf(dpath, sizeof(dpath), "%s/%sd", linkdir, name) >= (int)sizeof(dpath))
			return -ENAMETOOLONG;
		if (mkdir(dpath, 0711) && errno != EEXIST)
			return -errno;
		if (snprintf(lpath, sizeof(lpath), "%s/%s", dpath, base + 1) >= (int)sizeof(lpath))
			return -ENAMETOOLONG;
		if ((err = put_link(target, lpath)))
			return err;
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

int run_exec_fd(struct run_call *c, int fd)
{
	int err;
	struct run_vfd *v = run_vfd_lookup(c->s, c->pid, fd, &err);
	if (!v || v->type != RUN_VFD_REG)
		return err; /* a host file, a directory …: the kernel answers */
	/* the kernel checks exec permission on the fd's file; so do we, as
	 * the task, on the tree's */
	struct uvfs_pathop pop = { .root = c->s->root, .start = v->vd, .path = "", .flags = UVFS_PATH_EMPTY };
	if ((err = uvfs_access_at(c->s->vfs, uvfs_sbx_task_cred(c->task->sbx), &pop, X_OK)))
		return err;
	struct uvfs_file *f;
	struct uvfs_cred root;
	uvfs_cred_init_root(&root);
	if ((err = uvfs_open_at(c->s->vfs, &root, &pop, O_RDONLY, 0, 0, &f)))
		return err;
	struct run_vfd *vv;
	bool script;
	int h;
	err = image(c, f, 0, &h, &vv, &script);
	uvfs_file_put(f);
	if (err)
		return err;
	struct stat a;
	if (!fstat(h, &a) && a.st_ino == v->key_ino && a.st_dev == v->key_dev) {
		close(h); /* a static program: the fd already is its content */
		return 0;
	}
	char p[64], line[256] = "";
	snprintf(p, sizeof(p), "/proc/%d/fdinfo/%d", (int)c->pid, fd);
	FILE *fi = fopen(p, "re");
	unsigned flags = 0;
	while (fi && fgets(line, sizeof(line), fi))
		if (sscanf(line, "flags: %o", &flags) == 1)
			break;
	if (fi)
		fclose(fi);
	/* a script's interpreter opens /dev/fd/N (Linux): N stands for it */
	err = script ? run_vfd_alias(c->s, h, v) : 0;
	struct seccomp_notif_addfd ad = { .id = c->req->id, .flags = SECCOMP_ADDFD_FLAG_SETFD, .srcfd = (uint32_t)h,
					  .newfd = (uint32_t)fd, .newfd_flags = flags & O_CLOEXEC };
	if (!err && ioctl(c->s->listener, SECCOMP_IOCTL_NOTIF_ADDFD, &ad) < 0)
		err = -errno;
	close(h);
	return err;
}

void run_exec_free(struct run_sup *s)
{
	while (s->imgs)
		img_drop(s, &s->imgs);
	DIR *d = s->hostdir ? opendir(s->hostdir) : NULL;
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' && e->d_name[1] && strcmp(e->d_name, "..")) {
			unlinkat(dirfd(d), e->d_name, 0); /* a kept script name ".x": loop.c skips dot names */
			continue;
		}
		if (e->d_name[0] != 'i' || e->d_name[1] < '0' || e->d_name[1] > '9')
			continue; /* only the interpreter links' directories (script_image) */
		int fd = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		DIR *sub = fd < 0 ? NULL : fdopendir(fd);
		if (!sub) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		struct dirent *l;
		while ((l = readdir(sub)))
			if (l->d_name[0] != '.' || (l->d_name[1] && strcmp(l->d_name, "..")))
				unlinkat(dirfd(sub), l->d_name, 0);
		closedir(sub);
		unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR);
	}
	closedir(d);
}
