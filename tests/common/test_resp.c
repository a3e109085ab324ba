/* test_resp.c: the RESP2 reader on whole, split, pipelined, inline and
 * malformed input (every error path), and the encoders' exact bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/resp.h"

/* Feeds s (n bytes) at once and returns what resp_reader_next says. */
static int next_of(const char *s, size_t n, resp_value *v)
{
    resp_reader *r = resp_reader_new();
    assert_int_equal(resp_reader_feed(r, s, n), 0);
    int rc = resp_reader_next(r, v);
    resp_reader_free(r);
    return rc;
}

static int next_str(const char *s, resp_value *v)
{
    return next_of(s, strlen(s), v);
}

static int command_of(const char *s)
{
    resp_reader *r = resp_reader_new();
    resp_command c;
    assert_int_equal(resp_reader_feed(r, s, strlen(s)), 0);
    int rc = resp_reader_next_command(r, &c);
    resp_reader_free(r);
    return rc;
}

static const char complex_value[] =
    "*5\r\n+OK\r\n-ERR bad\r\n:-42\r\n$5\r\nh\0llo\r\n*3\r\n$-1\r\n*-1\r\n*0\r\n";

static void check_complex(const resp_value *v)
{
    assert_int_equal(v->type, RESP_ARRAY);
    assert_int_equal(v->nelems, 5);
    assert_int_equal(v->elems[0].type, RESP_SIMPLE);
    assert_string_equal(v->elems[0].str, "OK");
    assert_int_equal(v->elems[1].type, RESP_ERROR);
    assert_string_equal(v->elems[1].str, "ERR bad");
    assert_int_equal(v->elems[2].type, RESP_INTEGER);
    assert_true(v->elems[2].integer == -42);
    assert_int_equal(v->elems[3].type, RESP_BULK);
    assert_int_equal(v->elems[3].len, 5);
    assert_memory_equal(v->elems[3].str, "h\0llo", 5);
    const resp_value *in = &v->elems[4];
    assert_int_equal(in->type, RESP_ARRAY);
    assert_int_equal(in->nelems, 3);
    assert_int_equal(in->elems[0].type, RESP_NIL);
    assert_int_equal(in->elems[1].type, RESP_NIL);
    assert_int_equal(in->elems[2].type, RESP_ARRAY);
    assert_int_equal(in->elems[2].nelems, 0);
}

static void test_whole_and_byte_by_byte(void **state)
{
    (void)state;
    resp_value v;
    size_t n = sizeof complex_value - 1;
    assert_int_equal(next_of(complex_value, n, &v), RESP_GOT);
    check_complex(&v);
    resp_value_free(&v);

    resp_reader *r = resp_reader_new();
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(resp_reader_feed(r, complex_value + i, 1), 0);
        int rc = resp_reader_next(r, &v);
        assert_int_equal(rc, i + 1 == n ? RESP_GOT : RESP_NEED_MORE);
    }
    check_complex(&v);
    resp_value_free(&v);
    assert_int_equal(resp_reader_next(r, &v), RESP_NEED_MORE);
    resp_reader_free(r);
}

static void test_pipelined_commands(void **state)
{
    (void)state;
    const char in[] = "*1\r\n$4\r\nPING\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\nv\0v\r\n"
                      "*0\r\n*-1\r\nGET k\r\n*2\r\n$3\r\nGET\r\n$1\r\n";
    resp_reader *r = resp_reader_new();
    resp_command c;
    /* Both all at once and one byte at a time give the same commands. */
    for (int mode = 0; mode < 2; mode++) {
        size_t n = sizeof in - 1, fed = 0;
        int got = 0;
        while (fed < n || got < 4) {
            int rc = resp_reader_next_command(r, &c);
            if (rc == RESP_NEED_MORE) {
                if (fed == n)
                    break;
                size_t chunk = mode == 0 ? n : 1;
                assert_int_equal(resp_reader_feed(r, in + fed, chunk), 0);
                fed += chunk;
                continue;
            }
            assert_int_equal(rc, RESP_GOT);
            switch (got++) {
            case 0:
                assert_int_equal(c.argc, 1);
                assert_string_equal(c.argv[0], "PING");
                break;
            case 1:
                assert_int_equal(c.argc, 3);
                assert_string_equal(c.argv[1], "k");
                assert_int_equal(c.argl[2], 3);
                assert_memory_equal(c.argv[2], "v\0v", 3);
                break;
            case 2:
                assert_int_equal(c.argc, 2);
                assert_string_equal(c.argv[0], "GET");
                assert_string_equal(c.argv[1], "k");
                break;
            default:
                fail_msg("unexpected command");
            }
        }
        assert_int_equal(got, 3); /* the last GET is incomplete */
        assert_int_equal(resp_reader_feed(r, "k\r\n", 3), 0);
        assert_int_equal(resp_reader_next_command(r, &c), RESP_GOT);
        assert_string_equal(c.argv[1], "k");
    }
    resp_reader_free(r);
}

static void test_inline_commands(void **state)
{
    (void)state;
    resp_reader *r = resp_reader_new();
    resp_command c;
    const char *in = "\r\n\nPING\r\n  SET  k \"hello \\\"world\\\"\" 'a b'\t\nGET k\n";
    assert_int_equal(resp_reader_feed(r, in, strlen(in)), 0);
    assert_int_equal(resp_reader_next_command(r, &c), RESP_GOT);
    assert_int_equal(c.argc, 1);
    assert_string_equal(c.argv[0], "PING");
    assert_int_equal(resp_reader_next_command(r, &c), RESP_GOT);
    assert_int_equal(c.argc, 4);
    assert_string_equal(c.argv[2], "hello \"world\"");
    assert_string_equal(c.argv[3], "a b");
    assert_int_equal(resp_reader_next_command(r, &c), RESP_GOT);
    assert_int_equal(c.argc, 2);
    assert_true(resp_command_is(&c, "get"));
    assert_true(resp_command_is(&c, "GET"));
    assert_false(resp_command_is(&c, "GE"));
    assert_false(resp_command_is(&c, "GETX"));
    assert_int_equal(resp_reader_next_command(r, &c), RESP_NEED_MORE);
    resp_reader_free(r);
    assert_int_equal(command_of("SET k \"open\r\n"), RESP_EPROTO);
    /* A value reader does not take inline text. */
    resp_value v;
    assert_int_equal(next_str("PING\r\n", &v), RESP_EPROTO);
}

/* "*1\r\n" repeated depth times, then ":1\r\n". */
static char *nested(int depth)
{
    char *s = malloc((size_t)depth * 4 + 5);
    for (int i = 0; i < depth; i++)
        memcpy(s + 4 * i, "*1\r\n", 4);
    memcpy(s + 4 * depth, ":1\r\n", 5);
    return s;
}

static void test_nesting_limit(void **state)
{
    (void)state;
    resp_value v;
    char *s = nested(RESP_MAX_DEPTH);
    assert_int_equal(next_str(s, &v), RESP_GOT);
    const resp_value *p = &v;
    for (int i = 0; i < RESP_MAX_DEPTH; i++) {
        assert_int_equal(p->type, RESP_ARRAY);
        p = &p->elems[0];
    }
    assert_int_equal(p->type, RESP_INTEGER);
    resp_value_free(&v);
    free(s);
    s = nested(RESP_MAX_DEPTH + 1);
    assert_int_equal(next_str(s, &v), RESP_EDEPTH);
    free(s);
    /* Arrays in a command are a protocol error at depth 2 already. */
    assert_int_equal(command_of("*2\r\n$1\r\na\r\n*1\r\n$1\r\nb\r\n"), RESP_EPROTO);
}

static void test_size_limits(void **state)
{
    (void)state;
    resp_value v;
    char line[64];
    snprintf(line, sizeof line, "$%u\r\n", RESP_MAX_BULK + 1);
    assert_int_equal(next_str(line, &v), RESP_ETOOBIG);
    snprintf(line, sizeof line, "*%u\r\n", RESP_MAX_ELEMENTS + 1);
    assert_int_equal(next_str(line, &v), RESP_ETOOBIG);
    snprintf(line, sizeof line, "*%u\r\n", RESP_MAX_ELEMENTS);
    assert_int_equal(next_str(line, &v), RESP_NEED_MORE); /* allowed, allocates nothing yet */
    assert_int_equal(next_str("$99999999999999999999\r\n", &v), RESP_EPROTO);

    /* A line (inline or typed) without a newline beyond the limit. */
    size_t big = RESP_MAX_INLINE + 10;
    char *s = malloc(big);
    memset(s, 'a', big);
    assert_int_equal(command_of("x") , RESP_NEED_MORE);
    resp_reader *r = resp_reader_new();
    resp_command c;
    assert_int_equal(resp_reader_feed(r, s, big), 0);
    assert_int_equal(resp_reader_next_command(r, &c), RESP_ETOOBIG);
    /* Sticky: further calls keep failing. */
    assert_int_equal(resp_reader_next_command(r, &c), RESP_ETOOBIG);
    assert_int_equal(resp_reader_feed(r, "PING\r\n", 6), RESP_ETOOBIG);
    resp_reader_free(r);
    s[0] = '+';
    assert_int_equal(next_of(s, big, &v), RESP_ETOOBIG);
    free(s);

    /* Buffering more than any value could need is refused at feed time. */
    r = resp_reader_new();
    size_t chunk = 1 << 20;
    char *zeros = calloc(1, chunk);
    int rc = 0;
    for (int i = 0; i < 20 && rc == 0; i++)
        rc = resp_reader_feed(r, zeros, chunk);
    assert_int_equal(rc, RESP_ETOOBIG);
    free(zeros);
    resp_reader_free(r);
}

static void test_malformed(void **state)
{
    (void)state;
    resp_value v;
    static const char *const proto[] = {
        "$-2\r\n", "*-5\r\n", "$-0x\r\n", ":12a\r\n", ":\r\n", ": 1\r\n", ":+1\r\n",
        ":9223372036854775808\r\n", "*1x\r\n", "+OK\n", "+OK\rX\n", "$3\r\nabcX\r\n",
        "$3\r\nabc\n\r", "?x\r\n", "\r\n", "\n", "*2\r\n:1\r\n!\r\n", "$\r\n"};
    for (size_t i = 0; i < sizeof proto / sizeof proto[0]; i++) {
        int rc = next_str(proto[i], &v);
        if (rc != RESP_EPROTO)
            fail_msg("input %zu (%s): %d", i, proto[i], rc);
    }
    assert_int_equal(next_str(":-9223372036854775808\r\n", &v), RESP_GOT);
    assert_true(v.integer == INT64_MIN);
    assert_int_equal(next_str("$-1\r\n", &v), RESP_GOT);
    assert_int_equal(v.type, RESP_NIL);
    assert_int_equal(next_str("*-1\r\n", &v), RESP_GOT);
    assert_int_equal(v.type, RESP_NIL);
    assert_int_equal(next_str("$0\r\n\r\n", &v), RESP_GOT);
    assert_int_equal(v.type, RESP_BULK);
    assert_int_equal(v.len, 0);
    resp_value_free(&v);
    /* Commands: only bulk strings, no null arguments; empty ones skipped. */
    assert_int_equal(command_of("*1\r\n:1\r\n"), RESP_EPROTO);
    assert_int_equal(command_of("*1\r\n+OK\r\n"), RESP_EPROTO);
    assert_int_equal(command_of("*1\r\n$-1\r\n"), RESP_EPROTO);
    assert_int_equal(command_of("*-1\r\n*0\r\n"), RESP_NEED_MORE);
    assert_int_equal(command_of("*1\r\n$1\r\nab\r\n"), RESP_EPROTO);
    assert_int_equal(command_of("*1\n"), RESP_EPROTO);
    for (int e = RESP_EDEPTH; e <= RESP_GOT; e++)
        assert_non_null(resp_strerror(e));
}

static void test_encoders(void **state)
{
    (void)state;
    buf b;
    buf_init(&b);
    resp_put_simple(&b, "OK");
    resp_put_error(&b, "NOTLEADER %d %s", 2, "10.77.0.2:7000");
    resp_put_error(&b, "ERR bad\r\n+OK");
    resp_put_int(&b, -7);
    resp_put_bulk(&b, "a\0b", 3);
    resp_put_cstr(&b, "");
    resp_put_nil(&b);
    resp_put_array(&b, 1);
    const char *argv[] = {"GET", "k"};
    resp_put_command(&b, 2, argv, NULL);
    static const char want[] = "+OK\r\n-NOTLEADER 2 10.77.0.2:7000\r\n-ERR bad  +OK\r\n:-7\r\n"
                       "$3\r\na\0b\r\n$0\r\n\r\n$-1\r\n*1\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n";
    size_t wn = sizeof want - 1;
    assert_int_equal(buf_size(&b), wn);
    assert_memory_equal(buf_ptr(&b), want, wn);
    /* What the encoders write, the reader reads back. */
    resp_reader *r = resp_reader_new();
    assert_int_equal(resp_reader_feed(r, buf_ptr(&b), buf_size(&b)), 0);
    resp_value v;
    int count = 0;
    while (resp_reader_next(r, &v) == RESP_GOT) {
        count++;
        resp_value_free(&v);
    }
    assert_int_equal(count, 8);
    resp_reader_free(r);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whole_and_byte_by_byte),
        cmocka_unit_test(test_pipelined_commands),
        cmocka_unit_test(test_inline_commands),
        cmocka_unit_test(test_nesting_limit),
        cmocka_unit_test(test_size_limits),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_encoders),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
