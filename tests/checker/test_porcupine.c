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

static void test_verdicts(void **state)
{
    (void)state;
    const char *shared = getenv("RIFTLAB_SHARED");
    if (!shared)
        shared = "/work/shared";
    char dir[512], path[1024], line[512];
    snprintf(dir, sizeof dir, "%s/histories/porcupine", shared);
    snprintf(path, sizeof path, "%s/verdicts.tsv", dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    int checked = 0, valid = 0;
    while (fgets(line, sizeof line, f)) {
        char file[256], model[64], want[64];
        if (sscanf(line, "%255s %63s %63s", file, model, want) != 3 || strcmp(file, "file") == 0)
            continue;
        if (strcmp(want, "linearizable") && strcmp(want, "not-linearizable"))
            continue; /* the empty etcd_095: no expected verdict */
        snprintf(path, sizeof path, "%s/%s", dir, file);
        history h;
        history_init(&h);
        char err[512];
        assert_int_equal(history_read_file(&h, path, "auto", err, sizeof err), 0);
        assert_string_equal(h.format, strcmp(model, "kv") == 0 ? "porcupine-kv" : "porcupine-etcd");
        check_options o;
        check_options_default(&o);
        o.checks = CHECK_LINEARIZABLE | CHECK_EVENTUAL;
        json_t *r = check_history(&h, file, &o, err, sizeof err);
        assert_non_null(r);
        json_t *lin0 = json_object_get(json_object_get(r, "checks"), "linearizable");
        int code = json_is_true(json_object_get(lin0, "valid")) ? 0 : json_is_false(json_object_get(lin0, "valid")) ? 1 : 2;
        if (code != (strcmp(want, "linearizable") == 0 ? 0 : 1))
            fail_msg("%s: expected %s, got exit %d", file, want, code);
        valid += code == 0;
        /* linearizable implies eventually consistent (no thin air, final
         * reads agree on a value not overwritten) */
        json_t *ev = json_object_get(json_object_get(r, "checks"), "eventual");
        if (code == 0 && !json_is_true(json_object_get(ev, "valid")))
            fail_msg("%s: linearizable but eventual is not true", file);
        if (code == 1) { /* evidence is there */
            json_t *lin = json_object_get(json_object_get(r, "checks"), "linearizable");
            assert_non_null(json_object_get(lin, "stuck"));
            assert_true(json_array_size(json_object_get(lin, "window")) >= 1);
        }
        json_decref(r);
        history_free(&h);
        checked++;
    }
    fclose(f);
    assert_int_equal(checked, 108);
    assert_int_equal(valid, 26);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_verdicts)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
