/* fsimpl/devpts/pty.c — pseudo-terminal pairs: ptmx (5:2) makes a pair
 * and its replica node, replicas (136:N) open the pair, and a small line
 * discipline (Linux n_tty's canonical and raw input, echo, OPOST/ONLCR)
 * sits between them.
 *
 * Data flow: master write → ldisc_input → `in` (what the replica reads;
 * canonical mode: complete lines only, `rec` marks their ends) and echoes
 * → `out`; replica write → output processing → `out` (what the master
 * reads).
 *
 * Job control (signals, the session and its foreground group) is
 * jobctl.c's; ISIG characters queue signals under mu and the master's
 * write delivers them once it dropped mu.
 *
 * Locks: devpts_mu (instance tables, pty refs) → pty->mu (everything else
 * in the pty) → pty->wq.lock (poll wakes are issued under mu; ->poll
 * registers first and takes mu after, never both). Sleepers wait on
 * pty->cv, broadcast on every change, interruptibly (devices/wait.h: a
 * caller context with a pending interrupt gets -EINTR or the count so far). The master's release calls
 * uvfs_unlink_at on devpts with no lock held. */
#include <sys/ioctl.h> /* ioctl numbers, struct winsize */
#include <asm/termbits.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <time.h>

#include "devices/wait.h"
#include "fsimpl/devpts/internal.h"

/* Per master file (f_private), immutable; replicas keep the pty itself. */
struct master {
	struct pty *pty;
};

static size_t ring_room(const struct ring *r) { return r->cap - r->len; }

static void ring_put(struct ring *r, const char *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		r->buf[(r->head + r->len + i) % r->cap] = src[i];
	r->len += n;
}

static void ring_get(struct ring *r, char *dst, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = r->buf[(r->head + i) % r->cap];
	r->head = (r->head + n) % r->cap;
	r->len -= n;
}

/* Linux tty_std_termios (as a pty replica starts). */
static void std_termios(struct termios *t)
{
	static const cc_t cc[] = { [VINTR] = 3,	 [VQUIT] = 28, [VERASE] = 127, [VKILL] = 21, [VEOF] = 4,
				   [VTIME] = 0,	 [VMIN] = 1,   [VSTART] = 17,  [VSTOP] = 19, [VSUSP] = 26,
				   [VREPRINT] = 18, [VDISCARD] = 15, [VWERASE] = 23, [VLNEXT] = 22 };
	memset(t, 0, sizeof(*t));
	t->c_iflag = ICRNL | IXON;
	t->c_oflag = OPOST | ONLCR;
	t->c_cflag = B38400 | CS8 | CREAD | HUPCL;
	t->c_lflag = ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN;
	memcpy(t->c_cc, cc, sizeof cc);
}

static void wake(struct pty *p)
{
	pthread_cond_broadcast(&p->cv);
	uvfs_waitq_wake(&p->wq, 0);
}

/* mu held: bytes toward the master, through OPOST/ONLCR. Echoes and
 * replica writes; n bytes consumed, returns how many fit. */
static size_t output(struct pty *p, const char *s, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++) {
		if (s[i] == '\n' && (p->tio.c_oflag & OPOST) && (p->tio.c_oflag & ONLCR)) {
			if (ring_room(&p->out) < 2)
				break;
			ring_put(&p->out, "\r\n", 2);
		} else {
			if (!ring_room(&p->out))
				break;
			ring_put(&p->out, s + i, 1);
		}
	}
	return i;
}

/* mu held: echo bytes toward the master; held while output is stopped
 * (IXON), as n_tty keeps its echo buffer until START. */
static void echo_out(struct pty *p, const char *s, size_t n)
{
	if (!p->stopped) {
		output(p, s, n);
		return;
	}
	size_t k = n < sizeof p->ehold - p->ehold_len ? n : sizeof p->ehold - p->ehold_len;
	memcpy(p->ehold + p->ehold_len, s, k);
	p->ehold_len += k;
}

static bool is_ctl(unsigned char c) { return c < 32 || c == 127; }

/* mu held: echo of one input character (ECHOCTL shows controls as ^X). */
static void echo_char(struct pty *p, unsigned char c)
{
	if ((p->tio.c_lflag & ECHOCTL) && is_ctl(c) && c != '\n' && c != '\t') {
		char e[2] = { '^', (char)(c == 127 ? '?' : c + '@') };
		echo_out(p, e, 2);
	} else {
		echo_out(p, (const char *)&c, 1);
	}
}

/* mu held: erase of the last character of the line, echoed as n_tty's
 * eraser does: "\b \b" per column (controls: two with ECHOCTL, none without). */
static void erase_one(struct pty *p)
{
	unsigned char c = (unsigned char)p->line[--p->linelen];
	if (!(p->tio.c_lflag & ECHO))
		return;
	int cols = c == '\t' ? 1 : is_ctl(c) ? ((p->tio.c_lflag & ECHOCTL) ? 2 : 0) : 1;
	for (int k = 0; k < cols; k++)
		echo_out(p, "\b \b", 3);
}

/* mu held: VWERASE — trailing non-word characters, then the word (n_tty's
 * "ALTWERASE": letters, digits and '_'). */
static void werase(struct pty *p)
{
	unsigned seen = 0;
	while (p->linelen) {
		unsigned char c = (unsigned char)p->line[p->linelen - 1];
		if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')
			seen++;
		else if (seen)
			break;
		erase_one(p);
	}
}

/* mu held: IXON start — the held echoes go out first. */
static void start_output(struct pty *p)
{
	if (!p->stopped)
		return;
	p->stopped = false;
	output(p, p->ehold, p->ehold_len);
	p->ehold_len = 0;
}

/* mu held: the edited line (len 0: an EOF) becomes readable; the caller
 * made sure it fits. */
static void push_line(struct pty *p)
{
	size_t n = p->linelen;
	p->linelen = 0;
	if (n > ring_room(&p->in) || p->rec_n == PTY_RECS)
		return;
	ring_put(&p->in, p->line, n);
	p->rec[(p->rec_head + p->rec_n) % PTY_RECS] = (unsigned)n;
	p->rec_n++;
}

/* Is c the (enabled) special character t->c_cc[i]? 0 never is (n_tty
 * clears __DISABLED_CHAR from its map). */
static bool is_cc(const struct termios *t, int i, unsigned char c) { return c && c == t->c_cc[i]; }

/* mu held: ISIG — the signal to the foreground group, the input (and
 * held echoes) flushed unless NOFLSH, output restarted, the character
 * echoed (n_tty_receive_signal_char). */
static void isig(struct pty *p, int sig, unsigned char c)
{
	pty_queue_sig(p, sig);
	if (!(p->tio.c_lflag & NOFLSH)) {
		p->in.len = p->in.head = 0;
		p->rec_n = 0;
		p->linelen = 0;
		p->lnext = false;
		p->ehold_len = 0;
		if (p->out.len > p->echo_mark)
			p->out.len = p->echo_mark;
	}
	if (p->tio.c_iflag & IXON)
		start_output(p);
	if (p->tio.c_lflag & ECHO)
		echo_char(p, c);
}

/* mu held: one byte typed at the master. Returns false, consuming
 * nothing, when the input queue has no room for it (raw) or for the line
 * it ends (canonical): the master write stops there. The order of the
 * checks is n_tty_receive_char_special's: a literal after VLNEXT, flow
 * control, signals, IXANY, CR/NL mapping, then the canonical editing. */
static bool ldisc_input(struct pty *p, unsigned char c)
{
	const struct termios *t = &p->tio;
	bool canon = t->c_lflag & ICANON;
	if (p->lnext) {
		p->lnext = false;
		if ((t->c_iflag & IXON) && (t->c_iflag & IXANY))
			start_output(p);
		goto ordinary;
	}
	if (t->c_iflag & IXON) {
		if (is_cc(t, VSTART, c)) {
			start_output(p);
			return true;
		}
		if (is_cc(t, VSTOP, c)) {
			p->stopped = true;
			return true;
		}
	}
	if (t->c_lflag & ISIG) {
		int sig = is_cc(t, VINTR, c) ? SIGINT : is_cc(t, VQUIT, c) ? SIGQUIT : is_cc(t, VSUSP, c) ? SIGTSTP : 0;
		if (sig) {
			isig(p, sig, c);
			return true;
		}
	}
	if ((t->c_iflag & IXON) && (t->c_iflag & IXANY))
		start_output(p);
	if (c == '\r') {
		if (t->c_iflag & IGNCR)
			return true;
		if (t->c_iflag & ICRNL)
			c = '\n';
	} else if (c == '\n' && (t->c_iflag & INLCR)) {
		c = '\r';
	}
	if (!canon)
		goto ordinary;
	/* A line end needs room for the whole line: without it the master's
	 * write waits for the reader (Linux throttles), nothing is lost. */
	if ((is_cc(t, VEOF, c) || c == '\n') &&
	    (p->linelen + (c == '\n') > ring_room(&p->in) || p->rec_n == PTY_RECS))
		return false;
	if (is_cc(t, VERASE, c)) {
		if (p->linelen) {
			if (t->c_lflag & ECHOE)
				erase_one(p);
			else {
				p->linelen--;
				if (t->c_lflag & ECHO)
					echo_char(p, c);
			}
		}
		return true;
	}
	if (is_cc(t, VKILL, c)) {
		if (t->c_lflag & ECHOKE) {
			while (p->linelen)
				erase_one(p);
		} else {
			p->linelen = 0;
			if (t->c_lflag & ECHO)
				echo_char(p, c);
			if (t->c_lflag & ECHOK)
				echo_out(p, "\n", 1);
		}
		return true;
	}
	if ((t->c_lflag & IEXTEN) && is_cc(t, VWERASE, c)) {
		werase(p);
		return true;
	}
	if ((t->c_lflag & IEXTEN) && is_cc(t, VLNEXT, c)) {
		p->lnext = true;
		if ((t->c_lflag & ECHO) && (t->c_lflag & ECHOCTL))
			echo_out(p, "^\b", 2);
		return true;
	}
	if (is_cc(t, VEOF, c)) {
		push_line(p);
		return true;
	}
	if (c == '\n') {
		if (p->linelen < PTY_INQ)
			p->line[p->linelen++] = '\n';
		if (t->c_lflag & (ECHO | ECHONL))
			echo_out(p, "\n", 1);
		push_line(p);
		return true;
	}
ordinary:
	if (!canon) {
		if (!ring_room(&p->in))
			return false;
		ring_put(&p->in, (const char *)&c, 1);
	} else if (p->linelen < PTY_INQ - 1) { /* room kept for the newline, as n_tty */
		p->line[p->linelen++] = (char)c;
	}
	if (t->c_lflag & ECHO)
		echo_char(p, c);
	return true;
}

static bool nonblock(struct uvfs_file *f) { return __atomic_load_n(&f->f_flags, __ATOMIC_RELAXED) & O_NONBLOCK; }

static ssize_t replica_read(struct uvfs_file *f, void *buf, size_t len, uint64_t off)
{
	struct pty *p = f->f_private;
	if (!len)
		return 0;
	ssize_t ret;
	struct timespec dl, *dlp = NULL;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		bool canon = p->tio.c_lflag & ICANON;
		if (canon && p->rec_n) {
			unsigned *r = &p->rec[p->rec_head];
			size_t n = len < *r ? len : *r;
			ring_get(&p->in, buf, n);
			*r -= (unsigned)n;
			if (!*r || n == 0) { /* whole line (or the EOF record) consumed */
				p->rec_head = (p->rec_head + 1) % PTY_RECS;
				p->rec_n--;
			}
			ret = (ssize_t)n;
			break;
		}
		if (!canon) {
			size_t vmin = p->tio.c_cc[VMIN], vtime = p->tio.c_cc[VTIME];
			size_t want = vmin < len ? vmin : len;
			/* O_NONBLOCK takes what is there, whatever VMIN says (n_tty). */
			if (p->in.len && (p->in.len >= want || nonblock(f))) {
				size_t n = len < p->in.len ? len : p->in.len;
				ring_get(&p->in, buf, n);
				ret = (ssize_t)n;
				break;
			}
			if (vmin == 0 && vtime == 0) {
				ret = 0; /* polling read */
				break;
			}
			if (vmin == 0 && !dlp) { /* VTIME: an overall timeout in tenths */
				clock_gettime(CLOCK_REALTIME, &dl);
				dl.tv_sec += (time_t)(vtime / 10);
				dl.tv_nsec += (long)(vtime % 10) * 100000000L;
				if (dl.tv_nsec >= 1000000000L) {
					dl.tv_sec++;
					dl.tv_nsec -= 1000000000L;
				}
				dlp = &dl;
			}
		}
		if (!p->master_open) {
			ret = 0; /* hung up: Linux's hung_up_tty_read */
			break;
		}
		if (nonblock(f)) {
			ret = -EAGAIN;
			break;
		}
		int err = uvfs_dev_cond_wait(&p->cv, &p->mu, dlp);
		if (err == -EINTR) {
			ret = err;
			break;
		}
		if (err == -ETIMEDOUT) {
			size_t n = len < p->in.len ? len : p->in.len;
			ring_get(&p->in, buf, n);
			ret = (ssize_t)n;
			break;
		}
	}
	if (ret > 0)
		wake(p);
	pthread_mutex_unlock(&p->mu);
	return ret;
}

static ssize_t replica_write(struct uvfs_file *f, const void *buf, size_t len, uint64_t *off)
{
	struct pty *p = f->f_private;
	size_t done = 0;
	ssize_t ret;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		if (!p->master_open) {
			ret = done ? (ssize_t)done : -EIO;
			break;
		}
		if (!p->stopped) /* IXON: held until VSTART */
			done += output(p, (const char *)buf + done, len - done);
		if (done)
			wake(p);
		if (done == len) {
			ret = (ssize_t)done;
			break;
		}
		if (nonblock(f)) {
			ret = done ? (ssize_t)done : -EAGAIN;
			break;
		}
		int err = uvfs_dev_cond_wait(&p->cv, &p->mu, NULL);
		if (err) {
			ret = done ? (ssize_t)done : err; /* Linux: the count so far */
			break;
		}
	}
	pthread_mutex_unlock(&p->mu);
	return ret;
}

static ssize_t master_read(struct uvfs_file *f, void *buf, size_t len, uint64_t off)
{
	struct pty *p = ((struct master *)f->f_private)->pty;
	if (!len)
		return 0;
	ssize_t ret;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		if (p->out.len) {
			size_t n = len < p->out.len ? len : p->out.len;
			ring_get(&p->out, buf, n);
			wake(p);
			ret = (ssize_t)n;
			break;
		}
		if (p->replica_seen && !p->replicas) {
			ret = -EIO; /* Linux: the other side closed */
			break;
		}
		if (nonblock(f)) {
			ret = -EAGAIN;
			break;
		}
		int err = uvfs_dev_cond_wait(&p->cv, &p->mu, NULL);
		if (err) {
			ret = err;
			break;
		}
	}
	pthread_mutex_unlock(&p->mu);
	return ret;
}

static ssize_t master_write(struct uvfs_file *f, const void *buf, size_t len, uint64_t *off)
{
	struct pty *p = ((struct master *)f->f_private)->pty;
	const unsigned char *s = buf;
	size_t done = 0;
	ssize_t ret;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		p->echo_mark = p->out.len; /* a batch: one master write, or what follows a wait */
		while (done < len && ldisc_input(p, s[done]))
			done++;
		if (done)
			wake(p);
		if (p->nsig) { /* ISIG: delivered with no lock held */
			pthread_mutex_unlock(&p->mu);
			pty_deliver_sigs(p);
			pthread_mutex_lock(&p->mu);
			/* mu was dropped: a reader may have made room and
			 * broadcast meanwhile. Sleeping now would miss that
			 * wake; look at the input queue again first. */
			if (done < len)
				continue;
		}
		if (done == len) {
			ret = (ssize_t)done;
			break;
		}
		if (nonblock(f)) {
			ret = done ? (ssize_t)done : -EAGAIN;
			break;
		}
		int err = uvfs_dev_cond_wait(&p->cv, &p->mu, NULL);
		if (err) {
			ret = done ? (ssize_t)done : err; /* Linux: the count so far */
			break;
		}
	}
	pthread_mutex_unlock(&p->mu);
	return ret;
}

static unsigned replica_poll(struct uvfs_file *f, struct uvfs_poll_table *pt)
{
	struct pty *p = f->f_private;
	uvfs_poll_wait(f, &p->wq, pt);
	unsigned mask = 0;
	pthread_mutex_lock(&p->mu);
	if (p->tio.c_lflag & ICANON ? p->rec_n > 0 : p->in.len > 0)
		mask |= POLLIN | POLLRDNORM;
	if (ring_room(&p->out) >= 2 && !p->stopped)
		mask |= POLLOUT | POLLWRNORM;
	if (!p->master_open)
		mask |= POLLHUP;
	pthread_mutex_unlock(&p->mu);
	return mask;
}

static unsigned master_poll(struct uvfs_file *f, struct uvfs_poll_table *pt)
{
	struct pty *p = ((struct master *)f->f_private)->pty;
	uvfs_poll_wait(f, &p->wq, pt);
	unsigned mask = 0;
	pthread_mutex_lock(&p->mu);
	if (p->out.len)
		mask |= POLLIN | POLLRDNORM;
	if (ring_room(&p->in))
		mask |= POLLOUT | POLLWRNORM;
	if (p->replica_seen && !p->replicas)
		mask |= POLLHUP;
	pthread_mutex_unlock(&p->mu);
	return mask;
}

/* Both ends: termios (TCGETS etc. on the master act on the replica's, as
 * Linux), window size, FIONREAD. */
static long common_ioctl(struct uvfs_file *f, struct pty *p, bool master, unsigned long cmd, void *arg)
{
	long jc = pty_jobctl_ioctl(f, p, master, cmd, arg);
	if (jc != PTY_NOT_JOBCTL)
		return jc;
	if (!arg)
		return -EFAULT;
	long ret = 0;
	pthread_mutex_lock(&p->mu);
	switch (cmd) {
	case TCGETS:
		memcpy(arg, &p->tio, sizeof p->tio);
		break;
	case TCSETSF:
		p->in.len = p->in.head = 0;
		p->rec_n = 0;
		p->linelen = 0;
		/* fallthrough */
	case TCSETS:
	case TCSETSW: {
		bool was_canon = p->tio.c_lflag & ICANON;
		memcpy(&p->tio, arg, sizeof p->tio);
		if (!(p->tio.c_iflag & IXON))
			start_output(p); /* n_tty_set_termios: IXON off restarts */
		if (!(p->tio.c_lflag & ICANON))
			p->lnext = false;
		if (was_canon && !(p->tio.c_lflag & ICANON)) {
			/* Leaving canonical mode: the partial line becomes input. */
			size_t n = p->linelen < ring_room(&p->in) ? p->linelen : ring_room(&p->in);
			ring_put(&p->in, p->line, n);
			p->linelen = 0;
			p->rec_n = 0;
		} else if (!was_canon && (p->tio.c_lflag & ICANON)) {
			/* Entering it: what was typed is one pending (incomplete) line. */
			size_t n = p->in.len < PTY_INQ ? p->in.len : PTY_INQ;
			ring_get(&p->in, p->line, n);
			p->linelen = n;
			p->in.len = p->in.head = 0;
		}
		wake(p);
		break;
	}
	case TIOCGWINSZ:
		memcpy(arg, &p->ws, sizeof p->ws);
		break;
	case TIOCSWINSZ:
		/* A change signals the foreground group (tty_do_resize). */
		if (memcmp(&p->ws, arg, sizeof p->ws)) {
			memcpy(&p->ws, arg, sizeof p->ws);
			pty_queue_sig(p, SIGWINCH);
		}
		break;
	case FIONREAD:
		if (master) {
			*(int *)arg = (int)p->out.len;
		} else if (p->tio.c_lflag & ICANON) {
			size_t n = 0;
			for (unsigned i = 0; i < p->rec_n; i++)
				n += p->rec[(p->rec_head + i) % PTY_RECS];
			*(int *)arg = (int)n;
		} else {
			*(int *)arg = (int)p->in.len;
		}
		break;
	default:
		ret = -ENOTTY;
	}
	pthread_mutex_unlock(&p->mu);
	pty_deliver_sigs(p);
	return ret;
}

static long master_ioctl(struct uvfs_file *f, unsigned long cmd, void *arg)
{
	struct pty *p = ((struct master *)f->f_private)->pty;
	switch (cmd) {
	case TIOCGPTN:
		if (!arg)
			return -EFAULT;
		*(unsigned *)arg = p->index;
		return 0;
	case TIOCSPTLCK:
		if (!arg)
			return -EFAULT;
		pthread_mutex_lock(&p->mu);
		p->locked = *(const int *)arg != 0;
		pthread_mutex_unlock(&p->mu);
		return 0;
	}
	return common_ioctl(f, p, true, cmd, arg);
}

static long replica_ioctl(struct uvfs_file *f, unsigned long cmd, void *arg)
{
	struct pty *p = f->f_private;
	pthread_mutex_lock(&p->mu);
	bool hung = !p->master_open;
	pthread_mutex_unlock(&p->mu);
	if (hung) /* the master went: Linux's hung_up_tty_ioctl */
		return cmd == TIOCSPGRP ? -ENOTTY : -EIO;
	if (cmd == TIOCGPTN || cmd == TIOCSPTLCK)
		return -ENOTTY; /* master only (Linux: -ENOIOCTLCMD → ENOTTY) */
	return common_ioctl(f, f->f_private, false, cmd, arg);
}

static int64_t pty_llseek(struct uvfs_file *f, int64_t off, int whence) { return -ESPIPE; }

static void pty_free(struct pty *p)
{
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p->in.buf);
	free(p->out.buf);
	free(p);
}

/* devpts_mu held: one reference less; true if it was the last. */
static bool pty_unref(struct pty *p) { return --p->refs == 0; }

static int ptmx_open(struct uvfs_inode *inode, struct uvfs_file *f)
{
	struct uvfs_filesystem *fs = uvfs_mount_fs(f->f_vd.mount);
	if (!devpts_is(fs))
		return -EIO; /* a 5:2 node outside devpts: no instance to serve (documented) */
	struct master *m = calloc(1, sizeof(*m));
	struct pty *p = calloc(1, sizeof(*p));
	if (!m || !p || !(p->in.buf = malloc(PTY_INQ)) || !(p->out.buf = malloc(PTY_OUTQ))) {
		if (p) {
			free(p->in.buf);
			free(p);
		}
		free(m);
		return -ENOMEM;
	}
	p->in.cap = PTY_INQ;
	p->out.cap = PTY_OUTQ;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	uvfs_waitq_init(&p->wq);
	std_termios(&p->tio);
	p->vfs = fs->vfs;
	p->opts = f->f_private; /* the registration's (uvfs_devpts_register_devices_opts) */
	p->locked = true; /* until unlockpt */
	p->master_open = true;
	p->refs = 1;
	p->dir = (struct uvfs_vd){ f->f_vd.mount, uvfs_mount_root(f->f_vd.mount) };
	m->pty = p;

	/* The lowest free index (Linux's ida). */
	int err = 0;
	pthread_mutex_lock(&devpts_mu);
	struct devpts_inst *inst = devpts_find(fs->vfs);
	unsigned idx = 0;
	while (inst && idx < inst->nptys && inst->ptys[idx])
		idx++;
	if (!inst) {
		err = -ENODEV;
	} else if (idx == inst->nptys) {
		unsigned n = inst->nptys ? inst->nptys * 2 : 8;
		struct pty **t = n < (1u << 20) ? realloc(inst->ptys, n * sizeof(*t)) : NULL;
		if (!t) {
			err = n < (1u << 20) ? -ENOMEM : -ENOSPC;
		} else {
			memset(t + inst->nptys, 0, (n - inst->nptys) * sizeof(*t));
			inst->ptys = t;
			inst->nptys = n;
		}
	}
	if (!err) {
		p->index = idx;
		inst->ptys[idx] = p;
	}
	pthread_mutex_unlock(&devpts_mu);
	if (err) {
		pty_free(p);
		free(m);
		return err;
	}
	uvfs_vd_get(&p->dir);
	/* The replica node: owned by the opener (fsuid/fsgid), 0620. */
	struct uvfs_cred c = f->f_cred;
	c.caps = UVFS_CAPS_ALL;
	c.groups = NULL;
	c.ngroups = 0;
	c.groups_src = NULL;
	char name[16];
	snprintf(name, sizeof name, "%u", idx);
	struct uvfs_pathop pop = { .root = p->dir, .start = p->dir, .path = name };
	err = uvfs_mknod_at(fs->vfs, &c, &pop, S_IFCHR | 0620, makedev(UVFS_PTY_REPLICA_MAJOR, idx));
	if (err) {
		pthread_mutex_lock(&devpts_mu);
		inst->ptys[idx] = NULL;
		pthread_mutex_unlock(&devpts_mu);
		uvfs_vd_put(&p->dir);
		pty_free(p);
		free(m);
		return err;
	}
	f->f_private = m;
	return 0;
}

static void ptmx_release(struct uvfs_file *f)
{
	struct master *m = f->f_private;
	struct pty *p = m->pty;
	char name[16];
	snprintf(name, sizeof name, "%u", p->index);
	struct uvfs_pathop pop = { .root = p->dir, .start = p->dir, .path = name };
	struct uvfs_cred root;
	uvfs_cred_init_root(&root);
	uvfs_unlink_at(uvfs_mount_fs(p->dir.mount)->vfs, &root, &pop); /* gone already: nothing to do */
	pty_jobctl_hangup(p);
	pthread_mutex_lock(&p->mu);
	p->master_open = false;
	/* Hangup: pending input goes (Linux: the replica then reads EOF at once). */
	p->in.len = p->in.head = 0;
	p->rec_n = 0;
	p->linelen = 0;
	wake(p);
	pthread_mutex_unlock(&p->mu);
	pthread_mutex_lock(&devpts_mu);
	struct devpts_inst *inst = devpts_find(uvfs_mount_fs(p->dir.mount)->vfs);
	if (inst && p->index < inst->nptys && inst->ptys[p->index] == p)
		inst->ptys[p->index] = NULL;
	bool last = pty_unref(p);
	pthread_mutex_unlock(&devpts_mu);
	uvfs_vd_put(&p->dir);
	if (last)
		pty_free(p);
	free(m);
}

static int replica_open(struct uvfs_inode *inode, struct uvfs_file *f)
{
	unsigned idx = minor(inode->i_rdev);
	struct uvfs *vfs = uvfs_mount_fs(f->f_vd.mount)->vfs;
	int err = 0;
	pthread_mutex_lock(&devpts_mu);
	struct devpts_inst *inst = devpts_find(vfs);
	struct pty *p = inst && idx < inst->nptys ? inst->ptys[idx] : NULL;
	if (!p) {
		err = -EIO; /* Linux: a stale or foreign pts node */
	} else {
		pthread_mutex_lock(&p->mu);
		if (p->locked || !p->master_open) {
			err = -EIO;
		} else {
			p->replicas++;
			p->replica_seen = true;
			p->refs++;
		}
		pthread_mutex_unlock(&p->mu);
	}
	pthread_mutex_unlock(&devpts_mu);
	if (!err)
		f->f_private = p;
	return err;
}

static void replica_release(struct uvfs_file *f)
{
	struct pty *p = f->f_private;
	pthread_mutex_lock(&p->mu);
	p->replicas--;
	wake(p);
	pthread_mutex_unlock(&p->mu);
	pthread_mutex_lock(&devpts_mu);
	bool last = pty_unref(p);
	pthread_mutex_unlock(&devpts_mu);
	if (last)
		pty_free(p);
}

static const struct uvfs_file_ops ptmx_fops = {
	.open = ptmx_open,
	.release = ptmx_release,
	.read = master_read,
	.write = master_write,
	.poll = master_poll,
	.ioctl = master_ioctl,
	.llseek = pty_llseek,
	.fop_flags = UVFS_FOP_STREAM,
};

static const struct uvfs_file_ops replica_fops = {
	.open = replica_open,
	.release = replica_release,
	.read = replica_read,
	.write = replica_write,
	.poll = replica_poll,
	.ioctl = replica_ioctl,
	.llseek = pty_llseek,
	.fop_flags = UVFS_FOP_STREAM,
};

UVFS_API int uvfs_devpts_register_devices_opts(struct uvfs *vfs, const struct uvfs_devpts_opts *opts)
{
	/* The region's priv is the file's f_private until ->open: the opts. */
	int err = uvfs_register_chrdev_region(vfs, UVFS_DEV_CHAR, UVFS_TTYAUX_MAJOR_DP, UVFS_PTMX_MINOR, 1,
					      &ptmx_fops, (void *)opts, "ptmx");
	if (!err)
		err = uvfs_register_chrdev_region(vfs, UVFS_DEV_CHAR, UVFS_PTY_REPLICA_MAJOR, 0, 1u << 20,
						  &replica_fops, (void *)opts, "pts");
	return err;
}

UVFS_API int uvfs_devpts_register_devices(struct uvfs *vfs) { return uvfs_devpts_register_devices_opts(vfs, NULL); }
