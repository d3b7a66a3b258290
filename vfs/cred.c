/* vfs/cred.c — caller credentials (a value type): ids, groups, capabilities. */
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
	for (uint32_t i = 0; i < c->ngroups && i < UVFS_NGROUPS_MAX; i++)
		if (c->groups[i] == gid)
			return true;
	return false;
}
