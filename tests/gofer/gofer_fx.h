/* tests/gofer/gofer_fx.h — the fixture the diod-backed gofer suites share:
 * the standard fixture plus a fresh host directory served by its own diod
 * (uvfs_gofer_spawn) and mounted as 9p at /g with the given options. */
#ifndef UVFS_TESTS_GOFER_FX_H
#define UVFS_TESTS_GOFER_FX_H

#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <sys/stat.h>

#include "fixture.h"
#include "fsimpl/gofer/gofer.h"

static char host[64]; /* the served host directory */

static inline int gfx_rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(p);
}

/* host/rel, in one of four rotating buffers. */
static inline const char *hp(const char *rel)
{
	static char b[4][512];
	static int k;
	char *s = b[k++ & 3];
	snprintf(s, 512, "%s/%s", host, rel);
	return s;
}

/* UVFS_GOFER_DIRECT=1 runs the suites over trans=direct (no diod). */
static inline bool gfx_direct(void)
{
	const char *e = getenv("UVFS_GOFER_DIRECT");
	return e && !strcmp(e, "1");
}

/* Skips a test of diod's own behaviour (wire round trips, diod quirks) in
 * the direct pass, saying why. */
#define GFX_SKIP_DIRECT(why)                                                                        \
	do {                                                                                         \
		if (gfx_direct()) {                                                                  \
			gfx_teardown();                                                              \
			cr_skip_test("direct mode: %s", why);                                        \
		}                                                                                    \
	} while (0)

static inline void gfx_teardown(void);

/* fx_setup, the 9p type, a new host directory (/tmp/uvfs-TAG-XXXXXX) served
 * by a diod of its own and mounted at /g with "trans=fd,...,OPTS". */
static inline void gfx_setup(const char *tag, const char *opts)
{
	fx_setup();
	cr_assert_eq(uvfs_register_fs_type(fx.vfs, &uvfs_gofer_type, UVFS_FS_USER_MOUNT), 0);
	snprintf(host, sizeof(host), "/tmp/uvfs-%s-XXXXXX", tag);
	cr_assert_not_null(mkdtemp(host));
	chmod(host, 0755);
	fx_must_mkdir("/g", 0755);
	int fd;
	struct uvfs_gofer_proc *proc = NULL;
	char data[512];
	if (gfx_direct()) {
		/* the same directory through the in-process direct client */
		cr_assert_geq(fd = open(host, O_PATH | O_DIRECTORY | O_CLOEXEC), 0);
		snprintf(data, sizeof(data), "trans=direct,%s", opts);
	} else {
		cr_assert_eq(uvfs_gofer_spawn(host, false, &fd, &proc), 0);
		snprintf(data, sizeof(data), "trans=fd,rfdno=%d,wfdno=%d,aname=%s,%s", fd, fd, host, opts);
	}
	struct uvfs_gofer_internal in = { .proc = proc, .hostfd = gfx_direct() ? fd : -1 };
	struct uvfs_mount_opts o = { .data = data, .internal = &in };
	struct uvfs_pathop p = fx_popf("/g");
	int err = uvfs_mount_at(fx.vfs, &fx.cred, host, &p, "9p", &o);
	cr_assert_eq(err, 0, "mount %s: %s", opts, strerror(-err));
}

/* Checked teardown (zero live objects, the diod reaped), then the host
 * directory removed. */
static inline void gfx_teardown(void)
{
	fx_teardown();
	nftw(host, gfx_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
