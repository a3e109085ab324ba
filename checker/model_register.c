/* model_register.c: the register family, one value per key.
 *
 *   register      read / write
 *   cas-register  read / write / cas   (the Porcupine etcd model)
 *
 * The state is the id of the current value in the history's value table
 * (canonical by construction); every key starts at the history's initial
 * value (null). Both models partition by key: each key is its own register. */
#include "checker/model.h"


static void *reg_ctx_new(const history *h) { return (void *)h; }
static void reg_ctx_free(void *ctx) { (void)ctx; }
static uint64_t reg_init(void *ctx) { return ((const history *)ctx)->initial; }

static bool reg_step(void *ctx, uint64_t s, const hist_op *o, uint64_t *next)
{
    (void)ctx;
    *next = s;
    switch (o->f) {
    case HIST_F_READ:
        return o->type != HIST_OK || o->ret == s;
    case HIST_F_WRITE:
        *next = o->arg;
        return true;
    case HIST_F_CAS:
        if (s == o->arg)
            *next = o->arg2;
        return o->type != HIST_OK || s == o->arg;
    default:
        return false;
    }
}

/* A register only changes by resets: a read of v is reachable from v alone. */
static bool reg_reach(void *ctx, uint64_t s, const hist_op *r)
{
    (void)ctx;
    return s == r->ret;
}

static bool reg_reset(void *ctx, const hist_op *w, uint64_t *after)
{
    (void)ctx;
    *after = w->f == HIST_F_WRITE ? w->arg : w->arg2;
    return w->f == HIST_F_WRITE || w->f == HIST_F_CAS;
}

/* A register has no appends: r must see what w read or wrote. */
static bool reg_follows(void *ctx, const hist_op *w, const hist_op *r)
{
    uint64_t after = w->ret;
    return w->f == HIST_F_READ ? reg_reach(ctx, after, r) : reg_reset(ctx, w, &after) && reg_reach(ctx, after, r);
}

static void reg_describe(void *ctx, uint64_t s, FILE *out)
{
    fputs(((const history *)ctx)->vals[s].text, out);
}

static bool reg_accepts(hist_f f) { return f == HIST_F_READ || f == HIST_F_WRITE; }
static bool cas_accepts(hist_f f) { return f == HIST_F_READ || f == HIST_F_WRITE || f == HIST_F_CAS; }

const model model_register = {
    "register", reg_ctx_new, reg_ctx_free, reg_init, reg_step, model_equal_id, model_hash_id,
    reg_describe, model_partition_by_key, reg_accepts, true, false, reg_reach, reg_reset, reg_follows, NULL,
};

const model model_cas_register = {
    "cas-register", reg_ctx_new, reg_ctx_free, reg_init, reg_step, model_equal_id, model_hash_id,
    reg_describe, model_partition_by_key, cas_accepts, true, false, reg_reach, reg_reset, reg_follows, NULL,
};
