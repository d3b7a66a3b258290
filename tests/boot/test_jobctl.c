/* tests/boot/test_jobctl.c — a booted tree's ptys do job control through
 * the embedder's callback: the init (pid 1, session 1) takes a pty of the
 * booted /dev/pts as controlling terminal, hands the foreground to another
 * process group, and ^C / ^Z typed on the master reach that group through
 * uvfs_boot_jobctl.kill_pgrp. */
#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>

#include "boot_fx.h"

static struct {
	int n;
	int32_t pgid[16];
	int sig[16];
} got;

static void record(void *arg, int32_t pgid, int sig)
{
	cr_assert_eq(arg, &got);
	if (got.n < 16) {
		got.pgid[got.n] = pgid;
		got.sig[got.n++] = sig;
	}
}

static const struct uvfs_boot_jobctl jc = { .arg = &got, .kill_pgrp = record };

static void setup(void) { make_bundle(DATA "runc/config.json"); }
static void teardown(void) { rm_bundle(); }

static int boot_jc(struct booted *t)
{
	char path[300];
	snprintf(path, sizeof path, "%s/config.json", bundle);
	memset(t, 0, sizeof *t);
	cr_assert_eq(uvfs_oci_load(path, &t->spec, t->err, sizeof t->err), 0, "%s", t->err);
	cr_assert_eq(uvfs_oci_compile_mounts(t->spec, 0, &t->plan, t->err, sizeof t->err), 0, "%s", t->err);
	cr_assert_eq(uvfs_create(&t->vfs), 0);
	cr_assert_eq(uvfs_boot_register_filesystems(t->vfs, 0), 0);
	return uvfs_boot_mount_all(t->vfs, t->plan,
				   &(struct uvfs_boot_opts){ .spec = t->spec, .bundle_dir = bundle, .err = t->err,
							     .errlen = sizeof t->err, .jobctl = &jc },
				   &t->b);
}

Test(boot_jobctl, isig_reaches_the_foreground_group, .init = setup, .fini = teardown)
{
	struct booted t;
	cr_assert_eq(boot_jc(&t), 0, "%s", t.err);
	memset(&got, 0, sizeof got);
	/* pid 5: a job of the init's session in a group of its own */
	cr_assert_eq(uvfs_boot_set_process(t.b, 5, 5, 1), 0);
	cr_assert_eq(uvfs_boot_set_process(t.b, 6, 7, 1), -ESRCH, "a group not led by a process of the session");
	struct uvfs_ctx c;
	uvfs_boot_ctx(t.b, 1, &c);
	const struct uvfs_ctx *prev = uvfs_ctx_enter(&c);
	struct uvfs_file *m, *r;
	cr_assert_eq(open_in(&t, "/dev/ptmx", O_RDWR | O_NOCTTY, &m), 0);
	int unlock = 0, n = -1;
	cr_assert_eq(uvfs_ioctl(m, TIOCSPTLCK, &unlock), 0);
	cr_assert_eq(uvfs_ioctl(m, TIOCGPTN, &n), 0);
	char rp[64];
	snprintf(rp, sizeof rp, "/dev/pts/%d", n);
	cr_assert_eq(open_in(&t, rp, O_RDWR | O_NOCTTY, &r), 0);
	cr_assert_eq(uvfs_ioctl(r, TIOCSCTTY, 0), 0, "the init is a session leader of the booted tree");
	int pg = 0;
	cr_assert_eq(uvfs_ioctl(r, TIOCGPGRP, &pg), 0);
	cr_assert_eq(pg, 1);
	pg = 5;
	cr_assert_eq(uvfs_ioctl(r, TIOCSPGRP, &pg), 0);
	cr_assert_eq(uvfs_write(m, "\003", 1), 1);
	cr_assert_eq(uvfs_write(m, "\032", 1), 1);
	cr_assert_eq(got.n, 2);
	cr_assert_eq(got.pgid[0], 5);
	cr_assert_eq(got.sig[0], SIGINT);
	cr_assert_eq(got.pgid[1], 5);
	cr_assert_eq(got.sig[1], SIGTSTP);
	uvfs_ctx_leave(prev);
	/* Another boot's task (or none) is not a task of this tree. */
	uvfs_file_put(r);
	uvfs_file_put(m);
	unboot(&t);
}

Test(boot_jobctl, without_callback_no_signal, .init = setup, .fini = teardown)
{
	struct booted t;
	cr_assert_eq(boot(&t, 0), 0, "%s", t.err);
	cr_assert_eq(uvfs_boot_set_process(t.b, 5, 5, 1), 0);
	struct uvfs_ctx c;
	uvfs_boot_ctx(t.b, 1, &c);
	const struct uvfs_ctx *prev = uvfs_ctx_enter(&c);
	struct uvfs_file *m, *r;
	cr_assert_eq(open_in(&t, "/dev/ptmx", O_RDWR | O_NOCTTY, &m), 0);
	int unlock = 0, n = -1;
	cr_assert_eq(uvfs_ioctl(m, TIOCSPTLCK, &unlock), 0);
	cr_assert_eq(uvfs_ioctl(m, TIOCGPTN, &n), 0);
	char rp[64];
	snprintf(rp, sizeof rp, "/dev/pts/%d", n);
	cr_assert_eq(open_in(&t, rp, O_RDWR | O_NOCTTY, &r), 0);
	cr_assert_eq(uvfs_ioctl(r, TIOCSCTTY, 0), 0);
	cr_assert_eq(uvfs_write(m, "\003", 1), 1); /* no callback: nothing to call, no crash */
	uvfs_ctx_leave(prev);
	uvfs_file_put(r);
	uvfs_file_put(m);
	unboot(&t);
}

/* Threads: calls made as a thread act for its process (its group, session
 * and terminal), and a signal to the group reaches the process once,
 * however many threads it has. */
Test(boot_jobctl, threads_act_for_their_process, .init = setup, .fini = teardown)
{
	struct booted t;
	cr_assert_eq(boot_jc(&t), 0, "%s", t.err);
	memset(&got, 0, sizeof got);
	cr_assert_eq(uvfs_boot_set_process(t.b, 5, 5, 1), 0);
	cr_assert_eq(uvfs_boot_set_thread(t.b, 8, 5), 0);
	cr_assert_eq(uvfs_boot_set_thread(t.b, 9, 5), 0);
	cr_assert_eq(uvfs_boot_set_thread(t.b, 10, 42), -ESRCH, "no process 42");
	cr_assert_eq(uvfs_boot_set_thread(t.b, 5, 1), -EEXIST, "5 is a process");
	cr_assert_eq(uvfs_boot_set_thread(t.b, 9, 1), -EEXIST, "9 is a thread of 5");
	cr_assert_eq(uvfs_boot_set_thread(t.b, 0, 1), -EINVAL);
	struct uvfs_ctx c;
	uvfs_boot_ctx(t.b, 1, &c);
	const struct uvfs_ctx *prev = uvfs_ctx_enter(&c);
	struct uvfs_file *m, *r;
	cr_assert_eq(open_in(&t, "/dev/ptmx", O_RDWR | O_NOCTTY, &m), 0);
	int unlock = 0, n = -1;
	cr_assert_eq(uvfs_ioctl(m, TIOCSPTLCK, &unlock), 0);
	cr_assert_eq(uvfs_ioctl(m, TIOCGPTN, &n), 0);
	char rp[64];
	snprintf(rp, sizeof rp, "/dev/pts/%d", n);
	cr_assert_eq(open_in(&t, rp, O_RDWR | O_NOCTTY, &r), 0);
	cr_assert_eq(uvfs_ioctl(r, TIOCSCTTY, 0), 0);
	uvfs_ctx_leave(prev);
	/* Thread 9 of process 5 (session 1): the terminal is its session's. */
	uvfs_boot_ctx(t.b, 9, &c);
	prev = uvfs_ctx_enter(&c);
	int pg = 0;
	cr_assert_eq(uvfs_ioctl(r, TIOCGPGRP, &pg), 0);
	cr_assert_eq(pg, 1);
	pg = 5;
	cr_assert_eq(uvfs_ioctl(r, TIOCSPGRP, &pg), 0, "thread 9 puts its process's group in the foreground");
	int sid = 0;
	cr_assert_eq(uvfs_ioctl(r, TIOCGSID, &sid), 0);
	cr_assert_eq(sid, 1);
	cr_assert_eq(uvfs_write(m, "\003", 1), 1); /* typed by the process's own terminal thread */
	uvfs_ctx_leave(prev);
	cr_assert_eq(got.n, 1, "one signal for the group, not one per thread");
	cr_assert_eq(got.pgid[0], 5);
	cr_assert_eq(got.sig[0], SIGINT);
	/* The process's exit takes its threads. */
	cr_assert_eq(uvfs_boot_exit_thread(t.b, 8), 0);
	cr_assert_eq(uvfs_boot_exit_thread(t.b, 8), -ESRCH);
	cr_assert_eq(uvfs_boot_exit_process(t.b, 5), 0);
	cr_assert_eq(uvfs_boot_exit_thread(t.b, 9), -ESRCH, "gone with its process");
	uvfs_boot_ctx(t.b, 9, &c);
	prev = uvfs_ctx_enter(&c);
	cr_assert_neq(uvfs_ioctl(r, TIOCGPGRP, &pg), 0, "no task 9 any more");
	uvfs_ctx_leave(prev);
	uvfs_file_put(r);
	uvfs_file_put(m);
	unboot(&t);
}
