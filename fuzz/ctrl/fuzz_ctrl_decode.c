/* fuzz_ctrl_decode.c: arbitrary bytes as a configuration (CONFIG body), a
 * configuration command, a heartbeat and a heartbeat ack. A decoded
 * configuration must encode back to the same bytes. */
#include <stdlib.h>
#include <string.h>

#include "ctrl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ctrl_state s;
    if (ctrl_state_decode(&s, data, size) == 0) {
        buf b;
        buf_init(&b);
        ctrl_state_encode(&s, &b);
        if (buf_size(&b) != size || memcmp(buf_ptr(&b), data, size) != 0)
            abort();
        buf_free(&b);
        ctrl_state_apply(&s, data, size);
    }
    memset(&s, 0, sizeof s);
    ctrl_state_apply(&s, data, size);
    ctrl_heartbeat h;
    ctrl_heartbeat_decode(&h, data, size);
    uint64_t e, t;
    ctrl_hb_ack_decode(data, size, &e, &t);
    return 0;
}
