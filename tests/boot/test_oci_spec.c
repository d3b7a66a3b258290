/* test_oci_spec.c — config.json parsing: unedited `runc spec` output, and a
 * corpus of malformed files (tests/boot/data/bad/NAME.json) each giving the
 * one error in NAME.err (the message after the file name). Run from the
 * repository root, as scripts/run-tests.sh does. ASan checks that nothing
 * leaks on any error path. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "boot/boot.h"

#define DATA "tests/boot/data/"

static struct uvfs_oci_spec *load_ok(const char *path)
{
	char err[512] = "";
	struct uvfs_oci_spec *s = NULL;
	int rc = uvfs_oci_load(path, &s, err, sizeof err);
	cr_assert_eq(rc, 0, "load %s: %d: %s", path, rc, err);
	cr_assert_not_null(s);
	return s;
}

static int parse_str(const char *json, char *err, size_t errlen, struct uvfs_oci_spec **s)
{
	return uvfs_oci_parse(json, strlen(json), "config.json", s, err, errlen);
}

Test(oci_spec, runc_spec_unedited)
{
	struct uvfs_oci_spec *s = load_ok(DATA "runc/config.json");
	cr_assert_str_eq(s->oci_version, "1.0.2-dev");
	cr_assert_str_eq(s->root_path, "rootfs");
	cr_assert(s->root_readonly);
	cr_assert_eq(s->nmounts, 7);
	const char *dests[] = { "/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup" };
	const char *types[] = { "proc", "tmpfs", "devpts", "tmpfs", "mqueue", "sysfs", "cgroup" };
	for (size_t i = 0; i < 7; i++) {
		cr_assert_str_eq(s->mounts[i].destination, dests[i]);
		cr_assert_str_eq(s->mounts[i].type, types[i]);
	}
	cr_assert_eq(s->mounts[0].noptions, 0);
	cr_assert_eq(s->mounts[3].noptions, 5);
	cr_assert_str_eq(s->mounts[3].source, "shm");
	cr_assert_str_eq(s->mounts[3].options[3], "mode=1777");
	cr_assert_eq(s->nargs, 1);
	cr_assert_str_eq(s->args[0], "sh");
	cr_assert_eq(s->nenv, 2);
	cr_assert_str_eq(s->env[1], "TERM=xterm");
	cr_assert_str_eq(s->cwd, "/");
	cr_assert_eq(s->uid, 0);
	cr_assert_eq(s->gid, 0);
	cr_assert(s->terminal);
	cr_assert_str_eq(s->hostname, "runc");
	cr_assert_eq(s->nannotations, 0);
	cr_assert_null(s->cgroups_path);
	uvfs_oci_spec_free(s);
}

Test(oci_spec, runc_spec_rootless_unedited)
{
	struct uvfs_oci_spec *s = load_ok(DATA "runc-rootless/config.json");
	cr_assert_eq(s->nmounts, 7);
	cr_assert_str_eq(s->mounts[5].type, "none");
	cr_assert_str_eq(s->mounts[5].source, "/sys");
	cr_assert_eq(s->mounts[5].noptions, 5);
	cr_assert_str_eq(s->mounts[5].options[0], "rbind");
	uvfs_oci_spec_free(s);
}

/* What this machine's runc writes today loads too (skipped without runc). */
Test(oci_spec, runc_spec_live)
{
	if (access("/usr/sbin/runc", X_OK) && access("/usr/bin/runc", X_OK))
		cr_skip_test("runc not installed");
	for (int rootless = 0; rootless < 2; rootless++) {
		char dir[] = "/tmp/uvfs-ocispec-XXXXXX", cmd[256], path[300];
		cr_assert_not_null(mkdtemp(dir));
		snprintf(cmd, sizeof cmd, "cd %s && runc spec%s", dir, rootless ? " --rootless" : "");
		cr_assert_eq(system(cmd), 0, "%s", cmd);
		snprintf(path, sizeof path, "%s/config.json", dir);
		struct uvfs_oci_spec *s = load_ok(path);
		cr_assert_gt(s->nmounts, 0);
		uvfs_oci_spec_free(s);
		unlink(path);
		rmdir(dir);
	}
}

Test(oci_spec, optional_fields)
{
	const char *j = "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"/r\"},"
			" \"process\": {\"args\": [\"/bin/true\", \"x\"], \"cwd\": \"/home\","
			" \"user\": {\"uid\": 1000, \"gid\": 100, \"additionalGids\": [4, 4294967295]}},"
			" \"annotations\": {\"b\": \"2\", \"a\": \"1\"},"
			" \"linux\": {\"cgroupsPath\": \"/kubepods/x\"}, \"unknown\": {\"ignored\": [1]}}";
	char err[256] = "";
	struct uvfs_oci_spec *s;
	cr_assert_eq(parse_str(j, err, sizeof err, &s), 0, "%s", err);
	cr_assert_not(s->root_readonly);
	cr_assert_eq(s->nmounts, 0);
	cr_assert_eq(s->uid, 1000);
	cr_assert_eq(s->gid, 100);
	cr_assert_eq(s->nadditional_gids, 2);
	cr_assert_eq(s->additional_gids[1], 4294967295u);
	cr_assert_eq(s->nannotations, 2);
	cr_assert_str_eq(s->annotations[0].key, "b", "annotations keep file order");
	cr_assert_str_eq(s->annotations[1].value, "1");
	cr_assert_str_eq(s->cgroups_path, "/kubepods/x");
	cr_assert_null(s->hostname);
	cr_assert_eq(s->nenv, 0);
	uvfs_oci_spec_free(s);
}

Test(oci_spec, missing_file_names_path)
{
	char err[256] = "";
	struct uvfs_oci_spec *s = (void *)1;
	cr_assert_eq(uvfs_oci_load(DATA "nope/config.json", &s, err, sizeof err), -ENOENT);
	cr_assert_null(s);
	cr_assert(strstr(err, DATA "nope/config.json"), "%s", err);
	cr_assert_eq(uvfs_oci_load(DATA "runc", &s, err, sizeof err), -EISDIR);
}

Test(oci_spec, nested_field_position)
{
	/* The column is the value's, and keys that are not identifiers are quoted. */
	const char *j = "{\"ociVersion\": \"1\", \"root\": {\"path\": \"r\"}, \"process\": {\"args\": [\"sh\"],"
			" \"cwd\": \"/\", \"user\": {\"uid\": 0, \"gid\": 0}},\n"
			"  \"annotations\": {\"a\\\"b\": \"x\", \"a.b\": [\"y\"]}}";
	char err[256] = "";
	struct uvfs_oci_spec *s = NULL;
	cr_assert_eq(parse_str(j, err, sizeof err, &s), -EINVAL);
	cr_assert_null(s);
	cr_assert_str_eq(err, "config.json:2:39: annotations[\"a.b\"]: expected a string, got an array");
}

Test(oci_spec, null_err_buffer_is_fine)
{
	struct uvfs_oci_spec *s;
	cr_assert_eq(uvfs_oci_parse("{", 1, NULL, &s, NULL, 0), -EINVAL);
	cr_assert_eq(uvfs_oci_parse("[]", 2, NULL, &s, NULL, 0), -EINVAL);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "%s", path);
	static char buf[1024];
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	while (n && buf[n - 1] == '\n')
		buf[--n] = 0;
	return buf;
}

Test(oci_spec, malformed_corpus_one_clear_error_each)
{
	DIR *d = opendir(DATA "bad");
	cr_assert_not_null(d);
	struct dirent *e;
	int n = 0;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		if (l < 6 || strcmp(e->d_name + l - 5, ".json"))
			continue;
		char path[300], errpath[300], expect[1400], err[512] = "";
		snprintf(path, sizeof path, DATA "bad/%s", e->d_name);
		snprintf(errpath, sizeof errpath, DATA "bad/%.*s.err", (int)(l - 5), e->d_name);
		snprintf(expect, sizeof expect, "%s%s", path, slurp(errpath));
		struct uvfs_oci_spec *s = NULL;
		int rc = uvfs_oci_load(path, &s, err, sizeof err);
		cr_expect_eq(rc, -EINVAL, "%s: rc %d", path, rc);
		cr_expect_null(s, "%s", path);
		cr_expect_str_eq(err, expect, "%s:\n got    %s\n expect %s", path, err, expect);
		uvfs_oci_spec_free(s);
		n++;
	}
	closedir(d);
	cr_assert_geq(n, 25, "corpus has %d files", n);
}
