#!/bin/bash
# The man page renders without warnings and documents every command, the
# exit codes and UVFS_LOG; the bash completion completes every command and
# subcommand. Both are installed by make install (t_cli_install.sh).
set -u
cd "$(dirname "$0")/../.."
: "${UVFS:=build/uvfs}"
ok() { echo "ok $*"; }
nok() { echo "not ok $*"; }
cmds=$("$UVFS" --help | sed -n '/^commands:/,/^$/p' | awk 'NF && $1 != "commands:" {print $1}')
[ -n "$cmds" ] || { nok "cli-man: no commands in uvfs --help"; exit 0; }
if [ -f doc/uvfs.1 ] && command -v groff >/dev/null; then
  err=$(groff -man -Tutf8 -ww doc/uvfs.1 2>&1 >/dev/null)
  [ -z "$err" ] && ok "cli-man renders without warnings" || nok "cli-man groff: $err"
  txt=$(MANWIDTH=200 man -l doc/uvfs.1 2>/dev/null | col -b)
  miss=""
  for c in $cmds; do grep -q "^ *$c\b" <<<"$txt" || miss="$miss $c"; done
  [ -z "$miss" ] && ok "cli-man documents every command" || nok "cli-man missing:$miss"
  grep -q 'EXIT STATUS' <<<"$txt" && grep -q 'UVFS_LOG' <<<"$txt" && grep -q 'fuse.uvfs' <<<"$txt" \
    && ok "cli-man exit status, UVFS_LOG, fstab" || nok "cli-man sections"
else nok "cli-man: doc/uvfs.1 or groff missing"; fi
if [ -f cli/uvfs.bash-completion ]; then
  comp() { # words... -> completions of the last word
    bash -c '. cli/uvfs.bash-completion; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _uvfs; printf "%s\n" "${COMPREPLY[@]}"' _ "$@"
  }
  got=$(comp uvfs "")
  miss=""; for c in $cmds; do grep -qx "$c" <<<"$got" || miss="$miss $c"; done
  [ -z "$miss" ] && ok "cli-man completion: every command" || nok "cli-man completion missing:$miss"
  grep -qx seal <<<"$(comp uvfs verity s)" && grep -qx allow_other <<<"$(comp uvfs mount -o al)" \
    && grep -qx 9p <<<"$(comp uvfs mount -t 9)" && ok "cli-man completion: subcommands and -o/-t" || nok "cli-man completion subcommands"
else nok "cli-man: cli/uvfs.bash-completion missing"; fi
exit 0
