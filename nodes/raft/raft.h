/* raft.h: the Raft consensus core of riftlab as a pure state machine.
 *
 * The core does no I/O of its own: no sockets, no disk, no clock, no threads.
 * The caller (raft-node, the chain control plane, the simulation tests)
 * feeds it events and then carries out the actions it asks for:
 *
 *   events in (function calls)          actions out (struct raft_out)
 *   ----------------------------        ---------------------------------
 *   raft_recv      a peer's message     msgs       messages to send
 *   raft_tick      time passed (ns)     state      persist term + vote
 *   raft_propose   a client command     truncate/  change the durable log
 *   raft_read      a read request         append
 *   raft_persisted_state, _log        snapshot   install a received snapshot
 *                  storage finished     apply      committed entries to apply
 *   raft_snapshot_taken                 reads      reads that may be answered
 *                  caller's snapshot    events     trace events (role, vote, commit)
 *                                       want_snapshot  log is long: take one
 *
 * Every event call only records actions; the caller then calls
 * raft_ready() to look at all of them at once and raft_done() when it has
 * carried them out (the etcd/raft "Ready" pattern). Doing several events per
 * ready/done cycle is what gives group commit: one fsync for a whole batch.
 *
 * Durability is asynchronous and explicit. The caller writes what `state`,
 * `truncate_from` and `append` ask for (in that order) whenever it likes, and
 * reports completion with raft_persisted_state() and raft_persisted_log().
 * The core itself holds back everything that must wait for durability: it
 * grants a vote only after the vote is durable, acknowledges appended entries
 * only up to the durable index, and a leader counts itself only for durable
 * entries. So every message in `msgs` may be sent at once, before or in
 * parallel with the writes. (Deliberate bugs below break exactly this.)
 *
 * Node ids are small non-zero integers (the wire header's src/dst);
 * RAFT_NONE (0) means "no node" (no vote, leader unknown). Membership is
 * fixed at raft_init (no configuration changes; RAFT_ENTRY_CONFIG is
 * reserved). Log indexes start at 1; index 0 / term 0 is the empty log.
 *
 * Not thread-safe: one raft per thread (or the caller locks). */
#ifndef RIFTLAB_RAFT_H
#define RIFTLAB_RAFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t raft_term;
typedef uint64_t raft_index;
typedef uint16_t raft_id;

#define RAFT_NONE        0
#define RAFT_MAX_NODES   16
/* Largest payload of one entry; raft_propose refuses bigger ones so any
 * entry always fits one datagram (WIRE_MAX_BODY in common/wire.h). */
#define RAFT_MAX_ENTRY   (32 * 1024)
/* Snapshots travel in chunks of at most this many bytes. */
#define RAFT_SNAPSHOT_CHUNK (48 * 1024)

/* Result codes of the functions below and of read results. */
enum raft_error {
    RAFT_OK = 0,
    RAFT_ENOTLEADER = -1, /* not the leader; raft_leader() is a hint (maybe RAFT_NONE) */
    RAFT_ETOOBIG = -2,    /* payload larger than RAFT_MAX_ENTRY */
    RAFT_EINVAL = -3,     /* bad argument / config */
    RAFT_EBUSY = -4,      /* too many reads waiting (config.max_pending_reads) */
    /* Message decoding (raft_msg_decode): every malformation has its code. */
    RAFT_EMSG_TYPE = -10,     /* unknown message type */
    RAFT_EMSG_SHORT = -11,    /* body ends before the message does */
    RAFT_EMSG_TRAILING = -12, /* bytes left over after the message */
    RAFT_EMSG_INVALID = -13,  /* a field out of range (bool not 0/1, too many entries,
                                 entry too big, from/to RAFT_NONE, ...) */
};
const char *raft_strerror(int err);

enum raft_role { RAFT_FOLLOWER, RAFT_PRECANDIDATE, RAFT_CANDIDATE, RAFT_LEADER };
const char *raft_role_name(enum raft_role role); /* "follower", ... */

/* ---- log entries ------------------------------------------------------ */

enum raft_entry_type {
    RAFT_ENTRY_NORMAL = 1, /* a client command: opaque bytes for the state machine */
    RAFT_ENTRY_NOOP = 2,   /* appended by every new leader (commits earlier terms) */
    RAFT_ENTRY_CONFIG = 3, /* reserved for membership changes (not implemented) */
};

/* One log entry. In the core's log the payload is owned by the core; in a
 * decoded message it points into the datagram; in raft_out it points into
 * the core's log (valid until raft_done). */
typedef struct raft_entry {
    raft_index index;
    raft_term term;
    uint8_t type;       /* enum raft_entry_type */
    uint32_t len;       /* payload bytes, <= RAFT_MAX_ENTRY */
    uint8_t *data;      /* payload (NULL when len == 0) */
} raft_entry;

/* ---- messages (bodies of wire datagrams) -----------------------------
 * The numeric value is the `type` byte of the wire header (common/wire.h).
 * Raft uses 0x01..0x0f; other protocols keep clear of that range. */
enum raft_msg_type {
    RAFT_MSG_VOTE = 0x01,          /* RequestVote */
    RAFT_MSG_VOTE_RESP = 0x02,
    RAFT_MSG_PREVOTE = 0x03,       /* "would you vote for me in term+1?" (no state change) */
    RAFT_MSG_PREVOTE_RESP = 0x04,
    RAFT_MSG_APPEND = 0x05,        /* AppendEntries; no entries = heartbeat */
    RAFT_MSG_APPEND_RESP = 0x06,
    RAFT_MSG_SNAPSHOT = 0x07,      /* InstallSnapshot, one chunk */
    RAFT_MSG_SNAPSHOT_RESP = 0x08,
};
const char *raft_msg_type_name(int type); /* "append", ... or "unknown" */

/* A decoded message. `from`/`to` come from the wire header (src/dst), every
 * other field from the body; which union member is valid depends on type. */
typedef struct raft_msg {
    uint8_t type;   /* enum raft_msg_type */
    raft_id from, to;
    raft_term term; /* sender's term (PREVOTE: the term it would campaign in) */
    union {
        struct { /* VOTE, PREVOTE */
            raft_index last_index; /* candidate's last log entry */
            raft_term last_term;
        } vote;
        struct { /* VOTE_RESP, PREVOTE_RESP */
            bool granted;
        } vote_resp;
        struct { /* APPEND */
            raft_index prev_index; /* entry just before entries[0] */
            raft_term prev_term;
            raft_index commit;     /* leader's commit index */
            uint64_t ctx;          /* leader's round number, echoed back (ReadIndex, lease) */
            uint32_t n_entries;
            raft_entry *entries;   /* indexes prev_index+1 .. prev_index+n_entries */
        } append;
        struct { /* APPEND_RESP */
            bool success;
            /* success: the follower's log matches the leader's up to
             * match_index and that prefix is durable on the follower. */
            raft_index match_index;
            /* failure (fast backtracking): the follower's term at prev_index
             * and the first index it holds of that term; conflict_term 0
             * means the follower's log is shorter: conflict_index is then
             * its last index + 1. */
            raft_term conflict_term;
            raft_index conflict_index;
            uint64_t ctx;          /* the highest ctx the follower has seen this term */
        } append_resp;
        struct { /* SNAPSHOT: chunk [offset, offset+len) of a total-byte snapshot */
            raft_index snap_index; /* last index the snapshot covers */
            raft_term snap_term;
            uint64_t ctx;
            uint64_t total;
            uint64_t offset;
            uint32_t len;          /* <= RAFT_SNAPSHOT_CHUNK */
            uint8_t *data;
        } snapshot;
        struct { /* SNAPSHOT_RESP */
            raft_index snap_index;
            uint64_t next_offset;  /* bytes received so far (what to send next) */
            uint64_t ctx;
        } snapshot_resp;
    } u;
} raft_msg;

/* Encode a message body (no wire header) into out. Returns the body length,
 * or -1 if cap is too small. Entries/chunks in raft_out always fit
 * WIRE_MAX_BODY. */
int raft_msg_encode(const raft_msg *m, uint8_t *out, size_t cap);
/* Upper bound of raft_msg_encode's output for m (to size a buffer). */
size_t raft_msg_encoded_size(const raft_msg *m);
/* Decode a body of wire type `type` from `from` to `to`. Any byte string
 * gives either RAFT_OK and a valid message or a RAFT_EMSG_* code; nothing is
 * read outside [body, body+len). On success payload pointers point into
 * body (keep it alive while using m) and m->u.append.entries is allocated:
 * release it with raft_msg_free (harmless on any decoded or zeroed msg). */
int raft_msg_decode(uint8_t type, raft_id from, raft_id to,
                    const uint8_t *body, size_t len, raft_msg *m);
void raft_msg_free(raft_msg *m);

/* ---- configuration ----------------------------------------------------- */

/* Deliberate bugs (config.bugs bit mask); all off by default. Each one is
 * caught by a simulation test in tests/raft/; see docs/raft.md. */
enum raft_bug {
    RAFT_BUG_STALE_READ = 1u << 0,      /* linearizable reads answered by a leader
                                           without confirming leadership with a majority */
    RAFT_BUG_COMMIT_OLD_TERM = 1u << 1, /* commit entries of earlier terms by counting
                                           replicas (Raft paper, figure 8), and append
                                           no no-op at the start of a term */
    RAFT_BUG_NO_LOG_CHECK = 1u << 2,    /* grant votes without the up-to-date log check */
    RAFT_BUG_FORGET_VOTE = 1u << 3,     /* never persist the vote (state.vote is always
                                           RAFT_NONE), act on votes without waiting, no
                                           boot grace (see lease_ns) */
    RAFT_BUG_ACK_BEFORE_FSYNC = 1u << 4,/* acknowledge appends (and count itself as a
                                           leader) before the entries are durable, and
                                           hand them to storage lazily (write-back: see
                                           RAFT_BUG_WRITEBACK_NS) */
};
/* ack-before-fsync keeps new entries in memory (raft_ready leaves them out
 * of `append`) until the oldest has waited this long or this many are
 * pending: a volatile write cache, so that killing the process loses
 * acknowledged entries the way a power loss loses an unsynced page cache. */
#define RAFT_BUG_WRITEBACK_NS      (300 * 1000 * 1000)
#define RAFT_BUG_WRITEBACK_ENTRIES 4096
/* Parses "stale-read", "commit-old-term", "no-log-check", "forget-vote",
 * "ack-before-fsync" into a RAFT_BUG_* bit; returns 0 for an unknown name. */
unsigned raft_bug_parse(const char *name);
const char *raft_bug_name(unsigned bit);

typedef struct raft_config {
    raft_id id;                      /* this node */
    uint16_t n_nodes;                /* cluster size, 1..RAFT_MAX_NODES */
    raft_id nodes[RAFT_MAX_NODES];   /* every member's id, including id */
    uint64_t seed;                   /* seeds the election-timeout PRNG (common/prng.h);
                                        derive per node, e.g. prng_derive(run_seed, id) */
    int64_t heartbeat_ns;            /* leader's heartbeat interval (default 50 ms) */
    int64_t election_timeout_ns;     /* minimum election timeout; each timer is drawn
                                        from [t, 2t) (default 500 ms) */
    int64_t lease_ns;                /* leader lease for RAFT_READ_LEASE, measured on the
                                        leader's own clock from the send time of a round a
                                        majority acknowledged (default 0.9 x election
                                        timeout; must be < election_timeout_ns). A booting
                                        node does not vote for this long (it may have
                                        backed a lease before it crashed). 0 disables
                                        leases (lease reads fall back to ReadIndex) */
    bool pre_vote;                   /* pre-vote phase (default on: see raft_config_default) */
    bool check_quorum;               /* leader steps down without a majority heard within an
                                        election timeout; followers that heard from a leader
                                        within the minimum election timeout ignore
                                        (pre)votes (default on; lease reads need it) */
    uint32_t max_batch_entries;      /* entries per APPEND (default 64) */
    uint32_t max_batch_bytes;        /* payload bytes per APPEND (default 48 KiB) */
    uint32_t max_inflight;           /* entries sent beyond a follower's match (default 1024) */
    uint32_t max_pending_reads;      /* default 4096 */
    raft_index snapshot_threshold;   /* ask for a snapshot when this many entries follow
                                        the last one (default 4096; 0 = never) */
    raft_index snapshot_trailing;    /* entries kept in the log below a snapshot so slow
                                        followers can catch up without it (default 256) */
    unsigned bugs;                   /* RAFT_BUG_* bits */
    /* Optional: can the state machine restore these snapshot bytes? A
     * follower drops a received snapshot that fails (garbage from a
     * corrupted or forged transfer on unauthenticated links) and answers so
     * that the leader starts it over, instead of installing a state it
     * cannot serve. NULL: every snapshot is taken as it comes. */
    bool (*snapshot_ok)(void *arg, const uint8_t *data, size_t len);
    void *snapshot_ok_arg;
} raft_config;

/* Fills defaults; the caller then sets id, n_nodes, nodes, seed. */
void raft_config_default(raft_config *c);

/* What the node recovered from its storage (all zero for a fresh node). */
typedef struct raft_boot {
    raft_term term;
    raft_id vote;
    raft_index snap_index;          /* 0: no snapshot */
    raft_term snap_term;
    const uint8_t *snap_data;       /* copied; the caller restores its own state machine */
    size_t snap_len;
    const raft_entry *entries;      /* the durable log, indexes snap_index+1.. (copied) */
    size_t n_entries;
} raft_boot;

/* ---- actions ------------------------------------------------------------ */

enum raft_read_mode {
    RAFT_READ_LINEARIZABLE = 0, /* ReadIndex: majority round, then applied >= read index */
    RAFT_READ_LEASE = 1,        /* leader lease from the leader's clock; falls back to
                                   ReadIndex when the lease has expired. UNSAFE under
                                   clock skew/drift (by design: that is what it shows) */
    RAFT_READ_SEQUENTIAL = 2,   /* answered at once from local applied state, any role */
    RAFT_READ_EVENTUAL = 3,     /* same as sequential for the core */
};

/* A read that may now be answered (status RAFT_OK: the caller's state
 * machine, after applying this batch's `apply`, reflects index `index`;
 * answer from it) or that failed (RAFT_ENOTLEADER: leader is a hint). */
typedef struct raft_read_result {
    uint64_t id;          /* the caller's id from raft_read */
    int status;           /* RAFT_OK or RAFT_ENOTLEADER */
    raft_index index;     /* read index (linearizable/lease) or applied index */
    raft_id leader;
} raft_read_result;

/* Trace events for RIFT.TRACE / the invariant checker. */
enum raft_event_type {
    RAFT_EV_ROLE = 1,         /* role changed: role, term, peer = leader if known */
    RAFT_EV_VOTE_GRANTED = 2, /* we granted our vote to peer in term */
    RAFT_EV_COMMIT = 3,       /* commit index advanced to index (term = its entry's term) */
    RAFT_EV_SNAPSHOT = 4,     /* installed a leader's snapshot ending at index/term */
};
typedef struct raft_event {
    uint8_t type;
    uint8_t role;         /* RAFT_EV_ROLE */
    raft_id peer;
    raft_term term;
    raft_index index;
} raft_event;

/* Everything the core asks the caller to do, returned by raft_ready().
 * Carry it out in this order, then call raft_done():
 *   1. snapshot_install: restore the state machine from snapshot bytes, make
 *      the snapshot durable and drop the whole durable log (then report
 *      raft_persisted_log(snapshot index, snapshot term)).
 *   2. persist_state: write (term, vote) atomically. Report
 *      raft_persisted_state(term, vote) once durable (now or later).
 *   3. truncate_from != 0: drop durable entries with index >= truncate_from.
 *   4. append: write these entries after the durable log; once durable
 *      (one fsync for all: group commit) report raft_persisted_log(last
 *      index, its term). Steps 2-4 may complete asynchronously, but in order.
 *   5. msgs: send (encode with raft_msg_encode; best-effort, any order).
 *   6. apply: apply these committed entries to the state machine in order
 *      (NOOP entries change nothing but advance the applied index).
 *   7. reads: answer (after 6).
 *   8. want_snapshot: when convenient, snapshot the state machine at its
 *      applied index and call raft_snapshot_taken().
 * All pointers stay valid until raft_done(); no other raft_* call that
 * changes state may happen between raft_ready() and raft_done(). */
typedef struct raft_out {
    bool persist_state;
    raft_term term;
    raft_id vote;

    bool snapshot_install;
    raft_index snap_index;
    raft_term snap_term;
    const uint8_t *snap_data;
    size_t snap_len;

    raft_index truncate_from;        /* 0: nothing to truncate */
    const raft_entry *append;        /* consecutive indexes */
    size_t n_append;

    const raft_msg *msgs;
    size_t n_msgs;

    const raft_entry *apply;         /* consecutive indexes, applied+1 .. commit */
    size_t n_apply;

    const raft_read_result *reads;
    size_t n_reads;

    const raft_event *events;
    size_t n_events;

    bool want_snapshot;
} raft_out;

/* ---- the core ------------------------------------------------------------ */

typedef struct raft raft; /* opaque; see raft_internal.h */

/* Creates a node from its config and what storage recovered (boot may be
 * NULL for a fresh node). now_ns is the node clock at start (timers start
 * from it). Returns NULL (and a reason in err) for an invalid config. */
raft *raft_new(const raft_config *cfg, const raft_boot *boot, int64_t now_ns,
               char *err, size_t errlen);
void raft_free(raft *r);

/* Events. */
/* Time passed; now_ns is the node's clock (common/clock.h node_clock), may
 * jump when skewed. Call every few ms (e.g. heartbeat_ns / 5). */
void raft_tick(raft *r, int64_t now_ns);
/* A message from a peer (decoded with raft_msg_decode; the core copies what
 * it keeps). Messages from unknown ids or to another id are ignored. */
void raft_recv(raft *r, const raft_msg *m);
/* Append a client command (or type RAFT_ENTRY_NOOP) to the leader's log.
 * On RAFT_OK, *index and *term say where it landed: it succeeded when an applied
 * entry at that index has that term; if an entry with another term is
 * applied there, it was lost (the client's outcome is then unknown/failed).
 * RAFT_ENOTLEADER: raft_leader() names the leader if known. */
int raft_propose(raft *r, uint8_t type, const void *data, size_t len,
                 raft_index *index, raft_term *term);
/* Ask to read; the answer comes in raft_out.reads with this id (possibly in
 * the very next raft_ready). Returns RAFT_OK, RAFT_EBUSY or RAFT_EINVAL;
 * not being leader is reported through the result (RAFT_ENOTLEADER) for
 * linearizable and lease reads. */
int raft_read(raft *r, enum raft_read_mode mode, uint64_t id);
/* Storage finished: (term, vote) is durable. */
void raft_persisted_state(raft *r, raft_term term, raft_id vote);
/* Storage finished: every entry up to `index` (whose term is `term`) is
 * durable. Stale reports (the entry was since replaced) are ignored. */
void raft_persisted_log(raft *r, raft_index index, raft_term term);
/* The caller took a snapshot of its state machine at applied index `index`
 * (bytes copied). The core keeps it to send to lagging followers and drops
 * its in-memory log up to index - snapshot_trailing; the caller compacts its
 * durable log the same way after saving the snapshot durably. */
int raft_snapshot_taken(raft *r, raft_index index, const void *data, size_t len);

/* The actions accumulated since the last raft_done (never NULL). */
const raft_out *raft_ready(raft *r);
/* The caller carried them out; clears the output and marks `apply` applied. */
void raft_done(raft *r);
/* True when raft_ready would return something to do, including what it
 * works out itself (a read round to start, entries to send, ReadIndex reads
 * that acknowledgements completed): a driver may block while this is false. */
bool raft_has_ready(const raft *r);

/* Accessors (cheap, any time). */
raft_id raft_self(const raft *r);
enum raft_role raft_role(const raft *r);
raft_term raft_current_term(const raft *r);
raft_id raft_voted_for(const raft *r);
raft_id raft_leader(const raft *r);          /* RAFT_NONE if unknown */
raft_index raft_commit_index(const raft *r);
raft_index raft_applied_index(const raft *r);
raft_index raft_last_index(const raft *r);
raft_index raft_persisted_index(const raft *r);
raft_index raft_snapshot_index(const raft *r);
/* The entry at index if it is still in memory, else NULL. */
const raft_entry *raft_entry_at(const raft *r, raft_index index);
/* Term of the entry at index (0 for index 0 or unknown/compacted). */
raft_term raft_term_at(const raft *r, raft_index index);
/* Leader: nanoseconds of lease left at now_ns (0 if none / not leader). */
int64_t raft_lease_remaining(const raft *r, int64_t now_ns);

#endif
