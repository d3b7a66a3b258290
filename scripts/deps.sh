#!/bin/sh
# Install the Debian packages uvfs needs, when missing. Does nothing when all
# are present; as non-root it only reports what is missing.
#   scripts/deps.sh run     what `make run` needs: build the libraries and
#                           the CLI, run the demo (FUSE, tree, diod: the
#                           gofer serving the host's / to the demo tree)
#   scripts/deps.sh check   (the default) also every test tool: criterion,
#                           clang for the fuzzers, diod, the FUSE client tests
#   scripts/deps.sh --list run|check   print the package list, install nothing
set -e
RUN_PKGS="build-essential pkg-config liburcu-dev libxxhash-dev libfuse3-dev fuse3 libjansson-dev libssl-dev tree \
libseccomp-dev diod"
CHECK_PKGS="$RUN_PKGS clang libclang-rt-14-dev libcriterion-dev diod fsverity gnuplot-nox \
rsync sqlite3 fio git attr dbench postmark fuse-overlayfs psmisc runc busybox-static procps valgrind proot"
list=0
[ "${1:-}" = --list ] && { list=1; shift; }
case "${1:-check}" in
  run) PKGS=$RUN_PKGS ;;
  check) PKGS=$CHECK_PKGS ;;
  *) echo "usage: scripts/deps.sh [--list] [run|check]" >&2; exit 2 ;;
esac
if [ $list = 1 ]; then echo $PKGS; exit 0; fi
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "uvfs: missing Debian packages:$missing (run 'make deps' as root)" >&2
  exit 1
fi
echo "uvfs: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
