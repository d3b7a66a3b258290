/* fuzz_ocispec.c — libFuzzer target for the OCI spec loader and the mount
 * plan: parse the bytes as config.json; if that succeeds, compile the mounts
 * under flags taken from the spec's length, hand out exactly the fds needed
 * (or one too many / too few), and print the plan. Every failure must be a
 * clean -errno with a message; ASan/UBSan/LSan catch the rest. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot/boot.h"

#define CHECK(cond, ...)                                                                                         \
	do {                                                                                                     \
		if (!(cond)) {                                                                                   \
			fprintf(stderr, "fuzz_ocispec: check failed: %s: ", #cond);                              \
			fprintf(stderr, __VA_ARGS__);                                                            \
			fputc('\n', stderr);                                                                     \
			abort();                                                                                 \
		}                                                                                                \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	if (!devnull) {
		uvfs_log_set_level(-1);
		devnull = fopen("/dev/null", "w");
		CHECK(devnull, "open /dev/null");
	}
	char err[512];
	struct uvfs_oci_spec *s = NULL;
	err[0] = 0;
	int rc = uvfs_oci_parse((const char *)data, size, "config.json", &s, err, sizeof err);
	if (rc) {
		CHECK(rc == -EINVAL && !s, "parse rc %d", rc);
		CHECK(!strncmp(err, "config.json:", 12), "message names the file: %s", err);
		return 0;
	}
	CHECK(s && s->root_path && s->nargs >= 1 && s->cwd && s->cwd[0] == '/', "parsed spec incomplete");
	unsigned flags = (unsigned)(size % 32);
	struct uvfs_mount_plan *p = NULL;
	err[0] = 0;
	rc = uvfs_oci_compile_mounts(s, flags, &p, err, sizeof err);
	if (rc) {
		CHECK(rc == -EINVAL && !p && err[0], "compile rc %d, message '%s'", rc, err);
		uvfs_oci_spec_free(s);
		return 0;
	}
	CHECK(p->ngofers >= 1, "root gofer");
	for (size_t i = 1; i < p->nmounts; i++)
		CHECK(strlen(p->mounts[i - 1].destination) <= strlen(p->mounts[i].destination), "sorted");
	for (size_t i = 0; i < p->nmounts; i++)
		CHECK(p->mounts[i].destination[0] == '/', "absolute destination");
	size_t need = p->ngofers;
	int *fds = malloc((need + 1) * sizeof *fds);
	CHECK(fds, "malloc");
	for (size_t i = 0; i <= need; i++)
		fds[i] = 100 + (int)i;
	if (need > 1)
		CHECK(uvfs_mount_plan_bind_fds(p, fds, need - 1, err, sizeof err) == -EBADF, "too few fds");
	CHECK(uvfs_mount_plan_bind_fds(p, fds, need + 1, err, sizeof err) == -EINVAL, "too many fds");
	CHECK(uvfs_mount_plan_bind_fds(p, fds, need, err, sizeof err) == 0, "exact fds: %s", err);
	free(fds);
	CHECK(uvfs_mount_plan_print(p, devnull) == 0, "print");
	uvfs_mount_plan_free(p);
	uvfs_oci_spec_free(s);
	return 0;
}
