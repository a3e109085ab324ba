/* invariants.h: the runner's entry to the trace invariants. The checks
 * themselves live in the checker (checker/invariants.h: inv_check_run,
 * the inv_result object and the inv_role timeline the report draws); this
 * adapter keeps the runner's call sites and never fails a run: a directory
 * without traces gives an unknown verdict with the reason. */
#ifndef RIFTLAB_INVARIANTS_H
#define RIFTLAB_INVARIANTS_H

#include <stdint.h>

#include "checker/invariants.h"

/* Checks run_dir's traces. starts[i][k]: run time (ns) when node n<i+1>'s
 * incarnation k started (nstarts[i] of them); NULL: read from
 * run_dir/nodes/starts.json. Roles of nodes outside n1..n<nodes> are
 * dropped from out->roles. */
void invariants_check(const char *run_dir, int nodes, int64_t starts[][16], const int *nstarts,
                      inv_result *out);
void invariants_free(inv_result *r);

#endif
