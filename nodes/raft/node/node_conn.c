/* node_conn.c: RESP connections with ordered deferred replies (node_conn.h). */
#define _GNU_SOURCE
#include "node_conn.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"

/* Output above this stops reading from the client until it drains, so a
 * client that pipelines without reading cannot grow our memory unbounded. */
#define CONN_OUT_HIGH (4u << 20)

static void conn_event(loop *l, int fd, unsigned events, void *arg);

static void conn_free(node_conn *c)
{
    node_slot *s = c->head;
    while (s) {
        node_slot *n = s->next;
        buf_free(&s->reply);
        free(s);
        s = n;
    }
    resp_reader_free(c->rd);
    buf_free(&c->out);
    free(c);
}

/* Close the socket; the struct lives on while deferred replies are owed. */
static void conn_close(node_conn *c)
{
    node_srv *s = c->srv;
    if (!c->closed) {
        loop_del_fd(s->l, c->fd);
        close(c->fd);
        c->fd = -1;
        c->closed = 1;
        s->open--;
        if (c->prev)
            c->prev->next = c->next;
        else
            s->conns = c->next;
        if (c->next)
            c->next->prev = c->prev;
    }
    if (c->pending == 0)
        conn_free(c);
}

static void conn_set_events(node_conn *c)
{
    unsigned ev = 0;
    if (buf_size(&c->out) < CONN_OUT_HIGH && !c->close_after_write)
        ev |= LOOP_READ;
    int want = buf_size(&c->out) > 0;
    if (want)
        ev |= LOOP_WRITE;
    loop_mod_fd(c->srv->l, c->fd, ev);
    c->writing = want;
}

/* Write what we can. Returns -1 if the connection was closed. */
static int conn_flush(node_conn *c)
{
    while (buf_size(&c->out) > 0) {
        ssize_t n = send(c->fd, buf_ptr(&c->out), buf_size(&c->out), MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            conn_close(c);
            return -1;
        }
        buf_consume(&c->out, (size_t)n);
    }
    if (buf_size(&c->out) == 0 && c->close_after_write) {
        conn_close(c);
        return -1;
    }
    if (c->writing != (buf_size(&c->out) > 0) || buf_size(&c->out) >= CONN_OUT_HIGH)
        conn_set_events(c);
    return 0;
}

buf *node_conn_reply(node_conn *c)
{
    if (!c->head)
        return &c->out;
    node_slot *s = calloc(1, sizeof *s);
    if (!s)
        abort();
    buf_init(&s->reply);
    s->ready = 1;
    c->tail->next = s;
    c->tail = s;
    return &s->reply;
}

node_slot *node_conn_defer(node_conn *c)
{
    node_slot *s = calloc(1, sizeof *s);
    if (!s)
        abort();
    buf_init(&s->reply);
    if (c->tail)
        c->tail->next = s;
    else
        c->head = s;
    c->tail = s;
    c->pending++;
    return s;
}

void node_conn_fill(node_conn *c, node_slot *slot)
{
    slot->ready = 1;
    c->pending--;
    while (c->head && c->head->ready) {
        node_slot *s = c->head;
        c->head = s->next;
        if (!c->head)
            c->tail = NULL;
        if (!c->closed)
            buf_append(&c->out, buf_ptr(&s->reply), buf_size(&s->reply));
        buf_free(&s->reply);
        free(s);
    }
    if (c->closed) {
        if (c->pending == 0)
            conn_free(c);
        return;
    }
    conn_flush(c);
}

static void conn_read(node_conn *c)
{
    char in[16384];
    /* Bounded per wake-up so one busy client cannot starve the others. */
    for (int round = 0; round < 8; round++) {
        ssize_t n = recv(c->fd, in, sizeof in, 0);
        if (n == 0) {
            conn_close(c);
            return;
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                conn_close(c);
            else
                break;
            return;
        }
        if (resp_reader_feed(c->rd, in, (size_t)n) < 0) {
            c->srv->protocol_errors++;
            conn_close(c);
            return;
        }
        resp_command cmd;
        int rc;
        while (!c->close_after_write && (rc = resp_reader_next_command(c->rd, &cmd)) == RESP_GOT) {
            c->srv->commands++;
            c->srv->fn(c, &cmd, c->srv->arg);
        }
        if (!c->close_after_write && rc < 0) {
            /* Tell the client why, then hang up (the reader cannot resync). */
            c->srv->protocol_errors++;
            resp_put_error(node_conn_reply(c), "ERR protocol error: %s", resp_strerror(rc));
            c->close_after_write = 1;
        }
        if ((size_t)n < sizeof in)
            break;
    }
    conn_flush(c);
}

static void conn_event(loop *l, int fd, unsigned events, void *arg)
{
    (void)l;
    (void)fd;
    node_conn *c = arg;
    if (events & LOOP_WRITE) {
        if (conn_flush(c) < 0)
            return;
    }
    if (events & (LOOP_READ | LOOP_ERROR))
        conn_read(c);
}

static void srv_accept(loop *l, int fd, unsigned events, void *arg)
{
    (void)events;
    node_srv *s = arg;
    for (int i = 0; i < 64; i++) {
        int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                LOG_WARN("accept: %s", strerror(errno));
            return;
        }
        int one = 1;
        setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        node_conn *c = calloc(1, sizeof *c);
        if (!c)
            abort();
        c->srv = s;
        c->fd = cfd;
        c->rd = resp_reader_new();
        buf_init(&c->out);
        if (loop_add_fd(l, cfd, LOOP_READ, conn_event, c) < 0) {
            close(cfd);
            resp_reader_free(c->rd);
            free(c);
            continue;
        }
        c->next = s->conns;
        if (s->conns)
            s->conns->prev = c;
        s->conns = c;
        s->accepted++;
        s->open++;
    }
}

int node_srv_open(node_srv *s, loop *l, const struct sockaddr_in *addr,
                  node_command_fn fn, void *arg)
{
    memset(s, 0, sizeof *s);
    s->l = l;
    s->fn = fn;
    s->arg = arg;
    s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0)
        return -1;
    int one = 1;
    setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(s->fd, (const struct sockaddr *)addr, sizeof *addr) < 0 || listen(s->fd, 512) < 0 ||
        loop_add_fd(l, s->fd, LOOP_READ, srv_accept, s) < 0) {
        int e = errno;
        close(s->fd);
        s->fd = -1;
        errno = e;
        return -1;
    }
    return 0;
}

void node_srv_close(node_srv *s)
{
    while (s->conns) {
        node_conn *c = s->conns;
        c->pending = 0; /* the owners of deferred slots are being torn down too */
        conn_close(c);
    }
    if (s->fd >= 0) {
        loop_del_fd(s->l, s->fd);
        close(s->fd);
        s->fd = -1;
    }
}
