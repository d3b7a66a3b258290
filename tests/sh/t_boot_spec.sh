#!/bin/bash
# `uvfs spec [--rootless]`: the config.json equals `runc spec`'s (and
# `runc spec --rootless`'s) as JSON values; an existing file is kept.
set -u
D=$(mktemp -d /tmp/uvfs-tspec-XXXXXX)
trap 'rm -rf "$D"' EXIT
check() { # name expected actual
  if [ "$2" = "$3" ]; then echo "ok $1"; else echo "not ok $1: expected [$2] got [$3]"; fi
}
if ! command -v runc >/dev/null || ! command -v jq >/dev/null; then
  echo "ok spec-skipped # runc or jq missing"; exit 0
fi
for v in "" --rootless; do
  mkdir -p "$D/u$v" "$D/r$v"
  (cd "$D/r$v" && runc spec $v)
  "$UVFS" spec $v --bundle "$D/u$v"; rc=$?
  check "spec$v-rc" 0 "$rc"
  if cmp -s <(jq -S . "$D/u$v/config.json") <(jq -S . "$D/r$v/config.json"); then
    echo "ok spec$v-equals-runc"
  else
    echo "not ok spec$v-equals-runc: $(diff <(jq -S . "$D/u$v/config.json") <(jq -S . "$D/r$v/config.json") | head -5 | tr '\n' ' ')"
  fi
done
echo keep > "$D/u/config.json"
out=$("$UVFS" spec --bundle "$D/u" 2>&1); rc=$?
check spec-exists "1:uvfs: spec: $D/u/config.json: File exists (remove it first)" "$rc:$out"
check spec-exists-kept keep "$(cat "$D/u/config.json")"
# Default directory: the current one.
(cd "$D" && "$UVFS" spec); check spec-cwd 1.0.2-dev "$(jq -r .ociVersion "$D/config.json")"
"$UVFS" spec extra >/dev/null 2>&1; check spec-usage 2 $?
