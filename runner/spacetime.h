/* spacetime.h: a run's node traces as a space-time diagram's data, shared by
 * the ShiViz exporter (export_shiviz.c) and the report's SVG
 * (report_spacetime.c).
 *
 * Each trace (nodes/<id>.trace.jsonl) becomes one lane of events in file
 * order. Messages are matched: a `send` on lane A with `to` B and `seq` S is
 * received by every `recv` on lane B with `from` A and `seq` S (the proxy
 * may duplicate or replay a datagram: one send, several receives; or drop
 * it: a send with no receive, drawn as lost). From the lanes' order and the
 * message edges, st_build computes a topological order of the whole run
 * (the happens-before order; among concurrent events, the earlier run time
 * first) and vector clocks.
 *
 * Restarts: a restarted node appends a new incarnation to its trace (a
 * `start` event, or its time going back). Its own vector clock restarts at
 * zero, so the clocks written in the trace are not consistent across a
 * restart. The diagram therefore keeps one lane per node (the incarnation
 * continues the node's line: it comes after its predecessor, which wrote
 * what it recovers from disk) and recomputes every clock from the events
 * and matched messages instead of trusting the recorded `vc`. Sequence
 * numbers also restart, so a recv whose (from, to, seq, type) matches
 * sends of several incarnations takes the one nearest in run time (a send
 * up to a few ms after its recv is normal: each incarnation's time is
 * placed on the run's timeline from when the runner started it, which is a
 * little before the node opened its trace). */
#ifndef RIFTLAB_SPACETIME_H
#define RIFTLAB_SPACETIME_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

#define ST_MAX_LANES 64
#define ST_MAX_EVENTS 2000000u   /* beyond this the diagram is cut (st_trace.truncated) */

enum { ST_LOCAL = 0, ST_SEND = 1, ST_RECV = 2 };

/* One trace line. Indexes are into st_trace.ev. */
typedef struct st_event {
    int64_t t;            /* ns on the run's timeline (incarnation start + trace time) */
    uint64_t seq;         /* send/recv: the wire header's seq */
    uint64_t term;        /* role: its term (chain config: epoch) */
    uint32_t text;        /* offset in st_trace.text: "kind k=v ..." */
    int32_t send;         /* recv: its send, or -1 (none traced, or cut to break a cycle) */
    uint32_t nrecv;       /* send: how many recvs matched it (0: lost) */
    uint32_t pos;         /* position in st_trace.order */
    uint16_t lane;
    int16_t peer;         /* send: to; recv/reject/ack: from; -1 unknown */
    uint8_t type;         /* ST_LOCAL / ST_SEND / ST_RECV */
    uint8_t inc;          /* incarnation of its node, 0-based */
    char kind[14];        /* "send", "role", "commit", ... */
    char role[10];        /* role events: "leader", "follower", ... ("" otherwise) */
    char peer_name[16];   /* as written in the trace, resolved by st_build */
    char mtype[14];       /* send/recv: the message's type ("append", ...) */
} st_event;

typedef struct st_trace {
    char lanes[ST_MAX_LANES][16];
    int nlanes;
    st_event *ev;
    size_t nev, cap;
    buf text;             /* event descriptions, NUL separated */
    uint32_t *order;      /* event indexes in happens-before order (after st_build) */
    uint32_t *vc;         /* nev * nlanes, clocks of every event (after st_build) */
    size_t torn;          /* unparsable lines skipped (a torn last line, ...) */
    size_t cut;           /* message edges dropped to break a cycle */
    int truncated;        /* ST_MAX_EVENTS reached */
} st_trace;

void st_init(st_trace *st);
void st_free(st_trace *st);

/* Adds one node's trace (data: its JSONL bytes) as the lane `name`.
 * starts: run time (ns) at which each incarnation started (nstarts of
 * them; may be NULL: incarnations then follow each other). Returns the
 * lane index, or -1 if there is no room for another lane. */
int st_add_trace(st_trace *st, const char *name, const char *data, size_t len,
                 const int64_t *starts, int nstarts);

/* Reads every nodes/<id>.trace.jsonl of a run directory (lanes in natural
 * name order: n2 before n10) and nodes/starts.json, then st_build. Returns
 * the number of events, or -1 with err set if there is no trace at all. */
long st_load_run(st_trace *st, const char *run_dir, char *err, size_t errlen);

/* Resolves peers, matches messages, computes order, pos and vc. */
void st_build(st_trace *st);

/* Vector clocks over a subset of the events (keep[i] != 0; NULL: all):
 * messages whose send is not kept count as local events, so the clocks are
 * exactly those of the kept events alone (ShiViz requires every host's own
 * entry to count 1, 2, 3, ... over the events it is shown). out: nev *
 * nlanes entries; those of dropped events are left zero. */
void st_clocks(const st_trace *st, const uint8_t *keep, uint32_t *out);

static inline const char *st_text(const st_trace *st, const st_event *e)
{
    return buf_ptr(&st->text) + e->text;
}

/* The first position in the order whose event is at or after run time t
 * (on one of the lanes in lane_mask when it is non-zero); nev if none. */
size_t st_pos_at(const st_trace *st, int64_t t, uint64_t lane_mask);

#endif
