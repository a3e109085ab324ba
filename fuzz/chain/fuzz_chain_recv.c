/* fuzz_chain_recv.c: feeds arbitrary bodies to a chain member.
 *
 * Input: byte 0 picks the message type (0x21 + byte % 6), byte 1 the
 * sender (the predecessor, the successor or a stranger), the rest is the
 * body. A node in the middle of a 3-node chain receives it after a few
 * writes of its own log, so UPDATE/ACK/SNAP paths all run. Nothing may
 * crash, leak or read out of bounds. */
#include <stddef.h>
#include <stdint.h>

#include "chain.h"
#include "kv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    chain_options o = { .id = 2, .log_retain = 2 };
    chain_node *c = chain_new(&o);
    chain_config cfg = { .epoch = 1, .n = 3, .members = { 1, 2, 3 } };
    chain_set_config(c, &cfg);
    uint8_t type = (uint8_t)(CHAIN_MSG_UPDATE + data[0] % 6);
    uint16_t from = (uint16_t)(1 + data[1] % 4);
    chain_recv(c, from, type, data + 2, size - 2);
    chain_tick(c);
    chain_request r = { .id = 1, .kind = CHAIN_REQ_GET, .mode = CHAIN_READ_CRAQ,
                        .data = (const uint8_t *)"k", .len = 1 };
    chain_client(c, &r);
    chain_actions_clear(c);
    chain_free(c);
    return 0;
}
