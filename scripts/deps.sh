#!/bin/sh
# Install the Debian packages uvfs needs, when missing. Does nothing when all
# are present; as non-root it only reports what is missing.
set -e
PKGS="build-essential pkg-config clang libclang-rt-14-dev liburcu-dev libxxhash-dev \
libfuse3-dev fuse3 libcriterion-dev libjansson-dev libssl-dev diod fsverity gnuplot-nox \
rsync sqlite3 fio git tree attr dbench postmark fuse-overlayfs psmisc runc busybox-static procps \
libseccomp-dev"
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
