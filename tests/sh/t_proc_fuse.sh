#!/bin/bash
# /proc/self/mountinfo through the FUSE export, read around in-process
# mount changes (tests/proc/fuse_mountinfo.c): every change shows at once.
set -u
. "$(dirname "$0")/../fuse/lib.sh"
need_fuse proc-fuse
command -v findmnt >/dev/null || { nok "proc-fuse: needs findmnt (util-linux)"; exit 1; }
lib=${UVFS_LIB:-$ROOT/build/libuvfs.a}
libs="$ROOT/build/libuvfs-fuse.a $lib"
[ -f "$lib" ] || { nok "proc-fuse: $lib not built"; exit 1; }
bin=$ROOT/build/proc-fuse-mountinfo
if ! ${CC:-cc} -std=gnu11 -O1 -Wall -Wextra -Wno-unused-parameter -Werror -I"$ROOT" -I"$ROOT/vfs" $(pkg-config --cflags fuse3) \
     -o "$bin" "$ROOT/tests/proc/fuse_mountinfo.c" $libs \
     $(pkg-config --libs liburcu-memb liburcu-cds libxxhash fuse3 libcrypto) -lpthread 2>"$T/cc.log"; then
  nok "proc-fuse: does not build: $(head -5 "$T/cc.log")"; exit 1
fi
mkdir "$T/mnt"
timeout 60 "$bin" "$T/mnt"; rc=$?
is_mounted "$T/mnt" && { nok "proc-fuse: left mounted"; fusermount3 -u -z "$T/mnt"; }
[ $rc = 0 ] || [ $rc = 1 ] || nok "proc-fuse: exit $rc"
