/* resp_client.c: the blocking RESP client (resp_client.h). The socket is
 * nonblocking underneath and every wait is a poll() against a deadline,
 * so no call can hang past its timeout. */
#define _GNU_SOURCE
#include "resp_client.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "errf.h"
#include "net.h"

#define RESP_CLIENT_MAX_ARGS 64  /* resp_client_callv */

struct resp_client {
    int fd;
    resp_reader *rd;
    buf out;
    char err[160];
};

/* now + timeout, saturating: a huge timeout means "no deadline", not one
 * that wrapped into the past. */
static uint64_t deadline_after(uint64_t timeout_ns)
{
    uint64_t now = mono_now_ns();
    return timeout_ns > UINT64_MAX - now ? UINT64_MAX : now + timeout_ns;
}

/* Waits for events on fd until the deadline: 1 ready, 0 timed out, -1 error. */
static int wait_fd(int fd, short events, uint64_t deadline)
{
    for (;;) {
        uint64_t now = mono_now_ns();
        if (now >= deadline)
            return 0;
        uint64_t ms = (deadline - now + 999999) / 1000000;
        struct pollfd p = {.fd = fd, .events = events};
        int n = poll(&p, 1, ms > 60000 ? 60000 : (int)ms);
        if (n > 0)
            return 1;
        if (n < 0 && errno != EINTR)
            return -1;
    }
}

resp_client *resp_client_connect(const char *hostport, uint64_t timeout_ns, char *err, size_t errlen)
{
    uint64_t deadline = deadline_after(timeout_ns);
    int fd = net_tcp_connect(hostport, err, errlen);
    if (fd < 0)
        return NULL;
    int w = wait_fd(fd, POLLOUT, deadline);
    int e = w > 0 ? net_connect_result(fd) : 0;
    if (w <= 0 || e != 0) {
        close(fd);
        if (w == 0)
            errf(err, errlen, "connect to %s: timed out", hostport);
        else
            errf(err, errlen, "connect to %s: %s", hostport, strerror(w < 0 ? errno : e));
        return NULL;
    }
    resp_client *c = calloc(1, sizeof *c);
    if (!c)
        abort();
    c->fd = fd;
    c->rd = resp_reader_new();
    buf_init(&c->out);
    return c;
}

void resp_client_close(resp_client *c)
{
    if (!c)
        return;
    close(c->fd);
    resp_reader_free(c->rd);
    buf_free(&c->out);
    free(c);
}

void resp_client_append(resp_client *c, int argc, const char *const *argv, const size_t *argl)
{
    resp_put_command(&c->out, argc, argv, argl);
}

static int client_fail(resp_client *c, const char *what, int e)
{
    snprintf(c->err, sizeof c->err, "%s: %s", what, e ? strerror(e) : "connection closed");
    return RESP_CLIENT_ERROR;
}

static int flush_until(resp_client *c, uint64_t deadline)
{
    while (buf_size(&c->out) > 0) {
        ssize_t n = send(c->fd, buf_ptr(&c->out), buf_size(&c->out), MSG_NOSIGNAL);
        if (n > 0) {
            buf_consume(&c->out, (size_t)n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
            return client_fail(c, "send", errno);
        int w = wait_fd(c->fd, POLLOUT, deadline);
        if (w == 0)
            return RESP_CLIENT_TIMEOUT;
        if (w < 0)
            return client_fail(c, "poll", errno);
    }
    return RESP_CLIENT_OK;
}

int resp_client_flush(resp_client *c, uint64_t timeout_ns)
{
    return flush_until(c, deadline_after(timeout_ns));
}

static int read_until(resp_client *c, resp_value *out, uint64_t deadline)
{
    for (;;) {
        int rc = resp_reader_next(c->rd, out);
        if (rc == RESP_GOT)
            return RESP_CLIENT_OK;
        if (rc < 0) {
            snprintf(c->err, sizeof c->err, "bad reply: %s", resp_strerror(rc));
            return RESP_CLIENT_ERROR;
        }
        char tmp[16384];
        ssize_t n = recv(c->fd, tmp, sizeof tmp, 0);
        if (n > 0) {
            if (resp_reader_feed(c->rd, tmp, (size_t)n) != 0) {
                snprintf(c->err, sizeof c->err, "bad reply: too large");
                return RESP_CLIENT_ERROR;
            }
            continue;
        }
        if (n == 0)
            return client_fail(c, "recv", 0);
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return client_fail(c, "recv", errno);
        int w = wait_fd(c->fd, POLLIN, deadline);
        if (w == 0)
            return RESP_CLIENT_TIMEOUT;
        if (w < 0)
            return client_fail(c, "poll", errno);
    }
}

int resp_client_read(resp_client *c, resp_value *out, uint64_t timeout_ns)
{
    return read_until(c, out, deadline_after(timeout_ns));
}

int resp_client_call(resp_client *c, resp_value *out, uint64_t timeout_ns,
                     int argc, const char *const *argv, const size_t *argl)
{
    uint64_t deadline = deadline_after(timeout_ns);
    resp_client_append(c, argc, argv, argl);
    int rc = flush_until(c, deadline);
    return rc != RESP_CLIENT_OK ? rc : read_until(c, out, deadline);
}

int resp_client_callv(resp_client *c, resp_value *out, uint64_t timeout_ns, ...)
{
    const char *argv[RESP_CLIENT_MAX_ARGS];
    int argc = 0;
    va_list ap;
    va_start(ap, timeout_ns);
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL && argc < RESP_CLIENT_MAX_ARGS)
        argv[argc++] = a;
    va_end(ap);
    return resp_client_call(c, out, timeout_ns, argc, argv, NULL);
}

const char *resp_client_error(const resp_client *c) { return c->err; }
int resp_client_fd(const resp_client *c) { return c->fd; }
