/* fsimpl/verity/verity.h — the verity filesystem: a read-only wrapper over
 * a lower directory whose every byte, name, type, mode, owner and symlink
 * target is checked against one root hash (format: fsimpl/verity/README.md).
 *
 * Sealing writes, beside the lower tree, one hidden file per regular file
 * (".merkle.verity.NAME": its fs-verity descriptor then its Merkle tree) and
 * one per directory (".merkle.verity": its manifest). The root hash is the
 * SHA-256 of the root directory's manifest. */
#pragma once

#include <stdint.h>

#include "uvfs.h"

#ifdef __cplusplus
extern "C" {
#endif

#define UVFS_VERITY_ROOT_HASH_SIZE 32 /* SHA-256 */

/* Violation actions (mount option action=error|panic). */
#define UVFS_VERITY_ACTION_ERROR 0 /* -EIO and a log line naming the file */
#define UVFS_VERITY_ACTION_PANIC 1 /* the log line, then the embedder's panic hook (abort() by default) */

/* uvfs_mount_opts.internal for type "verity" (internal mounts only). The
 * option string may also give root_hash=HEX (64 hex digits; it wins over
 * the field) and action=error|panic. */
struct uvfs_verity_mount {
	struct uvfs_vd lower; /* borrowed: the sealed directory (the fs takes its own references) */
	/* UVFS_VERITY_ROOT_HASH_SIZE bytes, or NULL: then root_hash=HEX in the
	 * options; neither (or root_hash= empty): runtime enable, an
	 * unverified view of lower in which FS_IOC_ENABLE_VERITY builds and
	 * stores a file's tree (README "Runtime enable"). */
	const uint8_t *root_hash;
	int action; /* UVFS_VERITY_ACTION_* */
	/* borrowed, optional (zero: trees beside the files): the directory
	 * holding the trees and manifests, mirroring lower's directories
	 * (uvfs_verity_seal_dirs). The option tree_dir=PATH names one by a
	 * path from the root of lower's mount instead. */
	struct uvfs_vd tree_dir;
};

UVFS_API extern const struct uvfs_fs_type uvfs_verity_type;

/* Called on a violation with action=panic, after the log line. NULL (the
 * default) means abort(). */
UVFS_API void uvfs_verity_set_panic_hook(void (*hook)(const char *what));

/* Seals the directory tree at dir (through the VFS, so any writable lower
 * works): writes every hidden tree and manifest, replacing old ones, and
 * stores the root hash in root_hash. Regular files, directories, symlinks
 * and special nodes are covered. Names that begin with ".merkle.verity" are
 * taken for earlier seal output and skipped; a name longer than 240 bytes
 * (its tree's name must fit NAME_MAX) is -ENAMETOOLONG. cred must be able to read everything and write
 * every directory. */
UVFS_API int uvfs_verity_seal(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_vd *dir,
			      uint8_t root_hash[UVFS_VERITY_ROOT_HASH_SIZE]);

/* The same, writing the trees and manifests under tree_dir instead (a
 * mirror of dir's directories, made as needed) and leaving dir untouched;
 * dir's root hash does not depend on where its trees live. tree_dir must
 * not be inside dir. */
UVFS_API int uvfs_verity_seal_dirs(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_vd *dir,
				   const struct uvfs_vd *tree_dir, uint8_t root_hash[UVFS_VERITY_ROOT_HASH_SIZE]);

/* The same for a directory of the host, with host syscalls (the CLI);
 * tree_dir NULL: beside the files. */
UVFS_API int uvfs_verity_seal_path(const char *path, uint8_t root_hash[UVFS_VERITY_ROOT_HASH_SIZE]);
UVFS_API int uvfs_verity_seal_path_dirs(const char *path, const char *tree_dir,
					uint8_t root_hash[UVFS_VERITY_ROOT_HASH_SIZE]);

/* Counters of an open verity regular file's verifier (tests, benches):
 * data blocks hashed, tree blocks hashed, tree cache hits. -EINVAL for any
 * other file. */
struct uvfs_verity_stats;
UVFS_API int uvfs_verity_file_stats(struct uvfs_file *f, struct uvfs_verity_stats *out);

/* The data caches' memory outlives a mount: an unmounted verity fs's whole
 * 2 MiB slabs go to its uvfs instance's idle pool (resident memory, freed
 * by uvfs_destroy; instances never share one) that later mounts in that
 * instance draw from before mapping fresh memory, whose page faults and
 * zeroing cost about as much as hashing the bytes. The pool holds at most
 * max_bytes (default 64 MiB, one default data_cache; a lower bound trims
 * it at once, 0 keeps nothing). -ENODEV: verity is not registered in vfs
 * (its mounts then keep no idle slabs). */
UVFS_API int uvfs_verity_set_slab_pool(struct uvfs *vfs, uint64_t max_bytes);
UVFS_API uint64_t uvfs_verity_slab_pool_bytes(struct uvfs *vfs); /* bytes idle in vfs's pool now */

/* The boot form (the seed's verity path: gVisor's runsc mounts verity
 * over a spec mount that carries verity.roothash= / verity.action=). Mounts
 * verity over the root of lower (the wrapped mount, e.g. the disconnected 9p
 * mount of the spec mount; borrowed) and returns a new disconnected mount.
 *  data:   verity's option string as boot compiles it, e.g.
 *          "root_hash=HEX,root_name=BASENAME" (root_hash empty or absent:
 *          runtime enable; root_name is accepted and only names the root
 *          in log lines; tree_dir= and data_cache= may follow);
 *  action: UVFS_VERITY_ACTION_* (the seed's default is panic);
 *  flags:  the wrapped mount's UVFS_MNT_* flags. They are KEPT on the
 *          verity mount (ro, noexec, noatime, nodev, nosuid), which fixes the
 *          seed, whose verity mount options dropped them (design.md §6).
 * Errors as uvfs_mount_disconnected (a wrong root hash: -EIO). */
UVFS_API int uvfs_verity_mount_internal(struct uvfs *vfs, const struct uvfs_cred *cred, struct uvfs_mount *lower,
					const char *data, int action, unsigned flags, struct uvfs_mount **out);

/* Hex form of a root hash: 64 digits + NUL. */
UVFS_API void uvfs_verity_hash_hex(const uint8_t hash[UVFS_VERITY_ROOT_HASH_SIZE], char out[65]);

#ifdef __cplusplus
}
#endif
