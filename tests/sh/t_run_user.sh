#!/bin/bash
# `uvfs run --bundle`: the program runs with the bundle's process.user
# (uid, gid, additionalGids, umask), as runc runs it: files it creates in
# the tree are its own. A supervisor that is not root cannot take other
# ids: a clear error (EPERM), no program run.
set -u
D=$(mktemp -d /tmp/uvfs-truser-XXXXXX)
trap 'rm -rf "$D"' EXIT
check() { # name expected actual
  if [ "$2" = "$3" ]; then echo "ok $1"; else echo "not ok $1: expected [$2] got [$3]"; fi
}
if [ ! -x /bin/busybox ]; then echo "ok run-user-skipped # busybox-static missing"; exit 0; fi
if [ "$(id -u)" != 0 ]; then echo "ok run-user-skipped # needs root"; exit 0; fi
B=$D/b
mkdir -p "$B/rootfs/bin" "$B/rootfs/w" && cp /bin/busybox "$B/rootfs/bin/busybox"
for a in sh id touch stat cat grep; do ln -s busybox "$B/rootfs/bin/$a"; done
chmod 1777 "$B/rootfs/w"
"$UVFS" spec --bundle "$B" >/dev/null 2>&1 || { echo "not ok run-user: uvfs spec failed"; exit 0; }
# runc spec's user is 0:0; make it 1000:1000 with additionalGids [5] and
# umask 027, a writable root, and a program that shows what it is
python3 - "$B/config.json" <<'PYEOF'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["process"]["user"] = {"uid": 1000, "gid": 1000, "additionalGids": [5], "umask": 23}
c["process"]["args"] = ["sh", "-c", "id; touch /w/f; stat -c '%u:%g %a' /w/f; cat /proc/self/status | grep -E '^(Uid|Gid|Groups):'"]
c["process"]["cwd"] = "/w"
c["root"]["readonly"] = False
json.dump(c, open(p, "w"), indent=1)
PYEOF
out=$("$UVFS" run --bundle "$B" --dump "$D/dump" 2>&1 | grep -v "^uvfs: warn: ")
check run-user-id "uid=1000 gid=1000 groups=5" "$(echo "$out" | grep '^uid=')"
check run-user-file "1000:1000 640" "$(echo "$out" | grep '^1000:')"
check run-user-status "yes" "$(echo "$out" | grep -q '^Uid:[[:space:]]*1000[[:space:]]1000[[:space:]]1000[[:space:]]1000$' && echo "$out" | grep -q '^Groups:[[:space:]]*5 *$' && echo yes || echo "$out")"
check run-user-dump "f 0640 0 /w/f" "$(grep ' /w/f$' "$D/dump")"
# a program given on the command line runs as process.user too
check run-user-argv "1000:1000" "$("$UVFS" run --bundle "$B" -- /bin/sh -c 'echo $(id -u):$(id -g)' 2>&1 | grep -v '^uvfs: warn: ')"
# not root: other ids are refused before anything runs
chmod 755 "$D"
out=$(runuser -u nobody -- "$UVFS" run --bundle "$B" -- /bin/sh -c 'echo ran' 2>&1); rc=$?
check run-user-nonroot "yes" "$([ $rc = 1 ] && ! echo "$out" | grep -q '^ran' && echo "$out" | grep -q 'Operation not permitted' && echo yes || echo "$rc:$out")"
# a rootless bundle (uidMappings: container root is the user who runs it)
# runs as that user, as runc --rootless would show it on the host
python3 - "$B/config.json" <<'PYEOF'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["process"]["user"] = {"uid": 0, "gid": 0}
c["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 65534, "size": 1}]
c["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 65534, "size": 1}]
json.dump(c, open(p, "w"), indent=1)
PYEOF
chmod -R a+rX "$B"
check run-user-rootless "65534:65534" "$(runuser -u nobody -- "$UVFS" run --bundle "$B" -- /bin/sh -c 'echo $(id -u):$(id -g)' 2>&1 | grep -v '^uvfs: warn: ')"
