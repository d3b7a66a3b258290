/* vfs/cred.c — caller credentials (a value type): ids, groups, capabilities.
 * The supplementary group list is borrowed from the caller and sorted, so
 * membership is a bisection however many groups there are (uvfs.h). */
#include <stdlib.h>

#include "internal.h"

UVFS_API void uvfs_cred_init_root(struct uvfs_cred *c)
{
	memset(c, 0, sizeof(*c));
	c->caps = UVFS_CAPS_ALL;
}

UVFS_API void uvfs_cred_init_user(struct uvfs_cred *c, uint32_t uid, uint32_t gid)
{
	memset(c, 0, sizeof(*c));
	c->uid = c->euid = c->fsuid = uid;
	c->gid = c->egid = c->fsgid = gid;
}

UVFS_API bool uvfs_cred_has_cap(const struct uvfs_cred *c, int cap) { return (c->caps >> cap) & 1; }

UVFS_API bool uvfs_cred_in_group(const struct uvfs_cred *c, uint32_t gid)
{
	if (c->fsgid == gid)
		return true;
	const uint32_t *g = c->groups;
	uint32_t n = c->ngroups;
	struct uvfs_groups_src *src = c->groups_src;
	if (src) {
		if (!src->loaded) {
			if (src->load(src, &src->groups, &src->n)) {
				src->groups = NULL; /* fail closed */
				src->n = 0;
			}
			src->loaded = true;
		}
		g = src->groups;
		n = src->n;
	}
	if (!g)
		return false; /* a count without a list is no groups */
	/* Lower-bound bisection: no data-dependent early exit to mispredict,
	 * and a one-group list costs one comparison. */
	uint32_t lo = 0;
	while (n > 1) {
		uint32_t half = n / 2;
		if (g[lo + half - 1] < gid)
			lo += half;
		n -= half;
	}
	return n == 1 && g[lo] == gid;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

UVFS_API void uvfs_cred_set_groups(struct uvfs_cred *c, uint32_t *groups, uint32_t n)
{
	if (!groups)
		n = 0;
	for (uint32_t i = 1; i < n; i++) {
		if (groups[i - 1] > groups[i]) {
			qsort(groups, n, sizeof(*groups), cmp_u32);
			break;
		}
	}
	c->groups = groups;
	c->ngroups = n;
}

HIDDEN int cred_copy_for_file(const struct uvfs_cred *src, struct uvfs_cred *dst, bool with_groups)
{
	*dst = *src;
	dst->groups = NULL;
	dst->ngroups = 0;
	dst->groups_src = NULL;
	if (!with_groups)
		return 0;
	const uint32_t *g = src->groups;
	uint32_t n = src->ngroups;
	if (src->groups_src) {
		(void)uvfs_cred_in_group(src, src->fsgid + 1); /* loads the list once */
		g = src->groups_src->groups;
		n = src->groups_src->n;
	}
	if (!g || !n)
		return 0;
	uint32_t *copy = malloc((size_t)n * sizeof(*copy));
	if (!copy)
		return -ENOMEM;
	memcpy(copy, g, (size_t)n * sizeof(*copy));
	dst->groups = copy;
	dst->ngroups = n;
	return 0;
}
