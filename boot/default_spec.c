/* boot/default_spec.c — the default config.json of `uvfs spec`, the same
 * document as `runc spec` (and `runsc spec`): runc's example spec, and with
 * rootless its --rootless variant (no gid= on /dev/pts, /sys a recursive
 * bind of the host's /sys, no device cgroup rule, a user namespace mapping
 * container root to the caller, no network namespace). Built with jansson
 * in runc's key order. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "boot/internal.h"

static json_t *strs(const char *const *v)
{
	json_t *a = json_array();
	for (; a && *v; v++)
		json_array_append_new(a, json_string(*v));
	return a;
}

static json_t *mount(const char *dest, const char *type, const char *src, const char *const *opts)
{
	json_t *m = json_pack("{s:s, s:s, s:s}", "destination", dest, "type", type, "source", src);
	if (m && opts)
		json_object_set_new(m, "options", strs(opts));
	return m;
}

static json_t *ids(uint32_t host)
{
	return json_pack("[{s:i, s:I, s:i}]", "containerID", 0, "hostID", (json_int_t)host, "size", 1);
}

UVFS_API int uvfs_oci_default_spec(bool rootless, uint32_t uid, uint32_t gid, char **out)
{
	static const char *const caps[] = { "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", NULL };
	static const char *const env[] = { "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
					   "TERM=xterm", NULL };
	static const char *const dev[] = { "nosuid", "strictatime", "mode=755", "size=65536k", NULL };
	static const char *const pts[] = { "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5", NULL };
	static const char *const pts_rootless[] = { "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", NULL };
	static const char *const shm[] = { "nosuid", "noexec", "nodev", "mode=1777", "size=65536k", NULL };
	static const char *const mq[] = { "nosuid", "noexec", "nodev", NULL };
	static const char *const sys[] = { "nosuid", "noexec", "nodev", "ro", NULL };
	static const char *const sys_rootless[] = { "rbind", "nosuid", "noexec", "nodev", "ro", NULL };
	static const char *const cg[] = { "nosuid", "noexec", "nodev", "relatime", "ro", NULL };
	static const char *const masked[] = { "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
					      "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
					      "/proc/sched_debug", "/sys/firmware", "/proc/scsi", NULL };
	static const char *const ro_paths[] = { "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
						NULL };
	*out = NULL;
	json_t *capo = json_pack("{s:o, s:o, s:o, s:o}", "bounding", strs(caps), "effective", strs(caps), "permitted",
				 strs(caps), "ambient", strs(caps));
	json_t *process = json_pack("{s:b, s:{s:i, s:i}, s:[s], s:o, s:s, s:o, s:[{s:s, s:i, s:i}], s:b}", "terminal", 1,
				    "user", "uid", 0, "gid", 0, "args", "sh", "env", strs(env), "cwd", "/",
				    "capabilities", capo, "rlimits", "type", "RLIMIT_NOFILE", "hard", 1024, "soft", 1024,
				    "noNewPrivileges", 1);
	json_t *mounts = json_pack("[o, o, o, o, o, o, o]", mount("/proc", "proc", "proc", NULL),
				   mount("/dev", "tmpfs", "tmpfs", dev),
				   mount("/dev/pts", "devpts", "devpts", rootless ? pts_rootless : pts),
				   mount("/dev/shm", "tmpfs", "shm", shm), mount("/dev/mqueue", "mqueue", "mqueue", mq),
				   rootless ? mount("/sys", "none", "/sys", sys_rootless) : mount("/sys", "sysfs", "sysfs", sys),
				   mount("/sys/fs/cgroup", "cgroup", "cgroup", cg));
	json_t *linux_ = json_object();
	json_t *ns = json_array();
	const char *const nsv[] = { "pid", "network", "ipc", "uts", "mount", "user" };
	for (size_t i = 0; ns && i < 6; i++) {
		bool want = rootless ? i != 1 : i != 5;
		if (want)
			json_array_append_new(ns, json_pack("{s:s}", "type", nsv[i]));
	}
	if (linux_) {
		if (rootless) {
			json_object_set_new(linux_, "uidMappings", ids(uid));
			json_object_set_new(linux_, "gidMappings", ids(gid));
		} else {
			json_object_set_new(linux_, "resources",
					    json_pack("{s:[{s:b, s:s}]}", "devices", "allow", 0, "access", "rwm"));
		}
		json_object_set_new(linux_, "namespaces", ns);
		json_object_set_new(linux_, "maskedPaths", strs(masked));
		json_object_set_new(linux_, "readonlyPaths", strs(ro_paths));
	}
	json_t *doc = json_pack("{s:s, s:o, s:{s:s, s:b}, s:s, s:o, s:o}", "ociVersion", "1.0.2-dev", "process", process,
				"root", "path", "rootfs", "readonly", 1, "hostname", "runc", "mounts", mounts, "linux",
				linux_);
	/* json_pack steals "o" arguments even on failure; a NULL one fails it. */
	if (!doc)
		return -ENOMEM;
	*out = json_dumps(doc, JSON_INDENT(8) | JSON_PRESERVE_ORDER);
	json_decref(doc);
	if (!*out)
		return -ENOMEM;
	size_t n = strlen(*out);
	char *nl = realloc(*out, n + 2);
	if (!nl) {
		free(*out);
		*out = NULL;
		return -ENOMEM;
	}
	strcpy(nl + n, "\n");
	*out = nl;
	return 0;
}

UVFS_API int uvfs_oci_host_spec(struct uvfs_oci_spec **out, char *err, size_t errlen)
{
	char *text;
	int rc = uvfs_oci_default_spec(false, 0, 0, &text);
	if (rc)
		return rc;
	json_error_t je;
	json_t *doc = json_loads(text, 0, &je);
	free(text);
	if (!doc)
		return -ENOMEM;
	/* runsc do: the host's / read-only under a tmpfs overlay (the caller
	 * compiles with UVFS_OCI_OVERLAY), a root shell in "/". */
	json_t *root = json_object_get(doc, "root");
	rc = json_object_set_new(root, "path", json_string("/")) ||
			     json_object_set_new(root, "readonly", json_false()) ||
			     json_object_set_new(json_object_get(doc, "process"), "terminal", json_false()) ||
			     json_object_set_new(doc, "hostname", json_string("uvfs"))
		     ? -ENOMEM
		     : 0;
	char *s = rc ? NULL : json_dumps(doc, JSON_PRESERVE_ORDER);
	json_decref(doc);
	if (!s)
		return -ENOMEM;
	rc = uvfs_oci_parse(s, strlen(s), "(host default)", out, err, errlen);
	free(s);
	return rc;
}
