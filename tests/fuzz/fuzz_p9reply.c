/* tests/fuzz/fuzz_p9reply.c — libFuzzer target on the 9P reply decoder.
 *
 * Input: one byte naming the T-message that was sent, then the raw reply
 * (header included).  The reply is copied to a buffer of exactly its size
 * so any over-read is an ASan report.  The seed corpus is real diod
 * replies captured by tests/gofer/test_p9corpus.c. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fsimpl/gofer/p9/p9.h"
#include "fsimpl/gofer/p9/p9_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t n = size - 1;
	uint8_t *m = malloc(n ? n : 1);
	if (!m)
		return 0;
	memcpy(m, data + 1, n);

	int err = uvfs_p9_check_reply(m, n, data[0]);
	/* Results are only ever 0, a server errno, or EPROTO. */
	if (err > 0 || err < -4095)
		abort();

	struct p9_hdr h;
	if (p9_parse_hdr(m, n, 65536, &h) == 0 && (h.size < P9_HDRSZ || h.size > 65536))
		abort();

	/* Decoded strings and payloads must lie inside the message. */
	struct p9_rmsg r;
	if (p9_decode_reply(m, n, data[0], &r) == 0) {
		const uint8_t *lo = m, *hi = m + n;
		const uint8_t *p = NULL;
		size_t len = 0;
		if (r.type == P9_RREAD || r.type == P9_RREADDIR) {
			p = r.u.io.data;
			len = r.u.io.count;
		} else if (r.type == P9_RREADLINK) {
			p = (const uint8_t *)r.u.target.s;
			len = r.u.target.len;
		} else if (r.type == P9_RVERSION) {
			p = (const uint8_t *)r.u.version.version.s;
			len = r.u.version.version.len;
		}
		if (p && len && (p < lo || p + len > hi))
			abort();
	}
	free(m);
	return 0;
}
