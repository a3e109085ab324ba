/* test_buf.c: the growable buffer keeps its bytes across growth, consume
 * and reserve/commit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/buf.h"

static void test_append_consume(void **state)
{
    (void)state;
    buf b;
    buf_init(&b);
    assert_int_equal(buf_size(&b), 0);
    for (int i = 0; i < 1000; i++)
        buf_printf(&b, "%04d", i);
    assert_int_equal(buf_size(&b), 4000);
    assert_memory_equal(buf_ptr(&b), "00000001", 8);
    buf_consume(&b, 3996);
    assert_string_equal(buf_cstr(&b), "0999");
    buf_puts(&b, "abc");   /* reclaims consumed space instead of growing forever */
    assert_string_equal(buf_cstr(&b), "0999abc");
    buf_consume(&b, 100);  /* more than there is: empties */
    assert_int_equal(buf_size(&b), 0);
    buf_free(&b);
}

static void test_reserve_commit_and_long_printf(void **state)
{
    (void)state;
    buf b;
    buf_init(&b);
    char *p = buf_reserve(&b, 5);
    memcpy(p, "hello", 5);
    buf_commit(&b, 5);
    char big[3000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    buf_printf(&b, "[%s]", big);
    assert_int_equal(buf_size(&b), 5 + 2 + 2999);
    assert_int_equal(buf_ptr(&b)[5], '[');
    assert_int_equal(buf_ptr(&b)[5 + 1 + 2999], ']');
    buf_reset(&b);
    assert_int_equal(buf_size(&b), 0);
    assert_string_equal(buf_cstr(&b), "");
    buf_append(&b, "a\0b", 3);
    assert_int_equal(buf_size(&b), 3);
    assert_memory_equal(buf_ptr(&b), "a\0b", 3);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_consume),
        cmocka_unit_test(test_reserve_commit_and_long_printf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
