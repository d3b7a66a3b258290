/* tests/fuse/permprobe.c — one syscall per run, for t_fuse_perm_classes.sh:
 * prints "ok" (or the value asked for) or the errno name, and exits 0, so
 * the shell compares one token per call whoever the caller is (setpriv).
 * Not a criterion test (built by the shell script).
 *
 * usage: permprobe open PATH rdonly|wronly|rdwr
 *        permprobe bind PATH          (leaves a socket node at PATH)
 *        permprobe connect PATH
 *        permprobe chown PATH UID GID (-1 keeps)
 *        permprobe chmod PATH OCTAL
 *        permprobe truncate PATH LEN
 *        permprobe link OLD NEW
 *        permprobe ctime PATH         (prints sec.nsec)
 *        permprobe euid               (prints the effective uid)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int result(int rc)
{
	if (rc < 0)
		printf("%s\n", strerrorname_np(errno) ? strerrorname_np(errno) : "E?");
	else
		printf("ok\n");
	return 0;
}

static int unix_sock(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sa->sun_path, path);
	return socket(AF_UNIX, SOCK_STREAM, 0);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: permprobe CMD ARGS...\n");
		return 2;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "euid")) {
		printf("%u\n", (unsigned)geteuid());
		return 0;
	}
	if (argc < 3)
		return 2;
	const char *p = argv[2];
	if (!strcmp(cmd, "open") && argc == 4) {
		int fl = !strcmp(argv[3], "rdwr") ? O_RDWR : !strcmp(argv[3], "wronly") ? O_WRONLY : O_RDONLY;
		int fd = open(p, fl | O_NONBLOCK);
		if (fd >= 0)
			close(fd);
		return result(fd);
	}
	if (!strcmp(cmd, "bind") || !strcmp(cmd, "connect")) {
		struct sockaddr_un sa;
		int s = unix_sock(p, &sa);
		if (s < 0)
			return result(-1);
		int rc = !strcmp(cmd, "bind") ? bind(s, (struct sockaddr *)&sa, sizeof(sa))
					       : connect(s, (struct sockaddr *)&sa, sizeof(sa));
		int e = errno;
		close(s);
		errno = e;
		return result(rc);
	}
	if (!strcmp(cmd, "chown") && argc == 5)
		return result(chown(p, (uid_t)atol(argv[3]), (gid_t)atol(argv[4])));
	if (!strcmp(cmd, "chmod") && argc == 4)
		return result(chmod(p, (mode_t)strtoul(argv[3], NULL, 8)));
	if (!strcmp(cmd, "truncate") && argc == 4)
		return result(truncate(p, atol(argv[3])));
	if (!strcmp(cmd, "link") && argc == 4)
		return result(link(p, argv[3]));
	if (!strcmp(cmd, "ctime")) {
		struct stat st;
		if (stat(p, &st))
			return result(-1);
		printf("%lld.%09ld\n", (long long)st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
		return 0;
	}
	fprintf(stderr, "permprobe: bad command %s\n", cmd);
	return 2;
}
