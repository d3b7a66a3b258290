/* fsimpl/devpts/jobctl.c — job control of devpts terminals through the
 * embedder's task model (struct uvfs_devpts_opts): the session a terminal
 * controls and its foreground process group, the ioctls that set and read
 * them (Linux drivers/tty/tty_jobctrl.c), and signal delivery.
 *
 * The caller is the task of uvfs_current_ctx(); its ids come from
 * opts->task_ids. uvfs keeps no per-task controlling terminal: "the
 * caller's ctty is this terminal" is "this terminal's session is the
 * caller's", and "the caller has a ctty" is "some devpts terminal of the
 * instance has the caller's session".
 *
 * Locks: pty->session, pgrp and sigq are under pty->mu. TIOCSCTTY holds
 * devpts_mu (the instance's table) while it looks at the other terminals'
 * sessions, one pty->mu at a time, then takes this pty's mu (devpts_mu →
 * pty->mu, as everywhere). Callbacks run with no lock held. */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>

#include "fsimpl/devpts/internal.h"

DP_HIDDEN void pty_queue_sig(struct pty *p, int sig)
{
	if (!p->pgrp || !p->opts || !p->opts->kill_pgrp)
		return;
	for (unsigned i = 0; i < p->nsig; i++)
		if (p->sigq[i].pgid == p->pgrp && p->sigq[i].sig == sig)
			return; /* pending already: signals do not queue (not realtime) */
	if (p->nsig < PTY_SIGQ)
		p->sigq[p->nsig++] = (struct pty_sig){ p->pgrp, sig };
}

DP_HIDDEN void pty_deliver_sigs(struct pty *p)
{
	struct pty_sig q[PTY_SIGQ];
	pthread_mutex_lock(&p->mu);
	unsigned n = p->nsig;
	memcpy(q, p->sigq, n * sizeof q[0]);
	p->nsig = 0;
	pthread_mutex_unlock(&p->mu);
	for (unsigned i = 0; i < n; i++)
		p->opts->kill_pgrp(p->opts->arg, q[i].pgid, q[i].sig);
}

/* The caller's ids: 0, or -ENOTTY without a task model or a task (a
 * caller with no controlling terminal, as far as uvfs can tell). */
static int caller_ids(const struct pty *p, struct uvfs_tty_task_ids *ids)
{
	const struct uvfs_ctx *c = uvfs_current_ctx();
	if (!p->opts || !p->opts->task_ids || !c->task || p->opts->task_ids(p->opts->arg, c->task, ids))
		return -ENOTTY;
	return 0;
}

static void ctty_changed(const struct pty *p, int32_t sid, int idx)
{
	if (p->opts && p->opts->ctty_changed && sid)
		p->opts->ctty_changed(p->opts->arg, sid, idx);
}

/* devpts_mu held: does session sid control a terminal other than p? */
static bool session_has_tty(struct devpts_inst *inst, const struct pty *p, int32_t sid)
{
	for (unsigned i = 0; inst && i < inst->nptys; i++) {
		struct pty *q = inst->ptys[i];
		if (!q || q == p)
			continue;
		pthread_mutex_lock(&q->mu);
		bool has = q->session == sid;
		pthread_mutex_unlock(&q->mu);
		if (has)
			return true;
	}
	return false;
}

/* Linux tiocsctty: a session leader without a terminal takes this one
 * (arg 1 with CAP_SYS_ADMIN steals it from another session). */
static long set_ctty(struct uvfs_file *f, struct pty *p, const struct uvfs_tty_task_ids *me, bool steal)
{
	const struct uvfs_ctx *c = uvfs_current_ctx();
	const struct uvfs_cred *cred = c->cred ? c->cred : &f->f_cred;
	bool admin = uvfs_cred_has_cap(cred, CAP_SYS_ADMIN);
	long ret = 0;
	int32_t stolen = 0;
	pthread_mutex_lock(&devpts_mu);
	struct devpts_inst *inst = devpts_find(p->vfs);
	bool leader = me->pid == me->sid;
	bool has_other = leader && session_has_tty(inst, p, me->sid);
	pthread_mutex_lock(&p->mu);
	if (leader && p->session == me->sid) {
		ret = 0; /* already ours */
		goto out;
	}
	if (!leader || has_other) {
		ret = -EPERM;
		goto out;
	}
	if (p->session) {
		if (!(steal && admin)) {
			ret = -EPERM;
			goto out;
		}
		stolen = p->session;
	}
	if ((f->f_flags & O_ACCMODE) == O_WRONLY && !admin) {
		ret = -EPERM;
		goto out;
	}
	p->session = me->sid;
	p->pgrp = me->pgid;
	ret = 1;
out:
	pthread_mutex_unlock(&p->mu);
	pthread_mutex_unlock(&devpts_mu);
	if (ret == 1) {
		ctty_changed(p, stolen, -1);
		ctty_changed(p, me->sid, (int)p->index);
		ret = 0;
	}
	return ret;
}

/* Linux tiocnotty: the caller gives up its terminal; a session leader's
 * giving up sends SIGHUP and SIGCONT to the foreground group and leaves
 * the terminal to no session (disassociate_ctty). */
static long no_ctty(struct pty *p, const struct uvfs_tty_task_ids *me)
{
	pthread_mutex_lock(&p->mu);
	if (p->session != me->sid) {
		pthread_mutex_unlock(&p->mu);
		return -ENOTTY;
	}
	bool leader = me->pid == me->sid;
	if (leader) {
		pty_queue_sig(p, SIGHUP);
		pty_queue_sig(p, SIGCONT);
		p->session = p->pgrp = 0;
	}
	pthread_mutex_unlock(&p->mu);
	pty_deliver_sigs(p);
	if (leader)
		ctty_changed(p, me->sid, -1);
	return 0;
}

/* Linux tiocspgrp. The order of the errors is Linux's: EINVAL, then
 * ENOTTY (not the caller's terminal), ESRCH (no such group), EPERM (a
 * group of another session). */
static long set_pgrp(struct pty *p, const struct uvfs_tty_task_ids *me, bool have_me, const int32_t *arg)
{
	int32_t pgid = *arg;
	if (pgid < 0)
		return -EINVAL;
	int32_t gsid = 0;
	int found = have_me && p->opts->pgrp_session ? p->opts->pgrp_session(p->opts->arg, pgid, &gsid) : -ESRCH;
	long ret;
	pthread_mutex_lock(&p->mu);
	if (!have_me || !p->session || p->session != me->sid)
		ret = -ENOTTY;
	else if (found)
		ret = -ESRCH;
	else if (gsid != me->sid)
		ret = -EPERM;
	else {
		p->pgrp = pgid;
		ret = 0;
	}
	pthread_mutex_unlock(&p->mu);
	return ret;
}

DP_HIDDEN long pty_jobctl_ioctl(struct uvfs_file *f, struct pty *p, bool master, unsigned long cmd, void *arg)
{
	if (cmd != TIOCSCTTY && cmd != TIOCNOTTY && cmd != TIOCGPGRP && cmd != TIOCSPGRP && cmd != TIOCGSID)
		return PTY_NOT_JOBCTL;
	struct uvfs_tty_task_ids me;
	bool have_me = caller_ids(p, &me) == 0;
	switch (cmd) {
	case TIOCSCTTY:
		return have_me ? set_ctty(f, p, &me, (uintptr_t)arg == 1) : -EPERM;
	case TIOCNOTTY:
		/* The master is never the caller's terminal (its replica is). */
		return master || !have_me ? -ENOTTY : no_ctty(p, &me);
	case TIOCSPGRP:
		return arg ? set_pgrp(p, &me, have_me, arg) : -EFAULT;
	}
	/* TIOCGPGRP, TIOCGSID: on the replica, only by its session; the
	 * master answers anyone (Linux: tty == real_tty check). */
	if (!arg)
		return -EFAULT;
	long ret = 0;
	pthread_mutex_lock(&p->mu);
	if (!master && (!have_me || !p->session || p->session != me.sid))
		ret = -ENOTTY;
	else if (cmd == TIOCGPGRP)
		*(int32_t *)arg = p->pgrp;
	else if (!p->session)
		ret = -ENOTTY;
	else
		*(int32_t *)arg = p->session;
	pthread_mutex_unlock(&p->mu);
	return ret;
}

DP_HIDDEN void pty_jobctl_hangup(struct pty *p)
{
	pthread_mutex_lock(&p->mu);
	int32_t sid = p->session;
	p->session = p->pgrp = 0;
	pthread_mutex_unlock(&p->mu);
	ctty_changed(p, sid, -1);
}
