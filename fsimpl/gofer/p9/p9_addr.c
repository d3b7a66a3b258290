/* fsimpl/gofer/p9_addr.c — dialing a 9P server by address ("tcp:HOST:PORT",
 * "unix:/path"), the remote-machine counterpart of trans=fd. */
#include "fsimpl/gofer/p9/p9.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int dial_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static int dial_tcp(const char *hostport)
{
	/* HOST:PORT, HOST may be [v6]. */
	const char *colon = strrchr(hostport, ':');
	if (!colon || colon == hostport || !colon[1])
		return -EINVAL;
	size_t hl = (size_t)(colon - hostport);
	char host[256];
	if (hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, hostport, hl);
	host[hl] = '\0';
	char *h = host;
	if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
		h[hl - 1] = '\0';
		h++;
	}
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res;
	int gai = getaddrinfo(h, colon + 1, &hints, &res);
	if (gai)
		return gai == EAI_SYSTEM ? -errno : -EHOSTUNREACH;
	int err = -ECONNREFUSED;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			err = -errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			/* Small requests must not wait for Nagle. */
			int one = 1;
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			freeaddrinfo(res);
			return fd;
		}
		err = -errno;
		close(fd);
	}
	freeaddrinfo(res);
	return err;
}

int uvfs_p9_connect(const char *addr, const struct uvfs_p9_opts *o, struct uvfs_p9_client **out)
{
	int fd;
	*out = NULL;
	if (!strncmp(addr, "tcp:", 4))
		fd = dial_tcp(addr + 4);
	else if (!strncmp(addr, "unix:", 5))
		fd = dial_unix(addr + 5);
	else
		return -EINVAL;
	if (fd < 0)
		return fd;
	return uvfs_p9_connect_fds(fd, fd, o, out);
}
