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
	const uint8_t *root_hash; /* UVFS_VERITY_ROOT_HASH_SIZE bytes, or NULL: then root_hash= is required */
	int action; /* UVFS_VERITY_ACTION_* */
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

/* The same for a directory of the host, with host syscalls (the CLI). */
UVFS_API int uvfs_verity_seal_path(const char *path, uint8_t root_hash[UVFS_VERITY_ROOT_HASH_SIZE]);

/* Counters of an open verity regular file's verifier (tests, benches):
 * data blocks hashed, tree blocks hashed, tree cache hits. -EINVAL for any
 * other file. */
struct uvfs_verity_stats;
UVFS_API int uvfs_verity_file_stats(struct uvfs_file *f, struct uvfs_verity_stats *out);

/* Hex form of a root hash: 64 digits + NUL. */
UVFS_API void uvfs_verity_hash_hex(const uint8_t hash[UVFS_VERITY_ROOT_HASH_SIZE], char out[65]);

#ifdef __cplusplus
}
#endif
