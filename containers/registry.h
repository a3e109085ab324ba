/* registry.h: run records, the on-disk memory that lets `riftlab clean`
 * tell a dead run's leftovers from a live run's resources.
 *
 * One file per run prefix, /run/riftlab/<net>.run (tmpfs, so a reboot,
 * which also drops every namespace, drops the records too), plain text:
 *
 *     owner 4711 123456      pid and start time (ticks) of the owning riftlab;
 *                            "owner 0 0" = made by `riftlab net up`, kept until `net down`
 *     subnet 3               the net's 10.77.3.0/24 (0: no namespaces, loopback run)
 *     nodes 5
 *     proc 4720 123470       processes the supervisor started (pid, start time)
 *
 * The record is written before any resource is made and removed after the
 * last one is gone, all under an flock on /run/riftlab/lock, so a sweeper
 * holding the lock never sees a live run's resources without its record. */
#ifndef RIFTLAB_CONTAINERS_REGISTRY_H
#define RIFTLAB_CONTAINERS_REGISTRY_H

#include <stddef.h>
#include <sys/types.h>

#include "containers/naming.h"

#define REGISTRY_DIR       "/run/riftlab"
#define REGISTRY_MAX_PROCS 256
#define REGISTRY_MAX_BYTES (4 << 20)      /* a record larger than this is not riftlab's */
#define REGISTRY_COMPACT_BYTES (32 << 10) /* add_proc rewrites a record past this size */

typedef struct registry_proc {
    pid_t pid;
    unsigned long long start;
} registry_proc;

typedef struct registry_rec {
    char net[NAMING_NET_MAX + 1];
    registry_proc owner;             /* pid 0: a manual net */
    int subnet;                      /* 0: none */
    int nodes;
    int nprocs;
    registry_proc procs[REGISTRY_MAX_PROCS];
} registry_rec;

/* Pure: text <-> record. parse returns 0 or -1 (a malformed line). It keeps
 * the newest REGISTRY_MAX_PROCS proc lines and ignores a last line that has
 * no newline yet (an append in progress). */
int registry_parse(const char *text, size_t len, registry_rec *rec);
int registry_format(const registry_rec *rec, char *out, size_t cap);

/* Takes the global lock (blocking); returns an fd for registry_unlock, or -1. */
int registry_lock(void);
void registry_unlock(int fd);

/* Files (caller holds the lock). write is atomic (temp file + rename). */
int registry_write(const registry_rec *rec);
int registry_read(const char *net, registry_rec *rec);
int registry_remove(const char *net);
/* Appends a proc line (O_APPEND, one short write, no lock needed); past
 * REGISTRY_COMPACT_BYTES it rewrites the record, under the lock, with only
 * the newest procs. */
int registry_add_proc(const char *net, pid_t pid);
/* Names of every recorded net; returns how many (at most max), -1 on error. */
int registry_list(char (*names)[NAMING_NET_MAX + 1], int max);

/* Owner state: 1 live riftlab process, 0 dead, 2 manual net. */
int registry_owner_state(const registry_rec *rec);

/* The calling process as an owner. */
void registry_self(registry_proc *owner);

#endif
