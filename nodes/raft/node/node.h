/* node.h: one raft-node process: the Raft core driven by the event loop,
 * its storage, the kv state machine, peers over UDP and RESP clients.
 *
 *   node.c       start-up, the ready/done cycle (persist, send, apply,
 *                answer), ticks, peer datagrams, shutdown
 *   node_cmd.c   client commands, redirects, INFO / RIFT.STATUS
 *   (RESP connections, pipelining and ordered deferred replies: common/resp_server)
 *   node_net.c   UDP + wire header + HMAC
 *   node_trace.c trace events
 *   node_byz.c   --byzantine: rewrites messages around the honest core
 *
 * Requests waiting for the core: a write waits for its log entry to apply
 * (node_write, FIFO by log index); a linearizable or lease read waits for
 * the core's read result (node_read, FIFO by read id). Both also wait at
 * most NODE_REQUEST_TIMEOUT, then answer -TIMEOUT (outcome unknown). */
#ifndef RIFTLAB_NODE_H
#define RIFTLAB_NODE_H

#include <stdint.h>

#include "common/clock.h"
#include "common/loop.h"
#include "nodes/kv/kv.h"
#include "nodes/raft/raft.h"
#include "nodes/raft/storage.h"
#include "node_byz.h"
#include "node_config.h"
#include "common/resp_server.h"
#include "node_net.h"
#include "node_trace.h"

#define NODE_REQUEST_TIMEOUT_NS 5000000000ull

/* Per-connection consistency mode. */
enum node_mode { NODE_LINEARIZABLE = 0, NODE_LEASE, NODE_SEQUENTIAL, NODE_EVENTUAL };

/* What raft-node keeps per client connection (resp_conn_data). */
typedef struct node_session {
    int mode;                  /* enum node_mode */
    raft_index last_write;     /* log index of this client's latest write */
} node_session;

typedef struct node_write {
    struct node_write *next;
    raft_index index;
    raft_term term;
    resp_ticket ticket;        /* the deferred reply */
    uint64_t deadline;         /* mono ns */
} node_write;

enum node_read_op { NODE_READ_GET, NODE_READ_VERSION };

typedef struct node_read {
    struct node_read *next;
    uint64_t id;
    uint8_t op;                /* enum node_read_op */
    resp_ticket ticket;
    uint64_t deadline;
    raft_index after;          /* answer only once applied >= after (the connection's
                                  own earlier pipelined write: read-your-writes) */
    int confirmed;             /* the core confirmed the read; waiting for `after` */
    size_t klen;
    char key[];                /* klen bytes */
} node_read;

typedef struct node_counters {
    uint64_t proposals, writes_ok, writes_lost, reads_ok, redirects, timeouts;
    uint64_t applied_entries, expiries_proposed, snapshots_taken, snapshots_installed;
    uint64_t storage_errors;
} node_counters;

typedef struct node {
    const node_config *cfg;
    loop *l;
    raft *r;
    raft_storage *st;
    kv *kv;
    node_net net;
    resp_server *srv;
    uint64_t commands;         /* client commands handled */
    buf scratch;               /* deferred replies are encoded here, then sent */
    node_trace trace;
    node_byz byz;              /* --byzantine: the layer around the core (node_byz.h) */
    node_clock clock;
    lamport lc;
    vclock vc;
    node_write *w_head, *w_tail;
    node_read *r_head, *r_tail;
    uint64_t next_read_id;
    uint64_t tick_timer;
    uint64_t start_ns;
    node_counters cnt;
    raft_index trailing;       /* config.snapshot_trailing, for compaction */
    raft_index applied;        /* last index applied to kv (ahead of the core's
                                  count between raft_ready and raft_done) */
    int fatal;                 /* set with the reason logged: main exits 255 */
} node;

/* Open storage, recover, bind sockets. Returns 0 or -1 (reason logged). */
int node_start(node *n, const node_config *cfg, loop *l);
/* Carry out everything the core asked for (repeat while it has more). */
void node_drive(node *n);
void node_stop(node *n);

/* The node's clock (monotonic + RIFT.CLOCK skew), in ns. */
int64_t node_now(node *n);

/* node_cmd.c */
void node_command(resp_conn *c, resp_command *cmd, void *arg);
node_session *node_session_of(resp_conn *c);
void node_session_close(resp_conn *c, void *arg);
/* Requests that wait for the core (node.c). */
int node_read_wait(node *n, resp_conn *c, enum raft_read_mode mode, uint8_t op,
                   const char *key, size_t klen);
void node_write_wait(node *n, resp_conn *c, raft_index index, raft_term term);
void node_reply_notleader(node *n, buf *b);
/* Answer a read from the local kv into b. */
void node_answer_read(node *n, buf *b, uint8_t op, const char *key, size_t klen);
void node_put_kv_reply(buf *b, const kv_reply *r);

#endif
