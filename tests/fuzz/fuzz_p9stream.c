/* tests/fuzz/fuzz_p9stream.c — libFuzzer target on the whole client as a
 * hostile server would meet it: a real uvfs_p9_client on a socketpair
 * whose "server" side is the fuzz input, queued up front and followed by
 * EOF.  A valid Rversion is prepended so the input starts right at the
 * replies to the calls below (tags are handed out from 0 upwards, so the
 * fuzzer can learn to hit them).  Every call must return (EOF guarantees
 * it), with 0 / a server errno / EPROTO / ECONNRESET, never crash, leak or
 * over-read.  The seed corpus (corpus/fuzz_p9stream/) holds real diod
 * replies to the same call sequence. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fsimpl/gofer/p9/p9.h"
#include "fsimpl/gofer/p9/p9_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int nop_cb(void *arg, const struct uvfs_p9_dirent *de)
{
	return ++*(int *)arg > 100000;
}

static void check(long err)
{
	if (err > 0 && err < (1 << 30))
		return; /* byte counts */
	if (err > 0 || err < -4095)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 60000) /* must fit the socket buffer: nobody reads it early */
		return 0;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return 0;
	int big = 1 << 20;
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));

	uint8_t rv[32];
	struct p9_enc e;
	p9_enc_begin(&e, rv, sizeof(rv), P9_RVERSION, 0xffff);
	p9_put32(&e, 8192);
	p9_putstr(&e, "9P2000.L");
	long n = p9_enc_finish(&e, 0);
	if (write(sv[1], rv, (size_t)n) != n || (size && write(sv[1], data, size) != (ssize_t)size)) {
		close(sv[0]);
		close(sv[1]);
		return 0;
	}
	shutdown(sv[1], SHUT_WR);

	struct uvfs_p9_client *c;
	struct uvfs_p9_opts o = { .msize = 8192, .max_inflight = 4 };
	if (uvfs_p9_connect_fds(sv[0], sv[0], &o, &c) == 0) {
		uint32_t root = 0, f = 0;
		struct uvfs_p9_qid q;
		struct uvfs_p9_attr a;
		char buf[9000];
		int cnt = 0;
		check(uvfs_p9_attach(c, "root", 0, "/x", &root, &q));
		check(uvfs_p9_walk_path(c, root, "a/b", &f, &q));
		check(uvfs_p9_getattr(c, root, UVFS_P9_GETATTR_ALL, &a));
		check(uvfs_p9_read(c, root, 0, buf, sizeof(buf)));
		check(uvfs_p9_readdir(c, root, 0, 0, nop_cb, &cnt));
		check(uvfs_p9_readlink(c, root, buf, 64));
		check(uvfs_p9_getxattr(c, root, "user.x", buf, sizeof(buf)));
		struct uvfs_p9_flock fl = { .type = UVFS_P9_LOCK_TYPE_RDLCK };
		check(uvfs_p9_getlock(c, root, &fl));
		check(uvfs_p9_clunk_async(c, f));
		check(uvfs_p9_unlinkat(c, root, "gone", 0));
		check(uvfs_p9_clunk(c, root));
		uvfs_p9_close(c);
	}
	close(sv[1]);
	return 0;
}
