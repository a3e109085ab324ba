/* ctlsrv.c: faultproxy's RESP control listener (see ctlsrv.h). A client
 * that sends a malformed stream gets one error reply and is disconnected;
 * replies that do not fit in the socket wait for LOOP_WRITE. At most
 * CTLSRV_MAX_CLIENTS at a time (the control port is for a runner and a
 * human, not for load). */
#define _GNU_SOURCE
#include "ctlsrv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/resp.h"

#define CTLSRV_MAX_CLIENTS 32
#define CTLSRV_MAX_OUT     (16u << 20) /* a client that never reads is dropped */

typedef struct ctlclient {
    struct ctlsrv *s;
    int fd;
    resp_reader *rd;
    buf out;
    int closing;   /* close once out is written */
} ctlclient;

struct ctlsrv {
    loop *l;
    int fd;
    uint16_t port;
    ctlsrv_fn fn;
    void *arg;
    ctlclient *c[CTLSRV_MAX_CLIENTS];
};

static void client_free(ctlclient *c)
{
    ctlsrv *s = c->s;
    for (int i = 0; i < CTLSRV_MAX_CLIENTS; i++)
        if (s->c[i] == c)
            s->c[i] = NULL;
    loop_del_fd(s->l, c->fd);
    close(c->fd);
    resp_reader_free(c->rd);
    buf_free(&c->out);
    free(c);
}

/* Returns -1 if the client was freed. */
static int client_flush(ctlclient *c)
{
    while (buf_size(&c->out)) {
        ssize_t w = send(c->fd, buf_ptr(&c->out), buf_size(&c->out), MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            client_free(c);
            return -1;
        }
        buf_consume(&c->out, (size_t)w);
    }
    if (!buf_size(&c->out) && c->closing) {
        client_free(c);
        return -1;
    }
    if (buf_size(&c->out) > CTLSRV_MAX_OUT) {
        client_free(c);
        return -1;
    }
    loop_mod_fd(c->s->l, c->fd, buf_size(&c->out) ? LOOP_WRITE : LOOP_READ);
    return 0;
}

static void on_client(loop *l, int fd, unsigned ev, void *arg)
{
    (void)l;
    (void)fd;
    ctlclient *c = arg;
    if (ev & LOOP_WRITE) {
        if (client_flush(c) < 0)
            return;
    }
    if (!(ev & (LOOP_READ | LOOP_ERROR)) || c->closing)
        return;
    char tmp[16384];
    ssize_t n = recv(c->fd, tmp, sizeof tmp, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        client_free(c);
        return;
    }
    int rc = resp_reader_feed(c->rd, tmp, (size_t)n);
    resp_command cmd;
    while (rc == 0 && (rc = resp_reader_next_command(c->rd, &cmd)) == RESP_GOT) {
        c->s->fn(c->s->arg, cmd.argc, cmd.argv, &c->out);
        rc = 0;
    }
    if (rc < 0) {
        resp_put_error(&c->out, "ERR protocol error: %s", resp_strerror(rc));
        c->closing = 1;
    }
    client_flush(c);
}

static void on_accept(loop *l, int fd, unsigned ev, void *arg)
{
    (void)ev;
    ctlsrv *s = arg;
    for (;;) {
        int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0)
            return;
        int slot = -1;
        for (int i = 0; i < CTLSRV_MAX_CLIENTS && slot < 0; i++)
            if (!s->c[i])
                slot = i;
        if (slot < 0) {
            static const char busy[] = "-ERR too many control clients\r\n";
            ssize_t w = send(cfd, busy, sizeof busy - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
            (void)w;
            close(cfd);
            continue;
        }
        ctlclient *c = calloc(1, sizeof *c);
        if (!c)
            abort();
        c->s = s;
        c->fd = cfd;
        c->rd = resp_reader_new();
        buf_init(&c->out);
        s->c[slot] = c;
        loop_add_fd(l, cfd, LOOP_READ, on_client, c);
    }
}

ctlsrv *ctlsrv_new(loop *l, const struct sockaddr_in *addr, ctlsrv_fn fn, void *arg,
                   char *err, size_t errlen)
{
    ctlsrv *s = calloc(1, sizeof *s);
    if (!s)
        abort();
    s->l = l;
    s->fn = fn;
    s->arg = arg;
    s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    struct sockaddr_in sa = *addr;
    socklen_t sl = sizeof sa;
    if (s->fd < 0 || setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(s->fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(s->fd, 16) < 0) {
        snprintf(err, errlen, "control listener on port %u: %s", ntohs(addr->sin_port),
                 strerror(errno));
        if (s->fd >= 0)
            close(s->fd);
        free(s);
        return NULL;
    }
    getsockname(s->fd, (struct sockaddr *)&sa, &sl);
    s->port = ntohs(sa.sin_port);
    loop_add_fd(l, s->fd, LOOP_READ, on_accept, s);
    return s;
}

void ctlsrv_free(ctlsrv *s)
{
    if (!s)
        return;
    for (int i = 0; i < CTLSRV_MAX_CLIENTS; i++)
        if (s->c[i])
            client_free(s->c[i]);
    loop_del_fd(s->l, s->fd);
    close(s->fd);
    free(s);
}

uint16_t ctlsrv_port(const ctlsrv *s)
{
    return s->port;
}
