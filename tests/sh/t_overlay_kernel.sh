#!/bin/bash
# `uvfs mount -t overlay` over host directories (each layer served by diod)
# against the kernel's overlayfs, both ways:
#  - the same operations through uvfs's overlay (FUSE) and through the
#    kernel's, on identical copies of the layers: the upper directories are
#    equal (kernel format: whiteouts char 0:0, trusted.overlay.opaque=y),
#    and the kernel, mounting the upper that uvfs wrote, shows the same
#    merged tree as uvfs did;
#  - uvfs mounting the upper that the kernel wrote shows the kernel's tree.
# Kernel mounts live in private mount namespaces (unshare -m).
# Prints "ok NAME" / "not ok NAME: why" lines.
set -u
: "${UVFS:=build/uvfs}"
UVFS=$(realpath "$UVFS")
for t in diod unshare getfattr setfattr; do
  command -v $t >/dev/null || { echo "not ok overlay-kernel: $t not installed"; exit 1; }
done
d=$(mktemp -d /tmp/uvfs-t-ovl.XXXXXX)
cleanup() { for m in "$d"/*/m; do umount "$m" 2>/dev/null; done; rm -rf "$d"; }
trap cleanup EXIT

# The lower layers: files, a shadowed name, directories (one only in the
# bottom layer, one merged), a symlink, xattrs, an empty directory.
mkdir -p "$d/base/l1" "$d/base/l2"
cd "$d/base"
echo top-a >l1/a
echo low-a >l2/a
echo c >l2/c
mkdir -p l2/d l2/e l1/e l2/empty
echo b >l2/d/b
echo f >l2/e/f
echo g >l1/e/g
ln -s a l2/sym
setfattr -n user.k -v v1 l2/c
chmod 640 l2/d/b
echo h >l2/h1
ln l2/h1 l2/h2              # lower hard links
cd - >/dev/null

# One set of layers per run: NAME/{l1,l2,u,w,m}.
mkset() {
  mkdir -p "$d/$1"
  cp -a "$d/base/l1" "$d/base/l2" "$d/$1/"
  mkdir -p "$d/$1/u" "$d/$1/w" "$d/$1/m"
}

# The operations, run in the merged directory.
ops() {
  cd "$1" || return 1
  echo more >>d/b           # copy-up of a file in a lower-only dir
  rm c                      # whiteout
  mkdir d2                  # new directory
  mv a a2                   # rename of a copied-up name that lowers have
  rm -r d                   # whiteout of a lower directory
  mkdir d                   # ... made again: opaque
  echo new >d/n
  ln -s a2 s2
  chmod 600 a2
  mv e/f e/f2               # rename inside a merged directory
  rmdir empty
  setfattr -n user.x -v y e/g
  ln e/g e/g2               # hard link (copies up)
  mv sym sym2
  [ "$(stat -c %i h1)" = "$(stat -c %i h2)" ] || echo "lower hard links: two inode numbers"
  # (Writing h1 breaks the link, index=off, tests/overlay/test_hardlink.c;
  # not here: the FUSE export keys nodes by (mount, st_ino), so h2 would
  # read through h1's node.)
  cd - >/dev/null
}

# What a tree holds: names, types, modes, sizes, link targets, contents,
# user.* xattrs; whiteouts with their device; opaque marks.
dump() {
  (cd "$1" && find . -mindepth 1 -printf '%p %y %m %s %n %l\n' | LC_ALL=C sort | while read -r p y m s n l; do
    extra=
    case $y in
      f) extra=$(md5sum <"$p" | cut -c1-8);;
      c) extra=$(stat -c '%t:%T' "$p"); n=-;; # the kernel shares whiteouts by hard links
    esac
    x=$(getfattr -h --absolute-names -d -m '^user\.|^trusted\.overlay\.opaque$' "$p" 2>/dev/null | grep -v '^#' | tr '\n' ' ')
    echo "$p $y $m $s $n $l $extra $x"
  done)
}

kernel() { # set, then a command run in the kernel overlay's mount namespace with $M the merged dir
  local s="$d/$1"; shift
  unshare -m --propagation private sh -c \
    "mount -t overlay overlay -o lowerdir=$s/l1:$s/l2,upperdir=$s/u,workdir=$s/w $s/m || exit 1; M=$s/m; $*" \
    </dev/null
}

uvfs_mount() { # set; relative layer paths, run from the set's directory
  (cd "$d/$1" && "$UVFS" mount -t overlay -o lowerdir=l1:l2,upperdir=u,workdir=w overlay m)
}

fail=0
check() { # name, want, got
  if [ "$2" = "$3" ]; then echo "ok $1"
  else echo "not ok $1: $(diff <(echo "$2") <(echo "$3") | head -8 | tr '\n' '|')"; fail=1; fi
}

mkset U; mkset K
# uvfs writes U
if ! uvfs_mount U; then echo "not ok overlay-kernel uvfs mount with relative layer paths"; exit 1; fi
if ! mountpoint -q "$d/U/m"; then echo "not ok overlay-kernel uvfs mount with relative layer paths: not mounted"; exit 1; fi
echo "ok overlay-kernel uvfs mount with relative layer paths"
uerr=$(ops "$d/U/m" 2>&1)
check "overlay-kernel ops through uvfs succeed" "" "$uerr"
uview=$(dump "$d/U/m")
umount "$d/U/m"
# the kernel writes K
kerr=$(kernel K "$(declare -f ops); ops \$M 2>&1")
check "overlay-kernel ops through the kernel succeed" "" "$kerr"
kview=$(kernel K "$(declare -f dump); dump \$M")
check "overlay-kernel merged view: uvfs = kernel" "$kview" "$uview"
check "overlay-kernel upper layer: uvfs-written = kernel-written" "$(dump "$d/K/u")" "$(dump "$d/U/u")"
# the kernel mounts the upper that uvfs wrote
kU=$(kernel U "$(declare -f dump); dump \$M")
check "overlay-kernel kernel mounting the uvfs-written upper" "$kview" "$kU"
# uvfs mounts the upper that the kernel wrote
rm -rf "$d/K/w"/*
if uvfs_mount K; then
  uK=$(dump "$d/K/m")
  umount "$d/K/m"
  check "overlay-kernel uvfs mounting the kernel-written upper" "$kview" "$uK"
else
  echo "not ok overlay-kernel uvfs mounting the kernel-written upper: mount failed"; fail=1
fi
# read-only: no upperdir
ro=$(cd "$d/base" && "$UVFS" ls -l -t overlay -o lowerdir=l1:l2 overlay / 2>&1 | awk '{print $1, $NF}' | tr '\n' ' ')
check "overlay-kernel uvfs ls -t overlay, read-only" "-rw-r--r-- a -rw-r--r-- c drwxr-xr-x d drwxr-xr-x e drwxr-xr-x empty -rw-r--r-- h1 -rw-r--r-- h2 lrwxrwxrwx a " "$ro"
exit $fail
