/* test_loop.c: timers fire in deadline order (ties in arming order),
 * periodic timers repeat until cancelled, cancelled timers never fire, fd
 * callbacks see readiness, and the loop stops from a callback or from
 * another thread through loop_stop_async. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/loop.h"
#include "common/prng.h"

#define MS 1000000ULL

/* ---- order of one-shot, periodic and cancelled timers ---- */

struct order {
    int fired[64];
    int n;
    int ticks;
};

/* Timer argument: a pointer to the shared order plus a tag. */
struct tagged {
    struct order *o;
    int tag;
};

static void fire_tagged(loop *l, uint64_t id, void *arg)
{
    (void)l;
    (void)id;
    struct tagged *t = arg;
    t->o->fired[t->o->n++] = t->tag;
}

static void tick(loop *l, uint64_t id, void *arg)
{
    struct order *o = arg;
    o->fired[o->n++] = 100 + o->ticks;
    if (++o->ticks == 3)
        assert_int_equal(loop_cancel_timer(l, id), 0);
}

static void stopper(loop *l, uint64_t id, void *arg)
{
    (void)id;
    (void)arg;
    loop_stop(l);
}

static void test_timer_order(void **state)
{
    (void)state;
    loop *l = loop_new();
    assert_non_null(l);
    struct order o = {0};
    struct tagged t[6];
    for (int i = 0; i < 6; i++)
        t[i] = (struct tagged){&o, i};
    /* Delays far apart; the two zero delays tie and keep arming order. */
    uint64_t ids[6];
    ids[0] = loop_add_timer(l, 30 * MS, 0, fire_tagged, &t[0]);
    ids[1] = loop_add_timer(l, 10 * MS, 0, fire_tagged, &t[1]);
    ids[2] = loop_add_timer(l, 20 * MS, 0, fire_tagged, &t[2]);
    ids[3] = loop_add_timer(l, 25 * MS, 0, fire_tagged, &t[3]);
    ids[4] = loop_add_timer(l, 0, 0, fire_tagged, &t[4]);
    ids[5] = loop_add_timer(l, 0, 0, fire_tagged, &t[5]);
    for (int i = 0; i < 6; i++)
        assert_true(ids[i] != 0);
    assert_int_equal(loop_cancel_timer(l, ids[3]), 0);
    assert_int_equal(loop_cancel_timer(l, ids[3]), -1);   /* already cancelled */
    assert_int_equal(loop_cancel_timer(l, 0), -1);
    assert_int_equal(loop_cancel_timer(l, 12345678), -1);
    loop_add_timer(l, 100 * MS, 0, stopper, NULL);
    assert_int_equal(loop_run(l), 0);
    int want[] = {4, 5, 1, 2, 0};
    assert_int_equal(o.n, 5);
    assert_memory_equal(o.fired, want, sizeof want);
    /* A fired one-shot cannot be cancelled; its slot's next id differs. */
    assert_int_equal(loop_cancel_timer(l, ids[1]), -1);
    uint64_t again = loop_add_timer(l, 1000 * MS, 0, fire_tagged, &t[0]);
    assert_true(again != ids[0] && again != ids[1] && again != ids[2]);
    assert_int_equal(loop_cancel_timer(l, again), 0);
    loop_free(l);
}

static void test_periodic(void **state)
{
    (void)state;
    loop *l = loop_new();
    struct order o = {0};
    struct tagged last = {&o, 7};
    loop_add_timer(l, 1 * MS, 2 * MS, tick, &o);
    /* Far after the third tick: the periodic timer cancelled itself. */
    loop_add_timer(l, 60 * MS, 0, fire_tagged, &last);
    loop_add_timer(l, 61 * MS, 0, stopper, NULL);
    assert_int_equal(loop_run(l), 0);
    int want[] = {100, 101, 102, 7};
    assert_int_equal(o.n, 4);
    assert_memory_equal(o.fired, want, sizeof want);
    loop_free(l);
}

/* ---- many timers: the heap yields them sorted ---- */

#define NT 2000
struct many {
    uint64_t ids[NT];
    uint64_t delay[NT];
    int cancelled[NT];
    int order[NT];
    int n;
};
static struct many many;

static void many_fire(loop *l, uint64_t id, void *arg)
{
    (void)l;
    (void)id;
    many.order[many.n++] = (int)(intptr_t)arg;
}

static void many_arm(loop *l, uint64_t id, void *arg)
{
    (void)id;
    (void)arg;
    prng p;
    prng_seed(&p, 11);
    for (int i = 0; i < NT; i++) {
        many.delay[i] = prng_below(&p, 40) * MS / 4; /* many equal deadlines */
        many.ids[i] = loop_add_timer(l, many.delay[i], 0, many_fire, (void *)(intptr_t)i);
    }
    for (int i = 0; i < NT; i++) {
        if (prng_chance(&p, 0.3)) {
            many.cancelled[i] = 1;
            assert_int_equal(loop_cancel_timer(l, many.ids[i]), 0);
        }
    }
    loop_add_timer(l, 20 * MS, 0, stopper, NULL);
}

static void test_many_timers_sorted(void **state)
{
    (void)state;
    loop *l = loop_new();
    memset(&many, 0, sizeof many);
    loop_add_timer(l, 0, 0, many_arm, NULL);
    assert_int_equal(loop_run(l), 0);
    int live = 0;
    for (int i = 0; i < NT; i++)
        live += !many.cancelled[i];
    assert_int_equal(many.n, live);
    for (int k = 0; k < many.n; k++) {
        int i = many.order[k];
        assert_false(many.cancelled[i]);
        if (k > 0) {
            int j = many.order[k - 1];
            /* (delay, arming order) is strictly increasing */
            assert_true(many.delay[j] < many.delay[i] || (many.delay[j] == many.delay[i] && j < i));
        }
    }
    loop_free(l);
}

/* ---- file descriptors ---- */

struct fdtest {
    int p1[2], p2[2];
    int reads, writes, calls;
};

static void on_read(loop *l, int fd, unsigned events, void *arg)
{
    struct fdtest *t = arg;
    char c;
    assert_true(events & LOOP_READ);
    assert_int_equal(read(fd, &c, 1), 1);
    assert_int_equal(c, 'x');
    if (++t->reads == 2)
        loop_stop(l);
}

static void on_write(loop *l, int fd, unsigned events, void *arg)
{
    struct fdtest *t = arg;
    assert_true(events & LOOP_WRITE);
    assert_int_equal(write(fd, "x", 1), 1);
    /* Writable once is enough: stop asking. */
    if (++t->writes == 2)
        assert_int_equal(loop_mod_fd(l, fd, 0), 0);
}

static void test_fd_readiness(void **state)
{
    (void)state;
    loop *l = loop_new();
    struct fdtest t = {0};
    assert_int_equal(pipe(t.p1), 0);
    assert_int_equal(loop_add_fd(l, t.p1[0], LOOP_READ, on_read, &t), 0);
    assert_int_equal(loop_add_fd(l, t.p1[0], LOOP_READ, on_read, &t), -1);
    assert_int_equal(errno, EEXIST);
    assert_int_equal(loop_add_fd(l, t.p1[1], LOOP_WRITE, on_write, &t), 0);
    assert_int_equal(loop_run(l), 0);
    assert_int_equal(t.reads, 2);
    assert_int_equal(t.writes, 2);
    assert_int_equal(loop_del_fd(l, t.p1[0]), 0);
    assert_int_equal(loop_del_fd(l, t.p1[0]), -1);
    assert_int_equal(loop_mod_fd(l, 9999, LOOP_READ), -1);
    assert_int_equal(loop_add_fd(l, -1, LOOP_READ, on_read, &t), -1);
    loop_del_fd(l, t.p1[1]);
    close(t.p1[0]);
    close(t.p1[1]);
    loop_free(l);
}

/* Whichever of two ready pipes is dispatched first removes the other: the
 * other's already-fetched event must not be delivered. */
static void on_either(loop *l, int fd, unsigned events, void *arg)
{
    (void)events;
    struct fdtest *t = arg;
    t->calls++;
    int other = fd == t->p1[0] ? t->p2[0] : t->p1[0];
    loop_del_fd(l, other);
    loop_del_fd(l, fd);
    loop_stop(l);
}

static void test_removed_fd_not_dispatched(void **state)
{
    (void)state;
    loop *l = loop_new();
    struct fdtest t = {0};
    assert_int_equal(pipe(t.p1), 0);
    assert_int_equal(pipe(t.p2), 0);
    assert_int_equal(write(t.p1[1], "x", 1), 1);
    assert_int_equal(write(t.p2[1], "x", 1), 1);
    loop_add_fd(l, t.p1[0], LOOP_READ, on_either, &t);
    loop_add_fd(l, t.p2[0], LOOP_READ, on_either, &t);
    assert_int_equal(loop_run_once(l, 1000), 0);
    assert_int_equal(t.calls, 1);
    /* Hang-up is reported as an error plus readable. */
    close(t.p1[1]);
    char c;
    assert_int_equal(read(t.p1[0], &c, 1), 1);
    loop_add_fd(l, t.p1[0], LOOP_READ, on_either, &t);
    assert_int_equal(loop_run_once(l, 1000), 0);
    assert_int_equal(t.calls, 2);
    close(t.p1[0]);
    close(t.p2[0]);
    close(t.p2[1]);
    loop_free(l);
}

/* ---- stopping ---- */

static void never(loop *l, uint64_t id, void *arg)
{
    (void)l;
    (void)id;
    (void)arg;
    fail_msg("timer after stop fired");
}

static void *stop_later(void *arg)
{
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
    loop_stop_async(arg);
    return NULL;
}

static void test_stop(void **state)
{
    (void)state;
    loop *l = loop_new();
    /* From a callback: loop_run returns; the later timer does not fire. */
    loop_add_timer(l, 1 * MS, 0, stopper, NULL);
    uint64_t late = loop_add_timer(l, 10000 * MS, 0, never, NULL);
    uint64_t forever = loop_add_timer(l, UINT64_MAX, 0, never, NULL); /* no wrap-around */
    assert_int_equal(loop_run(l), 0);
    /* With only that far timer pending, a bounded wait still returns. */
    assert_int_equal(loop_cancel_timer(l, late), 0);
    assert_int_equal(loop_run_once(l, 1), 0);
    late = loop_add_timer(l, 10000 * MS, 0, never, NULL);
    assert_int_equal(loop_cancel_timer(l, forever), 0);
    /* From another thread (what a signal handler does): the loop, which
     * has nothing to do for 10 s, wakes and returns. */
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, stop_later, l), 0);
    assert_int_equal(loop_run(l), 0);
    pthread_join(th, NULL);
    /* A stop requested before the loop runs is not lost. */
    loop_stop_async(l);
    assert_int_equal(loop_run(l), 0);
    assert_int_equal(loop_cancel_timer(l, late), 0);
    loop_free(l);
}

static void send_term(loop *l, uint64_t id, void *arg)
{
    (void)l;
    (void)id;
    (void)arg;
    kill(getpid(), SIGTERM);
}

static void test_stop_on_signals(void **state)
{
    (void)state;
    loop *l = loop_new();
    assert_int_equal(loop_stop_on_signals(l), 0);
    loop_add_timer(l, 1 * MS, 0, send_term, NULL);
    uint64_t late = loop_add_timer(l, 10000 * MS, 0, never, NULL);
    assert_int_equal(loop_run(l), 0); /* SIGTERM stopped it instead of killing us */
    assert_int_equal(loop_cancel_timer(l, late), 0);
    loop_free(l);
    struct sigaction sa;
    sigaction(SIGTERM, NULL, &sa);
    assert_true(sa.sa_handler == SIG_DFL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timer_order),
        cmocka_unit_test(test_periodic),
        cmocka_unit_test(test_many_timers_sorted),
        cmocka_unit_test(test_fd_readiness),
        cmocka_unit_test(test_removed_fd_not_dispatched),
        cmocka_unit_test(test_stop),
        cmocka_unit_test(test_stop_on_signals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
