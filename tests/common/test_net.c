/* test_net.c: address parsing (and its errors), UDP bind with a free port,
 * a datagram over loopback, TCP listen + nonblocking connect. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/net.h"

static void test_parse_addr(void **state)
{
    (void)state;
    struct sockaddr_in a;
    char err[160], s[32];
    assert_int_equal(net_parse_addr("127.0.0.1:7000", &a, err, sizeof err), 0);
    assert_int_equal(ntohs(a.sin_port), 7000);
    net_format_addr(&a, s, sizeof s);
    assert_string_equal(s, "127.0.0.1:7000");
    assert_int_equal(net_parse_addr("localhost:1", &a, err, sizeof err), 0);
    assert_int_equal(ntohl(a.sin_addr.s_addr), INADDR_LOOPBACK);
    assert_int_equal(net_parse_addr(":0", &a, err, sizeof err), 0);
    assert_int_equal(ntohl(a.sin_addr.s_addr), INADDR_ANY);
    assert_int_equal(net_parse_addr("*:9", &a, err, sizeof err), 0);
    assert_int_equal(net_parse_addr("10.77.0.2:65535", &a, err, sizeof err), 0);

    static const struct { const char *in, *msg; } bad[] = {
        {"127.0.0.1", "has no port"}, {"127.0.0.1:65536", "bad port"},
        {"127.0.0.1:x", "bad port"}, {"127.0.0.1:", "bad port"},
        {"example.com:80", "bad IPv4 address 'example.com'"}, {"1.2.3:80", "bad IPv4"},
        {"::1:80", "bad IPv4"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_int_equal(net_parse_addr(bad[i].in, &a, err, sizeof err), -1);
        if (!strstr(err, bad[i].msg))
            fail_msg("'%s': error '%s' lacks '%s'", bad[i].in, err, bad[i].msg);
    }
}

static void test_udp(void **state)
{
    (void)state;
    char err[160], to[32];
    int a = net_udp_bind("127.0.0.1:0", err, sizeof err);
    int b = net_udp_bind("127.0.0.1:0", err, sizeof err);
    assert_true(a >= 0 && b >= 0);
    assert_true(fcntl(a, F_GETFL) & O_NONBLOCK);
    assert_true(fcntl(a, F_GETFD) & FD_CLOEXEC);
    int port = net_local_port(b);
    assert_true(port > 0);
    /* Binding the same port again fails with a message naming it. */
    snprintf(to, sizeof to, "127.0.0.1:%d", port);
    assert_int_equal(net_udp_bind(to, err, sizeof err), -1);
    assert_non_null(strstr(err, to));
    struct sockaddr_in dst;
    assert_int_equal(net_parse_addr(to, &dst, err, sizeof err), 0);
    assert_int_equal(sendto(a, "hi", 2, 0, (struct sockaddr *)&dst, sizeof dst), 2);
    struct pollfd p = {.fd = b, .events = POLLIN};
    assert_int_equal(poll(&p, 1, 5000), 1);
    char got[8];
    assert_int_equal(recv(b, got, sizeof got, 0), 2);
    assert_memory_equal(got, "hi", 2);
    assert_int_equal(recv(b, got, sizeof got, 0), -1); /* nonblocking: nothing more */
    assert_int_equal(errno, EAGAIN);
    close(a);
    close(b);
}

static void test_tcp(void **state)
{
    (void)state;
    char err[160], to[32];
    int l = net_tcp_listen("127.0.0.1:0", 16, err, sizeof err);
    assert_true(l >= 0);
    snprintf(to, sizeof to, "127.0.0.1:%d", net_local_port(l));
    int c = net_tcp_connect(to, err, sizeof err);
    assert_true(c >= 0);
    struct pollfd p = {.fd = c, .events = POLLOUT};
    assert_int_equal(poll(&p, 1, 5000), 1);
    assert_int_equal(net_connect_result(c), 0);
    int s = accept(l, NULL, NULL);
    assert_true(s >= 0);
    assert_int_equal(net_set_nonblock(s), 0);
    assert_int_equal(net_set_cloexec(s), 0);
    assert_int_equal(net_set_nodelay(s), 0);
    assert_int_equal(write(c, "x", 1), 1);
    p = (struct pollfd){.fd = s, .events = POLLIN};
    assert_int_equal(poll(&p, 1, 5000), 1);
    char ch;
    assert_int_equal(read(s, &ch, 1), 1);
    close(s);
    close(c);
    close(l);
    /* Nobody listens there now: the connect fails, at once or later. */
    c = net_tcp_connect(to, err, sizeof err);
    if (c >= 0) {
        p = (struct pollfd){.fd = c, .events = POLLOUT};
        assert_int_equal(poll(&p, 1, 5000), 1);
        assert_int_equal(net_connect_result(c), ECONNREFUSED);
        close(c);
    }
    assert_int_equal(net_tcp_listen("nohost:1", 1, err, sizeof err), -1);
    assert_int_equal(net_local_port(-1), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_addr),
        cmocka_unit_test(test_udp),
        cmocka_unit_test(test_tcp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
