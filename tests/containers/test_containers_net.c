/* test_containers_net.c (root): hosts carry TCP and UDP between each
 * other; nftables partitions block exactly the cut directed links and heal
 * restores them; a lossy link drops about the requested fraction. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "containers/cleanup.h"
#include "containers/hosts.h"
#include "containers/partition.h"
#include "containers/supervisor.h"
#include "ctest_util.h"

#define NODES 3
#define HOSTS (NODES + 1)
#define RX_PORT 9100

typedef struct fixture {
    hosts_net net;
    partition *part;
    int rx[HOSTS];      /* bound to each host's address, port RX_PORT */
    int tx[HOSTS];      /* sender on each host, any port */
} fixture;

static fixture fx;

static int setup(void **state)
{
    char name[16], err[256];
    ctu_net_name(name, sizeof name, 'n');
    if (hosts_up(&fx.net, name, NODES, 0, err, sizeof err) != 0) {
        fprintf(stderr, "hosts_up: %s\n", err);
        return -1;
    }
    fx.part = partition_new(&fx.net);
    for (int h = 0; h < HOSTS; h++) {
        fx.rx[h] = ctu_udp(&fx.net, h, RX_PORT, 30);
        fx.tx[h] = ctu_udp(&fx.net, h, 0, 30);
        if (fx.rx[h] < 0 || fx.tx[h] < 0)
            return -1;
    }
    *state = &fx;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int h = 0; h < HOSTS; h++) {
        close(fx.rx[h]);
        close(fx.tx[h]);
    }
    partition_free(fx.part);
    cleanup_all();                  /* every process and the net, even after a failed assert */
    return 0;
}

/* Asserts that datagrams from a to b arrive iff open[a][b]. */
static void check_matrix(const int open[HOSTS][HOSTS])
{
    for (int a = 0; a < HOSTS; a++) {
        for (int b = 0; b < HOSTS; b++) {
            if (a == b)
                continue;
            int got = ctu_udp_probe(&fx.net, fx.tx[a], b, RX_PORT, fx.rx[b], 3,
                                    open[a][b] ? CTU_OPEN_MS : CTU_CLOSED_MS);
            if (got != (open[a][b] ? 3 : 0))
                fail_msg("link %d -> %d: %d of 3 datagrams arrived, expected %s", a, b, got,
                         open[a][b] ? "all" : "none");
        }
    }
}

static void all_open(int open[HOSTS][HOSTS])
{
    for (int a = 0; a < HOSTS; a++)
        for (int b = 0; b < HOSTS; b++)
            open[a][b] = 1;
}

static void test_udp_between_all_hosts(void **state)
{
    int open[HOSTS][HOSTS];
    (void)state;
    all_open(open);
    check_matrix(open);
}

/* Connects to host:port over TCP from `from`, retrying while the server starts. */
static int tcp_connect(int from, int host, uint16_t port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port),
                            .sin_addr.s_addr = htonl(hosts_addr(&fx.net, host))};
    for (int tries = 0; tries < 200; tries++) {
        int fd = hosts_socket(&fx.net, from, AF_INET, SOCK_STREAM, 0);
        assert_true(fd >= 0);
        if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0)
            return fd;
        close(fd);
        usleep(10000);
    }
    return -1;
}

static void start_echo(sup_proc *p, const char *mode, const char *port, int host)
{
    char path[512], err[256], hostname[16];
    ctu_helper("rl-echo", path, sizeof path);
    char *argv[] = {path, (char *)mode, (char *)port, "20000", NULL};
    naming_hostname(host, hostname, sizeof hostname);
    sup_spec spec = {.path = path, .argv = argv, .netns_fd = fx.net.nsfd[host], .hostname = hostname,
                     .run = fx.net.name, .name = hostname};
    if (sup_start(p, &spec, err, sizeof err) != 0)
        fail_msg("start rl-echo: %s", err);
}

static void test_tcp_and_udp_with_helpers(void **state)
{
    static sup_proc tcp, udp;
    char buf[128];
    (void)state;
    start_echo(&tcp, "tcp", "9300", 2);
    start_echo(&udp, "udp", "9301", 3);

    int fd = tcp_connect(1, 2, 9300);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "ping", 4), 4);
    ssize_t n = read(fd, buf, sizeof buf - 1);
    assert_true(n > 0);
    buf[n] = '\0';
    assert_string_equal(buf, "n2 ping");          /* answered from host n2, by name */
    close(fd);

    /* UDP from the hub to the echo on n3 (retry: the server may still be starting). */
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(9301),
                            .sin_addr.s_addr = htonl(hosts_addr(&fx.net, 3))};
    n = -1;
    for (int tries = 0; tries < 100 && n <= 0; tries++) {
        sendto(fx.tx[0], "hello", 5, 0, (struct sockaddr *)&a, sizeof a);
        n = recv(fx.tx[0], buf, sizeof buf - 1, 0);
    }
    assert_true(n > 0);
    buf[n] = '\0';
    assert_string_equal(buf, "n3 hello");
    sup_free(&tcp);
    sup_free(&udp);
}

static void test_partition_cuts_exact_directions(void **state)
{
    int open[HOSTS][HOSTS];
    char err[256];
    (void)state;
    /* One directed cut: only 1 -> 2 stops. */
    assert_int_equal(partition_cut(fx.part, 1, 2, err, sizeof err), 0);
    all_open(open);
    open[1][2] = 0;
    check_matrix(open);
    assert_true(partition_is_cut(fx.part, 1, 2));
    assert_false(partition_is_cut(fx.part, 2, 1));
    /* Plus a symmetric one. */
    assert_int_equal(partition_cut_both(fx.part, 2, 3, err, sizeof err), 0);
    open[2][3] = open[3][2] = 0;
    check_matrix(open);
    /* Heal one link only. */
    assert_int_equal(partition_heal_link(fx.part, 1, 2, err, sizeof err), 0);
    open[1][2] = 1;
    check_matrix(open);
    /* Heal restores everything. */
    assert_int_equal(partition_heal(fx.part, err, sizeof err), 0);
    all_open(open);
    check_matrix(open);
}

static void test_isolate_and_split(void **state)
{
    int open[HOSTS][HOSTS];
    char err[256];
    (void)state;
    /* Isolating n3 cuts it from the other nodes both ways; the hub still reaches it. */
    assert_int_equal(partition_isolate(fx.part, 3, err, sizeof err), 0);
    all_open(open);
    open[1][3] = open[3][1] = open[2][3] = open[3][2] = 0;
    check_matrix(open);
    assert_int_equal(partition_heal(fx.part, err, sizeof err), 0);
    /* Split {n1} | {n2, n3}. */
    int group[HOSTS] = {0, 0, 1, 1};
    assert_int_equal(partition_split(fx.part, group, err, sizeof err), 0);
    all_open(open);
    open[1][2] = open[2][1] = open[1][3] = open[3][1] = 0;
    check_matrix(open);
    /* A new split replaces the old one: {n1, n2} | {n3}. */
    int group2[HOSTS] = {0, 0, 0, 1};
    assert_int_equal(partition_split(fx.part, group2, err, sizeof err), 0);
    all_open(open);
    open[1][3] = open[3][1] = open[2][3] = open[3][2] = 0;
    check_matrix(open);
    assert_int_equal(partition_heal(fx.part, err, sizeof err), 0);
    all_open(open);
    check_matrix(open);
    /* Bad hosts are refused. */
    assert_int_equal(partition_cut(fx.part, 1, 9, err, sizeof err), -1);
    assert_non_null(strstr(err, "bad link"));
    assert_int_equal(partition_isolate(fx.part, 0, err, sizeof err), -1);
}

static void test_cut_covers_proxy_port(void **state)
{
    char err[256];
    (void)state;
    /* Relayed traffic of n1 leaves the hub's proxy from P_1 = 9401. */
    int p1 = ctu_udp(&fx.net, 0, 9401, 30), p2 = ctu_udp(&fx.net, 0, 9402, 30);
    assert_true(p1 >= 0 && p2 >= 0);
    partition_set_proxy_port(fx.part, 1, 9401);
    assert_int_equal(partition_cut(fx.part, 1, 2, err, sizeof err), 0);
    assert_int_equal(ctu_udp_probe(&fx.net, p1, 2, RX_PORT, fx.rx[2], 3, CTU_CLOSED_MS), 0);     /* from P_1: cut */
    assert_int_equal(ctu_udp_probe(&fx.net, p2, 2, RX_PORT, fx.rx[2], 3, CTU_OPEN_MS), 3);     /* from P_2: open */
    assert_int_equal(ctu_udp_probe(&fx.net, p1, 3, RX_PORT, fx.rx[3], 3, CTU_OPEN_MS), 3);     /* P_1 to n3: open */
    assert_int_equal(ctu_udp_probe(&fx.net, fx.tx[0], 2, RX_PORT, fx.rx[2], 3, CTU_OPEN_MS), 3); /* hub itself: open */
    assert_int_equal(partition_heal(fx.part, err, sizeof err), 0);
    assert_int_equal(ctu_udp_probe(&fx.net, p1, 2, RX_PORT, fx.rx[2], 3, CTU_OPEN_MS), 3);
    partition_set_proxy_port(fx.part, 1, 0);
    close(p1);
    close(p2);
}

static void test_loss_drops_about_the_fraction(void **state)
{
    char err[256];
    const int count = 2000;
    (void)state;
    assert_int_equal(partition_loss(fx.part, 1, 2, 0.3, err, sizeof err), 0);
    int got = ctu_udp_probe(&fx.net, fx.tx[1], 2, RX_PORT, fx.rx[2], count, CTU_CLOSED_MS);
    /* Expect 70% = 1400; the binomial sd is about 20, so +-150 is > 7 sd. */
    if (got < 1250 || got > 1550)
        fail_msg("loss 0.3: %d of %d arrived, expected about 1400", got, count);
    /* The reverse direction is untouched. */
    assert_int_equal(ctu_udp_probe(&fx.net, fx.tx[2], 1, RX_PORT, fx.rx[1], 200, CTU_OPEN_MS), 200);
    assert_int_equal(partition_loss(fx.part, 1, 2, 1.5, err, sizeof err), -1);
    /* A cut overrides the loss, and heal removes both. */
    assert_int_equal(partition_cut(fx.part, 1, 2, err, sizeof err), 0);
    assert_int_equal(ctu_udp_probe(&fx.net, fx.tx[1], 2, RX_PORT, fx.rx[2], 50, CTU_CLOSED_MS), 0);
    assert_int_equal(partition_heal(fx.part, err, sizeof err), 0);
    assert_int_equal(ctu_udp_probe(&fx.net, fx.tx[1], 2, RX_PORT, fx.rx[2], 200, CTU_OPEN_MS), 200);
}

int main(void)
{
    ctu_require_root();
    cleanup_install();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_udp_between_all_hosts),
        cmocka_unit_test(test_tcp_and_udp_with_helpers),
        cmocka_unit_test(test_partition_cuts_exact_directions),
        cmocka_unit_test(test_isolate_and_split),
        cmocka_unit_test(test_cut_covers_proxy_port),
        cmocka_unit_test(test_loss_drops_about_the_fraction),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
