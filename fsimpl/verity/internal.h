/* fsimpl/verity/internal.h — shared by the verity sources: the manifest
 * codec, hidden names, and small helpers for I/O on the lower tree through
 * the VFS. Nothing here is exported. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "uvfs.h"
#include "fsimpl/verity/verity.h"

#pragma GCC visibility push(hidden)

/* Every hidden name begins with this; a directory's manifest is exactly
 * it, a regular file's tree is it + "." + the file's name. */
#define VM_HIDDEN ".merkle.verity"
#define VM_HIDDEN_LEN (sizeof(VM_HIDDEN) - 1)
#define VM_MAGIC "UVFSVDM1"
#define VM_DIGEST 32
#define VM_NAME_MAX 240 /* so that VM_HIDDEN "." NAME fits NAME_MAX */
#define VM_MANIFEST_MAX (64u << 20) /* a bigger manifest is refused (-EIO) */
#define VM_ENTRY_MAX (1u << 20)

/* One child as the manifest records it. name and target point into the
 * manifest's raw bytes (not NUL-terminated). */
struct vm_entry {
	const char *name;
	uint16_t name_len;
	uint32_t mode, uid, gid;
	uint64_t size;
	uint32_t rdev_major, rdev_minor;
	const char *target;
	uint16_t target_len;
	uint8_t digest_len; /* VM_DIGEST for regular files and directories, else 0 */
	uint8_t digest[VM_DIGEST];
};

/* A parsed (or to-be-encoded) manifest; immutable once parsed. */
struct vmanifest {
	uint32_t mode, uid, gid; /* the directory's own */
	uint32_t n;
	struct vm_entry *e; /* sorted by name (memcmp, shorter first) */
	uint8_t *raw; /* owned: the bytes parsed (NULL for one being built) */
	size_t raw_len;
};

bool vm_is_hidden(const char *name, size_t len);
int vm_name_cmp(const char *a, size_t al, const char *b, size_t bl);
/* Sorts e[0..n) (seal). -EINVAL on a duplicate. */
int vm_sort(struct vm_entry *e, uint32_t n);
/* Canonical bytes of m (entries sorted); *out malloc'ed. */
int vm_encode(const struct vmanifest *m, uint8_t **out, size_t *len);
/* Strict parse of raw (taken over on success, freed by vm_free): -EIO if
 * malformed (it is untrusted until hashed; callers hash first anyway). */
int vm_parse(uint8_t *raw, size_t len, struct vmanifest *m);
void vm_free(struct vmanifest *m);
const struct vm_entry *vm_find(const struct vmanifest *m, const char *name, size_t len);
int vm_sha256(const void *p, size_t n, uint8_t out[VM_DIGEST]);

/* Lower I/O through the VFS, relative to directory vd dir. */
struct uvfs_file;
ssize_t vl_pread_full(struct uvfs_file *f, void *buf, size_t len, uint64_t off);
/* The whole of dir/name if it is a regular file of at most max bytes
 * (-EFBIG beyond, checked before reading). *out malloc'ed. */
int vl_read_all(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_vd *dir, const char *name,
		size_t max, uint8_t **out, size_t *len);
int vl_write_all(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_vd *dir, const char *name,
		 const void *p, size_t n);
/* VM_HIDDEN "." name into buf (NAME_MAX + 1 bytes): -ENAMETOOLONG. */
int vl_tree_name(char *buf, const char *name, size_t len);

#pragma GCC visibility pop
