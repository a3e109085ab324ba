/* invariants.h: white-box checks over the nodes' trace files
 * (nodes/n<i>.trace.jsonl), and the role timeline the report draws.
 *
 * Raft: at most one leader per term; no two nodes commit or apply different
 * entries (by hash) at one index. Chain: every replica applies updates with
 * the same hash at the same index. A trace file holds every incarnation of
 * its node (a restart appends), each with times relative to its own start;
 * the run's start times of incarnations are passed in so roles can be
 * placed on the run's timeline. */
#ifndef RIFTLAB_INVARIANTS_H
#define RIFTLAB_INVARIANTS_H

#include <jansson.h>
#include <stdint.h>

/* A role interval on the run's timeline: node was `role` in `term` from t0. */
typedef struct inv_role {
    int node;                    /* 0-based */
    char role[12];
    uint64_t term;
    int64_t t0;                  /* ns since run start (-1 if unknown) */
} inv_role;

typedef struct inv_result {
    int valid;                   /* 1 true, 0 false, 2 unknown (no traces) */
    json_t *detail;              /* {"valid":..., "leaders_per_term":..., "violations":[...]} */
    inv_role *roles;
    size_t nroles;
} inv_result;

/* starts[i][k]: run time (ns) when node i's incarnation k started
 * (nstarts[i] of them); NULL: unknown (roles get t0 from the trace times). */
void invariants_check(const char *run_dir, int nodes, int64_t starts[][16], const int *nstarts,
                      inv_result *out);
void invariants_free(inv_result *r);

#endif
