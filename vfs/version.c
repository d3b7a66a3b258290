/* vfs/version.c — uvfs_version(): the version compiled into the library. */
#include "uvfs_version.h"

const char *uvfs_version(void)
{
	return UVFS_VERSION_STRING;
}
