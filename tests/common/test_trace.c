/* test_trace.c: trace lines are valid JSON with the fixed fields, the
 * clocks and the extra fields; switching off drops events; a loop-attached
 * trace reaches the file without an explicit flush. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>

#include "common/trace.h"

static char path[64];

/* The file's lines parsed as JSON objects (at most 16). */
static int read_lines(json_t **out)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[4096];
    int n = 0;
    while (n < 16 && fgets(line, sizeof line, f)) {
        json_error_t e;
        out[n] = json_loads(line, 0, &e);
        if (!out[n])
            fail_msg("line %d is not JSON: %s (%s)", n + 1, e.text, line);
        n++;
    }
    fclose(f);
    return n;
}

static void free_lines(json_t **l, int n)
{
    for (int i = 0; i < n; i++)
        json_decref(l[i]);
}

static void test_lines(void **state)
{
    (void)state;
    char err[160];
    trace *t = trace_open(path, "n1", err, sizeof err);
    assert_non_null(t);
    lamport lam = {12};
    vclock vc;
    vclock_init(&vc, 2);
    vc.c[0] = 3;
    vc.c[1] = 1;
    trace_event(t, "start", NULL);
    trace_set_clocks(t, &lam, &vc);
    trace_event(t, "role", "\"role\":\"%s\",\"term\":%d", "leader", 3);
    trace_set_enabled(t, 0);
    assert_false(trace_enabled(t));
    trace_event(t, "hidden", NULL);
    trace_set_enabled(t, 1);
    buf b;
    buf_init(&b);
    buf_puts(&b, "\"key\":");
    trace_json_str(&b, "a\"b\\c\n\x01", 7);
    trace_event(t, "apply", "%s", buf_cstr(&b));
    buf_free(&b);
    assert_int_equal(trace_flush(t), 0);

    json_t *l[16];
    int n = read_lines(l);
    assert_int_equal(n, 3);
    assert_string_equal(json_string_value(json_object_get(l[0], "kind")), "start");
    assert_null(json_object_get(l[0], "lamport"));
    assert_true(json_integer_value(json_object_get(l[0], "time")) >= 0);
    assert_string_equal(json_string_value(json_object_get(l[1], "node")), "n1");
    assert_int_equal(json_integer_value(json_object_get(l[1], "lamport")), 12);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(l[1], "vc"), "n1")), 3);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(l[1], "vc"), "n2")), 1);
    assert_string_equal(json_string_value(json_object_get(l[1], "role")), "leader");
    assert_int_equal(json_integer_value(json_object_get(l[1], "term")), 3);
    assert_string_equal(json_string_value(json_object_get(l[2], "key")), "a\"b\\c\n\x01");
    assert_true(json_integer_value(json_object_get(l[2], "time")) >=
                json_integer_value(json_object_get(l[1], "time")));
    free_lines(l, n);
    trace_close(t);
}

static void stop(loop *l, uint64_t id, void *arg)
{
    (void)id;
    (void)arg;
    loop_stop(l);
}

static void test_timer_flush(void **state)
{
    (void)state;
    char err[160];
    loop *l = loop_new();
    trace *t = trace_open(path, "n2", err, sizeof err);
    trace_attach(t, l);
    trace_event(t, "tick", "\"n\":%d", 1);
    /* The flush timer (every TRACE_FLUSH_NS) is due before this one. */
    loop_add_timer(l, 2 * TRACE_FLUSH_NS + 1, 0, stop, NULL);
    loop_run(l);
    json_t *lines[16];
    int n = read_lines(lines);
    assert_int_equal(n, 1);
    assert_string_equal(json_string_value(json_object_get(lines[0], "node")), "n2");
    free_lines(lines, n);
    trace_close(t);
    loop_free(l);
    assert_null(trace_open("/nonexistent-dir/x.jsonl", "n1", err, sizeof err));
    assert_non_null(strstr(err, "cannot open trace file"));
}

static int fresh(void **state)
{
    (void)state;
    unlink(path);
    return 0;
}

int main(void)
{
    snprintf(path, sizeof path, "/tmp/rl-test-trace-%d.jsonl", (int)getpid());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lines, fresh, fresh),
        cmocka_unit_test_setup_teardown(test_timer_flush, fresh, fresh),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
