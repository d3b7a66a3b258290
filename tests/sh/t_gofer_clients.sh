#!/bin/bash
# Real clients on `uvfs mount -t 9p -o cache=$GOFER_CACHE HOSTDIR MNT`
# (default remote_revalidating; t_gofer_clients_fscache.sh runs it with
# fscache, t_gofer_clients_writethrough.sh with fscache_writethrough;
# GOFER_OPTS adds mount options; through a private diod and FUSE), as
# t_fuse_clients.sh runs them on tmpfs: rsync -aHX in and out (manifests
# compared), git init/add/commit/log/fsck, sqlite3 with a WAL journal, fio
# with crc32c verification. After each, the *host* directory is checked
# with the host's own tools: it must hold what the clients wrote.
set -u
. "$(dirname "$0")/../fuse/lib.sh"
cache=${GOFER_CACHE:-remote_revalidating}
need_fuse gofer-clients
# Every test name says the cache mode (the two runs are separate scripts).
ok() { echo "ok [$cache] $*"; }
nok() { echo "not ok [$cache] $*"; }

src=$(mktemp -d /tmp/uvfs-t-gcsrc.XXXXXX)
host=$(mktemp -d /tmp/uvfs-t-gchost.XXXXXX)
out=$(mktemp -d /tmp/uvfs-t-gcout.XXXXXX)
chmod 755 "$host"
trap 'cleanup; rm -rf "$src" "$host" "$out"' EXIT
mp=$T/mnt

mkdir -p "$mp"
env --default-signal=INT "$UVFS" mount -f -t 9p -o "cache=$cache${GOFER_OPTS:+,$GOFER_OPTS}" "$host" "$mp" 2>"$T/log.mnt" &
MPID[$mp]=$!
for _ in $(seq 100); do is_mounted "$mp" && break; kill -0 "${MPID[$mp]}" 2>/dev/null || break; sleep 0.05; done
is_mounted "$mp" || { nok "gofer-clients mount: $(cat "$T/log.mnt")"; exit 1; }
dpid=$(pgrep -P "${MPID[$mp]}" -x diod)

# --- the source tree ---------------------------------------------------------
mkdir -p "$src/dir/sub" "$src/odd" "$src/empty"
printf 'hello\n' >"$src/dir/a.txt"
head -c 300000 /dev/urandom >"$src/dir/random.bin"
truncate -s 5M "$src/sparse"; printf 'middle' | dd of="$src/sparse" bs=1 seek=3000000 conv=notrunc 2>/dev/null
ln "$src/dir/a.txt" "$src/dir/sub/a-hardlink"; ln "$src/dir/a.txt" "$src/hl2"
ln -s a.txt "$src/dir/rel-link"; ln -s /nonexistent/target "$src/dangling"; ln -s ../dir "$src/odd/dirlink"
mkfifo "$src/fifo"
setfattr -n user.colour -v blue "$src/dir/a.txt"; setfattr -n user.dirattr -v 1 "$src/dir/sub"
long=$(printf 'L%.0s' $(seq 255)); echo long >"$src/$long"
echo x >"$src/odd/m0600"; chmod 0600 "$src/odd/m0600"
echo x >"$src/odd/m4755"; chmod 4755 "$src/odd/m4755"
mkdir "$src/odd/sticky"; chmod 1777 "$src/odd/sticky"
echo x >"$src/odd/owned"; chown 1234:5678 "$src/odd/owned"
touch -h -d '2001-02-03 04:05:06' "$src/dir/rel-link"
touch -d '2010-01-01 00:00:00' "$src/dir/a.txt" "$src/sparse"

# manifest DIR: type, mode, owner, size, mtime, content hash, link target,
# user xattrs and hard-link groups, sorted (directory mtimes left out:
# listing a destination changes them).
manifest() (
  cd "$1" || exit 1
  find . -mindepth 1 -printf '%y %m %U:%G %p\n' | while read -r y m own p; do
    line="$y $m $own"
    case $y in
      f) line="$line $(stat -c '%s %Y' "$p") $(md5sum <"$p" | cut -c1-12)";;
      l) line="$line -> $(readlink "$p") $(stat -c %Y "$p")";;
    esac
    xa=$(getfattr -h -d -m '^user\.' "$p" 2>/dev/null | grep -v '^#' | grep . | sort | tr '\n' ' ')
    echo "$p: $line $xa"
  done | sort
  echo "hardlinks:"
  find . -type f -links +1 -printf '%i %p\n' | sort | awk '{g[$1]=g[$1] " " $2} END {for (i in g) print g[i]}' \
    | while read -r l; do tr ' ' '\n' <<<"$l" | sort | tr '\n' ' '; echo; done | sort
)
manifest "$src" >"$T/src.man"
compare() { # NAME DIR
  manifest "$2" >"$T/$1.man"
  if diff -u "$T/src.man" "$T/$1.man" >"$T/$1.diff"; then ok "gofer-clients $1"
  else nok "gofer-clients $1: manifest differs"; grep '^[-+][^-+]' "$T/$1.diff" | head -10 | sed 's/^/#   /'; fi
}

# --- rsync -aHX in and out; the host directory holds the tree ----------------
if rsync -aHX "$src/" "$mp/rs/" 2>"$T/rs.err"; then
  compare rsync-in-mount-view "$mp/rs"
  compare rsync-in-host-dir "$host/rs"
else nok "gofer-clients rsync in: $(head -3 "$T/rs.err")"; fi
if rsync -aHX "$mp/rs/" "$out/rs/" 2>"$T/rs.err"; then compare rsync-out "$out/rs"
else nok "gofer-clients rsync out: $(head -3 "$T/rs.err")"; fi
n=$(rsync -aHXi "$src/" "$mp/rs/" 2>&1 | wc -l)
[ "$n" = 0 ] && ok "gofer-clients rsync re-run is a no-op" || nok "gofer-clients rsync re-run changed $n items"

# --- git; then the host's own git reads the repository -----------------------
g=$mp/repo
if (export GIT_CEILING_DIRECTORIES="$mp"; mkdir "$g" && cd "$g" || exit 2
    [ "$(pwd)" = "$g" ] || exit 2; git init -q || exit 2; git config user.name t; git config user.email t@t
    for i in $(seq 20); do echo "line $i" >"f$i"; done; mkdir d; echo sub >d/s
    git add -A; git commit -qm one; echo more >>f3; git mv f4 d/f4; git rm -q f5; git commit -qam two
    git status --porcelain | grep -q . && exit 3
    [ "$(git log --oneline | wc -l)" = 2 ] || exit 4
    git fsck --strict --no-progress 2>&1 | grep -v '^Checking' | grep -q . && exit 5
    exit 0) >"$T/git.log" 2>&1; then
  ok "gofer-clients git init/add/commit/mv/rm/status/log/fsck"
else nok "gofer-clients git: rc=$? $(tail -5 "$T/git.log")"; fi
hl=$(cd "$host/repo" 2>/dev/null && git -c safe.directory='*' log --format=%s 2>&1 | tr '\n' ' ')
hf=$(cd "$host/repo" 2>/dev/null && git -c safe.directory='*' fsck --strict --no-progress 2>&1 | grep -v '^Checking')
if [ "$hl" = "two one " ] && [ -z "$hf" ] && [ "$(cat "$host/repo/f3")" = "line 3"$'\n'"more" ] &&
   [ -f "$host/repo/d/f4" ] && [ ! -e "$host/repo/f5" ]; then ok "gofer-clients git repository on the host"
else nok "gofer-clients git on the host: log '$hl' fsck '$hf'"; fi

# --- sqlite3 with WAL; the host's sqlite3 reads the database ------------------
db=$mp/db-wal.sqlite
r=$(sqlite3 "$db" "PRAGMA journal_mode=wal;" \
    "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);" \
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x<5000) INSERT INTO t(v) SELECT hex(randomblob(40)) FROM c;" \
    "BEGIN; DELETE FROM t WHERE id%3=0; ROLLBACK;" \
    "BEGIN; UPDATE t SET v=v||'x' WHERE id%7=0; COMMIT;" \
    "CREATE INDEX iv ON t(v);" "PRAGMA integrity_check;" "SELECT count(*) FROM t;" 2>&1)
r2=$(sqlite3 "$db" "PRAGMA integrity_check;" "SELECT count(*) FROM t WHERE v LIKE '%x';" 2>&1)
if [ "$(echo $r)" = "wal ok 5000" ] && [ "$(echo $r2)" = "ok 714" ]; then ok "gofer-clients sqlite3 wal journal"
else nok "gofer-clients sqlite3 wal: '$(echo $r)' / '$(echo $r2)'"; fi
r3=$(sqlite3 "$host/db-wal.sqlite" "PRAGMA journal_mode;" "PRAGMA integrity_check;" "SELECT count(*) FROM t WHERE v LIKE '%x';" 2>&1)
[ "$(echo $r3)" = "wal ok 714" ] && ok "gofer-clients sqlite3 database on the host" ||
  nok "gofer-clients sqlite3 on the host: '$(echo $r3)'"

# --- fio with verification (short); the host has the job files ---------------
if fio --name=verify --directory="$mp" --size=4m --bs=4k --rw=randwrite --ioengine=psync --numjobs=2 \
       --verify=crc32c --verify_fatal=1 --do_verify=1 --verify_state_save=0 --group_reporting >"$T/fio.log" 2>&1 \
   && grep -q 'err= 0' "$T/fio.log"; then ok "gofer-clients fio randwrite --verify=crc32c"
else nok "gofer-clients fio: $(grep -iE 'err|verify' "$T/fio.log" | head -5)"; fi
sizes=$(stat -c %s "$host"/verify.*.0 2>&1 | tr '\n' ' ')
[ "$sizes" = "4194304 4194304 " ] && ok "gofer-clients fio files on the host" || nok "gofer-clients fio on the host: $sizes"
# the host's view of a job file equals the mount's
cmp -s "$host/verify.0.0" "$mp/verify.0.0" && ok "gofer-clients fio data equal on host and mount" ||
  nok "gofer-clients fio data differs between host and mount"

# --- everything removed through the mount is gone on the host; unmount --------
rm -rf "$mp"/* 2>"$T/rm.err"
[ -z "$(ls -A "$host")" ] && ok "gofer-clients rm -rf empties the host dir" ||
  nok "gofer-clients rm -rf: host has $(ls -A "$host" | head -3 | tr '\n' ' ') $(head -2 "$T/rm.err")"
if uvfs_umount "$mp"; then ok "gofer-clients unmount, 0 live objects"; else nok "gofer-clients unmount: $WHY"; fi
if [ -n "$dpid" ] && kill -0 "$dpid" 2>/dev/null; then nok "gofer-clients diod reaped: $dpid still there"
else ok "gofer-clients diod reaped"; fi
exit 0
