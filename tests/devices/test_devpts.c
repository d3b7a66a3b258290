/* test_devpts.c — devpts and pty pairs. The terminal behaviour is checked
 * against a host pty (posix_openpt): the same bytes typed at both masters,
 * and what each replica reads (read by read, so line boundaries count) and
 * what each master gets back (echo, output processing) must be equal. */
#include "fixture.h"

#include <poll.h>
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
