/* cli/help.c — the long help of every command and subcommand, in one place
 * so `uvfs CMD --help`, `uvfs CMD SUB --help` and `uvfs help CMD [SUB]`
 * print the same text and never run anything (main.c answers them before
 * dispatching). A command without an entry here gets its own --help. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

#define TYPE_ARGS                                                                              \
	"  -t TYPE SOURCE   instead of the default tree, one filesystem of TYPE\n"                 \
	"                   (tmpfs, 9p: SOURCE a host directory served by diod, verity)\n"        \
	"  -o OPTS          that filesystem's mount options (comma separated)\n"

static const struct help {
	const char *key; /* "cmd" or "cmd sub" */
	const char *text;
} helps[] = {
	{ "demo", "usage: uvfs demo\n\n"
		  "Mounts the built-in default tree through FUSE in a temporary directory, shows it\n"
		  "with ls, tree and cat, unmounts it and prints the live-object report. Without\n"
		  "/dev/fuse it shows the same tree in process. ^C, a closed pipe (uvfs demo | head)\n"
		  "or SIGTERM still unmount and remove the directory.\n\n"
		  "example:\n  uvfs demo | head -20\n" },
	{ "mount", "usage: uvfs mount [-f] [-d] [-s] [-o OPTS] [SOURCE] MOUNTPOINT\n"
		   "       uvfs mount -t TYPE [-o OPTS] SOURCE MOUNTPOINT\n"
		   "       mount -t fuse.uvfs SOURCE MOUNTPOINT [-o OPTS]     (through mount.fuse3)\n\n"
		   "Exports a uvfs tree through FUSE, as sshfs or bindfs do; runs in the background\n"
		   "unless -f. Unmount with `fusermount3 -u MOUNTPOINT` (or SIGINT/SIGTERM with -f).\n\n"
		   "SOURCE:\n"
		   "  default          the built-in sample tree (also when SOURCE is left out)\n"
		   "  DIR              a host directory, served by a diod gofer (as -t 9p DIR)\n"
		   "  TYPE:SOURCE      one filesystem of TYPE, e.g. tmpfs:none, 9p:/srv/dir\n\n"
		   "options:\n"
		   "  -f               stay in the foreground (errors and the teardown report on stderr)\n"
		   "  -d               debug: -f plus libfuse's request trace\n"
		   "  -s               one thread\n"
		   "  -t TYPE          the filesystem type of SOURCE (tmpfs, 9p, verity)\n"
		   "  -o OPTS          comma separated; export options are taken by the export, the\n"
		   "                   others go to the filesystem (-t) or are rejected by name\n\n"
		   "export options (-o):\n"
		   "  -o allow_other   let every user in; the kernel and uvfs check each caller\n"
		   "  allow_root, auto_unmount, ro, rw, nosuid, nodev, noexec, noatime,\n"
		   "  fsname=NAME, subtype=NAME, max_read=N, max_threads=N,\n"
		   "  entry_timeout=SECS, attr_timeout=SECS, writeback=0,\n"
		   "  uid=N, gid=N, umask=M (as sshfs: what is shown; checks stay uvfs's for the\n"
		   "  real caller), map=U/V:@G/@H (as bindfs --map: owner U shown as V, caller V\n"
		   "  acts as U), kernel_cache (keep the page cache across opens),\n"
		   "  default_permissions (always on), log=FILE (where a background mount's errors\n"
		   "  and its teardown report go; default: syslog, facility daemon)\n"
		   "  mount.fuse3 options (nofail, _netdev, noauto, user, users, defaults) are ignored\n\n"
		   "examples:\n"
		   "  uvfs mount default /mnt/u\n"
		   "  uvfs mount /srv/data /mnt/d -o ro,allow_other\n"
		   "  mount -t fuse.uvfs default /mnt/u\n"
		   "  /etc/fstab:  default  /mnt/u  fuse.uvfs  defaults,nofail  0  0\n" },
	{ "ls", "usage: uvfs ls [-l] [-a] [-R] [-1] [--json] [-t TYPE [-o OPTS] SOURCE] [PATH...]\n\n"
		"Lists directories of the default tree in process (no FUSE). Paths are absolute in\n"
		"the tree; the default is /. As ls(1): names only, in columns on a terminal\n"
		"($COLUMNS or its width), one a line otherwise.\n\n"
		"  -l      long listing (mode, links, owner, group, size, date, name)\n"
		"  -a      include . and .. (hidden names are always listed)\n"
		"  -R      recurse into subdirectories\n"
		"  -1      one name a line, even on a terminal\n"
		"  --json  one JSON array of entries\n" TYPE_ARGS "\nexample:\n  uvfs ls -l /etc\n" },
	{ "stat", "usage: uvfs stat [--json] [-t TYPE [-o OPTS] SOURCE] PATH...\n\n"
		  "Prints the attributes of each PATH of the default tree, as stat(1) does (a final\n"
		  "symlink is not followed).\n\n"
		  "  --json  one JSON object per path, in an array\n" TYPE_ARGS
		  "\nexample:\n  uvfs stat /etc/os-release\n" },
	{ "cat", "usage: uvfs cat [-t TYPE [-o OPTS] SOURCE] PATH...\n\n"
		 "Prints files of the default tree (symlinks are followed).\n\n" TYPE_ARGS
		 "\nexample:\n  uvfs cat /etc/os-release\n" },
	{ "tree", "usage: uvfs tree [-a] [--json] [-t TYPE [-o OPTS] SOURCE] [PATH...]\n\n"
		  "Prints the default tree recursively and ends, like GNU tree, with\n"
		  "\"N directories, M files\" (the top directory is not counted).\n\n"
		  "  -a      also names starting with a dot\n"
		  "  --json  nested JSON objects\n" TYPE_ARGS "\nexample:\n  uvfs tree /etc\n" },
	{ "9p", "usage: uvfs 9p [-a ANAME] [-u UID] [-m MSIZE] ls|cat|stat ADDR PATH\n\n"
		"Talks to a 9P2000.L server directly (no VFS): lists, prints or stats PATH.\n"
		"  ADDR: tcp:HOST:PORT | unix:/path | fd:N | fd:R,W | diod:DIR (starts a diod on DIR)\n"
		"  -a ANAME   the attach name      -u UID   the attach uid      -m MSIZE  message size\n\n"
		"example:\n  uvfs 9p ls diod:/srv/data /\n" },
	{ "9p ls", "usage: uvfs 9p [OPTIONS] ls ADDR PATH\n\nLists directory PATH on the 9P server at ADDR.\n\n"
		   "example:\n  uvfs 9p ls diod:/srv/data /\n" },
	{ "9p cat", "usage: uvfs 9p [OPTIONS] cat ADDR PATH\n\nPrints file PATH from the 9P server at ADDR.\n\n"
		    "example:\n  uvfs 9p cat diod:/srv/data /README\n" },
	{ "9p stat", "usage: uvfs 9p [OPTIONS] stat ADDR PATH\n\nPrints PATH's attributes (Tgetattr).\n\n"
		     "example:\n  uvfs 9p stat unix:/run/diod.sock /\n" },
	{ "verity", "usage: uvfs verity digest|build|verify|seal ...\n\n"
		    "fs-verity digests and Merkle trees (equal to `fsverity digest`), and sealing a\n"
		    "directory for the read-only verity filesystem.\n\n"
		    "  digest FILE...                      print each file's fs-verity digest\n"
		    "  build FILE --out-tree T             write the Merkle tree\n"
		    "  verify FILE --tree T --descriptor D --digest ALG:HEX\n"
		    "  seal DIR                            write the manifest, print the root hash\n\n"
		    "`uvfs help verity SUB` for each.\n\nexample:\n  uvfs verity digest /bin/ls\n" },
	{ "verity digest", "usage: uvfs verity digest FILE... [--hash-alg=sha256|sha512] [--block-size=N]\n"
			   "         [--salt=HEX] [--out-merkle-tree=F] [--out-descriptor=F] [--compact]\n"
			   "         [--for-builtin-sig] [--threads=N]\n\n"
			   "Prints ALG:HEX FILE per file, as `fsverity digest` does.\n\n"
			   "example:\n  uvfs verity digest --hash-alg=sha512 /bin/ls\n" },
	{ "verity build", "usage: uvfs verity build FILE --out-tree T [--out-descriptor D] [digest options]\n\n"
			  "Writes FILE's Merkle tree (and descriptor) and prints its digest.\n\n"
			  "example:\n  uvfs verity build data.img --out-tree data.tree\n" },
	{ "verity verify", "usage: uvfs verity verify FILE --tree T --descriptor D --digest ALG:HEX\n\n"
			   "Checks FILE against a tree and descriptor; exit 1 on a mismatch.\n\n"
			   "example:\n  uvfs verity verify data.img --tree data.tree --descriptor data.desc "
			   "--digest sha256:...\n" },
	{ "verity seal", "usage: uvfs verity seal DIR\n\n"
			 "Writes DIR's verity manifest and prints the root hash to pass as\n"
			 "-o root_hash=HEX to `-t verity`.\n\n"
			 "example:\n  uvfs ls -t verity -o root_hash=$(uvfs verity seal /srv/d) /srv/d /\n" },
	{ "boot", "usage: uvfs boot --bundle DIR|--host --print [--json] [--overlay] [--cgroupfs]\n"
		  "                 [--file-access=exclusive|shared] [--file-access-mounts=shared|exclusive]\n\n"
		  "Boots an OCI bundle's mounts (config.json) in process, over diod gofers, and\n"
		  "prints the resulting mountinfo, the resolved executable and the live-object report.\n\n"
		  "  --bundle DIR   the bundle (config.json and its root)\n"
		  "  --host         the host's / read-only under a tmpfs overlay, with runc spec's mounts\n"
		  "  --print        print the booted tree's mountinfo\n"
		  "  --json         print it as JSON: {\"mounts\": [{id, parent_id, dev, root, target,\n"
		  "                 fstype, source, options: [..], fs_options}], \"executable\": PATH}\n"
		  "  --overlay      an overlay over the root filesystem\n"
		  "  --cgroupfs     mount cgroupfs where the spec asks for cgroup\n\n"
		  "The same bundle options work for `uvfs mount --bundle DIR MNT` (FUSE export of\n"
		  "the booted tree) and `uvfs ls|stat|cat|tree --bundle DIR PATH`.\n\n"
		  "example:\n  uvfs boot --bundle ./bundle --print\n" },
	{ "spec", "usage: uvfs spec [--rootless] [--bundle DIR]\n\n"
		  "Writes a default config.json into DIR (default: the current directory), the\n"
		  "same document `runc spec` writes; refuses to overwrite one.\n\n"
		  "example:\n  mkdir b && cd b && uvfs spec && uvfs boot --bundle . --print\n" },
	{ "help", "usage: uvfs help [COMMAND [SUBCOMMAND]]\n\nPrints the help of a command.\n\n"
		  "example:\n  uvfs help mount\n" },
};

static const struct help *find(const char *key)
{
	for (size_t i = 0; i < sizeof(helps) / sizeof(helps[0]); i++)
		if (!strcmp(helps[i].key, key))
			return &helps[i];
	return NULL;
}

bool cli_help_has(const char *cmd)
{
	return find(cmd) != NULL;
}

int cli_help_print(FILE *f, const char *cmd, const char *sub)
{
	char key[64];
	const struct help *h = NULL;
	if (sub && sub[0] != '-') {
		snprintf(key, sizeof(key), "%s %s", cmd, sub);
		h = find(key);
	}
	if (!h)
		h = find(cmd);
	if (!h)
		return -1;
	fputs(h->text, f);
	return 0;
}
