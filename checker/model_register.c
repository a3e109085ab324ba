/* model_register.c: the register family, one value per key.
 *
 *   register      read / write
 *   cas-register  read / write / cas   (the Porcupine etcd model)
 *
 * The state is the id of the current value in the history's value table
 * (canonical by construction); every key starts at the history's initial
 * value (null). Both models partition by key: each key is its own register.
 * A written value that no read returns and no cas expects becomes REG_DEAD
 * (model.h, model_seen): timed-out writes of distinct values then make one
 * state, not one each. */
#include <stdlib.h>

#include "checker/model.h"

#define REG_DEAD ((uint64_t)UINT32_MAX + 1) /* not a value id */

typedef struct reg_ctx {
    const history *h;
    model_seen seen;
} reg_ctx;

static void *reg_ctx_new(const history *h)
{
    reg_ctx *c = calloc(1, sizeof *c);
    if (!c)
        abort();
    c->h = h;
    model_seen_init(&c->seen, h);
    return c;
}

static void reg_ctx_free(void *ctx)
{
    reg_ctx *c = ctx;
    model_seen_free(&c->seen);
    free(c);
}

static uint64_t reg_init(void *ctx) { return ((const reg_ctx *)ctx)->h->initial; }

/* The state after writing v to key. */
static uint64_t reg_canon(const reg_ctx *c, uint32_t key, uint32_t v)
{
    return model_seen_has(&c->seen, key, v) ? v : REG_DEAD;
}

static bool reg_step(void *ctx, uint64_t s, const hist_op *o, uint64_t *next)
{
    const reg_ctx *c = ctx;
    *next = s;
    switch (o->f) {
    case HIST_F_READ:
        return o->type != HIST_OK || o->ret == s;
    case HIST_F_WRITE:
        *next = reg_canon(c, o->key, o->arg);
        return true;
    case HIST_F_CAS:
        if (s == o->arg)
            *next = reg_canon(c, o->key, o->arg2);
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
    *after = reg_canon(ctx, w->key, w->f == HIST_F_WRITE ? w->arg : w->arg2);
    return w->f == HIST_F_WRITE || w->f == HIST_F_CAS;
}

/* A write of a value nobody sees leaves REG_DEAD from any state. */
static bool reg_kills(void *ctx, const hist_op *o)
{
    return o->f == HIST_F_WRITE && reg_canon(ctx, o->key, o->arg) == REG_DEAD;
}

/* A register has no appends: r must see what w read or wrote. */
static bool reg_follows(void *ctx, const hist_op *w, const hist_op *r)
{
    uint64_t after = w->ret;
    return w->f == HIST_F_READ ? reg_reach(ctx, after, r) : reg_reset(ctx, w, &after) && reg_reach(ctx, after, r);
}

static void reg_describe(void *ctx, uint64_t s, FILE *out)
{
    fputs(s == REG_DEAD ? "(a value no read sees)" : ((const reg_ctx *)ctx)->h->vals[s].text, out);
}

static bool reg_accepts(hist_f f) { return f == HIST_F_READ || f == HIST_F_WRITE; }
static bool cas_accepts(hist_f f) { return f == HIST_F_READ || f == HIST_F_WRITE || f == HIST_F_CAS; }

const model model_register = {
    "register", reg_ctx_new, reg_ctx_free, reg_init, reg_step, model_equal_id, model_hash_id,
    reg_describe, model_partition_by_key, reg_accepts, true, false, reg_reach, reg_reset, reg_follows, reg_kills,
};

const model model_cas_register = {
    "cas-register", reg_ctx_new, reg_ctx_free, reg_init, reg_step, model_equal_id, model_hash_id,
    reg_describe, model_partition_by_key, cas_accepts, true, false, reg_reach, reg_reset, reg_follows, reg_kills,
};
