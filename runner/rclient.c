/* rclient.c: blocking RESP client with deadlines (see rclient.h). Sockets
 * are non-blocking underneath and every wait is a poll bounded by the
 * call's deadline, so a stopped or partitioned node can never hang a
 * client thread. */
#define _GNU_SOURCE
#include "rclient.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/clock.h"

void rclient_init(rclient *c, backend *b, int host, const char *addr, int port)
{
    memset(c, 0, sizeof *c);
    c->fd = -1;
    c->b = b;
    c->host = host;
    rclient_retarget(c, addr, port);
}

void rclient_retarget(rclient *c, const char *addr, int port)
{
    if (c->port != port || strcmp(c->addr, addr) != 0)
        rclient_close(c);
    snprintf(c->addr, sizeof c->addr, "%s", addr);
    c->port = port;
}

void rclient_close(rclient *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    if (c->rd)
        resp_reader_free(c->rd);
    c->rd = NULL;
}

static int wait_fd(int fd, short ev, uint64_t deadline)
{
    for (;;) {
        uint64_t now = mono_now_ns();
        if (now >= deadline)
            return 0;
        uint64_t ms = (deadline - now + 999999) / 1000000;
        struct pollfd p = {.fd = fd, .events = ev};
        int r = poll(&p, 1, (int)(ms > 60000 ? 60000 : ms));
        if (r > 0)
            return 1;
        if (r < 0 && errno != EINTR)
            return -1;
    }
}

static int do_connect(rclient *c, uint64_t deadline)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)c->port)};
    if (inet_pton(AF_INET, c->addr, &sa.sin_addr) != 1)
        return -1;
    int fd = c->b ? c->b->ops->socket(c->b, c->host, AF_INET, SOCK_STREAM, 0)
                  : socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        if (errno != EINPROGRESS || wait_fd(fd, POLLOUT, deadline) <= 0) {
            close(fd);
            return -1;
        }
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err) {
            close(fd);
            return -1;
        }
    }
    c->fd = fd;
    c->rd = resp_reader_new();
    return 0;
}

int rclient_call(rclient *c, uint64_t timeout_ns, resp_value *out, int argc, const char **argv)
{
    uint64_t deadline = mono_now_ns() + timeout_ns;
    if (c->fd < 0 && do_connect(c, deadline) < 0)
        return RCLIENT_NOTSENT;
    size_t lens[32];
    if (argc > 32)
        return RCLIENT_NOTSENT;
    for (int i = 0; i < argc; i++)
        lens[i] = strlen(argv[i]);
    buf req;
    buf_init(&req);
    resp_put_command(&req, argc, argv, lens);
    size_t sent = 0, total = buf_size(&req);
    int rc = RCLIENT_OK;
    while (sent < total) {
        ssize_t w = send(c->fd, buf_ptr(&req) + sent, total - sent, MSG_NOSIGNAL);
        if (w > 0) {
            sent += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && wait_fd(c->fd, POLLOUT, deadline) > 0)
            continue;
        rc = sent ? RCLIENT_BROKEN : RCLIENT_NOTSENT;
        break;
    }
    buf_free(&req);
    while (rc == RCLIENT_OK) {
        int g = resp_reader_next(c->rd, out);
        if (g == RESP_GOT)
            return RCLIENT_OK;
        if (g < 0) {
            rc = RCLIENT_BROKEN;
            break;
        }
        int wr = wait_fd(c->fd, POLLIN, deadline);
        if (wr == 0) {
            rc = RCLIENT_TIMEOUT;
            break;
        }
        char tmp[16384];
        ssize_t r = wr > 0 ? recv(c->fd, tmp, sizeof tmp, 0) : -1;
        if (r < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (r <= 0 || resp_reader_feed(c->rd, tmp, (size_t)r) < 0)
            rc = RCLIENT_BROKEN;
    }
    rclient_close(c);
    return rc;
}

int rclient_callv(rclient *c, uint64_t timeout_ns, resp_value *out, ...)
{
    const char *argv[32];
    int argc = 0;
    va_list ap;
    va_start(ap, out);
    const char *s;
    while (argc < 32 && (s = va_arg(ap, const char *)))
        argv[argc++] = s;
    va_end(ap);
    return rclient_call(c, timeout_ns, out, argc, argv);
}
