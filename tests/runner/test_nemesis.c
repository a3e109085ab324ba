/* test_nemesis.c: the nemesis plan: fixed entries with undo steps, random
 * schedules drawn from the seed (same seed -> the same plan, another seed
 * -> another), sorting, and the recorded schedule text. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "runner/nemesis.h"
#include "runner/scenario_load.h"

static void load(const char *y, scenario *s)
{
    scn_errors e;
    if (scenario_load_text("t.yaml", y, strlen(y), s, &e) < 0)
        fail_msg("%s", e.msg[0]);
}

static char *plan_text(const scenario *s, uint64_t seed)
{
    static nem_step steps[NEM_MAX_STEPS];
    int n = nemesis_plan(s, seed, steps, NEM_MAX_STEPS);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    nemesis_plan_write(steps, n, f);
    fclose(f);
    return text;
}

static void test_fixed_with_undo(void **st)
{
    (void)st;
    scenario s;
    load("name: n\nworkload: {duration: 20s}\nnemesis:\n"
         "  - at: 5s\n    kill: leader\n    for: 2s\n"
         "  - at: 1s\n    partition: halves\n"
         "  - at: 3s\n    heal: true\n", &s);
    nem_step steps[16];
    int n = nemesis_plan(&s, 1, steps, 16);
    assert_int_equal(n, 4);
    /* Sorted by time: partition 1s, heal 3s, kill 5s, its undo 7s. */
    assert_int_equal(steps[0].a.kind, SCN_ACT_PARTITION);
    assert_int_equal(steps[0].t_ns, 1000000000ull);
    assert_int_equal(steps[1].a.kind, SCN_ACT_HEAL);
    assert_int_equal(steps[2].a.kind, SCN_ACT_KILL);
    assert_int_equal(steps[2].undo_of, -1);
    assert_int_equal(steps[3].t_ns, 7000000000ull);
    assert_int_equal(steps[3].undo_of, 2);   /* renumbered after sorting */
    scenario_free(&s);
}

static void test_random_is_seeded(void **st)
{
    (void)st;
    scenario s;
    load("name: n\nworkload: {duration: 30s}\nnemesis:\n"
         "  - every: 2s\n    from: 2s\n    until: 28s\n"
         "    pick: [partition, kill, pause, clock-skew, link-faults, slow]\n", &s);
    char *a = plan_text(&s, 42), *b = plan_text(&s, 42), *c = plan_text(&s, 43);
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
    free(a), free(b), free(c);
    nem_step steps[64];
    int n = nemesis_plan(&s, 42, steps, 64);
    assert_int_equal(n, 26);   /* 13 faults at 2s, 4s, ... 26s, each with its undo */
    for (int i = 1; i < n; i++)
        assert_true(steps[i - 1].t_ns <= steps[i].t_ns);
    for (int i = 0; i < n; i++)
        if (steps[i].undo_of >= 0) {
            assert_int_equal(steps[steps[i].undo_of].a.kind, steps[i].a.kind);
            assert_int_equal(steps[i].t_ns - steps[steps[i].undo_of].t_ns, 1200000000ull);
        }
    scenario_free(&s);
}

static void test_chain_targets(void **st)
{
    (void)st;
    scenario s;
    load("name: n\nsystem: {kind: chain, nodes: 3}\nnemesis:\n"
         "  - every: 1s\n    pick: [kill, partition]\n", &s);
    nem_step steps[64];
    int n = nemesis_plan(&s, 5, steps, 64);
    assert_true(n > 0);
    for (int i = 0; i < n; i++) {
        assert_int_not_equal(steps[i].a.target.kind, SCN_TGT_LEADER);
        if (steps[i].a.kind == SCN_ACT_PARTITION)
            assert_int_not_equal(steps[i].a.shape, SCN_SHAPE_ISOLATE_LEADER);
    }
    scenario_free(&s);
}

static void test_step_text(void **st)
{
    (void)st;
    nem_step x = {.t_ns = 0, .undo_of = -1};
    x.a.kind = SCN_ACT_KILL;
    x.a.target.kind = SCN_TGT_NODE;
    x.a.target.node = 2;
    char t[128];
    nemesis_step_text(&x, t, sizeof t);
    assert_string_equal(t, "kill n3");
    x.undo_of = 4;
    nemesis_step_text(&x, t, sizeof t);
    assert_string_equal(t, "undo #4 kill n3");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixed_with_undo),
        cmocka_unit_test(test_random_is_seeded),
        cmocka_unit_test(test_chain_targets),
        cmocka_unit_test(test_step_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
