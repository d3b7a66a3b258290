#!/bin/bash
# `uvfs boot --host --print --json`: the booted mount table as JSON, the same
# mounts (targets and types, in order) as the mountinfo text of --print.
set -u
D=$(mktemp -d /tmp/uvfs-tbjson-XXXXXX)
trap 'rm -rf "$D"' EXIT
check() { # name expected actual
  if [ "$2" = "$3" ]; then echo "ok $1"; else echo "not ok $1: expected [$2] got [$3]"; fi
}
if [ ! -x /usr/sbin/diod ] || [ "$(id -u)" != 0 ] || ! command -v jq >/dev/null; then
  echo "ok boot-json-skipped # needs root, diod and jq"; exit 0
fi
"$UVFS" boot --host --print > "$D/text" 2>/dev/null
"$UVFS" boot --host --print --json > "$D/json" 2> "$D/err"; rc=$?
check boot-json-rc 0 "$rc"
check boot-json-valid 0 "$(jq -e '.mounts | length > 0' "$D/json" >/dev/null 2>&1; echo $?)"
want=$(awk '{for(i=1;i<=NF;i++) if($i=="-"){print $5, $(i+1)}}' "$D/text" | tr '\n' ';')
got=$(jq -r '.mounts[] | "\(.target) \(.fstype)"' "$D/json" 2>/dev/null | tr '\n' ';')
check boot-json-mounts "$want" "$got"
check boot-json-options "$(awk '$1 != "executable:" {print $6}' "$D/text" | tr '\n' ';')" \
  "$(jq -r '.mounts[] | .options | join(",")' "$D/json" 2>/dev/null | tr '\n' ';')"
check boot-json-exe "$(sed -n 's/^executable: //p' "$D/text")" "$(jq -r .executable "$D/json" 2>/dev/null)"
check boot-json-ids "$(awk '$1 != "executable:" {print $1, $2}' "$D/text" | tr '\n' ';')" \
  "$(jq -r '.mounts[] | "\(.id) \(.parent_id)"' "$D/json" 2>/dev/null | tr '\n' ';')"
check boot-json-teardown "uvfs: teardown: 0 live objects" "$(tail -n1 "$D/err")"
"$UVFS" boot --host --json >/dev/null 2>&1; check boot-json-needs-print 2 $?
