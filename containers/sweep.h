/* sweep.h: find and remove what riftlab runs left behind, and only that.
 *
 * riftlab's resources are recognised by name (naming.h) and owned through
 * run records (registry.h). A net is swept when its record's owner is dead
 * (a SIGKILLed run), when its namespaces have no record at all (a record
 * lost with /run), or on request (`net down`, `clean --all` for nets made by
 * `riftlab net up`). A net whose owner is alive is never touched. Sweeping a
 * net SIGKILLs its recorded processes (pid + start time must match) and
 * every process living in its namespaces, removes its namespaces (and with
 * them its veths, bridge and nft tables), its cgroups and its record. */
#ifndef RIFTLAB_CONTAINERS_SWEEP_H
#define RIFTLAB_CONTAINERS_SWEEP_H

#include <stddef.h>
#include <stdio.h>

typedef struct sweep_report {
    int nets;          /* nets removed */
    int namespaces;
    int processes;     /* processes signalled */
    int cgroups;
    int skipped;       /* nets left alone (live owner, or manual without --all) */
} sweep_report;

/* Sweeps dead runs' leftovers (and manual nets too if include_manual).
 * Writes one line per action to log (may be NULL). 0, or -1 with a reason. */
int sweep_stale(int include_manual, FILE *log, sweep_report *rep, char *err, size_t errlen);

/* Removes net `name` whatever its owner (the caller checked). 0, or -1 if
 * something could not be removed; *found = 0 if nothing of it existed. */
int sweep_net(const char *name, FILE *log, sweep_report *rep, int *found, char *err, size_t errlen);

#endif
