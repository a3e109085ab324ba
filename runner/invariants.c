/* invariants.c: the runner's adapter to the checker's trace invariants
 * (see invariants.h). */
#define _GNU_SOURCE
#include "invariants.h"

#include <string.h>

void invariants_check(const char *run_dir, int nodes, int64_t starts[][16], const int *nstarts,
                      inv_result *out)
{
    char err[512];
    if (inv_check_run_starts(run_dir, nodes, (const int64_t(*)[16])starts, nstarts, out, err,
                             sizeof err) < 0) {
        out->valid = 2;
        out->detail = json_pack("{s:s,s:s}", "valid", "unknown", "why", err);
        return;
    }
    size_t k = 0;
    for (size_t i = 0; i < out->nroles; i++)
        if (out->roles[i].node >= 0 && out->roles[i].node < nodes)
            out->roles[k++] = out->roles[i];
    out->nroles = k;
}

void invariants_free(inv_result *r) { inv_result_free(r); }
