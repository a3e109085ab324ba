/* eventual.c: eventual consistency (stub). */
#include "checker/checks.h"

json_t *eventual_check(const history *h, const hist_op *ops, size_t nops)
{
    (void)h; (void)ops; (void)nops;
    return json_pack("{s:s}", "valid", "unknown");
}
