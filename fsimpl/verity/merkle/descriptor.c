/* fsimpl/verity/descriptor.c — the 256-byte fs-verity descriptor.
 *
 * Layout (little-endian, unused bytes zero), as the kernel's
 * struct fsverity_descriptor:
 *   0 u8 version=1 | 1 u8 hash_algorithm | 2 u8 log_blocksize | 3 u8 salt_size
 *   4 le32 reserved | 8 le64 data_size | 16 root_hash[64] | 80 salt[32]
 *   112 reserved[144]
 * The file digest is the plain hash of these 256 bytes. The kernel calls
 * bytes 4..7 sig_size; it is zero whenever the descriptor is hashed (and in
 * what FS_IOC_READ_VERITY_METADATA returns), so a non-zero value is
 * rejected here like any other reserved byte. */
#include <errno.h>
#include <string.h>

#include "fsimpl/verity/merkle/verity_int.h"

#define OFF_VERSION 0
#define OFF_ALG 1
#define OFF_LOG_BS 2
#define OFF_SALT_SIZE 3
#define OFF_RESERVED1 4
#define OFF_DATA_SIZE 8
#define OFF_ROOT 16
#define OFF_SALT 80
#define OFF_RESERVED2 112

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;
	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

void merkle_desc_encode(const struct vparams *vp, uint64_t size, const uint8_t *root,
			uint8_t desc[UVFS_VERITY_DESC_SIZE])
{
	memset(desc, 0, UVFS_VERITY_DESC_SIZE);
	desc[OFF_VERSION] = 1;
	desc[OFF_ALG] = (uint8_t)vp->alg;
	desc[OFF_LOG_BS] = (uint8_t)vp->log_bs;
	desc[OFF_SALT_SIZE] = (uint8_t)vp->salt_size;
	put_le64(desc + OFF_DATA_SIZE, size);
	memcpy(desc + OFF_ROOT, root, vp->ds);
	memcpy(desc + OFF_SALT, vp->salt, vp->salt_size);
}

UVFS_API int uvfs_verity_descriptor_parse(const uint8_t desc[UVFS_VERITY_DESC_SIZE],
					  struct uvfs_verity_descriptor *d)
{
	if (!desc || !d)
		return -EINVAL;
	memset(d, 0, sizeof(*d));
	d->version = desc[OFF_VERSION];
	d->hash_alg = desc[OFF_ALG];
	d->log_block_size = desc[OFF_LOG_BS];
	d->salt_size = desc[OFF_SALT_SIZE];
	d->data_size = get_le64(desc + OFF_DATA_SIZE);
	memcpy(d->root_hash, desc + OFF_ROOT, UVFS_VERITY_MAX_DIGEST);
	memcpy(d->salt, desc + OFF_SALT, UVFS_VERITY_MAX_SALT);

	unsigned ds = uvfs_verity_digest_size(d->hash_alg);
	if (d->version != 1 || ds == 0)
		return -EINVAL;
	if (d->log_block_size < 10 || d->log_block_size > 16)
		return -EINVAL;
	if (d->salt_size > UVFS_VERITY_MAX_SALT)
		return -EINVAL;
	if (!all_zero(desc + OFF_RESERVED1, 4) || !all_zero(desc + OFF_RESERVED2, 144))
		return -EINVAL;
	if (!all_zero(desc + OFF_ROOT + ds, UVFS_VERITY_MAX_DIGEST - ds))
		return -EINVAL;
	if (!all_zero(desc + OFF_SALT + d->salt_size, UVFS_VERITY_MAX_SALT - d->salt_size))
		return -EINVAL;
	/* An empty file's root hash is all zeros by definition. */
	if (d->data_size == 0 && !all_zero(d->root_hash, ds))
		return -EINVAL;
	return 0;
}
