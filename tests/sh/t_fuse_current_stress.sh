#!/bin/bash
# In-process changes racing kernel-side readers on the FUSE export, under
# ASan/UBSan (tests/fuse/current_stress.c against build/libuvfs-san.a).
set -u
. "$(dirname "$0")/../fuse/lib.sh"
need_fuse fuse-current-stress
SECS=${FUSE_STRESS_SECONDS:-4}
san=$ROOT/build/libuvfs-san.a
[ -f "$san" ] || { nok "fuse-current-stress: $san not built"; exit 1; }
bin=$ROOT/build/fuse-current-stress
if ! ${CC:-cc} -std=gnu11 -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all \
     -Wall -Wextra -Wno-unused-parameter -Werror -D_GNU_SOURCE -I"$ROOT" -I"$ROOT/vfs" $(pkg-config --cflags fuse3) \
     -o "$bin" "$ROOT/tests/fuse/current_stress.c" "$san" \
     $(pkg-config --libs liburcu-memb liburcu-cds libxxhash fuse3 jansson libcrypto) -lpthread 2>"$T/cc.log"; then
  nok "fuse-current-stress: does not build: $(head -5 "$T/cc.log")"; exit 1
fi
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
mkdir "$T/mnt"
timeout $((SECS + 60)) "$bin" "$T/mnt" "$SECS" 2>"$T/err"; rc=$?
is_mounted "$T/mnt" && { nok "fuse-current-stress: left mounted"; fusermount3 -u -z "$T/mnt"; }
[ $rc = 0 ] || [ $rc = 1 ] || nok "fuse-current-stress: exit $rc: $(grep -m3 -E 'ERROR|SUMMARY|runtime error' "$T/err")"
