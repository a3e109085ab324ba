/* chain_int.h: the chain core's internal state, shared by chain.c (the
 * replication protocol) and chain_read.c (client reads and CRAQ). Not a
 * public API: users include chain.h. */
#ifndef RIFTLAB_CHAIN_INT_H
#define RIFTLAB_CHAIN_INT_H

#include "chain.h"
#include "common/buf.h"
#include "chain_msg.h"
#include "kv.h"

/* One log entry: a write the head sequenced. */
typedef struct chain_entry {
    uint64_t seq, rid;
    uint8_t *cmd;          /* encoded kv command */
    uint32_t len;
    int waiting;           /* this node is the head that took it: a client waits */
    /* The key's state in the dirty kv right after this entry applied, so a
     * CRAQ read can answer "the value of version v" without the tail
     * sending the value. */
    uint64_t res_version;
    int res_present;
    uint8_t *res_val;
    size_t res_len;
} chain_entry;

/* A CRAQ read waiting for the tail to say which version is committed. */
typedef struct chain_query {
    uint64_t qid, rid;
    enum chain_req_kind kind;
    uint8_t *key;
    size_t klen;
    uint64_t sent_tick;
} chain_query;

struct chain_node {
    chain_options o;
    chain_config cfg;
    int pos;                  /* index in cfg.members, -1 if not a member */
    uint16_t pred, succ;      /* neighbours in cfg (0: none) */

    /* Log: entries log_base+1 .. last_seq live in log[log_first ..
     * log_first+log_count). Trimming advances log_first (compacted when the
     * array must grow), so dropping old entries never moves the rest. */
    chain_entry *log;
    size_t log_first, log_count, log_cap;
    uint64_t log_base, last_seq, commit_seq;

    kv *clean;                /* committed entries applied */
    kv *dirty;                /* every received entry applied */

    /* What the successor has: succ_recv is only meaningful once succ_known
     * (its first ACK in this epoch, the "report" of the chapter). */
    int succ_known;
    int succ_replaced;        /* the successor replaced a failed one (middle failure) */
    uint64_t succ_recv;
    uint64_t tick, last_progress, last_resend, last_snap_req;

    int synced;               /* has a state (a joiner: after its snapshot) */
    int caught_up;            /* has all its predecessor had committed (tail reads safe) */
    int lease;                /* may answer reads (chain_set_lease) */

    chain_query *q;
    size_t nq, capq;
    uint64_t next_qid;

    chain_action *acts;
    size_t nacts, capacts;

    uint64_t rejected, resent;

    /* State transfer (chain_snap.c). The sender keeps the snapshot it last
     * cut, so retries resend the same bytes; the receiver assembles chunks
     * in order. */
    uint8_t *snap_out;
    size_t snap_out_len;
    uint64_t snap_out_seq, snap_out_tick;
    int has_snap_out;
    uint8_t *snap_in;
    size_t snap_in_total, snap_in_have;
    uint64_t snap_in_seq;
    uint16_t snap_in_from;
};

/* chain.c */
chain_action *chain_act_push(chain_node *c, enum chain_action_kind kind);
void chain_send_buf(chain_node *c, uint16_t to, uint8_t type, buf *b);
void chain_reply_error(chain_node *c, uint64_t id, enum chain_status_code st, uint16_t redirect);
uint16_t chain_head_id(const chain_node *c);
uint16_t chain_tail_id(const chain_node *c);

void chain_log_clear(chain_node *c);
void chain_send_ack(chain_node *c);
void chain_reject(chain_node *c, uint16_t from, uint64_t epoch);

/* chain_snap.c */
void chain_snap_send(chain_node *c, uint16_t to);
void chain_snap_recv(chain_node *c, uint16_t from, const chain_msg *m);
void chain_snap_free(chain_node *c);

/* chain_read.c */
void chain_read(chain_node *c, const chain_request *r);
void chain_on_vquery(chain_node *c, uint16_t from, uint64_t epoch, uint64_t qid,
                     const uint8_t *key, size_t klen);
void chain_on_vreply(chain_node *c, uint16_t from, uint64_t qid, uint64_t version);
void chain_queries_tick(chain_node *c, int force);
void chain_queries_free(chain_node *c);

#endif
