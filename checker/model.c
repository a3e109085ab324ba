/* model.c: the list of models by name and the helpers models share. */
#include <stdlib.h>
#include <string.h>

#include "checker/hash.h"
#include "checker/model.h"

uint32_t model_partition_by_key(const hist_op *op) { return op->key; }
bool model_equal_id(void *ctx, uint64_t a, uint64_t b) { (void)ctx; return a == b; }
uint64_t model_hash_id(void *ctx, uint64_t s) { (void)ctx; return chk_mix64(s); }

static size_t seen_find(const model_seen *s, uint64_t k)
{
    size_t i = chk_mix64(k) & s->mask;
    while (s->slot[i] && s->slot[i] != k)
        i = (i + 1) & s->mask;
    return i;
}

void model_seen_init(model_seen *s, const history *h)
{
    hist_op *ops;
    size_t n;
    char err[8];
    if (history_ops(h, &ops, &n, err, sizeof err)) {
        memset(s, 0, sizeof *s);
        s->all = true;
        return;
    }
    model_seen_init_ops(s, ops, n);
    free(ops);
}

void model_seen_init_ops(model_seen *s, const hist_op *ops, size_t n)
{
    memset(s, 0, sizeof *s);
    for (s->mask = 15; s->mask < n * 2; s->mask = s->mask * 2 + 1)
        ;
    s->slot = calloc(s->mask + 1, sizeof *s->slot);
    if (!s->slot)
        abort();
    for (size_t i = 0; i < n; i++) {
        const hist_op *o = &ops[i];
        uint32_t v;
        if (o->f == HIST_F_READ && o->type == HIST_OK)
            v = o->ret;
        else if (o->f == HIST_F_CAS && o->type != HIST_FAIL)
            v = o->arg;
        else
            continue;
        uint64_t k = (uint64_t)(o->key + 1ULL) << 32 | v;
        s->slot[seen_find(s, k)] = k;
    }
}

bool model_seen_has(const model_seen *s, uint32_t key, uint32_t value)
{
    if (s->all)
        return true;
    uint64_t k = (uint64_t)(key + 1ULL) << 32 | value;
    return s->slot[seen_find(s, k)] == k;
}

void model_seen_free(model_seen *s)
{
    free(s->slot);
    s->slot = NULL;
}

const model *model_find(const char *name)
{
    const model *all[] = {&model_register, &model_cas_register, &model_kv, &model_mutex};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (strcmp(all[i]->name, name) == 0)
            return all[i];
    return NULL;
}
