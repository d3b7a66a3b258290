/* test_compile_mounts.c — compileMounts / prepareMounts / mount options as a
 * plan (spec §4.2–§4.6 with design.md §6), one test per rule, plus the plans
 * of unedited `runc spec` and `runc spec --rootless` output. Plans are
 * compared as printed by uvfs_mount_plan_print. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot/boot.h"

#define HEAD                                                                                                     \
	"{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs\"%s}, \"process\": {\"args\": [\"sh\"], "      \
	"\"cwd\": \"/\", \"user\": {\"uid\": 0, \"gid\": 0}}, \"mounts\": [%s], \"annotations\": {%s}}"

static struct uvfs_oci_spec *spec_of(const char *root_extra, const char *mounts, const char *annotations)
{
	char json[8192], err[512] = "";
	snprintf(json, sizeof json, HEAD, root_extra, mounts, annotations);
	struct uvfs_oci_spec *s = NULL;
	int rc = uvfs_oci_parse(json, strlen(json), "config.json", &s, err, sizeof err);
	cr_assert_eq(rc, 0, "parse: %s\n%s", err, json);
	return s;
}

static char *print_plan(const struct uvfs_mount_plan *p)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	cr_assert_not_null(f);
	cr_assert_eq(uvfs_mount_plan_print(p, f), 0);
	fclose(f);
	return buf;
}

/* Compiles, hands out fds 10, 11, ... (exactly as many as needed unless
 * nfds >= 0), prints. */
static char *plan_text(struct uvfs_oci_spec *s, unsigned flags)
{
	char err[512] = "";
	struct uvfs_mount_plan *p = NULL;
	int rc = uvfs_oci_compile_mounts(s, flags, &p, err, sizeof err);
	cr_assert_eq(rc, 0, "compile: %d %s", rc, err);
	int fds[64];
	for (int i = 0; i < 64; i++)
		fds[i] = 10 + i;
	cr_assert_leq(p->ngofers, 64);
	rc = uvfs_mount_plan_bind_fds(p, fds, p->ngofers, err, sizeof err);
	cr_assert_eq(rc, 0, "bind fds: %d %s", rc, err);
	char *t = print_plan(p);
	uvfs_mount_plan_free(p);
	return t;
}

static void expect_plan(const char *root_extra, const char *mounts, const char *annotations, unsigned flags,
			const char *expected)
{
	struct uvfs_oci_spec *s = spec_of(root_extra, mounts, annotations);
	char *t = plan_text(s, flags);
	cr_assert_str_eq(t, expected, "plan:\n%s\nexpected:\n%s", t, expected);
	free(t);
	uvfs_oci_spec_free(s);
}

/* Compile must fail with -EINVAL and exactly this message. */
static void expect_error(const char *mounts, const char *annotations, unsigned flags, const char *msg)
{
	struct uvfs_oci_spec *s = spec_of("", mounts, annotations);
	char err[512] = "";
	struct uvfs_mount_plan *p = (void *)1;
	int rc = uvfs_oci_compile_mounts(s, flags, &p, err, sizeof err);
	cr_assert_eq(rc, -EINVAL, "rc %d (%s)", rc, err);
	cr_assert_null(p);
	cr_assert_str_eq(err, msg);
	uvfs_oci_spec_free(s);
}

#define ROOT "root 9p path=rootfs rw access=exclusive gofer=0 fd=10 data=\"trans=fd,rfdno=10,wfdno=10,overlayfs_stale_read\"\n"
#define MANDATORY                                                                                                \
	"/sys sysfs fs=sysfs rw data=\"\" added\n"                                                               \
	"/dev devtmpfs fs=devtmpfs rw data=\"\" added\n"                                                         \
	"/proc proc fs=proc rw data=\"\" added\n"                                                                \
	"/dev/pts devpts fs=devpts rw data=\"\" added\n"

Test(compile, runc_spec_default_plan)
{
	char err[512];
	struct uvfs_oci_spec *s;
	cr_assert_eq(uvfs_oci_load("tests/boot/data/runc/config.json", &s, err, sizeof err), 0, "%s", err);
	char *t = plan_text(s, 0);
	const char *want =
		"root 9p path=rootfs ro access=exclusive gofer=0 fd=10 data=\"trans=fd,rfdno=10,wfdno=10,overlayfs_stale_read\"\n"
		"/dev devtmpfs fs=devtmpfs rw data=\"\"\n"
		"/sys sysfs fs=sysfs ro,noexec data=\"\"\n"
		"/proc proc fs=proc rw data=\"\"\n"
		"/dev/pts devpts fs=devpts rw,noexec data=\"\"\n"
		"/dev/shm tmpfs fs=tmpfs rw,noexec data=\"mode=1777,size=65536k\"\n"
		"/dev/mqueue mqueue skipped\n"
		"tmp tmpfs-if-empty\n";
	cr_assert_str_eq(t, want, "plan:\n%s", t);
	free(t);
	uvfs_oci_spec_free(s);
}

Test(compile, runc_spec_rootless_plan)
{
	char err[512];
	struct uvfs_oci_spec *s;
	cr_assert_eq(uvfs_oci_load("tests/boot/data/runc-rootless/config.json", &s, err, sizeof err), 0, "%s", err);
	char *t = plan_text(s, 0);
	/* type none + rbind: MaybeConvertToBindMount makes it a gofer bind. */
	const char *want =
		"root 9p path=rootfs ro access=exclusive gofer=0 fd=10 data=\"trans=fd,rfdno=10,wfdno=10,overlayfs_stale_read\"\n"
		"/dev devtmpfs fs=devtmpfs rw data=\"\"\n"
		"/sys bind fs=9p ro,noexec data=\"trans=fd,rfdno=11,wfdno=11,cache=remote_revalidating\" gofer=1 access=shared fd=11\n"
		"/proc proc fs=proc rw data=\"\"\n"
		"/dev/pts devpts fs=devpts rw,noexec data=\"\"\n"
		"/dev/shm tmpfs fs=tmpfs rw,noexec data=\"mode=1777,size=65536k\"\n"
		"/dev/mqueue mqueue skipped\n"
		"tmp tmpfs-if-empty\n";
	cr_assert_str_eq(t, want, "plan:\n%s", t);
	free(t);
	uvfs_oci_spec_free(s);
}

Test(compile, mandatory_mounts_prepended_when_absent)
{
	expect_plan("", "", "", 0, ROOT MANDATORY "tmp tmpfs-if-empty\n");
	/* Present ones are not added again and keep their place; a spec /dev of
	 * any type becomes devtmpfs, /dev/pts devpts; "/proc/" counts as /proc. */
	expect_plan("",
		    "{\"destination\": \"/dev/pts/\", \"type\": \"bind\", \"source\": \"/x\"},"
		    "{\"destination\": \"/proc/\", \"type\": \"proc\"},"
		    "{\"destination\": \"/dev\", \"type\": \"tmpfs\", \"options\": [\"mode=755\"]}",
		    "", 0,
		    ROOT "/sys sysfs fs=sysfs rw data=\"\" added\n"
			 "/dev devtmpfs fs=devtmpfs rw data=\"\"\n"
			 "/proc proc fs=proc rw data=\"\"\n"
			 "/dev/pts devpts fs=devpts rw data=\"\"\n"
			 "tmp tmpfs-if-empty\n");
}

Test(compile, cgroup_mounts_dropped_and_cgroupfs_flag)
{
	expect_plan("", "{\"destination\": \"/sys/fs/cgroup\", \"type\": \"cgroup\", \"options\": [\"ro\"]}", "", 0,
		    ROOT MANDATORY "tmp tmpfs-if-empty\n");
	/* A cgroup-typed /proc is dropped before the /proc check: /proc is added. */
	expect_plan("", "{\"destination\": \"/proc\", \"type\": \"cgroup\"}", "", 0, ROOT MANDATORY "tmp tmpfs-if-empty\n");
	expect_plan("", "", "", UVFS_OCI_CGROUPFS,
		    ROOT "/sys sysfs fs=sysfs rw data=\"\" added\n"
			 "/dev devtmpfs fs=devtmpfs rw data=\"\" added\n"
			 "/proc proc fs=proc rw data=\"\" added\n"
			 "/dev/pts devpts fs=devpts rw data=\"\" added\n"
			 "/sys/fs/cgroup tmpfs fs=tmpfs rw data=\"\" added\n"
			 "/sys/fs/cgroup/cpu cgroup fs=cgroup rw data=\"cpu\" added\n"
			 "/sys/fs/cgroup/memory cgroup fs=cgroup rw data=\"memory\" added\n"
			 "tmp tmpfs-if-empty\n");
}

Test(compile, stable_sort_by_destination_length)
{
	/* Equal lengths keep spec order (Go's sort.Slice does not promise it). */
	expect_plan("",
		    "{\"destination\": \"/bb/c\", \"type\": \"tmpfs\"}, {\"destination\": \"/zz\", \"type\": \"tmpfs\"},"
		    "{\"destination\": \"/aa\", \"type\": \"tmpfs\"}, {\"destination\": \"/a/cc\", \"type\": \"tmpfs\"},"
		    "{\"destination\": \"/mm\", \"type\": \"tmpfs\"}, {\"destination\": \"/a/bb\", \"type\": \"tmpfs\"}",
		    "", 0,
		    ROOT "/zz tmpfs fs=tmpfs rw data=\"\"\n"
			 "/aa tmpfs fs=tmpfs rw data=\"\"\n"
			 "/mm tmpfs fs=tmpfs rw data=\"\"\n"
			 "/sys sysfs fs=sysfs rw data=\"\" added\n"
			 "/dev devtmpfs fs=devtmpfs rw data=\"\" added\n"
			 "/proc proc fs=proc rw data=\"\" added\n"
			 "/bb/c tmpfs fs=tmpfs rw data=\"\"\n"
			 "/a/cc tmpfs fs=tmpfs rw data=\"\"\n"
			 "/a/bb tmpfs fs=tmpfs rw data=\"\"\n"
			 "/dev/pts devpts fs=devpts rw data=\"\" added\n"
			 "tmp tmpfs-if-empty\n");
}

Test(compile, stable_sort_many_equal_lengths)
{
	/* 60 destinations of one length after one longer: order must be spec order. */
	char mounts[6000] = "{\"destination\": \"/zzzz\", \"type\": \"tmpfs\"}";
	for (int i = 59; i >= 0; i--) {
		char m[80];
		snprintf(m, sizeof m, ",{\"destination\": \"/%03d\", \"type\": \"tmpfs\"}", i);
		strcat(mounts, m);
	}
	struct uvfs_oci_spec *s = spec_of("", mounts, "");
	char err[256];
	struct uvfs_mount_plan *p;
	cr_assert_eq(uvfs_oci_compile_mounts(s, UVFS_OCI_NO_TMP, &p, err, sizeof err), 0, "%s", err);
	int want = 59;
	for (size_t i = 0; i < p->nmounts; i++) {
		int v;
		if (sscanf(p->mounts[i].destination, "/%d", &v) == 1 && strlen(p->mounts[i].destination) == 4) {
			cr_assert_eq(v, want, "position %zu: /%03d, expected /%03d", i, v, want);
			want--;
		}
	}
	cr_assert_eq(want, -1);
	uvfs_mount_plan_free(p);
	uvfs_oci_spec_free(s);
}

Test(compile, relative_destinations_are_under_root)
{
	/* OCI: a relative destination is relative to "/"; ".." stops at "/". */
	expect_plan("",
		    "{\"destination\": \"data/./x/../y//\", \"type\": \"tmpfs\"},"
		    "{\"destination\": \"/../../z\", \"type\": \"tmpfs\"}",
		    "", UVFS_OCI_NO_TMP,
		    ROOT "/z tmpfs fs=tmpfs rw data=\"\"\n"
			 "/sys sysfs fs=sysfs rw data=\"\" added\n"
			 "/dev devtmpfs fs=devtmpfs rw data=\"\" added\n"
			 "/proc proc fs=proc rw data=\"\" added\n"
			 "/data/y tmpfs fs=tmpfs rw data=\"\"\n"
			 "/dev/pts devpts fs=devpts rw data=\"\" added\n"
			 "tmp disabled\n");
}

Test(compile, tmpfs_options_filtered)
{
	/* mode/uid/gid/size pass (seed), nr_inodes too (design.md §6); the rest
	 * are flags or dropped; order kept. */
	expect_plan("",
		    "{\"destination\": \"/t\", \"type\": \"tmpfs\", \"options\": [\"nosuid\", \"nr_inodes=5\", \"huge=always\","
		    " \"mode=1777\", \"ro\", \"uid=1\", \"size=1m\", \"gid=2\", \"noatime\", \"modex=1\"]}",
		    "", UVFS_OCI_NO_TMP,
		    ROOT "/t tmpfs fs=tmpfs ro,noatime data=\"nr_inodes=5,mode=1777,uid=1,size=1m,gid=2\"\n"
			 "/sys sysfs fs=sysfs rw data=\"\" added\n"
			 "/dev devtmpfs fs=devtmpfs rw data=\"\" added\n"
			 "/proc proc fs=proc rw data=\"\" added\n"
			 "/dev/pts devpts fs=devpts rw data=\"\" added\n"
			 "tmp disabled\n");
	expect_error("{\"destination\": \"/t\", \"type\": \"tmpfs\", \"options\": [\"mode=1=2\"]}", "", 0,
		     "config.json: mounts[0] (/t): invalid option \"mode=1=2\"");
}

Test(compile, none_is_sysfs_unknown_types_skipped)
{
	struct uvfs_oci_spec *s = spec_of("",
					  "{\"destination\": \"/n\", \"type\": \"none\", \"options\": [\"ro\"]},"
					  "{\"destination\": \"/q\", \"type\": \"mqueue\"},"
					  "{\"destination\": \"/e\", \"source\": \"/x\"}",
					  "");
	char err[256];
	struct uvfs_mount_plan *p;
	cr_assert_eq(uvfs_oci_compile_mounts(s, 0, &p, err, sizeof err), 0, "%s", err);
	cr_assert_eq(p->nwarnings, 3);
	cr_assert_str_eq(p->warnings[0], "/n: type \"none\" mounted as sysfs");
	cr_assert_str_eq(p->warnings[1], "/q: ignoring unknown filesystem type \"mqueue\"");
	cr_assert_str_eq(p->warnings[2], "/e: ignoring unknown filesystem type \"\"");
	cr_assert_eq(p->ngofers, 1, "skipped mounts take no gofer");
	char *t = print_plan(p);
	cr_assert(strstr(t, "/n none fs=sysfs ro data=\"\"\n"), "%s", t);
	cr_assert(strstr(t, "/q mqueue skipped\n"), "%s", t);
	cr_assert(strstr(t, "/e \"\" skipped\n"), "%s", t);
	free(t);
	uvfs_mount_plan_free(p);
	uvfs_oci_spec_free(s);
}

Test(compile, verity_options)
{
	/* The verity mount keeps ro/noexec/noatime (design.md §6: the seed drops them). */
	expect_plan("",
		    "{\"destination\": \"/v/img\", \"type\": \"bind\", \"source\": \"/h\", \"options\": [\"ro\","
		    " \"verity.roothash = ab12 \", \"noexec\", \"verity.action=error\"]}",
		    "", UVFS_OCI_NO_TMP,
		    ROOT "/sys sysfs fs=sysfs rw data=\"\" added\n"
			 "/dev devtmpfs fs=devtmpfs rw data=\"\" added\n"
			 "/proc proc fs=proc rw data=\"\" added\n"
			 "/v/img bind fs=verity ro,noexec lower=9p lower_data=\"trans=fd,rfdno=11,wfdno=11,cache=remote_revalidating\" action=error data=\"root_hash=ab12,root_name=img\" gofer=1 access=shared fd=11\n"
			 "/dev/pts devpts fs=devpts rw data=\"\" added\n"
			 "tmp disabled\n");
	/* No root hash: runtime enable; a bad action is a warning (panic). */
	struct uvfs_oci_spec *s = spec_of("",
					  "{\"destination\": \"/w\", \"type\": \"tmpfs\", \"options\": [\"verity.action=boom\","
					  " \"mode=700\"]}",
					  "");
	char err[256];
	struct uvfs_mount_plan *p;
	cr_assert_eq(uvfs_oci_compile_mounts(s, 0, &p, err, sizeof err), 0, "%s", err);
	char *t = print_plan(p);
	cr_assert(strstr(t, "/w tmpfs fs=verity rw lower=tmpfs lower_data=\"mode=700\" action=panic data=\"root_hash=,root_name=w\"\n"),
		  "%s", t);
	cr_assert_str_eq(p->warnings[0], "/w: invalid verity action \"boom\", using panic");
	free(t);
	uvfs_mount_plan_free(p);
	uvfs_oci_spec_free(s);
	expect_error("{\"destination\": \"/v\", \"type\": \"tmpfs\", \"options\": [\"verity.roothash\"]}", "", 0,
		     "config.json: mounts[0] (/v): invalid verity mount option with no value: \"verity.roothash\"");
	expect_error("{\"destination\": \"/v\", \"type\": \"tmpfs\", \"options\": [\"verity.salt=1\"]}", "", 0,
		     "config.json: mounts[0] (/v): unknown verity mount option: \"verity.salt\"");
}

Test(compile, tmp_rule_inputs)
{
	char err[256];
	struct uvfs_mount_plan *p;
	struct {
		const char *mounts;
		unsigned flags;
		enum uvfs_tmp_rule want;
	} cases[] = {
		{ "", 0, UVFS_TMP_IF_EMPTY },
		{ "", UVFS_OCI_NO_TMP, UVFS_TMP_DISABLED },
		{ "{\"destination\": \"/tmp\", \"type\": \"tmpfs\"}", 0, UVFS_TMP_SPEC },
		/* Cleaned: the seed's "/tmp/" escaped the exact test (quirk 11). */
		{ "{\"destination\": \"/tmp/\", \"type\": \"tmpfs\"}", 0, UVFS_TMP_SPEC },
		/* Any type counts, even one that is then skipped (as the seed). */
		{ "{\"destination\": \"/tmp\", \"type\": \"mqueue\"}", 0, UVFS_TMP_SPEC },
		{ "{\"destination\": \"/tmp/x\", \"type\": \"tmpfs\"}", 0, UVFS_TMP_IF_EMPTY },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct uvfs_oci_spec *s = spec_of("", cases[i].mounts, "");
		cr_assert_eq(uvfs_oci_compile_mounts(s, cases[i].flags, &p, err, sizeof err), 0, "%s", err);
		cr_assert_eq(p->tmp, cases[i].want, "case %zu: %d", i, p->tmp);
		uvfs_mount_plan_free(p);
		uvfs_oci_spec_free(s);
	}
}

/* ------------------------------------------------------------ gofer fds */

#define BINDS                                                                                                    \
	"{\"destination\": \"/long/er/path\", \"type\": \"bind\", \"source\": \"/a\"},"                          \
	"{\"destination\": \"/s\", \"type\": \"tmpfs\", \"source\": \"/b\", \"options\": [\"rbind\", \"ro\"]},"   \
	"{\"destination\": \"/t\", \"type\": \"tmpfs\"},"                                                        \
	"{\"destination\": \"/mid/x\", \"type\": \"bind\", \"source\": \"/c\", \"options\": [\"rw\"]}"

Test(fds, root_first_then_binds_in_spec_order)
{
	/* Sorting puts /s first, but fds follow spec order: /long/er/path 11, /s 12, /mid/x 13. */
	expect_plan("", BINDS, "", UVFS_OCI_NO_TMP,
		    ROOT "/s bind fs=9p ro data=\"trans=fd,rfdno=12,wfdno=12,cache=remote_revalidating\" gofer=2 access=shared fd=12\n"
			 "/t tmpfs fs=tmpfs rw data=\"\"\n"
			 "/sys sysfs fs=sysfs rw data=\"\" added\n"
			 "/dev devtmpfs fs=devtmpfs rw data=\"\" added\n"
			 "/proc proc fs=proc rw data=\"\" added\n"
			 "/mid/x bind fs=9p rw data=\"trans=fd,rfdno=13,wfdno=13,cache=remote_revalidating\" gofer=3 access=shared fd=13\n"
			 "/dev/pts devpts fs=devpts rw data=\"\" added\n"
			 "/long/er/path bind fs=9p rw data=\"trans=fd,rfdno=11,wfdno=11,cache=remote_revalidating\" gofer=1 access=shared fd=11\n"
			 "tmp disabled\n");
}

static struct uvfs_mount_plan *binds_plan(struct uvfs_oci_spec **s, unsigned flags)
{
	char err[256];
	struct uvfs_mount_plan *p;
	*s = spec_of("", BINDS, "");
	cr_assert_eq(uvfs_oci_compile_mounts(*s, flags, &p, err, sizeof err), 0, "%s", err);
	cr_assert_eq(p->ngofers, 4);
	return p;
}

Test(fds, leftover_fd_is_the_seed_error)
{
	struct uvfs_oci_spec *s;
	struct uvfs_mount_plan *p = binds_plan(&s, 0);
	int fds[] = { 3, 4, 5, 6, 7, 8 };
	char err[256];
	cr_assert_eq(uvfs_mount_plan_bind_fds(p, fds, 6, err, sizeof err), -EINVAL);
	cr_assert_str_eq(err, "not all gofer FDs were consumed, remaining: [7 8]");
	cr_assert_eq(p->root.fd, -1, "plan unchanged on error");
	cr_assert_null(p->root.data);
	cr_assert_eq(uvfs_mount_plan_bind_fds(p, fds, 4, err, sizeof err), 0, "%s", err);
	cr_assert_eq(p->root.fd, 3);
	uvfs_mount_plan_free(p);
	uvfs_oci_spec_free(s);
}

Test(fds, running_out_is_an_error_not_an_abort)
{
	struct uvfs_oci_spec *s;
	struct uvfs_mount_plan *p = binds_plan(&s, 0);
	int fds[] = { 3, 4 };
	char err[256];
	cr_assert_eq(uvfs_mount_plan_bind_fds(p, fds, 2, err, sizeof err), -EBADF);
	cr_assert_str_eq(err, "out of gofer FDs: 2 given, 4 needed (none left for /s)");
	cr_assert_eq(uvfs_mount_plan_bind_fds(p, NULL, 0, err, sizeof err), -EBADF);
	cr_assert_str_eq(err, "out of gofer FDs: 0 given, 4 needed (none left for /)");
	for (size_t i = 0; i < p->nmounts; i++)
		cr_assert_eq(p->mounts[i].fd, -1);
	uvfs_mount_plan_free(p);
	uvfs_oci_spec_free(s);
}

Test(fds, fd_zero_for_a_bind_is_refused)
{
	struct uvfs_oci_spec *s;
	struct uvfs_mount_plan *p = binds_plan(&s, 0);
	int fds[] = { 3, 4, 0, 6 };
	char err[256];
	cr_assert_eq(uvfs_mount_plan_bind_fds(p, fds, 4, err, sizeof err), -EINVAL);
	cr_assert_str_eq(err, "mount submount \"/s\": 9P mount requires a connection FD");
	uvfs_mount_plan_free(p);
	uvfs_oci_spec_free(s);
}

Test(fds, access_and_overlay_flags)
{
	/* Root shared, mounts exclusive, overlay: writable binds get an overlay,
	 * the ro one does not; a writable root becomes an overlay. */
	struct uvfs_oci_spec *s;
	struct uvfs_mount_plan *p = binds_plan(&s, UVFS_OCI_OVERLAY | UVFS_OCI_ROOT_SHARED | UVFS_OCI_MOUNTS_EXCLUSIVE);
	int fds[] = { 3, 4, 5, 6 };
	char err[256];
	cr_assert_eq(uvfs_mount_plan_bind_fds(p, fds, 4, err, sizeof err), 0, "%s", err);
	char *t = print_plan(p);
	cr_assert(strstr(t, "root overlay path=rootfs rw access=shared gofer=0 fd=3 data=\"trans=fd,rfdno=3,wfdno=3,cache=remote_revalidating,overlayfs_stale_read\"\n"), "%s", t);
	cr_assert(strstr(t, "/s bind fs=9p ro data=\"trans=fd,rfdno=5,wfdno=5\" gofer=2 access=exclusive fd=5\n"), "%s", t);
	cr_assert(strstr(t, "/mid/x bind fs=9p rw data=\"trans=fd,rfdno=6,wfdno=6\" gofer=3 access=exclusive fd=6 overlay\n"), "%s", t);
	free(t);
	uvfs_mount_plan_free(p);
	uvfs_oci_spec_free(s);
	/* A read-only root stays 9p under --overlay. */
	s = spec_of(", \"readonly\": true", "", "");
	cr_assert_eq(uvfs_oci_compile_mounts(s, UVFS_OCI_OVERLAY, &p, err, sizeof err), 0, "%s", err);
	cr_assert_str_eq(p->root.fs_name, "9p");
	cr_assert(p->root.readonly);
	uvfs_mount_plan_free(p);
	uvfs_oci_spec_free(s);
}

Test(print, one_line_per_mount_whatever_the_names)
{
	/* Destinations and data may hold spaces, newlines, backslashes: escaped
	 * as /proc/mounts does, so the printed plan keeps one line per mount. */
	expect_plan("",
		    "{\"destination\": \"/a b\\n\\\\c\", \"type\": \"tmpfs\", \"options\": [\"mode=1\\t7\"]}",
		    "", UVFS_OCI_NO_TMP,
		    ROOT "/sys sysfs fs=sysfs rw data=\"\" added\n"
			 "/dev devtmpfs fs=devtmpfs rw data=\"\" added\n"
			 "/proc proc fs=proc rw data=\"\" added\n"
			 "/a\\040b\\012\\134c tmpfs fs=tmpfs rw data=\"mode=1\\0117\"\n"
			 "/dev/pts devpts fs=devpts rw data=\"\" added\n"
			 "tmp disabled\n");
}

Test(fds, bind_without_source_is_an_error)
{
	/* The gofer side serves only binds with a source (runsc's Is9PMount);
	 * the seed's sandbox side still took an fd for a source-less bind, so
	 * every later bind got its neighbour's fd. We refuse the spec instead. */
	expect_error("{\"destination\": \"/a\", \"type\": \"bind\", \"source\": \"/h\"},"
		     "{\"destination\": \"/x\", \"options\": [\"rbind\"]}",
		     "", 0, "config.json: mounts[1] (/x): bind mount without a source");
}
