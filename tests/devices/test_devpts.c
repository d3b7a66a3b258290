/* test_devpts.c — devpts and pty pairs. The terminal behaviour is checked
 * against a host pty (posix_openpt): the same bytes typed at both masters,
 * and what each replica reads (read by read, so line boundaries count) and
 * what each master gets back (echo, output processing) must be equal. */
#include "fixture.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "fsimpl/devpts/devpts.h"
#include "tests/devices/intr.h"

/* The kernel's struct termios, which TCGETS/TCSETS move (glibc's differs). */
struct kterm {
	tcflag_t c_iflag, c_oflag, c_cflag, c_lflag;
	cc_t c_line;
	cc_t c_cc[19];
};

struct pair {
	struct uvfs_file *m, *r; /* uvfs */
	int hm, hr; /* host */
	unsigned idx;
};

static void setup_devpts(void)
{
	FX_ASSERT_OK(uvfs_register_fs_type(fx.vfs, &uvfs_devpts_type, UVFS_FS_USER_LIST | UVFS_FS_USER_MOUNT));
	FX_ASSERT_OK(uvfs_devpts_register_devices(fx.vfs));
	fx_must_mkdir("/pts", 0755);
	struct uvfs_pathop p = fx_popf("/pts");
	struct uvfs_mount_opts o = { 0 };
	FX_ASSERT_OK(uvfs_mount_at(fx.vfs, &fx.cred, "devpts", &p, "devpts", &o));
}

static struct uvfs_file *open_master(unsigned *idx)
{
	struct uvfs_file *m;
	FX_ASSERT_OK(fx_open("/pts/ptmx", O_RDWR | O_NONBLOCK, 0, &m));
	FX_ASSERT_OK(uvfs_ioctl(m, TIOCGPTN, idx));
	return m;
}

static void open_pair(struct pair *p)
{
	p->m = open_master(&p->idx);
	int unlock = 0;
	FX_ASSERT_OK(uvfs_ioctl(p->m, TIOCSPTLCK, &unlock));
	char path[32];
	snprintf(path, sizeof path, "/pts/%u", p->idx);
	FX_ASSERT_OK(fx_open(path, O_RDWR | O_NONBLOCK, 0, &p->r));
	p->hm = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK);
	cr_assert_geq(p->hm, 0);
	cr_assert_eq(grantpt(p->hm), 0);
	cr_assert_eq(unlockpt(p->hm), 0);
	p->hr = open(ptsname(p->hm), O_RDWR | O_NOCTTY | O_NONBLOCK);
	cr_assert_geq(p->hr, 0);
}

static void close_pair(struct pair *p)
{
	uvfs_file_put(p->r);
	uvfs_file_put(p->m);
	close(p->hr);
	close(p->hm);
}

/* Everything the host fd yields until it stays quiet for 100 ms; reads
 * separated by '|'. */
static void host_drain(int fd, char *out, size_t len)
{
	size_t at = 0;
	out[0] = 0;
	struct pollfd pf = { .fd = fd, .events = POLLIN };
	while (poll(&pf, 1, 100) == 1 && (pf.revents & POLLIN)) {
		char b[512];
		ssize_t n = read(fd, b, sizeof b);
		if (n <= 0) {
			at += (size_t)snprintf(out + at, len - at, "%s", n == 0 ? "<eof>|" : "<err>|");
			if (n == 0)
				continue;
			break;
		}
		at += (size_t)snprintf(out + at, len - at, "%.*s|", (int)n, b);
	}
}

static void uvfs_drain(struct uvfs_file *f, char *out, size_t len)
{
	size_t at = 0;
	out[0] = 0;
	for (int i = 0; i < 64; i++) {
		char b[512];
		ssize_t n = uvfs_read(f, b, sizeof b);
		if (n == -EAGAIN)
			break;
		if (n <= 0) {
			at += (size_t)snprintf(out + at, len - at, "%s", n == 0 ? "<eof>|" : "<err>|");
			if (n == 0)
				continue;
			break;
		}
		at += (size_t)snprintf(out + at, len - at, "%.*s|", (int)n, b);
	}
}

/* Type s at both masters; compare what the replicas read and the echoes. */
static void type_and_compare(struct pair *p, const char *s, const char *want_read)
{
	size_t n = strlen(s);
	FX_ASSERT_ERR(uvfs_write(p->m, s, n), (long)n);
	cr_assert_eq(write(p->hm, s, n), (ssize_t)n);
	char ur[1024], hr[1024], ue[1024], he[1024];
	host_drain(p->hr, hr, sizeof hr);
	uvfs_drain(p->r, ur, sizeof ur);
	cr_assert_str_eq(ur, hr, "typed \"%s\": replica read \"%s\", host \"%s\"", s, ur, hr);
	if (want_read)
		cr_assert_str_eq(ur, want_read);
	host_drain(p->hm, he, sizeof he);
	uvfs_drain(p->m, ue, sizeof ue);
	cr_assert_str_eq(ue, he, "typed \"%s\": echo \"%s\", host \"%s\"", s, ue, he);
}

/* The replica writes s; compare what both masters read. */
static void output_and_compare(struct pair *p, const char *s, const char *want)
{
	size_t n = strlen(s);
	FX_ASSERT_ERR(uvfs_write(p->r, s, n), (long)n);
	cr_assert_eq(write(p->hr, s, n), (ssize_t)n);
	char u[1024], h[1024];
	host_drain(p->hm, h, sizeof h);
	uvfs_drain(p->m, u, sizeof u);
	cr_assert_str_eq(u, h, "output \"%s\": master read \"%s\", host \"%s\"", s, u, h);
	if (want)
		cr_assert_str_eq(u, want);
}

/* Apply the same change to both: the host through tcsetattr, uvfs through
 * TCGETS/TCSETS on the master (which act on the replica, as Linux). */
static void set_mode(struct pair *p, tcflag_t lclear, tcflag_t lset, tcflag_t iclear, tcflag_t oclear, int vmin,
		     int vtime)
{
	struct termios t;
	cr_assert_eq(tcgetattr(p->hr, &t), 0);
	struct kterm k;
	FX_ASSERT_OK(uvfs_ioctl(p->m, TCGETS, &k));
	cr_assert_eq(k.c_lflag, t.c_lflag, "lflag %o vs host %o", k.c_lflag, t.c_lflag);
	cr_assert_eq(k.c_iflag, t.c_iflag, "iflag %o vs host %o", k.c_iflag, t.c_iflag);
	cr_assert_eq(k.c_oflag, t.c_oflag, "oflag %o vs host %o", k.c_oflag, t.c_oflag);
	cr_assert_eq(memcmp(k.c_cc, t.c_cc, 17), 0, "c_cc differs from the host's");
	t.c_lflag = (t.c_lflag & ~lclear) | lset;
	t.c_iflag &= ~iclear;
	t.c_oflag &= ~oclear;
	k.c_lflag = (k.c_lflag & ~lclear) | lset;
	k.c_iflag &= ~iclear;
	k.c_oflag &= ~oclear;
	if (vmin >= 0) {
		t.c_cc[VMIN] = k.c_cc[VMIN] = (cc_t)vmin;
		t.c_cc[VTIME] = k.c_cc[VTIME] = (cc_t)vtime;
	}
	cr_assert_eq(tcsetattr(p->hr, TCSANOW, &t), 0);
	FX_ASSERT_OK(uvfs_ioctl(p->r, TCSETS, &k));
}

FX_TEST(devpts, canonical_lines_erase_kill_eof)
{
	setup_devpts();
	struct pair p;
	open_pair(&p);
	set_mode(&p, 0, 0, 0, 0, -1, 0); /* compares the initial termios */
	type_and_compare(&p, "abc", "");		 /* no line yet */
	type_and_compare(&p, "\x7f" "d\n", "abd\n|"); /* ^? erases c */
	type_and_compare(&p, "one\ntwo\n", "one\n|two\n|"); /* a read per line */
	type_and_compare(&p, "junk\x15ok\r", "ok\n|");	 /* ^U kills, ICRNL */
	type_and_compare(&p, "part\x04", "part|");	 /* ^D ends a partial line */
	type_and_compare(&p, "\x04", "<eof>|");		 /* ^D alone: EOF */
	type_and_compare(&p, "ctl\x01\x7f\x7f\x7f\x7fz\n", "z\n|"); /* ECHOCTL ^A erased as two columns */
	close_pair(&p);
}

FX_TEST(devpts, echo_off_and_output_processing)
{
	setup_devpts();
	struct pair p;
	open_pair(&p);
	output_and_compare(&p, "a\nb", "a\r\nb|");
	set_mode(&p, ECHO, 0, 0, 0, -1, 0);
	type_and_compare(&p, "secret\n", "secret\n|");
	set_mode(&p, ECHO, ECHONL, 0, 0, -1, 0);
	type_and_compare(&p, "nl\n", "nl\n|");
	close_pair(&p);
}

FX_TEST(devpts, raw_mode_bytes_vmin_vtime)
{
	setup_devpts();
	struct pair p;
	open_pair(&p);
	/* cfmakeraw's local and input changes, and no OPOST. */
	set_mode(&p, ICANON | ECHO | ECHOE | ECHOK | ECHONL | ISIG | IEXTEN, 0, ICRNL | IXON | IGNCR | INLCR, OPOST, 1,
		 0);
	type_and_compare(&p, "x", "x|");
	type_and_compare(&p, "\x7f\r\x04", "\x7f\r\x04|");
	output_and_compare(&p, "a\nb", "a\nb|");
	/* Blocking replica reads: VMIN = 3 waits for three bytes; VMIN = 0,
	 * VTIME = 2 gives up after about 0.2 s with nothing. */
	FX_ASSERT_OK(uvfs_file_set_flags(p.r, &fx.cred, O_RDWR));
	set_mode(&p, 0, 0, 0, 0, 0, 2);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	char b[8];
	FX_ASSERT_ERR(uvfs_read(p.r, b, sizeof b), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	cr_assert(ms >= 150 && ms < 2000, "VTIME read took %ld ms", ms);
	set_mode(&p, 0, 0, 0, 0, 3, 0);
	FX_ASSERT_ERR(uvfs_write(p.m, "ab", 2), 2);
	FX_ASSERT_ERR(uvfs_poll(p.r, POLLIN, 0), POLLIN);
	FX_ASSERT_ERR(uvfs_write(p.m, "c", 1), 1);
	FX_ASSERT_ERR(uvfs_read(p.r, b, sizeof b), 3);
	close_pair(&p);
}

FX_TEST(devpts, winsize_fionread_and_hangup)
{
	setup_devpts();
	struct pair p;
	open_pair(&p);
	struct winsize w = { .ws_row = 40, .ws_col = 120 }, g = { 0 }, hg = { 0 };
	FX_ASSERT_OK(uvfs_ioctl(p.m, TIOCSWINSZ, &w));
	cr_assert_eq(ioctl(p.hm, TIOCSWINSZ, &w), 0);
	FX_ASSERT_OK(uvfs_ioctl(p.r, TIOCGWINSZ, &g));
	cr_assert_eq(ioctl(p.hr, TIOCGWINSZ, &hg), 0);
	cr_assert_eq(memcmp(&g, &hg, sizeof g), 0);
	cr_assert_eq(g.ws_col, 120);
	/* FIONREAD on the replica counts complete lines only. */
	FX_ASSERT_ERR(uvfs_write(p.m, "12\n34", 5), 5);
	cr_assert_eq(write(p.hm, "12\n34", 5), 5);
	struct pollfd pf = { .fd = p.hr, .events = POLLIN };
	cr_assert_eq(poll(&pf, 1, 1000), 1);
	int un = -1, hn = -2;
	FX_ASSERT_OK(uvfs_ioctl(p.r, FIONREAD, &un));
	cr_assert_eq(ioctl(p.hr, FIONREAD, &hn), 0);
	cr_assert_eq(un, hn, "FIONREAD %d, host %d", un, hn);
	/* Seeking a terminal: ESPIPE. */
	FX_ASSERT_ERR(uvfs_seek(p.r, 0, SEEK_CUR), lseek(p.hr, 0, SEEK_CUR) < 0 ? -errno : 0);
	/* Master gone: the replica reads EOF and cannot write (EIO), as Linux. */
	uvfs_file_put(p.m);
	close(p.hm);
	char b[8], hb[8];
	for (int i = 0; i < 3; i++) {
		ssize_t hn2 = read(p.hr, hb, sizeof hb);
		FX_ASSERT_ERR(uvfs_read(p.r, b, sizeof b), hn2 < 0 ? -errno : hn2);
	}
	ssize_t hw = write(p.hr, "x", 1);
	FX_ASSERT_ERR(uvfs_write(p.r, "x", 1), hw < 0 ? -errno : hw);
	FX_ASSERT_ERR(uvfs_write(p.r, "x", 1), -EIO);
	cr_assert(uvfs_poll(p.r, POLLIN, 0) & POLLHUP);
	uvfs_file_put(p.r);
	close(p.hr);
}

FX_TEST(devpts, nodes_indexes_lock)
{
	setup_devpts();
	struct statx st;
	FX_ASSERT_OK(fx_stat("/pts", &st));
	cr_assert_eq(st.stx_mode, S_IFDIR | 0555);
	FX_ASSERT_OK(fx_lstat("/pts/ptmx", &st));
	cr_assert_eq(st.stx_mode, S_IFCHR | 0666);
	cr_assert_eq(st.stx_rdev_major, 5);
	cr_assert_eq(st.stx_rdev_minor, 2);
	/* A master opened by a user: replica N is theirs, 0620, 136:N. */
	struct uvfs_file *m0, *m1, *m2;
	unsigned i0, i1, i2;
	FX_ASSERT_OK(fx_open_as(&fx.user, "/pts/ptmx", O_RDWR, 0, &m0));
	FX_ASSERT_OK(uvfs_ioctl(m0, TIOCGPTN, &i0));
	m1 = open_master(&i1);
	cr_assert_eq(i0, 0);
	cr_assert_eq(i1, 1);
	FX_ASSERT_OK(fx_lstat("/pts/0", &st));
	cr_assert_eq(st.stx_mode, S_IFCHR | 0620);
	cr_assert_eq(st.stx_uid, 1000);
	cr_assert_eq(st.stx_gid, 1000);
	cr_assert_eq(st.stx_rdev_major, 136);
	cr_assert_eq(st.stx_rdev_minor, 0);
	/* Locked until TIOCSPTLCK(0): EIO, as the host before unlockpt. */
	struct uvfs_file *r;
	FX_ASSERT_ERR(fx_open("/pts/1", O_RDWR, 0, &r), -EIO);
	int hm = posix_openpt(O_RDWR | O_NOCTTY);
	cr_assert_eq(grantpt(hm), 0);
	cr_assert_eq(open(ptsname(hm), O_RDWR | O_NOCTTY), -1);
	cr_assert_eq(errno, EIO);
	close(hm);
	int lock = 0;
	FX_ASSERT_OK(uvfs_ioctl(m1, TIOCSPTLCK, &lock));
	FX_ASSERT_OK(fx_open("/pts/1", O_RDWR, 0, &r));
	FX_ASSERT_ERR(uvfs_ioctl(r, TIOCGPTN, &i2), -ENOTTY);
	uvfs_file_put(r);
	/* Closing master 0 removes /pts/0 and frees index 0 for the next. */
	uvfs_file_put(m0);
	FX_ASSERT_ERR(fx_lstat("/pts/0", &st), -ENOENT);
	m2 = open_master(&i2);
	cr_assert_eq(i2, 0);
	char list[64];
	fx_list_dir("/pts", list, sizeof list);
	cr_assert_str_eq(list, "0,1,ptmx");
	uvfs_file_put(m1);
	uvfs_file_put(m2);
	fx_list_dir("/pts", list, sizeof list);
	cr_assert_str_eq(list, "ptmx");
}

FX_TEST(devpts, mount_data_must_be_empty)
{
	setup_devpts();
	fx_must_mkdir("/p2", 0755);
	struct uvfs_pathop p = fx_popf("/p2");
	struct uvfs_mount_opts o = { .data = "mode=0620" };
	FX_ASSERT_ERR(uvfs_mount_at(fx.vfs, &fx.cred, "devpts", &p, "devpts", &o), -EINVAL);
	o.data = NULL;
	FX_ASSERT_OK(uvfs_mount_at(fx.vfs, &fx.cred, "devpts", &p, "devpts", &o));
	/* The same instance: a pair made through one mount shows in the other. */
	unsigned i;
	struct uvfs_file *m = open_master(&i);
	struct statx st;
	FX_ASSERT_OK(fx_lstat("/p2/0", &st));
	uvfs_file_put(m);
}

/* Interruptible waits: blocked terminal reads and writes return -EINTR
 * when the caller's context is interrupted (Linux n_tty: -ERESTARTSYS,
 * or the count so far), and the pair keeps working. */
static long op_pty_read(struct intr_op *op)
{
	char b[8];
	return uvfs_read(op->arg, b, sizeof b);
}

FX_TEST(devpts, blocked_reads_interrupted_eintr)
{
	setup_devpts();
	struct pair p;
	open_pair(&p);
	FX_ASSERT_OK(uvfs_file_set_flags(p.r, &fx.cred, O_RDWR));
	FX_ASSERT_OK(uvfs_file_set_flags(p.m, &fx.cred, O_RDWR));
	/* The replica, canonical mode, no line yet. */
	FX_ASSERT_ERR(uvfs_write(p.m, "par", 3), 3);
	char e[8];
	FX_ASSERT_ERR(uvfs_read(p.m, e, sizeof e), 3); /* the echo */
	struct intr_op op = { .fn = op_pty_read, .arg = p.r };
	cr_assert(intr_start(&op), "replica read did not block");
	bool ok = intr_interrupt(&op);
	if (!ok)
		uvfs_write(p.m, "\n", 1);
	intr_join(&op);
	cr_assert(ok, "a blocked replica read did not return when interrupted");
	FX_ASSERT_ERR(op.rc, -EINTR);
	/* The partial line survived. */
	FX_ASSERT_ERR(uvfs_write(p.m, "t\n", 2), 2);
	char b[8];
	FX_ASSERT_ERR(uvfs_read(p.r, b, sizeof b), 5);
	cr_assert_eq(memcmp(b, "part\n", 5), 0);
	FX_ASSERT_ERR(uvfs_read(p.m, e, sizeof e), 3); /* "t\r\n" */
	/* The master, nothing to read. */
	op = (struct intr_op){ .fn = op_pty_read, .arg = p.m };
	cr_assert(intr_start(&op), "master read did not block");
	ok = intr_interrupt(&op);
	if (!ok)
		uvfs_write(p.r, "x", 1);
	intr_join(&op);
	cr_assert(ok, "a blocked master read did not return when interrupted");
	FX_ASSERT_ERR(op.rc, -EINTR);
	close_pair(&p);
}

struct pty_write_arg {
	struct uvfs_file *f;
	const char *buf;
	size_t len;
};
static long op_pty_write(struct intr_op *op)
{
	struct pty_write_arg *a = op->arg;
	return uvfs_write(a->f, a->buf, a->len);
}

FX_TEST(devpts, blocked_writes_interrupted)
{
	setup_devpts();
	struct pair p;
	open_pair(&p);
	static char big[8192];
	memset(big, 'a', sizeof big);
	/* Fill the output queue toward the master, which nobody reads. */
	while (uvfs_write(p.r, big, sizeof big) > 0)
		;
	FX_ASSERT_OK(uvfs_file_set_flags(p.r, &fx.cred, O_RDWR));
	FX_ASSERT_OK(uvfs_file_set_flags(p.m, &fx.cred, O_RDWR));
	/* Master writes into a raw, echo-less replica whose queue fills. */
	set_mode(&p, ICANON | ECHO, 0, 0, 0, 1, 0);
	struct pty_write_arg wa = { p.m, big, sizeof big };
	struct intr_op op = { .fn = op_pty_write, .arg = &wa };
	cr_assert(intr_start(&op), "master write did not block on a full input queue");
	bool ok = intr_interrupt(&op);
	char b[4096];
	if (!ok) {
		uvfs_file_set_flags(p.r, &fx.cred, O_RDWR | O_NONBLOCK);
		while (!atomic_load(&op.done))
			uvfs_read(p.r, b, sizeof b);
	}
	intr_join(&op);
	cr_assert(ok, "a blocked master write did not return when interrupted");
	cr_assert(op.rc > 0 && op.rc < (long)sizeof big, "interrupted part-way: the count so far, got %ld", op.rc);
	int n = -1;
	FX_ASSERT_OK(uvfs_ioctl(p.r, FIONREAD, &n));
	cr_assert_eq(n, op.rc);
	/* The replica's write into the full output queue is interrupted
	 * with nothing written: -EINTR. */
	wa = (struct pty_write_arg){ p.r, "zz", 2 };
	op = (struct intr_op){ .fn = op_pty_write, .arg = &wa };
	cr_assert(intr_start(&op), "replica write did not block on a full output queue");
	ok = intr_interrupt(&op);
	if (!ok) {
		uvfs_file_set_flags(p.m, &fx.cred, O_RDWR | O_NONBLOCK);
		while (!atomic_load(&op.done))
			uvfs_read(p.m, b, sizeof b);
	}
	intr_join(&op);
	cr_assert(ok, "a blocked replica write did not return when interrupted");
	FX_ASSERT_ERR(op.rc, -EINTR);
	close_pair(&p);
}

/* ---------------------------------------------------------- job control */

/* A fake task model: sessions 100 (groups 100, 101) and 200 (group 200). */
static struct uvfs_tty_task_ids t_lead = { 100, 100, 100 }, t_peer = { 150, 100, 100 }, t_other = { 200, 200, 200 };
static struct {
	pthread_mutex_t mu;
	int n;
	int32_t pgid[64];
	int sig[64];
	int ctty_sid, ctty_idx;
} sent = { .mu = PTHREAD_MUTEX_INITIALIZER };

static int fake_ids(void *arg, void *task, struct uvfs_tty_task_ids *out)
{
	*out = *(struct uvfs_tty_task_ids *)task;
	return 0;
}
static int fake_pgrp_session(void *arg, int32_t pgid, int32_t *sid)
{
	if (pgid == 100 || pgid == 101)
		*sid = 100;
	else if (pgid == 200)
		*sid = 200;
	else
		return -ESRCH;
	return 0;
}
static void fake_kill(void *arg, int32_t pgid, int sig)
{
	pthread_mutex_lock(&sent.mu);
	if (sent.n < 64) {
		sent.pgid[sent.n] = pgid;
		sent.sig[sent.n++] = sig;
	}
	pthread_mutex_unlock(&sent.mu);
}
static void fake_ctty(void *arg, int32_t sid, int idx)
{
	sent.ctty_sid = sid;
	sent.ctty_idx = idx;
}
static const struct uvfs_devpts_opts fake_opts = {
	.task_ids = fake_ids,
	.pgrp_session = fake_pgrp_session,
	.kill_pgrp = fake_kill,
	.ctty_changed = fake_ctty,
};

static void setup_devpts_jobctl(void)
{
	FX_ASSERT_OK(uvfs_register_fs_type(fx.vfs, &uvfs_devpts_type, UVFS_FS_USER_LIST | UVFS_FS_USER_MOUNT));
	FX_ASSERT_OK(uvfs_devpts_register_devices_opts(fx.vfs, &fake_opts));
	fx_must_mkdir("/pts", 0755);
	struct uvfs_pathop p = fx_popf("/pts");
	FX_ASSERT_OK(uvfs_mount_at(fx.vfs, &fx.cred, "devpts", &p, "devpts", &(struct uvfs_mount_opts){ 0 }));
	sent.n = 0;
	sent.ctty_sid = sent.ctty_idx = -2;
}

/* uvfs_ioctl as a task of the fake model. */
static long ioctl_as(struct uvfs_tty_task_ids *task, struct uvfs_file *f, unsigned long cmd, void *arg)
{
	struct uvfs_ctx c = { .task = task, .tid = task->pid };
	const struct uvfs_ctx *prev = uvfs_ctx_enter(&c);
	long rc = uvfs_ioctl(f, cmd, arg);
	uvfs_ctx_leave(prev);
	return rc;
}

/* The signals recorded so far as "pgid:SIG," and forgets them. */
static void sent_take(char *out, size_t len)
{
	size_t at = 0;
	out[0] = 0;
	pthread_mutex_lock(&sent.mu);
	for (int i = 0; i < sent.n; i++)
		at += (size_t)snprintf(out + at, len - at, "%d:%d,", sent.pgid[i], sent.sig[i]);
	sent.n = 0;
	pthread_mutex_unlock(&sent.mu);
}

/* A host child in a session of its own with the host replica as its
 * controlling terminal; it reports every job-control signal it gets
 * (blocked, taken with sigtimedwait) as an int on a pipe, "ready" first.
 * Also its TIOCGPGRP/TIOCGSID results and TIOCSPGRP errnos. */
struct host_sess {
	pid_t pid;
	int rd; /* reports */
};
static void host_session(struct host_sess *h, const char *pts)
{
	int pfd[2];
	cr_assert_eq(pipe(pfd), 0);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGTSTP);
	sigaddset(&set, SIGWINCH);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCONT);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		close(pfd[0]);
		sigprocmask(SIG_BLOCK, &set, NULL);
		setsid();
		int fd = open(pts, O_RDWR); /* a session leader without a tty: it becomes the ctty */
		int r[4] = { fd < 0 ? -errno : 0, 0, 0, 0 };
		pid_t pg = 0, sid = 0;
		r[1] = ioctl(fd, TIOCGPGRP, &pg) ? -errno : pg == getpid();
		r[2] = ioctl(fd, TIOCGSID, &sid) ? -errno : sid == getpid();
		pid_t bad = 999999;
		r[3] = ioctl(fd, TIOCSPGRP, &bad) ? -errno : 0;
		if (write(pfd[1], r, sizeof r) != sizeof r)
			_exit(1);
		struct timespec to = { 2, 0 };
		for (;;) {
			int s = sigtimedwait(&set, NULL, &to);
			if (s < 0 || write(pfd[1], &s, sizeof s) != sizeof s)
				_exit(0);
		}
	}
	close(pfd[1]);
	h->pid = pid;
	h->rd = pfd[0];
	int r[4];
	cr_assert_eq(read(h->rd, r, sizeof r), (ssize_t)sizeof r);
	cr_assert_eq(r[0], 0, "host child open: %d", r[0]);
	cr_assert_eq(r[1], 1, "host TIOCGPGRP: %d", r[1]);
	cr_assert_eq(r[2], 1, "host TIOCGSID: %d", r[2]);
	cr_assert_eq(r[3], -ESRCH, "host TIOCSPGRP(999999): %d", r[3]);
}
/* The signals the host child reported within 300 ms, as "SIG,". */
static void host_sigs(struct host_sess *h, char *out, size_t len)
{
	size_t at = 0;
	out[0] = 0;
	struct pollfd pf = { .fd = h->rd, .events = POLLIN };
	int s;
	while (poll(&pf, 1, 300) == 1 && read(h->rd, &s, sizeof s) == sizeof s)
		at += (size_t)snprintf(out + at, len - at, "%d,", s);
}
static void host_session_end(struct host_sess *h)
{
	kill(h->pid, SIGKILL);
	waitpid(h->pid, NULL, 0);
	close(h->rd);
}

/* "100:2,100:3," → "2,3,": the signal numbers only, to compare with the host. */
static void sigs_only(const char *in, char *out)
{
	*out = 0;
	for (const char *c = in; (c = strchr(c, ':')); c++) {
		const char *e = strchr(c, ',');
		strncat(out, c + 1, (size_t)(e - c));
	}
}

FX_TEST(devpts, isig_chars_signal_foreground_group_as_host)
{
	setup_devpts_jobctl();
	struct pair p;
	open_pair(&p);
	struct host_sess h;
	host_session(&h, ptsname(p.hm));
	/* The uvfs replica becomes session 100's terminal, group 100 in front. */
	FX_ASSERT_OK(ioctl_as(&t_lead, p.r, TIOCSCTTY, 0));
	cr_assert_eq(sent.ctty_sid, 100);
	cr_assert_eq(sent.ctty_idx, (int)p.idx);
	char u[256], us[256], hs[256];
	/* ^C, ^\ and ^Z: a signal each, the echo ^C..., the typed line flushed. */
	type_and_compare(&p, "ab\x03", "");
	type_and_compare(&p, "cd\n", "cd\n|");
	type_and_compare(&p, "\x1c\x1a", "");
	sent_take(u, sizeof u);
	cr_assert_str_eq(u, "100:2,100:3,100:20,", "uvfs sent %s", u);
	host_sigs(&h, hs, sizeof hs);
	sigs_only(u, us);
	cr_assert_str_eq(us, hs, "uvfs signals %s, host %s", us, hs);
	/* SIGWINCH on a change of the window size only. */
	struct winsize w = { .ws_row = 30, .ws_col = 100 };
	FX_ASSERT_OK(uvfs_ioctl(p.m, TIOCSWINSZ, &w));
	cr_assert_eq(ioctl(p.hm, TIOCSWINSZ, &w), 0);
	FX_ASSERT_OK(uvfs_ioctl(p.m, TIOCSWINSZ, &w));
	cr_assert_eq(ioctl(p.hm, TIOCSWINSZ, &w), 0);
	sent_take(u, sizeof u);
	cr_assert_str_eq(u, "100:28,", "uvfs sent %s", u);
	host_sigs(&h, hs, sizeof hs);
	sigs_only(u, us);
	cr_assert_str_eq(us, hs, "uvfs signals %s, host %s", us, hs);
	/* NOFLSH: the line survives the signal. */
	set_mode(&p, 0, NOFLSH, 0, 0, -1, 0);
	type_and_compare(&p, "ef\x03", "");
	type_and_compare(&p, "\n", "ef\n|");
	/* ISIG off: ^C is data. */
	set_mode(&p, ISIG, 0, 0, 0, -1, 0);
	type_and_compare(&p, "g\x03h\n", "g\x03h\n|");
	sent_take(u, sizeof u);
	host_sigs(&h, hs, sizeof hs);
	sigs_only(u, us);
	cr_assert_str_eq(u, "100:2,", "uvfs sent %s", u);
	cr_assert_str_eq(us, hs, "uvfs signals %s, host %s", us, hs);
	host_session_end(&h);
	close_pair(&p);
}

FX_TEST(devpts, job_control_ioctls)
{
	setup_devpts_jobctl();
	struct pair p;
	open_pair(&p);
	int32_t v = 0;
	/* Not the caller's terminal yet: ENOTTY, as the host's new pty for us. */
	FX_ASSERT_ERR(ioctl_as(&t_lead, p.r, TIOCGPGRP, &v), -ENOTTY);
	cr_assert_eq(ioctl(p.hr, TIOCGPGRP, &v), -1);
	cr_assert_eq(errno, ENOTTY);
	FX_ASSERT_ERR(ioctl_as(&t_lead, p.r, TIOCGSID, &v), -ENOTTY);
	cr_assert_eq(ioctl(p.hr, TIOCGSID, &v), -1);
	cr_assert_eq(errno, ENOTTY);
	v = 100;
	FX_ASSERT_ERR(ioctl_as(&t_lead, p.r, TIOCSPGRP, &v), -ENOTTY);
	cr_assert_eq(ioctl(p.hr, TIOCSPGRP, &v), -1);
	cr_assert_eq(errno, ENOTTY);
	/* TIOCSCTTY: session leaders only. */
	FX_ASSERT_ERR(ioctl_as(&t_peer, p.r, TIOCSCTTY, 0), -EPERM);
	FX_ASSERT_OK(ioctl_as(&t_lead, p.r, TIOCSCTTY, 0));
	FX_ASSERT_OK(ioctl_as(&t_lead, p.r, TIOCSCTTY, 0)); /* already: 0 */
	/* Another session's leader cannot take it (no steal without arg 1). */
	FX_ASSERT_ERR(ioctl_as(&t_other, p.r, TIOCSCTTY, 0), -EPERM);
	FX_ASSERT_OK(ioctl_as(&t_peer, p.r, TIOCGPGRP, &v));
	cr_assert_eq(v, 100);
	FX_ASSERT_OK(ioctl_as(&t_peer, p.r, TIOCGSID, &v));
	cr_assert_eq(v, 100);
	FX_ASSERT_ERR(ioctl_as(&t_other, p.r, TIOCGPGRP, &v), -ENOTTY);
	/* The master answers for its replica, whoever asks. */
	v = 0;
	FX_ASSERT_OK(ioctl_as(&t_other, p.m, TIOCGPGRP, &v));
	cr_assert_eq(v, 100);
	/* TIOCSPGRP: a group of the caller's session. */
	v = 101;
	FX_ASSERT_OK(ioctl_as(&t_peer, p.r, TIOCSPGRP, &v));
	FX_ASSERT_OK(ioctl_as(&t_lead, p.r, TIOCGPGRP, &v));
	cr_assert_eq(v, 101);
	v = 999;
	FX_ASSERT_ERR(ioctl_as(&t_lead, p.r, TIOCSPGRP, &v), -ESRCH);
	v = 200;
	FX_ASSERT_ERR(ioctl_as(&t_lead, p.r, TIOCSPGRP, &v), -EPERM);
	v = -1;
	FX_ASSERT_ERR(ioctl_as(&t_lead, p.r, TIOCSPGRP, &v), -EINVAL);
	v = 100;
	FX_ASSERT_ERR(ioctl_as(&t_other, p.r, TIOCSPGRP, &v), -ENOTTY);
	/* ^C now goes to group 101. */
	char u[128];
	FX_ASSERT_ERR(uvfs_write(p.m, "\x03", 1), 1);
	sent_take(u, sizeof u);
	cr_assert_str_eq(u, "101:2,");
	/* The leader's TIOCNOTTY: SIGHUP and SIGCONT to the foreground group,
	 * and the terminal belongs to no session any more. */
	FX_ASSERT_ERR(ioctl_as(&t_other, p.r, TIOCNOTTY, 0), -ENOTTY);
	FX_ASSERT_OK(ioctl_as(&t_lead, p.r, TIOCNOTTY, 0));
	sent_take(u, sizeof u);
	cr_assert_str_eq(u, "101:1,101:18,");
	cr_assert_eq(sent.ctty_sid, 100);
	cr_assert_eq(sent.ctty_idx, -1);
	FX_ASSERT_ERR(ioctl_as(&t_lead, p.r, TIOCGPGRP, &v), -ENOTTY);
	/* Now session 200 may take it. */
	FX_ASSERT_OK(ioctl_as(&t_other, p.r, TIOCSCTTY, 0));
	FX_ASSERT_OK(ioctl_as(&t_other, p.r, TIOCGSID, &v));
	cr_assert_eq(v, 200);
	/* Without a task in the context: no controlling terminal. */
	FX_ASSERT_ERR(uvfs_ioctl(p.r, TIOCGPGRP, &v), -ENOTTY);
	close_pair(&p);
}

FX_TEST(devpts, ixon_stop_start_as_host)
{
	setup_devpts();
	struct pair p;
	open_pair(&p);
	type_and_compare(&p, "\x13", ""); /* ^S: output stopped */
	/* The replica's writes wait (non-blocking: EAGAIN), no POLLOUT. */
	ssize_t hw = write(p.hr, "out", 3);
	FX_ASSERT_ERR(uvfs_write(p.r, "out", 3), hw < 0 ? -errno : hw);
	struct pollfd pf = { .fd = p.hr, .events = POLLOUT };
	cr_assert_eq(poll(&pf, 1, 0), 0, "host: POLLOUT while stopped");
	cr_assert_eq(uvfs_poll(p.r, POLLOUT, 0) & POLLOUT, 0, "uvfs: POLLOUT while stopped");
	type_and_compare(&p, "ab", ""); /* echoes held */
	type_and_compare(&p, "\x11", ""); /* ^Q: the held echo comes out */
	output_and_compare(&p, "out\n", "out\r\n|");
	/* IXON off: ^S is data. */
	set_mode(&p, 0, 0, IXON, 0, -1, 0);
	type_and_compare(&p, "\x13x\n", "ab\x13x\n|");
	close_pair(&p);
}

FX_TEST(devpts, werase_and_lnext_as_host)
{
	setup_devpts();
	struct pair p;
	open_pair(&p);
	type_and_compare(&p, "one two\x17x\n", "one x\n|");
	type_and_compare(&p, "foo bar  \x17\x17y\n", "y\n|");
	type_and_compare(&p, "a_b-c\x17\n", "a_b-\n|");
	/* ^V: the next character literally (^C, ^?, ^U), echoed ^\b then ^X. */
	type_and_compare(&p, "a\x16\x03" "b\n", "a\x03" "b\n|");
	type_and_compare(&p, "\x16\x7f\x16\x15z\x7f\n", "\x7f\x15\n|");
	/* Without ECHOCTL a control character echoes as itself and its
	 * erase echoes nothing (n_tty's eraser). */
	set_mode(&p, ECHOCTL, 0, 0, 0, -1, 0);
	type_and_compare(&p, "a\x01\x7f\x7f" "b\n", "b\n|");
	/* IEXTEN off: ^W and ^V are ordinary characters. */
	set_mode(&p, IEXTEN, 0, 0, 0, -1, 0);
	type_and_compare(&p, "w\x17v\x16\n", "w\x17v\x16\n|");
	close_pair(&p);
}

/* After the master closes, the replica's file is hung up: every ioctl is
 * EIO but TIOCSPGRP, ENOTTY (Linux hung_up_tty_ioctl), as the host's. */
FX_TEST(devpts, ioctls_after_hangup_as_host)
{
	setup_devpts_jobctl();
	struct pair p;
	open_pair(&p);
	uvfs_file_put(p.m);
	close(p.hm);
	static const unsigned long cmds[] = { TIOCSCTTY, TIOCGPGRP, TIOCSPGRP, TIOCGSID, TIOCNOTTY, TCGETS, TIOCGWINSZ };
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		char buf[64] = { 0 };
		void *arg = cmds[i] == TIOCSCTTY || cmds[i] == TIOCNOTTY ? NULL : buf;
		long h = ioctl(p.hr, cmds[i], arg) < 0 ? -errno : 0;
		FX_ASSERT_ERR(ioctl_as(&t_lead, p.r, cmds[i], arg), h);
	}
	uvfs_file_put(p.r);
	close(p.hr);
}
