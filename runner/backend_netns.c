/* backend_netns.c: the realistic backend (root): one network namespace per
 * host from containers/hosts (hub + nodes on a bridge, 10.77.S.0/24), each
 * process started inside its host's namespace (setns in the child before
 * exec). Kernel-level cuts are containers/partition's nftables rules in
 * the receiving node's namespace. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backend.h"

#ifdef RIFTLAB_HAVE_CONTAINERS
#include "containers/hosts.h"
#include "containers/partition.h"
#include "containers/sweep.h"

typedef struct netns_impl {
    hosts_net net;
    partition *part;
    int is_up;
    char addr[BACKEND_MAX_HOSTS][20];
} netns_impl;

int backend_netns_available(void) { return geteuid() == 0; }

static int ns_up(backend *b, int nodes, char *err, size_t errlen)
{
    netns_impl *m = calloc(1, sizeof *m);
    if (!m)
        abort();
    b->impl = m;
    b->nodes = nodes;
    /* A SIGKILLed run cannot clean up after itself: sweep the leftovers of
     * dead runs first (never a live run's), so they neither pile up nor hold
     * the /24 subnets a new net needs. */
    sweep_report swept = {0};
    char serr[256];
    if (sweep_stale(0, NULL, &swept, serr, sizeof serr) < 0)
        fprintf(stderr, "riftlab: warning: sweeping stale runs: %s\n", serr);
    else if (swept.nets > 0)
        fprintf(stderr, "riftlab: removed %d stale net(s) of dead runs (%d processes)\n",
                swept.nets, swept.processes);
    if (hosts_up(&m->net, b->prefix, nodes, 0, err, errlen) < 0)
        return -1;
    m->is_up = 1;
    m->part = partition_new(&m->net);
    if (!m->part) {
        snprintf(err, errlen, "partition controller: out of memory");
        return -1;
    }
    for (int h = 0; h <= nodes && h < BACKEND_MAX_HOSTS; h++)
        naming_addr_text(hosts_addr(&m->net, h), m->addr[h], sizeof m->addr[h]);
    return 0;
}

static void ns_down(backend *b)
{
    netns_impl *m = b->impl;
    if (!m)
        return;
    if (m->part)
        partition_free(m->part);
    if (m->is_up) {
        char err[256];
        if (hosts_down(&m->net, err, sizeof err) < 0)
            fprintf(stderr, "riftlab: netns teardown: %s\n", err);
    }
    free(m);
    b->impl = NULL;
}

static const char *ns_addr(backend *b, int host)
{
    netns_impl *m = b->impl;
    return m->addr[host];
}

static int ns_socket(backend *b, int host, int domain, int type, int protocol)
{
    netns_impl *m = b->impl;
    return hosts_socket(&m->net, host, domain, type | SOCK_CLOEXEC, protocol);
}

static pid_t ns_spawn(backend *b, int host, char *const argv[], const char *log_path,
                      char *err, size_t errlen)
{
    netns_impl *m = b->impl;
    return backend_fork_exec(argv, log_path, m->net.nsfd[host], err, errlen);
}

static int ns_cut(backend *b, int from, int to, int port, char *err, size_t errlen)
{
    netns_impl *m = b->impl;
    partition_set_proxy_port(m->part, from, (uint16_t)port);
    return partition_cut(m->part, from, to, err, errlen);
}

static int ns_heal(backend *b, char *err, size_t errlen)
{
    netns_impl *m = b->impl;
    return m && m->part ? partition_heal(m->part, err, errlen) : 0;
}

#else

int backend_netns_available(void) { return 0; }

static int ns_up(backend *b, int nodes, char *err, size_t errlen)
{
    (void)b, (void)nodes;
    snprintf(err, errlen, "this build has no netns backend (containers/ not linked)");
    return -1;
}
static void ns_down(backend *b) { (void)b; }
static const char *ns_addr(backend *b, int host)
{
    (void)b, (void)host;
    return "0.0.0.0";
}
static int ns_socket(backend *b, int host, int domain, int type, int protocol)
{
    (void)b, (void)host, (void)domain, (void)type, (void)protocol;
    errno = ENOSYS;
    return -1;
}
static pid_t ns_spawn(backend *b, int host, char *const argv[], const char *log_path,
                      char *err, size_t errlen)
{
    (void)b, (void)host, (void)argv, (void)log_path;
    snprintf(err, errlen, "no netns backend");
    return -1;
}
static int ns_cut(backend *b, int from, int to, int port, char *err, size_t errlen)
{
    (void)b, (void)from, (void)to, (void)port;
    snprintf(err, errlen, "nftables cuts are not linked in this build");
    return -1;
}

static int ns_heal(backend *b, char *err, size_t errlen)
{
    (void)b, (void)err, (void)errlen;
    return 0;
}
#endif

const backend_ops backend_netns_ops = {
    .name = "netns",
    .up = ns_up,
    .down = ns_down,
    .addr = ns_addr,
    .socket = ns_socket,
    .spawn = ns_spawn,
    .cut = ns_cut,
    .heal = ns_heal,
    .slow = NULL,
};
