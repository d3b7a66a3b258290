#!/bin/bash
# Real clients on the uvfs FUSE mount: cp -a, tar and rsync -aHAX of a tricky
# tree in and out (manifests compared), hard links keep one node, git,
# find/du, sqlite3 (rollback and WAL journals), fio with crc32c verification.
set -u
. "$(dirname "$0")/../fuse/lib.sh"
need_fuse fuse-clients

mp=$T/mnt
uvfs_mount "$mp" allow_other,dev,suid || { nok "fuse-clients: mount"; exit 1; }
M=$mp/tmp
src=$(mktemp -d /dev/shm/uvfs-t-src.XXXXXX)
out=$(mktemp -d /dev/shm/uvfs-t-out.XXXXXX)
trap 'rm -rf "$src" "$out"; cleanup' EXIT

# --- the source tree (kernel tmpfs) ------------------------------------------
mk_tree() {
  local d=$1
  mkdir -p "$d/dir/sub" "$d/odd" "$d/ro"
  printf 'hello\n' >"$d/dir/a.txt"
  head -c 300000 /dev/urandom >"$d/dir/random.bin"
  truncate -s 20M "$d/sparse"; printf 'middle' | dd of="$d/sparse" bs=1 seek=10000000 conv=notrunc 2>/dev/null
  printf 'end' >>"$d/sparse"
  ln "$d/dir/a.txt" "$d/dir/sub/a-hardlink"; ln "$d/dir/a.txt" "$d/hl2"
  ln -s a.txt "$d/dir/rel-link"; ln -s /nonexistent/target "$d/dangling"; ln -s ../dir "$d/odd/dirlink"
  mkfifo "$d/fifo"; mknod "$d/null" c 1 3; mknod "$d/blk" b 7 99
  setfattr -n user.colour -v blue "$d/dir/a.txt"; setfattr -n user.empty "$d/dir/random.bin"
  setfattr -n user.dirattr -v 1 "$d/dir/sub"
  local long; long=$(printf 'L%.0s' $(seq 255)); echo long >"$d/$long"
  echo x >"$d/odd/m0000"; chmod 0000 "$d/odd/m0000"
  echo x >"$d/odd/m4755"; chmod 4755 "$d/odd/m4755"
  echo x >"$d/odd/m2711"; chmod 2711 "$d/odd/m2711"
  echo x >"$d/odd/m0444"; chmod 0444 "$d/odd/m0444"
  mkdir "$d/odd/sticky"; chmod 1777 "$d/odd/sticky"
  mkdir "$d/odd/sgid"; chmod 2750 "$d/odd/sgid"
  echo x >"$d/odd/owned"; chown 1234:5678 "$d/odd/owned"
  echo ro >"$d/ro/file"; chmod 0555 "$d/ro"
  touch -h -d '2001-02-03 04:05:06' "$d/dir/rel-link"
  touch -d '2010-01-01 00:00:00' "$d/dir/a.txt" "$d/sparse"
}
mk_tree "$src"

# manifest: type, mode, owner, size, link target, mtime (s), content hash,
# user xattrs, and hard-link groups, sorted by path
manifest() (
  cd "$1" || exit 1
  find . -mindepth 1 -printf '%y %m %U:%G %l %p\n' | while read -r y m own rest; do
    p=${rest##* }; l=${rest% *}; [ "$l" = "$rest" ] && l=
    line="$y $m $own"
    case $y in
      f) line="$line $(stat -c '%s %Y' "$p") $(md5sum <"$p" | cut -c1-12)";;
      l) line="$line -> $(readlink "$p") $(stat -c %Y "$p")";;
      d) line="$line $(stat -c %Y "$p")";;
      c|b) line="$line $(stat -c '%t:%T' "$p")";;
    esac
    xa=$(getfattr -h -d -m '^user\.' "$p" 2>/dev/null | grep -v '^#' | grep . | sort | tr '\n' ' ')
    echo "$p: $line $xa"
  done | sort
  echo "hardlinks:"
  find . -type f -links +1 -printf '%i %p\n' | sort | awk '{g[$1]=g[$1] " " $2} END {for (i in g) print g[i]}' \
    | while read -r l; do tr ' ' '\n' <<<"$l" | sort | tr '\n' ' '; echo; done | sort
)
# directory mtimes of the destination change while we list it; skip d lines' mtimes
norm() { sed -E 's/^(\S+: d \S+ \S+) [0-9]+/\1/'; }
manifest "$src" | norm >"$T/src.man"
[ "$(grep -c . "$T/src.man")" -ge 25 ] || nok "fuse-clients: source manifest too small"

compare() { # NAME DIR
  manifest "$2" | norm >"$T/$1.man"
  if diff -u "$T/src.man" "$T/$1.man" >"$T/$1.diff"; then ok "fuse-clients $1: manifest matches"
  else nok "fuse-clients $1: manifest differs"; grep '^[-+][^-+]' "$T/$1.diff" | head -20 | sed 's/^/#   /'; fi
}

# cp -a in and out
cp -a "$src" "$M/cp" && compare "cp -a into mount" "$M/cp" || nok "fuse-clients cp -a in failed"
cp -a "$M/cp" "$out/cp" && compare "cp -a out of mount" "$out/cp" || nok "fuse-clients cp -a out failed"
# tar
mkdir "$M/tar" "$out/tar"
tar -C "$src" --xattrs --xattrs-include='user.*' -cf - . | tar -C "$M/tar" --xattrs --xattrs-include='user.*' -xpf - \
  && compare "tar into mount" "$M/tar" || nok "fuse-clients tar in failed"
tar -C "$M/tar" --xattrs --xattrs-include='user.*' -cf - . | tar -C "$out/tar" --xattrs --xattrs-include='user.*' -xpf - \
  && compare "tar out of mount" "$out/tar" || nok "fuse-clients tar out failed"
# rsync -aHAX (ACLs: uvfs has none, rsync must cope)
rsync -aHX "$src/" "$M/rs/" 2>"$T/rs.err" && compare "rsync -aHX into mount" "$M/rs" || nok "fuse-clients rsync in: $(cat "$T/rs.err")"
rsync -aHX "$M/rs/" "$out/rs/" 2>"$T/rs.err" && compare "rsync -aHX out of mount" "$out/rs" || nok "fuse-clients rsync out: $(cat "$T/rs.err")"
out_a=$(rsync -aHAX "$src/" "$M/rsA/" 2>&1); rc=$?
[ $rc = 0 ] || grep -qi 'acl' <<<"$out_a" && ok "fuse-clients rsync -aHAX (rc=$rc)" || nok "fuse-clients rsync -aHAX: rc=$rc $out_a"
# a second rsync finds nothing to do
n=$(rsync -aHXi "$src/" "$M/rs/" | wc -l)
[ "$n" = 0 ] && ok "fuse-clients rsync re-run is a no-op" || nok "fuse-clients rsync re-run changed $n items"

# hard links keep one node: a write through one name is seen at once through the other
exec 8<"$M/cp/hl2"
printf 'changed via other link\n' >"$M/cp/dir/sub/a-hardlink"
got=$(cat "$M/cp/hl2"; cat <&8)
exec 8<&-
[ "$got" = "changed via other link"$'\n'"changed via other link" ] && [ "$(stat -c %i "$M/cp/hl2")" = "$(stat -c %i "$M/cp/dir/a.txt")" ] \
  && ok "fuse-clients hard links share one node" || nok "fuse-clients hard links: got '$got'"

# find / du
a=$(cd "$src" && find . | wc -l); b=$(cd "$M/cp" && find . | wc -l)
[ "$a" = "$b" ] && ok "fuse-clients find counts $b entries" || nok "fuse-clients find: $a vs $b"
du_src=$(du -s --apparent-size -B1 "$src/dir" | cut -f1); du_m=$(du -s --apparent-size -B1 "$M/tar/dir" | cut -f1)
files_src=$(find "$src/dir" -type f -printf '%s\n' | paste -sd+ | bc)
files_m=$(find "$M/tar/dir" -type f -printf '%s\n' | paste -sd+ | bc)
[ "$files_src" = "$files_m" ] && [ "$du_m" -ge "$files_m" ] && du -sh "$M" >/dev/null \
  && ok "fuse-clients du ($du_m bytes)" || nok "fuse-clients du: src $du_src/$files_src mount $du_m/$files_m"

# git
g=$M/repo
# set -e is ignored inside an if condition: every step that could leave
# the mount (a dead server) is guarded, and git may not look above it.
if (export GIT_CEILING_DIRECTORIES="$(dirname "$M")"; mkdir "$g" && cd "$g" || exit 2
    [ "$(pwd)" = "$g" ] || exit 2; git init -q || exit 2; git config user.name t; git config user.email t@t
    for i in $(seq 20); do echo "line $i" >"f$i"; done; mkdir d; echo sub >d/s
    git add -A; git commit -qm one; echo more >>f3; git mv f4 d/f4; git rm -q f5; git commit -qam two
    git status --porcelain | grep -q . && exit 3
    [ "$(git log --oneline | wc -l)" = 2 ] || exit 4
    git fsck --strict --no-progress 2>&1 | grep -v '^Checking' | grep -q . && exit 5
    git gc -q; git fsck --no-progress 2>/dev/null; git clone -q "$g" "$g.clone"; cmp "$g/f3" "$g.clone/f3") >"$T/git.log" 2>&1; then
  ok "fuse-clients git init/add/commit/mv/rm/status/log/fsck/gc/clone"
else nok "fuse-clients git: rc=$? $(tail -5 "$T/git.log")"; fi

# sqlite3: rollback journal and WAL
for mode in delete wal; do
  db=$M/db-$mode.sqlite
  r=$(sqlite3 "$db" "PRAGMA journal_mode=$mode;" \
      "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);" \
      "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x<5000) INSERT INTO t(v) SELECT hex(randomblob(40)) FROM c;" \
      "BEGIN; DELETE FROM t WHERE id%3=0; ROLLBACK;" \
      "BEGIN; UPDATE t SET v=v||'x' WHERE id%7=0; COMMIT;" \
      "CREATE INDEX iv ON t(v);" "PRAGMA integrity_check;" "SELECT count(*) FROM t;" 2>&1)
  r2=$(sqlite3 "$db" "PRAGMA integrity_check;" "SELECT count(*) FROM t WHERE v LIKE '%x';" 2>&1)
  if [ "$(echo $r)" = "$mode ok 5000" ] && [ "$(echo $r2)" = "ok 714" ]; then ok "fuse-clients sqlite3 $mode journal"
  else nok "fuse-clients sqlite3 $mode: '$(echo $r)' / '$(echo $r2)'"; fi
done

# fio with verification
if fio --name=verify --directory="$M" --size=8m --bs=4k --rw=randwrite --ioengine=psync --numjobs=2 \
       --verify=crc32c --verify_fatal=1 --do_verify=1 --verify_state_save=0 --group_reporting >"$T/fio.log" 2>&1 \
   && grep -q 'err= 0' "$T/fio.log"; then ok "fuse-clients fio randwrite --verify=crc32c"
else nok "fuse-clients fio: $(grep -iE 'err|verify' "$T/fio.log" | head -5)"; fi
if fio --name=mix --directory="$M" --size=4m --bs=16k --rw=randrw --ioengine=psync --numjobs=2 --time_based --runtime=2 \
       --verify=crc32c --verify_state_save=0 --group_reporting >"$T/fio2.log" 2>&1 && grep -q 'err= 0' "$T/fio2.log"; then
  ok "fuse-clients fio randrw 2 s"
else nok "fuse-clients fio randrw: $(grep -iE 'err|verify' "$T/fio2.log" | head -5)"; fi

rm -rf "$M"/* 2>"$T/rm.err" && [ -z "$(ls -A "$M")" ] && ok "fuse-clients rm -rf everything" || nok "fuse-clients rm -rf: $(head -3 "$T/rm.err")"
uvfs_umount "$mp" && ok "fuse-clients unmount, 0 live objects" || nok "fuse-clients unmount: $WHY"
