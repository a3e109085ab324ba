/* byz_peer.c: fake peers and a process helper for tests/byzantine
 * (byz_peer.h). */
#define _GNU_SOURCE
#include "byz_peer.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/resp_client.h"

int byz_udp_bind(int port)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

int byz_udp_send(int fd, int port, const void *data, size_t len)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return sendto(fd, data, len, 0, (struct sockaddr *)&a, sizeof a) == (ssize_t)len ? 0 : -1;
}

int byz_datagram(uint8_t *out, size_t cap, uint8_t type, uint16_t src, uint16_t dst,
                 uint32_t cluster, uint64_t seq, const void *body, size_t len, const wire_key *key)
{
    static uint8_t payload[WIRE_MAX_DATAGRAM];
    vclock vc;
    vclock_init(&vc, 3);
    int vl = vclock_encode(&vc, payload, sizeof payload);
    if (vl < 0 || len > sizeof payload - (size_t)vl)
        return -1;
    if (len)
        memcpy(payload + vl, body, len);
    wire_header h = {.magic = WIRE_MAGIC, .version = WIRE_VERSION, .type = type, .src = src,
                     .dst = dst, .cluster = cluster, .seq = seq, .lamport = seq + 1};
    return wire_encode(out, cap, &h, payload, (size_t)vl + len, key);
}

int byz_send_raft(int fd, int port, const raft_msg *m, const wire_key *key)
{
    static uint8_t body[WIRE_MAX_BODY], dgram[WIRE_MAX_DATAGRAM];
    static uint64_t seq;
    int bl = raft_msg_encode(m, body, sizeof body);
    if (bl < 0)
        return -1;
    int dl = byz_datagram(dgram, sizeof dgram, m->type, m->from, m->to, 1, seq++, body, (size_t)bl, key);
    return dl < 0 ? -1 : byz_udp_send(fd, port, dgram, (size_t)dl);
}

int byz_recv_raw(int fd, int timeout_ms, uint8_t *buf, size_t cap, wire_header *h,
                 const uint8_t **body, size_t *len, int *from_port)
{
    uint64_t end = mono_now_ns() + (uint64_t)timeout_ms * 1000000ull;
    for (;;) {
        uint64_t now = mono_now_ns();
        if (now >= end)
            return 0;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, (int)((end - now) / 1000000 + 1)) <= 0)
            continue;
        struct sockaddr_in from;
        socklen_t flen = sizeof from;
        ssize_t got = recvfrom(fd, buf, cap, 0, (struct sockaddr *)&from, &flen);
        const uint8_t *b;
        vclock vc;
        if (got <= 0 || wire_decode(buf, (size_t)got, h, &b, NULL, 0) != WIRE_OK)
            continue;
        int vl = vclock_decode(&vc, b, h->body_len);
        if (vl < 0)
            continue;
        *body = b + vl;
        *len = h->body_len - (size_t)vl;
        if (from_port)
            *from_port = ntohs(from.sin_port);
        return 1;
    }
}

int byz_recv_raft(int fd, int timeout_ms, uint8_t *buf, size_t cap, raft_msg *m)
{
    uint64_t end = mono_now_ns() + (uint64_t)timeout_ms * 1000000ull;
    wire_header h;
    const uint8_t *body;
    size_t len;
    for (uint64_t now; (now = mono_now_ns()) < end;) {
        if (!byz_recv_raw(fd, (int)((end - now) / 1000000 + 1), buf, cap, &h, &body, &len, NULL))
            return 0;
        if (raft_msg_decode(h.type, h.src, h.dst, body, len, m) == RAFT_OK)
            return 1;
        raft_msg_free(m);
    }
    return 0;
}

pid_t byz_spawn(const char *const *argv, const char *log_path)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
    }
    execv(argv[0], (char *const *)argv);
    _exit(127);
}

int byz_alive(pid_t pid)
{
    int st;
    return pid > 0 && waitpid(pid, &st, WNOHANG) == 0;
}

int byz_wait_ping(int port, pid_t pid, int timeout_ms)
{
    char hp[32], err[128];
    snprintf(hp, sizeof hp, "127.0.0.1:%d", port);
    for (int t = 0; t < timeout_ms / 50; t++) {
        resp_client *rc = resp_client_connect(hp, 2000000000ull, err, sizeof err);
        if (rc) {
            resp_value v;
            memset(&v, 0, sizeof v);
            int got = resp_client_callv(rc, &v, 2000000000ull, "PING", NULL) == RESP_CLIENT_OK;
            int ok = got && v.type == RESP_SIMPLE && strcmp(v.str, "PONG") == 0;
            if (got)
                resp_value_free(&v);
            resp_client_close(rc);
            if (ok)
                return 0;
        }
        if (!byz_alive(pid))
            return -1;
        struct timespec ts = {0, 50000000L};
        nanosleep(&ts, NULL);
    }
    return -1;
}

int byz_stop(pid_t pid)
{
    if (pid <= 0)
        return -1;
    kill(pid, SIGTERM);
    for (int t = 0; t < 1000; t++) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        struct timespec ts = {0, 20000000L};
        nanosleep(&ts, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
}

int byz_trace_count(const char *path, ...)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    const char *want[8];
    int nw = 0;
    va_list ap;
    va_start(ap, path);
    for (const char *s; nw < 8 && (s = va_arg(ap, const char *));)
        want[nw++] = s;
    va_end(ap);
    char *line = NULL;
    size_t cap = 0;
    int count = 0;
    while (getline(&line, &cap, f) > 0) {
        int all = 1;
        for (int i = 0; i < nw && all; i++)
            all = strstr(line, want[i]) != NULL;
        count += all;
    }
    free(line);
    fclose(f);
    return count;
}
