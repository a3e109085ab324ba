/* trace.h: a node's trace of what it did, for the invariant checkers and
 * for reading a run afterwards (nodes/<id>.trace.jsonl in the run dir).
 *
 * One JSON object per line:
 *   {"time":1500000,"node":"n1","kind":"role","lamport":12,"vc":{"n1":3,"n2":1},"role":"leader","term":3}
 * time: nanoseconds since the trace's epoch (the node's start unless the
 * runner passes the run's start: CLOCK_MONOTONIC is shared by every
 * namespace on the machine); lamport / vc: the node's clocks when the event
 * was written, present if attached with trace_set_clocks; then the
 * event's own fields.
 *
 * Lines are buffered and written with one write(2) each flush: on a short
 * timer once attached to a loop, when the buffer passes TRACE_FLUSH_BYTES,
 * and on trace_flush/trace_close. Tracing can be switched off and on at run
 * time (RIFT.TRACE on|off); while off, trace_event costs one branch. */
#ifndef RIFTLAB_TRACE_H
#define RIFTLAB_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "clock.h"
#include "loop.h"

#define TRACE_FLUSH_BYTES (64u << 10)
#define TRACE_FLUSH_NS    (100u * 1000 * 1000)

typedef struct trace trace;

/* Appends to path (created 0644). Starts enabled, epoch = now. */
trace *trace_open(const char *path, const char *node, char *err, size_t errlen);
/* Flushes and closes (also cancels the flush timer). */
void trace_close(trace *t);
void trace_set_epoch(trace *t, uint64_t mono_ns);
void trace_set_enabled(trace *t, int on);
int trace_enabled(const trace *t);
/* Clocks to stamp every event with (either may be NULL). */
void trace_set_clocks(trace *t, const lamport *l, const vclock *v);
/* Flush every TRACE_FLUSH_NS on this loop. */
void trace_attach(trace *t, loop *l);

/* Write one event. fmt (may be NULL) gives the event's own fields as JSON
 * members without braces; use trace_json_str for strings from outside:
 *     trace_event(t, "role", "\"role\":\"%s\",\"term\":%llu", "leader", term); */
void trace_event(trace *t, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Returns 0, or -1 if the write failed (the buffered events are dropped). */
int trace_flush(trace *t);

/* Appends s (n bytes) to b as a quoted, escaped JSON string. */
void trace_json_str(buf *b, const char *s, size_t n);

#endif
