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
 * TIOCGWINSZ, TIOCSWINSZ, TIOCGPTN, TIOCSPTLCK, FIONREAD. Not yet: ISIG
 * characters and job control (no task model), IXON flow control, VWERASE,
 * VLNEXT, SIGWINCH delivery. */
#pragma once

#include "vfs/uvfs.h"

#define UVFS_PTMX_MINOR 2
#define UVFS_PTY_REPLICA_MAJOR 136
#define UVFS_TTYAUX_MAJOR_DP 5 /* ptmx's major (TTYAUX_MAJOR) */

/* Register with UVFS_FS_USER_LIST (the seed does not let users mount it). */
UVFS_API extern const struct uvfs_fs_type uvfs_devpts_type;

/* Registers ptmx (5:2, group "ptmx") and the replicas (136:*, group "pts"). */
UVFS_API int uvfs_devpts_register_devices(struct uvfs *vfs);
