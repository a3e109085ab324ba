/* node_trace.h: raft-node's trace events (written with common/trace.h, one
 * JSON object per line, each stamped with the node's Lamport and vector
 * clocks):
 *
 *   {"time":..,"node":"n1","kind":"commit","lamport":42,"vc":{"n1":9,"n2":4,"n3":0},
 *    "index":17,"term":3,"hash":"9f86d081884c7d65"}
 *
 * Kinds (docs/raft-node.md has the full contract): start (system, id,
 * auth, byzantine), send / recv (one per protocol datagram: to/from, type,
 * seq, term), reject (from, reason), ack (leader: from, term, match), byz
 * (what a --byzantine node did instead), role (role, term, leader), vote
 * (granted to "for" in term), append
 * (entries first..last written to our log, term of the last), commit
 * (commit index advanced: index, term, hash of that entry), apply (one per
 * applied entry: index, term, type, hash), snapshot (installed: index,
 * term). `hash` is the FNV-1a 64 of the entry's type byte and payload, so a
 * checker can verify that no two nodes apply different entries at one
 * index. Every event except send and recv is a local event for both
 * clocks (ticked before it is written); send and recv carry the clocks of
 * the datagram (sent with / merged from). Tracing can be switched off and on at run time (RIFT.TRACE). */
#ifndef RIFTLAB_NODE_TRACE_H
#define RIFTLAB_NODE_TRACE_H

#include <stdint.h>

#include "common/clock.h"
#include "common/trace.h"
#include "nodes/raft/raft.h"

typedef struct node_trace {
    trace *t;           /* NULL: no trace file configured */
    uint16_t self;
    lamport *lc;
    vclock *vc;
    uint64_t events;
} node_trace;

/* FNV-1a 64 of type || payload. */
uint64_t node_entry_hash(const raft_entry *e);

void node_trace_role(node_trace *t, const char *role, raft_term term, raft_id leader);
void node_trace_vote(node_trace *t, raft_id candidate, raft_term term);
void node_trace_append(node_trace *t, raft_index first, raft_index last, raft_term term);
void node_trace_commit(node_trace *t, raft_index index, raft_term term, uint64_t hash);
void node_trace_apply(node_trace *t, const raft_entry *e);
void node_trace_snapshot(node_trace *t, raft_index index, raft_term term);
/* start: system, id, auth, byzantine (NULL: honest, the field is absent). */
void node_trace_start(node_trace *t, const char *byzantine, int auth);
/* A datagram that left (to, type name, its header seq, the message's term).
 * Not a local event: stamped with the clocks the datagram carries. */
void node_trace_send(node_trace *t, raft_id to, uint8_t type, uint64_t seq, raft_term term);
/* A datagram that verified and decoded, stamped after the clock merge. */
void node_trace_recv(node_trace *t, raft_id from, uint8_t type, uint64_t seq, raft_term term);
/* A dropped datagram; from 0: the sender could not be read. */
void node_trace_reject(node_trace *t, raft_id from, const char *reason);
/* Leader: a successful append response from `from` (its term, match index). */
void node_trace_ack(node_trace *t, raft_id from, raft_term term, raft_index match);
/* What a --byzantine layer did instead of the honest thing (see node_byz.h). */
void node_trace_byz(node_trace *t, const char *mode, const char *what, raft_id peer, raft_term term,
                    raft_index index);

#endif
