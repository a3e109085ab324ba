/* ctrl.h: one node of the chain's control plane, as a pure state machine.
 *
 * A control node runs the Raft core (nodes/raft) with the chain
 * configuration (ctrl_sm.h) as its state machine; three of them form the
 * control plane. Chain nodes send HEARTBEATs to every control node; the
 * Raft leader
 *   - removes a member whose heartbeats stopped for detect_ns (it proposes
 *     REMOVE; the new epoch commits through Raft), and
 *   - adds a node that asks to join (HEARTBEAT with CTRL_HB_JOIN, sent once
 *     it holds a copy of the tail's state) as the new tail;
 *   - answers each heartbeat with HB_ACK (the member's read lease, below).
 * New configurations are pushed (CONFIG) by the leader to every member and
 * joiner when they commit; any control node also answers a heartbeat that
 * carries an old epoch with CONFIG (the polling fallback).
 *
 * Read lease: the leader removes a member only detect_ns after it last
 * heard from it (and a new leader waits detect_ns from its election), so a
 * member whose heartbeat sent at time t was acknowledged may serve reads
 * until t + lease, lease = detect_ns - 2 x the maximum election timeout
 * (the old leader may not yet know it was replaced). A removed but running
 * member (a false suspicion) thus stops answering reads before the chain
 * moves on without it. A new leader grants no lease before its own no-op
 * has committed and its configuration is therefore the newest committed
 * one. Clocks are assumed to run at the same rate.
 *
 * Raft's log lives in memory (storage is acknowledged at once): a control
 * node that restarts must come back with a new id. Time is the caller's
 * clock in nanoseconds. */
#ifndef RIFTLAB_CTRL_H
#define RIFTLAB_CTRL_H

#include <stddef.h>
#include <stdint.h>

#include "ctrl_sm.h"
#include "nodes/raft/raft.h"

/* Control plane message types (Raft's own use 0x01..0x0f, chain 0x21..). */
enum ctrl_msg_type {
    CTRL_MSG_HEARTBEAT = 0x31, /* chain node -> control nodes */
    CTRL_MSG_HB_ACK = 0x32,    /* control leader -> chain node: lease */
    CTRL_MSG_CONFIG = 0x33,    /* control node -> chain node / client: ctrl_state */
};

/* HEARTBEAT flag: "add me as the new tail" (sent once the node holds a copy
 * of the tail's state). From a node still listed as a member it means the
 * node restarted without its state: it is treated as silent, so removed,
 * and can join afresh. The same holds for a member whose heartbeats carry
 * a new `boot` (it restarted with the same flags): it gets no lease (so it
 * can neither read nor take writes) and is removed. */
#define CTRL_HB_JOIN 0x1

/* HEARTBEAT: epoch u64, sent u64, boot u64, last u64, commit u64, flags u8, addr str, client str
 * HB_ACK:    epoch u64, sent u64 (the heartbeat's, echoed) */
typedef struct ctrl_heartbeat {
    uint64_t epoch;          /* the sender's configuration epoch */
    uint64_t sent;           /* sender's clock when sent (echoed in HB_ACK) */
    uint64_t boot;           /* random per process start: a member whose boot
                                changes restarted and lost its state */
    uint64_t last_seq, commit_seq;
    uint8_t flags;
    char addr[CTRL_ADDR_MAX], client[CTRL_ADDR_MAX];
} ctrl_heartbeat;

void ctrl_heartbeat_encode(const ctrl_heartbeat *h, buf *b);
int ctrl_heartbeat_decode(ctrl_heartbeat *h, const uint8_t *in, size_t len);
void ctrl_hb_ack_encode(uint64_t epoch, uint64_t sent, buf *b);
int ctrl_hb_ack_decode(const uint8_t *in, size_t len, uint64_t *epoch, uint64_t *sent);

typedef struct ctrl_options {
    raft_id id;
    uint16_t n_ctrl;
    raft_id ctrl[RAFT_MAX_NODES];   /* every control node's id */
    uint64_t seed;
    int64_t raft_heartbeat_ns;      /* 0: Raft's default */
    int64_t raft_election_ns;       /* 0: Raft's default */
    int64_t detect_ns;              /* remove a member silent this long */
    ctrl_state initial;             /* epoch-1 configuration, the same on every node */
} ctrl_options;

/* The read lease a member may assume after an acknowledged heartbeat. */
int64_t ctrl_lease_ns(int64_t detect_ns, int64_t raft_election_ns);

typedef struct ctrl_send {
    uint16_t to;
    uint8_t type;
    uint8_t *body;
    size_t len;
} ctrl_send;

typedef struct ctrl_node ctrl_node;

ctrl_node *ctrl_new(const ctrl_options *o, int64_t now_ns, char *err, size_t errlen);
void ctrl_free(ctrl_node *c);
void ctrl_tick(ctrl_node *c, int64_t now_ns);
/* A datagram body of any type (Raft 0x01..0x0f or CTRL_MSG_*) from `from`. */
void ctrl_recv(ctrl_node *c, uint16_t from, uint8_t type, const uint8_t *body, size_t len,
               int64_t now_ns);

size_t ctrl_outbox(const ctrl_node *c, const ctrl_send **out);
void ctrl_outbox_clear(ctrl_node *c);

const ctrl_state *ctrl_get_state(const ctrl_node *c);   /* applied configuration */
int ctrl_is_leader(const ctrl_node *c);
raft_id ctrl_leader(const ctrl_node *c);
uint64_t ctrl_removals(const ctrl_node *c);              /* REMOVEs this node proposed */

#endif
