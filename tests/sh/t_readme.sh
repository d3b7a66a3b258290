#!/bin/bash
# The README's embedding example must compile against an installed uvfs
# (make install into a temp prefix, pkg-config) and run cleanly.
set -u
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
if ! make -s install PREFIX="$tmp/usr" >"$tmp/install.log" 2>&1; then
  echo "not ok readme_install: make install failed: $(tail -3 "$tmp/install.log")"; exit 0
fi
for f in lib/libuvfs.a lib/libuvfs.so include/uvfs/uvfs.h include/uvfs/uvfs_fs.h bin/uvfs lib/pkgconfig/uvfs.pc; do
  [ -e "$tmp/usr/$f" ] || { echo "not ok readme_install: $f missing"; exit 0; }
done
echo "ok readme_install"
awk '/^```c$/{on=1;next} /^```$/{on=0} on' README.md > "$tmp/example.c"
[ -s "$tmp/example.c" ] || { echo "not ok readme_example: no C block in README.md"; exit 0; }
export PKG_CONFIG_PATH="$tmp/usr/lib/pkgconfig"
if ! cc -std=c11 -Wall -Werror -o "$tmp/example" "$tmp/example.c" $(pkg-config --cflags --libs uvfs) \
     $(pkg-config --libs liburcu-memb liburcu-cds libxxhash fuse3 jansson libcrypto) 2>"$tmp/cc.log"; then
  echo "not ok readme_example_builds: $(head -5 "$tmp/cc.log")"; exit 0
fi
echo "ok readme_example_builds"
out=$(LD_LIBRARY_PATH="$tmp/usr/lib" "$tmp/example" 2>&1); rc=$?
if [ $rc = 0 ] && grep -q '^stat: 0, size 12, mode 100644$' <<<"$out"; then
  echo "ok readme_example_runs"
else
  echo "not ok readme_example_runs: rc=$rc output: $out"
fi
