/* fsimpl/tmpfs/xattr.c — in-memory extended attributes (memxattr), kept
 * free of tmpfs types so it can serve other in-memory filesystems (the tmpfs
 * inode ops on top of it are in tmpfs.c).
 *
 * Locking: memxattr takes no locks; every call on one store is serialised
 * by the caller (tmpfs: the inode's i_lock, held by the VFS for xattr ops). */
#include <stdlib.h>
#include <sys/xattr.h>

#include "fsimpl/tmpfs/internal.h"

/* One attribute: name (NUL-terminated) followed by the value. */
struct xent {
	struct xent *next;
	uint32_t nlen; /* strlen(name) */
	uint32_t vlen;
	char data[];
};

/* Entries in insertion order (listxattr order is stable). */
struct memxattr {
	struct xent *head;
	struct xent **tail;
	size_t names_size; /* sum of nlen + 1: the listxattr size */
};

static int check_name(const char *name, size_t *nlen)
{
	size_t n = strnlen(name, MEMXATTR_NAME_MAX + 1);
	if (n == 0 || n > MEMXATTR_NAME_MAX)
		return -ERANGE;
	*nlen = n;
	return 0;
}

static struct xent **find(struct memxattr *x, const char *name, size_t nlen)
{
	for (struct xent **pp = &x->head; *pp; pp = &(*pp)->next)
		if ((*pp)->nlen == nlen && !memcmp((*pp)->data, name, nlen))
			return pp;
	return NULL;
}

ssize_t memxattr_get(struct memxattr *const *x, const char *name, void *buf, size_t len)
{
	size_t nlen;
	int err = check_name(name, &nlen);
	if (err)
		return err;
	struct xent **pp = *x ? find(*x, name, nlen) : NULL;
	if (!pp)
		return -ENODATA;
	struct xent *e = *pp;
	if (len == 0)
		return e->vlen;
	if (len < e->vlen)
		return -ERANGE;
	memcpy(buf, e->data + e->nlen + 1, e->vlen);
	return e->vlen;
}

int memxattr_set(struct memxattr **x, const char *name, const void *val, size_t len, int flags)
{
	size_t nlen;
	int err = check_name(name, &nlen);
	if (err)
		return err;
	if (len > MEMXATTR_VALUE_MAX)
		return -E2BIG;
	if ((flags & ~(XATTR_CREATE | XATTR_REPLACE)) || (flags & XATTR_CREATE && flags & XATTR_REPLACE))
		return -EINVAL;
	struct xent **pp = *x ? find(*x, name, nlen) : NULL;
	if (pp && (flags & XATTR_CREATE))
		return -EEXIST;
	if (!pp && (flags & XATTR_REPLACE))
		return -ENODATA;
	if (!*x) {
		if (!(*x = calloc(1, sizeof(**x))))
			return -ENOMEM;
		(*x)->tail = &(*x)->head;
	}
	struct xent *e = malloc(sizeof(*e) + nlen + 1 + len);
	if (!e) {
		if (!(*x)->head) {
			free(*x);
			*x = NULL;
		}
		return -ENOMEM;
	}
	e->next = NULL;
	e->nlen = (uint32_t)nlen;
	e->vlen = (uint32_t)len;
	memcpy(e->data, name, nlen + 1);
	if (len)
		memcpy(e->data + nlen + 1, val, len);
	if (pp) { /* replace in place, keeping the list order */
		struct xent *old = *pp;
		e->next = old->next;
		if ((*x)->tail == &old->next)
			(*x)->tail = &e->next;
		*pp = e;
		free(old);
	} else {
		*(*x)->tail = e;
		(*x)->tail = &e->next;
		(*x)->names_size += nlen + 1;
	}
	return 0;
}

ssize_t memxattr_list(struct memxattr *const *x, char *buf, size_t len)
{
	size_t need = *x ? (*x)->names_size : 0;
	if (len == 0 || need == 0)
		return (ssize_t)need;
	if (len < need)
		return -ERANGE;
	for (struct xent *e = (*x)->head; e; e = e->next) {
		memcpy(buf, e->data, e->nlen + 1);
		buf += e->nlen + 1;
	}
	return (ssize_t)need;
}

int memxattr_remove(struct memxattr **x, const char *name)
{
	size_t nlen;
	int err = check_name(name, &nlen);
	if (err)
		return err;
	struct xent **pp = *x ? find(*x, name, nlen) : NULL;
	if (!pp)
		return -ENODATA;
	struct xent *e = *pp;
	*pp = e->next;
	if ((*x)->tail == &e->next)
		(*x)->tail = pp;
	(*x)->names_size -= e->nlen + 1;
	free(e);
	if (!(*x)->head) { /* back to zero memory */
		free(*x);
		*x = NULL;
	}
	return 0;
}

void memxattr_free(struct memxattr **x)
{
	if (!*x)
		return;
	for (struct xent *e = (*x)->head, *n; e; e = n) {
		n = e->next;
		free(e);
	}
	free(*x);
	*x = NULL;
}
