/* test_pool.c: faultproxy's delay queue: 100k slots of mixed sizes come
 * out in (due, arrival) order, equal due times keep arrival order, slots are
 * reused, and the queue limit holds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/prng.h"
#include "pool.h"

static void test_order_100k(void **st)
{
    (void)st;
    pool p;
    pool_init(&p, 200000);
    prng r;
    prng_seed(&r, 1);
    for (uint32_t i = 0; i < 100000; i++) {
        size_t len = 5 + prng_below(&r, 3000);   /* room for the id and a tail mark */
        pool_slot *s = pool_get(&p, len);
        assert_non_null(s);
        assert_int_equal(s->len, len);
        s->due = prng_below(&r, 1000);   /* many equal due times */
        memcpy(s->data, &i, sizeof i);
        s->data[len - 1] = (uint8_t)i;
        pool_push(&p, s);
    }
    assert_int_equal(p.nheap, 100000);
    uint64_t last_due = 0, last_order = 0;
    uint32_t prev_id = 0;
    for (int k = 0; k < 100000; k++) {
        pool_slot *s = pool_pop(&p);
        assert_non_null(s);
        uint32_t id;
        memcpy(&id, s->data, sizeof id);
        assert_int_equal(s->data[s->len - 1], (uint8_t)id);   /* contents intact */
        assert_true(s->due >= last_due);
        if (k && s->due == last_due) {
            assert_true(s->order > last_order);
            assert_true(id > prev_id);                         /* FIFO among equals */
        }
        last_due = s->due;
        last_order = s->order;
        prev_id = id;
        pool_put(&p, s);
    }
    assert_null(pool_pop(&p));
    /* Reuse: the same sizes again allocate no new chunk. */
    size_t chunks = p.nchunks;
    prng_seed(&r, 1);
    for (int i = 0; i < 100000; i++) {
        pool_slot *s = pool_get(&p, 5 + prng_below(&r, 3000));
        s->due = prng_below(&r, 1000);
        pool_push(&p, s);
    }
    assert_int_equal(p.nchunks, chunks);
    pool_free(&p);
}

static void test_limits(void **st)
{
    (void)st;
    pool p;
    pool_init(&p, 3);
    for (int i = 0; i < 3; i++) {
        pool_slot *s = pool_get(&p, 10);
        s->due = (uint64_t)(3 - i);
        pool_push(&p, s);
    }
    assert_null(pool_get(&p, 10));      /* queue full */
    pool_slot *s = pool_pop(&p);
    assert_int_equal(s->due, 1);
    pool_put(&p, s);
    assert_null(pool_get(&p, 65537));   /* larger than any UDP datagram */
    assert_non_null(s = pool_get(&p, 65536));
    pool_put(&p, s);
    pool_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_100k),
        cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
