/* cleanup.c: the in-process registry of what this run made, torn down on
 * every exit path (see cleanup.h). */
#define _GNU_SOURCE
#include "containers/cleanup.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "containers/hosts.h"
#include "containers/netns.h"
#include "containers/registry.h"
#include "containers/supervisor.h"

/* Slots are plain pointers so a signal handler can walk them without
 * locks; the mutex only orders the normal-path writers. A handler that
 * interrupts a writer sees either the old or the new pointer. */
static struct hosts_net *volatile cleanup_nets[CLEANUP_MAX_NETS];
static struct sup_proc *volatile cleanup_procs[CLEANUP_MAX_PROCS];
static pthread_mutex_t cleanup_mu = PTHREAD_MUTEX_INITIALIZER;

static void cleanup_put(void *volatile *slots, int n, void *item, void *match)
{
    pthread_mutex_lock(&cleanup_mu);
    for (int i = 0; i < n && item != NULL; i++) {
        if (slots[i] == item) {                 /* tracked already */
            pthread_mutex_unlock(&cleanup_mu);
            return;
        }
    }
    for (int i = 0; i < n; i++) {
        if (slots[i] == match) {
            slots[i] = item;
            break;
        }
    }
    pthread_mutex_unlock(&cleanup_mu);
}

void cleanup_track_net(struct hosts_net *net)
{
    cleanup_put((void *volatile *)cleanup_nets, CLEANUP_MAX_NETS, net, NULL);
}

void cleanup_untrack_net(struct hosts_net *net)
{
    cleanup_put((void *volatile *)cleanup_nets, CLEANUP_MAX_NETS, NULL, net);
}

void cleanup_track_proc(struct sup_proc *p)
{
    cleanup_put((void *volatile *)cleanup_procs, CLEANUP_MAX_PROCS, p, NULL);
}

void cleanup_untrack_proc(struct sup_proc *p)
{
    cleanup_put((void *volatile *)cleanup_procs, CLEANUP_MAX_PROCS, NULL, p);
}

void cleanup_all(void)
{
    char err[256];
    /* sup_free / hosts_down untrack themselves, so take one item at a time. */
    for (int i = 0; i < CLEANUP_MAX_PROCS; i++) {
        struct sup_proc *p = cleanup_procs[i];
        if (p)
            sup_free(p);
        cleanup_procs[i] = NULL;
    }
    for (int i = 0; i < CLEANUP_MAX_NETS; i++) {
        struct hosts_net *net = cleanup_nets[i];
        if (net)
            hosts_down(net, err, sizeof err);
        cleanup_nets[i] = NULL;
    }
}

/* Async-signal-safe concatenation into a fixed buffer. */
static void cleanup_cat(char *out, size_t cap, const char *a, const char *b, const char *c)
{
    size_t n = 0;
    const char *parts[3] = {a, b, c};
    for (int k = 0; k < 3; k++)
        for (const char *s = parts[k]; s && *s && n + 1 < cap; s++)
            out[n++] = *s;
    out[n] = '\0';
}

void cleanup_on_signal(int sig)
{
    char path[256];
    (void)sig;
    for (int i = 0; i < CLEANUP_MAX_PROCS; i++) {
        struct sup_proc *p = cleanup_procs[i];
        if (p && p->pid > 0 && !p->exited)
            kill(-p->pid, SIGKILL);
    }
    for (int i = 0; i < CLEANUP_MAX_PROCS; i++) {
        struct sup_proc *p = cleanup_procs[i];
        if (p && p->pid > 0 && !p->exited) {
            waitpid(p->pid, NULL, 0);
            p->exited = 1;
        }
        if (p && p->cgroup[0])
            rmdir(p->cgroup);
    }
    for (int i = 0; i < CLEANUP_MAX_NETS; i++) {
        struct hosts_net *net = cleanup_nets[i];
        if (net == NULL)
            continue;
        for (int h = 0; h <= net->nodes && h <= NAMING_MAX_NODES; h++) {
            if (net->nsname[h][0] == '\0')
                continue;
            cleanup_cat(path, sizeof path, NETNS_RUN_DIR "/", net->nsname[h], "");
            umount2(path, MNT_DETACH);
            unlink(path);
        }
        cleanup_cat(path, sizeof path, REGISTRY_DIR "/", net->name, ".run");
        unlink(path);
        cleanup_nets[i] = NULL;
    }
}

static void cleanup_handler(int sig)
{
    cleanup_on_signal(sig);
    /* SA_RESETHAND restored the default action: die of the same signal, so
     * the parent sees the real cause. */
    raise(sig);
}

int cleanup_install(void)
{
    static int installed;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = cleanup_handler;
    sa.sa_flags = SA_RESETHAND;
    sigfillset(&sa.sa_mask);
    if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0 ||
        sigaction(SIGHUP, &sa, NULL) != 0)
        return -1;
    if (!installed && atexit(cleanup_all) != 0)
        return -1;
    installed = 1;
    return 0;
}
