/* search.h: the two searches over one history (internal to the checker).
 *
 * Both take the ops to consider as indices into the history's op array,
 * already filtered: fail ops and info reads dropped (they constrain
 * nothing), in invocation order. Both are exact: a `false` is a proof (the
 * whole space was explored), a `true` comes with the order found, and
 * running out of budget gives `unknown`, never a guess. */
#ifndef RIFTLAB_CHECKER_SEARCH_H
#define RIFTLAB_CHECKER_SEARCH_H

#include <stddef.h>
#include <stdint.h>

#include "checker/history.h"
#include "checker/model.h"

enum { SEARCH_FALSE = 0, SEARCH_TRUE = 1, SEARCH_UNKNOWN = 2 };

typedef struct search_budget {
    uint64_t max_steps;       /* 0: no limit */
    double deadline;          /* absolute monotonic seconds; 0: none */
    size_t memo_bytes;        /* memo memory limit */
} search_budget;

typedef struct search_result {
    int verdict;
    uint64_t steps;
    /* true: the full order; false: the longest linearizable prefix found. */
    uint32_t *order;
    size_t norder;
    /* false (linearizability): the op whose completion could not be passed
     * and the ops that were candidates there (none of them fit). */
    uint32_t stuck;
    uint32_t *window;
    size_t nwindow;
    const char *reason;       /* unknown: why */
} search_result;

void search_result_free(search_result *r);
double search_now(void);

int lin_search(const history *h, const hist_op *ops, const uint32_t *idx, size_t n, const model *m,
               void *ctx, const search_budget *b, search_result *out);

/* Sequential consistency over ops idx[0..n) (one key, or all keys at once:
 * each op's state is the one of its partition). */
int seq_search(const history *h, const hist_op *ops, const uint32_t *idx, size_t n, const model *m,
               void *ctx, const search_budget *b, search_result *out);

#endif
