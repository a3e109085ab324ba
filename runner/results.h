/* results.h: verdicts of a run, computed from its run directory alone
 * (history.jsonl, node traces, scenario), so `riftlab report RUNDIR` can
 * rebuild them: the checker's linearizable / sequential / eventual checks,
 * the trace invariants, and for the lease workload the mutex check (no
 * lost update: every successful write of the counter wrote a value no other
 * successful write wrote). Each verdict is compared with the scenario's
 * expectation; the exit code follows DESIGN.md. */
#ifndef RIFTLAB_RESULTS_H
#define RIFTLAB_RESULTS_H

#include <jansson.h>
#include <stdio.h>

#include "invariants.h"
#include "scenario.h"

enum { VERDICT_FALSE = 0, VERDICT_TRUE = 1, VERDICT_UNKNOWN = 2, VERDICT_NOT_RUN = -1 };

typedef struct outcome {
    int valid[SCN_CHECK_COUNT];      /* VERDICT_* */
    int met[SCN_CHECK_COUNT];        /* 1 met, 0 not, 2 unknown, -1 skipped */
    double seconds[SCN_CHECK_COUNT];
    int exit_code;
    json_t *results;                 /* results.json */
    inv_result inv;
} outcome;

/* starts: see invariants.h (NULL: read nodes/starts.json from the run dir). */
int results_compute(const char *dir, const scenario *s, uint64_t seed, outcome *o, char *err,
                    size_t errlen);
int results_write(const char *dir, const scenario *s, const outcome *o);
/* The verdict table (what `riftlab run` ends with). */
void results_print(FILE *f, const scenario *s, const outcome *o);
void outcome_free(outcome *o);

/* Pure helper for the mutex check: counter writes as (value, process) in
 * history order; returns 1 if no value was written twice, 0 otherwise and
 * fills evidence. */
int results_lost_updates(json_t *writes, json_t **evidence);

#endif
