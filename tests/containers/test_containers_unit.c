/* test_containers_unit.c: the parts of containers/ that need no root:
 * names and addresses, run records, /proc/<pid>/stat parsing, and the
 * nftables rules a partition state turns into. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <libnftnl/rule.h>

#include "containers/naming.h"
#include "containers/nftrules.h"
#include "containers/procstat.h"
#include "containers/registry.h"

static void test_net_names(void **state)
{
    char err[128];
    (void)state;
    assert_int_equal(naming_net_valid("rl1", err, sizeof err), 0);
    assert_int_equal(naming_net_valid("rl4194304ab", err, sizeof err), 0);
    assert_int_equal(naming_net_valid("rl", err, sizeof err), -1);
    assert_int_equal(naming_net_valid("xx1", err, sizeof err), -1);
    assert_non_null(strstr(err, "rl"));
    assert_int_equal(naming_net_valid("rlA", err, sizeof err), -1);
    assert_int_equal(naming_net_valid("rl-1", err, sizeof err), -1);
    assert_int_equal(naming_net_valid("rl12345678901", err, sizeof err), -1);   /* 13 chars */
}

static void test_ns_names_round_trip(void **state)
{
    char ns[NAMING_NS_MAX], net[NAMING_NET_MAX + 1];
    int host;
    (void)state;
    assert_int_equal(naming_ns_name("rl7", 0, ns, sizeof ns), 0);
    assert_string_equal(ns, "rl7-hub");
    assert_int_equal(naming_ns_name("rl7", 12, ns, sizeof ns), 0);
    assert_string_equal(ns, "rl7-n12");
    assert_int_equal(naming_ns_name("rl7", NAMING_MAX_NODES + 1, ns, sizeof ns), -1);
    for (int h = 0; h <= NAMING_MAX_NODES; h++) {
        assert_int_equal(naming_ns_name("rl1234567890", h, ns, sizeof ns), 0);
        assert_int_equal(naming_ns_parse(ns, net, sizeof net, &host), 0);
        assert_string_equal(net, "rl1234567890");
        assert_int_equal(host, h);
    }
    /* Names that are not riftlab's are never parsed as ours. */
    const char *foreign[] = {"rl7-n0", "rl7-n01", "rl7-n65", "rl7-x1", "foo-hub", "rl7hub", "rl7-", "-hub",
                             "rl7-n1x", "rl7-hubx", "RL7-hub"};
    for (size_t i = 0; i < sizeof foreign / sizeof foreign[0]; i++)
        assert_int_equal(naming_ns_parse(foreign[i], net, sizeof net, &host), -1);
    char name[16];
    assert_int_equal(naming_hostname(0, name, sizeof name), 0);
    assert_string_equal(name, "hub");
    assert_int_equal(naming_hostname(3, name, sizeof name), 0);
    assert_string_equal(name, "n3");
}

static void test_subnets_and_addresses(void **state)
{
    unsigned char used[256] = {0};
    char text[20];
    (void)state;
    assert_int_equal(naming_subnet_pick(used), 1);
    used[1] = used[2] = 1;
    assert_int_equal(naming_subnet_pick(used), 3);
    memset(used, 1, sizeof used);
    used[254] = 0;
    assert_int_equal(naming_subnet_pick(used), 254);
    used[254] = 1;
    used[0] = used[255] = 0;                    /* never handed out */
    assert_int_equal(naming_subnet_pick(used), -1);
    naming_addr_text(naming_host_addr(3, 0), text, sizeof text);
    assert_string_equal(text, "10.77.3.1");
    naming_addr_text(naming_host_addr(3, 1), text, sizeof text);
    assert_string_equal(text, "10.77.3.11");
    naming_addr_text(naming_host_addr(254, NAMING_MAX_NODES), text, sizeof text);
    assert_string_equal(text, "10.77.254.74");
}

static void test_registry_round_trip(void **state)
{
    registry_rec a, b;
    char text[64 + REGISTRY_MAX_PROCS * 40];
    (void)state;
    memset(&a, 0, sizeof a);
    snprintf(a.net, sizeof a.net, "rl9");
    a.owner.pid = 4711;
    a.owner.start = 123456789012ULL;
    a.subnet = 9;
    a.nodes = 5;
    a.nprocs = 2;
    a.procs[0] = (registry_proc){4720, 99};
    a.procs[1] = (registry_proc){4721, 100};
    int n = registry_format(&a, text, sizeof text);
    assert_true(n > 0);
    memset(&b, 0, sizeof b);
    snprintf(b.net, sizeof b.net, "rl9");
    assert_int_equal(registry_parse(text, (size_t)n, &b), 0);
    assert_memory_equal(&a, &b, sizeof a);
    /* A manual net's owner is 0; a proc line may lack its start time. */
    const char *manual = "owner 0 0\nsubnet 2\nnodes 3\nproc 77\n";
    assert_int_equal(registry_parse(manual, strlen(manual), &b), 0);
    assert_int_equal(b.owner.pid, 0);
    assert_int_equal(registry_owner_state(&b), 2);
    assert_int_equal(b.nprocs, 1);
    assert_int_equal(b.procs[0].pid, 77);
}

static void test_registry_rejects_garbage(void **state)
{
    registry_rec r;
    (void)state;
    const char *bad[] = {"owner x 1\n", "subnet 255\n", "nodes 65\n", "proc 0 1\n", "hello\n",
                         "owner 99999999999 1\n", "subnet \n", "owner 1 123456789012345678901234\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&r, 0, sizeof r);
        assert_int_equal(registry_parse(bad[i], strlen(bad[i]), &r), -1);
    }
}

static void test_registry_survives_long_runs_and_appends(void **state)
{
    registry_rec r;
    (void)state;
    /* More proc lines than a record holds: the newest are kept, never an error
     * (an unreadable record would make a live run look dead to clean). */
    static char many[(REGISTRY_MAX_PROCS + 10) * 24];
    size_t off = (size_t)snprintf(many, sizeof many, "owner 1 1\nsubnet 1\nnodes 1\n");
    for (int i = 0; i < REGISTRY_MAX_PROCS + 10; i++)
        off += (size_t)snprintf(many + off, sizeof many - off, "proc %d 1\n", i + 1);
    assert_int_equal(registry_parse(many, off, &r), 0);
    assert_int_equal(r.nprocs, REGISTRY_MAX_PROCS);
    assert_int_equal(r.procs[0].pid, 11);
    assert_int_equal(r.procs[REGISTRY_MAX_PROCS - 1].pid, REGISTRY_MAX_PROCS + 10);
    /* A half-written last line (an append in progress) is not there yet. */
    const char *partial = "owner 5 6\nsubnet 2\nnodes 3\nproc 7 8\npro";
    assert_int_equal(registry_parse(partial, strlen(partial), &r), 0);
    assert_int_equal(r.owner.pid, 5);
    assert_int_equal(r.nprocs, 1);
}

static void test_owner_states(void **state)
{
    registry_rec r;
    (void)state;
    memset(&r, 0, sizeof r);
    registry_self(&r.owner);
    assert_int_equal(registry_owner_state(&r), 1);
    r.owner.start += 1;                         /* same pid, another process: dead */
    assert_int_equal(registry_owner_state(&r), 0);
}

static void test_procstat(void **state)
{
    char st;
    unsigned long long start;
    (void)state;
    const char *line = "4711 (a (weird) name) S 1 4711 4711 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 "
                       "98765 1000 200 18446744073709551615";
    assert_int_equal(procstat_parse(line, strlen(line), &st, &start), 0);
    assert_int_equal(st, 'S');
    assert_int_equal(start, 98765);
    assert_int_equal(procstat_parse("12 (x) R 1 2", 12, &st, &start), -1);
    assert_int_equal(procstat_parse("no paren", 8, &st, &start), -1);
    assert_int_equal(procstat_read(getpid(), &st, &start), 0);
    assert_int_equal(st, 'R');
    assert_true(procstat_alive(getpid(), start));
    assert_false(procstat_alive(getpid(), start + 1));
}

static void state_init(nftrules_state *s, int nodes)
{
    memset(s, 0, sizeof *s);
    s->hosts = nodes + 1;
    for (int h = 0; h <= nodes; h++)
        s->addr[h] = naming_host_addr(4, h);
}

static void test_rules_for_cuts(void **state)
{
    nftrules_state s;
    nftrules_spec out[NFTRULES_MAX_PER_HOST];
    (void)state;
    state_init(&s, 3);
    assert_int_equal(nftrules_for_host(&s, 2, out, NFTRULES_MAX_PER_HOST), 0);
    /* Cut 1 -> 2 without a proxy port: one rule in 2, on 1's address. */
    s.drop_ppm[1][2] = NFTRULES_PPM;
    assert_int_equal(nftrules_for_host(&s, 2, out, NFTRULES_MAX_PER_HOST), 1);
    assert_int_equal(out[0].saddr, naming_host_addr(4, 1));
    assert_int_equal(out[0].l4proto, 0);
    assert_int_equal(out[0].drop_ppm, NFTRULES_PPM);
    /* Nothing in 1 (the direction matters) nor in 3. */
    assert_int_equal(nftrules_for_host(&s, 1, out, NFTRULES_MAX_PER_HOST), 0);
    assert_int_equal(nftrules_for_host(&s, 3, out, NFTRULES_MAX_PER_HOST), 0);
    /* With proxy port P_1: also UDP and TCP from the hub's port P_1. */
    s.proxy_port[1] = 7001;
    assert_int_equal(nftrules_for_host(&s, 2, out, NFTRULES_MAX_PER_HOST), 3);
    assert_int_equal(out[1].saddr, naming_host_addr(4, 0));
    assert_int_equal(out[1].l4proto, IPPROTO_UDP);
    assert_int_equal(out[1].sport, 7001);
    assert_int_equal(out[2].l4proto, IPPROTO_TCP);
    /* A loss keeps its probability; max bounds the output. */
    s.drop_ppm[3][2] = 250000;
    assert_int_equal(nftrules_for_host(&s, 2, out, NFTRULES_MAX_PER_HOST), 4);
    assert_int_equal(out[3].drop_ppm, 250000);
    assert_int_equal(nftrules_for_host(&s, 2, out, 2), 2);
    assert_int_equal(nftrules_for_host(&s, 9, out, NFTRULES_MAX_PER_HOST), 0);
}

static void rule_text(const nftrules_spec *spec, char *buf, size_t cap)
{
    struct nftnl_rule *r = nftrules_build("rl4", spec);
    assert_non_null(r);
    nftnl_rule_snprintf(buf, cap, r, NFTNL_OUTPUT_DEFAULT, 0);
    nftnl_rule_free(r);
}

static void test_rule_building(void **state)
{
    char buf[2048];
    (void)state;
    nftrules_spec cut = {.saddr = naming_host_addr(4, 1), .drop_ppm = NFTRULES_PPM};
    rule_text(&cut, buf, sizeof buf);
    assert_non_null(strstr(buf, "ip rl4 input"));
    assert_non_null(strstr(buf, "payload load 4b @ network header + 12 => reg 1"));
    assert_non_null(strstr(buf, "cmp eq reg 1 0x0b044d0a"));    /* 10.77.4.11, network order */
    assert_non_null(strstr(buf, "immediate reg 0 drop"));
    assert_null(strstr(buf, "numgen"));
    assert_null(strstr(buf, "transport header"));

    nftrules_spec port = {.saddr = naming_host_addr(4, 0), .l4proto = IPPROTO_UDP, .sport = 7001,
                          .drop_ppm = NFTRULES_PPM};
    rule_text(&port, buf, sizeof buf);
    assert_non_null(strstr(buf, "cmp eq reg 1 0x01044d0a"));    /* hub 10.77.4.1 */
    assert_non_null(strstr(buf, "meta load l4proto => reg 1"));
    assert_non_null(strstr(buf, "cmp eq reg 1 0x00000011"));    /* UDP */
    assert_non_null(strstr(buf, "payload load 2b @ transport header + 0 => reg 1"));
    assert_non_null(strstr(buf, "cmp eq reg 1 0x0000591b"));    /* 7001 = 0x1b59, network order */

    nftrules_spec loss = {.saddr = naming_host_addr(4, 2), .drop_ppm = 300000};
    rule_text(&loss, buf, sizeof buf);
    assert_non_null(strstr(buf, "numgen reg 1 = random mod 1000000"));
    /* cmp compares bytes, so the random number is made big-endian first
     * and the bound (300000 = 0x000493e0) is big-endian too. */
    assert_non_null(strstr(buf, "byteorder reg 1 = hton(reg 1, 4, 4)"));
    assert_non_null(strstr(buf, "cmp lt reg 1 0xe0930400"));
    assert_non_null(strstr(buf, "immediate reg 0 drop"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_net_names),
        cmocka_unit_test(test_ns_names_round_trip),
        cmocka_unit_test(test_subnets_and_addresses),
        cmocka_unit_test(test_registry_round_trip),
        cmocka_unit_test(test_registry_rejects_garbage),
        cmocka_unit_test(test_registry_survives_long_runs_and_appends),
        cmocka_unit_test(test_owner_states),
        cmocka_unit_test(test_procstat),
        cmocka_unit_test(test_rules_for_cuts),
        cmocka_unit_test(test_rule_building),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
