/* vfs/uvfs_version.h — the library's version (installed as
 * <uvfs/uvfs_version.h>, included by <uvfs/uvfs.h>). The Makefile reads
 * UVFS_VERSION_STRING from here; the shared library's SONAME is
 * libuvfs.so.UVFS_VERSION_MAJOR. Compare UVFS_VERSION_NUMBER at compile
 * time, uvfs_version() at run time (the library actually loaded). */
#pragma once

#define UVFS_VERSION_MAJOR 0
#define UVFS_VERSION_MINOR 1
#define UVFS_VERSION_PATCH 0
#define UVFS_VERSION_STRING "0.1.0"
#define UVFS_VERSION_NUMBER (UVFS_VERSION_MAJOR * 10000 + UVFS_VERSION_MINOR * 100 + UVFS_VERSION_PATCH)

#ifdef __cplusplus
extern "C" {
#endif
/* The loaded library's version, "MAJOR.MINOR.PATCH"; never NULL. */
__attribute__((visibility("default"))) const char *uvfs_version(void);
#ifdef __cplusplus
}
#endif
