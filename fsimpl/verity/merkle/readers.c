/* fsimpl/verity/readers.c — ready-made read callbacks (memory, fd). */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "fsimpl/verity/merkle/merkle.h"

UVFS_API ssize_t uvfs_merkle_mem_read(void *ctx, void *buf, size_t len, uint64_t off)
{
	const struct uvfs_merkle_mem *m = ctx;
	if (!m || (!buf && len))
		return -EINVAL;
	if (off >= m->size)
		return 0;
	size_t n = m->size - off < len ? (size_t)(m->size - off) : len;
	if (len > SSIZE_MAX)
		n = n > SSIZE_MAX ? SSIZE_MAX : n;
	memcpy(buf, (const uint8_t *)m->data + off, n);
	return (ssize_t)n;
}

UVFS_API ssize_t uvfs_merkle_fd_read(void *ctx, void *buf, size_t len, uint64_t off)
{
	const int *fdp = ctx;
	size_t got = 0;

	if (!fdp || (!buf && len))
		return -EINVAL;
	if (len > SSIZE_MAX)
		len = SSIZE_MAX;
	if (off > (uint64_t)INT64_MAX)
		return -EINVAL;
	while (got < len) {
		ssize_t r = pread(*fdp, (uint8_t *)buf + got, len - got, (off_t)(off + got));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return got ? (ssize_t)got : -errno;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}
