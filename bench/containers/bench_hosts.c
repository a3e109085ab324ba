/* bench_hosts.c: time to bring a net of 3, 5 and 9 hosts up and down with
 * riftlab's containers library (libnl, in process), against the same net
 * built with iproute2 commands (`ip netns add`, `ip link add ... type veth`,
 * one process per step, the usual shell-script way). Prints the median of
 * RUNS runs of each and the ratio. Needs root. Run by bench/containers/run.sh.
 *
 * Both sides build the same thing: a hub namespace with bridge br0 and an
 * address, N node namespaces each with a veth into the bridge, eth0 and lo
 * up and an address. Teardown of the library side is hosts_down (kill scan
 * + unmount); of the iproute2 side `ip netns del` per namespace. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "containers/hosts.h"

#define RUNS 11

/* SIGINT/SIGTERM only set this: the run in progress finishes its teardown
 * (so no namespace is left behind), then the program exits. */
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static int usage(FILE *out, int status)
{
    fprintf(out, "usage: bench_containers_hosts [RUNS]\n"
                 "  Brings nets of 3, 5 and 9 hosts up and down RUNS times (default %d,\n"
                 "  1..100) with the containers library and with iproute2 commands;\n"
                 "  prints medians in ms and the ratio. Needs root.\n", RUNS);
    return status;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[n / 2];
}

/* Runs /usr/sbin/ip with the given arguments (fork + execve, no shell). */
static int ip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int ip(const char *fmt, ...)
{
    char line[512], *argv[32];
    int argc = 0, status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    argv[argc++] = "/usr/sbin/ip";
    for (char *tok = strtok(line, " "); tok && argc < 31; tok = strtok(NULL, " "))
        argv[argc++] = tok;
    argv[argc] = NULL;
    pid_t pid = fork();
    if (pid == 0) {
        execve(argv[0], argv, (char *[]){NULL});
        _exit(127);
    }
    if (pid < 0)
        return -1;
    pid_t w;
    while ((w = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
        ; /* a signal only sets `stop`: the step still completes */
    if (w != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return -1;
    return 0;
}

static int iproute_up(const char *net, int nodes)
{
    int rc = ip("netns add %s-hub", net);
    rc |= ip("-n %s-hub link set lo up", net);
    rc |= ip("-n %s-hub link add br0 up type bridge", net);
    rc |= ip("-n %s-hub addr add 10.77.250.1/24 dev br0", net);
    for (int i = 1; i <= nodes; i++) {
        rc |= ip("netns add %s-n%d", net, i);
        rc |= ip("-n %s-hub link add vn%d master br0 up type veth peer eth0 netns %s-n%d", net, i, net, i);
        rc |= ip("-n %s-n%d link set lo up", net, i);
        rc |= ip("-n %s-n%d link set eth0 up", net, i);
        rc |= ip("-n %s-n%d addr add 10.77.250.%d/24 dev eth0", net, i, 10 + i);
    }
    return rc;
}

static int iproute_down(const char *net, int nodes)
{
    int rc = ip("netns del %s-hub", net);
    for (int i = 1; i <= nodes; i++)
        rc |= ip("netns del %s-n%d", net, i);
    return rc;
}

int main(int argc, char **argv)
{
    static const int sizes[] = {3, 5, 9};
    char name[16], iname[16], err[256];
    int runs = RUNS;
    if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")))
        return usage(stdout, 0);
    if (argc > 2)
        return usage(stderr, 254);
    if (argc == 2) {
        char *end;
        long v = strtol(argv[1], &end, 10);
        if (!*argv[1] || *end || v < 1 || v > 100)
            return usage(stderr, 254);
        runs = (int)v;
    }
    signal(SIGINT, on_signal); /* glibc: BSD semantics, the handler stays */
    signal(SIGTERM, on_signal);
    if (geteuid() != 0) {
        fprintf(stderr, "bench_hosts: needs root\n");
        return 254;
    }
    snprintf(name, sizeof name, "rlb%d", (int)(getpid() % 1000000));
    snprintf(iname, sizeof iname, "rli%d", (int)(getpid() % 1000000));
    printf("net bring-up / teardown, median of %d runs (ms)\n", runs);
    printf("%5s  %10s %10s  %12s %12s  %8s %8s\n", "hosts", "lib up", "lib down", "iproute2 up",
           "iproute2 down", "ratio up", "ratio dn");
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        double up[100], down[100], iup[100], idown[100];
        int n = sizes[s];
        for (int r = 0; r < runs; r++) {
            hosts_net net;
            double t0 = now_ms();
            if (hosts_up(&net, name, n, 0, err, sizeof err) != 0) {
                fprintf(stderr, "bench_hosts: %s\n", err);
                return 255;
            }
            double t1 = now_ms();
            if (hosts_down(&net, err, sizeof err) != 0) {
                fprintf(stderr, "bench_hosts: %s\n", err);
                return 255;
            }
            double t2 = now_ms();
            up[r] = t1 - t0;
            down[r] = t2 - t1;
            t0 = now_ms();
            if (iproute_up(iname, n) != 0) {
                iproute_down(iname, n);
                fprintf(stderr, "bench_hosts: iproute2 bring-up failed\n");
                return 255;
            }
            t1 = now_ms();
            iproute_down(iname, n);
            t2 = now_ms();
            iup[r] = t1 - t0;
            idown[r] = t2 - t1;
            if (stop) {
                fprintf(stderr, "bench_hosts: interrupted (everything torn down)\n");
                return 130;
            }
        }
        double mu = median(up, runs), md = median(down, runs), iu = median(iup, runs), id = median(idown, runs);
        printf("%5d  %10.1f %10.1f  %12.1f %12.1f  %7.1fx %7.1fx\n", n, mu, md, iu, id, iu / mu, id / md);
    }
    printf("target: 5 hosts up < 300 ms, down < 300 ms\n");
    return 0;
}
