/* node_byz.h: raft-node's Byzantine layer (--byzantine MODE).
 *
 * riftlab's Raft core stays honest; a Byzantine node is this layer wrapped
 * around it in the binary. It sees every decoded incoming message before
 * the core (node_byz_recv) and every message the core wants to send
 * (node_byz_send), and may answer in the core's place, feed the core a
 * rewritten message, rewrite an outgoing one, or drop it. Modes:
 *
 *   double-vote     grants every VOTE and PREVOTE request, in every term,
 *                   without asking the core (which still sees the request,
 *                   so it follows terms); the core's own vote answers are
 *                   dropped.
 *   term-inflation  every outgoing message announces its term plus
 *                   NODE_BYZ_TERM_BOOST: receivers adopt the absurd term,
 *                   leaders step down, elections restart.
 *   lie-append      answers every APPEND with success and the match index
 *                   the leader expects (prev_index + entries) while the core
 *                   gets only an empty heartbeat: the entries are never
 *                   stored. The core's own append answers are dropped.
 *   equivocate      as leader, sends followers with an even id altered
 *                   copies of SET and CAS entries (another value at the same
 *                   index and term); odd ids get the real entries.
 *
 * The functions below do no I/O, so tests drive them with hand-made
 * messages (tests/byzantine/). */
#ifndef RIFTLAB_NODE_BYZ_H
#define RIFTLAB_NODE_BYZ_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "nodes/raft/raft.h"

enum node_byz_mode {
    NODE_BYZ_NONE = 0,
    NODE_BYZ_DOUBLE_VOTE,
    NODE_BYZ_TERM_INFLATION,
    NODE_BYZ_LIE_APPEND,
    NODE_BYZ_EQUIVOCATE,
};

#define NODE_BYZ_TERM_BOOST 1000000u
/* A numeric value an equivocating leader alters gets this added. */
#define NODE_BYZ_VALUE_SHIFT 1000000

/* Mode by name, or -1 for an unknown name. */
int node_byz_parse(const char *name);
/* "double-vote", ...; NULL for NODE_BYZ_NONE. */
const char *node_byz_name(int mode);
/* Every mode's name, comma separated (for --help and errors). */
#define NODE_BYZ_MODES "double-vote, term-inflation, lie-append, equivocate"

typedef struct node_byz {
    int mode;                  /* enum node_byz_mode */
    raft_id self;
    raft_msg reply;            /* the answer node_byz_recv built (NODE_BYZ_REPLY) */
    raft_entry *entries;       /* equivocate: the altered copies of one APPEND */
    size_t entries_cap;
    buf data;                  /* ... and their payloads */
    uint64_t actions;          /* messages answered, rewritten or dropped */
} node_byz;

void node_byz_init(node_byz *b, int mode, raft_id self);
void node_byz_free(node_byz *b);

/* What to do with an incoming message (bits). */
#define NODE_BYZ_PASS  1u      /* give *core to the core */
#define NODE_BYZ_REPLY 2u      /* send b->reply (it bypasses node_byz_send) */

/* m: a decoded incoming message. Fills *core (m itself or a rewritten
 * copy whose pointers still refer to m's) and maybe b->reply. */
unsigned node_byz_recv(node_byz *b, const raft_msg *m, raft_msg *core);

/* m: a message the core wants sent. Returns 1 with *out to send instead
 * (equal to *m or rewritten; altered entries live in b until the next
 * call), or 0 to drop it. */
int node_byz_send(node_byz *b, const raft_msg *m, raft_msg *out);

/* Equivocate: the altered form of one entry payload (a kv command) into
 * out. Returns 1 if it was altered (SET / CAS: the new value changed), 0 if
 * it is sent as is (other commands, undecodable bytes). */
int node_byz_alter(const uint8_t *cmd, size_t len, buf *out);

#endif
