/* fuzz_invariants.c: the trace reader and the invariant checks behind
 * `riftlab check --invariants`. The input is split at NUL bytes into up
 * to eight node traces (n1, n2, ...), each read as JSON lines; then every
 * Raft and chain check runs and the result is built and printed. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checker/invariants_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    inv_run *r = malloc(sizeof *r);
    if (!r)
        return 0;
    inv_run_init(r);
    const char *p = (const char *)data, *end = p + size;
    int64_t starts[2] = {0, 1000000};
    for (int node = 1; node <= 8 && p <= end; node++) {
        const char *nul = memchr(p, 0, (size_t)(end - p));
        const char *stop = nul ? nul : end;
        char name[8];
        snprintf(name, sizeof name, "n%d", node);
        /* odd nodes get incarnation starts, even ones follow on */
        inv_read_trace(r, name, p, (size_t)(stop - p), node % 2 ? starts : NULL, node % 2 ? 2 : 0);
        if (!nul)
            break;
        p = nul + 1;
    }
    inv_check_raft(r);
    inv_check_chain(r);
    inv_result res;
    memset(&res, 0, sizeof res);
    inv_build_result(r, r->nnodes, &res);
    FILE *null = fopen("/dev/null", "w");
    if (null) {
        inv_print_text(null, &res);
        fclose(null);
    }
    inv_result_free(&res);
    inv_run_free(r);
    free(r);
    return 0;
}
