/* test_resp_server.c: resp_server and resp_client together over 127.0.0.1:
 * pipelining, deferred replies leaving in request order, replies to closed
 * connections doing nothing, client timeouts, protocol errors, QUIT, and
 * per-connection data. The server's loop runs in a second thread; the
 * handler (in that thread) exposes test commands:
 *   PING, ECHO x, DEFER (reply later), RELEASE i text (fill the i-th
 *   deferred reply, answers :0 or :-1), DEFERC / RELEASEC text (the same by
 *   connection id, oldest first), QUIT, SETMODE x / GETMODE (connection
 *   data), CLOSES (connections closed so far). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <cmocka.h>

#include "common/resp_client.h"
#include "common/resp_server.h"

#define MS 1000000ULL
#define LONG (5000 * MS)   /* generous: only hit if something is broken */

static loop *lp;
static resp_server *srv;
static pthread_t loop_thread;
static char addr[32];
static resp_ticket tickets[64];
static uint64_t conn_ids[64];
static int nticket, nconnid, closes;

static void handle(resp_conn *c, resp_command *cmd, void *arg)
{
    (void)arg;
    buf *out = resp_conn_out(c);
    if (resp_command_is(cmd, "PING")) {
        resp_put_simple(out, "PONG");
    } else if (resp_command_is(cmd, "ECHO") && cmd->argc == 2) {
        resp_put_bulk(out, cmd->argv[1], cmd->argl[1]);
    } else if (resp_command_is(cmd, "DEFER")) {
        tickets[nticket++] = resp_conn_defer(c);
    } else if (resp_command_is(cmd, "RELEASE") && cmd->argc == 3) {
        char reply[64];
        int n = snprintf(reply, sizeof reply, "+%s\r\n", cmd->argv[2]);
        resp_put_int(out, resp_server_reply_ticket(srv, tickets[atoi(cmd->argv[1])], reply, (size_t)n));
    } else if (resp_command_is(cmd, "DEFERC")) {
        resp_conn_defer(c);
        conn_ids[nconnid++] = resp_conn_id(c);
    } else if (resp_command_is(cmd, "RELEASEC") && cmd->argc == 3) {
        char reply[64];
        int n = snprintf(reply, sizeof reply, "+%s\r\n", cmd->argv[2]);
        resp_put_int(out, resp_server_reply(srv, conn_ids[atoi(cmd->argv[1])], reply, (size_t)n));
    } else if (resp_command_is(cmd, "QUIT")) {
        resp_put_simple(out, "OK");
        resp_conn_close(c);
    } else if (resp_command_is(cmd, "SETMODE") && cmd->argc == 2) {
        free(resp_conn_data(c));
        resp_conn_set_data(c, strdup(cmd->argv[1]));
        resp_put_simple(out, "OK");
    } else if (resp_command_is(cmd, "GETMODE")) {
        if (resp_conn_data(c))
            resp_put_cstr(out, resp_conn_data(c));
        else
            resp_put_nil(out);
    } else if (resp_command_is(cmd, "NTICKETS")) {
        resp_put_int(out, nticket);
    } else if (resp_command_is(cmd, "NCONNIDS")) {
        resp_put_int(out, nconnid);
    } else if (resp_command_is(cmd, "CLOSES")) {
        resp_put_int(out, closes);
    } else if (resp_command_is(cmd, "BIG") && cmd->argc == 3) {
        /* A reply of n bytes starting with the tag: big output from small input. */
        size_t n = (size_t)atol(cmd->argv[1]);
        buf_printf(out, "$%zu\r\n", n);
        char *p = buf_reserve(out, n);
        memset(p, 'x', n);
        memcpy(p, cmd->argv[2], cmd->argl[2] < n ? cmd->argl[2] : n);
        buf_commit(out, n);
        buf_puts(out, "\r\n");
    } else if (resp_command_is(cmd, "NOREPLY")) {
        /* forgets to reply: the server must still answer in order */
    } else {
        resp_put_error(out, "ERR unknown command '%s'", cmd->argv[0]);
    }
}

static void on_close(resp_conn *c, void *arg)
{
    (void)arg;
    /* Replying to the closing connection itself must be a no-op. */
    if (resp_server_reply(srv, resp_conn_id(c), "+late\r\n", 7) != -1)
        abort();
    free(resp_conn_data(c));
    closes++;
}

static void *run_loop(void *arg)
{
    (void)arg;
    loop_run(lp);
    return NULL;
}

static int setup(void **state)
{
    (void)state;
    char err[160];
    lp = loop_new();
    srv = resp_server_new(lp, "127.0.0.1:0", handle, NULL, err, sizeof err);
    if (!srv) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    resp_server_on_close(srv, on_close);
    snprintf(addr, sizeof addr, "127.0.0.1:%d", resp_server_port(srv));
    return pthread_create(&loop_thread, NULL, run_loop, NULL);
}

static resp_client *left_open; /* test_free_with_pending */

static int teardown(void **state)
{
    (void)state;
    loop_stop_async(lp);
    pthread_join(loop_thread, NULL);
    resp_server_free(srv);
    loop_free(lp);
    resp_client_close(left_open);
    return 0;
}

static resp_client *connect_ok(void)
{
    char err[160];
    resp_client *c = resp_client_connect(addr, LONG, err, sizeof err);
    if (!c)
        fail_msg("connect: %s", err);
    return c;
}

/* Reads one reply and checks it is the simple string or bulk `want`. */
static void expect_text(resp_client *c, const char *want)
{
    resp_value v;
    assert_int_equal(resp_client_read(c, &v, LONG), RESP_CLIENT_OK);
    assert_true(v.type == RESP_SIMPLE || v.type == RESP_BULK);
    assert_string_equal(v.str, want);
    resp_value_free(&v);
}

static int64_t call_int(resp_client *c, const char *a, const char *b, const char *d)
{
    resp_value v;
    assert_int_equal(resp_client_callv(c, &v, LONG, a, b, d, NULL), RESP_CLIENT_OK);
    assert_int_equal(v.type, RESP_INTEGER);
    return v.integer;
}

static void test_pipelining(void **state)
{
    (void)state;
    resp_client *c = connect_ok();
    const char *ping[] = {"PING"};
    resp_client_append(c, 1, ping, NULL);
    for (int i = 0; i < 200; i++) {
        char s[16];
        snprintf(s, sizeof s, "v%d", i);
        const char *echo[] = {"ECHO", s};
        resp_client_append(c, 2, echo, NULL);
    }
    /* Inline commands work too, and a handler that forgets to reply
     * still gets an answer in its place. */
    const char *noreply[] = {"NOREPLY"};
    resp_client_append(c, 1, noreply, NULL);
    assert_int_equal(resp_client_flush(c, LONG), RESP_CLIENT_OK);
    assert_int_equal(send(resp_client_fd(c), "ECHO inline\r\n", 13, 0), 13);
    /* A timeout too large to add to the clock means no deadline. */
    resp_value pong;
    assert_int_equal(resp_client_read(c, &pong, UINT64_MAX), RESP_CLIENT_OK);
    assert_string_equal(pong.str, "PONG");
    resp_value_free(&pong);
    for (int i = 0; i < 200; i++) {
        char s[16];
        snprintf(s, sizeof s, "v%d", i);
        expect_text(c, s);
    }
    resp_value v;
    assert_int_equal(resp_client_read(c, &v, LONG), RESP_CLIENT_OK);
    assert_int_equal(v.type, RESP_ERROR);
    assert_non_null(strstr(v.str, "no reply"));
    resp_value_free(&v);
    expect_text(c, "inline");
    resp_client_close(c);
}

/* Waits (via another connection) until the server has seen n deferrals. */
static void wait_deferred(resp_client *b, const char *what, int n)
{
    for (int tries = 0; tries < 5000; tries++) {
        if (call_int(b, what, NULL, NULL) >= n)
            return;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    fail_msg("server never saw %d deferrals", n);
}

static int deferred_so_far; /* DEFERs sent by earlier tests */

/* Sends what a has queued, which holds n DEFERs, and waits (through b)
 * until the server has taken them. */
static void flush_deferred(resp_client *a, resp_client *b, int n)
{
    assert_int_equal(resp_client_flush(a, LONG), RESP_CLIENT_OK);
    deferred_so_far += n;
    wait_deferred(b, "NTICKETS", deferred_so_far);
}

/* Asserts that no reply reaches c within ms milliseconds. */
static void expect_nothing(resp_client *c, uint64_t ms)
{
    resp_value v;
    assert_int_equal(resp_client_read(c, &v, ms * MS), RESP_CLIENT_TIMEOUT);
}

static void test_deferred_order(void **state)
{
    (void)state;
    resp_client *a = connect_ok(), *b = connect_ok();
    int t0 = deferred_so_far;
    /* a: DEFER(t0) ECHO x DEFER(t1) ECHO y, pipelined. */
    const char *defer[] = {"DEFER"}, *x[] = {"ECHO", "x"}, *y[] = {"ECHO", "y"};
    resp_client_append(a, 1, defer, NULL);
    resp_client_append(a, 2, x, NULL);
    resp_client_append(a, 1, defer, NULL);
    resp_client_append(a, 2, y, NULL);
    flush_deferred(a, b, 2);
    /* Nothing can leave while the first reply is pending: not "x". */
    expect_nothing(a, 50);
    /* Completing the second deferred reply first changes nothing yet. */
    char i0[16], i1[16];
    snprintf(i0, sizeof i0, "%d", t0);
    snprintf(i1, sizeof i1, "%d", t0 + 1);
    assert_int_equal(call_int(b, "RELEASE", i1, "second"), 0);
    assert_int_equal(call_int(b, "RELEASE", i1, "again"), -1);  /* filled already */
    expect_nothing(a, 50);
    assert_int_equal(call_int(b, "RELEASE", i0, "first"), 0);
    expect_text(a, "first");
    expect_text(a, "x");
    expect_text(a, "second");
    expect_text(a, "y");

    /* By connection id: the oldest pending reply is filled first. */
    const char *deferc[] = {"DEFERC"};
    resp_client_append(a, 1, deferc, NULL);
    resp_client_append(a, 1, deferc, NULL);
    resp_client_append(a, 2, x, NULL);
    assert_int_equal(resp_client_flush(a, LONG), RESP_CLIENT_OK);
    wait_deferred(b, "NCONNIDS", 2);
    assert_int_equal(call_int(b, "RELEASEC", "0", "one"), 0);
    assert_int_equal(call_int(b, "RELEASEC", "1", "two"), 0);
    assert_int_equal(call_int(b, "RELEASEC", "1", "three"), -1); /* nothing pending */
    expect_text(a, "one");
    expect_text(a, "two");
    expect_text(a, "x");
    resp_client_close(a);
    resp_client_close(b);
}

static void test_reply_to_closed_connection(void **state)
{
    (void)state;
    resp_client *a = connect_ok(), *b = connect_ok();
    int before = (int)call_int(b, "CLOSES", NULL, NULL);
    const char *defer[] = {"DEFER"};
    resp_client_append(a, 1, defer, NULL);
    flush_deferred(a, b, 1);
    /* The client gives up: a timeout, not an error. */
    expect_nothing(a, 30);
    resp_client_close(a);
    /* A pending deferred reply keeps the connection open after the peer's
     * EOF (a half-closed client may still want it); the reply then fails
     * to send or is the last thing sent, and the connection closes. */
    char idx[16];
    snprintf(idx, sizeof idx, "%d", deferred_so_far - 1);
    int64_t rc = call_int(b, "RELEASE", idx, "late");
    assert_true(rc == 0 || rc == -1);
    for (int tries = 0; tries < 5000 && call_int(b, "CLOSES", NULL, NULL) == before; tries++) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(call_int(b, "CLOSES", NULL, NULL), before + 1);
    /* Now the connection is gone for sure: replying is a no-op. */
    assert_int_equal(call_int(b, "RELEASE", idx, "later"), -1);
    resp_client_close(b);
}

static void test_protocol_error_and_quit(void **state)
{
    (void)state;
    resp_client *c = connect_ok();
    /* Replies queued before the error still arrive, then -ERR, then EOF. */
    const char *bad = "*1\r\n$4\r\nPING\r\n*1\r\n$-5\r\n*1\r\n$4\r\nPING\r\n";
    assert_int_equal(send(resp_client_fd(c), bad, strlen(bad), 0), (ssize_t)strlen(bad));
    expect_text(c, "PONG");
    resp_value v;
    assert_int_equal(resp_client_read(c, &v, LONG), RESP_CLIENT_OK);
    assert_int_equal(v.type, RESP_ERROR);
    assert_non_null(strstr(v.str, "Protocol error"));
    resp_value_free(&v);
    assert_int_equal(resp_client_read(c, &v, LONG), RESP_CLIENT_ERROR);
    assert_non_null(strstr(resp_client_error(c), "closed"));
    resp_client_close(c);

    c = connect_ok();
    const char *quit[] = {"QUIT"}, *ping[] = {"PING"};
    resp_client_append(c, 1, quit, NULL);
    resp_client_append(c, 1, ping, NULL);
    assert_int_equal(resp_client_flush(c, LONG), RESP_CLIENT_OK);
    expect_text(c, "OK");
    assert_int_equal(resp_client_read(c, &v, LONG), RESP_CLIENT_ERROR);
    resp_client_close(c);
}

static void test_connection_data(void **state)
{
    (void)state;
    resp_client *a = connect_ok(), *b = connect_ok();
    resp_value v;
    assert_int_equal(resp_client_callv(a, &v, LONG, "SETMODE", "sequential", NULL), RESP_CLIENT_OK);
    resp_value_free(&v);
    assert_int_equal(resp_client_callv(a, &v, LONG, "GETMODE", NULL), RESP_CLIENT_OK);
    assert_string_equal(v.str, "sequential");
    resp_value_free(&v);
    assert_int_equal(resp_client_callv(b, &v, LONG, "GETMODE", NULL), RESP_CLIENT_OK);
    assert_int_equal(v.type, RESP_NIL);
    assert_int_equal(resp_client_callv(b, &v, LONG, "NOSUCH", NULL), RESP_CLIENT_OK);
    assert_int_equal(v.type, RESP_ERROR);
    assert_string_equal(v.str, "ERR unknown command 'NOSUCH'");
    resp_value_free(&v);
    resp_client_close(a);  /* its data is freed by the close callback (ASan checks) */
    resp_client_close(b);
}

/* More output than RESP_SERVER_MAX_QUEUED from pipelined commands: the
 * server stops taking commands, resumes as the client reads, and every
 * reply arrives complete and in order. */
static void test_backpressure(void **state)
{
    (void)state;
    resp_client *c = connect_ok();
    enum { N = 48, SIZE = 1 << 20 };
    char size[16];
    snprintf(size, sizeof size, "%d", SIZE);
    for (int i = 0; i < N; i++) {
        char tag[16];
        snprintf(tag, sizeof tag, "<%d>", i);
        const char *argv[] = {"BIG", size, tag};
        resp_client_append(c, 3, argv, NULL);
    }
    const char *ping[] = {"PING"};
    resp_client_append(c, 1, ping, NULL);
    assert_int_equal(resp_client_flush(c, LONG), RESP_CLIENT_OK);
    for (int i = 0; i < N; i++) {
        resp_value v;
        char tag[16];
        snprintf(tag, sizeof tag, "<%d>", i);
        assert_int_equal(resp_client_read(c, &v, LONG), RESP_CLIENT_OK);
        assert_int_equal(v.type, RESP_BULK);
        assert_int_equal(v.len, SIZE);
        assert_memory_equal(v.str, tag, strlen(tag));
        assert_int_equal(v.str[SIZE - 1], 'x');
        resp_value_free(&v);
    }
    expect_text(c, "PONG");
    resp_client_close(c);
}

/* A client that resets its connection while the server has stopped
 * reading from it (RESP_SERVER_MAX_SLOTS replies queued behind a pending
 * one): the server must notice and close it. */
static void test_reset_while_paused(void **state)
{
    (void)state;
    resp_client *a = connect_ok(), *b = connect_ok();
    int before = (int)call_int(b, "CLOSES", NULL, NULL);
    const char *defer[] = {"DEFER"}, *ping[] = {"PING"};
    resp_client_append(a, 1, defer, NULL);
    for (int i = 0; i < RESP_SERVER_MAX_SLOTS + 100; i++)
        resp_client_append(a, 1, ping, NULL);
    flush_deferred(a, b, 1);
    struct timespec ts = {0, 50000000}; /* let the server reach its limit */
    nanosleep(&ts, NULL);
    struct linger lg = {1, 0};
    setsockopt(resp_client_fd(a), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    resp_client_close(a); /* RST */
    for (int tries = 0; tries < 5000 && call_int(b, "CLOSES", NULL, NULL) == before; tries++) {
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    assert_int_equal(call_int(b, "CLOSES", NULL, NULL), before + 1);
    resp_client_close(b);
}

static void test_client_errors(void **state)
{
    (void)state;
    char err[160];
    /* A malformed address, then a port nobody listens on. */
    resp_client *c = resp_client_connect("127.0.0.1:notaport", LONG, err, sizeof err);
    assert_null(c);
    assert_non_null(strstr(err, "bad port"));
    c = resp_client_connect("127.0.0.1:1", LONG, err, sizeof err);
    assert_null(c);
    assert_non_null(strstr(err, "refused"));
}

/* Left open with a reply pending when the server is freed (teardown):
 * the close callback's reply attempt must be a no-op, not a double free. */
static void test_free_with_pending(void **state)
{
    (void)state;
    resp_client *b = connect_ok();
    left_open = connect_ok();
    const char *deferc[] = {"DEFERC"};
    resp_client_append(left_open, 1, deferc, NULL);
    assert_int_equal(resp_client_flush(left_open, LONG), RESP_CLIENT_OK);
    wait_deferred(b, "NCONNIDS", 3); /* two came from test_deferred_order */
    resp_client_close(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pipelining),
        cmocka_unit_test(test_deferred_order),
        cmocka_unit_test(test_reply_to_closed_connection),
        cmocka_unit_test(test_protocol_error_and_quit),
        cmocka_unit_test(test_connection_data),
        cmocka_unit_test(test_backpressure),
        cmocka_unit_test(test_reset_while_paused),
        cmocka_unit_test(test_client_errors),
        cmocka_unit_test(test_free_with_pending),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
