/* ctest_util.c: helpers for the containers root tests (see ctest_util.h). */
#define _GNU_SOURCE
#include "ctest_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libgen.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

void ctu_require_root(void)
{
    if (geteuid() != 0) {
        fprintf(stderr, "skipped: needs root (network namespaces)\n");
        exit(77);
    }
}

void ctu_net_name(char *out, size_t cap, char tag)
{
    snprintf(out, cap, "rlt%d%c", (int)(getpid() % 10000000), tag);
}

void ctu_helper(const char *name, char *out, size_t cap)
{
    char self[512];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    self[n > 0 ? n : 0] = '\0';
    snprintf(out, cap, "%s/%s", dirname(self), name);
}

int ctu_run(char *const *argv, char *out, size_t cap)
{
    return ctu_run_as(argv, -1, out, cap);
}

int ctu_run_as(char *const *argv, int uid, char *out, size_t cap)
{
    int pipefd[2], status;
    if (pipe(pipefd) != 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        static char *const env[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
        if (uid >= 0 && (setgroups(0, NULL) != 0 || setgid((gid_t)uid) != 0 || setuid((uid_t)uid) != 0))
            _exit(126);
        dup2(pipefd[1], 1);
        dup2(pipefd[1], 2);
        close(pipefd[0]);
        close(pipefd[1]);
        execve(argv[0], argv, env);
        _exit(127);
    }
    close(pipefd[1]);
    size_t len = 0;
    for (;;) {
        char tmp[4096];
        ssize_t n = read(pipefd[0], tmp, sizeof tmp);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        size_t take = (size_t)n < cap - 1 - len ? (size_t)n : cap - 1 - len;
        memcpy(out + len, tmp, take);
        len += take;
    }
    out[len] = '\0';
    close(pipefd[0]);
    if (waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int ctu_udp(const hosts_net *net, int host, uint16_t port, int timeout_ms)
{
    int fd = hosts_socket(net, host, AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port),
                            .sin_addr.s_addr = htonl(hosts_addr(net, host))};
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    int one = 1;
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int ctu_udp_probe(const hosts_net *net, int tx, int to, uint16_t port, int rx, int count, int quiet_ms)
{
    static unsigned probe_id;
    struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons(port),
                              .sin_addr.s_addr = htonl(hosts_addr(net, to))};
    char buf[64], tag[24];
    int got = 0, sent = 0;
    /* Every probe has its own tag, so a straggler of an earlier probe that
     * arrives late is never counted for this one. */
    int taglen = snprintf(tag, sizeof tag, "p%u ", ++probe_id);
    while (sent < count) {
        int batch = count - sent < 100 ? count - sent : 100;
        for (int i = 0; i < batch; i++, sent++) {
            int n = snprintf(buf, sizeof buf, "%s%d", tag, sent);
            sendto(tx, buf, (size_t)n, 0, (struct sockaddr *)&dst, sizeof dst);
        }
        /* Drain until everything sent so far is in, or nothing came for
         * quiet_ms (on a loaded machine packets can take a while). */
        while (got < sent) {
            struct pollfd p = {.fd = rx, .events = POLLIN};
            if (poll(&p, 1, quiet_ms) <= 0)
                break;
            ssize_t n = recv(rx, buf, sizeof buf, MSG_DONTWAIT);
            if (n >= taglen && memcmp(buf, tag, (size_t)taglen) == 0)
                got++;
        }
    }
    return got;
}
