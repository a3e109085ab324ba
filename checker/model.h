/* model.h: a sequential specification the searches check a history against.
 *
 * A model is a table of functions, so a new model is one new file. States
 * are 64-bit handles and must be canonical: two handles are equal exactly
 * when the states are (a model whose states are large, like kv's appended
 * strings, interns them in its context, hashing and comparing the content on
 * collision). That is what lets the memo of the searches store and compare
 * a state as one word. `equal` and `hash` exist for callers that want the
 * model's own view; for every model here equal is `a == b`.
 *
 * step() is only given ops of the history the context was made from (a
 * model may learn from it, as kv does which strings reads can see), and
 * sees only ops that took effect or may have: `ok` ops and `info` ops
 * (fail ops are dropped before a search starts). For an info op the result
 * is unknown, so step applies the op without checking a return value (a cas
 * writes its new value if the expected one is present, else changes nothing). */
#ifndef RIFTLAB_CHECKER_MODEL_H
#define RIFTLAB_CHECKER_MODEL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "checker/history.h"

typedef struct model {
    const char *name;
    void *(*ctx_new)(const history *h);   /* per-check context (may return h itself) */
    void (*ctx_free)(void *ctx);
    uint64_t (*init)(void *ctx);          /* the state of every partition at the start */
    /* Legal op in state? Then *next is the state after it. */
    bool (*step)(void *ctx, uint64_t state, const hist_op *op, uint64_t *next);
    bool (*equal)(void *ctx, uint64_t a, uint64_t b);
    uint64_t (*hash)(void *ctx, uint64_t state);
    void (*describe)(void *ctx, uint64_t state, FILE *out);
    /* Independent part of the state an op touches (P-compositionality). */
    uint32_t (*partition)(const hist_op *op);
    bool (*accepts)(hist_f f);            /* ops this model can judge */
    /* Register semantics (read/write/cas/delete on one value): an info op
     * that took effect only matters if the very next op observes the value
     * it left, so the search may linearize it only together with such an
     * op (linear.c explains why this is exact; partitions with appends are
     * excluded there). */
    bool info_needs_observer;
    /* step() looks at op->process (a mutex's holder): ops from different
     * processes are then never interchangeable. */
    bool step_uses_process;
    /* Optional (NULL: no such pruning), for the sequential search's dead-read
     * pruning (sequential.c). reach: could state s turn into one in which
     * the ok read r is legal using only ops that extend a state without
     * resetting it (appends)? It may answer true wrongly (that only prunes
     * less) but never false wrongly. reset: if op w, when it takes effect,
     * leaves a state that does not depend on the one before (write, delete,
     * cas), that state in *after and true; else false (reads, appends). */
    bool (*reach)(void *ctx, uint64_t s, const hist_op *r);
    bool (*reset)(void *ctx, const hist_op *w, uint64_t *after);
    /* follows: could the ok read r be legal after the ok op w (a read, a
     * reset or an append of the same partition) with only appends, by any
     * process, in between? The same one-sided exactness as reach. */
    bool (*follows)(void *ctx, const hist_op *w, const hist_op *r);
    /* Optional: does op o leave, from every state, a state that no ok read
     * or cas can see and that is the same whatever it came from (kv: an
     * append or put whose string no read of its key contains)? Exactness:
     * a `true` must be certain. Lets the sequential search apply such ops
     * at once when the state is already that one (sequential.c). */
    bool (*kills)(void *ctx, const hist_op *o);
} model;

extern const model model_register;
extern const model model_cas_register;
extern const model model_kv;
extern const model model_mutex;

/* By name ("register", "cas-register", "kv", "mutex"); NULL if unknown. */
const model *model_find(const char *name);

/* Values a history can observe, per key: what its ok reads returned and
 * what its cas ops (ok or info) expect. A value outside this set, once
 * written, can never be told apart from another such value by any op of
 * the history: a read of it or a cas expecting it is not there, and every
 * other op treats the two alike. So models map such values to one dead
 * state, and the searches see one state where each unseen write would make
 * its own (sequential.c: pooled info writes of distinct values). */
typedef struct model_seen {
    uint64_t *slot;   /* (key + 1) << 32 | value; 0: empty */
    size_t mask;
    bool all;         /* the ops could not be read: treat everything as seen */
} model_seen;
void model_seen_init(model_seen *s, const history *h);
/* The same from the history's ops, for a model that already has them. */
void model_seen_init_ops(model_seen *s, const hist_op *ops, size_t n);
bool model_seen_has(const model_seen *s, uint32_t key, uint32_t value);
void model_seen_free(model_seen *s);

/* Shared helpers for models whose states are value ids. */
uint32_t model_partition_by_key(const hist_op *op);
bool model_equal_id(void *ctx, uint64_t a, uint64_t b);
uint64_t model_hash_id(void *ctx, uint64_t s);

#endif
