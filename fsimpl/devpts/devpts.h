/* fsimpl/devpts/devpts.h — devpts (gVisor fsimpl/devpts, Linux devpts +
 * pty.c + a small n_tty): pseudo-terminal pairs.
 *
 * One devpts per uvfs instance, shared by every mount of the type (mount
 * data must be empty: -EINVAL). Root 0555, `ptmx` 5:2 0666. Each open of
 * ptmx makes a pair: the master (the ptmx file) and replica `N`, a 136:N
 * node (0620, owned by the opener) created in devpts with the lowest free
 * index and removed when the master closes. The replica starts locked
 * (open -EIO) until TIOCSPTLCK(0) on the master, as Linux (unlockpt).
 *
 * Line discipline (tested against the host's pty): canonical mode (whole
 * lines, VERASE with ECHOE, VKILL with ECHOKE, VEOF, ICRNL) and raw mode
 * (VMIN with VTIME = 0, or VTIME as an overall timeout when VMIN = 0),
 * ECHO/ECHONL/ECHOCTL, output OPOST|ONLCR. Ioctls: TCGETS, TCSETS(W|F),
 * TIOCGWINSZ, TIOCSWINSZ, TIOCGPTN, TIOCSPTLCK, FIONREAD; IXON flow
 * control (VSTOP/VSTART, IXANY), VWERASE and VLNEXT in canonical mode.
 *
 * Job control goes through the embedder's task model (struct
 * uvfs_devpts_opts): ISIG characters (VINTR, VQUIT, VSUSP) send SIGINT,
 * SIGQUIT, SIGTSTP to the terminal's foreground process group and flush
 * its input unless NOFLSH, a changed window size sends SIGWINCH, and
 * TIOCSCTTY, TIOCNOTTY, TIOCSPGRP, TIOCGPGRP, TIOCGSID follow Linux's
 * rules with the caller's ids (the task of uvfs_current_ctx()). A terminal
 * is the controlling terminal of the session recorded by TIOCSCTTY (uvfs
 * keeps no per-task ctty: "the caller's ctty is this terminal" means "this
 * terminal's session is the caller's"). */
#pragma once

#include <stdint.h>

#include "vfs/uvfs.h"

#define UVFS_PTMX_MINOR 2
#define UVFS_PTY_REPLICA_MAJOR 136
#define UVFS_TTYAUX_MAJOR_DP 5 /* ptmx's major (TTYAUX_MAJOR) */

/* Register with UVFS_FS_USER_LIST (the seed does not let users mount it). */
UVFS_API extern const struct uvfs_fs_type uvfs_devpts_type;

/* A task's ids in its pid namespace (Linux's tgid, process group, session). */
struct uvfs_tty_task_ids {
	int32_t pid, pgid, sid;
};

/* The embedder's task model, for job control. Every callback is called on
 * the thread of the uvfs call, with no uvfs lock held; each may be NULL. */
struct uvfs_devpts_opts {
	void *arg;
	/* The ids of task (uvfs_current_ctx()->task, never NULL): 0, or
	 * -ESRCH. Without it (or without a task) the job control ioctls are
	 * -ENOTTY, as for a task with no controlling terminal. */
	int (*task_ids)(void *arg, void *task, struct uvfs_tty_task_ids *out);
	/* The session of process group pgid: 0 and *sid, or -ESRCH. */
	int (*pgrp_session)(void *arg, int32_t pgid, int32_t *sid);
	/* Send sig to every process of group pgid (ISIG characters, SIGWINCH). */
	void (*kill_pgrp)(void *arg, int32_t pgid, int sig);
	/* Optional: the session sid took (tty_index >= 0) or lost (-1) a
	 * devpts terminal as controlling terminal, for the embedder's /dev/tty
	 * (uvfs_devices_opts.ctty_open). */
	void (*ctty_changed)(void *arg, int32_t sid, int tty_index);
};

/* Registers ptmx (5:2, group "ptmx") and the replicas (136:*, group "pts").
 * opts (may be NULL: no job control, no signals) is borrowed until
 * uvfs_destroy(vfs). */
UVFS_API int uvfs_devpts_register_devices_opts(struct uvfs *vfs, const struct uvfs_devpts_opts *opts);
/* The same without job control (opts NULL). */
UVFS_API int uvfs_devpts_register_devices(struct uvfs *vfs);
