/* loadgen.c: riftlab's closed-loop load client for the raft-node vs etcd
 * benchmark (bench/raft/bench.sh).
 *
 * N client threads, each with its own keep-alive connection and one request
 * outstanding at a time, for a fixed duration. Two targets:
 *   raft  RESP (SET key value / GET key) to raft-node; follows -NOTLEADER.
 *   etcd  etcd's JSON gateway: POST /v3/kv/put and /v3/kv/range (base64
 *         keys/values; "serializable":true for sequential reads) over a
 *         minimal HTTP/1.1 keep-alive client.
 * Prints one line: ops, ops/s, p50 and p99 latency in ms, errors. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/parse.h"
#include "common/resp.h"

#define MAX_ADDRS 8

static struct {
    int etcd;
    int get;
    int serializable;      /* GET: sequential (raft) / serializable (etcd) */
    int spread;            /* client i talks to addrs[i % n] instead of addrs[0] */
    int clients;
    uint64_t duration_ns;
    int value_size;
    int keys;
    int naddrs;
    struct sockaddr_in addrs[MAX_ADDRS];
    char addr_text[MAX_ADDRS][64];
} opt;

typedef struct client {
    int idx;
    int fd;
    resp_reader *rd;
    char in[65536];
    size_t in_len;
    uint32_t *lat_us;      /* one per completed op */
    size_t n_lat, cap_lat;
    uint64_t errors, redirects;
    uint64_t seed;
} client;

static int connect_to(const struct sockaddr_in *a)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (const struct sockaddr *)a, sizeof *a) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int parse_hostport(const char *s, struct sockaddr_in *a)
{
    char host[64];
    const char *c = strrchr(s, ':');
    if (!c || (size_t)(c - s) >= sizeof host)
        return -1;
    memcpy(host, s, (size_t)(c - s));
    host[c - s] = 0;
    memset(a, 0, sizeof *a);
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)atoi(c + 1));
    return inet_pton(AF_INET, host, &a->sin_addr) == 1 ? 0 : -1;
}

static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* ---- raft-node (RESP) -------------------------------------------------------- */

static int raft_op(client *c, const char *key, const char *val)
{
    buf b;
    buf_init(&b);
    const char *argv[3] = {opt.get ? "GET" : "SET", key, val};
    size_t argl[3] = {3, strlen(key), (size_t)opt.value_size};
    resp_put_command(&b, opt.get ? 2 : 3, argv, argl);
    int rc = send_all(c->fd, buf_ptr(&b), buf_size(&b));
    buf_free(&b);
    if (rc < 0)
        return -1;
    resp_value v;
    for (;;) {
        int r = resp_reader_next(c->rd, &v);
        if (r == RESP_GOT)
            break;
        if (r < 0)
            return -1;
        ssize_t n = recv(c->fd, c->in, sizeof c->in, 0);
        if (n <= 0 || resp_reader_feed(c->rd, c->in, (size_t)n) < 0)
            return -1;
    }
    rc = 0;
    if (v.type == RESP_ERROR) {
        rc = 1;
        /* -NOTLEADER id host:port: reconnect there */
        char addr[64];
        unsigned id;
        struct sockaddr_in a;
        if (sscanf(v.str, "NOTLEADER %u %63s", &id, addr) == 2 && parse_hostport(addr, &a) == 0) {
            close(c->fd);
            resp_reader_free(c->rd);
            c->rd = resp_reader_new();
            c->fd = connect_to(&a);
            c->redirects++;
            rc = c->fd < 0 ? -1 : 2;
        }
    }
    resp_value_free(&v);
    return rc;
}

/* ---- etcd (HTTP/1.1 JSON gateway) -------------------------------------------- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void put_b64(buf *b, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) |
                     (i + 2 < n ? p[i + 2] : 0);
        char o[4] = {b64[v >> 18], b64[(v >> 12) & 63], i + 1 < n ? b64[(v >> 6) & 63] : '=',
                     i + 2 < n ? b64[v & 63] : '='};
        buf_append(b, o, 4);
    }
}

/* Read one HTTP response; returns the status code or -1. Handles
 * Content-Length and chunked bodies (the body is discarded). */
static int http_read(client *c)
{
    size_t need = 0;
    for (;;) {
        char *end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
        if (end) {
            size_t hlen = (size_t)(end - c->in) + 4;
            int status = atoi(c->in + 9);
            char *cl = memmem(c->in, hlen, "Content-Length:", 15);
            if (!cl)
                cl = memmem(c->in, hlen, "content-length:", 15);
            if (cl) {
                need = hlen + (size_t)atol(cl + 15);
                while (c->in_len < need) {
                    ssize_t n = recv(c->fd, c->in + c->in_len, sizeof c->in - c->in_len, 0);
                    if (n <= 0)
                        return -1;
                    c->in_len += (size_t)n;
                }
            } else { /* chunked: read until the terminating 0-length chunk */
                while (!memmem(c->in + hlen, c->in_len - hlen, "\r\n0\r\n\r\n", 7) &&
                       !(c->in_len - hlen >= 5 && memcmp(c->in + hlen, "0\r\n\r\n", 5) == 0)) {
                    ssize_t n = recv(c->fd, c->in + c->in_len, sizeof c->in - c->in_len, 0);
                    if (n <= 0)
                        return -1;
                    c->in_len += (size_t)n;
                }
                char *z = memmem(c->in + hlen, c->in_len - hlen, "0\r\n\r\n", 5);
                need = (size_t)(z - c->in) + 5;
            }
            memmove(c->in, c->in + need, c->in_len - need);
            c->in_len -= need;
            return status;
        }
        if (c->in_len == sizeof c->in)
            return -1;
        ssize_t n = recv(c->fd, c->in + c->in_len, sizeof c->in - c->in_len, 0);
        if (n <= 0)
            return -1;
        c->in_len += (size_t)n;
    }
}

static int etcd_op(client *c, const char *key, const char *val)
{
    buf body, req;
    buf_init(&body);
    buf_init(&req);
    buf_puts(&body, "{\"key\":\"");
    put_b64(&body, (const unsigned char *)key, strlen(key));
    if (opt.get) {
        buf_puts(&body, opt.serializable ? "\",\"serializable\":true}" : "\"}");
    } else {
        buf_puts(&body, "\",\"value\":\"");
        put_b64(&body, (const unsigned char *)val, (size_t)opt.value_size);
        buf_puts(&body, "\"}");
    }
    buf_printf(&req, "POST /v3/kv/%s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
               "Content-Length: %zu\r\n\r\n", opt.get ? "range" : "put", buf_size(&body));
    buf_append(&req, buf_ptr(&body), buf_size(&body));
    int rc = send_all(c->fd, buf_ptr(&req), buf_size(&req));
    buf_free(&body);
    buf_free(&req);
    if (rc < 0)
        return -1;
    int status = http_read(c);
    return status < 0 ? -1 : status == 200 ? 0 : 1;
}

/* ---- threads ----------------------------------------------------------------- */

static void *client_main(void *arg)
{
    client *c = arg;
    const struct sockaddr_in *a = &opt.addrs[opt.spread ? c->idx % opt.naddrs : 0];
    c->fd = connect_to(a);
    c->rd = resp_reader_new();
    if (c->fd < 0 && !opt.etcd)
        return NULL;
    if (!opt.etcd && opt.get) { /* per-connection read mode */
        char m[64];
        snprintf(m, sizeof m, "CONSISTENCY %s\r\n", opt.serializable ? "sequential" : "linearizable");
        send_all(c->fd, m, strlen(m));
        resp_value v;
        while (resp_reader_next(c->rd, &v) != RESP_GOT) {
            ssize_t n = recv(c->fd, c->in, sizeof c->in, 0);
            if (n <= 0)
                return NULL;
            resp_reader_feed(c->rd, c->in, (size_t)n);
        }
        resp_value_free(&v);
    }
    char *val = malloc((size_t)opt.value_size + 1);
    memset(val, 'a' + c->idx % 26, (size_t)opt.value_size);
    val[opt.value_size] = 0;
    uint64_t end = mono_now_ns() + opt.duration_ns;
    char key[32];
    for (uint64_t now = mono_now_ns(); now < end; now = mono_now_ns()) {
        snprintf(key, sizeof key, "key%06u", (unsigned)(next_rand(&c->seed) % (uint64_t)opt.keys));
        int rc = opt.etcd ? etcd_op(c, key, val) : raft_op(c, key, val);
        uint64_t t = mono_now_ns();
        if (rc < 0) { /* connection broke: count, reconnect, go on */
            c->errors++;
            if (c->fd >= 0)
                close(c->fd);
            c->in_len = 0;
            resp_reader_free(c->rd);
            c->rd = resp_reader_new();
            c->fd = connect_to(a);
            if (c->fd < 0)
                break;
            continue;
        }
        if (rc == 1)
            c->errors++;
        if (rc != 0)
            continue;
        if (c->n_lat == c->cap_lat) {
            c->cap_lat = c->cap_lat ? c->cap_lat * 2 : 4096;
            c->lat_us = realloc(c->lat_us, c->cap_lat * sizeof *c->lat_us);
        }
        c->lat_us[c->n_lat++] = (uint32_t)((t - now) / 1000);
    }
    free(val);
    if (c->fd >= 0)
        close(c->fd);
    resp_reader_free(c->rd);
    return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static void usage(FILE *f)
{
    fputs("usage: raft-loadgen --target raft|etcd --addr HOST:PORT[,HOST:PORT...] [--op set|get]\n"
          "       [--consistency linearizable|sequential] [--clients N] [--duration 5s]\n"
          "       [--value-size 256] [--keys 10000] [--spread]\n"
          "Closed-loop load; prints: ops=N ops_per_s=X p50_ms=X p99_ms=X errors=N\n", f);
}

int main(int argc, char **argv)
{
    static const struct option lo[] = {
        {"target", 1, 0, 't'}, {"addr", 1, 0, 'a'}, {"op", 1, 0, 'o'}, {"consistency", 1, 0, 'c'},
        {"clients", 1, 0, 'n'}, {"duration", 1, 0, 'd'}, {"value-size", 1, 0, 'v'},
        {"keys", 1, 0, 'k'}, {"spread", 0, 0, 's'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    opt.clients = 1;
    opt.duration_ns = 5000000000ull;
    opt.value_size = 256;
    opt.keys = 10000;
    int ch;
    char err[128];
    while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (ch) {
        case 't': opt.etcd = strcmp(optarg, "etcd") == 0; break;
        case 'a': {
            char *save, *tok, *s = strdup(optarg);
            for (tok = strtok_r(s, ",", &save); tok && opt.naddrs < MAX_ADDRS; tok = strtok_r(NULL, ",", &save)) {
                if (parse_hostport(tok, &opt.addrs[opt.naddrs]) < 0) {
                    fprintf(stderr, "raft-loadgen: bad address '%s'\n", tok);
                    return 254;
                }
                snprintf(opt.addr_text[opt.naddrs++], 64, "%s", tok);
            }
            free(s);
            break;
        }
        case 'o': opt.get = strcmp(optarg, "get") == 0; break;
        case 'c': opt.serializable = strcmp(optarg, "sequential") == 0; break;
        case 'n': opt.clients = atoi(optarg); break;
        case 'd':
            if (parse_duration_ns(optarg, &opt.duration_ns, err, sizeof err) < 0) {
                fprintf(stderr, "raft-loadgen: --duration: %s\n", err);
                return 254;
            }
            break;
        case 'v': opt.value_size = atoi(optarg); break;
        case 'k': opt.keys = atoi(optarg); break;
        case 's': opt.spread = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 254;
        }
    }
    if (!opt.naddrs || opt.clients < 1 || opt.clients > 1024 || opt.value_size < 1 ||
        opt.value_size > 65536 || opt.keys < 1 || opt.duration_ns > 600000000000ull) {
        usage(stderr);
        return 254;
    }
    client *cs = calloc((size_t)opt.clients, sizeof *cs);
    pthread_t *th = calloc((size_t)opt.clients, sizeof *th);
    uint64_t t0 = mono_now_ns();
    for (int i = 0; i < opt.clients; i++) {
        cs[i].idx = i;
        cs[i].seed = 0x9e3779b97f4a7c15ull * (uint64_t)(i + 1) ^ t0;
        pthread_create(&th[i], NULL, client_main, &cs[i]);
    }
    size_t total = 0;
    uint64_t errors = 0;
    for (int i = 0; i < opt.clients; i++) {
        pthread_join(th[i], NULL);
        total += cs[i].n_lat;
        errors += cs[i].errors;
    }
    double secs = (double)(mono_now_ns() - t0) / 1e9;
    uint32_t *all = malloc((total ? total : 1) * sizeof *all);
    size_t k = 0;
    for (int i = 0; i < opt.clients; i++) {
        memcpy(all + k, cs[i].lat_us, cs[i].n_lat * sizeof *all);
        k += cs[i].n_lat;
        free(cs[i].lat_us);
    }
    qsort(all, total, sizeof *all, cmp_u32);
    double p50 = total ? all[total / 2] / 1000.0 : 0, p99 = total ? all[total * 99 / 100] / 1000.0 : 0;
    printf("ops=%zu ops_per_s=%.0f p50_ms=%.3f p99_ms=%.3f errors=%llu\n", total, total / secs, p50,
           p99, (unsigned long long)errors);
    free(all);
    free(cs);
    free(th);
    return total ? 0 : 1;
}
