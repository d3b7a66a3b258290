/* sandbox/run/filter.c — the seccomp filter and the launch of the tracee.
 *
 * The child installs the filter itself (PR_SET_NO_NEW_PRIVS, then a
 * libseccomp filter whose notify rules make the kernel set
 * SECCOMP_FILTER_FLAG_NEW_LISTENER), sends the listener to the parent over
 * a socketpair (SCM_RIGHTS) and execs. Everything not in
 * run_notified_syscalls is allowed untouched. The child's host cwd is the
 * supervisor's exec directory (see exec.c); it never changes, since every
 * chdir is answered from the tree. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <grp.h>
#include <unistd.h>

#include "sandbox/run/internal.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

static int send_fd(int sock, int fd)
{
	char b = 0;
	struct iovec iov = { &b, 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof(u));
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &m, 0) == 1 ? 0 : -errno;
}

static int recv_fd(int sock)
{
	char b;
	struct iovec iov = { &b, 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	ssize_t n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
	if (n != 1)
		return n < 0 ? -errno : -EPIPE;
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	if (!c || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof(int)))
		return -EPROTO;
	int fd;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

static int install_filter(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return -ENOMEM;
	int err = 0;
	/* Native ABI only: libseccomp kills a tracee that uses another one
	 * (int 0x80, x32) instead of letting it past the filter. */
	for (size_t i = 0; i < run_nhandlers && !err; i++)
		if (run_handlers[i].nr != __NR_mmap && run_handlers[i].nr != __NR_ioctl &&
		    run_handlers[i].nr != __NR_mprotect && run_handlers[i].nr != __NR_pkey_mprotect)
			err = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, run_handlers[i].nr, 0);
	/* ioctl only for the pty commands whose answer names the tree's pair
	 * (pty.c); every other ioctl stays in the kernel. The kernel takes
	 * the command as an unsigned int: the upper half is not compared. */
	static const unsigned long pty_cmds[] = { TIOCGPTN, TIOCGPTPEER, TIOCSPTLCK };
	for (size_t i = 0; !err && i < sizeof(pty_cmds) / sizeof(pty_cmds[0]); i++)
		err = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, __NR_ioctl, 1,
				       SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffUL, pty_cmds[i]));
	/* mprotect only when it asks for PROT_WRITE (maps.c): a mapping made
	 * writable later; RELRO, guard pages and the like never come here */
	if (!err)
		err = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, __NR_mprotect, 1,
				       SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_WRITE, PROT_WRITE));
	if (!err)
		err = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, __NR_pkey_mprotect, 1,
				       SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_WRITE, PROT_WRITE));
	/* mmap only when shared (MAP_SHARED or MAP_SHARED_VALIDATE) and
	 * writable: every program maps its libraries, privately */
	for (unsigned type = MAP_SHARED; !err && type <= MAP_SHARED_VALIDATE; type += 2)
		err = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, __NR_mmap, 2, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_WRITE, PROT_WRITE),
				       SCMP_A3(SCMP_CMP_MASKED_EQ, MAP_SHARED_VALIDATE, type));
	if (!err)
		err = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1);
	if (!err)
		err = seccomp_load(ctx);
	int fd = err ? err : seccomp_notify_fd(ctx);
	seccomp_release(ctx);
	return fd;
}

/* process.user: a root supervisor's child takes any ids; any other may
 * only keep its own uid, gid and groups (setgroups, setgid, setuid would
 * fail in the child, after the program's output began: refuse before
 * forking, clearly). It cannot drop groups either: it keeps those it has
 * beyond the ones asked. */
static int user_allowed(const struct uvfs_run_opts *o)
{
	if (!o->set_user || geteuid() == 0)
		return 0;
	gid_t cur[256];
	int n = getgroups(256, cur);
	bool same = o->uid == getuid() && o->uid == geteuid() && o->gid == getgid() && o->gid == getegid();
	for (size_t i = 0; same && i < o->ngroups; i++) {
		bool found = o->groups[i] == o->gid;
		for (int j = 0; j < n && !found; j++)
			found = cur[j] == o->groups[i];
		same = found;
	}
	if (same)
		return 0;
	fprintf(stderr, "uvfs run: running the program as uid %u gid %u (process.user) needs root: %s\n", o->uid,
		o->gid, strerror(EPERM));
	return -EPERM;
}

/* In the child, after the filter is loaded and the listener sent (these
 * calls are in the filter: the supervisor serves them and reads the ids
 * again), before exec: groups, gid, uid in runc's order. */
static int set_user(const struct uvfs_run_opts *o, const gid_t *g)
{
	if (o->set_umask)
		umask(o->umask & 0777);
	if (!o->set_user || geteuid() != 0)
		return 0; /* not root: its own ids (user_allowed) */
	if (setgroups(o->ngroups, g) || setresgid(o->gid, o->gid, o->gid) || setresuid(o->uid, o->uid, o->uid))
		return -errno;
	/* a change of ids clears the parent-death signal */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	return 0;
}

int run_launch(struct run_sup *s, const struct uvfs_run_opts *o)
{
	int err0 = user_allowed(o);
	if (err0)
		return err0;
	/* made before the fork: the child of a threaded process may not malloc */
	gid_t *gids = calloc(o->ngroups + 1, sizeof(*gids));
	if (!gids)
		return -ENOMEM;
	for (size_t i = 0; i < o->ngroups; i++)
		gids[i] = o->groups[i];
	pid_t sup = getpid();
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
		free(gids);
		return -errno;
	}
	char *const *envp = o->envp;
	if (!envp) {
		extern char **environ;
		envp = environ;
	}
	/* The path execve reads must be its own buffer: exec.c rewrites it. */
	char *path = strdup(o->argv[0]);
	if (!path) {
		free(gids);
		close(sv[0]), close(sv[1]);
		return -ENOMEM;
	}
	pid_t pid = fork();
	if (pid != 0)
		free(gids);
	if (pid < 0) {
		int err = -errno;
		free(path);
		close(sv[0]), close(sv[1]);
		return err;
	}
	if (pid == 0) {
		close(sv[0]);
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* the supervisor died: nobody would answer */
		if (chdir(s->hostdir))
			_exit(127);
		int fd = install_filter();
		if (fd < 0) {
			fprintf(stderr, "uvfs run: installing the seccomp filter: %s\n", strerror(-fd));
			_exit(127);
		}
		if (send_fd(sv[1], fd))
			_exit(127);
		close(fd);
		close(sv[1]);
		int ue = set_user(o, gids);
		if (ue) {
			fprintf(stderr, "uvfs run: taking uid %u gid %u: %s\n", o->uid, o->gid, strerror(-ue));
			_exit(127);
		}
		if (getppid() != sup) /* the supervisor died before the signal was set again */
			_exit(127);
		if (strchr(path, '/')) {
			execve(path, o->argv, envp);
		} else {
			/* PATH search, as execvp, each candidate looked up in the tree */
			const char *p = getenv("PATH");
			if (!p)
				p = "/usr/local/bin:/usr/bin:/bin";
			while (*p) {
				const char *e = strchrnul(p, ':');
				char *cand = malloc((size_t)(e - p) + strlen(path) + 2);
				if (!cand)
					break;
				sprintf(cand, "%.*s/%s", (int)(e - p), p, path);
				execve(cand, o->argv, envp);
				free(cand);
				p = *e ? e + 1 : e;
			}
		}
		fprintf(stderr, "uvfs run: %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	free(path);
	close(sv[1]);
	s->child = pid;
	int fd = recv_fd(sv[0]);
	close(sv[0]);
	if (fd < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		s->child = -1;
		return fd;
	}
	s->listener = fd;
	return 0;
}

bool run_id_valid(struct run_call *c)
{
	return seccomp_notify_id_valid(c->s->listener, c->req->id) == 0;
}
