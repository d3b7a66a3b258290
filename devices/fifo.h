/* devices/fifo.h — the pipe behind every FIFO inode (devices/fifo.c). The
 * VFS serves FIFO opens on any filesystem with these ops (vfs/file.c), as
 * Linux's def_fifo_fops: the pipe is found by the inode, so hard links and
 * every mount of the inode share it. */
#pragma once

#include "vfs/uvfs_fs.h"

/* Linux: 16 pages of 4 KiB (pipe_max_size default). */
#define UVFS_PIPE_CAPACITY 65536

extern const struct uvfs_file_ops uvfs_fifo_fops __attribute__((visibility("hidden")));
