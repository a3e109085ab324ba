/* ctrl_sm.h: the chain configuration as a replicated state machine.
 *
 * The control plane's Raft log carries commands that change the chain's
 * configuration; every control node applies them in log order to a
 * ctrl_state, so all agree on (epoch, ordered members). A command that
 * changes the membership increments the epoch:
 *   ADD id addr client   append id as the new tail (ignored if a member)
 *   REMOVE id            remove id wherever it is (ignored if not a member)
 * The survivors keep their order, which is what chain replication's
 * reconfiguration rules rely on (see nodes/chain/chain.c).
 *
 * Encoding (big-endian; strings are u8 length + bytes, at most 63):
 *   command  op u8, id u16 [, addr str, client str]   (ADD carries addresses)
 *   state    epoch u64, n u16, n x { id u16, addr str, client str }
 * The state encoding is also the body of the CONFIG message that tells
 * chain nodes and clients about a new configuration. */
#ifndef RIFTLAB_CTRL_SM_H
#define RIFTLAB_CTRL_SM_H

#include <stddef.h>
#include <stdint.h>

#include "chain.h"
#include "common/buf.h"

#define CTRL_ADDR_MAX 64   /* bytes including the NUL */

typedef struct ctrl_member {
    uint16_t id;
    char addr[CTRL_ADDR_MAX];    /* node-to-node UDP address host:port */
    char client[CTRL_ADDR_MAX];  /* RESP client address host:port (for redirects) */
} ctrl_member;

typedef struct ctrl_state {
    uint64_t epoch;
    uint16_t n;
    ctrl_member m[CHAIN_MAX_MEMBERS];   /* head first */
} ctrl_state;

enum ctrl_cmd_op { CTRL_CMD_ADD = 1, CTRL_CMD_REMOVE = 2 };

void ctrl_cmd_add(buf *b, uint16_t id, const char *addr, const char *client);
void ctrl_cmd_remove(buf *b, uint16_t id);
/* Returns 1 if the state changed (new epoch), 0 if not, -1 if malformed. */
int ctrl_state_apply(ctrl_state *s, const uint8_t *cmd, size_t len);

void ctrl_state_encode(const ctrl_state *s, buf *b);
/* 0, or -1 if malformed (s is then unspecified). */
int ctrl_state_decode(ctrl_state *s, const uint8_t *in, size_t len);
void ctrl_state_chain(const ctrl_state *s, chain_config *cfg);
const ctrl_member *ctrl_state_find(const ctrl_state *s, uint16_t id);

#endif
