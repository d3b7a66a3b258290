/* boot/plan_print.c — a mount plan as text, one line per mount in mount
 * order, for `uvfs boot --print`-style output and for tests:
 *   root 9p path=rootfs ro access=exclusive gofer=0 [fd=3 data=...]
 *   /proc proc fs=proc rw data="" added
 *   /dev/mqueue mqueue skipped
 * then one line per hint and the /tmp rule. */
#include <errno.h>
#include <stdio.h>

#include "boot/internal.h"

/* Strings as /proc/mounts writes them: space, tab, newline and backslash
 * (and other control bytes) as \ooo, so one mount stays one line. */
static void put(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c <= ' ' || c == '\\' || c == 0x7f)
			fprintf(f, "\\%03o", c);
		else
			fputc(c, f);
	}
}

static const char *access_name(enum uvfs_file_access a) { return a == UVFS_ACCESS_SHARED ? "shared" : "exclusive"; }

static const char *share_name(enum uvfs_share s)
{
	switch (s) {
	case UVFS_SHARE_CONTAINER: return "container";
	case UVFS_SHARE_POD: return "pod";
	case UVFS_SHARE_SHARED: return "shared";
	default: return "invalid";
	}
}

UVFS_API int uvfs_mount_plan_print(const struct uvfs_mount_plan *p, FILE *f)
{
	fprintf(f, "root %s path=", p->root.fs_name);
	put(f, p->root.path);
	fprintf(f, " %s access=%s gofer=0", p->root.readonly ? "ro" : "rw", access_name(p->root.access));
	if (p->root.fd >= 0) {
		fprintf(f, " fd=%d data=\"", p->root.fd);
		put(f, p->root.data ? p->root.data : "");
		fputc('"', f);
	}
	fputc('\n', f);
	for (size_t i = 0; i < p->nmounts; i++) {
		const struct uvfs_plan_mount *m = &p->mounts[i];
		put(f, m->destination);
		fputc(' ', f);
		if (m->type[0])
			put(f, m->type);
		else
			fputs("\"\"", f);
		if (!m->fs_name) {
			fputs(" skipped\n", f);
			continue;
		}
		fprintf(f, " fs=%s %s%s%s", m->fs_name, m->readonly ? "ro" : "rw", m->noatime ? ",noatime" : "",
			m->noexec ? ",noexec" : "");
		if (m->verity) {
			fprintf(f, " lower=%s lower_data=\"", m->lower_fs_name);
			put(f, m->lower_data ? m->lower_data : "");
			fprintf(f, "\" action=%s", m->verity_action_error ? "error" : "panic");
		}
		fputs(" data=\"", f);
		put(f, m->data ? m->data : "");
		fputc('"', f);
		if (m->gofer >= 0)
			fprintf(f, " gofer=%d access=%s", m->gofer, access_name(m->access));
		if (m->fd >= 0)
			fprintf(f, " fd=%d", m->fd);
		if (m->overlay)
			fputs(" overlay", f);
		if (m->hint >= 0) {
			fputs(" hint=", f);
			put(f, p->hints[m->hint].name);
			if (m->shared)
				fputs(" shared", f);
		}
		if (m->added)
			fputs(" added", f);
		fputc('\n', f);
	}
	for (size_t i = 0; i < p->nhints; i++) {
		const struct uvfs_plan_hint *h = &p->hints[i];
		fputs("hint ", f);
		put(f, h->name);
		fputs(" source=", f);
		put(f, h->source);
		fprintf(f, " type=%s share=%s", h->type, share_name(h->share));
		if (h->data) {
			fprintf(f, " master=tmpfs %s data=\"", h->readonly ? "ro" : "rw");
			put(f, h->data);
			fputc('"', f);
		}
		fputc('\n', f);
	}
	static const char *const tmp[] = { "tmpfs-if-empty", "spec", "disabled" };
	fprintf(f, "tmp %s\n", tmp[p->tmp]);
	return ferror(f) ? -EIO : 0;
}
