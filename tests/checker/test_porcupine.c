/* test_porcupine.c: every history in $RIFTLAB_SHARED/histories/porcupine
 * gets the verdict its verdicts.tsv states (read in place, never copied). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "checker/checker.h"

/* Calls each(file, model, expected verdict, history) for every row of
 * verdicts.tsv (the history read in place); returns the number of rows. */
static int for_each_history(void (*each)(const char *, const char *, const char *, history *, void *), void *arg)
{
    const char *shared = getenv("RIFTLAB_SHARED");
    if (!shared)
        shared = "/work/shared";
    char dir[512], path[1024], line[512];
    snprintf(dir, sizeof dir, "%s/histories/porcupine", shared);
    snprintf(path, sizeof path, "%s/verdicts.tsv", dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    int rows = 0;
    while (fgets(line, sizeof line, f)) {
        char file[256], model[64], want[64];
        int n = sscanf(line, "%255s %63s %63s", file, model, want);
        if (n < 2 || strcmp(file, "file") == 0)
            continue;
        if (n == 2)
            want[0] = 0; /* the empty etcd_095: no expected verdict */
        snprintf(path, sizeof path, "%s/%s", dir, file);
        history h;
        history_init(&h);
        char err[512];
        assert_int_equal(history_read_file(&h, path, "auto", err, sizeof err), 0);
        each(file, model, want, &h, arg);
        history_free(&h);
        rows++;
    }
    fclose(f);
    return rows;
}

static int verdict_code(json_t *check)
{
    json_t *v = json_object_get(check, "valid");
    return json_is_true(v) ? 0 : json_is_false(v) ? 1 : 2;
}

static void check_verdict(const char *file, const char *model, const char *want, history *h, void *arg)
{
    int *counts = arg; /* checked, valid */
    if (strcmp(want, "linearizable") && strcmp(want, "not-linearizable"))
        return;
    assert_string_equal(h->format, strcmp(model, "kv") == 0 ? "porcupine-kv" : "porcupine-etcd");
    check_options o;
    check_options_default(&o);
    o.checks = CHECK_LINEARIZABLE | CHECK_EVENTUAL;
    char err[512];
    json_t *r = check_history(h, file, &o, err, sizeof err);
    assert_non_null(r);
    json_t *lin = json_object_get(json_object_get(r, "checks"), "linearizable");
    int code = verdict_code(lin);
    if (code != (strcmp(want, "linearizable") == 0 ? 0 : 1))
        fail_msg("%s: expected %s, got exit %d", file, want, code);
    counts[1] += code == 0;
    /* linearizable implies eventually consistent (no thin air, final
     * reads agree on a value not overwritten) */
    json_t *ev = json_object_get(json_object_get(r, "checks"), "eventual");
    if (code == 0 && !json_is_true(json_object_get(ev, "valid")))
        fail_msg("%s: linearizable but eventual is not true", file);
    if (code == 1) { /* evidence is there */
        assert_non_null(json_object_get(lin, "stuck"));
        assert_true(json_array_size(json_object_get(lin, "window")) >= 1);
    }
    json_decref(r);
    counts[0]++;
}

static void test_verdicts(void **state)
{
    (void)state;
    int counts[2] = {0, 0};
    for_each_history(check_verdict, counts);
    assert_int_equal(counts[0], 108);
    assert_int_equal(counts[1], 26);
}

/* Issue 3: the per-key sequential answer is always given. All three checks
 * at once (as `riftlab check --consistency linearizable,sequential,eventual`),
 * no budget: per key must be true or false, never unknown; a linearizable
 * history is sequentially consistent, per key and whole; a key that fails
 * on its own fails the whole history. counts: per-key true, false. */
static void check_sequential_definite(const char *file, const char *model, const char *want, history *h, void *arg)
{
    (void)model;
    (void)want;
    int *counts = arg;
    check_options o;
    check_options_default(&o);
    o.checks = CHECK_LINEARIZABLE | CHECK_SEQUENTIAL | CHECK_EVENTUAL;
    char err[512];
    json_t *r = check_history(h, file, &o, err, sizeof err);
    assert_non_null(r);
    json_t *seq = json_object_get(json_object_get(r, "checks"), "sequential");
    int lin = verdict_code(json_object_get(json_object_get(r, "checks"), "linearizable"));
    int per = verdict_code(json_object_get(seq, "per_key")), whole = verdict_code(json_object_get(seq, "whole"));
    if (per == 2)
        fail_msg("%s: per-key sequential is unknown (%s)", file,
                 json_string_value(json_object_get(json_object_get(seq, "per_key"), "reason")));
    if (lin == 0 && (per != 0 || whole != 0))
        fail_msg("%s: linearizable but sequential per key %d, whole %d", file, per, whole);
    if (per == 1 && whole != 1)
        fail_msg("%s: a key is not sequential but the whole history is %d", file, whole);
    counts[per]++;
    json_decref(r);
}

static void test_sequential_definite(void **state)
{
    (void)state;
    int counts[2] = {0, 0};
    assert_int_equal(for_each_history(check_sequential_definite, counts), 109);
    /* the etcd logs' stale reads are sequentially consistent; the three
     * kv "bad" logs are not, even key by key */
    assert_int_equal(counts[0], 106);
    assert_int_equal(counts[1], 3);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_verdicts), cmocka_unit_test(test_sequential_definite)};
    if (argc > 1) /* one ctest test per check (tests/checker/CMakeLists.txt) */
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
