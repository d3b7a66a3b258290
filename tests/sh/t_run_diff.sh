#!/bin/bash
# `uvfs run` against `chroot`, with the host's dynamically linked
# coreutils, findutils, tar, bash and sqlite3 (issue 16's differential
# list): each script runs under `uvfs run --root TREE` and under `chroot`
# of an identical host copy of TREE; stdout+stderr, the exit status and
# the tree the script leaves (listed with sizes, modes, link counts and
# contents' checksums) must match. Documented differences filtered out:
# inode numbers (find -ls's first column, ls -i); the link count of a
# directory the script wrote into and its size, a merged overlay directory under uvfs
# run (nlink 1 and its upper's size, as Linux overlayfs shows one); the order of directory
# entries (the overlay's merge order), which decides which name of a hard
# link du and tar meet first (du -l and tar --hard-dereference), and the
# order of a tar archive's members.
set -u
D=$(mktemp -d /tmp/uvfs-trundiff-XXXXXX)
trap 'rm -rf "$D"' EXIT
check() { # name expected actual: on a mismatch, the first lines of the diff
  if [ "$2" = "$3" ]; then echo "ok $1"
  else echo "not ok $1: chroot (<) and uvfs run (>) differ: $(diff <(echo "$2") <(echo "$3") | head -12 | tr '\n' '|')"; fi
}
if [ "$(id -u)" != 0 ]; then echo "ok run-diff-skipped # the chroot references need root"; exit 0; fi
for b in ls find cat cp mv rm mkdir ln stat du tar sort bash sqlite3 wc head tail md5sum xargs cut sed grep awk readlink tee seq; do
  command -v $b >/dev/null || { echo "ok run-diff-skipped # $b missing"; exit 0; }
done
# tree and references on one host tmpfs: directory sizes and block counts
# are tmpfs's on both sides
mkdir -p "$D/r" && mount -t tmpfs none "$D/r" || exit 1
trap 'umount -l "$D/r"; rm -rf "$D"' EXIT
T=$D/r/tree
mkdir -p "$T/tmp" "$T/w" "$T/data/a/b" "$T/etc"
chmod 1777 "$T/tmp"
bins=""
for b in ls find cat cp mv rm mkdir ln stat du tar sort bash sqlite3 wc head tail md5sum xargs cut sed grep awk readlink tee seq; do
  bins="$bins $(readlink -f "$(command -v $b)")"
done
for f in $bins $(ldd $bins 2>/dev/null | grep -o '/[^ :]*' | sort -u); do
  [ -e "$T$f" ] || { mkdir -p "$T$(dirname "$f")" && cp -L "$f" "$T$f"; }
done
for b in ls find cat cp mv rm mkdir ln stat du tar sort bash sqlite3 wc head tail md5sum xargs cut sed grep awk readlink tee seq; do
  p=$(readlink -f "$(command -v $b)")
  mkdir -p "$T/bin" && [ -e "$T/bin/$b" ] || ln -s "$p" "$T/bin/$b"
done
[ -e "$T/bin/sh" ] || ln -s bash "$T/bin/sh"
cp /etc/ld.so.cache "$T/etc/" 2>/dev/null
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' > "$T/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$T/etc/group"
# data: small files, a hard link, a symlink, a large file to sort
for i in $(seq 1 40); do echo "file $i" > "$T/data/a/f$i"; done
echo deep > "$T/data/a/b/deep"
ln "$T/data/a/f1" "$T/data/a/hard1"
ln -s ../f2 "$T/data/a/b/sym"
seq 1 200000 | sed 's/$/ line/' | sort -R --random-source=/dev/zero > "$T/data/big"
chmod 640 "$T/data/a/f3"

diffrun() { # NAME SCRIPT
  rm -rf "$D/r/ref" && cp -a "$T" "$D/r/ref" && mkdir -p "$D/r/ref/dev" && mknod -m 666 "$D/r/ref/dev/null" c 1 3
  out=$(cd / && env -i PATH=/bin LC_ALL=C "$UVFS" run --root "$T" --cwd /w -- /bin/sh -c "$2" 2>&1); rc=$?
  ref=$(cd / && env -i PATH=/bin LC_ALL=C /usr/sbin/chroot "$D/r/ref" /bin/sh -c "cd /w && $2" 2>&1); rrc=$?
  check "run-diff-$1" "$rrc:$ref" "$rc:$out"
}
# the tree after the script: rebuilt from --dump is not enough (no
# contents), so the script itself lists the tree at its end, both sides
LIST='cd / && find /w /tmp /data -printf "%y %m %n %U:%G %s %p %l\n" | sed "s/^d \([0-7]*\) [0-9]* \([0-9:]*\) [0-9]* /d \1 - \2 - /" | sort && find /w /tmp /data -type f -print0 | sort -z | xargs -0 md5sum'

diffrun ls-la 'ls -la /data/a | tail -n +2 | sed "s/ [A-Z][a-z][a-z] [ 0-9][0-9] [0-9:]* / DATE /"; ls -lR /data | grep -c .'
diffrun find-ls 'find /data /etc -ls | awk "{\$1=\"\"; \$8=\$9=\$10=\"\"; print}" | sort'
diffrun cat 'cat /data/a/f1 /data/a/b/sym /data/a/hard1; cat /nonexistent; echo rc=$?'
diffrun cp-a 'cp -a /data /w/copy && '"$LIST"
diffrun mv 'mkdir -p /w/m && cp /data/a/f5 /w/m/x && mv /w/m/x /w/m/y && mv /w/m /tmp/moved && mv /data/a/f6 /w/ && '"$LIST"
diffrun rm-r 'cp -a /data/a /w/gone && rm -r /w/gone && rm -r /data/a/b && ls /w /data/a | wc -l && rm /nonexistent; echo rc=$? && '"$LIST"
diffrun mkdir-p-ln-s 'mkdir -p /w/x/y/z && ln -s ../../../data/big /w/x/y/z/l && ln -s /nonexistent /w/dangling && readlink /w/x/y/z/l && head -c 10 /w/x/y/z/l | wc -c && cat /w/dangling; echo rc=$? && '"$LIST"
diffrun stat 'stat -c "%s %a %F %h %U %G" /data /data/a /data/a/f1 /data/a/f3 /data/a/b/sym /data/big && stat -L -c "%s %F" /data/a/b/sym'
diffrun du 'du -al /data | sort -k2; du -s /data; du -sh /data/big'
diffrun tar 'tar cf /w/t.tar --hard-dereference -C /data . && tar tvf /w/t.tar | awk "{print \$1, \$2, \$3, \$6}" | sort && mkdir /w/u && tar xpf /w/t.tar -C /w/u && rm /w/t.tar && '"$LIST"
diffrun sh-redirect-pipes 'exec 3> /w/out; echo one >&3; echo two >> /w/out; cat < /w/out | sort -r | tee /w/sorted | wc -l; { echo a; echo b 1>&2; } 2> /w/err > /w/std; cat /w/err /w/std /w/sorted; ls /nonexistent 2>&1 | head -c 30; echo'
diffrun sort-large 'sort -k1,1n /data/big | md5sum; sort /data/big -o /w/sorted && wc -l < /w/sorted && head -3 /w/sorted && sort -c /w/sorted && echo sorted'
diffrun sqlite3 'sqlite3 /w/db "create table t(a integer primary key, b text); begin; $(for i in $(seq 1 300); do printf "insert into t(b) values(\"v%d\"); " $i; done) commit; create index ib on t(b);" && sqlite3 /w/db "select count(*), sum(a), max(b) from t; pragma integrity_check;" && sqlite3 /w/db "update t set b = b || \"x\" where a % 7 = 0; delete from t where a > 250; vacuum; select count(*), group_concat(b) from t where a < 20;" && ls /w'
