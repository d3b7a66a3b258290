/* cli/cmd_verity.c — `uvfs verity`: fs-verity digests and trees.
 *
 *   uvfs verity digest FILE... [--hash-alg=A] [--block-size=N] [--salt=HEX]
 *                              [--out-merkle-tree=F] [--out-descriptor=F] [--compact]
 *                              [--for-builtin-sig] [--threads=N]
 *   uvfs verity build FILE --out-tree T [--out-descriptor D] [same options]
 *   uvfs verity verify FILE --tree T --descriptor D --digest ALG:HEX
 *   uvfs verity seal DIR [--tree-dir=T]
 *
 * `digest` prints what `fsverity digest` prints ("sha256:HEX FILE"), so the
 * two can be compared byte for byte. `verify` reads the whole file through
 * the verifier and fails (exit 1, "EIO") on any mismatch. `seal` writes the
 * hidden trees and manifests of the verity filesystem into a host directory
 * tree (or, with --tree-dir, into T, a mirror of DIR's directories made as
 * needed) and prints its root hash (fsimpl/verity/README.md). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "fsimpl/verity/merkle/merkle.h"
#include "fsimpl/verity/verity.h"

struct opts {
	unsigned alg, bs, threads;
	uint8_t salt[UVFS_VERITY_MAX_SALT];
	size_t salt_size;
	const char *out_tree, *out_desc, *tree, *desc, *digest, *tree_dir;
	int compact, for_sig;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: uvfs verity digest FILE... [--hash-alg=sha256|sha512] [--block-size=N]\n"
		   "                          [--salt=HEX] [--out-merkle-tree=F] [--out-descriptor=F] [--compact]\n"
		   "                          [--for-builtin-sig] [--threads=N]\n"
		   "       uvfs verity build FILE --out-tree T [--out-descriptor D] [same options]\n"
		   "       uvfs verity verify FILE --tree T --descriptor D --digest ALG:HEX\n"
		   "       uvfs verity seal DIR [--tree-dir=T]\n");
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes hex into out (at most max bytes); -1 if malformed or too long. */
static long unhex(const char *s, uint8_t *out, size_t max)
{
	size_t n = strlen(s);
	if (n % 2 || n / 2 > max)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return (long)(n / 2);
}

static int write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (!f) {
		fprintf(stderr, "uvfs verity: %s: %s\n", path, strerror(errno));
		return -1;
	}
	bool bad = n && fwrite(p, 1, n, f) != n;
	bad = (fclose(f) != 0) || bad; /* always close */
	if (bad) {
		fprintf(stderr, "uvfs verity: %s: write failed\n", path);
		return -1;
	}
	return 0;
}

/* Reads a whole small file of at most max bytes (checked before reading:
 * a huge file is refused, not read); the caller frees *out. */
static int slurp(const char *path, size_t max, uint8_t **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		fprintf(stderr, "uvfs verity: %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
		fprintf(stderr, "uvfs verity: %s: not a regular file of at most %zu bytes\n", path, max);
		close(fd);
		return -1;
	}
	*len = (size_t)st.st_size;
	*out = malloc(*len ? *len : 1);
	ssize_t r = *out ? uvfs_merkle_fd_read(&fd, *out, *len, 0) : -ENOMEM;
	close(fd);
	if (r < 0 || (size_t)r != *len) {
		fprintf(stderr, "uvfs verity: %s: read failed\n", path);
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	enum { O_ALG = 256, O_BS, O_SALT, O_OTREE, O_ODESC, O_COMPACT, O_TREE, O_DESC, O_DIGEST,
	       O_SIG, O_THREADS, O_TREE_DIR };
	static const struct option lo[] = {
		{ "hash-alg", required_argument, 0, O_ALG },
		{ "block-size", required_argument, 0, O_BS },
		{ "salt", required_argument, 0, O_SALT },
		{ "out-merkle-tree", required_argument, 0, O_OTREE },
		{ "out-tree", required_argument, 0, O_OTREE },
		{ "out-descriptor", required_argument, 0, O_ODESC },
		{ "compact", no_argument, 0, O_COMPACT },
		{ "for-builtin-sig", no_argument, 0, O_SIG },
		{ "threads", required_argument, 0, O_THREADS },
		{ "tree", required_argument, 0, O_TREE },
		{ "descriptor", required_argument, 0, O_DESC },
		{ "digest", required_argument, 0, O_DIGEST },
		{ "tree-dir", required_argument, 0, O_TREE_DIR },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	int c;
	char *end;

	memset(o, 0, sizeof(*o));
	/* Hash on every CPU by default; the fd reader is thread-safe. */
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	o->threads = ncpu < 1 ? 1 : ncpu > 16 ? 16 : (unsigned)ncpu;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case O_ALG:
			o->alg = uvfs_verity_hash_by_name(optarg);
			if (!o->alg) {
				fprintf(stderr, "uvfs verity: unknown hash algorithm '%s'\n", optarg);
				return -1;
			}
			break;
		case O_BS: {
			errno = 0;
			unsigned long v = strtoul(optarg, &end, 10);
			if (errno || *end || v < UVFS_VERITY_MIN_BLOCK || v > UVFS_VERITY_MAX_BLOCK ||
			    (v & (v - 1))) {
				fprintf(stderr, "uvfs verity: block size must be a power of two in 1024..65536\n");
				return -1;
			}
			o->bs = (unsigned)v;
			break;
		}
		case O_SALT: {
			long n = unhex(optarg, o->salt, sizeof(o->salt));
			if (n < 0) {
				fprintf(stderr, "uvfs verity: salt must be at most 32 bytes of hex\n");
				return -1;
			}
			o->salt_size = (size_t)n;
			break;
		}
		case O_OTREE: o->out_tree = optarg; break;
		case O_ODESC: o->out_desc = optarg; break;
		case O_COMPACT: o->compact = 1; break;
		case O_SIG: o->for_sig = 1; break;
		case O_THREADS: {
			errno = 0;
			unsigned long v = strtoul(optarg, &end, 10);
			if (errno || *end || v < 1 || v > 64) {
				fprintf(stderr, "uvfs verity: --threads must be 1..64\n");
				return -1;
			}
			o->threads = (unsigned)v;
			break;
		}
		case O_TREE: o->tree = optarg; break;
		case O_DESC: o->desc = optarg; break;
		case O_DIGEST: o->digest = optarg; break;
		case O_TREE_DIR: o->tree_dir = optarg; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	return optind;
}

/* With tree false only the digest is wanted: stream the file instead of
 * keeping its tree (bounded memory for any size). */
static int build_one(const char *path, const struct opts *o, bool tree, struct uvfs_merkle_result *res)
{
	struct uvfs_merkle_params p = { o->alg, o->bs, o->salt, o->salt_size, o->threads };
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		fprintf(stderr, "uvfs verity: %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		fprintf(stderr, "uvfs verity: %s: not a regular file\n", path);
		close(fd);
		return -1;
	}
	int r = tree ? uvfs_merkle_build(&p, uvfs_merkle_fd_read, &fd, (uint64_t)st.st_size, res)
		     : uvfs_merkle_digest(&p, uvfs_merkle_fd_read, &fd, (uint64_t)st.st_size, res);
	close(fd);
	if (r) {
		fprintf(stderr, "uvfs verity: %s: %s\n", path, strerror(-r));
		return -1;
	}
	return 0;
}

/* As fsverity: "ALG:HEX FILE"; --compact drops the name and prefix;
 * --for-builtin-sig prints the struct the kernel's built-in signatures sign,
 * "FSVerity" || le16 algorithm || le16 digest size || digest, in hex. */
static void print_digest(const struct uvfs_merkle_result *res, const char *path, const struct opts *o)
{
	if (o->for_sig) {
		printf("%s", "4653566572697479"); /* "FSVerity" */
		printf("%02x%02x%02x%02x", res->hash_alg & 0xff, res->hash_alg >> 8,
		       res->digest_size & 0xff, res->digest_size >> 8);
	} else if (!o->compact) {
		printf("%s:", uvfs_verity_hash_name(res->hash_alg));
	}
	for (unsigned i = 0; i < res->digest_size; i++)
		printf("%02x", res->digest[i]);
	if (!o->compact)
		printf(" %s", path);
	printf("\n");
}

static int write_outputs(const struct uvfs_merkle_result *res, const struct opts *o)
{
	if (o->out_tree && write_file(o->out_tree, res->tree, res->tree_size))
		return -1;
	if (o->out_desc && write_file(o->out_desc, res->descriptor, UVFS_VERITY_DESC_SIZE))
		return -1;
	return 0;
}

static int do_digest(int argc, char **argv, const struct opts *o, int first)
{
	int rc = 0;
	if (first >= argc) {
		usage(stderr);
		return 2;
	}
	if ((o->out_tree || o->out_desc) && argc - first > 1) {
		fprintf(stderr, "uvfs verity: --out-* options take a single FILE\n");
		return 2;
	}
	/* Like fsverity, stop at the first file that fails. */
	for (int i = first; i < argc && !rc; i++) {
		struct uvfs_merkle_result res;
		if (build_one(argv[i], o, o->out_tree != NULL, &res))
			return 1;
		if (write_outputs(&res, o))
			rc = 1;
		else
			print_digest(&res, argv[i], o);
		uvfs_merkle_result_free(&res);
	}
	return rc;
}

static int do_build(int argc, char **argv, const struct opts *o, int first)
{
	struct uvfs_merkle_result res;
	if (argc - first != 1 || !o->out_tree) {
		usage(stderr);
		return 2;
	}
	if (build_one(argv[first], o, true, &res))
		return 1;
	int rc = write_outputs(&res, o) ? 1 : 0;
	if (!rc)
		print_digest(&res, argv[first], o);
	uvfs_merkle_result_free(&res);
	return rc;
}

static int do_verify(int argc, char **argv, const struct opts *o, int first)
{
	uint8_t dig[UVFS_VERITY_MAX_DIGEST];
	uint8_t *desc = NULL;
	size_t desc_len;
	struct uvfs_verity_verifier *v = NULL;
	int fd = -1, tfd = -1, rc = 1, r;

	if (argc - first != 1 || !o->tree || !o->desc || !o->digest) {
		usage(stderr);
		return 2;
	}
	const char *colon = strchr(o->digest, ':');
	char algname[16];
	if (!colon || (size_t)(colon - o->digest) >= sizeof(algname)) {
		fprintf(stderr, "uvfs verity: --digest must be ALG:HEX\n");
		return 2;
	}
	memcpy(algname, o->digest, (size_t)(colon - o->digest));
	algname[colon - o->digest] = 0;
	unsigned alg = uvfs_verity_hash_by_name(algname);
	long dn = unhex(colon + 1, dig, sizeof(dig));
	if (!alg || dn != (long)uvfs_verity_digest_size(alg)) {
		fprintf(stderr, "uvfs verity: bad --digest '%s'\n", o->digest);
		return 2;
	}
	if (slurp(o->desc, UVFS_VERITY_DESC_SIZE, &desc, &desc_len))
		goto out;
	/* The tree is read on demand, like the data: it can be large. */
	tfd = open(o->tree, O_RDONLY | O_CLOEXEC);
	if (tfd < 0) {
		fprintf(stderr, "uvfs verity: %s: %s\n", o->tree, strerror(errno));
		goto out;
	}
	fd = open(argv[first], O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "uvfs verity: %s: %s\n", argv[first], strerror(errno));
		goto out;
	}
	struct uvfs_verity_open_args a = {
		.hash_alg = alg, .digest = dig, .digest_size = (size_t)dn,
		.descriptor = desc, .descriptor_size = desc_len,
		.read_tree = uvfs_merkle_fd_read, .tree_ctx = &tfd,
		.read_data = uvfs_merkle_fd_read, .data_ctx = &fd,
	};
	r = uvfs_verity_open(&a, &v);
	if (!r)
		r = uvfs_verity_verify_all(v);
	/* The verifier reads only the sealed size; the size is part of the
	 * descriptor, so a file of any other size (bytes appended) is not it. */
	struct stat st;
	if (!r && fstat(fd, &st) < 0)
		r = -errno;
	if (!r && (uint64_t)st.st_size != uvfs_verity_data_size(v))
		r = -EIO;
	if (r) {
		fprintf(stderr, "uvfs verity: %s: verification failed: %s\n", argv[first], strerror(-r));
		goto out;
	}
	printf("%s: ok (%llu bytes)\n", argv[first], (unsigned long long)uvfs_verity_data_size(v));
	rc = 0;
out:
	uvfs_verity_close(v);
	if (fd >= 0)
		close(fd);
	if (tfd >= 0)
		close(tfd);
	free(desc);
	return rc;
}

static int do_seal(int argc, char **argv, const struct opts *o, int first)
{
	uint8_t h[UVFS_VERITY_ROOT_HASH_SIZE];
	char hex[65];
	if (argc - first != 1) {
		usage(stderr);
		return 2;
	}
	int r = uvfs_verity_seal_path_dirs(argv[first], o->tree_dir, h);
	if (r) {
		fprintf(stderr, "uvfs verity: seal %s: %s\n", argv[first], strerror(-r));
		return 1;
	}
	uvfs_verity_hash_hex(h, hex);
	printf("%s\n", hex);
	return 0;
}

int cmd_verity(int argc, char **argv)
{
	struct opts o;
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *sub = argv[1];
	int first = parse_opts(argc - 1, argv + 1, &o);
	if (first < 0)
		return 2;
	first += 1; /* back to indices of argv */
	if (!strcmp(sub, "digest"))
		return do_digest(argc, argv, &o, first);
	if (!strcmp(sub, "build"))
		return do_build(argc, argv, &o, first);
	if (!strcmp(sub, "verify"))
		return do_verify(argc, argv, &o, first);
	if (!strcmp(sub, "seal"))
		return do_seal(argc, argv, &o, first);
	if (!strcmp(sub, "-h") || !strcmp(sub, "--help") || !strcmp(sub, "help")) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "uvfs verity: unknown subcommand '%s'\n", sub);
	usage(stderr);
	return 2;
}
