/* harness.c: see harness.h. Everything on 127.0.0.1, ephemeral ports; the
 * proxy reports its ports through --ready. */
#define _GNU_SOURCE
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

static pid_t h_running;   /* the proxy of the current test, for h_teardown */

int h_teardown(void **state)
{
    (void)state;
    if (h_running > 0) {
        kill(h_running, SIGKILL);
        waitpid(h_running, NULL, 0);
        h_running = 0;
    }
    return 0;
}

uint64_t h_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

const char *h_path(harness *h, const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", h->dir, name);
    return out;
}

static int udp_socket(uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    int sz = 8 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof sz);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    socklen_t sl = sizeof sa;
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    *port = ntohs(sa.sin_port);
    return fd;
}

static int read_ready(harness *h, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char kind[16], name[64], addr[64];
    while (fscanf(f, "%15s", kind) == 1) {
        if (strcmp(kind, "control") == 0) {
            if (fscanf(f, "%63s", addr) != 1)
                break;
            h->control_port = (uint16_t)atoi(strrchr(addr, ':') + 1);
        } else if (fscanf(f, "%63s %63s", name, addr) == 2) {
            uint16_t port = (uint16_t)atoi(strrchr(addr, ':') + 1);
            if (strcmp(kind, "udp") == 0 && name[0] == 'n' && atoi(name + 1) >= 1 &&
                atoi(name + 1) <= h->nnodes)
                h->proxy_port[atoi(name + 1) - 1] = port;
            else if (strcmp(kind, "tcp") == 0 && !h->tcp_port)
                h->tcp_port = port;
        }
    }
    fclose(f);
    return h->control_port ? 0 : -1;
}

void h_start(harness *h, int n, uint64_t seed, int valgrind, const char *const *extra)
{
    memset(h, 0, sizeof *h);
    h->nnodes = n;
    snprintf(h->dir, sizeof h->dir, "/tmp/riftlab-fp-test-XXXXXX");
    assert_non_null(mkdtemp(h->dir));
    const char *bindir = getenv("RIFTLAB_BIN");
    assert_non_null(bindir);
    static char bin[512], ready[300], seeds[32], nodes[H_MAX_NODES][64];
    snprintf(bin, sizeof bin, "%s/faultproxy", bindir);
    h_path(h, "ready", ready, sizeof ready);
    snprintf(seeds, sizeof seeds, "%llu", (unsigned long long)seed);
    const char *argv[64];
    int a = 0;
    if (valgrind) {
        argv[a++] = "valgrind";
        argv[a++] = "-q";
        argv[a++] = "--error-exitcode=99";
        argv[a++] = "--leak-check=full";
        argv[a++] = "--show-leak-kinds=definite,indirect,possible";
        argv[a++] = "--errors-for-leak-kinds=definite,indirect,possible";
    }
    argv[a++] = bin;
    argv[a++] = "--seed";
    argv[a++] = seeds;
    argv[a++] = "--ready";
    argv[a++] = ready;
    argv[a++] = "--log-level";
    argv[a++] = "warn";
    for (int i = 0; i < n; i++) {
        uint16_t port;
        h->node_fd[i] = udp_socket(&port);
        snprintf(nodes[i], sizeof nodes[i], "%d,127.0.0.1:%u,0", i + 1, port);
        argv[a++] = "--node";
        argv[a++] = nodes[i];
    }
    for (int i = 0; extra && extra[i] && a < 62; i++)
        argv[a++] = extra[i];
    argv[a] = NULL;
    h->pid = fork();
    assert_true(h->pid >= 0);
    h_running = h->pid;
    if (h->pid == 0) {
        /* If the test dies (a failed assertion longjmps past h_stop, or a
         * crash), the proxy must not outlive it. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    /* Up to 20 s for the ready file (valgrind starts slowly). */
    for (int i = 0; i < 2000 && read_ready(h, ready) < 0; i++) {
        int st;
        assert_int_equal(waitpid(h->pid, &st, WNOHANG), 0);
        usleep(10000);
    }
    assert_true(h->control_port != 0);
    h->ctl_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(h->control_port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(connect(h->ctl_fd, (struct sockaddr *)&sa, sizeof sa), 0);
    h->rd = resp_reader_new();
}

int h_stop(harness *h)
{
    int st = 0;
    if (h->ctl_fd > 0)
        close(h->ctl_fd);
    resp_reader_free(h->rd);
    kill(h->pid, SIGTERM);
    /* At most 30 s (valgrind frees slowly), then it is a failure. */
    int rc = 0;
    for (int i = 0; i < 3000 && (rc = waitpid(h->pid, &st, WNOHANG)) == 0; i++)
        usleep(10000);
    if (rc == 0) {
        kill(h->pid, SIGKILL);
        waitpid(h->pid, &st, 0);
    }
    h_running = 0;
    for (int i = 0; i < h->nnodes; i++)
        close(h->node_fd[i]);
    char cmd[300];
    /* The temp dir holds only files the proxy and this harness wrote. */
    snprintf(cmd, sizeof cmd, "%s", h->dir);
    const char *names[] = {"ready", "stats.json", "decisions.jsonl"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        char p[400];
        unlink(h_path(h, names[i], p, sizeof p));
    }
    rmdir(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

void h_cmd(harness *h, const char *line, resp_value *reply)
{
    char tmp[1024], *argv[64];
    size_t argl[64];
    int argc = 0;
    snprintf(tmp, sizeof tmp, "%s", line);
    for (char *save = NULL, *p = strtok_r(tmp, " ", &save); p && argc < 64; p = strtok_r(NULL, " ", &save)) {
        argv[argc] = p;
        argl[argc++] = strlen(p);
    }
    buf b;
    buf_init(&b);
    resp_put_command(&b, argc, (const char *const *)argv, argl);
    assert_int_equal(send(h->ctl_fd, buf_ptr(&b), buf_size(&b), MSG_NOSIGNAL), (ssize_t)buf_size(&b));
    buf_free(&b);
    for (;;) {
        int rc = resp_reader_next(h->rd, reply);
        if (rc == RESP_GOT)
            return;
        assert_int_equal(rc, RESP_NEED_MORE);
        struct pollfd p = {h->ctl_fd, POLLIN, 0};
        assert_int_equal(poll(&p, 1, 20000), 1);
        ssize_t n = recv(h->ctl_fd, tmp, sizeof tmp, 0);
        assert_true(n > 0);
        resp_reader_feed(h->rd, tmp, (size_t)n);
    }
}

void h_ok(harness *h, const char *line)
{
    resp_value v;
    h_cmd(h, line, &v);
    if (v.type != RESP_SIMPLE)
        fail_msg("'%s' answered %s", line, v.str ? v.str : "(no text)");
    assert_string_equal(v.str, "OK");
    resp_value_free(&v);
}

uint64_t h_stat(harness *h, const char *from, const char *to, const char *field)
{
    resp_value v;
    h_cmd(h, "PROXY.STATS", &v);
    assert_int_equal(v.type, RESP_BULK);
    char key[128];
    snprintf(key, sizeof key, "{\"from\":\"%s\",\"to\":\"%s\",", from, to);
    const char *obj = strstr(v.str, key);
    assert_non_null(obj);
    snprintf(key, sizeof key, "\"%s\":", field);
    const char *f = strstr(obj, key);
    assert_non_null(f);
    uint64_t x = strtoull(f + strlen(key), NULL, 10);
    resp_value_free(&v);
    return x;
}

void h_send(harness *h, int from, int to, const void *d, size_t len)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(h->proxy_port[to - 1]),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    for (;;) {
        ssize_t n = sendto(h->node_fd[from - 1], d, len, 0, (struct sockaddr *)&sa, sizeof sa);
        if (n == (ssize_t)len)
            return;
        assert_true(errno == EAGAIN || errno == ENOBUFS || errno == EINTR);
        usleep(100);
    }
}

ssize_t h_recv(harness *h, int to, void *d, size_t cap, int timeout_ms)
{
    struct pollfd p = {h->node_fd[to - 1], POLLIN, 0};
    if (poll(&p, 1, timeout_ms) != 1)
        return -1;
    return recv(h->node_fd[to - 1], d, cap, 0);
}

int h_drain(harness *h, int to, int quiet_ms)
{
    char tmp[65536];
    int n = 0;
    while (h_recv(h, to, tmp, sizeof tmp, quiet_ms) >= 0)
        n++;
    return n;
}
