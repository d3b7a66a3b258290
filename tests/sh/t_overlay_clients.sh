#!/bin/bash
# Real clients on `uvfs mount -t overlay` (host layers served by diod,
# exported through FUSE) and the same clients on the kernel's overlayfs
# over a copy of the same layers (private mount namespace): cp -a, tar,
# rsync -aHX (into new directories and over lower-provided files, so that
# they copy up), git (new repository, and commits to one in the lower
# layer), sqlite3 WAL (a database in the lower layer). Then the merged
# views and the upper directories of the two are compared.
set -u
. "$(dirname "$0")/../fuse/lib.sh"
need_fuse overlay-clients
command -v unshare >/dev/null || { nok "overlay-clients: unshare not installed"; exit 1; }
d=$T/ovc
mkdir -p "$d/src/dir/sub" "$d/base/l1" "$d/base/l2"
src=$d/src
# --- the source tree (copied in by the clients) -------------------------------
printf 'hello\n' >"$src/dir/a.txt"
head -c 300000 /dev/urandom >"$src/dir/random.bin"
truncate -s 5M "$src/sparse"; printf 'middle' | dd of="$src/sparse" bs=1 seek=3000000 conv=notrunc 2>/dev/null
ln "$src/dir/a.txt" "$src/dir/sub/a-hardlink"
ln -s a.txt "$src/dir/rel-link"; ln -s /nonexistent/target "$src/dangling"
setfattr -n user.colour -v blue "$src/dir/a.txt"
echo x >"$src/m0600"; chmod 0600 "$src/m0600"
echo x >"$src/owned"; chown 1234:5678 "$src/owned"
touch -d '2010-01-01 00:00:00' "$src/dir/a.txt" "$src/sparse"
# --- the lower layers: a copy of the source, a git repository, a database ----
cp -a "$src" "$d/base/l2/tree"
echo top >"$d/base/l1/top"
export GIT_AUTHOR_DATE='2020-01-01T00:00:00Z' GIT_COMMITTER_DATE='2020-01-01T00:00:00Z'
export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@t GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@t
(cd "$d/base/l2" && git init -q repo && cd repo && for i in $(seq 10); do echo "line $i" >"f$i"; done &&
  git add -A && git commit -qm one) || { nok "overlay-clients: making the lower git repository"; exit 1; }
sqlite3 "$d/base/l2/db.sqlite" "PRAGMA journal_mode=wal;" "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);" \
  "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x<3000) INSERT INTO t(v) SELECT printf('v%d', x) FROM c;" >/dev/null

# The clients, on merged directory $1 (source $2); prints what they report.
clients() {
  local M=$1 S=$2
  cp -a "$S" "$M/cpa" || echo "cp -a failed"
  mkdir "$M/tar" && tar -C "$S" -cf - . | tar -C "$M/tar" -xpf - || echo "tar failed"
  rsync -aHX "$S/" "$M/rs/" || echo "rsync in failed"
  echo changed >>"$S/dir/a.txt.new"
  rsync -aHX --delete "$S/" "$M/tree/" || echo "rsync over the lower tree failed"
  rm -f "$S/dir/a.txt.new"
  (cd "$M/repo" && echo more >>f3 && git mv f4 f4b && git rm -q f5 && git commit -qam two &&
    git log --format=%H:%s | tr '\n' ' ' && git fsck --strict --no-progress 2>&1 | grep -v '^Checking') ||
    echo "git on the lower repository failed"
  echo
  sqlite3 "$M/db.sqlite" "BEGIN; UPDATE t SET v=v||'x' WHERE id%7=0; DELETE FROM t WHERE id%11=0; COMMIT;" \
    "PRAGMA integrity_check;" "SELECT count(*), sum(length(v)) FROM t;" | tr '\n' ' '
  echo
}

# Names, types, modes, owners, sizes, link counts, contents, link targets,
# user xattrs, whiteouts and opaque marks; no times, no git index (it
# records inode numbers and times).
dump() {
  (cd "$1" && find . -mindepth 1 -printf '%p %y %m %U:%G %s %n %l\n' | LC_ALL=C sort | while read -r p y m o s n l; do
    extra=
    case $y in
      f) [ "${p##*/}" = index ] && [[ $p == */.git/index ]] || extra=$(md5sum <"$p" | cut -c1-8);;
      c) extra=$(stat -c '%t:%T' "$p"); n=-;;
      d) s=-   # directory sizes are the layer's business; nlink is compared (a
               # merged directory's is 1, as Linux, told to the kernel's FUSE cache
               # even when a request on the same mount made the copy-up), but not
               # in git's object store: which object directories git freshens,
               # hence copies up (merged: 1) or makes anew (2), depends on timing
         case $p in ./repo/.git/objects|./repo/.git/objects/*) n=-;; esac;;
    esac
    x=$(getfattr -h --absolute-names -d -m '^user\.|^trusted\.overlay\.opaque$' "$p" 2>/dev/null | grep -v '^#' | tr '\n' ' ')
    echo "$p $y $m $o $s $n $l $extra $x"
  done)
}

check() { # name, want, got
  if [ "$2" = "$3" ]; then ok "$1"
  else nok "$1: $(diff <(echo "$2") <(echo "$3") | head -8 | tr '\n' '|')"; fi
}

for s in U K; do
  mkdir -p "$d/$s/u" "$d/$s/w" "$d/$s/m"
  cp -a "$d/base/l1" "$d/base/l2" "$d/$s/"
done
# uvfs
mp=$d/U/m
env --default-signal=INT "$UVFS" mount -f -t overlay \
  -o "lowerdir=$d/U/l1:$d/U/l2,upperdir=$d/U/u,workdir=$d/U/w" overlay "$mp" 2>"$T/log.ovm" &
MPID[$mp]=$!
for _ in $(seq 100); do is_mounted "$mp" && break; kill -0 "${MPID[$mp]}" 2>/dev/null || break; sleep 0.05; done
is_mounted "$mp" || { nok "overlay-clients mount: $(cat "$T/log.ovm")"; exit 1; }
uout=$(clients "$mp" "$src" 2>&1)
uview=$(dump "$mp")
fusermount3 -u "$mp"; wait "${MPID[$mp]}"; unset "MPID[$mp]"
# the kernel
K=$d/K
kout=$(unshare -m --propagation private bash -c "mount -t overlay overlay -o lowerdir=$K/l1:$K/l2,upperdir=$K/u,workdir=$K/w $K/m || exit 1
  $(declare -f clients dump); clients $K/m $src 2>&1; echo ===; dump $K/m")
kview=${kout#*===$'\n'}
kout=${kout%%$'\n'===*}
check "overlay-clients client output: uvfs = kernel" "$kout" "$uout"
[ "$(echo "$uout" | tail -1)" = "ok 2728|13022 " ] && ok "overlay-clients sqlite3 wal copy-up result" ||
  nok "overlay-clients sqlite3 result '$(echo "$uout" | tail -1)'"
check "overlay-clients merged view: uvfs = kernel" "$kview" "$uview"
# git may freshen (utime, so copy up) or skip a loose object it already has in
# the lower layer depending on timing; the object store's content is checked
# by `git fsck` above, so the upper-layer comparison leaves .git/objects out.
noobj() { grep -v '^\./repo/\.git/objects/'; }
check "overlay-clients upper layer: uvfs-written = kernel-written" "$(dump "$K/u" | noobj)" "$(dump "$d/U/u" | noobj)"
kU=$(unshare -m --propagation private bash -c "rm -rf $d/U/w/*; mount -t overlay overlay -o lowerdir=$d/U/l1:$d/U/l2,upperdir=$d/U/u,workdir=$d/U/w $d/U/m || exit 1
  $(declare -f dump); dump $d/U/m")
check "overlay-clients kernel mounting the uvfs-written upper" "$kview" "$kU"
