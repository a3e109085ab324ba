/* tcp.c: faultproxy's TCP mode (see tcp.h).
 *
 * A connection is two directions (client->upstream "up", upstream->client
 * "down"). Each direction reads what arrives, cuts it into segments (the
 * slice fault), gives every segment a release time (latency + jitter,
 * spaced by the slice pause and by the bandwidth cap, never earlier than
 * the segment before it, so the stream stays in order) and queues it; a
 * one-shot timer writes the head once it is due. A direction stops reading
 * while its queue holds more than TCP_MAX_QUEUED bytes (backpressure), and
 * passes an EOF on as shutdown(SHUT_WR) once its queue has drained. */
#define _GNU_SOURCE
#include "tcp.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/net.h"
#include "common/prng.h"

#define TCP_READ_CHUNK  65536
#define TCP_MAX_QUEUED  (4u << 20)

typedef struct seg {
    struct seg *next;
    uint64_t due;
    size_t len, off;
    char data[];
} seg;

struct tconn;

typedef struct tdir {
    struct tconn *c;
    int d;                      /* PROXY_TCP_UP or PROXY_TCP_DOWN */
    int in_fd, out_fd;
    seg *head, *tail;
    size_t queued;
    uint64_t last_due;          /* keeps segments in order */
    uint64_t timer;             /* pending write timer (0: none) */
    int eof, shut, blocked;     /* input ended; output shut; waiting for POLLOUT */
} tdir;

typedef struct tconn {
    struct tcp_relay *t;
    int li;
    int cfd, ufd;
    int connected;
    tdir dir[2];
    prng rng;
    uint64_t reset_timer;
    struct tconn *prev, *next;
} tconn;

typedef struct tlistener {
    tcp_listener_spec spec;
    int fd;
    uint16_t port;
    uint64_t accepted, active, resets, bytes[2], discarded[2], connect_errors;
} tlistener;

struct tcp_relay {
    loop *l;
    int n;
    tlistener *ls;
    proxy_tcp_rule *rules;
    uint64_t seed, nconn;
    tconn *conns;
};

static void conn_close(tconn *c, int rst);
static int dir_pump(tdir *d);

static void conn_update_events(tconn *c)
{
    /* cfd: read for "up", write for "down"; ufd the opposite. */
    tdir *up = &c->dir[PROXY_TCP_UP], *down = &c->dir[PROXY_TCP_DOWN];
    unsigned ce = 0, ue = 0;
    if (!c->connected) {
        loop_mod_fd(c->t->l, c->ufd, LOOP_WRITE);
        loop_mod_fd(c->t->l, c->cfd, 0);
        return;
    }
    if (!up->eof && up->queued < TCP_MAX_QUEUED)
        ce |= LOOP_READ;
    if (!down->eof && down->queued < TCP_MAX_QUEUED)
        ue |= LOOP_READ;
    if (down->blocked)
        ce |= LOOP_WRITE;
    if (up->blocked)
        ue |= LOOP_WRITE;
    loop_mod_fd(c->t->l, c->cfd, ce);
    loop_mod_fd(c->t->l, c->ufd, ue);
}

static void dir_timer(loop *l, uint64_t id, void *arg)
{
    (void)l;
    (void)id;
    tdir *d = arg;
    d->timer = 0;
    if (dir_pump(d) == 0)
        conn_update_events(d->c);
}

/* Write every due segment. Returns -1 if the connection was closed. */
static int dir_pump(tdir *d)
{
    tconn *c = d->c;
    uint64_t now = loop_now(c->t->l);
    while (d->head && c->connected) {
        seg *s = d->head;
        if (s->due > now) {
            if (!d->timer)
                d->timer = loop_add_timer(c->t->l, s->due - now, 0, dir_timer, d);
            return 0;
        }
        ssize_t w = send(d->out_fd, s->data + s->off, s->len - s->off, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                d->blocked = 1;
                return 0;
            }
            if (errno == EINTR)
                continue;
            conn_close(c, 1);
            return -1;
        }
        d->blocked = 0;
        c->t->ls[c->li].bytes[d->d] += (uint64_t)w;
        s->off += (size_t)w;
        d->queued -= (size_t)w;
        if (s->off == s->len) {
            d->head = s->next;
            if (!d->head)
                d->tail = NULL;
            free(s);
        }
    }
    if (!d->head && d->eof && !d->shut && c->connected) {
        shutdown(d->out_fd, SHUT_WR);
        d->shut = 1;
        if (c->dir[0].shut && c->dir[1].shut) {
            conn_close(c, 0);
            return -1;
        }
    }
    return 0;
}

static void dir_queue(tdir *d, const char *data, size_t len)
{
    tconn *c = d->c;
    const proxy_tcp_faults *f = &c->t->rules[c->li].dir[d->d];
    uint64_t base = loop_now(c->t->l) + f->latency_ns;
    if (f->jitter_ns)
        base += prng_below(&c->rng, f->jitter_ns);
    size_t step = f->slice ? f->slice : len;
    for (size_t off = 0; off < len; off += step) {
        size_t n = len - off < step ? len - off : step;
        /* Never before the previous segment; pause after it when slicing. */
        uint64_t due = base;
        if (d->last_due >= due) {
            due = d->last_due;
            if (f->slice)
                due += f->slice_delay_ns;
        }
        /* Bandwidth cap: a segment leaves once its last byte would have. */
        if (f->bandwidth > 0)
            due += (uint64_t)((double)n * 1e9 / f->bandwidth);
        seg *s = malloc(sizeof *s + n);
        if (!s)
            abort();
        s->next = NULL;
        s->due = due;
        s->len = n;
        s->off = 0;
        memcpy(s->data, data + off, n);
        if (d->tail)
            d->tail->next = s;
        else
            d->head = s;
        d->tail = s;
        d->queued += n;
        d->last_due = due;
    }
}

static int dir_read(tdir *d)
{
    tconn *c = d->c;
    static char chunk[TCP_READ_CHUNK];
    while (!d->eof && d->queued < TCP_MAX_QUEUED) {
        ssize_t n = recv(d->in_fd, chunk, sizeof chunk, 0);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            if (errno == EINTR)
                continue;
            conn_close(c, 1);
            return -1;
        }
        if (n == 0) {
            d->eof = 1;
            break;
        }
        if (c->t->rules[c->li].dir[d->d].blackhole) {
            c->t->ls[c->li].discarded[d->d] += (uint64_t)n;
            continue;
        }
        dir_queue(d, chunk, (size_t)n);
    }
    return dir_pump(d);
}

static void on_conn_fd(loop *l, int fd, unsigned ev, void *arg)
{
    (void)l;
    tconn *c = arg;
    if (!c->connected) {
        if (fd != c->ufd) {            /* the client gave up before upstream answered */
            conn_close(c, 0);
            return;
        }
        if (net_connect_result(c->ufd) != 0 || (ev & LOOP_ERROR)) {
            c->t->ls[c->li].connect_errors++;
            conn_close(c, 1);
            return;
        }
        c->connected = 1;
        conn_update_events(c);
        return;
    }
    /* fd is the input of one direction and the output of the other. */
    tdir *in = fd == c->cfd ? &c->dir[PROXY_TCP_UP] : &c->dir[PROXY_TCP_DOWN];
    tdir *out = fd == c->cfd ? &c->dir[PROXY_TCP_DOWN] : &c->dir[PROXY_TCP_UP];
    if ((ev & LOOP_WRITE) && dir_pump(out) < 0)
        return;
    if ((ev & (LOOP_READ | LOOP_ERROR)) && dir_read(in) < 0)
        return;
    conn_update_events(c);
}

static void conn_reset_timer(loop *l, uint64_t id, void *arg)
{
    (void)l;
    (void)id;
    tconn *c = arg;
    c->reset_timer = 0;
    c->t->ls[c->li].resets++;
    conn_close(c, 1);
}

static void conn_close(tconn *c, int rst)
{
    tcp_relay *t = c->t;
    for (int k = 0; k < 2; k++) {
        tdir *d = &c->dir[k];
        if (d->timer)
            loop_cancel_timer(t->l, d->timer);
        while (d->head) {
            seg *s = d->head;
            d->head = s->next;
            free(s);
        }
    }
    if (c->reset_timer)
        loop_cancel_timer(t->l, c->reset_timer);
    int fds[2] = {c->cfd, c->ufd};
    for (int k = 0; k < 2; k++) {
        if (fds[k] < 0)
            continue;
        loop_del_fd(t->l, fds[k]);
        if (rst) {
            /* Linger 0: close sends RST, the way a reset looks to the peer. */
            struct linger lg = {1, 0};
            setsockopt(fds[k], SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        }
        close(fds[k]);
    }
    if (c->prev)
        c->prev->next = c->next;
    else
        t->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    t->ls[c->li].active--;
    free(c);
}

static void conn_schedule_reset(tconn *c)
{
    const proxy_tcp_rule *r = &c->t->rules[c->li];
    if (c->reset_timer)
        loop_cancel_timer(c->t->l, c->reset_timer);
    /* Even "at once" goes through a timer, so a reset never frees a
     * connection in the middle of its own callback. */
    c->reset_timer = loop_add_timer(c->t->l, r->reset_after_ns ? r->reset_after_ns : 1, 0,
                                    conn_reset_timer, c);
}

static void on_accept(loop *l, int fd, unsigned ev, void *arg)
{
    (void)ev;
    tcp_relay *t = arg;
    int li = 0;
    while (li < t->n && t->ls[li].fd != fd)
        li++;
    if (li == t->n)
        return;
    for (int k = 0; k < 64; k++) {
        int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0)
            return;
        char err[128];
        int ufd = net_tcp_connect_addr(&t->ls[li].spec.upstream, err, sizeof err);
        if (ufd < 0) {
            t->ls[li].connect_errors++;
            struct linger lg = {1, 0};
            setsockopt(cfd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
            close(cfd);
            continue;
        }
        tconn *c = calloc(1, sizeof *c);
        if (!c)
            abort();
        c->t = t;
        c->li = li;
        c->cfd = cfd;
        c->ufd = ufd;
        c->connected = 0;
        prng_seed(&c->rng, prng_derive(t->seed, (uint64_t)li << 32 | t->nconn++));
        for (int d = 0; d < 2; d++) {
            c->dir[d].c = c;
            c->dir[d].d = d;
            c->dir[d].in_fd = d == PROXY_TCP_UP ? cfd : ufd;
            c->dir[d].out_fd = d == PROXY_TCP_UP ? ufd : cfd;
        }
        c->next = t->conns;
        if (t->conns)
            t->conns->prev = c;
        t->conns = c;
        t->ls[li].accepted++;
        t->ls[li].active++;
        loop_add_fd(l, cfd, 0, on_conn_fd, c);
        loop_add_fd(l, ufd, LOOP_WRITE, on_conn_fd, c);
        if (t->rules[li].reset)
            conn_schedule_reset(c);
    }
}

tcp_relay *tcp_relay_new(loop *l, int n, const tcp_listener_spec *spec, proxy_tcp_rule *rules,
                         uint64_t seed, char *err, size_t errlen)
{
    tcp_relay *t = calloc(1, sizeof *t);
    if (!t)
        abort();
    t->l = l;
    t->rules = rules;
    t->seed = seed;
    t->ls = calloc((size_t)(n ? n : 1), sizeof *t->ls);
    if (!t->ls)
        abort();
    for (int i = 0; i < n; i++) {
        t->ls[i].spec = spec[i];
        t->ls[i].fd = -1;
    }
    t->n = n;
    for (int i = 0; i < n; i++) {
        char hp[32], e[160];
        net_format_addr(&spec[i].listen, hp, sizeof hp);
        int fd = net_tcp_listen(hp, 128, e, sizeof e);
        if (fd < 0) {
            snprintf(err, errlen, "TCP listener %s: %s", spec[i].name, e);
            goto fail;
        }
        t->ls[i].fd = fd;
        t->ls[i].port = (uint16_t)net_local_port(fd);
        loop_add_fd(l, fd, LOOP_READ, on_accept, t);
    }
    return t;
fail:
    tcp_relay_free(t);
    return NULL;
}

void tcp_relay_free(tcp_relay *t)
{
    if (!t)
        return;
    while (t->conns)
        conn_close(t->conns, 0);
    for (int i = 0; i < t->n; i++)
        if (t->ls[i].fd >= 0) {
            loop_del_fd(t->l, t->ls[i].fd);
            close(t->ls[i].fd);
        }
    free(t->ls);
    free(t);
}

void tcp_relay_rule_changed(tcp_relay *t, int li)
{
    for (tconn *c = t->conns; c; c = c->next) {
        if (c->li != li)
            continue;
        if (t->rules[li].reset) {
            conn_schedule_reset(c);
        } else if (c->reset_timer) {
            loop_cancel_timer(t->l, c->reset_timer);
            c->reset_timer = 0;
        }
    }
}

uint16_t tcp_relay_port(const tcp_relay *t, int li)
{
    return t->ls[li].port;
}

void tcp_relay_stats_json(const tcp_relay *t, buf *out)
{
    buf_puts(out, "\"tcp\":[");
    for (int i = 0; i < t->n; i++) {
        const tlistener *s = &t->ls[i];
        buf_printf(out, "%s{\"name\":\"%s\",\"accepted\":%" PRIu64 ",\"active\":%" PRIu64
                        ",\"resets\":%" PRIu64 ",\"connect_errors\":%" PRIu64 ",\"bytes_up\":%" PRIu64
                        ",\"bytes_down\":%" PRIu64 ",\"discarded_up\":%" PRIu64
                        ",\"discarded_down\":%" PRIu64 "}",
                   i ? "," : "", s->spec.name, s->accepted, s->active, s->resets,
                   s->connect_errors, s->bytes[0], s->bytes[1], s->discarded[0], s->discarded[1]);
    }
    buf_puts(out, "],");
}
