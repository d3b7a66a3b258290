/* fsimpl/devpts/internal.h — shared by devpts.c (the filesystem), pty.c
 * (the pairs and their line discipline) and jobctl.c (job control). */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <sys/ioctl.h> /* struct winsize */
#include <asm/termbits.h>

#include "fsimpl/devpts/devpts.h"
#include "vfs/uvfs_fs.h"

#define DP_HIDDEN __attribute__((visibility("hidden")))

#define PTY_INQ 4096 /* N_TTY_BUF_SIZE: input queue and longest line */
#define PTY_OUTQ 65536
#define PTY_RECS 512
#define PTY_SIGQ 8

/* A signal for a process group, queued under a pty's mu. */
struct pty_sig {
	int32_t pgid;
	int sig;
};

struct ring {
	char *buf;
	size_t cap, head, len;
};

/* One pseudo-terminal pair: its line discipline state (pty.c) and its job
 * control state (jobctl.c). */
struct pty {
	long refs; /* master + replica files; under devpts_mu */
	unsigned index; /* immutable */
	struct uvfs *vfs; /* immutable; outlives the pty (dir is put with the master) */
	struct uvfs_vd dir; /* devpts root where the replica node lives; the master's (put at its release) */
	pthread_mutex_t mu;
	pthread_cond_t cv; /* any change below */
	struct uvfs_waitq wq; /* pollers of both ends */
	/* Under mu. */
	bool locked; /* TIOCSPTLCK: replica opens fail with EIO */
	bool master_open; /* false once the master is released: replica hung up */
	bool replica_seen; /* a replica was opened (master reads EIO once all close) */
	int replicas; /* open replica files */
	struct termios tio; /* the kernel's struct termios (asm/termbits.h), the replica's */
	struct winsize ws;
	struct ring in, out;
	char line[PTY_INQ]; /* canonical line being edited */
	size_t linelen;
	unsigned rec[PTY_RECS]; /* canonical mode: lengths of complete lines in `in` (0: an EOF) */
	unsigned rec_head, rec_n;
	bool lnext; /* VLNEXT typed: the next byte is literal */
	bool stopped; /* IXON: VSTOP typed, output toward the master held */
	char ehold[PTY_INQ]; /* echoes held while stopped */
	size_t ehold_len;
	/* out.len when the current batch of typed input began: n_tty commits
	 * echoes at the end of a batch, so ISIG's flush drops this batch's
	 * echoes (typing "ab^C" at once echoes only "^C", as Linux). */
	size_t echo_mark;
	/* Job control (jobctl.c): the session whose controlling terminal
	 * this is and its foreground group (0: none), and signals queued
	 * under mu for delivery once it is dropped. */
	int32_t session, pgrp;
	struct pty_sig sigq[PTY_SIGQ];
	unsigned nsig;
	const struct uvfs_devpts_opts *opts; /* immutable; NULL: no task model */
};

/* pty->mu held: queue sig for the foreground group (dropped without a
 * group or a kill_pgrp callback; a signal already queued is not repeated). */
DP_HIDDEN void pty_queue_sig(struct pty *p, int sig);
/* Takes pty->mu's queued signals and delivers them; called with no lock held. */
DP_HIDDEN void pty_deliver_sigs(struct pty *p);
/* TIOCSCTTY, TIOCNOTTY, TIOCGPGRP, TIOCSPGRP, TIOCGSID on either end
 * (master: acting on its replica); PTY_NOT_JOBCTL for anything else. No
 * lock held. */
#define PTY_NOT_JOBCTL (-515)
DP_HIDDEN long pty_jobctl_ioctl(struct uvfs_file *f, struct pty *p, bool master, unsigned long cmd, void *arg);
/* The master went: the session loses its terminal. No lock held. */
DP_HIDDEN void pty_jobctl_hangup(struct pty *p);

/* The pty table of one devpts instance (its singleton's priv). Fields
 * under devpts_mu. */
struct devpts_inst {
	struct pty **ptys; /* by index; NULL = free */
	unsigned nptys;
};

/* Protects the instance list, each instance's pty table and every pty's
 * `refs`. Taken before any pty's mu. */
extern pthread_mutex_t devpts_mu DP_HIDDEN;
/* devpts_mu held: the live instance of vfs, or NULL. */
DP_HIDDEN struct devpts_inst *devpts_find(struct uvfs *vfs);
DP_HIDDEN bool devpts_is(const struct uvfs_filesystem *fs);
