/* model.c: the list of models by name and the helpers models share. */
#include <string.h>

#include "checker/hash.h"
#include "checker/model.h"

uint32_t model_partition_by_key(const hist_op *op) { return op->key; }
bool model_equal_id(void *ctx, uint64_t a, uint64_t b) { (void)ctx; return a == b; }
uint64_t model_hash_id(void *ctx, uint64_t s) { (void)ctx; return chk_mix64(s); }

const model *model_find(const char *name)
{
    const model *all[] = {&model_register, &model_cas_register, &model_kv, &model_mutex};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (strcmp(all[i]->name, name) == 0)
            return all[i];
    return NULL;
}
