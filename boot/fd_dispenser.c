/* boot/fd_dispenser.c — runsc's fdDispenser: gofer fds are handed out in the
 * order the gofer side created them (root first, then each gofer mount in
 * spec order), so the only contract is "pop the first". The dispenser
 * borrows the array; it never closes an fd. Running out is an error here
 * (the seed panics), and fds left over after every mount took its own mean
 * the two sides disagree about the mount list. */
#include <errno.h>
#include <stdio.h>

#include "boot/internal.h"

HIDDEN bool fdd_empty(const struct fd_dispenser *d) { return d->next >= d->n; }

HIDDEN int fdd_remove(struct fd_dispenser *d, int *fd)
{
	if (fdd_empty(d))
		return -EBADF;
	*fd = d->fds[d->next++];
	return 0;
}

HIDDEN int fdd_check(const struct fd_dispenser *d, char *err, size_t errlen)
{
	if (fdd_empty(d))
		return 0;
	char list[256];
	size_t o = 0;
	list[0] = 0;
	for (size_t i = d->next; i < d->n && o < sizeof list; i++) {
		int w = snprintf(list + o, sizeof list - o, "%s%d", i == d->next ? "" : " ", d->fds[i]);
		if (w < 0)
			break;
		o += (size_t)w;
	}
	return berr(err, errlen, -EINVAL, "not all gofer FDs were consumed, remaining: [%s]", list);
}
