/* test_hints.c — pod mount hints from annotations (spec §4.4–§4.5): valid
 * hints, each invalid form with the seed's wording, the compatibility check,
 * and our fix for bind-typed container mounts of a pod-shared tmpfs. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot/boot.h"

#define HEAD                                                                                                     \
	"{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs\"}, \"process\": {\"args\": [\"sh\"], "        \
	"\"cwd\": \"/\", \"user\": {\"uid\": 0, \"gid\": 0}}, \"mounts\": [%s], \"annotations\": {%s}}"
#define A(name, field, val) "\"dev.gvisor.spec.mount." name "." field "\": \"" val "\""

static int compile(const char *mounts, const char *ann, struct uvfs_mount_plan **p, struct uvfs_oci_spec **s,
		   char *err, size_t errlen)
{
	char json[8192], perr[256] = "";
	snprintf(json, sizeof json, HEAD, mounts, ann);
	cr_assert_eq(uvfs_oci_parse(json, strlen(json), "config.json", s, perr, sizeof perr), 0, "%s\n%s", perr, json);
	return uvfs_oci_compile_mounts(*s, UVFS_OCI_NO_TMP, p, err, errlen);
}

static void expect_error(const char *mounts, const char *ann, const char *msg)
{
	struct uvfs_mount_plan *p = (void *)1;
	struct uvfs_oci_spec *s;
	char err[512] = "";
	cr_assert_eq(compile(mounts, ann, &p, &s, err, sizeof err), -EINVAL, "%s", err);
	cr_assert_null(p);
	cr_assert_str_eq(err, msg);
	uvfs_oci_spec_free(s);
}

#define POD A("vol", "source", "/k/vol") ", " A("vol", "type", "tmpfs") ", " A("vol", "share", "pod")

Test(hints, valid_pod_tmpfs_hint_is_shared)
{
	struct uvfs_mount_plan *p;
	struct uvfs_oci_spec *s;
	char err[512] = "";
	cr_assert_eq(compile("{\"destination\": \"/data\", \"type\": \"tmpfs\", \"source\": \"/k/vol\","
			     " \"options\": [\"rw\", \"mode=1777\", \"nosuid\"]}",
			     POD ", " A("vol", "options", "rw,mode=1777") ", \"other.annotation\": \"x\"", &p, &s, err,
			     sizeof err),
		     0, "%s", err);
	cr_assert_eq(p->nhints, 1);
	cr_assert_str_eq(p->hints[0].name, "vol");
	cr_assert_eq(p->hints[0].share, UVFS_SHARE_POD);
	cr_assert_eq(p->hints[0].noptions, 2);
	cr_assert_str_eq(p->hints[0].options[0], "mode=1777", "options are sorted");
	cr_assert_str_eq(p->hints[0].data, "mode=1777", "the master's tmpfs data");
	const struct uvfs_plan_mount *m = NULL;
	for (size_t i = 0; i < p->nmounts; i++)
		if (!strcmp(p->mounts[i].destination, "/data"))
			m = &p->mounts[i];
	cr_assert_not_null(m);
	cr_assert(m->shared);
	cr_assert_eq(m->hint, 0);
	cr_assert_str_eq(m->data, "", "the master's data applies, not the container's");
	cr_assert_eq(p->ngofers, 1);
	uvfs_mount_plan_free(p);
	uvfs_oci_spec_free(s);
}

Test(hints, container_share_sets_exclusive_access_on_bind)
{
	struct uvfs_mount_plan *p;
	struct uvfs_oci_spec *s;
	char err[512] = "";
	cr_assert_eq(compile("{\"destination\": \"/d\", \"type\": \"bind\", \"source\": \"/h/d\"},"
			     "{\"destination\": \"/e\", \"type\": \"bind\", \"source\": \"/h/e\"}",
			     A("c", "source", "/h/d") ", " A("c", "type", "bind") ", " A("c", "share", "container") ", "
			     A("x", "source", "/h/e") ", " A("x", "type", "bind") ", " A("x", "share", "shared"),
			     &p, &s, err, sizeof err),
		     0, "%s", err);
	cr_assert_eq(p->ngofers, 3, "bind hints are not shared masters: both need gofers");
	for (size_t i = 0; i < p->nmounts; i++) {
		if (!strcmp(p->mounts[i].destination, "/d"))
			cr_assert_eq(p->mounts[i].access, UVFS_ACCESS_EXCLUSIVE);
		if (!strcmp(p->mounts[i].destination, "/e"))
			cr_assert_eq(p->mounts[i].access, UVFS_ACCESS_SHARED);
		cr_assert_not(p->mounts[i].shared);
	}
	uvfs_mount_plan_free(p);
	uvfs_oci_spec_free(s);
}

Test(hints, hint_options_accept_mode_uid_gid)
{
	/* design.md §6: the seed rejected "mode=1777" as an unknown option. */
	struct uvfs_mount_plan *p;
	struct uvfs_oci_spec *s;
	char err[512] = "";
	cr_assert_eq(compile("", POD ", " A("vol", "options", "uid=1000,gid=1000,mode=0700,noexec"), &p, &s, err,
			     sizeof err),
		     0, "%s", err);
	cr_assert_str_eq(p->hints[0].data, "gid=1000,mode=0700,uid=1000");
	cr_assert(p->hints[0].noexec);
	uvfs_mount_plan_free(p);
	uvfs_oci_spec_free(s);
}

#define E(msg) "config.json: annotations" msg

Test(hints, invalid_forms_seed_wording)
{
	expect_error("", "\"dev.gvisor.spec.mount.a.b.c\": \"x\"",
		     E("[\"dev.gvisor.spec.mount.a.b.c\"]: invalid mount annotation: dev.gvisor.spec.mount.a.b.c=x"));
	expect_error("", "\"dev.gvisor.spec.mount.nofield\": \"x\"",
		     E("[\"dev.gvisor.spec.mount.nofield\"]: invalid mount annotation: dev.gvisor.spec.mount.nofield=x"));
	expect_error("", "\"dev.gvisor.spec.mount..source\": \"/x\"",
		     E("[\"dev.gvisor.spec.mount..source\"]: invalid mount name: "));
	expect_error("", A("v", "source", ""), E("[\"dev.gvisor.spec.mount.v.source\"]: source cannot be empty"));
	expect_error("", A("v", "type", "nfs"), E("[\"dev.gvisor.spec.mount.v.type\"]: invalid type \"nfs\""));
	expect_error("", A("v", "share", "world"), E("[\"dev.gvisor.spec.mount.v.share\"]: invalid share value \"world\""));
	expect_error("", A("v", "options", "rw,bogus"), E("[\"dev.gvisor.spec.mount.v.options\"]: unknown mount option \"bogus\""));
	expect_error("", A("v", "options", "rshared"),
		     E("[\"dev.gvisor.spec.mount.v.options\"]: mount option \"rshared\" is not supported"));
	expect_error("", A("v", "options", "mode="), E("[\"dev.gvisor.spec.mount.v.options\"]: unknown mount option \"mode=\""));
	expect_error("", A("v", "size", "1m"), E("[\"dev.gvisor.spec.mount.v.size\"]: invalid mount annotation: size=1m"));
	expect_error("", A("v", "source", "/x") ", " A("v", "type", "tmpfs"), E(": share field for \"v\" has not been set"));
	expect_error("", A("v", "share", "pod") ", " A("v", "type", "tmpfs"), E(": source field for \"v\" has not been set"));
	expect_error("", A("v", "share", "pod") ", " A("v", "source", "/x"), E(": type field for \"v\" has not been set"));
	expect_error("",
		     POD ", " A("w", "source", "/k/vol") ", " A("w", "type", "tmpfs") ", " A("w", "share", "container"),
		     E(": mounts \"vol\" and \"w\" have the same mount source \"/k/vol\""));
}

Test(hints, incompatible_container_mount)
{
	expect_error("{\"destination\": \"/data\", \"type\": \"tmpfs\", \"source\": \"/k/vol\", \"options\": [\"ro\"]}",
		     POD ", " A("vol", "options", "rw"),
		     "config.json: mounts[0] (/data): shared mount \"vol\": mount options in annotations differ from container mount,"
		     " annotation: [rw], mount: [ro]");
	expect_error("{\"destination\": \"/data\", \"type\": \"tmpfs\", \"source\": \"/k/vol\", \"options\": [\"mode=0700\"]}",
		     POD ", " A("vol", "options", "mode=1777"),
		     "config.json: mounts[0] (/data): shared mount \"vol\": mount options in annotations differ from container mount,"
		     " annotation: [mode=1777], mount: [mode=0700]");
}

Test(hints, bind_typed_container_mount_uses_the_shared_master)
{
	/* k8s emptyDir: the container's mount is a bind of the pod volume. The
	 * seed tried a 9P mount with fd 0 ("9P mount requires a connection FD");
	 * we bind the pod's tmpfs master, take no gofer fd, and compare only
	 * the flags a bind can carry. */
	struct uvfs_mount_plan *p;
	struct uvfs_oci_spec *s;
	char err[512] = "";
	cr_assert_eq(compile("{\"destination\": \"/cache\", \"type\": \"bind\", \"source\": \"/k/vol\","
			     " \"options\": [\"rbind\", \"rprivate\", \"rw\"]},"
			     "{\"destination\": \"/other\", \"type\": \"bind\", \"source\": \"/h/o\"}",
			     POD ", " A("vol", "options", "rw,mode=1777"), &p, &s, err, sizeof err),
		     0, "%s", err);
	cr_assert_eq(p->ngofers, 2, "only the root and /other need a gofer");
	int fds[] = { 5, 6 };
	cr_assert_eq(uvfs_mount_plan_bind_fds(p, fds, 2, err, sizeof err), 0, "%s", err);
	for (size_t i = 0; i < p->nmounts; i++) {
		const struct uvfs_plan_mount *m = &p->mounts[i];
		if (!strcmp(m->destination, "/cache")) {
			cr_assert(m->shared);
			cr_assert_eq(m->gofer, -1);
			cr_assert_eq(m->fd, -1);
			cr_assert_str_eq(m->fs_name, "tmpfs");
			cr_assert_not(m->readonly);
		}
		if (!strcmp(m->destination, "/other"))
			cr_assert_eq(m->fd, 6);
	}
	uvfs_mount_plan_free(p);
	uvfs_oci_spec_free(s);
	/* Flags still have to agree. */
	expect_error("{\"destination\": \"/cache\", \"type\": \"bind\", \"source\": \"/k/vol\", \"options\": [\"rbind\", \"ro\"]}",
		     POD ", " A("vol", "options", "rw,mode=1777"),
		     "config.json: mounts[0] (/cache): shared mount \"vol\": mount options in annotations differ from container mount,"
		     " annotation: [rw], mount: [ro]");
}

Test(hints, first_error_is_deterministic)
{
	/* Annotations are taken in file order (Go's map order is random). */
	for (int i = 0; i < 3; i++)
		expect_error("", A("a", "type", "bad") ", " A("b", "share", "bad"),
			     E("[\"dev.gvisor.spec.mount.a.type\"]: invalid type \"bad\""));
}
