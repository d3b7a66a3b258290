#!/bin/bash
# In-process changes show through the FUSE export at once
# (tests/fuse/current.c): invalidation, mounts, bind mounts.
set -u
. "$(dirname "$0")/../fuse/lib.sh"
need_fuse fuse-current
lib=${UVFS_LIB:-$ROOT/build/libuvfs.a}
libs="$ROOT/build/libuvfs-boot.a $ROOT/build/libuvfs-fuse.a $lib"
[ -f "$lib" ] || { nok "fuse-current: $lib not built"; exit 1; }
bin=$ROOT/build/fuse-current
if ! ${CC:-cc} -std=gnu11 -O1 -Wall -Wextra -Wno-unused-parameter -Werror -I"$ROOT" -I"$ROOT/vfs" $(pkg-config --cflags fuse3) \
     -o "$bin" "$ROOT/tests/fuse/current.c" $libs \
     $(pkg-config --libs liburcu-memb liburcu-cds libxxhash fuse3 jansson libcrypto) -lpthread 2>"$T/cc.log"; then
  nok "fuse-current: does not build: $(head -5 "$T/cc.log")"; exit 1
fi
mkdir "$T/mnt"
timeout 60 "$bin" "$T/mnt"; rc=$?
is_mounted "$T/mnt" && { nok "fuse-current: left mounted"; fusermount3 -u -z "$T/mnt"; }
[ $rc = 0 ] || [ $rc = 1 ] || nok "fuse-current: exit $rc"
