/* resp_server.c: the RESP2 TCP server (resp_server.h).
 *
 * Each connection has two output stages:
 *   out    bytes ready to send, in request order;
 *   slots  a FIFO of reply slots that starts at the oldest deferred reply
 *          still pending. Slots hold consecutive command numbers (seq):
 *          once one reply is pending, every later reply must wait behind
 *          it, ready or not. When the head slot fills, it and every ready
 *          slot after it move to `out`.
 * With nothing deferred, slots stay empty and replies go straight to out.
 *
 * Lifetime: a connection may be asked to die (write error, QUIT, end of
 * input) while its own handler is running, possibly from inside a reply
 * call the handler made. `busy` marks that window; the connection is freed
 * only once the dispatcher is back in control. */
#define _GNU_SOURCE
#include "resp_server.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "errf.h"
#include "log.h"
#include "net.h"

#define READ_CHUNK 65536
#define FD_BITS 24 /* a connection id is (serial << FD_BITS) | fd */

struct slot {
    uint64_t seq;
    int ready;
    buf bytes;
};

struct resp_conn {
    resp_server *srv;
    int fd;
    uint64_t id;
    char peer[24];
    resp_reader *rd;
    buf out;
    buf reply;               /* the current command's immediate reply */
    struct slot *slots;      /* slots[head..len) in use */
    size_t head, len, cap;
    size_t queued;           /* bytes held in ready slots */
    uint64_t next_seq, cur_seq;
    int deferred;            /* the current command was deferred */
    int closing;             /* close once everything queued is sent */
    int eof;                 /* the peer sent everything it will send */
    int busy, dead;
    int paused;              /* not reading: too much queued */
    unsigned events;         /* registered with the loop */
    void *data;
};

struct resp_server {
    loop *l;
    int lfd;
    resp_handler_fn fn;
    void *arg;
    resp_close_fn close_fn;
    resp_conn **byfd;        /* open connections indexed by fd */
    size_t nbyfd, nconns;
    uint64_t serial;
    uint64_t pause_timer;    /* accept paused after EMFILE */
};

static void conn_after_io(resp_conn *c);
static void process_commands(resp_conn *c);

static void conn_destroy(resp_conn *c)
{
    resp_server *s = c->srv;
    /* From here on, replies to this connection (even from the close
     * callback itself) are no-ops, and nothing re-enters this function. */
    c->dead = 1;
    c->busy = 1;
    if (s->close_fn)
        s->close_fn(c, s->arg);
    loop_del_fd(s->l, c->fd);
    close(c->fd);
    s->byfd[c->fd] = NULL;
    s->nconns--;
    for (size_t i = c->head; i < c->len; i++)
        buf_free(&c->slots[i].bytes);
    free(c->slots);
    resp_reader_free(c->rd);
    buf_free(&c->out);
    buf_free(&c->reply);
    free(c);
}

static size_t pending_slots(const resp_conn *c)
{
    return c->len - c->head;
}

static struct slot *slot_push(resp_conn *c, uint64_t seq)
{
    if (c->len == c->cap) {
        if (c->head > 0) { /* reuse the consumed front */
            memmove(c->slots, c->slots + c->head, pending_slots(c) * sizeof *c->slots);
            c->len -= c->head;
            c->head = 0;
        } else {
            c->cap = c->cap ? 2 * c->cap : 8;
            c->slots = realloc(c->slots, c->cap * sizeof *c->slots);
            if (!c->slots)
                abort();
        }
    }
    struct slot *sl = &c->slots[c->len++];
    sl->seq = seq;
    sl->ready = 0;
    buf_init(&sl->bytes);
    return sl;
}

/* Moves the ready slots at the head of the queue to out. */
static void slots_drain(resp_conn *c)
{
    while (c->head < c->len && c->slots[c->head].ready) {
        struct slot *sl = &c->slots[c->head++];
        buf_append(&c->out, buf_ptr(&sl->bytes), buf_size(&sl->bytes));
        c->queued -= buf_size(&sl->bytes);
        buf_free(&sl->bytes);
    }
    if (c->head == c->len)
        c->head = c->len = 0;
}

/* The reply of command seq is ready: straight out, or into its slot. */
static void enqueue_ready(resp_conn *c, uint64_t seq, const char *bytes, size_t n)
{
    if (pending_slots(c) == 0) {
        buf_append(&c->out, bytes, n);
        return;
    }
    struct slot *sl = slot_push(c, seq);
    sl->ready = 1;
    buf_append(&sl->bytes, bytes, n);
    c->queued += n;
}

static void conn_flush(resp_conn *c)
{
    while (buf_size(&c->out) > 0 && !c->dead) {
        ssize_t n = send(c->fd, buf_ptr(&c->out), buf_size(&c->out), MSG_NOSIGNAL);
        if (n > 0) {
            buf_consume(&c->out, (size_t)n);
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        } else {
            c->dead = 1; /* peer gone: nothing more can be delivered */
        }
    }
}

static void conn_set_events(resp_conn *c)
{
    unsigned ev = 0;
    if (!c->eof && !c->closing && !c->paused)
        ev |= LOOP_READ;
    if (buf_size(&c->out) > 0)
        ev |= LOOP_WRITE;
    if (ev != c->events && loop_mod_fd(c->srv->l, c->fd, ev) == 0)
        c->events = ev;
}

/* After anything that may have queued output or changed state: send what
 * can be sent, close if done, and resume reading once drained. */
static void conn_after_io(resp_conn *c)
{
    if (c->busy)
        return; /* the dispatcher calls us when the handler returns */
    conn_flush(c);
    int finished = (c->closing || c->eof) && buf_size(&c->out) == 0 && pending_slots(c) == 0;
    if (c->dead || finished) {
        conn_destroy(c);
        return;
    }
    int was_paused = c->paused;
    c->paused = buf_size(&c->out) + c->queued > RESP_SERVER_MAX_QUEUED ||
                pending_slots(c) >= RESP_SERVER_MAX_SLOTS;
    conn_set_events(c);
    if (was_paused && !c->paused)
        process_commands(c); /* commands already buffered wait for no new read */
}

static void dispatch(resp_conn *c, resp_command *cmd)
{
    resp_server *s = c->srv;
    c->cur_seq = c->next_seq++;
    c->deferred = 0;
    buf_reset(&c->reply);
    s->fn(c, cmd, s->arg);
    if (c->deferred)
        return;
    if (buf_size(&c->reply) == 0)
        resp_put_error(&c->reply, "ERR internal error: no reply");
    enqueue_ready(c, c->cur_seq, buf_ptr(&c->reply), buf_size(&c->reply));
}

static void process_commands(resp_conn *c)
{
    c->busy = 1;
    while (!c->closing && !c->dead && !c->paused) {
        resp_command cmd;
        int rc = resp_reader_next_command(c->rd, &cmd);
        if (rc == RESP_NEED_MORE)
            break;
        if (rc != RESP_GOT) {
            /* Malformed input: say why, then close after the replies
             * queued so far (the rest of the input is unusable). */
            buf e;
            buf_init(&e);
            resp_put_error(&e, "ERR Protocol error: %s", resp_strerror(rc));
            enqueue_ready(c, c->next_seq++, buf_ptr(&e), buf_size(&e));
            buf_free(&e);
            c->closing = 1;
            break;
        }
        dispatch(c, &cmd);
        c->paused = buf_size(&c->out) + c->queued > RESP_SERVER_MAX_QUEUED ||
                    pending_slots(c) >= RESP_SERVER_MAX_SLOTS;
    }
    c->busy = 0;
    conn_after_io(c);
}

static void on_conn(loop *l, int fd, unsigned events, void *arg)
{
    (void)l;
    (void)fd;
    resp_conn *c = arg;
    if ((events & LOOP_ERROR) && !(events & LOOP_READ)) {
        /* Hang-up or error while we were not reading (paused, or after the
         * peer's EOF): nothing can be delivered any more, and a
         * level-triggered hang-up would otherwise be reported forever. */
        c->dead = 1;
        conn_after_io(c);
        return;
    }
    if (events & LOOP_WRITE) {
        conn_after_io(c);
        if (c->srv->byfd[fd] != c)
            return; /* destroyed */
    }
    if (!(events & LOOP_READ) || c->eof || c->closing || c->paused)
        return;
    char tmp[READ_CHUNK];
    ssize_t n = read(c->fd, tmp, sizeof tmp);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (n < 0) {
        c->dead = 1;
        conn_after_io(c);
        return;
    }
    if (n == 0)
        c->eof = 1;
    else /* a feed error is sticky and comes back from next_command */
        (void)resp_reader_feed(c->rd, tmp, (size_t)n);
    process_commands(c);
}

static void resume_accept(loop *l, uint64_t id, void *arg)
{
    (void)id;
    resp_server *s = arg;
    s->pause_timer = 0;
    loop_mod_fd(l, s->lfd, LOOP_READ);
}

static void conn_new(resp_server *s, int fd)
{
    if (s->nconns >= RESP_SERVER_MAX_CONNS || fd >= (1 << FD_BITS)) {
        LOG_WARN("resp server: too many connections, refusing one");
        close(fd);
        return;
    }
    if ((size_t)fd >= s->nbyfd) {
        size_t n = s->nbyfd ? s->nbyfd : 64;
        while (n <= (size_t)fd)
            n *= 2;
        s->byfd = realloc(s->byfd, n * sizeof *s->byfd);
        if (!s->byfd)
            abort();
        memset(s->byfd + s->nbyfd, 0, (n - s->nbyfd) * sizeof *s->byfd);
        s->nbyfd = n;
    }
    resp_conn *c = calloc(1, sizeof *c);
    if (!c)
        abort();
    c->srv = s;
    c->fd = fd;
    c->id = (++s->serial << FD_BITS) | (uint64_t)fd;
    c->rd = resp_reader_new();
    buf_init(&c->out);
    buf_init(&c->reply);
    struct sockaddr_in peer;
    socklen_t plen = sizeof peer;
    if (getpeername(fd, (struct sockaddr *)&peer, &plen) == 0)
        net_format_addr(&peer, c->peer, sizeof c->peer);
    net_set_nodelay(fd);
    c->events = LOOP_READ;
    if (loop_add_fd(s->l, fd, LOOP_READ, on_conn, c) < 0) {
        resp_reader_free(c->rd);
        free(c);
        close(fd);
        return;
    }
    s->byfd[fd] = c;
    s->nconns++;
}

static void on_accept(loop *l, int fd, unsigned events, void *arg)
{
    (void)events;
    resp_server *s = arg;
    for (;;) {
        int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd >= 0) {
            conn_new(s, cfd);
            continue;
        }
        if (errno == EINTR || errno == ECONNABORTED)
            continue;
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
            /* Level-triggered: without a pause this would spin. */
            LOG_WARN("resp server: accept: %s; pausing accepts for 100ms", strerror(errno));
            loop_mod_fd(l, fd, 0);
            s->pause_timer = loop_add_timer(l, 100000000, 0, resume_accept, s);
        }
        return;
    }
}

resp_server *resp_server_new(loop *l, const char *hostport, resp_handler_fn fn, void *arg,
                             char *err, size_t errlen)
{
    int fd = net_tcp_listen(hostport, 511, err, errlen);
    if (fd < 0)
        return NULL;
    resp_server *s = calloc(1, sizeof *s);
    if (!s)
        abort();
    s->l = l;
    s->lfd = fd;
    s->fn = fn;
    s->arg = arg;
    if (loop_add_fd(l, fd, LOOP_READ, on_accept, s) < 0) {
        errf(err, errlen, "cannot watch the listening socket: %s", strerror(errno));
        close(fd);
        free(s);
        return NULL;
    }
    return s;
}

void resp_server_free(resp_server *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nbyfd; i++)
        if (s->byfd[i])
            conn_destroy(s->byfd[i]);
    if (s->pause_timer)
        loop_cancel_timer(s->l, s->pause_timer);
    loop_del_fd(s->l, s->lfd);
    close(s->lfd);
    free(s->byfd);
    free(s);
}

void resp_server_on_close(resp_server *s, resp_close_fn fn) { s->close_fn = fn; }
int resp_server_port(const resp_server *s) { return net_local_port(s->lfd); }
size_t resp_server_conns(const resp_server *s) { return s->nconns; }

buf *resp_conn_out(resp_conn *c) { return &c->reply; }
uint64_t resp_conn_id(const resp_conn *c) { return c->id; }
resp_server *resp_conn_server(resp_conn *c) { return c->srv; }
void *resp_conn_data(const resp_conn *c) { return c->data; }
void resp_conn_set_data(resp_conn *c, void *data) { c->data = data; }
const char *resp_conn_peer(const resp_conn *c) { return c->peer; }

void resp_conn_close(resp_conn *c)
{
    c->closing = 1;
    conn_after_io(c);
}

resp_ticket resp_conn_defer(resp_conn *c)
{
    if (!c->deferred) {
        c->deferred = 1;
        slot_push(c, c->cur_seq);
    }
    return (resp_ticket){c->id, c->cur_seq};
}

static resp_conn *conn_lookup(resp_server *s, uint64_t id)
{
    size_t fd = (size_t)(id & ((1u << FD_BITS) - 1));
    if (fd >= s->nbyfd || !s->byfd[fd] || s->byfd[fd]->id != id || s->byfd[fd]->dead)
        return NULL;
    return s->byfd[fd];
}

/* Fills slot i of c. */
static void slot_fill(resp_conn *c, size_t i, const char *bytes, size_t n)
{
    struct slot *sl = &c->slots[i];
    sl->ready = 1;
    buf_append(&sl->bytes, bytes, n);
    c->queued += n;
    slots_drain(c);
    conn_after_io(c);
}

int resp_server_reply_ticket(resp_server *s, resp_ticket t, const char *bytes, size_t n)
{
    resp_conn *c = conn_lookup(s, t.conn);
    if (!c || pending_slots(c) == 0 || t.seq < c->slots[c->head].seq)
        return -1;
    size_t i = c->head + (size_t)(t.seq - c->slots[c->head].seq);
    if (i >= c->len || c->slots[i].ready)
        return -1;
    slot_fill(c, i, bytes, n);
    return 0;
}

int resp_server_reply(resp_server *s, uint64_t conn_id, const char *bytes, size_t n)
{
    resp_conn *c = conn_lookup(s, conn_id);
    if (!c)
        return -1;
    /* The head slot is always pending (ready heads are drained at once),
     * but later ones may be too; take the first that is. */
    for (size_t i = c->head; i < c->len; i++) {
        if (!c->slots[i].ready) {
            slot_fill(c, i, bytes, n);
            return 0;
        }
    }
    return -1;
}
