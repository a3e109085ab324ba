/* node_trace.h: raft-node's trace events (written with common/trace.h, one
 * JSON object per line, each stamped with the node's Lamport and vector
 * clocks):
 *
 *   {"time":..,"node":"n1","kind":"commit","lamport":42,"vc":{"n1":9,"n2":4,"n3":0},
 *    "index":17,"term":3,"hash":"9f86d081884c7d65"}
 *
 * Kinds: role (role, term, leader), vote (granted to "for" in term), append
 * (entries first..last written to our log, term of the last), commit
 * (commit index advanced: index, term, hash of that entry), apply (one per
 * applied entry: index, term, type, hash), snapshot (installed: index,
 * term). `hash` is the FNV-1a 64 of the entry's type byte and payload, so a
 * checker can verify that no two nodes apply different entries at one
 * index. Every event is a local event for both clocks (ticked before it is
 * written). Tracing can be switched off and on at run time (RIFT.TRACE). */
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

#endif
