/* rl_echo.c: a small, always bounded helper process for the containers
 * tests, started inside hosts by the supervisor:
 *
 *   rl-echo udp PORT MAX_MS          echo each datagram back as "<hostname> <data>"
 *   rl-echo tcp PORT MAX_MS          same over TCP, one reply per read
 *   rl-echo spin MAX_MS              burn CPU (for slow-node tests)
 *   rl-echo ignore-term MAX_MS       ignore SIGTERM and sleep (for the grace period)
 *
 * Every mode exits by itself after MAX_MS (at most 60 s). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int listen_on(int type, int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int one = 1, fd = socket(AF_INET, type, 0);
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || (type == SOCK_STREAM && listen(fd, 16) != 0)) {
        close(fd);
        return -1;
    }
    return fd;
}

/* "<hostname> <data>" into out; returns its length. */
static size_t reply(char *out, size_t cap, const char *data, size_t len)
{
    char host[64] = "?";
    gethostname(host, sizeof host - 1);
    size_t h = strlen(host);
    if (h + 1 + len > cap)
        len = cap - h - 1;
    memcpy(out, host, h);
    out[h] = ' ';
    memcpy(out + h + 1, data, len);
    return h + 1 + len;
}

static int serve(int type, int port, long long deadline)
{
    int fd = listen_on(type, port);
    char in[1024], out[1200];
    if (fd < 0) {
        perror("rl-echo: bind");
        return 1;
    }
    while (now_ms() < deadline) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, (int)(deadline - now_ms())) <= 0)
            continue;
        if (type == SOCK_DGRAM) {
            struct sockaddr_in from;
            socklen_t fl = sizeof from;
            ssize_t n = recvfrom(fd, in, sizeof in, 0, (struct sockaddr *)&from, &fl);
            if (n >= 0)
                sendto(fd, out, reply(out, sizeof out, in, (size_t)n), 0, (struct sockaddr *)&from, fl);
            continue;
        }
        int c = accept(fd, NULL, NULL);
        if (c < 0)
            continue;
        struct pollfd q = {.fd = c, .events = POLLIN};
        while (now_ms() < deadline && poll(&q, 1, (int)(deadline - now_ms())) > 0) {
            ssize_t n = read(c, in, sizeof in);
            if (n <= 0 || write(c, out, reply(out, sizeof out, in, (size_t)n)) < 0)
                break;
        }
        close(c);
    }
    close(fd);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        printf("usage: rl-echo udp|tcp PORT MAX_MS | spin MAX_MS | ignore-term MAX_MS\n");
        return 0;
    }
    if (argc < 3) {
        fprintf(stderr, "usage: rl-echo udp|tcp PORT MAX_MS | spin MAX_MS | ignore-term MAX_MS\n");
        return 254;
    }
    long long max = atoll(argv[argc - 1]);
    if (max <= 0 || max > 60000)
        max = 60000;
    long long deadline = now_ms() + max;
    if (strcmp(argv[1], "udp") == 0 && argc == 4)
        return serve(SOCK_DGRAM, atoi(argv[2]), deadline);
    if (strcmp(argv[1], "tcp") == 0 && argc == 4)
        return serve(SOCK_STREAM, atoi(argv[2]), deadline);
    if (strcmp(argv[1], "spin") == 0) {
        volatile unsigned long x = 0;
        while (now_ms() < deadline)
            for (int i = 0; i < 100000; i++)
                x = x + (unsigned long)i;
        return x == 42;                         /* uses x, so the loop stays */
    }
    if (strcmp(argv[1], "ignore-term") == 0) {
        signal(SIGTERM, SIG_IGN);
        while (now_ms() < deadline)
            usleep(10000);
        return 0;
    }
    fprintf(stderr, "rl-echo: unknown mode '%s'\n", argv[1]);
    return 254;
}
