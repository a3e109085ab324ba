/* fuzz_kv_cmd.c: libFuzzer target for the kv log-command decoder and apply:
 * any bytes a corrupted log or peer could hand to kv_apply must decode or be
 * refused, never crash; a decoded command must re-encode to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    kv_cmd c;
    if (kv_cmd_decode(&c, data, size) == 0) {
        uint8_t *out = malloc(size ? size : 1);
        int n = kv_cmd_encode(&c, out, size);
        if (n != (int)size || memcmp(out, data, size) != 0)
            abort();
        free(out);
    }
    kv *k = kv_new();
    kv_reply r;
    kv_apply(k, data, size, &r);
    kv_free(k);
    return 0;
}
