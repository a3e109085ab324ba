/* test_parse.c: every unit of every quantity parser, and each error with
 * its message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/parse.h"

static char err[160];

static uint64_t dur(const char *s)
{
    uint64_t v = 0;
    err[0] = '\0';
    assert_int_equal(parse_duration_ns(s, &v, err, sizeof err), 0);
    return v;
}

/* Asserts parsing fails and the message contains `want`. */
#define ASSERT_FAILS(call, want)                                   \
    do {                                                           \
        err[0] = '\0';                                             \
        assert_int_equal((call), -1);                              \
        if (!strstr(err, (want)))                                  \
            fail_msg("error '%s' lacks '%s'", err, (want));        \
    } while (0)

static void test_durations(void **state)
{
    (void)state;
    assert_true(dur("250us") == 250000ULL);
    assert_true(dur("1.5s") == 1500000000ULL);
    assert_true(dur("2m") == 120000000000ULL);
    assert_true(dur("10ms") == 10000000ULL);
    assert_true(dur("7ns") == 7ULL);
    assert_true(dur("0") == 0ULL);
    assert_true(dur("0.1s") == 100000000ULL);
    assert_true(dur("0.5us") == 500ULL);
    /* Many fraction digits: fits although mantissa * unit would not (fuzz find). */
    assert_true(dur("22222.202222222s") == 22222202222222ULL);
    assert_true(dur("18446744073.709551s") == 18446744073709551000ULL);
    uint64_t v;
    ASSERT_FAILS(parse_duration_ns("5sec", &v, err, sizeof err),
                 "unknown unit 'sec' in '5sec' (use ns, us, ms, s or m)");
    ASSERT_FAILS(parse_duration_ns("5", &v, err, sizeof err), "missing unit in '5'");
    ASSERT_FAILS(parse_duration_ns("", &v, err, sizeof err), "expected a number in ''");
    ASSERT_FAILS(parse_duration_ns("ms", &v, err, sizeof err), "expected a number");
    ASSERT_FAILS(parse_duration_ns("-1s", &v, err, sizeof err), "negative value '-1s'");
    ASSERT_FAILS(parse_duration_ns("1.5ns", &v, err, sizeof err), "not a whole number of nanoseconds");
    ASSERT_FAILS(parse_duration_ns("99999999999999m", &v, err, sizeof err), "too large");
    ASSERT_FAILS(parse_duration_ns("18446744073.709552s", &v, err, sizeof err), "too large");
    ASSERT_FAILS(parse_duration_ns("1.0000000000000000001s", &v, err, sizeof err), "too precise");
    ASSERT_FAILS(parse_duration_ns("1..5s", &v, err, sizeof err), "unknown unit '.5s'");
}

static void test_format_duration_round_trips(void **state)
{
    (void)state;
    static const struct { uint64_t ns; const char *text; } cases[] = {
        {0, "0"}, {1500000000ULL, "1.5s"}, {250000, "250us"}, {120000000000ULL, "2m"},
        {90000000000ULL, "90s"}, {7, "7ns"}, {1000001, "1.000001ms"}, {10000000, "10ms"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[32];
        format_duration(cases[i].ns, out, sizeof out);
        assert_string_equal(out, cases[i].text);
        assert_true(dur(out) == cases[i].ns);
    }
}

static void test_sizes(void **state)
{
    (void)state;
    uint64_t v;
    static const struct { const char *text; uint64_t want; } cases[] = {
        {"512", 512}, {"4k", 4096}, {"4K", 4096}, {"64KB", 65536}, {"1KiB", 1024},
        {"1.5MiB", 1572864}, {"2M", 2097152}, {"1G", 1073741824ULL}, {"1GB", 1073741824ULL},
        {"2T", 2199023255552ULL}, {"10B", 10}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(parse_size(cases[i].text, &v, err, sizeof err), 0);
        assert_true(v == cases[i].want);
    }
    ASSERT_FAILS(parse_size("4q", &v, err, sizeof err), "unknown unit 'q' in '4q'");
    ASSERT_FAILS(parse_size("4kx", &v, err, sizeof err), "unknown unit 'kx'");
    ASSERT_FAILS(parse_size("1.3k", &v, err, sizeof err), "not a whole number of bytes");
    ASSERT_FAILS(parse_size("x", &v, err, sizeof err), "expected a number");
    ASSERT_FAILS(parse_size("-4k", &v, err, sizeof err), "negative");
    ASSERT_FAILS(parse_size("99999999999T", &v, err, sizeof err), "too large");
}

static void test_rates(void **state)
{
    (void)state;
    double r;
    assert_int_equal(parse_rate("500/s", &r, err, sizeof err), 0);
    assert_true(r == 500.0);
    assert_int_equal(parse_rate("20/ms", &r, err, sizeof err), 0);
    assert_true(r == 20000.0);
    assert_int_equal(parse_rate("1.5k/s", &r, err, sizeof err), 0);
    assert_true(r == 1500.0);
    assert_int_equal(parse_rate("120/m", &r, err, sizeof err), 0);
    assert_true(r == 2.0);
    ASSERT_FAILS(parse_rate("500", &r, err, sizeof err), "expected '/' and a time unit in '500'");
    ASSERT_FAILS(parse_rate("500/h", &r, err, sizeof err), "unknown unit 'h' in '500/h'");
    ASSERT_FAILS(parse_rate("/s", &r, err, sizeof err), "expected a number");
}

static void test_probability(void **state)
{
    (void)state;
    double p;
    assert_int_equal(parse_probability("0.3", &p, err, sizeof err), 0);
    assert_true(p > 0.2999 && p < 0.3001);
    assert_int_equal(parse_probability("30%", &p, err, sizeof err), 0);
    assert_true(p > 0.2999 && p < 0.3001);
    assert_int_equal(parse_probability("1", &p, err, sizeof err), 0);
    assert_true(p == 1.0);
    ASSERT_FAILS(parse_probability("1.5", &p, err, sizeof err), "probability '1.5' is above 1");
    ASSERT_FAILS(parse_probability("150%", &p, err, sizeof err), "above 1");
    ASSERT_FAILS(parse_probability("0.3x", &p, err, sizeof err), "unexpected 'x'");
    ASSERT_FAILS(parse_probability("-0.1", &p, err, sizeof err), "negative");
}

static void test_integers(void **state)
{
    (void)state;
    int64_t i;
    uint64_t u;
    assert_int_equal(parse_int64("-42", -100, 100, &i, err, sizeof err), 0);
    assert_true(i == -42);
    ASSERT_FAILS(parse_int64("101", -100, 100, &i, err, sizeof err),
                 "101 is out of range (must be between -100 and 100)");
    ASSERT_FAILS(parse_int64("12x", 0, 100, &i, err, sizeof err), "'12x' is not an integer");
    ASSERT_FAILS(parse_int64("", 0, 100, &i, err, sizeof err), "is not an integer");
    ASSERT_FAILS(parse_int64("99999999999999999999", INT64_MIN, INT64_MAX, &i, err, sizeof err),
                 "out of range");
    assert_int_equal(parse_uint64("18446744073709551615", 0, UINT64_MAX, &u, err, sizeof err), 0);
    assert_true(u == UINT64_MAX);
    ASSERT_FAILS(parse_uint64("-1", 0, 10, &u, err, sizeof err), "-1 is out of range");
    ASSERT_FAILS(parse_uint64("0", 1, 10, &u, err, sizeof err), "0 is out of range (must be between 1 and 10)");
    ASSERT_FAILS(parse_uint64(" 5", 0, 10, &u, err, sizeof err), "is not an integer");
    /* A NULL error buffer is allowed. */
    assert_int_equal(parse_uint64("x", 0, 10, &u, NULL, 0), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_format_duration_round_trips),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_rates),
        cmocka_unit_test(test_probability),
        cmocka_unit_test(test_integers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
