/* test_rules.c: the fault-decision engine on its own (no sockets): each
 * fault's effect over bounded synthetic traffic within statistical
 * tolerances, rule precedence, partitions, and seeded determinism. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "rules.h"

#define MS 1000000ull

static proxy_engine *mk(int n, uint64_t seed)
{
    proxy_node nodes[PROXY_MAX_NODES];
    char err[128];
    for (int i = 0; i < n; i++) {
        snprintf(nodes[i].name, sizeof nodes[i].name, "n%d", i + 1);
        nodes[i].id = (uint16_t)(i + 1);
    }
    proxy_engine *e = proxy_engine_new(n, nodes, seed, err, sizeof err);
    assert_non_null(e);
    return e;
}

static void run(proxy_engine *e, int from, int to, int type, int count, proxy_verdict *last,
                int *forwarded)
{
    uint8_t data[200];
    *forwarded = 0;
    for (int i = 0; i < count; i++) {
        memset(data, 0, sizeof data);
        proxy_decide(e, from, to, type, data, sizeof data, (uint64_t)i * 1000, last);
        *forwarded += last->kind == PROXY_V_FORWARD;
    }
}

static void test_drop_rate(void **st)
{
    (void)st;
    proxy_engine *e = mk(3, 7);
    proxy_faults f;
    proxy_faults_init(&f);
    f.drop = 0.3;
    assert_int_equal(proxy_rule_set(e, 0, 1, PROXY_ANY, &f), 0);
    proxy_verdict v;
    int fw;
    run(e, 0, 1, 5, 20000, &v, &fw);
    double rate = (20000.0 - fw) / 20000.0;
    assert_true(rate > 0.28 && rate < 0.32);
    assert_int_equal(proxy_link_at(e, 0, 1)->st.dropped, 20000 - fw);
    /* Other links are untouched. */
    run(e, 1, 0, 5, 1000, &v, &fw);
    assert_int_equal(fw, 1000);
    proxy_engine_free(e);
}

static void test_duplicate(void **st)
{
    (void)st;
    proxy_engine *e = mk(2, 1);
    proxy_faults f;
    proxy_faults_init(&f);
    f.duplicate = 0.2;
    f.copies = 2;
    proxy_rule_set(e, PROXY_ANY, PROXY_ANY, PROXY_ANY, &f);
    uint8_t d[64] = {0};
    proxy_verdict v;
    int copies = 0;
    for (int i = 0; i < 10000; i++) {
        proxy_decide(e, 0, 1, -1, d, sizeof d, 0, &v);
        assert_true(v.ncopies == 1 || v.ncopies == 3);
        copies += v.ncopies - 1;
    }
    assert_int_equal(proxy_link_at(e, 0, 1)->st.duplicated, copies);
    assert_true(copies > 2 * 1800 && copies < 2 * 2200);
    proxy_engine_free(e);
}

static void test_delay_distributions(void **st)
{
    (void)st;
    proxy_engine *e = mk(2, 3);
    proxy_faults f;
    proxy_faults_init(&f);
    f.delay_ns = 5 * MS;
    f.jitter_ns = 1 * MS;
    proxy_rule_set(e, 0, 1, PROXY_ANY, &f);
    uint8_t d[10];
    proxy_verdict v;
    double sum = 0;
    for (int i = 0; i < 5000; i++) {
        proxy_decide(e, 0, 1, 1, d, sizeof d, 0, &v);
        assert_int_equal(v.kind, PROXY_V_FORWARD);
        assert_true(v.delay_ns[0] >= 5 * MS && v.delay_ns[0] < 6 * MS);
        sum += (double)v.delay_ns[0];
    }
    assert_true(sum / 5000 > 5.45 * MS && sum / 5000 < 5.55 * MS);

    f.dist = PROXY_DIST_NORMAL;
    proxy_rule_set(e, 0, 1, PROXY_ANY, &f);
    sum = 0;
    int within = 0;
    for (int i = 0; i < 5000; i++) {
        proxy_decide(e, 0, 1, 1, d, sizeof d, 0, &v);
        sum += (double)v.delay_ns[0];
        within += v.delay_ns[0] >= 4 * MS && v.delay_ns[0] <= 6 * MS;
    }
    assert_true(sum / 5000 > 4.9 * MS && sum / 5000 < 5.1 * MS);
    assert_true(within > 5000 * 0.64 && within < 5000 * 0.72); /* one sigma: ~68% */

    f.dist = PROXY_DIST_PARETO;
    f.alpha = 1.5;
    proxy_rule_set(e, 0, 1, PROXY_ANY, &f);
    int tail = 0;
    for (int i = 0; i < 5000; i++) {
        proxy_decide(e, 0, 1, 1, d, sizeof d, 0, &v);
        assert_true(v.delay_ns[0] >= 5 * MS && v.delay_ns[0] <= PROXY_MAX_DELAY_NS);
        /* P(X > 10 * xm) = 10^-1.5 ~ 3.2% for X = excess + xm. */
        tail += v.delay_ns[0] - 5 * MS + MS > 10 * MS;
    }
    assert_true(tail > 100 && tail < 230);
    proxy_engine_free(e);
}

static void test_reorder(void **st)
{
    (void)st;
    proxy_engine *e = mk(2, 11);
    proxy_faults f;
    proxy_faults_init(&f);
    f.reorder = 0.1;
    f.hold_ns = 10 * MS;
    proxy_rule_set(e, 0, 1, PROXY_ANY, &f);
    uint8_t d[10];
    proxy_verdict v;
    uint64_t due[2000];
    int held = 0;
    for (int i = 0; i < 2000; i++) {
        proxy_decide(e, 0, 1, 1, d, sizeof d, 0, &v);
        due[i] = (uint64_t)i * MS + v.delay_ns[0]; /* one datagram per ms */
        held += v.reordered;
    }
    int inversions = 0;
    for (int i = 1; i < 2000; i++)
        inversions += due[i] < due[i - 1];
    assert_true(held > 150 && held < 250);
    assert_true(inversions > 100);
    assert_int_equal(proxy_link_at(e, 0, 1)->st.reordered, held);
    proxy_engine_free(e);
}

static void test_corrupt_where(void **st)
{
    (void)st;
    proxy_engine *e = mk(2, 5);
    proxy_faults f;
    proxy_faults_init(&f);
    f.corrupt = 1;
    f.bits = 3;
    f.where = PROXY_WHERE_BODY;
    proxy_rule_set(e, 0, 1, PROXY_ANY, &f);
    uint8_t d[100];
    proxy_verdict v;
    for (int i = 0; i < 500; i++) {
        memset(d, 0, sizeof d);
        proxy_decide(e, 0, 1, 2, d, sizeof d, 0, &v);
        assert_int_equal(v.flipped, 3);
        for (int k = 0; k < 34; k++)
            assert_int_equal(d[k], 0);
        int ones = 0;
        for (int k = 34; k < 100; k++)
            ones += __builtin_popcount(d[k]);
        assert_true(ones >= 1 && ones <= 3); /* the same bit may flip twice */
    }
    f.where = PROXY_WHERE_HEADER;
    proxy_rule_set(e, 0, 1, PROXY_ANY, &f);
    for (int i = 0; i < 500; i++) {
        memset(d, 0, sizeof d);
        proxy_decide(e, 0, 1, 2, d, sizeof d, 0, &v);
        for (int k = 34; k < 100; k++)
            assert_int_equal(d[k], 0);
    }
    assert_int_equal(proxy_link_at(e, 0, 1)->st.corrupted, 1000);
    proxy_engine_free(e);
}

static void test_truncate_replay(void **st)
{
    (void)st;
    proxy_engine *e = mk(2, 5);
    proxy_faults f;
    proxy_faults_init(&f);
    f.truncate = 0.5;
    f.replay = 0.25;
    f.replay_after_ns = 100 * MS;
    proxy_rule_set(e, 0, 1, PROXY_ANY, &f);
    uint8_t d[100];
    proxy_verdict v;
    int cut = 0, replays = 0;
    for (int i = 0; i < 4000; i++) {
        proxy_decide(e, 0, 1, 2, d, sizeof d, 0, &v);
        if (v.truncated) {
            cut++;
            assert_true(v.new_len < sizeof d);
        } else {
            assert_int_equal(v.new_len, sizeof d);
        }
        if (v.replayed) {
            replays++;
            assert_int_equal(v.ncopies, 2);
            assert_true(v.delay_ns[1] >= 100 * MS && v.delay_ns[1] <= 200 * MS);
        }
    }
    assert_true(cut > 1800 && cut < 2200);
    assert_true(replays > 850 && replays < 1150);
    proxy_engine_free(e);
}

static void test_rate_limit(void **st)
{
    (void)st;
    proxy_engine *e = mk(2, 5);
    proxy_faults f;
    proxy_faults_init(&f);
    f.rate_msgs = 100;
    proxy_rule_set(e, 0, 1, PROXY_ANY, &f);
    uint8_t d[10];
    proxy_verdict v;
    int fw = 0;
    for (int i = 1; i <= 1000; i++) { /* 1000 datagrams in one second */
        proxy_decide(e, 0, 1, 2, d, sizeof d, (uint64_t)i * MS, &v);
        fw += v.kind == PROXY_V_FORWARD;
    }
    /* A full bucket (100) plus the refill over a second (~100). */
    assert_true(fw >= 190 && fw <= 201);
    assert_int_equal(proxy_link_at(e, 0, 1)->st.ratelimited, 1000 - fw);
    proxy_engine_free(e);
}

static void test_precedence(void **st)
{
    (void)st;
    proxy_engine *e = mk(3, 5);
    proxy_faults all, from0, typed, empty;
    proxy_faults_init(&all);
    all.drop = 0.1;
    proxy_faults_init(&from0);
    from0.drop = 0.2;
    proxy_faults_init(&typed);
    typed.drop = 0.3;
    proxy_faults_init(&empty);
    proxy_rule_set(e, PROXY_ANY, PROXY_ANY, PROXY_ANY, &all);
    proxy_rule_set(e, 0, PROXY_ANY, PROXY_ANY, &from0);
    proxy_rule_set(e, PROXY_ANY, PROXY_ANY, 7, &typed);
    proxy_rule_set(e, 2, 1, PROXY_ANY, &empty);
    assert_true(proxy_rule_for(e, 1, 2, 3)->f.drop == 0.1);
    assert_true(proxy_rule_for(e, 0, 2, 3)->f.drop == 0.2);
    assert_true(proxy_rule_for(e, 0, 2, 7)->f.drop == 0.3);
    assert_true(proxy_rule_for(e, 0, 2, -1)->f.drop == 0.2);
    assert_true(proxy_rule_for(e, 2, 1, 3)->f.drop == 0);
    /* Replacing keeps one rule per key; clearing falls back. */
    typed.drop = 0.4;
    proxy_rule_set(e, PROXY_ANY, PROXY_ANY, 7, &typed);
    assert_int_equal(e->nrules, 4);
    assert_true(proxy_rule_for(e, 1, 0, 7)->f.drop == 0.4);
    assert_int_equal(proxy_rule_clear(e, PROXY_ANY, PROXY_ANY, 7), 1);
    assert_int_equal(proxy_rule_clear(e, PROXY_ANY, PROXY_ANY, 7), 0);
    assert_true(proxy_rule_for(e, 1, 0, 7)->f.drop == 0.1);
    proxy_engine_reset(e);
    assert_null(proxy_rule_for(e, 1, 0, 7));
    proxy_engine_free(e);
}

static void test_partition(void **st)
{
    (void)st;
    proxy_engine *e = mk(5, 5);
    uint8_t g[5] = {1, 1, 2, 2, 0};
    proxy_partition(e, g);
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 5; j++) {
            int cut = (i < 2 && j >= 2 && j < 4) || (j < 2 && i >= 2 && i < 4);
            assert_int_equal(proxy_partitioned(e, i, j), cut);
            uint8_t d[8];
            proxy_verdict v;
            proxy_decide(e, i, j, 1, d, sizeof d, 0, &v);
            assert_int_equal(v.kind, cut ? PROXY_V_PARTITION : PROXY_V_FORWARD);
        }
    assert_int_equal(proxy_link_at(e, 0, 2)->st.blackholed, 1);
    proxy_heal(e);
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 5; j++)
            assert_false(proxy_partitioned(e, i, j));
    proxy_engine_free(e);
}

/* Verdict signature of a run, to compare runs. */
static uint64_t signature(uint64_t seed, int reversed_order)
{
    proxy_node nodes[2] = {{"n1", 1}, {"n2", 2}};
    if (reversed_order) {
        nodes[0] = (proxy_node){"n2", 2};
        nodes[1] = (proxy_node){"n1", 1};
    }
    char err[100];
    proxy_engine *e = proxy_engine_new(2, nodes, seed, err, sizeof err);
    int a = proxy_node_lookup(e, "n1"), b = proxy_node_lookup(e, "n2");
    proxy_faults f;
    proxy_faults_init(&f);
    f.drop = 0.2;
    f.duplicate = 0.1;
    f.delay_ns = MS;
    f.jitter_ns = MS;
    f.corrupt = 0.1;
    proxy_rule_set(e, PROXY_ANY, PROXY_ANY, PROXY_ANY, &f);
    uint64_t h = 1469598103934665603ull;
    for (int i = 0; i < 3000; i++) {
        uint8_t d[50] = {0};
        proxy_verdict v;
        proxy_decide(e, a, b, 3, d, sizeof d, 0, &v);
        h = (h ^ (uint64_t)v.kind) * 1099511628211ull;
        for (int c = 0; c < v.ncopies; c++)
            h = (h ^ v.delay_ns[c]) * 1099511628211ull;
        for (int k = 0; k < 50; k++)
            h = (h ^ d[k]) * 1099511628211ull;
    }
    proxy_engine_free(e);
    return h;
}

static void test_determinism(void **st)
{
    (void)st;
    assert_true(signature(42, 0) == signature(42, 0));
    assert_true(signature(42, 0) == signature(42, 1)); /* streams follow wire ids */
    assert_true(signature(42, 0) != signature(43, 0));
}

static void test_lookup_and_errors(void **st)
{
    (void)st;
    proxy_engine *e = mk(3, 1);
    assert_int_equal(proxy_node_lookup(e, "n2"), 1);
    assert_int_equal(proxy_node_lookup(e, "3"), 2);
    assert_int_equal(proxy_node_lookup(e, "4"), -1);
    assert_int_equal(proxy_node_lookup(e, "n9"), -1);
    assert_int_equal(proxy_node_lookup(e, "99999999"), -1);
    proxy_engine_free(e);
    proxy_node dup[2] = {{"a", 1}, {"b", 1}};
    char err[100];
    assert_null(proxy_engine_new(2, dup, 1, err, sizeof err));
    assert_null(proxy_engine_new(0, dup, 1, err, sizeof err));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_drop_rate),
        cmocka_unit_test(test_duplicate),
        cmocka_unit_test(test_delay_distributions),
        cmocka_unit_test(test_reorder),
        cmocka_unit_test(test_corrupt_where),
        cmocka_unit_test(test_truncate_replay),
        cmocka_unit_test(test_rate_limit),
        cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_partition),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_lookup_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
