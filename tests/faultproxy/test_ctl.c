/* test_ctl.c: faultproxy's control commands without sockets: every fault
 * keyword lands in the right field, bad commands get errors that name the
 * problem and change nothing, partitions and TCP rules parse. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "ctl.h"

typedef struct fixture {
    proxy_engine *e;
    proxy_ctl c;
    char names[2][PROXY_NAME_MAX];
    proxy_tcp_rule tcp[2];
    int changed;
    buf out;
} fixture;

static void on_tcp(void *arg, int li)
{
    (void)li;
    ((fixture *)arg)->changed++;
}

static int setup(void **st)
{
    static fixture f;
    memset(&f, 0, sizeof f);
    proxy_node nodes[3] = {{"n1", 1}, {"n2", 2}, {"db", 9}};
    char err[100];
    f.e = proxy_engine_new(3, nodes, 1, err, sizeof err);
    snprintf(f.names[0], PROXY_NAME_MAX, "redis");
    snprintf(f.names[1], PROXY_NAME_MAX, "etcd");
    f.c = (proxy_ctl){.eng = f.e, .ntcp = 2, .tcp_names = f.names, .tcp_rules = f.tcp,
                      .arg = &f, .tcp_changed = on_tcp};
    buf_init(&f.out);
    *st = &f;
    return 0;
}

static int teardown(void **st)
{
    fixture *f = *st;
    proxy_engine_free(f->e);
    buf_free(&f->out);
    return 0;
}

/* Run a command line; returns the reply text. */
static const char *run(fixture *f, const char *line)
{
    static char tmp[1024];
    char *argv[64];
    int argc = 0;
    snprintf(tmp, sizeof tmp, "%s", line);
    for (char *save = NULL, *p = strtok_r(tmp, " ", &save); p; p = strtok_r(NULL, " ", &save))
        argv[argc++] = p;
    buf_reset(&f->out);
    proxy_ctl_exec(&f->c, argc, argv, &f->out);
    return buf_cstr(&f->out);
}

static void test_rule_fields(void **st)
{
    fixture *f = *st;
    assert_string_equal(run(f, "PROXY.RULE n1 db type 4 drop 0.1 duplicate 20% copies 3 delay 5ms "
                               "jitter 250us dist pareto alpha 2.5 reorder 0.05 hold 30ms corrupt 0.01 "
                               "bits 4 where header truncate 0.02 replay 0.03 after 1s rate 1.5k/s "
                               "bandwidth 64KiB/s"), "+OK\r\n");
    const proxy_rule *r = proxy_rule_for(f->e, 0, 2, 4);
    assert_non_null(r);
    assert_int_equal(r->from, 0);
    assert_int_equal(r->to, 2);
    assert_true(r->f.drop == 0.1 && r->f.duplicate == 0.2 && r->f.copies == 3);
    assert_int_equal(r->f.delay_ns, 5000000);
    assert_int_equal(r->f.jitter_ns, 250000);
    assert_int_equal(r->f.dist, PROXY_DIST_PARETO);
    assert_true(r->f.alpha == 2.5 && r->f.reorder == 0.05);
    assert_int_equal(r->f.hold_ns, 30000000);
    assert_true(r->f.corrupt == 0.01 && r->f.bits == 4 && r->f.where == PROXY_WHERE_HEADER);
    assert_true(r->f.truncate == 0.02 && r->f.replay == 0.03);
    assert_int_equal(r->f.replay_after_ns, 1000000000);
    assert_true(r->f.rate_msgs == 1500 && r->f.rate_bytes == 65536);
    assert_null(proxy_rule_for(f->e, 0, 2, 5));
    /* by wire id, wildcards, both ways, clear */
    assert_string_equal(run(f, "PROXY.RULE 9 * both blackhole"), "+OK\r\n");
    assert_true(proxy_rule_for(f->e, 2, 1, 0)->f.blackhole);
    assert_true(proxy_rule_for(f->e, 1, 2, 0)->f.blackhole); /* both: db->* and *->db */
    assert_null(proxy_rule_for(f->e, 0, 1, 0));
    assert_string_equal(run(f, "PROXY.RULE db * both clear"), ":2\r\n");
    assert_string_equal(run(f, "PROXY.RULE db * clear"), ":0\r\n");
    assert_string_equal(run(f, "proxy.rule * * dist normal jitter 1ms"), "+OK\r\n");
    assert_int_equal(proxy_rule_for(f->e, 1, 0, 200)->f.dist, PROXY_DIST_NORMAL);
}

static void test_errors_change_nothing(void **st)
{
    fixture *f = *st;
    static const struct {
        const char *line, *needle;
    } cases[] = {
        {"PROXY.RULE", "missing node"},
        {"PROXY.RULE n1", "missing node"},
        {"PROXY.RULE n1 n4 drop 0.1", "unknown node 'n4'"},
        {"PROXY.RULE n1 n2 drop 0.1 frobnicate 2", "unknown fault 'frobnicate'"},
        {"PROXY.RULE n1 n2 drop -1", "drop: negative"},
        {"PROXY.RULE n1 n2 drop 2", "above 1"},
        {"PROXY.RULE n1 n2 copies 0", "copies: 0 is out of range"},
        {"PROXY.RULE n1 n2 copies 9", "out of range"},
        {"PROXY.RULE n1 n2 delay 2h", "unknown unit"},
        {"PROXY.RULE n1 n2 delay 61s", "60s limit"},
        {"PROXY.RULE n1 n2 dist zipf", "unknown dist"},
        {"PROXY.RULE n1 n2 alpha 0", "alpha"},
        {"PROXY.RULE n1 n2 where tail", "unknown where"},
        {"PROXY.RULE n1 n2 rate 5", "expected '/'"},
        {"PROXY.RULE n1 n2 bandwidth 5MB", "size per second"},
        {"PROXY.RULE n1 n2 type 256 drop 1", "type"},
        {"PROXY.RULE n1 n2 clear drop 1", "cannot be combined"},
        {"PROXY.PARTITION", "needs groups"},
        {"PROXY.PARTITION n1,,n2", "bad node list"},
        {"PROXY.PARTITION n1, n2", "bad node list"},
        {"PROXY.PARTITION n1 n1", "two groups"},
        {"PROXY.PARTITION n1 zz", "unknown node 'zz'"},
        {"PROXY.HEAL now", "no arguments"},
        {"PROXY.SEED 1 2", "usage"},
        {"PROXY.SEED -3", "out of range"},
        {"PROXY.RESET everything", "usage"},
        {"PROXY.TCP", "listener name"},
        {"PROXY.TCP mysql latency 1ms", "unknown TCP listener"},
        {"PROXY.TCP redis", "needs faults"},
        {"PROXY.TCP redis warp 9", "unknown TCP fault"},
        {"PROXY.FORGE n1 n2 7", "not available"},
        {"PROXY.FORGE n1 n2 7 body abc", "even number"},
        {"PROXY.FORGE n1 * 7", "unknown node '*'"},
        {"PING a b", "at most one"},
        {"FLUSHALL", "unknown command 'FLUSHALL'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *r = run(f, cases[i].line);
        if (strncmp(r, "-ERR ", 5) != 0 || !strstr(r, cases[i].needle))
            fail_msg("'%s' answered '%s', expected '%s'", cases[i].line, r, cases[i].needle);
        assert_int_equal(f->e->nrules, 0);
        for (int k = 0; k < 3; k++)
            assert_int_equal(f->e->group[k], 0);
    }
    assert_int_equal(f->changed, 0);
}

static void test_partition_heal_reset(void **st)
{
    fixture *f = *st;
    assert_string_equal(run(f, "PROXY.PARTITION n1 n2,db"), "+OK\r\n");
    assert_true(proxy_partitioned(f->e, 0, 1));
    assert_false(proxy_partitioned(f->e, 1, 2));
    assert_string_equal(run(f, "PROXY.PARTITION n1,n2"), "+OK\r\n"); /* replaces; db untouched */
    assert_false(proxy_partitioned(f->e, 0, 1));
    assert_false(proxy_partitioned(f->e, 0, 2));
    run(f, "PROXY.PARTITION n1 n2");
    assert_string_equal(run(f, "PROXY.HEAL"), "+OK\r\n");
    assert_false(proxy_partitioned(f->e, 0, 1));
    run(f, "PROXY.RULE * * drop 1");
    run(f, "PROXY.PARTITION n1 n2");
    assert_string_equal(run(f, "PROXY.SEED 77"), "+OK\r\n");
    assert_string_equal(run(f, "PROXY.SEED"), ":77\r\n");
    assert_string_equal(run(f, "PROXY.RESET"), "+OK\r\n");
    assert_int_equal(f->e->nrules, 0);
    assert_false(proxy_partitioned(f->e, 0, 1));
    assert_int_equal(f->e->seed, 77);
}

static void test_tcp_rules(void **st)
{
    fixture *f = *st;
    assert_string_equal(run(f, "PROXY.TCP redis up latency 5ms jitter 1ms bandwidth 1MiB/s slice 16 slicedelay 2ms"),
                        "+OK\r\n");
    assert_int_equal(f->tcp[0].dir[PROXY_TCP_UP].latency_ns, 5000000);
    assert_int_equal(f->tcp[0].dir[PROXY_TCP_UP].slice, 16);
    assert_true(f->tcp[0].dir[PROXY_TCP_UP].bandwidth == 1048576);
    assert_int_equal(f->tcp[0].dir[PROXY_TCP_DOWN].latency_ns, 0);
    assert_string_equal(run(f, "PROXY.TCP etcd blackhole"), "+OK\r\n");
    assert_true(f->tcp[1].dir[0].blackhole && f->tcp[1].dir[1].blackhole);
    assert_string_equal(run(f, "PROXY.TCP etcd reset after 2s"), "+OK\r\n");
    assert_true(f->tcp[1].reset);
    assert_int_equal(f->tcp[1].reset_after_ns, 2000000000);
    assert_string_equal(run(f, "PROXY.TCP etcd clear"), "+OK\r\n");
    assert_false(f->tcp[1].reset || f->tcp[1].dir[0].blackhole);
    assert_int_equal(f->changed, 4);
}

static void test_stats_and_info(void **st)
{
    fixture *f = *st;
    const char *r = run(f, "PROXY.STATS");
    assert_non_null(strstr(r, "{\"seed\":1,\"links\":[{\"from\":\"n1\",\"to\":\"n2\",\"received\":0,"));
    assert_null(strstr(r, "\"from\":\"n1\",\"to\":\"n1\""));  /* self links only once used */
    r = run(f, "INFO");
    assert_non_null(strstr(r, "nodes:3\r\n"));
    assert_string_equal(run(f, "PING"), "+PONG\r\n");
    assert_string_equal(run(f, "PING hi"), "$2\r\nhi\r\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rule_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_change_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_partition_heal_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stats_and_info, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
