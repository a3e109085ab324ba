/* test_clock.c: node clock offset and drift, Lamport clock, and the vector
 * clock partial order, merge and encoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/clock.h"

#define S 1000000000LL

static void test_node_clock(void **state)
{
    (void)state;
    node_clock c;
    uint64_t t0 = 1000 * (uint64_t)S;
    node_clock_init(&c, t0);
    assert_true(node_clock_now(&c, t0) == (int64_t)t0);
    assert_true(node_clock_now(&c, t0 + 5) == (int64_t)t0 + 5);
    /* Offset +250 ms, drift +100 ppm from t0: at t0 only the offset shows. */
    node_clock_set(&c, t0, 250000000, 100);
    assert_true(node_clock_now(&c, t0) == (int64_t)t0 + 250000000);
    /* 10 s later the drift added 10 s * 100e-6 = 1 ms. */
    assert_true(node_clock_now(&c, t0 + 10 * S) == (int64_t)t0 + 10 * S + 250000000 + 1000000);
    assert_true(node_clock_offset(&c, t0 + 10 * S) == 251000000);
    /* Changing only the drift keeps time continuous, then drifts the new way. */
    uint64_t t1 = t0 + 10 * S;
    int64_t before = node_clock_now(&c, t1);
    node_clock_set_drift(&c, t1, -500);
    assert_true(node_clock_now(&c, t1) == before);
    assert_true(node_clock_now(&c, t1 + 2 * S) == before + 2 * S - 1000000);
    /* Negative offsets may make early node time negative. */
    node_clock_set(&c, 10, -100, 0);
    assert_true(node_clock_now(&c, 10) == -90);
    /* Long spans with large drift do not overflow: one day at +1e6 ppm runs double. */
    node_clock_set(&c, 0, 0, 1000000);
    assert_true(node_clock_now(&c, 86400 * (uint64_t)S) == 2 * 86400 * S);
    assert_true(mono_now_ns() > 0);
}

static void test_lamport(void **state)
{
    (void)state;
    lamport a = {0}, b = {0};
    assert_true(lamport_tick(&a) == 1);
    uint64_t m = lamport_send(&a);
    assert_true(m == 2);
    assert_true(lamport_recv(&b, m) == 3);        /* max(0, 2) + 1 */
    lamport_tick(&b);
    assert_true(lamport_recv(&b, 1) == 5);        /* a stale stamp still advances */
    assert_true(lamport_recv(&a, lamport_send(&b)) == 7);
}

static vclock vc(uint16_t n, const uint64_t *c)
{
    vclock v;
    vclock_init(&v, n);
    memcpy(v.c, c, n * sizeof *c);
    return v;
}

static void test_vclock_order(void **state)
{
    (void)state;
    vclock a = vc(3, (uint64_t[]){1, 2, 0});
    vclock b = vc(3, (uint64_t[]){1, 3, 0});
    vclock c = vc(3, (uint64_t[]){2, 0, 0});
    vclock a2 = vc(2, (uint64_t[]){1, 2});   /* shorter, missing entries are 0 */
    assert_int_equal(vclock_compare(&a, &b), VCLOCK_BEFORE);
    assert_int_equal(vclock_compare(&b, &a), VCLOCK_AFTER);
    assert_int_equal(vclock_compare(&a, &a), VCLOCK_EQUAL);
    assert_int_equal(vclock_compare(&a, &a2), VCLOCK_EQUAL);
    assert_int_equal(vclock_compare(&a, &c), VCLOCK_CONCURRENT);
    assert_int_equal(vclock_compare(&c, &b), VCLOCK_CONCURRENT);

    /* merge is the least upper bound: after (or equal to) both inputs, and
     * below every other upper bound. */
    vclock m = a;
    vclock_merge(&m, &c);
    assert_int_equal(m.n, 3);
    assert_true(m.c[0] == 2 && m.c[1] == 2 && m.c[2] == 0);
    assert_int_equal(vclock_compare(&m, &a), VCLOCK_AFTER);
    assert_int_equal(vclock_compare(&m, &c), VCLOCK_AFTER);
    vclock ub = vc(3, (uint64_t[]){2, 3, 0});
    assert_int_equal(vclock_compare(&m, &ub), VCLOCK_BEFORE);
    vclock self = a;
    vclock_merge(&self, &a);
    assert_int_equal(vclock_compare(&self, &a), VCLOCK_EQUAL);
    vclock grow = a2;
    vclock four = vc(4, (uint64_t[]){0, 0, 0, 9});
    vclock_merge(&grow, &four);
    assert_int_equal(grow.n, 4);

    /* Message passing: a send happens before its receive; independent
     * events are concurrent. */
    vclock p, q;
    vclock_init(&p, 2);
    vclock_init(&q, 2);
    vclock_tick(&p, 0);
    vclock sent = p;
    vclock_tick(&q, 1);
    assert_int_equal(vclock_compare(&sent, &q), VCLOCK_CONCURRENT);
    vclock_merge(&q, &sent);
    vclock_tick(&q, 1);
    assert_int_equal(vclock_compare(&sent, &q), VCLOCK_BEFORE);
    vclock_tick(&q, 5);
    assert_int_equal(q.n, 6);
    vclock_tick(&q, VCLOCK_MAX); /* out of range: ignored */
    assert_int_equal(q.n, 6);
}

static void test_vclock_encoding(void **state)
{
    (void)state;
    vclock a = vc(3, (uint64_t[]){1, 0x0102030405060708ULL, 0}), b;
    uint8_t buf[2 + VCLOCK_MAX * 8 + 4];
    int n = vclock_encode(&a, buf, sizeof buf);
    assert_int_equal(n, 2 + 3 * 8);
    assert_int_equal(buf[1], 3);
    assert_int_equal(buf[2 + 8 + 0], 1);
    assert_int_equal(vclock_decode(&b, buf, (size_t)n + 4), n); /* trailing bytes untouched */
    assert_int_equal(vclock_compare(&a, &b), VCLOCK_EQUAL);
    assert_int_equal(b.n, 3);
    assert_int_equal(vclock_encode(&a, buf, (size_t)n - 1), -1);
    /* Malformed: short header, short entries, n above VCLOCK_MAX. */
    assert_int_equal(vclock_decode(&b, buf, 1), -1);
    assert_int_equal(vclock_decode(&b, buf, (size_t)n - 1), -1);
    uint8_t big[2] = {0, VCLOCK_MAX + 1};
    assert_int_equal(vclock_decode(&b, big, sizeof big), -1);
    uint8_t empty[2] = {0, 0};
    assert_int_equal(vclock_decode(&b, empty, 2), 2);
    assert_int_equal(b.n, 0);

    char js[128];
    int jl = vclock_format_json(&a, js, sizeof js);
    assert_int_equal(jl, (int)strlen(js));
    assert_string_equal(js, "{\"n1\":1,\"n2\":72623859790382856,\"n3\":0}");
    assert_int_equal(vclock_format_json(&b, js, sizeof js), 2);
    assert_string_equal(js, "{}");
    assert_int_equal(vclock_format_json(&a, js, 10), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_node_clock),
        cmocka_unit_test(test_lamport),
        cmocka_unit_test(test_vclock_order),
        cmocka_unit_test(test_vclock_encoding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
