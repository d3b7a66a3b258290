/* sandbox/run/fork.c — the fork bound: past max_tasks live tracee
 * processes, fork, vfork, clone and clone3 fail with EAGAIN, as they do at
 * RLIMIT_NPROC; below it the kernel forks (CONTINUE). Threads
 * (CLONE_THREAD) are not counted.
 *
 * Why seccomp and not RLIMIT_NPROC or a pids cgroup: RLIMIT_NPROC counts
 * every process of the user on the host (and root ignores it); a pids
 * cgroup needs a delegated cgroup, which an ordinary user does not have.
 * The supervisor sees every fork request already, as any user.
 *
 * Counting: every process that makes a notified syscall is in the task
 * table (proc.c), and a fork is a notified syscall, so every process that
 * forks is known. A child that has not made a notified syscall yet is
 * counted by forks_unseen (incremented here, decremented when a new task
 * shows up). That count only ever errs high (a child that died unseen);
 * so when it says "full", the exact count is taken: the known tasks still
 * alive (dead ones swept) plus their children in
 * /proc/<pid>/task/<tid>/children that are not known. Unseen children of
 * a process that already exited (orphans reparented outside the run) are
 * missed; they cannot fork without being seen. A "full" answer is reused
 * for 20 ms, so a fork bomb at the limit costs one scan per 20 ms, not
 * one per attempt, and the supervisor keeps serving everyone else. */
#include <errno.h>
#include <sched.h>
#include <time.h>

#include "sandbox/run/internal.h"

#define ARG(i) (c->req->data.args[(i)])

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static long check(struct run_call *c, uint64_t flags)
{
	struct run_sup *s = c->s;
	if (!(flags & CLONE_THREAD)) {
		if (s->ntasks + s->forks_unseen >= s->max_tasks) {
			uint64_t now = now_ns();
			if (now < s->full_until_ns)
				return -EAGAIN;
			size_t live = run_tasks_recount(s);
			if (live >= s->max_tasks) {
				s->full_until_ns = now + 20000000u;
				return -EAGAIN;
			}
		}
		s->forks_unseen++;
	}
	c->cont = true;
	return 0;
}

long run_h_clone(struct run_call *c)
{
	return check(c, ARG(0));
}

long run_h_clone3(struct run_call *c)
{
	uint64_t flags = 0;
	/* an unreadable struct: the kernel's own EFAULT/EINVAL (counted as a
	 * process: errs on the safe side) */
	if (ARG(1) >= sizeof(flags))
		run_read_mem(c->pid, ARG(0), &flags, sizeof(flags));
	return check(c, flags);
}

long run_h_fork(struct run_call *c)
{
	return check(c, 0);
}
