#!/bin/bash
# `uvfs mount -t 9p HOSTDIR MNT`: a host directory served by a private diod
# (started by uvfs, reaped at unmount), exported through FUSE, used with
# real tools (cp -a, tar, diff -r against the host directory), in
# cache=fscache and cache=remote_revalidating; and the in-process
# `uvfs ls|cat -t 9p HOSTDIR`.
set -u
. "$(dirname "$0")/../fuse/lib.sh"
need_fuse gofer

src=$(mktemp -d /tmp/uvfs-t-gsrc.XXXXXX)
trap 'rm -rf "$src"; cleanup' EXIT
mkdir -p "$src/dir/sub" "$src/empty"
printf 'hello\n' >"$src/dir/a.txt"
head -c 300000 /dev/urandom >"$src/dir/random.bin"
ln -s a.txt "$src/dir/rel-link"
echo x >"$src/dir/sub/m0600"; chmod 0600 "$src/dir/sub/m0600"
touch -d '2010-01-01 00:00:00' "$src/dir/a.txt"

# gmount MP HOSTDIR OPTS: uvfs mount -f -t 9p in the background.
gmount() {
  local mp=$1 dir=$2 opts=$3 log="$T/log.$(basename "$1")"
  mkdir -p "$mp"
  env --default-signal=INT "$UVFS" mount -f -t 9p -o "$opts" "$dir" "$mp" 2>"$log" &
  MPID[$mp]=$!
  for _ in $(seq 100); do
    is_mounted "$mp" && return 0
    kill -0 "${MPID[$mp]}" 2>/dev/null || break
    sleep 0.05
  done
  echo "mount failed: $(cat "$log")" >&2
  return 1
}

for cache in fscache remote_revalidating; do
  host=$(mktemp -d /tmp/uvfs-t-ghost.XXXXXX)
  mp=$T/mnt-$cache
  if ! gmount "$mp" "$host" "cache=$cache"; then nok "gofer-$cache: mount"; rm -rf "$host"; continue; fi
  dpid=$(pgrep -P "${MPID[$mp]}" -x diod)
  [ -n "$dpid" ] && ok "gofer-$cache-diod-is-child" || nok "gofer-$cache-diod-is-child: no diod under ${MPID[$mp]}"

  if cp -a "$src/dir" "$mp/copy" 2>"$T/err" && diff -r "$src/dir" "$host/copy" >"$T/diff" 2>&1; then
    ok "gofer-$cache-cp-a"
  else nok "gofer-$cache-cp-a: $(head -3 "$T/err" "$T/diff")"; fi
  if [ "$(stat -c %Y "$host/copy/a.txt")" = "$(stat -c %Y "$src/dir/a.txt")" ] &&
     [ "$(stat -c %a "$host/copy/sub/m0600")" = 600 ]; then ok "gofer-$cache-cp-a-attrs"
  else nok "gofer-$cache-cp-a-attrs: mtime or mode not kept"; fi

  if (cd "$src" && tar cf - dir) | (cd "$mp" && tar xf -) 2>"$T/err" && diff -r "$src/dir" "$host/dir" >"$T/diff" 2>&1
  then ok "gofer-$cache-tar-in"; else nok "gofer-$cache-tar-in: $(head -3 "$T/err" "$T/diff")"; fi
  mkdir "$T/out-$cache"
  if (cd "$mp" && tar cf - dir) | (cd "$T/out-$cache" && tar xf -) 2>"$T/err" &&
     diff -r "$src/dir" "$T/out-$cache/dir" >"$T/diff" 2>&1
  then ok "gofer-$cache-tar-out"; else nok "gofer-$cache-tar-out: $(head -3 "$T/err" "$T/diff")"; fi
  if diff -r "$host" "$mp" >"$T/diff" 2>&1; then ok "gofer-$cache-diff-r"
  else nok "gofer-$cache-diff-r: $(head -3 "$T/diff")"; fi

  mv "$mp/copy" "$mp/moved" && rm -r "$mp/dir" 2>"$T/err"
  if [ -f "$host/moved/sub/m0600" ] && [ ! -e "$host/dir" ] && [ "$(cat "$mp/moved/a.txt")" = hello ]
  then ok "gofer-$cache-mv-rm"; else nok "gofer-$cache-mv-rm: $(cat "$T/err")"; fi

  if [ "$cache" = remote_revalidating ]; then
    echo "from the host" >"$host/new-on-host"
    [ "$(cat "$mp/new-on-host" 2>&1)" = "from the host" ] && ok "gofer-reval-host-create" ||
      nok "gofer-reval-host-create: not seen"
  fi

  fusermount3 -u "$mp"; wait "${MPID[$mp]}"; rc=$?; unset "MPID[$mp]"
  log="$T/log.$(basename "$mp")"
  if [ $rc = 0 ] && grep -q "0 live objects" "$log"; then ok "gofer-$cache-umount"
  else nok "gofer-$cache-umount: rc $rc: $(tail -2 "$log")"; fi
  if [ -n "$dpid" ] && kill -0 "$dpid" 2>/dev/null; then nok "gofer-$cache-diod-reaped: $dpid still there"
  else ok "gofer-$cache-diod-reaped"; fi
  rm -rf "$host"
done

# In process, no FUSE.
out=$("$UVFS" cat -t 9p "$src" /dir/a.txt 2>&1)
[ "$out" = hello ] && ok gofer-cli-cat || nok "gofer-cli-cat: $out"
out=$("$UVFS" ls -t 9p -o cache=fscache "$src" /dir 2>&1 | awk '{print $NF}' | tr '\n' ' ')
case "$out" in *a.txt*random.bin*sub*) ok gofer-cli-ls ;; *) nok "gofer-cli-ls: $out" ;; esac
"$UVFS" ls -t 9p -o bogus=1 "$src" / >/dev/null 2>&1; [ $? = 1 ] && ok gofer-cli-bad-option || nok gofer-cli-bad-option
"$UVFS" ls -t nosuchfs x / >/dev/null 2>&1; [ $? = 1 ] && ok gofer-cli-bad-type || nok gofer-cli-bad-type
exit 0
