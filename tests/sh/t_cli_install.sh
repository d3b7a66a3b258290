#!/bin/bash
# make install into a fresh prefix: versioned shared libraries with a SONAME,
# every public header compiles on its own against pkg-config's flags (none
# pulls an internal header), uvfs_version() equals the macro, the README
# example links dynamically (NEEDED libuvfs.so.0) and statically (no libuvfs
# .so needed), and the man page and completion are installed.
set -u
cd "$(dirname "$0")/../.."
ok() { echo "ok $*"; }
nok() { echo "not ok $*"; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
P=$tmp/usr
if ! make -s install PREFIX="$P" >"$tmp/install.log" 2>&1; then
  nok "cli-install: make install failed: $(tail -3 "$tmp/install.log")"; exit 0; fi
for l in libuvfs libuvfs-fuse libuvfs-boot; do
  v=$(ls "$P/lib/$l.so."[0-9]*.[0-9]*.[0-9]* 2>/dev/null | head -1)
  son=$(readelf -d "$v" 2>/dev/null | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
  if [ -n "$v" ] && [ "$son" = "$l.so.0" ] && [ "$(readlink "$P/lib/$l.so.0")" = "$(basename "$v")" ] \
     && [ "$(readlink "$P/lib/$l.so")" = "$l.so.0" ]; then ok "cli-install $l: SONAME $son, links"
  else nok "cli-install $l: file=$v soname=$son links: $(ls -l "$P/lib/$l".so* 2>&1)"; fi
done
export PKG_CONFIG_PATH=$P/lib/pkgconfig
CF=$(pkg-config --cflags uvfs fuse3 jansson)
n=0; bad=""
for h in $(cd "$P/include" && find uvfs -name '*.h' -not -path 'uvfs/vfs/*'); do
  printf '#include <%s>\nint main(void) { return 0; }\n' "$h" >"$tmp/h.c"
  cc -std=gnu11 -Wall -Werror -c -o "$tmp/h.o" "$tmp/h.c" $CF 2>>"$tmp/h.log" || bad="$bad $h"
  n=$((n + 1))
done
[ -z "$bad" ] && [ $n -ge 10 ] && ok "cli-install $n public headers compile alone" || nok "cli-install headers:$bad $(head -5 "$tmp/h.log")"
(cd "$P/include" && find uvfs -name '*internal*' -o -name '*_int.h' | grep -q .) && nok "cli-install internal headers installed" \
  || ok "cli-install no internal header installed"
[ -f "$P/share/man/man1/uvfs.1" ] && [ -f "$P/share/bash-completion/completions/uvfs" ] \
  && ok "cli-install man page and completion" || nok "cli-install man/completion missing"

out=""
cat >"$tmp/v.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <uvfs/uvfs.h>
int main(void) { printf("%s %d\n", uvfs_version(), UVFS_VERSION_NUMBER); return strcmp(uvfs_version(), UVFS_VERSION_STRING) != 0; }
C
if cc -o "$tmp/v" "$tmp/v.c" $(pkg-config --cflags --libs uvfs) 2>"$tmp/v.log" && out=$(LD_LIBRARY_PATH=$P/lib "$tmp/v"); then
  ok "cli-install uvfs_version() = UVFS_VERSION_STRING ($out)"; else nok "cli-install uvfs_version: $(head -3 "$tmp/v.log")"; fi

# the log sink: an embedder gets the line naming a bad mount option, stderr does not
cat >"$tmp/log.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <uvfs/uvfs.h>
static char got[512]; static int lvl = -1;
static void sink(int level, const char *msg, void *arg) { lvl = level; snprintf(got, sizeof(got), "%s|%s", (char *)arg, msg); }
int main(void) {
    struct uvfs *vfs; struct uvfs_mntns *ns; struct uvfs_cred cred;
    uvfs_cred_init_root(&cred); uvfs_create(&vfs);
    uvfs_register_fs_type(vfs, &uvfs_tmpfs_type, 0);
    uvfs_set_log_func(sink, "arg");
    int err = uvfs_mntns_new(vfs, &cred, "none", "tmpfs", &(struct uvfs_mount_opts){ .data = "bogus_key=1" }, &ns);
    uvfs_set_log_func(NULL, NULL);
    printf("%d %d %s\n", err, lvl, got);
    return uvfs_destroy(vfs, NULL) || !strstr(got, "arg|") || !strstr(got, "bogus_key");
}
C
if cc -o "$tmp/log" "$tmp/log.c" $(pkg-config --cflags --libs uvfs) 2>"$tmp/log.log" && out=$(LD_LIBRARY_PATH=$P/lib "$tmp/log" 2>"$tmp/log.err") \
   && [ ! -s "$tmp/log.err" ]; then
  ok "cli-install uvfs_set_log_func gets the line ($out)"; else nok "cli-install log sink: $out $(cat "$tmp/log.err" "$tmp/log.log" | head -3)"; fi

awk '/^```c$/{on=1;next} /^```$/{on=0} on' README.md >"$tmp/example.c"
if cc -std=c11 -Wall -Werror -o "$tmp/dyn" "$tmp/example.c" $(pkg-config --cflags --libs uvfs) 2>"$tmp/dyn.log" \
   && readelf -d "$tmp/dyn" | grep -q 'NEEDED.*\[libuvfs.so.0\]' \
   && LD_LIBRARY_PATH=$P/lib "$tmp/dyn" | grep -q '^stat: 0, size 12'; then
  ok "cli-install README example, shared (NEEDED libuvfs.so.0)"; else nok "cli-install dynamic: $(head -3 "$tmp/dyn.log")"; fi
if cc -std=c11 -Wall -Werror -o "$tmp/st" "$tmp/example.c" $(pkg-config --static --cflags --libs uvfs-static) 2>"$tmp/st.log" \
   && ! readelf -d "$tmp/st" | grep -q 'NEEDED.*libuvfs' && "$tmp/st" | grep -q '^stat: 0, size 12'; then
  ok "cli-install README example, static archive (pkg-config --static uvfs-static)"; else nok "cli-install static: $(head -3 "$tmp/st.log")"; fi
# pkg-config --static alone cannot pick libuvfs.a over the .so beside it
# (-L applies to every -l): a static build is `cc -static` with
# `pkg-config --static uvfs` (everything static) or `pkg-config --static
# uvfs-static` (the archive, system libraries shared).
if cc -static -std=c11 -Wall -Werror -o "$tmp/full" "$tmp/example.c" $(pkg-config --static --cflags --libs uvfs) 2>"$tmp/full.log" \
   && ! readelf -d "$tmp/full" 2>/dev/null | grep -q NEEDED && "$tmp/full" | grep -q '^stat: 0, size 12'; then
  ok "cli-install README example, cc -static with pkg-config --static uvfs"; else nok "cli-install cc -static: $(head -3 "$tmp/full.log")"; fi
# Every build command the README and the embedding guide show works as said:
# those with --static leave no libuvfs.so NEEDED, and README shows one.
nstatic=0
while IFS= read -r cmd; do
  out=$(sed 's/\bexample\.c\b\|\bapp\.c\b/"$tmp\/example.c"/; s/^cc /cc -o "$tmp\/doc" /' <<<"$cmd")
  if ! (cd "$tmp" && eval "$out") >"$tmp/doc.log" 2>&1 || ! LD_LIBRARY_PATH=$P/lib "$tmp/doc" | grep -q '^stat: 0, size 12'; then
    nok "cli-install documented command fails: $cmd: $(head -2 "$tmp/doc.log")"; continue; fi
  if grep -q -- --static <<<"$cmd"; then
    nstatic=$((nstatic + 1))
    readelf -d "$tmp/doc" | grep -q 'NEEDED.*libuvfs' && nok "cli-install documented static build needs libuvfs.so: $cmd" && continue
  fi
  ok "cli-install documented command: $cmd"
done < <(grep -ho 'cc [^`#]*\$(pkg-config[^`#]*)' README.md doc/embedding.md | sed 's/ *$//' | sort -u)
[ $nstatic -ge 1 ] && grep -q 'cc [^`]*pkg-config [^`]*--static' README.md && ok "cli-install README shows a static build" \
  || nok "cli-install README shows no static build command that links libuvfs.a"
exit 0
