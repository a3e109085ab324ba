/* raft_replicate.c: log replication: the leader's AppendEntries and
 * snapshot sending, the follower's consistency check and acknowledgements,
 * and the commit rule.
 *
 * Replication is optimistic and pipelined: the leader advances a follower's
 * `next` as soon as it sends, and relies on rejections (with the fast
 * backtracking hint: the conflicting term and its first index) and on the
 * periodic heartbeat (which always carries prev = next-1) to repair losses.
 * A follower acknowledges only entries that are durable on its disk and
 * verified equal to the leader's log, so the leader's `match` is always a
 * safe count for the commit rule. */
#include "nodes/raft/raft_internal.h"

#include <stdlib.h>
#include <string.h>

static raft_index self_match(const raft *r)
{
    if (r->cfg.bugs & RAFT_BUG_ACK_BEFORE_FSYNC)
        return raft_log_last(&r->log);
    return r->persisted;
}

void raft_become_leader(raft *r)
{
    raft_index last = raft_log_last(&r->log);
    r->role = RAFT_LEADER;
    r->leader = r->cfg.id;
    r->round = 0;
    memset(r->round_time, 0, sizeof r->round_time);
    for (int i = 0; i < r->cfg.n_nodes; i++) {
        raft_peer *p = &r->peers[i];
        p->next = last + 1;
        p->match = 0;
        p->acked_ctx = 0;
        p->last_heard = r->now; /* give everyone an election timeout to answer */
        p->snap_sending = false;
    }
    raft_event_add(r, RAFT_EV_ROLE, r->cfg.id, r->term, last);
    /* The no-op commits everything before it once it is committed itself
     * (only current-term entries are committed by counting). The
     * commit-old-term bug leaves it out, as implementations that count
     * replicas for any term do: it exists only to make the correct rule
     * live, and without it a new leader's first acknowledgements cover
     * nothing but earlier terms' entries (figure 8's window). */
    r->term_start = last + 1;
    if (!(r->cfg.bugs & RAFT_BUG_COMMIT_OLD_TERM))
        raft_append_local(r, r->term, RAFT_ENTRY_NOOP, NULL, 0);
    r->heartbeat_deadline = r->now + r->cfg.heartbeat_ns;
    r->quorum_check_deadline = r->now + r->cfg.election_timeout_ns;
    raft_broadcast(r);
    raft_maybe_commit(r);
}

static void send_snapshot_chunk(raft *r, raft_peer *p)
{
    if (!p->snap_sending) {
        p->snap_sending = true;
        p->snap_offset = 0;
    }
    uint64_t left = r->snap_len - p->snap_offset;
    raft_msg m = {.type = RAFT_MSG_SNAPSHOT, .to = p->id, .term = r->term};
    m.u.snapshot.snap_index = r->snap_index;
    m.u.snapshot.snap_term = r->snap_term;
    m.u.snapshot.ctx = r->round;
    m.u.snapshot.total = r->snap_len;
    m.u.snapshot.offset = p->snap_offset;
    m.u.snapshot.len = (uint32_t)(left < RAFT_SNAPSHOT_CHUNK ? left : RAFT_SNAPSHOT_CHUNK);
    raft_send(r, &m, 0);
}

void raft_send_append(raft *r, raft_peer *p)
{
    if (p->next <= r->log.base) { /* the entry before next is gone: send the snapshot */
        send_snapshot_chunk(r, p);
        return;
    }
    raft_index prev = p->next - 1, last = raft_log_last(&r->log);
    raft_index limit = p->match + r->cfg.max_inflight;
    uint32_t n = 0;
    size_t bytes = 0;
    for (raft_index i = p->next; i <= last && i <= limit && n < r->cfg.max_batch_entries; i++) {
        const raft_entry *e = raft_log_get(&r->log, i);
        if (n && bytes + e->len > r->cfg.max_batch_bytes)
            break;
        bytes += e->len;
        n++;
    }
    raft_msg m = {.type = RAFT_MSG_APPEND, .to = p->id, .term = r->term};
    m.u.append.prev_index = prev;
    m.u.append.prev_term = raft_log_term(&r->log, prev);
    m.u.append.commit = r->commit;
    m.u.append.ctx = r->round;
    m.u.append.n_entries = n;
    raft_send(r, &m, n ? raft_log_term(&r->log, prev + n) : 0);
    p->next = prev + n + 1;
}

void raft_broadcast(raft *r)
{
    r->round++;
    r->round_time[r->round % RAFT_ROUND_RING] = r->now;
    r->peers[r->self_slot].acked_ctx = r->round;
    for (int i = 0; i < r->cfg.n_nodes; i++)
        if (i != r->self_slot)
            raft_send_append(r, &r->peers[i]);
}

/* A peer that should get new entries at the next ready: it is not being
 * sent a snapshot, lacks entries, and has room in its in-flight window.
 * Sending advances next, so this turns false once the entries went out. */
static bool append_wanted(const raft *r, const raft_peer *p, raft_index last)
{
    return !p->snap_sending && p->next <= last && p->next <= p->match + r->cfg.max_inflight;
}

bool raft_replicate_wanted(const raft *r)
{
    if (r->role != RAFT_LEADER)
        return false;
    raft_index last = raft_log_last(&r->log);
    for (int i = 0; i < r->cfg.n_nodes; i++)
        if (i != r->self_slot && append_wanted(r, &r->peers[i], last))
            return true;
    return false;
}

void raft_replicate_pending(raft *r)
{
    raft_index last = raft_log_last(&r->log);
    for (int i = 0; i < r->cfg.n_nodes; i++) {
        raft_peer *p = &r->peers[i];
        if (i != r->self_slot && append_wanted(r, p, last))
            raft_send_append(r, p);
    }
}

void raft_maybe_commit(raft *r)
{
    if (r->role != RAFT_LEADER)
        return;
    r->peers[r->self_slot].match = self_match(r);
    /* The quorum-th largest match is replicated (durably) on a majority. */
    raft_index m[RAFT_MAX_NODES];
    int n = r->cfg.n_nodes;
    for (int i = 0; i < n; i++) {
        raft_index v = r->peers[i].match;
        int j = i;
        for (; j > 0 && m[j - 1] < v; j--)
            m[j] = m[j - 1];
        m[j] = v;
    }
    raft_index c = m[r->quorum - 1];
    if (c <= r->commit)
        return;
    /* Figure 8 of the Raft paper: counting replicas only commits entries of
     * the current term; earlier ones commit with them. */
    if (raft_log_term(&r->log, c) != r->term && !(r->cfg.bugs & RAFT_BUG_COMMIT_OLD_TERM))
        return;
    raft_set_commit(r, c);
}

/* Where to resume after a rejection, from the follower's hint. */
static raft_index backtrack(const raft *r, const raft_peer *p, const raft_msg *m)
{
    raft_term ct = m->u.append_resp.conflict_term;
    raft_index hint = m->u.append_resp.conflict_index;
    if (ct) {
        raft_index i = p->next - 1;
        if (i > raft_log_last(&r->log))
            i = raft_log_last(&r->log);
        while (i > r->log.base && raft_log_term(&r->log, i) > ct)
            i--;
        if (i > r->log.base && raft_log_term(&r->log, i) == ct)
            hint = i + 1; /* we have that term: resume after our last entry of it */
    }
    if (hint <= p->match)
        hint = p->match + 1; /* it holds (durably) everything up to match */
    if (hint > raft_log_last(&r->log) + 1)
        hint = raft_log_last(&r->log) + 1;
    return hint;
}

static raft_peer *leader_peer(raft *r, const raft_msg *m, uint64_t ctx)
{
    if (r->role != RAFT_LEADER || m->term != r->term)
        return NULL;
    raft_peer *p = raft_peer_find(r, m->from);
    p->last_heard = r->now;
    if (ctx > p->acked_ctx && ctx <= r->round)
        p->acked_ctx = ctx;
    return p;
}

void raft_on_append_resp(raft *r, const raft_msg *m)
{
    raft_peer *p = leader_peer(r, m, m->u.append_resp.ctx);
    if (!p)
        return;
    if (m->u.append_resp.success) {
        raft_index match = m->u.append_resp.match_index;
        if (match > raft_log_last(&r->log))
            return; /* cannot be true of our log: ignore */
        if (match > p->match) {
            p->match = match;
            raft_maybe_commit(r);
        }
        if (p->next <= p->match)
            p->next = p->match + 1;
        if (p->snap_sending && p->match >= r->snap_index)
            p->snap_sending = false; /* it has all the snapshot covers */
        return;
    }
    if (!m->u.append_resp.conflict_term && m->u.append_resp.conflict_index &&
        m->u.append_resp.conflict_index <= p->match) {
        /* Its log looks shorter than what it acknowledged: an old rejection
         * overtaken by a later ack, or entries lost (a deliberate bug, a
         * broken disk). Lowering match is always safe (the commit index
         * never goes back) and the next ack restores it; keeping it would
         * clamp the hint above its log and resend the same append forever. */
        p->match = m->u.append_resp.conflict_index - 1;
    }
    raft_index hint = backtrack(r, p, m);
    if (p->snap_sending && hint <= r->log.base)
        return; /* the snapshot under way is the answer */
    if (hint < p->next || p->snap_sending) {
        p->snap_sending = false;
        p->next = hint;
        raft_send_append(r, p);
    }
}

void raft_on_snapshot_resp(raft *r, const raft_msg *m)
{
    raft_peer *p = leader_peer(r, m, m->u.snapshot_resp.ctx);
    if (!p || !p->snap_sending || m->u.snapshot_resp.snap_index != r->snap_index)
        return;
    if (m->u.snapshot_resp.next_offset >= r->snap_len) {
        p->snap_sending = false;
        if (p->next <= r->snap_index)
            p->next = r->snap_index + 1;
        raft_send_append(r, p);
        return;
    }
    if (m->u.snapshot_resp.next_offset > p->snap_offset) {
        p->snap_offset = m->u.snapshot_resp.next_offset;
        send_snapshot_chunk(r, p);
    }
}

void raft_follower_ack(raft *r, bool force)
{
    if (r->role != RAFT_FOLLOWER || r->leader == RAFT_NONE)
        return;
    raft_index match = r->verified;
    if (!(r->cfg.bugs & RAFT_BUG_ACK_BEFORE_FSYNC) && match > r->persisted)
        match = r->persisted;
    if (!force && match <= r->acked)
        return;
    if (match > r->acked)
        r->acked = match;
    raft_msg m = {.type = RAFT_MSG_APPEND_RESP, .to = r->leader, .term = r->term};
    m.u.append_resp.success = true;
    m.u.append_resp.match_index = match;
    m.u.append_resp.ctx = r->leader_ctx;
    raft_send(r, &m, 0);
}

static void reject(raft *r, raft_id to, raft_term ct, raft_index ci)
{
    raft_msg m = {.type = RAFT_MSG_APPEND_RESP, .to = to, .term = r->term};
    m.u.append_resp.conflict_term = ct;
    m.u.append_resp.conflict_index = ci;
    m.u.append_resp.ctx = r->leader_ctx;
    raft_send(r, &m, 0);
}

/* A message from the leader of our term: follow it, reset the timer. */
static void heard_leader(raft *r, const raft_msg *m, uint64_t ctx)
{
    if (r->role != RAFT_FOLLOWER || r->leader != m->from)
        raft_become_follower(r, r->term, m->from);
    r->last_leader_contact = r->now;
    raft_reset_election_timer(r);
    if (ctx > r->leader_ctx)
        r->leader_ctx = ctx;
}

void raft_on_append(raft *r, const raft_msg *m)
{
    if (m->term < r->term) {
        reject(r, m->from, 0, 0); /* tells a stale leader our term */
        return;
    }
    heard_leader(r, m, m->u.append.ctx);
    raft_index prev = m->u.append.prev_index;
    raft_term prev_term = m->u.append.prev_term;
    const raft_entry *e = m->u.append.entries;
    raft_index n = m->u.append.n_entries;
    if (prev < r->log.base) {
        /* Entries up to base are committed and in our snapshot: skip them. */
        raft_index skip = r->log.base - prev;
        if (skip > n)
            skip = n;
        if (skip)   /* entries is NULL when there are none: no arithmetic on it */
            e += skip;
        n -= skip;
        prev += skip;
        if (prev < r->log.base) {
            raft_follower_ack(r, true);
            return;
        }
        prev_term = raft_log_term(&r->log, prev);
    }
    raft_index last = raft_log_last(&r->log);
    if (prev > last) {
        reject(r, m->from, 0, last + 1);
        return;
    }
    raft_term have = raft_log_term(&r->log, prev);
    if (have != prev_term) {
        raft_index first = prev;
        while (first > r->log.base + 1 && raft_log_term(&r->log, first - 1) == have)
            first--;
        reject(r, m->from, have, first);
        return;
    }
    for (raft_index i = 0; i < n; i++) {
        raft_index idx = prev + 1 + i;
        if (idx <= raft_log_last(&r->log)) {
            if (raft_log_term(&r->log, idx) == e[i].term)
                continue;
            raft_truncate(r, idx); /* conflict: ours was never committed */
        }
        raft_append_local(r, e[i].term, e[i].type, e[i].data, e[i].len);
    }
    if (prev + n > r->verified)
        r->verified = prev + n;
    raft_index c = m->u.append.commit < prev + n ? m->u.append.commit : prev + n;
    raft_set_commit(r, c);
    raft_follower_ack(r, true);
}

static void install(raft *r)
{
    free(r->snap_data);
    r->snap_data = r->rsnap;
    r->snap_len = r->rsnap_len;
    r->snap_index = r->rsnap_index;
    r->snap_term = r->rsnap_term;
    r->rsnap = NULL;
    r->rsnap_len = r->rsnap_cap = 0;
    r->rsnap_index = 0;
    raft_log_reset(&r->log, r->snap_index, r->snap_term);
    r->truncate_from = 0;     /* the caller drops its whole durable log */
    r->append_from = 0;
    r->persisted = 0; /* nothing is durable until the caller reports the snapshot */
    r->verified = r->snap_index;
    r->applied = r->snap_index;
    raft_set_commit(r, r->snap_index);
    r->out_install = true;
    raft_event_add(r, RAFT_EV_SNAPSHOT, r->leader, r->snap_term, r->snap_index);
}

void raft_on_snapshot(raft *r, const raft_msg *m)
{
    if (m->term < r->term) {
        reject(r, m->from, 0, 0);
        return;
    }
    heard_leader(r, m, m->u.snapshot.ctx);
    raft_msg resp = {.type = RAFT_MSG_SNAPSHOT_RESP, .to = m->from, .term = r->term};
    resp.u.snapshot_resp.snap_index = m->u.snapshot.snap_index;
    resp.u.snapshot_resp.ctx = r->leader_ctx;
    raft_index si = m->u.snapshot.snap_index;
    bool in_log = si <= raft_log_last(&r->log) && si > r->log.base &&
                  raft_log_term(&r->log, si) == m->u.snapshot.snap_term;
    if (si <= r->commit || in_log) {
        /* We already hold everything it covers. Installing would throw away
         * entries after it that we may have acknowledged, so instead just
         * learn that it is committed. */
        resp.u.snapshot_resp.next_offset = m->u.snapshot.total;
        raft_send(r, &resp, 0);
        if (in_log) {
            if (si > r->verified)
                r->verified = si;
            raft_set_commit(r, si);
            raft_follower_ack(r, true);
        }
        return;
    }
    if (m->u.snapshot.offset == 0 && r->rsnap_index != m->u.snapshot.snap_index) {
        r->rsnap_index = m->u.snapshot.snap_index;
        r->rsnap_term = m->u.snapshot.snap_term;
        r->rsnap_len = 0;
    }
    if (r->rsnap_index == m->u.snapshot.snap_index && m->u.snapshot.offset == r->rsnap_len) {
        r->rsnap = raft_grow(r->rsnap, &r->rsnap_cap, r->rsnap_len + m->u.snapshot.len + 1, 1);
        if (m->u.snapshot.len)
            memcpy(r->rsnap + r->rsnap_len, m->u.snapshot.data, m->u.snapshot.len);
        r->rsnap_len += m->u.snapshot.len;
    }
    bool ours = r->rsnap_index == m->u.snapshot.snap_index;
    bool whole = ours && r->rsnap_len == m->u.snapshot.total;
    if (whole && r->cfg.snapshot_ok && !r->cfg.snapshot_ok(r->cfg.snapshot_ok_arg, r->rsnap, r->rsnap_len)) {
        r->rsnap_len = 0;   /* not restorable: drop it, ask for it from the start */
        r->rsnap_index = 0;
        ours = whole = false;
    }
    resp.u.snapshot_resp.next_offset = ours ? r->rsnap_len : 0;
    raft_send(r, &resp, 0);
    if (whole)
        install(r);
}
