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

/* Write the event's fields. With tick, the event is a local event of its
 * own (both clocks ticked first); without, it is stamped with the clocks as
 * they are (a send or receive, which already moved them). */
static void trace_vemit(node_trace *t, int tick, const char *kind, const char *fmt, va_list ap)
{
    if (!t->t || !trace_enabled(t->t))
        return;
    if (tick) {
        lamport_tick(t->lc);
        vclock_tick(t->vc, (uint16_t)(t->self - 1));
    }
    char fields[256];
    vsnprintf(fields, sizeof fields, fmt, ap);
    /* "event" repeats "kind" for readers written against that name. */
    trace_event(t->t, kind, "\"event\":\"%s\",%s", kind, fields);
    t->events++;
}

static void trace_emit(node_trace *t, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void trace_emit(node_trace *t, const char *kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    trace_vemit(t, 1, kind, fmt, ap);
    va_end(ap);
}

static void trace_stamp(node_trace *t, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void trace_stamp(node_trace *t, const char *kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    trace_vemit(t, 0, kind, fmt, ap);
    va_end(ap);
}

void node_trace_start(node_trace *t, const char *byzantine, int auth)
{
    if (byzantine)
        trace_emit(t, "start", "\"system\":\"raft\",\"id\":%u,\"auth\":\"%s\",\"byzantine\":\"%s\"",
                   t->self, auth ? "hmac" : "none", byzantine);
    else
        trace_emit(t, "start", "\"system\":\"raft\",\"id\":%u,\"auth\":\"%s\"", t->self,
                   auth ? "hmac" : "none");
}

void node_trace_send(node_trace *t, raft_id to, uint8_t type, uint64_t seq, raft_term term)
{
    trace_stamp(t, "send", "\"to\":\"n%u\",\"type\":\"%s\",\"seq\":%" PRIu64 ",\"term\":%" PRIu64,
                to, raft_msg_type_name(type), seq, term);
}

void node_trace_recv(node_trace *t, raft_id from, uint8_t type, uint64_t seq, raft_term term)
{
    trace_stamp(t, "recv", "\"from\":\"n%u\",\"type\":\"%s\",\"seq\":%" PRIu64 ",\"term\":%" PRIu64,
                from, raft_msg_type_name(type), seq, term);
}

void node_trace_reject(node_trace *t, raft_id from, const char *reason)
{
    if (from)
        trace_emit(t, "reject", "\"from\":\"n%u\",\"reason\":\"%s\"", from, reason);
    else
        trace_emit(t, "reject", "\"from\":\"unknown\",\"reason\":\"%s\"", reason);
}

void node_trace_ack(node_trace *t, raft_id from, raft_term term, raft_index match)
{
    trace_emit(t, "ack", "\"from\":\"n%u\",\"term\":%" PRIu64 ",\"match\":%" PRIu64, from, term, match);
}

void node_trace_byz(node_trace *t, const char *mode, const char *what, raft_id peer, raft_term term,
                    raft_index index)
{
    trace_emit(t, "byz", "\"mode\":\"%s\",\"action\":\"%s\",\"peer\":\"n%u\",\"term\":%" PRIu64
               ",\"index\":%" PRIu64, mode, what, peer, term, index);
}

/* Roles and votes are rare and are the evidence election safety and
 * vote-once rest on: write them out at once, so a SIGKILL right after an
 * election (the nemesis's favourite moment) cannot lose them in the
 * buffer. Everything else waits for the periodic flush. */
static void trace_durable(node_trace *t)
{
    if (t->t && trace_enabled(t->t))
        trace_flush(t->t);
}

void node_trace_role(node_trace *t, const char *role, raft_term term, raft_id leader)
{
    trace_emit(t, "role", "\"role\":\"%s\",\"term\":%" PRIu64 ",\"leader\":%u", role, term, leader);
    trace_durable(t);
}

void node_trace_vote(node_trace *t, raft_id candidate, raft_term term)
{
    trace_emit(t, "vote", "\"for\":%u,\"term\":%" PRIu64, candidate, term);
    trace_durable(t);
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
