/* loop.c: the epoll event loop with a binary heap of timers (loop.h).
 *
 * File descriptors: a table indexed by fd. Each registration gets a
 * generation number that travels in the epoll event, so an event that was
 * already fetched for an fd that a callback then removed (or removed and
 * re-added) in the same iteration is recognised as stale and skipped.
 *
 * Timers: slots in an array, reused through a free list; a timer id is
 * (generation << 32 | slot + 1), so looking an id up is O(1) and a stale id
 * (fired one-shot, cancelled) never matches a reused slot. The heap holds
 * slot numbers ordered by (deadline, seq), seq being the order timers were
 * armed in, so timers due at the same instant fire in the order they were
 * added. */
#define _GNU_SOURCE
#include "loop.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

struct loop_fd {
    loop_fd_fn fn;
    void *arg;
    unsigned events;
    uint32_t gen;      /* 0: not registered */
};

struct loop_timer {
    uint64_t deadline, period, seq;
    loop_timer_fn fn;
    void *arg;
    uint32_t gen;
    int32_t heap_pos;  /* index in the heap, -1 when the slot is free */
    uint32_t next_free;
};

struct loop {
    int epfd, stopfd;
    int stop;
    int dispatching;           /* inside loop_run_once's callbacks */
    uint64_t now;
    struct loop_fd *fds;
    size_t nfds;               /* entries in fds */
    uint32_t fd_gen;
    struct loop_timer *timers;
    uint32_t ntimers, timer_cap;
    uint32_t free_head;        /* first free slot + 1, 0 = none */
    uint32_t *heap;
    uint32_t heap_len;
    uint64_t timer_seq;
};

/* The loop SIGINT/SIGTERM stop (loop_stop_on_signals). */
static loop *volatile signal_loop;

static void on_stop_signal(int sig)
{
    (void)sig;
    int saved = errno; /* a handler must not disturb the code it interrupted */
    if (signal_loop)
        loop_stop_async(signal_loop);
    errno = saved;
}

static void set_stop_handlers(void (*fn)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (!q)
        abort();
    return q;
}

static void stop_cb(loop *l, int fd, unsigned events, void *arg)
{
    (void)events;
    (void)arg;
    uint64_t v;
    while (read(fd, &v, sizeof v) < 0 && errno == EINTR)
        ;
    l->stop = 1;
}

loop *loop_new(void)
{
    loop *l = calloc(1, sizeof *l);
    if (!l)
        abort();
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    l->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (l->epfd < 0 || l->stopfd < 0 || loop_add_fd(l, l->stopfd, LOOP_READ, stop_cb, NULL) < 0) {
        if (l->epfd >= 0)
            close(l->epfd);
        if (l->stopfd >= 0)
            close(l->stopfd);
        free(l->fds);
        free(l);
        return NULL;
    }
    l->now = mono_now_ns();
    return l;
}

void loop_free(loop *l)
{
    if (!l)
        return;
    if (signal_loop == l) {
        set_stop_handlers(SIG_DFL);
        signal_loop = NULL;
    }
    close(l->epfd);
    close(l->stopfd);
    free(l->fds);
    free(l->timers);
    free(l->heap);
    free(l);
}

static uint32_t to_epoll(unsigned events)
{
    return ((events & LOOP_READ) ? EPOLLIN : 0u) | ((events & LOOP_WRITE) ? EPOLLOUT : 0u);
}

int loop_add_fd(loop *l, int fd, unsigned events, loop_fd_fn fn, void *arg)
{
    if (fd < 0) {
        errno = EBADF;
        return -1;
    }
    if ((size_t)fd >= l->nfds) {
        size_t n = l->nfds ? l->nfds : 64;
        while (n <= (size_t)fd)
            n *= 2;
        l->fds = xrealloc(l->fds, n * sizeof *l->fds);
        memset(l->fds + l->nfds, 0, (n - l->nfds) * sizeof *l->fds);
        l->nfds = n;
    }
    struct loop_fd *e = &l->fds[fd];
    if (e->gen != 0) {
        errno = EEXIST;
        return -1;
    }
    if (++l->fd_gen == 0)
        l->fd_gen = 1;
    struct epoll_event ev = {.events = to_epoll(events),
                             .data.u64 = (uint64_t)l->fd_gen << 32 | (uint32_t)fd};
    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
        return -1;
    *e = (struct loop_fd){fn, arg, events, l->fd_gen};
    return 0;
}

int loop_mod_fd(loop *l, int fd, unsigned events)
{
    if (fd < 0 || (size_t)fd >= l->nfds || l->fds[fd].gen == 0) {
        errno = ENOENT;
        return -1;
    }
    struct loop_fd *e = &l->fds[fd];
    if (e->events == events)
        return 0;
    struct epoll_event ev = {.events = to_epoll(events),
                             .data.u64 = (uint64_t)e->gen << 32 | (uint32_t)fd};
    if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
        return -1;
    e->events = events;
    return 0;
}

int loop_del_fd(loop *l, int fd)
{
    if (fd < 0 || (size_t)fd >= l->nfds || l->fds[fd].gen == 0) {
        errno = ENOENT;
        return -1;
    }
    l->fds[fd].gen = 0;
    /* Fails harmlessly if the fd was already closed (it left the set then). */
    epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
    return 0;
}

/* ---- timer heap ---- */

static int timer_less(const loop *l, uint32_t a, uint32_t b)
{
    const struct loop_timer *x = &l->timers[a], *y = &l->timers[b];
    return x->deadline < y->deadline || (x->deadline == y->deadline && x->seq < y->seq);
}

static void heap_set(loop *l, uint32_t pos, uint32_t slot)
{
    l->heap[pos] = slot;
    l->timers[slot].heap_pos = (int32_t)pos;
}

static void heap_up(loop *l, uint32_t pos)
{
    uint32_t slot = l->heap[pos];
    while (pos > 0) {
        uint32_t parent = (pos - 1) / 2;
        if (!timer_less(l, slot, l->heap[parent]))
            break;
        heap_set(l, pos, l->heap[parent]);
        pos = parent;
    }
    heap_set(l, pos, slot);
}

static void heap_down(loop *l, uint32_t pos)
{
    uint32_t slot = l->heap[pos];
    for (;;) {
        uint32_t child = 2 * pos + 1;
        if (child >= l->heap_len)
            break;
        if (child + 1 < l->heap_len && timer_less(l, l->heap[child + 1], l->heap[child]))
            child++;
        if (!timer_less(l, l->heap[child], slot))
            break;
        heap_set(l, pos, l->heap[child]);
        pos = child;
    }
    heap_set(l, pos, slot);
}

static void heap_push(loop *l, uint32_t slot)
{
    l->timers[slot].seq = l->timer_seq++;
    heap_set(l, l->heap_len++, slot);
    heap_up(l, l->heap_len - 1);
}

static void heap_remove(loop *l, uint32_t pos)
{
    uint32_t last = l->heap[--l->heap_len];
    if (pos < l->heap_len) {
        heap_set(l, pos, last);
        heap_down(l, pos);
        heap_up(l, (uint32_t)l->timers[last].heap_pos);
    }
}

static void timer_release(loop *l, uint32_t slot)
{
    struct loop_timer *t = &l->timers[slot];
    t->heap_pos = -1;
    if (++t->gen == 0)
        t->gen = 1;
    t->next_free = l->free_head;
    l->free_head = slot + 1;
}

uint64_t loop_add_timer(loop *l, uint64_t delay_ns, uint64_t period_ns,
                        loop_timer_fn fn, void *arg)
{
    uint32_t slot;
    if (l->free_head) {
        slot = l->free_head - 1;
        l->free_head = l->timers[slot].next_free;
    } else {
        if (l->ntimers == UINT32_MAX / 2)
            abort();
        if (l->ntimers == l->timer_cap) {
            l->timer_cap = l->timer_cap ? 2 * l->timer_cap : 16;
            l->timers = xrealloc(l->timers, l->timer_cap * sizeof *l->timers);
            l->heap = xrealloc(l->heap, l->timer_cap * sizeof *l->heap);
        }
        slot = l->ntimers++;
        l->timers[slot].gen = 1;
    }
    /* Inside a callback, delays count from the iteration's time, so timers
     * armed together keep their relative order exactly; outside (set-up
     * code) the clock is read afresh. */
    if (!l->dispatching)
        l->now = mono_now_ns();
    struct loop_timer *t = &l->timers[slot];
    t->deadline = delay_ns > UINT64_MAX - l->now ? UINT64_MAX : l->now + delay_ns;
    t->period = period_ns;
    t->fn = fn;
    t->arg = arg;
    heap_push(l, slot);
    return (uint64_t)t->gen << 32 | (slot + 1);
}

/* The slot of a live timer id, or -1. */
static int64_t timer_lookup(const loop *l, uint64_t id)
{
    uint32_t low = (uint32_t)id;
    if (low == 0 || low > l->ntimers)
        return -1;
    const struct loop_timer *t = &l->timers[low - 1];
    if (t->heap_pos < 0 || t->gen != (uint32_t)(id >> 32))
        return -1;
    return low - 1;
}

int loop_cancel_timer(loop *l, uint64_t timer_id)
{
    int64_t slot = timer_lookup(l, timer_id);
    if (slot < 0)
        return -1;
    heap_remove(l, (uint32_t)l->timers[slot].heap_pos);
    timer_release(l, (uint32_t)slot);
    return 0;
}

uint64_t loop_now(loop *l)
{
    return l->now;
}

/* Fires due timers. Only as many as were pending when this started: a
 * callback that re-arms a zero-delay timer cannot starve the fds. */
static void run_timers(loop *l)
{
    uint32_t budget = l->heap_len;
    while (budget-- > 0 && l->heap_len > 0) {
        uint32_t slot = l->heap[0];
        struct loop_timer *t = &l->timers[slot];
        if (t->deadline > l->now)
            break;
        uint64_t id = (uint64_t)t->gen << 32 | (slot + 1);
        loop_timer_fn fn = t->fn;
        void *arg = t->arg;
        heap_remove(l, 0);
        if (t->period) {
            /* Keep the cadence; after a long stall skip the missed ticks
             * rather than firing a burst. */
            t->deadline += t->period;
            if (t->deadline <= l->now)
                t->deadline = l->now + t->period;
            heap_push(l, slot);
        } else {
            timer_release(l, slot);
        }
        fn(l, id, arg);
    }
}

/* epoll_pwait2 (Linux 5.11) takes a nanosecond timeout. On older kernels,
 * and under valgrind (which does not know syscall 441 and warns on every
 * call), it fails with ENOSYS: remember that once for the whole process and
 * use epoll_wait from then on, silently. */
static atomic_int pwait2_missing;

int loop_run_once(loop *l, int timeout_ms)
{
    l->now = mono_now_ns();
    /* Wait until the next timer (to the nanosecond), capped by timeout_ms. */
    int64_t wait_ns = timeout_ms < 0 ? -1 : (int64_t)timeout_ms * 1000000;
    if (l->heap_len > 0) {
        uint64_t d = l->timers[l->heap[0]].deadline;
        uint64_t gap = d > l->now ? d - l->now : 0;
        int64_t until = gap > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)gap;
        if (wait_ns < 0 || until < wait_ns)
            wait_ns = until;
    }
    struct timespec ts, *tsp = NULL;
    if (wait_ns >= 0) {
        ts.tv_sec = wait_ns / 1000000000;
        ts.tv_nsec = wait_ns % 1000000000;
        tsp = &ts;
    }
    struct epoll_event evs[64];
    int n = -1;
    errno = ENOSYS;
    if (!atomic_load_explicit(&pwait2_missing, memory_order_relaxed)) {
        n = epoll_pwait2(l->epfd, evs, 64, tsp, NULL);
        if (n < 0 && errno == ENOSYS)
            atomic_store_explicit(&pwait2_missing, 1, memory_order_relaxed);
    }
    if (n < 0 && errno == ENOSYS) {
        /* Millisecond timeouts, rounded up so a timer is never run early. */
        int ms = wait_ns < 0 ? -1 : (int)((wait_ns + 999999) / 1000000);
        n = epoll_wait(l->epfd, evs, 64, ms);
    }
    if (n < 0) {
        if (errno != EINTR)
            return -1;
        n = 0;
    }
    l->now = mono_now_ns();
    l->dispatching = 1;
    for (int i = 0; i < n; i++) {
        int fd = (int)(uint32_t)evs[i].data.u64;
        uint32_t gen = (uint32_t)(evs[i].data.u64 >> 32);
        if ((size_t)fd >= l->nfds || l->fds[fd].gen != gen)
            continue; /* removed by an earlier callback in this batch */
        struct loop_fd *e = &l->fds[fd];
        unsigned ev = 0;
        if (evs[i].events & EPOLLIN)
            ev |= LOOP_READ;
        if (evs[i].events & EPOLLOUT)
            ev |= LOOP_WRITE;
        if (evs[i].events & (EPOLLERR | EPOLLHUP))
            ev |= LOOP_ERROR | (e->events & LOOP_READ);
        e->fn(l, fd, ev, e->arg);
    }
    run_timers(l);
    l->dispatching = 0;
    return 0;
}

int loop_run(loop *l)
{
    int rc = 0;
    while (!l->stop && rc == 0)
        rc = loop_run_once(l, -1);
    l->stop = 0;
    return rc;
}

void loop_stop(loop *l)
{
    l->stop = 1;
}

int loop_stop_on_signals(loop *l)
{
    signal_loop = l;
    set_stop_handlers(on_stop_signal);
    return 0;
}

void loop_stop_async(loop *l)
{
    uint64_t one = 1;
    ssize_t r = write(l->stopfd, &one, sizeof one);
    (void)r; /* EAGAIN means a stop is already pending */
}
