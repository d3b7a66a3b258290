/* tests/gofer/test_p9corpus.c — every reply a real diod sends passes the
 * strict decoder, and every reply type the gofer uses is seen.
 *
 * With UVFS_P9_CORPUS_DIR set it also writes the replies as the libFuzzer
 * seed corpus (one byte T-type + raw reply per file):
 *   UVFS_P9_CORPUS_DIR=tests/fuzz/corpus/fuzz_p9reply \
 *   UVFS_P9_STREAM_CORPUS_DIR=tests/fuzz/corpus/fuzz_p9stream build/tests/gofer/test_p9corpus */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "fsimpl/gofer/p9/p9.h"
#include "fsimpl/gofer/p9/p9_wire.h"
#include "tests/gofer/diod_harness.h"

#define MAXCAP 512

static struct diod d;

static void reap(void)
{
	diod_stop(&d);
}

TestSuite(p9corpus, .fini = reap, .timeout = 60);

struct capture {
	pthread_mutex_t mu;
	size_t n;
	uint8_t *msg[MAXCAP];
	size_t len[MAXCAP];
};

static struct capture cap = { .mu = PTHREAD_MUTEX_INITIALIZER };

static void hook(void *arg, const uint8_t *m, size_t len)
{
	struct capture *c = arg;
	pthread_mutex_lock(&c->mu);
	if (c->n < MAXCAP && len <= 8192) { /* keep the corpus small */
		c->msg[c->n] = malloc(len);
		memcpy(c->msg[c->n], m, len);
		c->len[c->n++] = len;
	}
	pthread_mutex_unlock(&c->mu);
}

static int nop_cb(void *arg, const struct uvfs_p9_dirent *de)
{
	return 0;
}

Test(p9corpus, real_diod_replies_decode_strictly)
{
	int fd = diod_start_fd(&d, 0, -1);
	cr_assert_geq(fd, 0);
	struct uvfs_p9_client *c;
	cr_assert_eq(uvfs_p9_connect_fds(fd, fd, NULL, &c), 0);
	uvfs_p9_set_reply_hook(c, hook, &cap);

	uint32_t root, f, g;
	char buf[512];
	cr_assert_eq(uvfs_p9_attach(c, "root", 0, d.dir, &root, NULL), 0);
	cr_assert_eq(uvfs_p9_walk(c, root, 0, NULL, &f, NULL), 0);
	cr_assert_eq(uvfs_p9_lcreate(c, f, "file", O_RDWR | O_CREAT, 0644, 0, NULL, NULL), 0);
	cr_assert_eq(uvfs_p9_write(c, f, 0, "hello, corpus", 13), 13);
	cr_assert_eq(uvfs_p9_read(c, f, 0, buf, sizeof(buf)), 13);
	cr_assert_eq(uvfs_p9_fsync(c, f, 0), 0);
	struct uvfs_p9_flock fl = { .type = UVFS_P9_LOCK_TYPE_WRLCK, .length = 1, .proc_id = 1 };
	strcpy(fl.client_id, "corpus");
	uint8_t st;
	cr_assert_eq(uvfs_p9_lock(c, f, &fl, &st), 0);
	cr_assert_eq(uvfs_p9_getlock(c, f, &fl), 0);
	cr_assert_eq(uvfs_p9_setxattr(c, f, "user.k", "v", 1, 0), 0);
	cr_assert_eq(uvfs_p9_getxattr(c, f, "user.k", buf, sizeof(buf)), 1);
	cr_assert_gt(uvfs_p9_listxattr(c, f, buf, sizeof(buf)), 0);
	struct uvfs_p9_attr a;
	cr_assert_eq(uvfs_p9_getattr(c, f, UVFS_P9_GETATTR_ALL, &a), 0);
	struct uvfs_p9_setattr sa = { .valid = UVFS_P9_SETATTR_SIZE, .size = 5 };
	cr_assert_eq(uvfs_p9_setattr(c, f, &sa), 0);
	struct uvfs_p9_statfs sf;
	cr_assert_eq(uvfs_p9_statfs(c, f, &sf), 0);
	cr_assert_eq(uvfs_p9_clunk(c, f), 0);
	cr_assert_eq(uvfs_p9_mkdir(c, root, "dir", 0755, 0, NULL), 0);
	cr_assert_eq(uvfs_p9_symlink(c, root, "sym", "file", 0, NULL), 0);
	cr_assert_eq(uvfs_p9_mknod(c, root, "fifo", S_IFIFO | 0600, 0, 0, 0, NULL), 0);
	cr_assert_eq(uvfs_p9_walk_path(c, root, "sym", &f, NULL), 0);
	cr_assert_eq(uvfs_p9_readlink(c, f, buf, sizeof(buf)), 4);
	cr_assert_eq(uvfs_p9_clunk(c, f), 0);
	cr_assert_eq(uvfs_p9_walk_path(c, root, "file", &f, NULL), 0);
	cr_assert_eq(uvfs_p9_link(c, root, f, "hard"), 0);
	cr_assert_eq(uvfs_p9_walk_path(c, root, "dir", &g, NULL), 0);
	cr_assert_eq(uvfs_p9_rename(c, f, g, "moved"), 0);
	cr_assert_eq(uvfs_p9_clunk(c, g), 0);
	cr_assert_eq(uvfs_p9_renameat(c, root, "hard", root, "hard2"), 0);
	cr_assert_eq(uvfs_p9_unlinkat(c, root, "hard2", 0), 0);
	cr_assert_eq(uvfs_p9_remove(c, f), 0);
	cr_assert_eq(uvfs_p9_walk(c, root, 0, NULL, &f, NULL), 0);
	cr_assert_eq(uvfs_p9_lopen(c, f, O_RDONLY, NULL, NULL), 0);
	cr_assert_gt(uvfs_p9_readdir(c, f, 0, 0, nop_cb, NULL), 0);
	cr_assert_eq(uvfs_p9_clunk(c, f), 0);
	cr_assert_eq(uvfs_p9_walk_path(c, root, "missing", &f, NULL), -ENOENT); /* Rlerror */
	cr_assert_eq(uvfs_p9_mkdir(c, root, "dir", 0755, 0, NULL), -EEXIST);
	cr_assert_eq(uvfs_p9_clunk(c, root), 0);
	uvfs_p9_close(c);
	diod_stop(&d);

	/* Every reply decodes; Rlerror carries a real errno. */
	bool seen[256] = { false };
	const char *dir = getenv("UVFS_P9_CORPUS_DIR");
	for (size_t i = 0; i < cap.n; i++) {
		uint8_t rt = cap.msg[i][4];
		uint8_t tt = rt == P9_RLERROR ? P9_TWALK : (uint8_t)(rt - 1);
		int err = uvfs_p9_check_reply(cap.msg[i], cap.len[i], tt);
		cr_assert(err == 0 || (rt == P9_RLERROR && err < 0 && err != -EPROTO),
			  "reply type %u: %d", rt, err);
		if (dir && !seen[rt]) {
			char path[512];
			snprintf(path, sizeof(path), "%s/diod-r%03u", dir, rt);
			FILE *fp = fopen(path, "wb");
			cr_assert_not_null(fp, "%s", path);
			fwrite(&tt, 1, 1, fp);
			fwrite(cap.msg[i], 1, cap.len[i], fp);
			fclose(fp);
		}
		seen[rt] = true;
		free(cap.msg[i]);
	}
	/* Tversion happens before the hook is set; Tflush is covered elsewhere. */
	const uint8_t want[] = { P9_RATTACH, P9_RWALK, P9_RLCREATE, P9_RWRITE, P9_RREAD, P9_RFSYNC, P9_RLOCK,
				 P9_RGETLOCK, P9_RXATTRWALK, P9_RXATTRCREATE, P9_RCLUNK, P9_RGETATTR, P9_RSETATTR,
				 P9_RSTATFS, P9_RMKDIR, P9_RSYMLINK, P9_RMKNOD, P9_RREADLINK, P9_RLINK, P9_RRENAME,
				 P9_RREMOVE, P9_RLOPEN, P9_RREADDIR, P9_RLERROR };
	for (size_t i = 0; i < sizeof(want); i++)
		cr_assert(seen[want[i]], "no reply of type %u seen", want[i]);
}

/* Tversion happens before a hook can be installed: speak it by hand. */
Test(p9corpus, real_diod_rversion)
{
	int fd = diod_start_fd(&d, 0, -1);
	cr_assert_geq(fd, 0);
	uint8_t t[64], r[64];
	struct p9_enc e;
	p9_enc_begin(&e, t, sizeof(t), P9_TVERSION, 0xffff);
	p9_put32(&e, 1u << 20);
	p9_putstr(&e, "9P2000.L");
	long n = p9_enc_finish(&e, 0);
	cr_assert_eq(write(fd, t, (size_t)n), n);
	size_t got = 0;
	while (got < 4 || got < (size_t)(r[0] | r[1] << 8)) {
		ssize_t k = read(fd, r + got, sizeof(r) - got);
		cr_assert_gt(k, 0);
		got += (size_t)k;
	}
	struct p9_rmsg m;
	cr_assert_eq(p9_decode_reply(r, got, P9_TVERSION, &m), 0);
	cr_assert_eq(m.tag, 0xffff);
	cr_assert_leq(m.u.version.msize, 1u << 20);
	cr_assert_eq(m.u.version.version.len, 8);
	const char *dir = getenv("UVFS_P9_CORPUS_DIR");
	if (dir) {
		char path[512];
		snprintf(path, sizeof(path), "%s/diod-r%03u", dir, P9_RVERSION);
		FILE *fp = fopen(path, "wb");
		cr_assert_not_null(fp);
		uint8_t tt = P9_TVERSION;
		fwrite(&tt, 1, 1, fp);
		fwrite(r, 1, got, fp);
		fclose(fp);
	}
	close(fd);
	diod_stop(&d);
}

static int count_cb(void *arg, const struct uvfs_p9_dirent *de)
{
	return ++*(int *)arg > 100000;
}

/* The exact call sequence of tests/fuzz/fuzz_p9stream.c against a real
 * diod; the concatenated replies seed that fuzzer. */
Test(p9corpus, stream_seed_sequence)
{
	int fd = diod_start_fd(&d, 0, -1);
	cr_assert_geq(fd, 0);
	char p[256];
	snprintf(p, sizeof(p), "%s/a", d.dir);
	cr_assert_eq(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/a/b", d.dir);
	cr_assert_eq(symlink("target", p), 0);
	cr_assert_eq(setxattr(d.dir, "user.x", "value", 5, 0), 0);

	struct uvfs_p9_client *c;
	struct uvfs_p9_opts o = { .msize = 8192, .max_inflight = 4 };
	cr_assert_eq(uvfs_p9_connect_fds(fd, fd, &o, &c), 0);
	uvfs_p9_set_reply_hook(c, hook, &cap);
	cap.n = 0;
	uint32_t root, f;
	struct uvfs_p9_qid q;
	struct uvfs_p9_attr a;
	char buf[9000];
	int cnt = 0;
	cr_assert_eq(uvfs_p9_attach(c, "root", 0, d.dir, &root, &q), 0);
	cr_assert_eq(uvfs_p9_walk_path(c, root, "a/b", &f, &q), 0);
	cr_assert_eq(uvfs_p9_getattr(c, root, UVFS_P9_GETATTR_ALL, &a), 0);
	cr_assert_lt(uvfs_p9_read(c, root, 0, buf, sizeof(buf)), 0, "root is not open");
	cr_assert_lt(uvfs_p9_readdir(c, root, 0, 0, count_cb, &cnt), 0, "root is not open");
	cr_assert_lt(uvfs_p9_readlink(c, root, buf, 64), 0, "root is no symlink");
	cr_assert_eq(uvfs_p9_getxattr(c, root, "user.x", buf, sizeof(buf)), 5);
	struct uvfs_p9_flock fl = { .type = UVFS_P9_LOCK_TYPE_RDLCK };
	cr_assert_lt(uvfs_p9_getlock(c, root, &fl), 0, "root is not open");
	cr_assert_eq(uvfs_p9_clunk_async(c, f), 0);
	cr_assert_eq(uvfs_p9_unlinkat(c, root, "gone", 0), -ENOENT);
	cr_assert_eq(uvfs_p9_clunk(c, root), 0);
	cr_assert_geq(cap.n, 10);

	const char *dir = getenv("UVFS_P9_STREAM_CORPUS_DIR");
	FILE *fp = NULL;
	if (dir) {
		snprintf(p, sizeof(p), "%s/diod-sequence", dir);
		fp = fopen(p, "wb");
		cr_assert_not_null(fp, "%s", p);
	}
	for (size_t i = 0; i < cap.n; i++) {
		if (fp)
			fwrite(cap.msg[i], 1, cap.len[i], fp);
		free(cap.msg[i]);
	}
	if (fp)
		fclose(fp);
	cap.n = 0;
	uvfs_p9_close(c);
	diod_stop(&d);
}
