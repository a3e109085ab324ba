/* sweep.c: remove dead runs' namespaces, processes, cgroups and records
 * (see sweep.h). */
#define _GNU_SOURCE
#include "containers/sweep.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "containers/cgroup.h"
#include "containers/hosts.h"
#include "containers/naming.h"
#include "containers/netns.h"
#include "containers/procstat.h"
#include "containers/registry.h"

#define SWEEP_MAX_NETS 512

static void sweep_log(FILE *log, const char *fmt, const char *a, const char *b)
{
    if (log) {
        fprintf(log, fmt, a, b);
        fputc('\n', log);
    }
}

/* Names of nets with namespaces under /run/netns (deduplicated). */
static int sweep_ns_nets(char (*nets)[NAMING_NET_MAX + 1], int max)
{
    DIR *d = opendir(NETNS_RUN_DIR);
    struct dirent *e;
    int n = 0;
    if (d == NULL)
        return 0;
    while ((e = readdir(d)) != NULL) {
        char net[NAMING_NET_MAX + 1];
        int host, dup = 0;
        if (naming_ns_parse(e->d_name, net, sizeof net, &host) != 0)
            continue;
        for (int i = 0; i < n && !dup; i++)
            dup = strcmp(nets[i], net) == 0;
        if (!dup && n < max)
            snprintf(nets[n++], sizeof nets[0], "%s", net);
    }
    closedir(d);
    return n;
}

/* Removes every cgroup leaf "<net>-*"; with only_empty, only those with no
 * live process. Returns how many were removed. */
static int sweep_cgroups(const char *net, int only_empty, FILE *log)
{
    static const enum cgroup_kind kinds[] = {CGROUP_V1, CGROUP_V2};
    size_t len = strlen(net);
    int removed = 0;
    for (int k = 0; k < 2; k++) {
        const char *parent = cgroup_parent(kinds[k]);
        DIR *d = opendir(parent);
        struct dirent *e;
        if (d == NULL)
            continue;
        while ((e = readdir(d)) != NULL) {
            char path[512], procs[600];
            if (strncmp(e->d_name, net, len) != 0 || e->d_name[len] != '-')
                continue;
            snprintf(path, sizeof path, "%s/%s", parent, e->d_name);
            if (only_empty) {
                snprintf(procs, sizeof procs, "%s/cgroup.procs", path);
                FILE *f = fopen(procs, "re");
                int c = f ? fgetc(f) : EOF;
                if (f)
                    fclose(f);
                if (c != EOF)
                    continue;
            }
            if (cgroup_remove(path) == 0) {
                removed++;
                sweep_log(log, "removed cgroup %s%s", path, "");
            }
        }
        closedir(d);
    }
    return removed;
}

/* Cgroups of runs without a record (e.g. a loopback run that made none):
 * removed only once empty, since their owner may still be running. */
static int sweep_orphan_cgroups(FILE *log)
{
    static const enum cgroup_kind kinds[] = {CGROUP_V1, CGROUP_V2};
    int removed = 0;
    for (int k = 0; k < 2; k++) {
        char nets[SWEEP_MAX_NETS][NAMING_NET_MAX + 1];
        int n = 0;
        DIR *d = opendir(cgroup_parent(kinds[k]));
        struct dirent *e;
        while (d && (e = readdir(d)) != NULL && n < SWEEP_MAX_NETS) {
            char err[8];
            const char *dash = strchr(e->d_name, '-');
            size_t len = dash ? (size_t)(dash - e->d_name) : 0;
            if (len == 0 || len > NAMING_NET_MAX)
                continue;
            memcpy(nets[n], e->d_name, len);
            nets[n][len] = '\0';
            if (naming_net_valid(nets[n], err, sizeof err) == 0)
                n++;
        }
        if (d)
            closedir(d);
        for (int i = 0; i < n; i++) {
            registry_rec rec;
            if (registry_read(nets[i], &rec) != 0)
                removed += sweep_cgroups(nets[i], 1, log);
        }
    }
    return removed;
}

/* The sweep of one net; the caller holds the registry lock. */
static int sweep_net_locked(const char *name, FILE *log, sweep_report *rep, int *found, char *err,
                            size_t errlen)
{
    registry_rec rec;
    int rc = 0, any = 0;
    if (registry_read(name, &rec) == 0) {
        any = 1;
        for (int i = 0; i < rec.nprocs; i++) {
            /* Only the very process riftlab started (pid reuse), and its group. */
            if (procstat_alive(rec.procs[i].pid, rec.procs[i].start)) {
                kill(-rec.procs[i].pid, SIGKILL);
                kill(rec.procs[i].pid, SIGKILL);
                rep->processes++;
            }
        }
    }
    DIR *d = opendir(NETNS_RUN_DIR);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        char net[NAMING_NET_MAX + 1];
        int host;
        if (naming_ns_parse(e->d_name, net, sizeof net, &host) != 0 || strcmp(net, name) != 0)
            continue;
        any = 1;
        rep->processes += hosts_kill_ns_procs((unsigned long)netns_inode(e->d_name));
        if (netns_remove(e->d_name) == 0) {
            rep->namespaces++;
            sweep_log(log, "removed namespace %s%s", e->d_name, "");
        } else {
            snprintf(err, errlen, "remove namespace %s: %s", e->d_name, strerror(errno));
            rc = -1;
        }
    }
    if (d)
        closedir(d);
    int cg = sweep_cgroups(name, 0, log);
    rep->cgroups += cg;
    any |= cg > 0;
    if (rc == 0)
        registry_remove(name);
    if (any)
        rep->nets++;
    if (found)
        *found = any;
    return rc;
}

int sweep_net(const char *name, FILE *log, sweep_report *rep, int *found, char *err, size_t errlen)
{
    int lock = registry_lock();
    if (lock < 0) {
        snprintf(err, errlen, "lock %s: %s", REGISTRY_DIR, strerror(errno));
        return -1;
    }
    int rc = sweep_net_locked(name, log, rep, found, err, errlen);
    rep->cgroups += sweep_orphan_cgroups(log);
    registry_unlock(lock);
    return rc;
}

int sweep_stale(int include_manual, FILE *log, sweep_report *rep, char *err, size_t errlen)
{
    char names[SWEEP_MAX_NETS][NAMING_NET_MAX + 1];
    char nsnets[SWEEP_MAX_NETS][NAMING_NET_MAX + 1];
    registry_rec rec;
    int rc = 0;
    memset(rep, 0, sizeof *rep);
    int lock = registry_lock();
    if (lock < 0) {
        snprintf(err, errlen, "lock %s: %s", REGISTRY_DIR, strerror(errno));
        return -1;
    }
    int n = registry_list(names, SWEEP_MAX_NETS);
    for (int i = 0; i < n; i++) {
        /* A record that cannot be read was not written by a live riftlab
         * (writes are atomic renames), so it counts as dead. */
        int state = registry_read(names[i], &rec) == 0 ? registry_owner_state(&rec) : 0;
        char pid[24];
        if (state == 1 || (state == 2 && !include_manual)) {
            snprintf(pid, sizeof pid, "%d", (int)rec.owner.pid);
            sweep_log(log, state == 1 ? "kept %s (riftlab pid %s is running)"
                                      : "kept %s (made by `riftlab net up`%s; use --all or `riftlab net down`)",
                      names[i], state == 1 ? pid : "");
            rep->skipped++;
            continue;
        }
        if (sweep_net_locked(names[i], log, rep, NULL, err, errlen) != 0)
            rc = -1;
        else
            sweep_log(log, "swept net %s%s", names[i], state == 2 ? " (manual)" : " (owner dead)");
    }
    /* Namespaces named like riftlab's whose record is gone. */
    int m = sweep_ns_nets(nsnets, SWEEP_MAX_NETS);
    for (int i = 0; i < m; i++) {
        if (registry_read(nsnets[i], &rec) == 0)
            continue;
        if (sweep_net_locked(nsnets[i], log, rep, NULL, err, errlen) != 0)
            rc = -1;
        else
            sweep_log(log, "swept net %s%s", nsnets[i], " (no run record)");
    }
    rep->cgroups += sweep_orphan_cgroups(log);
    registry_unlock(lock);
    return rc;
}
