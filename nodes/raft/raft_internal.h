/* raft_internal.h: the inside of the Raft core, shared by its .c files
 * (raft.c: life cycle, ready/done, timers; raft_log.c: the in-memory log;
 * raft_elect.c: elections; raft_replicate.c: log replication and
 * snapshots; raft_read.c: ReadIndex and lease reads). Not for callers. */
#ifndef RIFTLAB_RAFT_INTERNAL_H
#define RIFTLAB_RAFT_INTERNAL_H

#include "common/prng.h"
#include "nodes/raft/raft.h"

/* The in-memory log: entries base+1 .. base+n in e[0..n-1]. `base` is the
 * last index dropped from memory (a snapshot point or a compaction point);
 * its term is kept so the entry just before e[0] can still be checked. */
typedef struct raft_log {
    raft_entry *e;
    size_t n, cap;
    raft_index base;
    raft_term base_term;
} raft_log;

void raft_log_init(raft_log *l, raft_index base, raft_term base_term);
void raft_log_free(raft_log *l);
static inline raft_index raft_log_last(const raft_log *l) { return l->base + l->n; }
raft_term raft_log_term(const raft_log *l, raft_index i);    /* 0 if unknown */
raft_entry *raft_log_get(const raft_log *l, raft_index i);   /* NULL if not in memory */
/* Append a copy of (term, type, data) at index last+1. */
void raft_log_append(raft_log *l, raft_term term, uint8_t type, const void *data, uint32_t len);
void raft_log_truncate(raft_log *l, raft_index from);        /* drop >= from */
void raft_log_compact(raft_log *l, raft_index upto);         /* drop <= upto (upto <= last) */
void raft_log_reset(raft_log *l, raft_index base, raft_term base_term); /* drop all */

/* What a leader knows about one member (its own slot included). */
typedef struct raft_peer {
    raft_id id;
    raft_index next;         /* next index to send */
    raft_index match;        /* highest index known replicated and durable there */
    uint64_t acked_ctx;      /* highest round it acknowledged in this term */
    int64_t last_heard;      /* node time of its last message to us (check-quorum) */
    bool granted;            /* vote / pre-vote granted in the current election */
    bool responded;          /* answered in the current election */
    uint64_t snap_offset;    /* snapshot bytes it has (while sending a snapshot) */
    bool snap_sending;
} raft_peer;

/* A ReadIndex read waiting for its round and/or for commit to reach index. */
typedef struct raft_pending_read {
    uint64_t id;
    uint64_t round;          /* 0: waiting for the next round to start */
    raft_index index;
    bool has_index;          /* false until the leader has committed in its term */
} raft_pending_read;

/* Send times of recent rounds, for leases (ring indexed by round). */
#define RAFT_ROUND_RING 256

/* An outgoing message kept with what is needed to re-check it at ready
 * time: its entries/chunk pointers are only filled in by raft_ready,
 * because the log may grow (realloc) or be truncated in between. */
typedef struct raft_out_msg {
    raft_msg m;
    raft_term last_term;     /* APPEND: term of its last entry (validity check) */
} raft_out_msg;

struct raft {
    raft_config cfg;
    prng rng;
    int self_slot;           /* index of cfg.id in peers[] */
    int quorum;              /* n_nodes / 2 + 1 */
    raft_peer peers[RAFT_MAX_NODES];

    /* Persistent state and how much of it is durable. */
    raft_term term;
    raft_id vote;
    raft_term durable_term;
    raft_id durable_vote;
    raft_log log;
    raft_index persisted;    /* entries <= persisted are durable */

    /* Volatile state. */
    enum raft_role role;
    raft_id leader;
    raft_index commit;
    raft_index applied;      /* applied by the caller (advanced at raft_done) */
    int64_t now;
    int64_t election_deadline;
    int64_t heartbeat_deadline;
    int64_t quorum_check_deadline;
    int64_t last_leader_contact; /* for check-quorum stickiness (boot time initially) */
    bool self_vote_durable;  /* candidate: our own vote may be counted */
    raft_id pending_grant;   /* vote granted but not yet durable: answer later */

    /* Follower: log verified equal to the leader's up to here (this term). */
    raft_index verified;
    raft_index acked;        /* highest match we told the leader */
    uint64_t leader_ctx;     /* highest round seen from the leader */

    /* Leader: rounds (heartbeats / read confirmations) and reads. */
    uint64_t round;
    int64_t round_time[RAFT_ROUND_RING];
    raft_index term_start;   /* index of this leader's NOOP */
    bool read_round_wanted;
    raft_pending_read *reads;
    size_t n_reads, cap_reads;

    /* Latest snapshot (ours or installed), kept to send to followers. */
    raft_index snap_index;
    raft_term snap_term;
    uint8_t *snap_data;
    size_t snap_len;
    /* Follower: snapshot being received. */
    raft_index rsnap_index;
    raft_term rsnap_term;
    uint8_t *rsnap;
    size_t rsnap_len, rsnap_cap;

    /* Output accumulated until raft_done. */
    bool in_ready;
    bool out_state;
    bool out_install;
    raft_index truncate_from;
    raft_index append_from;  /* first index not yet handed to storage, 0 = none */
    int64_t writeback_due;   /* ack-before-fsync: hand pending entries out by then */
    bool out_withheld;       /* this raft_ready left pending entries out */
    raft_out_msg *msgs;
    size_t n_msgs, cap_msgs;
    raft_msg *msg_view;      /* materialized copies handed out by raft_ready */
    size_t cap_view;
    raft_read_result *results;
    size_t n_results, cap_results;
    raft_event *events;
    size_t n_events, cap_events;
    raft_index out_apply_to;
    raft_out out;
};

/* raft.c */
void *raft_grow(void *p, size_t *cap, size_t need, size_t elem);
void raft_send(raft *r, const raft_msg *m, raft_term last_term);
void raft_event_add(raft *r, uint8_t type, raft_id peer, raft_term term, raft_index index);
void raft_read_result_add(raft *r, uint64_t id, int status, raft_index index);
raft_peer *raft_peer_find(raft *r, raft_id id);
void raft_reset_election_timer(raft *r);
void raft_set_commit(raft *r, raft_index c);
void raft_truncate(raft *r, raft_index from);
bool raft_writeback_withheld(const raft *r);
void raft_append_local(raft *r, raft_term term, uint8_t type, const void *data, uint32_t len);

/* raft_elect.c */
void raft_become_follower(raft *r, raft_term term, raft_id leader);
void raft_start_election(raft *r);       /* pre-vote or vote, per config */
void raft_resend_vote_requests(raft *r); /* to members that have not answered */
void raft_on_vote(raft *r, const raft_msg *m);
void raft_on_vote_resp(raft *r, const raft_msg *m);
void raft_state_durable(raft *r);        /* (term, vote) became durable */

/* raft_replicate.c */
void raft_become_leader(raft *r);
void raft_send_append(raft *r, raft_peer *p);
void raft_broadcast(raft *r);            /* new round to every peer */
void raft_replicate_pending(raft *r);    /* send new entries where allowed */
bool raft_replicate_wanted(const raft *r); /* would raft_replicate_pending send? */
void raft_maybe_commit(raft *r);
void raft_on_append(raft *r, const raft_msg *m);
void raft_on_append_resp(raft *r, const raft_msg *m);
void raft_on_snapshot(raft *r, const raft_msg *m);
void raft_on_snapshot_resp(raft *r, const raft_msg *m);
void raft_follower_ack(raft *r, bool force); /* tell the leader what we hold durably */

/* raft_read.c */
uint64_t raft_quorum_ctx(const raft *r);
void raft_reads_fail_all(raft *r);
void raft_reads_progress(raft *r);       /* complete what can be completed */
bool raft_reads_ready(const raft *r);   /* would raft_reads_progress complete one? */
void raft_reads_start_round(raft *r);    /* at ready time: one round for all new reads */
int raft_read_request(raft *r, enum raft_read_mode mode, uint64_t id);

#endif
