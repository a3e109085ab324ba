/* raft_read.c: reads without writing to the log.
 *
 * ReadIndex (linearizable): the leader notes its commit index as the read
 * index (once it has committed an entry of its own term, so its commit
 * index covers everything committed before it was elected), then confirms
 * it is still the leader: it starts a "round" (a heartbeat to every peer
 * carrying a round number, `ctx`) and waits until a majority echoed that
 * round or a later one. Then no other leader can have committed anything it
 * does not know; once the caller applied up to the read index, its state
 * is at least as new as any write that completed before the read began.
 * All reads that arrive in one ready/done cycle share one round.
 *
 * Lease: the send time of the newest round a majority acknowledged, plus
 * lease_ns (< the election timeout), on the leader's own clock. While it
 * runs, the followers that acknowledged will not vote for anyone else
 * (check_quorum stickiness), so no new leader exists and the read is served
 * at once. This assumes clocks advance at the same rate on every node:
 * with skew or drift a new leader may already exist (unsafe by design). */
#include "nodes/raft/raft_internal.h"

#include <string.h>

uint64_t raft_quorum_ctx(const raft *r)
{
    uint64_t m[RAFT_MAX_NODES];
    int n = r->cfg.n_nodes;
    for (int i = 0; i < n; i++) {
        uint64_t v = i == r->self_slot ? r->round : r->peers[i].acked_ctx;
        int j = i;
        for (; j > 0 && m[j - 1] < v; j--)
            m[j] = m[j - 1];
        m[j] = v;
    }
    return m[r->quorum - 1];
}

int64_t raft_lease_remaining(const raft *r, int64_t now_ns)
{
    if (r->role != RAFT_LEADER || r->cfg.lease_ns <= 0)
        return 0;
    uint64_t q = raft_quorum_ctx(r);
    if (q == 0 || q + RAFT_ROUND_RING <= r->round)
        return 0; /* no round acknowledged, or its send time is forgotten */
    int64_t expiry = r->round_time[q % RAFT_ROUND_RING] + r->cfg.lease_ns;
    return expiry > now_ns ? expiry - now_ns : 0;
}

static bool term_committed(const raft *r)
{
    return r->commit >= r->term_start;
}

int raft_read_request(raft *r, enum raft_read_mode mode, uint64_t id)
{
    switch (mode) {
    case RAFT_READ_SEQUENTIAL:
    case RAFT_READ_EVENTUAL:
        /* Local state after this batch's apply: the caller may as well
         * answer directly; this path exists so every mode looks alike. */
        raft_read_result_add(r, id, RAFT_OK, r->commit);
        return RAFT_OK;
    case RAFT_READ_LINEARIZABLE:
    case RAFT_READ_LEASE:
        break;
    default:
        return RAFT_EINVAL;
    }
    if (r->role != RAFT_LEADER) {
        raft_read_result_add(r, id, RAFT_ENOTLEADER, 0);
        return RAFT_OK;
    }
    if (mode == RAFT_READ_LINEARIZABLE && (r->cfg.bugs & RAFT_BUG_STALE_READ)) {
        raft_read_result_add(r, id, RAFT_OK, r->commit); /* no confirmation: the bug */
        return RAFT_OK;
    }
    if (mode == RAFT_READ_LEASE && term_committed(r) && raft_lease_remaining(r, r->now) > 0) {
        raft_read_result_add(r, id, RAFT_OK, r->commit);
        return RAFT_OK;
    }
    if (r->n_reads >= r->cfg.max_pending_reads)
        return RAFT_EBUSY;
    r->reads = raft_grow(r->reads, &r->cap_reads, r->n_reads + 1, sizeof *r->reads);
    raft_pending_read *p = &r->reads[r->n_reads++];
    memset(p, 0, sizeof *p);
    p->id = id;
    if (term_committed(r)) {
        p->has_index = true;
        p->index = r->commit;
    }
    r->read_round_wanted = true;
    return RAFT_OK;
}

void raft_reads_start_round(raft *r)
{
    if (!r->read_round_wanted)
        return;
    r->read_round_wanted = false;
    raft_broadcast(r);
    for (size_t i = 0; i < r->n_reads; i++)
        if (!r->reads[i].round)
            r->reads[i].round = r->round;
}

/* A pending read completes once a majority echoed its round (or a later
 * one) and the leader knows and has committed its read index. A read that
 * has no index yet gets the commit index as soon as the term is committed,
 * so "term committed" stands in for the index check there. Shared by
 * raft_reads_progress and raft_reads_ready so the two never disagree. */
static bool read_complete(const raft *r, const raft_pending_read *p, uint64_t q, bool tc)
{
    if (!p->round || p->round > q)
        return false;
    return p->has_index ? r->commit >= p->index : tc;
}

bool raft_reads_ready(const raft *r)
{
    if (r->role != RAFT_LEADER || !r->n_reads)
        return false;
    uint64_t q = raft_quorum_ctx(r);
    bool tc = term_committed(r);
    for (size_t i = 0; i < r->n_reads; i++)
        if (read_complete(r, &r->reads[i], q, tc))
            return true;
    return false;
}

void raft_reads_progress(raft *r)
{
    if (r->role != RAFT_LEADER || !r->n_reads)
        return;
    uint64_t q = raft_quorum_ctx(r);
    bool tc = term_committed(r);
    size_t keep = 0;
    for (size_t i = 0; i < r->n_reads; i++) {
        raft_pending_read *p = &r->reads[i];
        bool done = read_complete(r, p, q, tc);
        if (!p->has_index && tc) {
            p->has_index = true;
            p->index = r->commit;
        }
        if (done)
            raft_read_result_add(r, p->id, RAFT_OK, p->index);
        else
            r->reads[keep++] = *p;
    }
    r->n_reads = keep;
}

void raft_reads_fail_all(raft *r)
{
    for (size_t i = 0; i < r->n_reads; i++)
        raft_read_result_add(r, r->reads[i].id, RAFT_ENOTLEADER, 0);
    r->n_reads = 0;
    r->read_round_wanted = false;
}
