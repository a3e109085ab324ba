/* node_trace.c: JSON-lines trace events of raft-node (node_trace.h). */
#define _GNU_SOURCE
#include "node_trace.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

uint64_t node_entry_hash(const raft_entry *e)
{
    uint64_t h = 0xcbf29ce484222325ull;
    h = (h ^ e->type) * 0x100000001b3ull;
    for (uint32_t i = 0; i < e->len; i++)
        h = (h ^ e->data[i]) * 0x100000001b3ull;
    return h;
}

/* Tick both clocks (a local event) and write the event's fields. */
static void trace_emit(node_trace *t, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void trace_emit(node_trace *t, const char *kind, const char *fmt, ...)
{
    if (!t->t || !trace_enabled(t->t))
        return;
    lamport_tick(t->lc);
    vclock_tick(t->vc, (uint16_t)(t->self - 1));
    char fields[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(fields, sizeof fields, fmt, ap);
    va_end(ap);
    /* "event" repeats "kind" for readers written against that name. */
    trace_event(t->t, kind, "\"event\":\"%s\",%s", kind, fields);
    t->events++;
}

void node_trace_role(node_trace *t, const char *role, raft_term term, raft_id leader)
{
    trace_emit(t, "role", "\"role\":\"%s\",\"term\":%" PRIu64 ",\"leader\":%u", role, term, leader);
}

void node_trace_vote(node_trace *t, raft_id candidate, raft_term term)
{
    trace_emit(t, "vote", "\"for\":%u,\"term\":%" PRIu64, candidate, term);
}

void node_trace_append(node_trace *t, raft_index first, raft_index last, raft_term term)
{
    trace_emit(t, "append", "\"first\":%" PRIu64 ",\"last\":%" PRIu64 ",\"term\":%" PRIu64,
               first, last, term);
}

void node_trace_commit(node_trace *t, raft_index index, raft_term term, uint64_t hash)
{
    trace_emit(t, "commit", "\"index\":%" PRIu64 ",\"term\":%" PRIu64 ",\"hash\":\"%016" PRIx64 "\"",
               index, term, hash);
}

void node_trace_apply(node_trace *t, const raft_entry *e)
{
    trace_emit(t, "apply", "\"index\":%" PRIu64 ",\"term\":%" PRIu64 ",\"type\":%u,\"hash\":\"%016" PRIx64 "\"",
               e->index, e->term, e->type, node_entry_hash(e));
}

void node_trace_snapshot(node_trace *t, raft_index index, raft_term term)
{
    trace_emit(t, "snapshot", "\"index\":%" PRIu64 ",\"term\":%" PRIu64, index, term);
}
