/* test_shared_mounts.c — pod-shared tmpfs masters (spec §4.5) from the
 * gVisor annotations dev.gvisor.spec.mount.NAME.{source,type,share,options}:
 * the container mount matched by a pod hint binds the pod's one master
 * tmpfs; two containers (two bundles, one process, one pod) see the same
 * files, also after the first is torn down; zero live objects at the end. */
#include "boot_fx.h"

#define ANN(name, field, val) "\"dev.gvisor.spec.mount." name "." field "\": \"" val "\""
#define POD_VOL                                                                                                  \
	ANN("vol", "source", "/k8s/vol") ", " ANN("vol", "type", "tmpfs") ", " ANN("vol", "share", "pod") ", "    \
		ANN("vol", "options", "rw,mode=1777")
#define VOL_MOUNT(dst)                                                                                           \
	"{\"destination\": \"" dst "\", \"type\": \"tmpfs\", \"source\": \"/k8s/vol\", \"options\": [\"rw\", "    \
	"\"mode=1777\", \"nosuid\"]}"

static void add_annotations(const char *json)
{
	shf("sed -i '0,/^{/s||{\"annotations\": {%s},|' %s/config.json", json, bundle);
}

/* A bundle at dir with the pod volume mounted at dst (bundle[] is set). */
static void pod_bundle(char *dir, size_t len, const char *vol_mount)
{
	make_bundle(DATA "runc/config.json");
	add_annotations(POD_VOL);
	add_mount(vol_mount);
	snprintf(dir, len, "%s", bundle);
}

static int boot_in(struct uvfs *vfs, struct uvfs_pod *pod, const char *dir, struct booted *t)
{
	char path[300];
	snprintf(path, sizeof path, "%s/config.json", dir);
	memset(t, 0, sizeof *t);
	t->vfs = vfs;
	cr_assert_eq(uvfs_oci_load(path, &t->spec, t->err, sizeof t->err), 0, "%s", t->err);
	cr_assert_eq(uvfs_oci_compile_mounts(t->spec, 0, &t->plan, t->err, sizeof t->err), 0, "%s", t->err);
	return uvfs_boot_mount_all(vfs, t->plan,
				   &(struct uvfs_boot_opts){ .spec = t->spec,
							     .bundle_dir = dir,
							     .err = t->err,
							     .errlen = sizeof t->err,
							     .pod = pod },
				   &t->b);
}

static void put_boot(struct booted *t)
{
	uvfs_boot_destroy(t->b);
	uvfs_mount_plan_free(t->plan);
	uvfs_oci_spec_free(t->spec);
	memset(t, 0, sizeof *t);
}

static void write_in(struct booted *t, const char *path, const char *data)
{
	struct uvfs_file *f;
	cr_assert_eq(open_in(t, path, O_CREAT | O_WRONLY | O_TRUNC, &f), 0, "%s", path);
	cr_assert_eq(uvfs_write(f, data, strlen(data)), (ssize_t)strlen(data));
	uvfs_file_put(f);
}

Test(shared_mounts, one_container_binds_the_master, .timeout = 60)
{
	char a[256];
	pod_bundle(a, sizeof a, VOL_MOUNT("/data"));
	struct uvfs *vfs;
	struct uvfs_pod *pod;
	cr_assert_eq(uvfs_create(&vfs), 0);
	cr_assert_eq(uvfs_boot_register_filesystems(vfs, 0), 0);
	cr_assert_eq(uvfs_pod_new(vfs, &pod), 0);
	struct booted t;
	int rc = boot_in(vfs, pod, a, &t);
	cr_assert_eq(rc, 0, "boot: %d %s", rc, t.err);
	cr_assert_eq(uvfs_pod_nmasters(pod), 1);
	char *mi = mountinfo(&t);
	expect_type(mi, "/data", "tmpfs");
	free(mi);
	write_in(&t, "/data/f", "pod\n");
	char *s = read_all(&t, "/data/f");
	cr_assert_str_eq(s, "pod\n");
	free(s);
	put_boot(&t);
	uvfs_pod_destroy(pod);
	fx_destroy_checked(vfs);
	cr_assert(!have_children());
	rm_bundle();
}

/* Two containers of one pod: one tmpfs, seen at each one's destination;
 * it outlives the first container. */
Test(shared_mounts, two_containers_share_one_tmpfs, .timeout = 60)
{
	char a[256], b[256];
	pod_bundle(a, sizeof a, VOL_MOUNT("/data"));
	pod_bundle(b, sizeof b, VOL_MOUNT("/srv/shared"));
	struct uvfs *vfs;
	struct uvfs_pod *pod;
	cr_assert_eq(uvfs_create(&vfs), 0);
	cr_assert_eq(uvfs_boot_register_filesystems(vfs, 0), 0);
	cr_assert_eq(uvfs_pod_new(vfs, &pod), 0);
	struct booted ta, tb;
	int rc = boot_in(vfs, pod, a, &ta);
	cr_assert_eq(rc, 0, "boot a: %d %s", rc, ta.err);
	rc = boot_in(vfs, pod, b, &tb);
	cr_assert_eq(rc, 0, "boot b: %d %s", rc, tb.err);
	cr_assert_eq(uvfs_pod_nmasters(pod), 1, "one master for the pod");
	write_in(&ta, "/data/from-a", "a\n");
	char *s = read_all(&tb, "/srv/shared/from-a");
	cr_assert_str_eq(s, "a\n");
	free(s);
	put_boot(&ta);
	write_in(&tb, "/srv/shared/from-b", "b\n");
	s = read_all(&tb, "/srv/shared/from-a");
	cr_assert_str_eq(s, "a\n", "the master outlives the first container");
	free(s);
	/* Another pod is another tmpfs. */
	struct uvfs_pod *pod2;
	cr_assert_eq(uvfs_pod_new(vfs, &pod2), 0);
	rc = boot_in(vfs, pod2, a, &ta);
	cr_assert_eq(rc, 0, "boot a again: %d %s", rc, ta.err);
	struct uvfs_file *f;
	cr_assert_eq(open_in(&ta, "/data/from-b", O_RDONLY, &f), -ENOENT);
	put_boot(&ta);
	put_boot(&tb);
	uvfs_pod_destroy(pod2);
	uvfs_pod_destroy(pod);
	fx_destroy_checked(vfs);
	cr_assert(!have_children());
	shf("rm -rf %s %s", a, b);
}

/* Without a pod given, the boot makes its own (and tears it down). */
Test(shared_mounts, private_pod_without_one, .timeout = 60)
{
	make_bundle(DATA "runc/config.json");
	add_annotations(POD_VOL);
	add_mount(VOL_MOUNT("/data"));
	struct booted t;
	int rc = boot(&t, 0);
	cr_assert_eq(rc, 0, "boot: %d %s", rc, t.err);
	write_in(&t, "/data/f", "x");
	char *mi = mountinfo(&t);
	expect_type(mi, "/data", "tmpfs");
	free(mi);
	unboot(&t);
	rm_bundle();
}

/* Our fix (design.md §6): a bind-typed container mount of a pod-shared
 * tmpfs (k8s emptyDir) binds the master and takes no gofer; the seed tried
 * 9P with fd 0. A container mount and a bind-typed one see one tmpfs. */
Test(shared_mounts, bind_typed_mount_binds_the_master, .timeout = 60)
{
	char a[256], b[256];
	pod_bundle(a, sizeof a, VOL_MOUNT("/data"));
	pod_bundle(b, sizeof b,
		   "{\"destination\": \"/empty\", \"type\": \"bind\", \"source\": \"/k8s/vol\", \"options\": [\"rbind\", "
		   "\"rw\"]}");
	struct uvfs *vfs;
	struct uvfs_pod *pod;
	cr_assert_eq(uvfs_create(&vfs), 0);
	cr_assert_eq(uvfs_boot_register_filesystems(vfs, 0), 0);
	cr_assert_eq(uvfs_pod_new(vfs, &pod), 0);
	struct booted ta, tb;
	int rc = boot_in(vfs, pod, a, &ta);
	cr_assert_eq(rc, 0, "boot a: %d %s", rc, ta.err);
	rc = boot_in(vfs, pod, b, &tb);
	cr_assert_eq(rc, 0, "boot b: %d %s", rc, tb.err);
	cr_assert_eq(tb.plan->ngofers, 1, "only the root's gofer");
	char *mi = mountinfo(&tb);
	expect_type(mi, "/empty", "tmpfs");
	free(mi);
	write_in(&tb, "/empty/x", "k8s\n");
	char *s = read_all(&ta, "/data/x");
	cr_assert_str_eq(s, "k8s\n");
	free(s);
	put_boot(&ta);
	put_boot(&tb);
	uvfs_pod_destroy(pod);
	fx_destroy_checked(vfs);
	cr_assert(!have_children());
	shf("rm -rf %s %s", a, b);
}

/* Pod-shared bind hints: one gofer (diod) for the pod per hint source,
 * started by the first container that names it and kept by the pod; every
 * container mount matched by the hint is a mount of that one 9p
 * filesystem and takes no gofer fd of its own. */
#define BIND_VOL(src, opts)                                                                                    \
	ANN("hv", "source", src) ", " ANN("hv", "type", "bind") ", " ANN("hv", "share", "pod") ", "             \
		ANN("hv", "options", opts)

static int count_diods(void)
{
	char cmd[200], out[32] = "";
	snprintf(cmd, sizeof cmd, "ps -o comm= --ppid %d | grep -c '^diod$'", (int)getpid());
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p);
	if (!fgets(out, sizeof out, p))
		out[0] = 0;
	pclose(p);
	return atoi(out);
}

static void bind_pod_bundle(char *dir, size_t len, const char *host, const char *hint_opts, const char *dst,
			    const char *mnt_opt)
{
	char ann[1024], m[512];
	make_bundle(DATA "runc/config.json");
	snprintf(ann, sizeof ann, BIND_VOL("%s", "%s"), host, hint_opts);
	add_annotations(ann);
	snprintf(m, sizeof m,
		 "{\"destination\": \"%s\", \"type\": \"bind\", \"source\": \"%s\", \"options\": [\"rbind\", \"%s\"]}", dst,
		 host, mnt_opt);
	add_mount(m);
	snprintf(dir, len, "%s", bundle);
}

Test(shared_mounts, two_containers_share_one_bind_gofer, .timeout = 60)
{
	char host[] = "/tmp/uvfs-podbind-XXXXXX", a[256], b[256];
	cr_assert_not_null(mkdtemp(host));
	bind_pod_bundle(a, sizeof a, host, "rw", "/data", "rw");
	bind_pod_bundle(b, sizeof b, host, "rw", "/srv/shared", "rw");
	struct uvfs *vfs;
	struct uvfs_pod *pod;
	cr_assert_eq(uvfs_create(&vfs), 0);
	cr_assert_eq(uvfs_boot_register_filesystems(vfs, 0), 0);
	cr_assert_eq(uvfs_pod_new(vfs, &pod), 0);
	struct booted ta, tb;
	int rc = boot_in(vfs, pod, a, &ta);
	cr_assert_eq(rc, 0, "boot a: %d %s", rc, ta.err);
	rc = boot_in(vfs, pod, b, &tb);
	cr_assert_eq(rc, 0, "boot b: %d %s", rc, tb.err);
	cr_assert_eq(ta.plan->ngofers, 1, "the matched bind takes no gofer fd");
	cr_assert_eq(tb.plan->ngofers, 1);
	cr_assert_eq(uvfs_pod_nmasters(pod), 1, "one master for the pod");
	cr_assert_eq(count_diods(), 3, "two roots and one for the pod's bind");
	char *mi = mountinfo(&tb);
	expect_type(mi, "/srv/shared", "9p");
	free(mi);
	write_in(&ta, "/data/from-a", "a\n");
	char *s = read_all(&tb, "/srv/shared/from-a");
	cr_assert_str_eq(s, "a\n");
	free(s);
	shf("grep -qx a %s/from-a", host);
	put_boot(&ta);
	write_in(&tb, "/srv/shared/from-b", "b\n");
	shf("grep -qx b %s/from-b", host);
	put_boot(&tb);
	cr_assert_eq(count_diods(), 1, "the pod keeps its gofer");
	uvfs_pod_destroy(pod);
	fx_destroy_checked(vfs);
	cr_assert(!have_children());
	shf("rm -rf %s %s %s", a, b, host);
}

/* checkCompatible for a bind hint: a read-only hint and a writable
 * container mount differ; nothing is left behind. */
Test(shared_mounts, bind_hint_incompatible_options, .timeout = 60)
{
	char host[] = "/tmp/uvfs-podbind-XXXXXX", a[256];
	cr_assert_not_null(mkdtemp(host));
	bind_pod_bundle(a, sizeof a, host, "ro", "/data", "rw");
	char path[300];
	snprintf(path, sizeof path, "%s/config.json", a);
	struct uvfs_oci_spec *spec;
	struct uvfs_mount_plan *plan = NULL;
	char err[512];
	cr_assert_eq(uvfs_oci_load(path, &spec, err, sizeof err), 0, "%s", err);
	cr_assert_eq(uvfs_oci_compile_mounts(spec, 0, &plan, err, sizeof err), -EINVAL);
	cr_assert(strstr(err, "mount options in annotations differ from container mount, annotation: [ro], mount: [rw]"),
		  "%s", err);
	uvfs_oci_spec_free(spec);
	shf("rm -rf %s %s", a, host);
}
