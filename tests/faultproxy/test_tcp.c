/* test_tcp.c: faultproxy's TCP mode end to end on 127.0.0.1: bytes pass
 * both ways intact, and latency, slicing, bandwidth, blackhole and reset
 * have their effect. The test plays both the client and the upstream. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"

#define MS 1000000ull

typedef struct tcpfix {
    harness h;
    int lfd, cfd, ufd;   /* upstream listener, client side, upstream side */
} tcpfix;

static int tcp_connect(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    return fd;
}

static int accept_one(int lfd)
{
    struct pollfd p = {lfd, POLLIN, 0};
    assert_int_equal(poll(&p, 1, 5000), 1);
    int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    assert_true(fd >= 0);
    return fd;
}

static void start(tcpfix *f)
{
    f->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(f->lfd, 8), 0);
    socklen_t sl = sizeof sa;
    getsockname(f->lfd, (struct sockaddr *)&sa, &sl);
    static char spec[100];
    snprintf(spec, sizeof spec, "db=127.0.0.1:0,127.0.0.1:%u", ntohs(sa.sin_port));
    const char *extra[] = {"--tcp", spec, NULL};
    h_start(&f->h, 0, 1, 0, extra);
    assert_true(f->h.tcp_port != 0);
    f->cfd = tcp_connect(f->h.tcp_port);
    f->ufd = accept_one(f->lfd);
}

static void stop(tcpfix *f)
{
    close(f->cfd);
    close(f->ufd);
    close(f->lfd);
    assert_int_equal(h_stop(&f->h), 0);
}

/* Read exactly n bytes (or fail after timeout); returns the number of reads. */
static int read_exact(int fd, char *out, size_t n, int timeout_ms)
{
    size_t got = 0;
    int reads = 0;
    while (got < n) {
        struct pollfd p = {fd, POLLIN, 0};
        assert_int_equal(poll(&p, 1, timeout_ms), 1);
        ssize_t k = recv(fd, out + got, n - got, 0);
        assert_true(k > 0);
        got += (size_t)k;
        reads++;
    }
    return reads;
}

static void test_passthrough_and_latency(void **st)
{
    (void)st;
    tcpfix f;
    start(&f);
    char buf[64];
    assert_int_equal(send(f.cfd, "hello", 5, 0), 5);
    read_exact(f.ufd, buf, 5, 2000);
    assert_memory_equal(buf, "hello", 5);
    assert_int_equal(send(f.ufd, "world!", 6, 0), 6);
    read_exact(f.cfd, buf, 6, 2000);
    assert_memory_equal(buf, "world!", 6);
    h_ok(&f.h, "PROXY.TCP db up latency 100ms jitter 10ms");
    uint64_t t0 = h_now_ns();
    assert_int_equal(send(f.cfd, "slow", 4, 0), 4);
    read_exact(f.ufd, buf, 4, 3000);
    assert_true(h_now_ns() - t0 >= 100 * MS);
    assert_memory_equal(buf, "slow", 4);
    stop(&f);
}

static void test_slice_and_bandwidth(void **st)
{
    (void)st;
    tcpfix f;
    start(&f);
    char data[5120], got[5120];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (char)(i * 7);
    h_ok(&f.h, "PROXY.TCP db down slice 10 slicedelay 5ms");
    uint64_t t0 = h_now_ns();
    assert_int_equal(send(f.ufd, data, 100, 0), 100);
    int reads = read_exact(f.cfd, got, 100, 3000);
    assert_memory_equal(got, data, 100);
    assert_true(h_now_ns() - t0 >= 45 * MS);   /* 10 segments, 9 pauses */
    assert_true(reads >= 5);
    h_ok(&f.h, "PROXY.TCP db clear");
    h_ok(&f.h, "PROXY.TCP db down bandwidth 10KiB/s");
    t0 = h_now_ns();
    assert_int_equal(send(f.ufd, data, sizeof data, 0), (ssize_t)sizeof data);
    read_exact(f.cfd, got, sizeof data, 5000);
    assert_memory_equal(got, data, sizeof data);
    /* 5 KiB at 10 KiB/s: at least half a second (minus rounding). */
    assert_true(h_now_ns() - t0 >= 400 * MS);
    stop(&f);
}

static void test_blackhole_and_reset(void **st)
{
    (void)st;
    tcpfix f;
    start(&f);
    char buf[64];
    h_ok(&f.h, "PROXY.TCP db up blackhole");
    assert_int_equal(send(f.cfd, "lost", 4, 0), 4);
    struct pollfd p = {f.ufd, POLLIN, 0};
    assert_int_equal(poll(&p, 1, 300), 0);
    assert_int_equal(send(f.ufd, "back", 4, 0), 4);   /* the other way still works */
    read_exact(f.cfd, buf, 4, 2000);
    h_ok(&f.h, "PROXY.TCP db reset");
    p = (struct pollfd){f.cfd, POLLIN, 0};
    assert_int_equal(poll(&p, 1, 2000), 1);
    ssize_t k = recv(f.cfd, buf, sizeof buf, 0);
    assert_true(k == 0 || (k < 0 && errno == ECONNRESET));
    /* New connections are reset too while the rule stands. */
    int c2 = tcp_connect(f.h.tcp_port);
    p = (struct pollfd){c2, POLLIN, 0};
    assert_int_equal(poll(&p, 1, 2000), 1);
    k = recv(c2, buf, sizeof buf, 0);
    assert_true(k == 0 || (k < 0 && errno == ECONNRESET));
    close(c2);
    resp_value v;
    h_cmd(&f.h, "PROXY.STATS", &v);
    assert_non_null(strstr(v.str, "\"name\":\"db\",\"accepted\":2,"));
    assert_non_null(strstr(v.str, "\"discarded_up\":4"));
    resp_value_free(&v);
    stop(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_passthrough_and_latency, h_teardown),
        cmocka_unit_test_teardown(test_slice_and_bandwidth, h_teardown),
        cmocka_unit_test_teardown(test_blackhole_and_reset, h_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
