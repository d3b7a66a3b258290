/* fsimpl/verity/manifest.c — the directory manifest: canonical encoding,
 * strict parsing, lookup by name; and the lower-tree I/O helpers that seal
 * and the filesystem share. Byte layout: fsimpl/verity/README.md. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "fsimpl/verity/internal.h"

bool vm_is_hidden(const char *name, size_t len)
{
	return len >= VM_HIDDEN_LEN && !memcmp(name, VM_HIDDEN, VM_HIDDEN_LEN);
}

int vm_name_cmp(const char *a, size_t al, const char *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);
	return c ? c : (al > bl) - (al < bl);
}

static int entry_cmp(const void *x, const void *y)
{
	const struct vm_entry *a = x, *b = y;
	return vm_name_cmp(a->name, a->name_len, b->name, b->name_len);
}

int vm_sort(struct vm_entry *e, uint32_t n)
{
	if (n > 1)
		qsort(e, n, sizeof(*e), entry_cmp);
	for (uint32_t i = 1; i < n; i++)
		if (!entry_cmp(&e[i - 1], &e[i]))
			return -EINVAL;
	return 0;
}

int vm_sha256(const void *p, size_t n, uint8_t out[VM_DIGEST])
{
	unsigned len = 0;
	return EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) == 1 && len == VM_DIGEST ? 0 : -EIO;
}

/* ----------------------------------------------------------- encoding */

static uint8_t *put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); return p + 2; }
static uint8_t *put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
	return p + 4;
}
static uint8_t *put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
	return p + 8;
}
static uint64_t get(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

#define VM_HEADER 24
#define VM_FIXED 33 /* per entry, without name, target and digest bytes */

int vm_encode(const struct vmanifest *m, uint8_t **out, size_t *len)
{
	size_t n = VM_HEADER;
	for (uint32_t i = 0; i < m->n; i++)
		n += VM_FIXED + m->e[i].name_len + m->e[i].target_len + m->e[i].digest_len;
	uint8_t *b = malloc(n), *p = b;
	if (!b)
		return -ENOMEM;
	memcpy(p, VM_MAGIC, 8);
	p = put32(p + 8, m->n);
	p = put32(p, m->mode);
	p = put32(p, m->uid);
	p = put32(p, m->gid);
	for (uint32_t i = 0; i < m->n; i++) {
		const struct vm_entry *e = &m->e[i];
		p = put16(p, e->name_len);
		memcpy(p, e->name, e->name_len);
		p = put32(p + e->name_len, e->mode);
		p = put32(p, e->uid);
		p = put32(p, e->gid);
		p = put64(p, e->size);
		p = put32(p, e->rdev_major);
		p = put32(p, e->rdev_minor);
		p = put16(p, e->target_len);
		if (e->target_len)
			memcpy(p, e->target, e->target_len);
		p += e->target_len;
		*p++ = e->digest_len;
		memcpy(p, e->digest, e->digest_len);
		p += e->digest_len;
	}
	*out = b;
	*len = n;
	return 0;
}

/* ------------------------------------------------------------ parsing */

static bool valid_name(const char *s, size_t n)
{
	if (!n || n > VM_NAME_MAX || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
		return false;
	if (memchr(s, '/', n) || memchr(s, 0, n))
		return false;
	return !vm_is_hidden(s, n);
}

int vm_parse(uint8_t *raw, size_t len, struct vmanifest *m)
{
	memset(m, 0, sizeof(*m));
	if (len < VM_HEADER || memcmp(raw, VM_MAGIC, 8))
		return -EIO;
	uint64_t n = get(raw + 8, 4);
	if (n > VM_ENTRY_MAX || n > (len - VM_HEADER) / VM_FIXED)
		return -EIO;
	m->mode = (uint32_t)get(raw + 12, 4);
	m->uid = (uint32_t)get(raw + 16, 4);
	m->gid = (uint32_t)get(raw + 20, 4);
	if (!S_ISDIR(m->mode) || (m->mode & ~(S_IFMT | 07777)))
		return -EIO;
	m->e = calloc(n ? n : 1, sizeof(*m->e));
	if (!m->e)
		return -ENOMEM;
	size_t o = VM_HEADER;
#define NEED(k)                                                                                                  \
	do {                                                                                                     \
		if (len - o < (size_t)(k))                                                                       \
			goto bad;                                                                                \
	} while (0)
	for (uint64_t i = 0; i < n; i++) {
		struct vm_entry *e = &m->e[i];
		NEED(2);
		e->name_len = (uint16_t)get(raw + o, 2);
		o += 2;
		NEED(e->name_len + 30);
		e->name = (const char *)raw + o;
		o += e->name_len;
		e->mode = (uint32_t)get(raw + o, 4);
		e->uid = (uint32_t)get(raw + o + 4, 4);
		e->gid = (uint32_t)get(raw + o + 8, 4);
		e->size = get(raw + o + 12, 8);
		e->rdev_major = (uint32_t)get(raw + o + 20, 4);
		e->rdev_minor = (uint32_t)get(raw + o + 24, 4);
		e->target_len = (uint16_t)get(raw + o + 28, 2);
		o += 30;
		NEED(e->target_len + 1);
		e->target = (const char *)raw + o;
		o += e->target_len;
		e->digest_len = raw[o++];
		NEED(e->digest_len);
		memcpy(e->digest, raw + o, e->digest_len > VM_DIGEST ? 0 : e->digest_len);
		o += e->digest_len;
		/* Canonical form only: one encoding per tree. */
		bool reg = S_ISREG(e->mode), dir = S_ISDIR(e->mode), lnk = S_ISLNK(e->mode);
		bool dev = S_ISCHR(e->mode) || S_ISBLK(e->mode);
		if (!valid_name(e->name, e->name_len) || (e->mode & ~(S_IFMT | 07777)) ||
		    !(reg || dir || lnk || dev || S_ISFIFO(e->mode) || S_ISSOCK(e->mode)) ||
		    e->digest_len != ((reg || dir) ? VM_DIGEST : 0) || (lnk != (e->target_len > 0)) ||
		    (lnk && memchr(e->target, 0, e->target_len)) || (dir && e->size) ||
		    (lnk && e->size != e->target_len) || (!reg && !lnk && e->size) ||
		    (!dev && (e->rdev_major || e->rdev_minor)))
			goto bad;
		if (i && entry_cmp(&m->e[i - 1], e) >= 0)
			goto bad;
	}
#undef NEED
	if (o != len)
		goto bad;
	m->n = (uint32_t)n;
	m->raw = raw;
	m->raw_len = len;
	return 0;
bad:
	free(m->e);
	memset(m, 0, sizeof(*m));
	return -EIO;
}

void vm_free(struct vmanifest *m)
{
	free(m->e);
	free(m->raw);
	memset(m, 0, sizeof(*m));
}

const struct vm_entry *vm_find(const struct vmanifest *m, const char *name, size_t len)
{
	uint32_t lo = 0, hi = m->n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = vm_name_cmp(name, len, m->e[mid].name, m->e[mid].name_len);
		if (!c)
			return &m->e[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* ------------------------------------------------------ lower-tree I/O */

ssize_t vl_pread_full(struct uvfs_file *f, void *buf, size_t len, uint64_t off)
{
	size_t got = 0;
	while (got < len) {
		ssize_t r = uvfs_pread(f, (char *)buf + got, len - got, (off_t)(off + got));
		if (r < 0)
			return r;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

int vl_read_all(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_vd *dir, const char *name,
		size_t max, uint8_t **out, size_t *len)
{
	struct uvfs_pathop pop = { .root = *dir, .start = *dir, .path = name };
	struct uvfs_file *f;
	struct statx st;
	*out = NULL;
	int err = uvfs_open_at(vfs, cred, &pop, O_RDONLY | O_NOFOLLOW, 0, 0, &f);
	if (err)
		return err;
	if ((err = uvfs_file_stat(f, STATX_TYPE | STATX_SIZE, &st)))
		goto out;
	if (!S_ISREG(st.stx_mode)) {
		err = -EIO;
		goto out;
	}
	if (st.stx_size > max) {
		err = -EFBIG;
		goto out;
	}
	uint8_t *b = malloc(st.stx_size ? st.stx_size : 1);
	if (!b) {
		err = -ENOMEM;
		goto out;
	}
	/* One byte more than the size: a file that grew is not what was sized. */
	ssize_t r = vl_pread_full(f, b, st.stx_size, 0);
	if (r != (ssize_t)st.stx_size) {
		free(b);
		err = r < 0 ? (int)r : -EIO;
		goto out;
	}
	*out = b;
	*len = st.stx_size;
out:
	uvfs_file_put(f);
	return err;
}

int vl_write_all(struct uvfs *vfs, const struct uvfs_cred *cred, const struct uvfs_vd *dir, const char *name,
		 const void *p, size_t n)
{
	struct uvfs_pathop pop = { .root = *dir, .start = *dir, .path = name };
	struct uvfs_file *f;
	int err = uvfs_open_at(vfs, cred, &pop, O_CREAT | O_TRUNC | O_WRONLY | O_NOFOLLOW, 0644, 0, &f);
	if (err)
		return err;
	size_t done = 0;
	while (done < n && !err) {
		ssize_t r = uvfs_pwrite(f, (const char *)p + done, n - done, (off_t)done);
		if (r <= 0)
			err = r < 0 ? (int)r : -EIO;
		else
			done += (size_t)r;
	}
	int cerr = uvfs_file_close(f);
	return err ? err : cerr;
}

int vl_tree_name(char *buf, const char *name, size_t len)
{
	if (len > VM_NAME_MAX)
		return -ENAMETOOLONG;
	memcpy(buf, VM_HIDDEN ".", VM_HIDDEN_LEN + 1);
	memcpy(buf + VM_HIDDEN_LEN + 1, name, len);
	buf[VM_HIDDEN_LEN + 1 + len] = 0;
	return 0;
}

UVFS_API void uvfs_verity_hash_hex(const uint8_t hash[UVFS_VERITY_ROOT_HASH_SIZE], char out[65])
{
	static const char hx[] = "0123456789abcdef";
	for (int i = 0; i < UVFS_VERITY_ROOT_HASH_SIZE; i++) {
		out[2 * i] = hx[hash[i] >> 4];
		out[2 * i + 1] = hx[hash[i] & 15];
	}
	out[64] = 0;
}
