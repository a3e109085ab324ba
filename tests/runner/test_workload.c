/* test_workload.c: the client threads against a fake cluster: redirects
 * are followed, every invocation completes exactly once, a timeout is
 * `info` and ends its process, proven failures are `fail`, the lease
 * workload's fenced writes are CAS; plus the pure helpers. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>

#include "fake_cluster.h"
#include "runner/run.h"
#include "runner/scenario_load.h"
#include "common/clock.h"
#include "runner/workload.h"

typedef struct hist_stats {
    int invokes, ok, fail, info, notleader_fail, reused_after_info, cas_invokes;
} hist_stats;

/* Read history.jsonl back and check the Jepsen rules. */
static void read_history(const char *path, hist_stats *st)
{
    memset(st, 0, sizeof *st);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char *line = NULL;
    size_t cap = 0;
    int open[4096] = {0}, dead[4096] = {0};
    long last_index = -1;
    while (getline(&line, &cap, f) > 0) {
        json_t *e = json_loads(line, 0, NULL);
        assert_non_null(e);
        long idx = (long)json_integer_value(json_object_get(e, "index"));
        assert_int_equal(idx, last_index + 1);   /* indexes in order, no gaps */
        last_index = idx;
        int p = (int)json_integer_value(json_object_get(e, "process"));
        assert_true(p >= 0 && p < 4096);
        const char *type = json_string_value(json_object_get(e, "type"));
        const char *err = json_string_value(json_object_get(e, "error"));
        if (!strcmp(type, "invoke")) {
            assert_int_equal(open[p], 0);        /* one outstanding op per process */
            if (dead[p])
                st->reused_after_info++;
            open[p] = 1;
            st->invokes++;
            if (!strcmp(json_string_value(json_object_get(e, "f")), "cas"))
                st->cas_invokes++;
        } else {
            assert_int_equal(open[p], 1);
            open[p] = 0;
            if (!strcmp(type, "ok"))
                st->ok++;
            else if (!strcmp(type, "fail")) {
                st->fail++;
                if (err && !strncmp(err, "NOTLEADER", 9))
                    st->notleader_fail++;
            } else {
                st->info++;
                dead[p] = 1;
            }
        }
        json_decref(e);
    }
    free(line);
    fclose(f);
}

static void setup_run(run *r, scenario *s, fake_cluster *fc, const char *yaml, char *path)
{
    scn_errors e;
    if (scenario_load_text("t.yaml", yaml, strlen(yaml), s, &e) < 0)
        fail_msg("%s", e.msg[0]);
    memset(r, 0, sizeof *r);
    r->s = s;
    r->seed = 7;
    r->opts.verbosity = RUN_QUIET;
    r->nnodes = fc->n;
    atomic_store(&r->leader, -1);
    backend_init(&r->be, &backend_loopback_ops, "rltest");
    for (int i = 0; i < fc->n; i++) {
        snprintf(r->nodes[i].addr, sizeof r->nodes[i].addr, "127.0.0.1");
        r->nodes[i].client_port = fc->port[i];
    }
    snprintf(path, 256, "/tmp/rl-test-workload-%d.jsonl", (int)getpid());
    assert_int_equal(hrec_open(&r->h, path, mono_now_ns()), 0);
    r->hrec_open = 1;
}

static void test_register_with_redirects(void **st)
{
    (void)st;
    fake_cluster fc = {0};
    assert_int_equal(fake_cluster_start(&fc, 3), 0);
    run r;
    scenario s;
    char path[256];
    /* Pinned clients would never reach the leader; leader-following ones
     * start on n1..n3 and must all end up at n1. */
    setup_run(&r, &s, &fc, "name: w\nsystem: {nodes: 3}\nworkload: {clients: 4, keys: 2, "
                           "rate: 400/s, duration: 2s, timeout: 300ms}\n", path);
    workload *w = workload_start(&r, 700000000ull);
    workload_join(w);
    hrec_close(&r.h);
    hist_stats hs;
    read_history(path, &hs);
    assert_true(hs.invokes > 50);
    assert_int_equal(hs.invokes, hs.ok + hs.fail + hs.info);
    assert_int_equal(hs.info, 0);
    assert_int_equal(hs.notleader_fail, 0);   /* redirects are followed, not failed */
    assert_true(hs.ok > 0);
    assert_true(fc.commands >= hs.ok);
    unlink(path);
    fake_cluster_stop(&fc);
    scenario_free(&s);
}

static void test_timeout_is_info_and_new_process(void **st)
{
    (void)st;
    fake_cluster fc = {0};
    assert_int_equal(fake_cluster_start(&fc, 1), 0);
    fc.hang_cas = 1;
    run r;
    scenario s;
    char path[256];
    setup_run(&r, &s, &fc, "name: w\nsystem: {nodes: 1}\nworkload: {clients: 2, keys: 1, "
                           "mix: {read: 1, cas: 1}, rate: 0, duration: 2s, timeout: 50ms}\n", path);
    workload *w = workload_start(&r, 600000000ull);
    workload_join(w);
    hrec_close(&r.h);
    hist_stats hs;
    read_history(path, &hs);
    assert_true(hs.cas_invokes > 0);
    assert_int_equal(hs.info, hs.cas_invokes);   /* every hung CAS is info */
    assert_int_equal(hs.reused_after_info, 0);   /* ... and its process never invokes again */
    assert_true(hs.ok > 0);
    unlink(path);
    fake_cluster_stop(&fc);
    scenario_free(&s);
}

static void test_unreachable_is_fail(void **st)
{
    (void)st;
    /* No server at all: connecting fails, nothing was sent, so `fail`. */
    fake_cluster fc = {.n = 1, .port = {1}};
    run r;
    scenario s;
    char path[256];
    setup_run(&r, &s, &fc, "name: w\nsystem: {nodes: 1}\nworkload: {clients: 1, "
                           "rate: 20/s, duration: 2s, timeout: 50ms}\n", path);
    workload *w = workload_start(&r, 300000000ull);
    workload_join(w);
    hrec_close(&r.h);
    hist_stats hs;
    read_history(path, &hs);
    assert_true(hs.invokes > 0);
    assert_int_equal(hs.fail, hs.invokes);
    unlink(path);
    scenario_free(&s);
}

static void test_lease_fenced_uses_cas(void **st)
{
    (void)st;
    fake_cluster fc = {0};
    assert_int_equal(fake_cluster_start(&fc, 1), 0);
    run r;
    scenario s;
    char path[256];
    setup_run(&r, &s, &fc, "name: w\nsystem: {nodes: 1}\nworkload: {kind: lease, clients: 2, "
                           "rate: 100/s, duration: 2s, timeout: 200ms, fenced: true, hold: 1ms}\n",
              path);
    /* The runner sets the counter to 0 before the clients start. */
    resp_value v;
    rclient c;
    rclient_init(&c, NULL, 0, "127.0.0.1", fc.port[0]);
    assert_int_equal(rclient_callv(&c, 1000000000ull, &v, "SET", "counter", "0", NULL), RCLIENT_OK);
    resp_value_free(&v);
    workload *w = workload_start(&r, 400000000ull);
    workload_join(w);
    hrec_close(&r.h);
    hist_stats hs;
    read_history(path, &hs);
    assert_true(hs.cas_invokes > 0);
    /* Every successful CAS moved the counter by one: its final value counts them. */
    assert_int_equal(rclient_callv(&c, 1000000000ull, &v, "GET", "counter", NULL), RCLIENT_OK);
    assert_true(atoi(v.str) > 0);
    resp_value_free(&v);
    rclient_close(&c);
    unlink(path);
    fake_cluster_stop(&fc);
    scenario_free(&s);
}

static void test_helpers(void **st)
{
    (void)st;
    assert_int_equal(workload_redirect("NOTLEADER 3 10.77.1.13:6379"), 3);
    assert_int_equal(workload_redirect("NOTLEADER 0 -"), 0);
    assert_int_equal(workload_redirect("NOTTAIL 2 127.0.0.1:1"), 2);
    assert_int_equal(workload_redirect("TIMEOUT no commit"), -1);
    assert_int_equal(workload_redirect("ERR x"), -1);
    scenario s;
    scn_errors e;
    const char *y = "name: m\nworkload: {kind: kv, mix: {read: 1, write: 1, cas: 1, delete: 1}}\n";
    assert_int_equal(scenario_load_text("t", y, strlen(y), &s, &e), 0);
    assert_int_equal(workload_pick_op(&s, 0.1), WL_READ);
    assert_int_equal(workload_pick_op(&s, 0.3), WL_WRITE);
    assert_int_equal(workload_pick_op(&s, 0.6), WL_CAS);
    assert_int_equal(workload_pick_op(&s, 0.9), WL_DELETE);
    scenario_free(&s);
}

/* Pacing: on schedule one op per interval; after a stall no burst, and
 * clients that stalled together resume spread over an interval. */
static void test_pace(void **st)
{
    (void)st;
    prng p;
    prng_seed(&p, 1);
    uint64_t next = 1000;
    assert_int_equal(workload_pace(&next, 1000, 100, &p), 1);
    assert_int_equal(next, 1100);
    assert_int_equal(workload_pace(&next, 1150, 100, &p), 1);   /* late, within an interval */
    assert_int_equal(next, 1200);
    assert_int_equal(workload_pace(&next, 5000, 0, &p), 1);     /* unpaced */
    /* 16 clients due at 0 come back from a stall at 10,000,000. */
    uint64_t lo = UINT64_MAX, hi = 0, interval = 400000;
    for (int i = 0; i < 16; i++) {
        prng_seed(&p, (uint64_t)i + 100);
        uint64_t n = 0;
        assert_int_equal(workload_pace(&n, 10000000, interval, &p), 0);
        assert_true(n >= 10000000 && n < 10000000 + interval);
        lo = n < lo ? n : lo;
        hi = n > hi ? n : hi;
        assert_int_equal(workload_pace(&n, n, interval, &p), 1);  /* then due: it starts */
    }
    assert_true(hi - lo > interval / 4);   /* spread, not in step */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_helpers),
        cmocka_unit_test(test_pace),
        cmocka_unit_test(test_register_with_redirects),
        cmocka_unit_test(test_timeout_is_info_and_new_process),
        cmocka_unit_test(test_unreachable_is_fail),
        cmocka_unit_test(test_lease_fenced_uses_cas),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
