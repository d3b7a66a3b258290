#!/bin/bash
# uvfs mount: sshfs/bindfs argument order, TYPE:SOURCE, the mount.fuse3
# helper form (mount -t fuse.uvfs, an fstab line via mount -T), option
# checking, exit status of a background mount that fails after the fork,
# and a background mount's log (-o log=FILE, syslog).
set -u
: "${UVFS:=build/uvfs}"
UVFS=$(readlink -f "$UVFS")
ok() { echo "ok $*"; }
nok() { echo "not ok $*"; }
if [ "$(id -u)" != 0 ] || [ ! -w /dev/fuse ] || ! command -v fusermount3 >/dev/null; then
  nok "cli-mount: needs root, /dev/fuse and fusermount3"; exit 1; fi
T=$(mktemp -d /tmp/uvfs-t-cli.XXXXXX)
BIN=$T/bin; mkdir -p "$BIN" "$T/m" "$T/src"; ln -s "$UVFS" "$BIN/uvfs"
echo from-host >"$T/src/f"
export PATH=$BIN:$PATH
mounted() { grep -q " $1 fuse" /proc/mounts; }
umnt() { fusermount3 -u "$1" 2>/dev/null || fusermount3 -u -z "$1" 2>/dev/null; for _ in $(seq 40); do mounted "$1" || break; sleep 0.05; done; }
cleanup() { umnt "$T/m"; sleep 0.2; rm -rf "$T"; }
trap cleanup EXIT

# SOURCE MOUNTPOINT, background: returns once served
out=$(uvfs mount default "$T/m" 2>&1); rc=$?
[ $rc = 0 ] && mounted "$T/m" && [ "$(cat "$T/m/etc/hostname")" = uvfs ] \
  && ok "cli-mount default MNT" || nok "cli-mount default MNT: rc=$rc: $out"
umnt "$T/m"
out=$(uvfs mount "$T/src" "$T/m" -o ro 2>&1); rc=$?
[ $rc = 0 ] && [ "$(cat "$T/m/f" 2>&1)" = from-host ] && ok "cli-mount DIR MNT (9p gofer)" || nok "cli-mount DIR MNT: rc=$rc: $out"
umnt "$T/m"
out=$(uvfs mount tmpfs:none "$T/m" -o size=1m 2>&1); rc=$?
[ $rc = 0 ] && echo x >"$T/m/y" && [ "$(cat "$T/m/y")" = x ] && ok "cli-mount TYPE:SOURCE with fs options" \
  || nok "cli-mount tmpfs:none: rc=$rc: $out"
umnt "$T/m"

# errors name the right thing
out=$(uvfs mount "$T/bundle" "$T/nomnt" 2>&1); rc=$?
[ $rc = 1 ] && grep -q "source $T/bundle" <<<"$out" && ! grep -q nomnt <<<"$out" \
  && ok "cli-mount names the missing source" || nok "cli-mount missing source: rc=$rc: $out"
out=$(uvfs mount default "$T/nomnt" 2>&1); rc=$?
[ $rc = 1 ] && grep -q "$T/nomnt" <<<"$out" && ok "cli-mount names the missing mount point" || nok "cli-mount missing mp: rc=$rc: $out"
for o in bogus auto_cache idmap=b:0:1000:1; do
  out=$(uvfs mount -o "$o" default "$T/m" 2>&1); rc=$?
  [ $rc = 2 ] && grep -q "'$o'" <<<"$out" && ! mounted "$T/m" && ok "cli-mount -o $o refused by name" \
    || nok "cli-mount -o $o: rc=$rc: $out"
done
out=$(uvfs mount tmpfs:none "$T/m" -o nosuchfsopt=1 2>&1); rc=$?
[ $rc = 1 ] && ! mounted "$T/m" && ok "cli-mount unknown fs option: exit 1, not mounted" || nok "cli-mount fs option: rc=$rc: $out"
umnt "$T/m"
# UVFS_LOG=info/debug: real messages; the background part in the log file
out=$(UVFS_LOG=debug uvfs mount "$T/src" "$T/m" -o ro,nofail,log="$T/info.log" 2>&1); rc=$?
umnt "$T/m"
for _ in $(seq 40); do grep -q "unmounted, exit status" "$T/info.log" 2>/dev/null && break; sleep 0.05; done
[ $rc = 0 ] && grep -q 'debug: mount: option nofail: ignored' <<<"$out" && grep -q 'info: 9p: started diod for' <<<"$out" \
  && grep -q 'info: mount: .* unmounted, exit status 0' "$T/info.log" && grep -q 'teardown: 0 live objects' "$T/info.log" \
  && ok "cli-mount UVFS_LOG=debug messages, background ones in log=FILE" || nok "cli-mount UVFS_LOG: rc=$rc: $out // $(cat "$T/info.log" 2>&1)"

# -o max_read=N (libfuse wants it in init() too) mounts and is served; a
# background mount failing after the fork is not exit 0 (a bad fs option, above)
out=$(uvfs mount -o max_read=4096 default "$T/m" 2>&1); rc=$?
[ $rc = 0 ] && mounted "$T/m" && [ "$(dd if="$T/m/etc/os-release" bs=64k 2>/dev/null | wc -c)" -gt 0 ] \
  && ok "cli-mount -o max_read=4096" || nok "cli-mount -o max_read=4096: rc=$rc: $out"
umnt "$T/m"
# -o max_threads=N (the export's worker limit) is taken, not refused
out=$(uvfs mount -o max_threads=2 default "$T/m" 2>&1); rc=$?
[ $rc = 0 ] && mounted "$T/m" && [ -f "$T/m/usr/bin/hello" ] \
  && ok "cli-mount -o max_threads=2" || nok "cli-mount -o max_threads=2: rc=$rc: $out"
umnt "$T/m"

# mount.fuse3 form and fstab. mount.fuse3 runs `uvfs SOURCE MNT -o OPTS` with
# PATH=/usr/local/sbin:...: in a private mount namespace /usr/local/sbin is
# a directory holding our uvfs, as `make install` would put it in PATH.
out=$(mount -t fuse "$UVFS#default" "$T/m" -o allow_other 2>&1); rc=$?
[ $rc = 0 ] && mounted "$T/m" && [ -f "$T/m/usr/bin/hello" ] && ok "cli-mount mount -t fuse PROG#SOURCE" || nok "cli-mount -t fuse PROG#: rc=$rc: $out"
umount "$T/m" 2>/dev/null || umnt "$T/m"
printf 'default %s fuse.uvfs defaults,nofail,log=%s 0 0\n%s %s/x fuse.uvfs ro,noauto 0 0\n' "$T/m" "$T/fstab.log" "$T/src" "$T" >"$T/fstab"
cat >"$T/ns.sh" <<NS
mount --make-rprivate / && mount --bind "$BIN" /usr/local/sbin || exit 9
mount -t fuse.uvfs default "$T/m" -o allow_other || exit 1
[ -f "$T/m/usr/bin/hello" ] || exit 2
umount "$T/m" || exit 3
mount -T "$T/fstab" "$T/m" || exit 4
[ "\$(cat "$T/m/etc/hostname")" = uvfs ] || exit 5
umount "$T/m" || exit 6
NS
out=$(unshare -m bash "$T/ns.sh" 2>&1); rc=$?
[ $rc = 0 ] && ok "cli-mount mount -t fuse.uvfs and an fstab line (mount -T)" || nok "cli-mount fuse.uvfs/fstab: step $rc: $out"
for _ in $(seq 40); do grep -q teardown "$T/fstab.log" 2>/dev/null && break; sleep 0.05; done
grep -q '^uvfs: teardown: 0 live objects$' "$T/fstab.log" && ok "cli-mount -o log=FILE gets the teardown report" \
  || nok "cli-mount log=FILE: $(cat "$T/fstab.log" 2>&1)"

# syslog: a private /dev whose /dev/log is our listener
if command -v python3 >/dev/null && command -v unshare >/dev/null; then
  cat >"$T/syslogd.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1])
open(sys.argv[1] + ".ready", "w").close()
with open(sys.argv[2], "a") as out:
    while True:
        out.write(s.recv(4096).decode(errors="replace") + "\n"); out.flush()
PY
  python3 "$T/syslogd.py" "$T/log.sock" "$T/syslog.txt" & SPID=$!
  for _ in $(seq 40); do [ -e "$T/log.sock.ready" ] && break; sleep 0.05; done
  unshare -m bash -c "mount -t tmpfs none /dev && mknod /dev/fuse c 10 229 && mknod /dev/null c 1 3 && chmod 666 /dev/fuse /dev/null &&
    ln -s '$T/log.sock' /dev/log && uvfs mount default '$T/m' && cat '$T/m/etc/hostname' >/dev/null && fusermount3 -u '$T/m'" 2>"$T/unshare.err"
  for _ in $(seq 60); do grep -q teardown "$T/syslog.txt" 2>/dev/null && break; sleep 0.05; done
  kill $SPID 2>/dev/null; wait $SPID 2>/dev/null
  grep -q 'uvfs\[[0-9]*\]: uvfs: teardown: 0 live objects' "$T/syslog.txt" && ok "cli-mount background teardown report in syslog" \
    || nok "cli-mount syslog: $(cat "$T/syslog.txt" "$T/unshare.err" 2>&1)"
else nok "cli-mount syslog: needs python3 and unshare"; fi
exit 0
