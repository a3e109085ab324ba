/* udpbench.c: the two ends of faultproxy's benchmark.
 *
 *   udpbench echo --bind 127.0.0.1:PORT --seconds S
 *       returns every datagram to its sender (recvmmsg/sendmmsg), for S seconds at most
 *   udpbench send --bind 127.0.0.1:PORT --to 127.0.0.1:PORT [--size 200]
 *                 [--window 256] [--seconds 2] [--pings 5000]
 *       phase 1: keeps `window` datagrams in flight for `seconds` and reports
 *                round trips per second;
 *       phase 2: `pings` sequential round trips (one in flight) and reports
 *                their p50/p99 in microseconds.
 *       Output, one line: "msgs_per_s=N rtt_p50_us=X rtt_p99_us=Y lost=L"
 *
 * Datagrams carry a sequence number and a send timestamp. A lost datagram
 * (a gap in the sequence, or silence for 20 ms) frees its window slot, so
 * runs with drop faults keep going. Everything is bounded in time. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/net.h"

#define BATCH 64
#define EXIT_USAGE 254

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int parse_addr(const char *s, struct sockaddr_in *a)
{
    char err[128];
    return net_parse_addr(s, a, err, sizeof err);
}

static int udp_bind(const struct sockaddr_in *a)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int sz = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof sz);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof sz);
    if (fd < 0 || bind(fd, (const struct sockaddr *)a, sizeof *a) < 0) {
        perror("udpbench: bind");
        exit(1);
    }
    return fd;
}

static int run_echo(int fd, double seconds)
{
    static char bufs[BATCH][2048];
    struct mmsghdr m[BATCH];
    struct iovec iov[BATCH];
    struct sockaddr_in src[BATCH];
    uint64_t end = now_ns() + (uint64_t)(seconds * 1e9);
    while (now_ns() < end) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 100) <= 0)
            continue;
        for (int i = 0; i < BATCH; i++) {
            iov[i] = (struct iovec){bufs[i], sizeof bufs[i]};
            memset(&m[i], 0, sizeof m[i]);
            m[i].msg_hdr.msg_iov = &iov[i];
            m[i].msg_hdr.msg_iovlen = 1;
            m[i].msg_hdr.msg_name = &src[i];
            m[i].msg_hdr.msg_namelen = sizeof src[i];
        }
        int n = recvmmsg(fd, m, BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0)
            continue;
        for (int i = 0; i < n; i++)
            iov[i].iov_len = m[i].msg_len;
        for (int sent = 0; sent < n;) {
            int k = sendmmsg(fd, m + sent, (unsigned)(n - sent), 0);
            if (k <= 0)
                break;   /* a full buffer loses the rest, as UDP may */
            sent += k;
        }
    }
    return 0;
}

typedef struct sender {
    int fd;
    struct sockaddr_in to;
    size_t size;
    uint64_t next_seq, highest, received, lost;
    char pkt[2048];
} sender;

static void send_n(sender *s, int n)
{
    struct mmsghdr m[BATCH];
    struct iovec iov[BATCH];
    static char bufs[BATCH][2048];
    while (n > 0) {
        int k = n < BATCH ? n : BATCH;
        uint64_t t = now_ns();
        for (int i = 0; i < k; i++) {
            memcpy(bufs[i], s->pkt, s->size);
            uint64_t seq = s->next_seq++;
            memcpy(bufs[i], &seq, 8);
            memcpy(bufs[i] + 8, &t, 8);
            iov[i] = (struct iovec){bufs[i], s->size};
            memset(&m[i], 0, sizeof m[i]);
            m[i].msg_hdr.msg_iov = &iov[i];
            m[i].msg_hdr.msg_iovlen = 1;
            m[i].msg_hdr.msg_name = &s->to;
            m[i].msg_hdr.msg_namelen = sizeof s->to;
        }
        int sent = sendmmsg(s->fd, m, (unsigned)k, 0);
        if (sent < k) {   /* never sent: count as lost so the window refills */
            s->lost += (uint64_t)(k - (sent < 0 ? 0 : sent));
        }
        n -= k;
    }
}

/* Receive what is there: fresh replies read (0 if only duplicates or late
 * ones came), or -1 after timeout_ms of silence. RTTs go to rtt. */
static int recv_some(sender *s, int timeout_ms, uint64_t *rtt, size_t *nrtt, size_t caprtt)
{
    static char bufs[BATCH][2048];
    struct mmsghdr m[BATCH];
    struct iovec iov[BATCH];
    struct pollfd p = {s->fd, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0)
        return -1;
    for (int i = 0; i < BATCH; i++) {
        iov[i] = (struct iovec){bufs[i], sizeof bufs[i]};
        memset(&m[i], 0, sizeof m[i]);
        m[i].msg_hdr.msg_iov = &iov[i];
        m[i].msg_hdr.msg_iovlen = 1;
    }
    int n = recvmmsg(s->fd, m, BATCH, MSG_DONTWAIT, NULL);
    uint64_t t = now_ns();
    int got = 0;
    for (int i = 0; i < n; i++) {
        uint64_t seq, ts;
        if (m[i].msg_len < 16)
            continue;
        memcpy(&seq, bufs[i], 8);
        memcpy(&ts, bufs[i] + 8, 8);
        if (seq < s->highest)
            continue;   /* a duplicate, or a late one already counted lost */
        if (seq > s->highest)
            s->lost += seq - s->highest;   /* in-order channel: a gap is a loss */
        s->highest = seq + 1;
        s->received++;
        got++;
        if (rtt && *nrtt < caprtt)
            rtt[(*nrtt)++] = t - ts;
    }
    return got;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int run_send(sender *s, int window, double seconds, int pings)
{
    /* Phase 1: throughput with a full window. */
    uint64_t t0 = now_ns(), end = t0 + (uint64_t)(seconds * 1e9);
    send_n(s, window);
    while (now_ns() < end) {
        uint64_t before = s->received + s->lost;
        if (recv_some(s, 20, NULL, NULL, 0) < 0 &&
            s->next_seq - s->received - s->lost > 0) {
            /* 20 ms of silence: whatever is in flight is gone. */
            s->lost = s->next_seq - s->received;
            s->highest = s->next_seq;
        }
        uint64_t freed = s->received + s->lost - before;
        int inflight = (int)(s->next_seq - s->received - s->lost);
        int room = window - inflight;
        if (freed > 0 && room > 0)
            send_n(s, room);
        else if (inflight == 0)
            send_n(s, window);
    }
    double elapsed = (double)(now_ns() - t0) / 1e9;
    uint64_t done = s->received;
    /* Let the tail drain before the latency phase. */
    while (recv_some(s, 50, NULL, NULL, 0) > 0)
        ;
    s->highest = s->next_seq;
    /* Phase 2: one round trip at a time. */
    uint64_t *rtt = calloc((size_t)pings, sizeof *rtt);
    size_t nrtt = 0;
    uint64_t lost1 = s->lost;
    uint64_t pend = now_ns() + 30ull * 1000000000ull;
    for (int i = 0; i < pings && now_ns() < pend; i++) {
        send_n(s, 1);
        /* Wait for this ping's own reply (late ones of earlier pings are skipped). */
        int got;
        while ((got = recv_some(s, 50, rtt, &nrtt, (size_t)pings)) == 0)
            ;
        if (got < 0) {
            s->lost++;
            s->highest = s->next_seq;
        }
    }
    qsort(rtt, nrtt, sizeof *rtt, cmp_u64);
    double p50 = nrtt ? (double)rtt[nrtt / 2] / 1e3 : -1;
    double p99 = nrtt ? (double)rtt[(nrtt * 99) / 100] / 1e3 : -1;
    printf("msgs_per_s=%.0f rtt_p50_us=%.1f rtt_p99_us=%.1f lost=%llu lost_pings=%llu\n",
           (double)done / elapsed, p50, p99, (unsigned long long)lost1,
           (unsigned long long)(s->lost - lost1));
    free(rtt);
    return 0;
}

static void usage(FILE *f)
{
    fputs("usage: udpbench echo --bind HOST:PORT [--seconds S]\n"
          "       udpbench send --bind HOST:PORT --to HOST:PORT [--size N] [--window N]\n"
          "                     [--seconds S] [--pings N]\n", f);
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : 0;
    }
    struct sockaddr_in bind_addr, to;
    int have_bind = 0, have_to = 0, window = 256, pings = 5000;
    double seconds = 2;
    size_t size = 200;
    for (int i = 2; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "--bind"))
            have_bind = parse_addr(v, &bind_addr) == 0;
        else if (!strcmp(k, "--to"))
            have_to = parse_addr(v, &to) == 0;
        else if (!strcmp(k, "--size"))
            size = (size_t)atoi(v);
        else if (!strcmp(k, "--window"))
            window = atoi(v);
        else if (!strcmp(k, "--seconds"))
            seconds = atof(v);
        else if (!strcmp(k, "--pings"))
            pings = atoi(v);
        else {
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (!have_bind || size < 16 || size > 2048 || window < 1 || pings < 1 || !(seconds > 0) ||
        seconds > 600) {
        usage(stderr);
        return EXIT_USAGE;
    }
    int fd = udp_bind(&bind_addr);
    int rc;
    if (!strcmp(argv[1], "echo")) {
        rc = run_echo(fd, seconds);
    } else if (!strcmp(argv[1], "send") && have_to) {
        static sender s;
        s.fd = fd;
        s.to = to;
        s.size = size;
        memset(s.pkt, 'b', sizeof s.pkt);
        rc = run_send(&s, window, seconds, pings);
    } else {
        usage(stderr);
        rc = EXIT_USAGE;
    }
    close(fd);
    return rc;
}
