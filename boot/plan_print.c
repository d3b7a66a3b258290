/* boot/plan_print.c — a mount plan as text, one line per mount in mount
 * order, for `uvfs boot --print`-style output and for tests:
 *   root 9p path=rootfs ro access=exclusive gofer=0 [fd=3 data=...]
 *   /proc proc fs=proc rw data="" added
 *   /dev/mqueue mqueue skipped
 * then one line per hint and the /tmp rule. */
#include <errno.h>
#include <stdio.h>

#include "boot/internal.h"

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
	fprintf(f, "root %s path=%s %s access=%s gofer=0", p->root.fs_name, p->root.path, p->root.readonly ? "ro" : "rw",
		access_name(p->root.access));
	if (p->root.fd >= 0)
		fprintf(f, " fd=%d data=\"%s\"", p->root.fd, p->root.data ? p->root.data : "");
	fputc('\n', f);
	for (size_t i = 0; i < p->nmounts; i++) {
		const struct uvfs_plan_mount *m = &p->mounts[i];
		fprintf(f, "%s %s", m->destination, m->type[0] ? m->type : "\"\"");
		if (!m->fs_name) {
			fputs(" skipped\n", f);
			continue;
		}
		fprintf(f, " fs=%s %s%s%s", m->fs_name, m->readonly ? "ro" : "rw", m->noatime ? ",noatime" : "",
			m->noexec ? ",noexec" : "");
		if (m->verity)
			fprintf(f, " lower=%s lower_data=\"%s\" action=%s", m->lower_fs_name,
				m->lower_data ? m->lower_data : "", m->verity_action_error ? "error" : "panic");
		fprintf(f, " data=\"%s\"", m->data ? m->data : "");
		if (m->gofer >= 0)
			fprintf(f, " gofer=%d access=%s", m->gofer, access_name(m->access));
		if (m->fd >= 0)
			fprintf(f, " fd=%d", m->fd);
		if (m->overlay)
			fputs(" overlay", f);
		if (m->hint >= 0)
			fprintf(f, " hint=%s%s", p->hints[m->hint].name, m->shared ? " shared" : "");
		if (m->added)
			fputs(" added", f);
		fputc('\n', f);
	}
	for (size_t i = 0; i < p->nhints; i++) {
		const struct uvfs_plan_hint *h = &p->hints[i];
		fprintf(f, "hint %s source=%s type=%s share=%s", h->name, h->source, h->type, share_name(h->share));
		if (h->data)
			fprintf(f, " master=tmpfs %s data=\"%s\"", h->readonly ? "ro" : "rw", h->data);
		fputc('\n', f);
	}
	static const char *const tmp[] = { "tmpfs-if-empty", "spec", "disabled" };
	fprintf(f, "tmp %s\n", tmp[p->tmp]);
	return ferror(f) ? -EIO : 0;
}
