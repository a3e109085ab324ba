/* relay.c: the UDP relay matrix of faultproxy (see relay.h).
 *
 * Fast path, per readable socket: recvmmsg up to RELAY_BATCH datagrams into
 * fixed receive buffers, ask the engine for each verdict, queue the copies
 * that leave at once on the sending socket's output batch (pointing into the
 * receive buffers, no copy), copy delayed ones into pool slots, then flush
 * every output batch with sendmmsg before the buffers are reused. Nothing
 * is allocated per datagram. The earliest delayed datagram is watched by one
 * timer of the common loop (its heap and the epoll timeout cost no system
 * call, unlike a timerfd's settime and read on every change). */
#define _GNU_SOURCE
#include "relay.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/net.h"
#include "common/wire.h"
#include "pool.h"

#define RELAY_BATCH   64
#define RELAY_BUFSZ   65536
#define RELAY_OUTQ    (RELAY_BATCH * PROXY_MAX_COPIES)
#define RELAY_SOCKBUF (4 << 20)

/* Datagrams waiting to leave through one node's proxy socket. */
typedef struct outq {
    int n;
    struct mmsghdr msg[RELAY_OUTQ];
    struct iovec iov[RELAY_OUTQ];
    proxy_link_stats *st[RELAY_OUTQ];
    pool_slot *slot[RELAY_OUTQ];   /* returned to the pool once sent (NULL: receive buffer) */
} outq;

struct relay {
    proxy_engine *eng;
    int n;
    int fd[PROXY_MAX_NODES];
    uint16_t port[PROXY_MAX_NODES];
    struct sockaddr_in addr[PROXY_MAX_NODES];
    outq *out[PROXY_MAX_NODES];
    loop *l;
    uint64_t timer;                /* loop timer for the earliest due datagram (0: none) */
    uint64_t armed;                /* its due time */
    pool pool;
    /* receive side */
    struct mmsghdr rmsg[RELAY_BATCH];
    struct iovec riov[RELAY_BATCH];
    struct sockaddr_in rsrc[RELAY_BATCH];
    uint8_t *rbuf;                 /* RELAY_BATCH * RELAY_BUFSZ */
    FILE *dlog;
    uint64_t t0;
    uint32_t cluster;
    uint64_t unknown_source, malformed, forged;
    uint64_t spin_ns;              /* adaptive spin after traffic (0: off) */
    struct pollfd pfd[PROXY_MAX_NODES];   /* the node sockets, for the spin */
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

relay *relay_new(loop *l, proxy_engine *e, const struct sockaddr_in *node_addr,
                 const uint16_t *proxy_port, const char *bind_addr, size_t max_queued,
                 FILE *dlog, char *err, size_t errlen)
{
    relay *r = calloc(1, sizeof *r);
    if (!r)
        abort();
    r->eng = e;
    r->l = l;
    r->n = e->nnodes;
    r->dlog = dlog;
    r->t0 = now_ns();
    for (int i = 0; i < PROXY_MAX_NODES; i++)
        r->fd[i] = -1;
    pool_init(&r->pool, max_queued);
    r->rbuf = malloc((size_t)RELAY_BATCH * RELAY_BUFSZ);
    if (!r->rbuf)
        abort();
    struct in_addr ba;
    if (inet_pton(AF_INET, bind_addr, &ba) != 1) {
        snprintf(err, errlen, "bad bind address '%s' (an IPv4 address)", bind_addr);
        goto fail;
    }
    for (int i = 0; i < r->n; i++) {
        r->addr[i] = node_addr[i];
        r->out[i] = calloc(1, sizeof(outq));
        if (!r->out[i])
            abort();
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(proxy_port[i]), .sin_addr = ba};
        int fd = net_udp_bind_addr(&sa, err, errlen);
        if (fd < 0)
            goto fail;
        r->fd[i] = fd;
        /* As root, go past net.core.rmem_max: a relay for many nodes sees bursts. */
        int sz = RELAY_SOCKBUF;
        setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof sz);
        setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof sz);
        r->port[i] = (uint16_t)net_local_port(fd);
        r->pfd[i] = (struct pollfd){.fd = fd, .events = POLLIN};
    }
    for (int k = 0; k < RELAY_BATCH; k++) {
        r->riov[k] = (struct iovec){r->rbuf + (size_t)k * RELAY_BUFSZ, RELAY_BUFSZ};
        r->rmsg[k].msg_hdr.msg_iov = &r->riov[k];
        r->rmsg[k].msg_hdr.msg_iovlen = 1;
        r->rmsg[k].msg_hdr.msg_name = &r->rsrc[k];
    }
    return r;
fail:
    relay_free(r);
    return NULL;
}

void relay_free(relay *r)
{
    if (!r)
        return;
    for (int i = 0; i < PROXY_MAX_NODES; i++) {
        if (r->fd[i] >= 0)
            close(r->fd[i]);
        free(r->out[i]);
    }
    if (r->timer)
        loop_cancel_timer(r->l, r->timer);
    pool_free(&r->pool);
    free(r->rbuf);
    free(r);
}

int relay_node_fd(const relay *r, int i) { return r->fd[i]; }
uint16_t relay_port(const relay *r, int i) { return r->port[i]; }
uint32_t relay_cluster(const relay *r) { return r->cluster; }
size_t relay_queued(const relay *r) { return r->pool.nheap; }

void relay_stats_json(const relay *r, buf *out)
{
    buf_printf(out, "\"queued\":%zu,\"unknown_source\":%" PRIu64 ",\"malformed\":%" PRIu64
                    ",\"forged\":%" PRIu64 ",",
               r->pool.nheap, r->unknown_source, r->malformed, r->forged);
}

/* Send every queued datagram of one socket; failures are counted, not retried
 * (a full socket buffer is just one more way a fair-loss link loses). */
static void outq_flush(relay *r, int i)
{
    outq *q = r->out[i];
    int sent = 0;
    while (sent < q->n) {
        int k = sendmmsg(r->fd[i], q->msg + sent, (unsigned)(q->n - sent), 0);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            q->st[sent]->send_errors++;
            sent++;
            continue;
        }
        for (int m = sent; m < sent + k; m++) {
            q->st[m]->forwarded++;
            q->st[m]->bytes_out += q->iov[m].iov_len;
        }
        sent += k;
    }
    for (int m = 0; m < q->n; m++)
        if (q->slot[m])
            pool_put(&r->pool, q->slot[m]);
    q->n = 0;
}

static void outq_add(relay *r, int from, int to, const uint8_t *d, size_t len, pool_slot *slot)
{
    outq *q = r->out[from];
    if (q->n == RELAY_OUTQ)
        outq_flush(r, from);
    int m = q->n++;
    q->iov[m] = (struct iovec){(void *)d, len};
    memset(&q->msg[m], 0, sizeof q->msg[m]);
    q->msg[m].msg_hdr.msg_iov = &q->iov[m];
    q->msg[m].msg_hdr.msg_iovlen = 1;
    q->msg[m].msg_hdr.msg_name = &r->addr[to];
    q->msg[m].msg_hdr.msg_namelen = sizeof r->addr[to];
    q->st[m] = &proxy_link_at(r->eng, from, to)->st;
    q->slot[m] = slot;
}

static void flush_all(relay *r)
{
    for (int i = 0; i < r->n; i++)
        if (r->out[i]->n)
            outq_flush(r, i);
}

static void on_due(loop *l, uint64_t id, void *arg);

/* Keep the loop timer on the earliest due datagram. */
static void arm(relay *r)
{
    pool_slot *top = pool_peek(&r->pool);
    uint64_t due = top ? top->due : 0;
    if (r->timer && due == r->armed)
        return;
    if (r->timer)
        loop_cancel_timer(r->l, r->timer);
    r->timer = 0;
    r->armed = due;
    if (!due)
        return;
    uint64_t now = loop_now(r->l);
    r->timer = loop_add_timer(r->l, due > now ? due - now : 0, 0, on_due, r);
}

static int find_sender(const relay *r, const struct sockaddr_in *src)
{
    for (int i = 0; i < r->n; i++)
        if (r->addr[i].sin_port == src->sin_port &&
            r->addr[i].sin_addr.s_addr == src->sin_addr.s_addr)
            return i;
    return -1;
}

static void log_decision(relay *r, int from, int to, int type, size_t len, uint64_t now,
                         const proxy_verdict *v)
{
    const proxy_engine *e = r->eng;
    fprintf(r->dlog, "{\"t\":%" PRIu64 ",\"from\":\"%s\",\"to\":\"%s\",\"n\":%" PRIu64
                     ",\"type\":%d,\"len\":%zu,\"verdict\":\"%s\"",
            now - r->t0, e->nodes[from].name, e->nodes[to].name,
            proxy_link_at(r->eng, from, to)->arrivals, type, len, proxy_verdict_name(v->kind));
    if (v->kind == PROXY_V_FORWARD) {
        fputs(",\"delays_ns\":[", r->dlog);
        for (int c = 0; c < v->ncopies; c++)
            fprintf(r->dlog, "%s%" PRIu64, c ? "," : "", v->delay_ns[c]);
        fputc(']', r->dlog);
        if (v->duplicated)
            fprintf(r->dlog, ",\"duplicated\":%u", v->duplicated);
        if (v->reordered)
            fprintf(r->dlog, ",\"reordered\":%u", v->reordered);
        if (v->replayed)
            fputs(",\"replayed\":true", r->dlog);
        if (v->flipped)
            fprintf(r->dlog, ",\"flipped\":%u", v->flipped);
        if (v->truncated)
            fprintf(r->dlog, ",\"truncated_to\":%zu", v->new_len);
    }
    fputs("}\n", r->dlog);
}

static void handle(relay *r, int to, uint8_t *d, size_t len, const struct sockaddr_in *src,
                   uint64_t now)
{
    int from = find_sender(r, src);
    if (from < 0) {
        r->unknown_source++;
        return;
    }
    wire_header h;
    int type = -1;
    if (wire_peek(d, len, &h) == WIRE_OK) {
        type = h.type;
        r->cluster = h.cluster;
    } else {
        r->malformed++;   /* still relayed: only type-less rules apply to it */
    }
    proxy_verdict v;
    proxy_decide(r->eng, from, to, type, d, len, now, &v);
    if (r->dlog)
        log_decision(r, from, to, type, len, now, &v);
    if (v.kind != PROXY_V_FORWARD)
        return;
    for (int c = 0; c < v.ncopies; c++) {
        if (v.delay_ns[c] == 0) {
            outq_add(r, from, to, d, v.new_len, NULL);
            continue;
        }
        pool_slot *s = pool_get(&r->pool, v.new_len);
        if (!s) {
            proxy_link_at(r->eng, from, to)->st.overflow++;
            continue;
        }
        memcpy(s->data, d, v.new_len);
        s->due = now + v.delay_ns[c];
        s->from = (uint16_t)from;
        s->to = (uint16_t)to;
        pool_push(&r->pool, s);
    }
}

/* Reads and relays what socket i holds now: a few batches, then it yields so
 * the other sockets get their turn. Returns the datagrams read. */
static int drain(relay *r, int i)
{
    int total = 0;
    for (int round = 0; round < 8; round++) {
        for (int k = 0; k < RELAY_BATCH; k++)
            r->rmsg[k].msg_hdr.msg_namelen = sizeof r->rsrc[k];
        int n = recvmmsg(r->fd[i], r->rmsg, RELAY_BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0)
            break;
        total += n;
        uint64_t now = now_ns();
        for (int k = 0; k < n; k++) {
            if (r->rmsg[k].msg_hdr.msg_flags & MSG_TRUNC) {
                r->malformed++;
                continue;
            }
            handle(r, i, r->riov[k].iov_base, r->rmsg[k].msg_len, &r->rsrc[k], now);
        }
        flush_all(r);
        if (n < RELAY_BATCH)
            break;
    }
    return total;
}

/* The adaptive spin (relay_set_spin): after traffic, poll the node sockets
 * without sleeping until spin_ns pass with nothing new. A reply that comes
 * back within that window is relayed without the wake-up of a sleeping
 * process, which is most of a loopback hop's latency. Bounded three ways:
 * it ends spin_ns after the last datagram (an idle proxy never spins), after
 * RELAY_SPIN_MAX_NS in total (the control socket and the loop's timers get
 * their turn), and as soon as a delayed datagram falls due. */
#define RELAY_SPIN_MAX_NS 1000000ull

static void spin(relay *r)
{
    uint64_t start = now_ns(), last = start, now = start;
    while (now - last < r->spin_ns && now - start < RELAY_SPIN_MAX_NS) {
        const pool_slot *top = pool_peek(&r->pool);
        if (top && top->due <= now)
            break;
        if (poll(r->pfd, (nfds_t)r->n, 0) > 0) {
            for (int k = 0; k < r->n; k++)
                if (r->pfd[k].revents & POLLIN)
                    drain(r, k);
            last = now_ns();
        }
        now = now_ns();
    }
}

void relay_set_spin(relay *r, uint64_t spin_ns) { r->spin_ns = spin_ns; }

void relay_on_readable(relay *r, int i)
{
    if (drain(r, i) > 0 && r->spin_ns)
        spin(r);
    arm(r);
}

static void on_due(loop *l, uint64_t id, void *arg)
{
    (void)l;
    (void)id;
    relay *r = arg;
    r->timer = 0;
    uint64_t now = now_ns();
    pool_slot *s;
    while ((s = pool_peek(&r->pool)) && s->due <= now) {
        pool_pop(&r->pool);
        /* A partition also takes what is in flight on a link it cuts, as
         * the netns backend's nftables cut at the receiver does: a
         * datagram that left before the cut but is due after it is lost.
         * (Loopback and netns runs of one scenario then see one network.) */
        if (proxy_partitioned(r->eng, s->from, s->to)) {
            proxy_link_at(r->eng, s->from, s->to)->st.blackholed++;
            pool_put(&r->pool, s);
            continue;
        }
        outq_add(r, s->from, s->to, s->data, s->len, s);
    }
    flush_all(r);
    arm(r);
}

int relay_forge(relay *r, int from, int to, const uint8_t *d, size_t len, char *err, size_t errlen)
{
    if (sendto(r->fd[from], d, len, 0, (struct sockaddr *)&r->addr[to], sizeof r->addr[to]) < 0) {
        snprintf(err, errlen, "send: %s", strerror(errno));
        return -1;
    }
    r->forged++;
    return 0;
}

void relay_log_control(relay *r, int argc, char **argv)
{
    if (!r->dlog)
        return;
    fprintf(r->dlog, "{\"t\":%" PRIu64 ",\"control\":\"", now_ns() - r->t0);
    for (int a = 0; a < argc; a++) {
        if (a)
            fputc(' ', r->dlog);
        for (const unsigned char *p = (const unsigned char *)argv[a]; *p; p++) {
            if (*p == '"' || *p == '\\')
                fprintf(r->dlog, "\\%c", *p);
            else if (*p < 0x20 || *p >= 0x7f)
                fprintf(r->dlog, "\\u%04x", *p);
            else
                fputc(*p, r->dlog);
        }
    }
    fputs("\"}\n", r->dlog);
}
