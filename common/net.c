/* net.c: socket helpers (net.h). */
#define _GNU_SOURCE
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "errf.h"
#include "parse.h"

int net_parse_addr(const char *hostport, struct sockaddr_in *out, char *err, size_t errlen)
{
    const char *colon = strrchr(hostport, ':');
    if (!colon)
        return errf(err, errlen, "address '%s' has no port (use host:port)", hostport);
    size_t hlen = (size_t)(colon - hostport);
    char host[64];
    if (hlen >= sizeof host)
        return errf(err, errlen, "host in '%s' is too long", hostport);
    memcpy(host, hostport, hlen);
    host[hlen] = '\0';
    uint64_t port;
    char perr[128];
    if (parse_uint64(colon + 1, 0, 65535, &port, perr, sizeof perr) < 0)
        return errf(err, errlen, "bad port in '%s': %s", hostport, perr);
    memset(out, 0, sizeof *out);
    out->sin_family = AF_INET;
    out->sin_port = htons((uint16_t)port);
    if (hlen == 0 || strcmp(host, "*") == 0)
        out->sin_addr.s_addr = htonl(INADDR_ANY);
    else if (strcmp(host, "localhost") == 0)
        out->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    else if (inet_pton(AF_INET, host, &out->sin_addr) != 1)
        return errf(err, errlen, "bad IPv4 address '%s' in '%s'", host, hostport);
    return 0;
}

void net_format_addr(const struct sockaddr_in *a, char *out, size_t cap)
{
    char ip[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
    snprintf(out, cap, "%s:%u", ip, (unsigned)ntohs(a->sin_port));
}

int net_set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

int net_set_cloexec(int fd)
{
    int fl = fcntl(fd, F_GETFD);
    return fl < 0 ? -1 : fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
}

int net_set_nodelay(int fd)
{
    int one = 1;
    return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* A nonblocking close-on-exec socket, or -1 with err. */
static int new_socket(int type, const struct sockaddr_in *a, char *err, size_t errlen)
{
    int fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        char s[32];
        net_format_addr(a, s, sizeof s);
        errf(err, errlen, "socket for %s: %s", s, strerror(errno));
    }
    return fd;
}

/* Closes fd and reports what failed on address a. */
static int fail_close(int fd, const char *what, const struct sockaddr_in *a, char *err, size_t errlen)
{
    int e = errno;
    char s[32];
    net_format_addr(a, s, sizeof s);
    close(fd);
    return errf(err, errlen, "%s %s: %s", what, s, strerror(e));
}

int net_udp_bind_addr(const struct sockaddr_in *a, char *err, size_t errlen)
{
    int fd = new_socket(SOCK_DGRAM, a, err, errlen);
    if (fd < 0)
        return -1;
    int size = NET_UDP_BUFFER;
    /* Best effort: the kernel silently caps the sizes. */
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    if (bind(fd, (const struct sockaddr *)a, sizeof *a) < 0)
        return fail_close(fd, "bind UDP", a, err, errlen);
    return fd;
}

int net_udp_bind(const char *hostport, char *err, size_t errlen)
{
    struct sockaddr_in a;
    if (net_parse_addr(hostport, &a, err, errlen) < 0)
        return -1;
    return net_udp_bind_addr(&a, err, errlen);
}

int net_tcp_listen(const char *hostport, int backlog, char *err, size_t errlen)
{
    struct sockaddr_in a;
    if (net_parse_addr(hostport, &a, err, errlen) < 0)
        return -1;
    int fd = new_socket(SOCK_STREAM, &a, err, errlen);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (const struct sockaddr *)&a, sizeof a) < 0)
        return fail_close(fd, "bind TCP", &a, err, errlen);
    if (listen(fd, backlog > 0 ? backlog : 128) < 0)
        return fail_close(fd, "listen on", &a, err, errlen);
    return fd;
}

int net_tcp_connect_addr(const struct sockaddr_in *a, char *err, size_t errlen)
{
    int fd = new_socket(SOCK_STREAM, a, err, errlen);
    if (fd < 0)
        return -1;
    net_set_nodelay(fd);
    if (connect(fd, (const struct sockaddr *)a, sizeof *a) < 0 && errno != EINPROGRESS)
        return fail_close(fd, "connect to", a, err, errlen);
    return fd;
}

int net_tcp_connect(const char *hostport, char *err, size_t errlen)
{
    struct sockaddr_in a;
    if (net_parse_addr(hostport, &a, err, errlen) < 0)
        return -1;
    return net_tcp_connect_addr(&a, err, errlen);
}

int net_connect_result(int fd)
{
    int e = 0;
    socklen_t len = sizeof e;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
        return errno;
    return e;
}

int net_local_port(int fd)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    if (getsockname(fd, (struct sockaddr *)&a, &len) < 0 || a.sin_family != AF_INET)
        return -1;
    return ntohs(a.sin_port);
}
