/* model_mutex.c: a lock per key with acquire / release; at most one holder.
 *
 * State: 0 when free, else the holder's process number + 1. A release by a
 * process that does not hold the lock is illegal; so is an acquire of a held
 * lock. An info acquire takes the lock if it is free (or leaves the state as
 * it is: the search can also leave the op out). */
#include <inttypes.h>

#include "checker/model.h"

static void *mutex_ctx_new(const history *h) { return (void *)h; }
static void mutex_ctx_free(void *ctx) { (void)ctx; }
static uint64_t mutex_init(void *ctx) { (void)ctx; return 0; }

static bool mutex_step(void *ctx, uint64_t s, const hist_op *o, uint64_t *next)
{
    (void)ctx;
    uint64_t me = (uint64_t)o->process + 1;
    *next = s;
    if (o->f == HIST_F_ACQUIRE) {
        if (s == 0)
            *next = me;
        return s == 0 || o->type != HIST_OK;
    }
    if (o->f == HIST_F_RELEASE) {
        if (s == me)
            *next = 0;
        return s == me || o->type != HIST_OK;
    }
    return false;
}

static void mutex_describe(void *ctx, uint64_t s, FILE *out)
{
    (void)ctx;
    if (s == 0)
        fputs("free", out);
    else
        fprintf(out, "held by p%" PRId64, (int64_t)(s - 1));
}

static bool mutex_accepts(hist_f f) { return f == HIST_F_ACQUIRE || f == HIST_F_RELEASE; }

const model model_mutex = {
    "mutex", mutex_ctx_new, mutex_ctx_free, mutex_init, mutex_step, model_equal_id, model_hash_id,
    mutex_describe, model_partition_by_key, mutex_accepts, false, true, NULL, NULL, NULL, NULL,
};
