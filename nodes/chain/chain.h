/* chain.h: the chain replication + CRAQ data plane as a pure state machine.
 *
 * A chain is an ordered list of members (head ... tail) fixed per epoch by
 * the control plane. Writes enter at the head, which gives each one the
 * next sequence number and forwards it down the chain; every member keeps
 * the write as "dirty" until the tail has it; the tail commits it and the
 * acknowledgement (a cumulative "committed up to seq") flows back up, making
 * it clean everywhere and letting the head answer the client.
 *
 * Like the Raft core, nothing here does I/O or reads a clock. The caller
 * feeds events (chain_set_config, chain_recv, chain_tick, chain_client) and
 * then drains actions (send a message, reply to a client, trace an accept /
 * commit). A deterministic simulation can therefore run whole chains in one
 * process (tests/chain), and chain-node wraps the same core in sockets.
 *
 * State per member (see chain.c for the details):
 *   log     entries (seq, request id, encoded kv command) from log_base+1 to
 *           last_seq; entries up to commit_seq are committed (clean).
 *   clean   an rl_kv with every committed entry applied: what the tail and
 *           CRAQ clean reads answer.
 *   dirty   an rl_kv with every received entry applied: the newest local
 *           version of each key (CRAQ uses it to tell clean keys from dirty
 *           ones; read mode `any` answers from it).
 *
 * Links are fair-loss: a member resends entries its successor has not
 * reported as received (ACK.recv) every rto ticks; receivers accept only the
 * next sequence number, so duplicates and reordering are harmless. */
#ifndef RIFTLAB_CHAIN_H
#define RIFTLAB_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#include "kv.h"

#define CHAIN_MAX_MEMBERS 16

/* One configuration of the chain, as the control plane commits it. */
typedef struct chain_config {
    uint64_t epoch;                       /* grows by one per change; 0 = none yet */
    uint16_t n;                           /* members in use */
    uint16_t members[CHAIN_MAX_MEMBERS];  /* node ids, head first, tail last */
} chain_config;

/* Message types on the wire (the wire header's `type`; bodies in
 * chain_msg.h). Raft owns 0x01..0x0f and the control plane 0x30..0x3f, so
 * one port can tell every protocol apart. */
enum chain_msg_type {
    CHAIN_MSG_UPDATE = 0x21,   /* pred -> succ: entries (and the sender's last, catch-up bound) */
    CHAIN_MSG_ACK = 0x22,      /* succ -> pred: received up to, committed up to */
    CHAIN_MSG_VQUERY = 0x23,   /* replica -> tail: which version of key is committed? */
    CHAIN_MSG_VREPLY = 0x24,   /* tail -> replica */
    CHAIN_MSG_SNAP_REQ = 0x25, /* joiner -> tail: send me your committed state */
    CHAIN_MSG_SNAP = 0x26,     /* state transfer: committed kv snapshot at seq */
};

/* Read modes (per client connection). */
enum chain_read_mode {
    CHAIN_READ_TAIL = 0,  /* only the tail answers (linearizable) */
    CHAIN_READ_CRAQ = 1,  /* any member: clean value, or ask the tail (linearizable) */
    CHAIN_READ_ANY = 2,   /* any member, newest local version even if dirty (eventual) */
};

/* Deliberate bugs (chain_options.bugs), to prove the checkers catch them. */
#define CHAIN_BUG_TAIL_EARLY_ACK 0x1u /* a middle node acknowledges before the tail has the write */
#define CHAIN_BUG_SKIP_RESEND    0x2u /* a predecessor does not resend after a middle failure */
#define CHAIN_BUG_CRAQ_DIRTY     0x4u /* CRAQ serves dirty versions as clean */

/* Parses "tail-early-ack" / "skip-resend" / "craq-dirty-read"; 0 if unknown. */
uint32_t chain_bug_parse(const char *name);
const char *chain_read_mode_name(enum chain_read_mode m);
int chain_read_mode_parse(const char *s, enum chain_read_mode *out);

typedef struct chain_options {
    uint16_t id;             /* this node (non-zero) */
    uint32_t bugs;           /* CHAIN_BUG_* */
    uint32_t rto_ticks;      /* resend unacknowledged entries / queries after this (default 3) */
    uint32_t batch;          /* max entries per UPDATE (default 64) */
    uint32_t max_inflight;   /* head answers BUSY beyond this many uncommitted (default 4096) */
    uint32_t log_retain;     /* committed entries kept for resends (default 1024) */
    uint32_t snap_chunk;     /* state transfer chunk bytes (default 48 KiB) */
    int joining;             /* start outside the chain: fetch state from the tail first */
    int commit_data;         /* COMMIT actions carry a copy of the command (body/len) and the
                              * epoch, for a driver that stores the committed prefix */
} chain_options;

/* Client requests. Writes carry an rl_kv command (kv_encode_set/del/cas);
 * reads name a key. `id` comes back in the reply; for writes it also
 * travels with the entry down the chain (traces, tests), so it should be
 * unique per cluster (chain-node uses node id << 48 | counter). */
enum chain_req_kind { CHAIN_REQ_WRITE = 1, CHAIN_REQ_GET = 2, CHAIN_REQ_VERSION = 3 };

typedef struct chain_request {
    uint64_t id;
    enum chain_req_kind kind;
    enum chain_read_mode mode;   /* reads only */
    const uint8_t *data;         /* WRITE: encoded kv command; reads: the key */
    size_t len;
} chain_request;

enum chain_status_code {
    CHAIN_OK = 0,
    CHAIN_ERR_NOTHEAD,   /* writes go to the head: `redirect` names it */
    CHAIN_ERR_NOTTAIL,   /* tail reads go to the tail: `redirect` names it */
    CHAIN_ERR_BUSY,      /* too many writes in flight; nothing happened */
    CHAIN_ERR_NOTREADY,  /* not a member (yet), or still catching up; nothing happened */
    CHAIN_ERR_BADCMD,    /* malformed or unsupported command (e.g. SET PX) */
};
const char *chain_status_name(enum chain_status_code s);

enum chain_action_kind {
    CHAIN_ACT_SEND = 1,     /* send body to node `to` as message `type` */
    CHAIN_ACT_REPLY,        /* answer client request `id` */
    CHAIN_ACT_ACCEPT,       /* entry seq received (dirty) here */
    CHAIN_ACT_COMMIT,       /* entry seq committed (applied to the clean state) here;
                             * with commit_data: body = the kv command, epoch = ours */
    CHAIN_ACT_SNAPSHOT,     /* installed a committed state at seq (joins, catch-up) */
    CHAIN_ACT_REJECT,       /* dropped a message of another epoch (trace/counters) */
};

/* Reply payload: mirrors kv_reply (type from enum kv_reply_type). */
typedef struct chain_action {
    enum chain_action_kind kind;
    uint16_t to;             /* SEND; REJECT: the sender */
    uint8_t type;            /* SEND: enum chain_msg_type */
    uint8_t *body;           /* SEND body / REPLY bulk data (owned by the node) */
    size_t len;
    uint64_t id;             /* REPLY: request id; ACCEPT/COMMIT: the entry's request id */
    uint64_t seq;            /* ACCEPT/COMMIT/SNAPSHOT: sequence number; REPLY(write): its seq */
    enum chain_status_code status;  /* REPLY */
    uint16_t redirect;       /* REPLY NOTHEAD/NOTTAIL: the right node (0: unknown) */
    int reply_type;          /* REPLY OK: enum kv_reply_type */
    int64_t integer;         /* REPLY OK: INT replies, VERSION */
    uint64_t epoch;          /* REJECT: the message's epoch */
} chain_action;

enum chain_role { CHAIN_ROLE_OUT = 0, CHAIN_ROLE_HEAD, CHAIN_ROLE_MIDDLE, CHAIN_ROLE_TAIL,
                  CHAIN_ROLE_SINGLE /* head and tail */ };
const char *chain_role_name(enum chain_role r);

typedef struct chain_status {
    uint16_t id;
    uint64_t epoch;
    enum chain_role role;
    int position;            /* 0 = head ... n-1 = tail; -1 if not a member */
    uint16_t head, tail, pred, succ;  /* 0 when none */
    uint64_t last_seq;       /* highest entry received */
    uint64_t commit_seq;     /* highest entry committed */
    uint64_t log_base;       /* entries up to here are trimmed */
    int synced;              /* holds a state (a joiner before its snapshot: 0) */
    int caught_up;           /* has everything its predecessor had committed */
    uint64_t rejected;       /* messages dropped for a wrong epoch */
    uint64_t resent;         /* entries sent again */
    uint64_t digest;         /* kv_digest of the clean state */
} chain_status;

typedef struct chain_node chain_node;

/* NULL on bad options (id 0). */
chain_node *chain_new(const chain_options *o);
void chain_free(chain_node *c);

/* Events. Each may queue actions; drain them before the next event (the
 * bodies are freed by chain_actions_clear). */
void chain_set_config(chain_node *c, const chain_config *cfg);  /* older epochs ignored */
void chain_recv(chain_node *c, uint16_t from, uint8_t type, const uint8_t *body, size_t len);
void chain_tick(chain_node *c);
void chain_client(chain_node *c, const chain_request *r);

/* A member that learns it was removed while running (a false suspicion)
 * may join again: drop all state and start over as a joiner (fetch the
 * tail's state, then the driver asks the control plane to add it). */
void chain_rejoin(chain_node *c);
/* The same, keeping the committed prefix: only entries not yet committed
 * here (which a reconfiguration may have replaced) are dropped. The node
 * then reports commit_seq as received when it is added back, and its new
 * predecessor resends only what follows (a snapshot only if it has trimmed
 * those entries). Safe because a committed entry is at the tail, so every
 * later configuration's members hold the same entry at that sequence. */
void chain_rejoin_keep(chain_node *c);

/* Start from a restored committed state (chain-node --dir): `state` holds
 * entries 1..seq applied; the node takes ownership. Call right after
 * chain_new on a joining node: it is then synced at seq and joins as above
 * without a state copy. */
void chain_restore(chain_node *c, kv *state, uint64_t seq);
/* The committed state (for the driver's snapshots). */
const kv *chain_clean_state(const chain_node *c);

/* Lease (default: held). A driver whose control plane may remove a live
 * member (a false suspicion) clears it when the lease from the control
 * plane runs out (ctrl.h): without it the member answers no reads, no
 * version queries and takes no writes, so a removed member cannot serve
 * stale data, and a restarted one (the control plane refuses it a lease)
 * cannot take writes with an empty state. */
void chain_set_lease(chain_node *c, int held);

size_t chain_actions(const chain_node *c, const chain_action **out);
void chain_actions_clear(chain_node *c);

void chain_get_status(const chain_node *c, chain_status *s);
const chain_config *chain_get_config(const chain_node *c);
/* Position of id in cfg, or -1. */
int chain_config_index(const chain_config *cfg, uint16_t id);

#endif
