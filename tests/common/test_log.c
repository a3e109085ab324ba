/* test_log.c: levels filter messages, lines carry level and component. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/log.h"

static void test_levels_and_format(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    log_init("raft-node n1", LOG_LEVEL_INFO);
    log_set_file(f);
    LOG_DEBUG("hidden %d", 1);
    LOG_INFO("became leader term=%d", 3);
    log_set_level(LOG_LEVEL_ERROR);
    assert_int_equal(log_get_level(), LOG_LEVEL_ERROR);
    LOG_WARN("hidden too");
    LOG_ERROR("disk full");
    log_set_level(LOG_LEVEL_OFF);
    LOG_ERROR("silenced");
    log_set_file(NULL);
    fclose(f);
    assert_null(strstr(text, "hidden"));
    assert_null(strstr(text, "silenced"));
    assert_non_null(strstr(text, "Z INFO  raft-node n1: became leader term=3\n"));
    assert_non_null(strstr(text, "Z ERROR raft-node n1: disk full\n"));
    /* Two lines, each starting with a UTC timestamp. */
    assert_true(text[4] == '-' && text[10] == 'T');
    free(text);
}

static void test_level_parse(void **state)
{
    (void)state;
    enum log_level l;
    assert_int_equal(log_level_parse("debug", &l), 0);
    assert_int_equal(l, LOG_LEVEL_DEBUG);
    assert_int_equal(log_level_parse("off", &l), 0);
    assert_int_equal(l, LOG_LEVEL_OFF);
    assert_int_equal(log_level_parse("verbose", &l), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_levels_and_format),
        cmocka_unit_test(test_level_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
