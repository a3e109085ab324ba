/* raft.c: the Raft core's life cycle, event entry points (tick, recv,
 * propose, storage done), the output buffer (ready/done) and accessors.
 * The protocol itself lives in raft_elect.c, raft_replicate.c and
 * raft_read.c; see raft.h for the contract with the caller. */
#include "nodes/raft/raft_internal.h"

#include "common/wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- names --------------------------------------------------------------- */

const char *raft_strerror(int err)
{
    switch (err) {
    case RAFT_OK: return "ok";
    case RAFT_ENOTLEADER: return "not the leader";
    case RAFT_ETOOBIG: return "entry too big";
    case RAFT_EINVAL: return "invalid argument";
    case RAFT_EBUSY: return "too many pending reads";
    case RAFT_EMSG_TYPE: return "unknown raft message type";
    case RAFT_EMSG_SHORT: return "raft message body too short";
    case RAFT_EMSG_TRAILING: return "trailing bytes after raft message";
    case RAFT_EMSG_INVALID: return "invalid field in raft message";
    default: return "unknown raft error";
    }
}

const char *raft_role_name(enum raft_role role)
{
    static const char *names[] = {"follower", "precandidate", "candidate", "leader"};
    return (unsigned)role < 4 ? names[role] : "unknown";
}

static const struct { unsigned bit; const char *name; } bug_names[] = {
    {RAFT_BUG_STALE_READ, "stale-read"},
    {RAFT_BUG_COMMIT_OLD_TERM, "commit-old-term"},
    {RAFT_BUG_NO_LOG_CHECK, "no-log-check"},
    {RAFT_BUG_FORGET_VOTE, "forget-vote"},
    {RAFT_BUG_ACK_BEFORE_FSYNC, "ack-before-fsync"},
};

unsigned raft_bug_parse(const char *name)
{
    for (size_t i = 0; i < sizeof bug_names / sizeof bug_names[0]; i++)
        if (strcmp(name, bug_names[i].name) == 0)
            return bug_names[i].bit;
    return 0;
}

const char *raft_bug_name(unsigned bit)
{
    for (size_t i = 0; i < sizeof bug_names / sizeof bug_names[0]; i++)
        if (bug_names[i].bit == bit)
            return bug_names[i].name;
    return NULL;
}

void raft_config_default(raft_config *c)
{
    memset(c, 0, sizeof *c);
    c->heartbeat_ns = 50 * 1000000LL;
    c->election_timeout_ns = 500 * 1000000LL;
    c->lease_ns = 450 * 1000000LL;
    c->pre_vote = true;
    c->check_quorum = true;
    c->max_batch_entries = 64;
    c->max_batch_bytes = 48 * 1024;
    c->max_inflight = 1024;
    c->max_pending_reads = 4096;
    c->snapshot_threshold = 4096;
    c->snapshot_trailing = 256;
}

/* ---- small helpers used by every part of the core --------------------- */

void *raft_grow(void *p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return p;
    size_t n = *cap ? *cap : 8;
    while (n < need)
        n *= 2;
    p = realloc(p, n * elem);
    if (!p)
        abort(); /* as common/buf.h: nothing useful can be done without memory */
    *cap = n;
    return p;
}

void raft_send(raft *r, const raft_msg *m, raft_term last_term)
{
    r->msgs = raft_grow(r->msgs, &r->cap_msgs, r->n_msgs + 1, sizeof *r->msgs);
    raft_out_msg *o = &r->msgs[r->n_msgs++];
    o->m = *m;
    o->m.from = r->cfg.id;
    o->last_term = last_term;
}

void raft_event_add(raft *r, uint8_t type, raft_id peer, raft_term term, raft_index index)
{
    r->events = raft_grow(r->events, &r->cap_events, r->n_events + 1, sizeof *r->events);
    raft_event *e = &r->events[r->n_events++];
    memset(e, 0, sizeof *e);
    e->type = type;
    e->role = (uint8_t)r->role;
    e->peer = peer;
    e->term = term;
    e->index = index;
}

void raft_read_result_add(raft *r, uint64_t id, int status, raft_index index)
{
    r->results = raft_grow(r->results, &r->cap_results, r->n_results + 1, sizeof *r->results);
    raft_read_result *x = &r->results[r->n_results++];
    x->id = id;
    x->status = status;
    x->index = index;
    x->leader = r->leader;
}

raft_peer *raft_peer_find(raft *r, raft_id id)
{
    for (int i = 0; i < r->cfg.n_nodes; i++)
        if (r->peers[i].id == id)
            return &r->peers[i];
    return NULL;
}

void raft_reset_election_timer(raft *r)
{
    int64_t t = r->cfg.election_timeout_ns;
    r->election_deadline = r->now + t + (int64_t)prng_below(&r->rng, (uint64_t)t);
}

void raft_set_commit(raft *r, raft_index c)
{
    if (c <= r->commit)
        return;
    r->commit = c;
    raft_event_add(r, RAFT_EV_COMMIT, RAFT_NONE, raft_log_term(&r->log, c), c);
}

/* Drop our entries >= from, in memory and (via the output) on disk. */
void raft_truncate(raft *r, raft_index from)
{
    if (from > raft_log_last(&r->log))
        return;
    raft_log_truncate(&r->log, from);
    if (!r->truncate_from || from < r->truncate_from)
        r->truncate_from = from;
    if (r->append_from > from)
        r->append_from = 0; /* every pending entry is gone */
    if (r->persisted >= from)
        r->persisted = from - 1;
    if (r->verified >= from)
        r->verified = from - 1;
}

void raft_append_local(raft *r, raft_term term, uint8_t type, const void *data, uint32_t len)
{
    raft_log_append(&r->log, term, type, data, len);
    if (!r->append_from) {
        r->append_from = raft_log_last(&r->log);
        r->writeback_due = r->now + RAFT_BUG_WRITEBACK_NS;
    }
}

/* ack-before-fsync: pending entries stay in memory (already acknowledged)
 * until they are due or too many; everything else hands them out at once. */
bool raft_writeback_withheld(const raft *r)
{
    return (r->cfg.bugs & RAFT_BUG_ACK_BEFORE_FSYNC) && r->append_from &&
           r->now < r->writeback_due &&
           raft_log_last(&r->log) - r->append_from + 1 < RAFT_BUG_WRITEBACK_ENTRIES;
}

/* ---- life cycle ------------------------------------------------------------ */

static int check_config(const raft_config *c, char *err, size_t errlen)
{
    const char *why = NULL;
    if (c->n_nodes < 1 || c->n_nodes > RAFT_MAX_NODES)
        why = "n_nodes must be 1..16";
    else if (c->id == RAFT_NONE)
        why = "id must be non-zero";
    else if (c->heartbeat_ns <= 0 || c->election_timeout_ns <= c->heartbeat_ns)
        why = "need 0 < heartbeat < election timeout";
    else if (c->lease_ns < 0 || c->lease_ns >= c->election_timeout_ns)
        why = "lease must be shorter than the election timeout";
    else if (c->max_batch_entries == 0 || c->max_batch_bytes < RAFT_MAX_ENTRY || c->max_inflight == 0)
        why = "batch limits too small";
    else if ((uint64_t)c->max_batch_bytes + 13ull * c->max_batch_entries + 64 > WIRE_MAX_BODY)
        why = "batch limits exceed one datagram (max_batch_bytes + 13 x max_batch_entries)";
    if (!why) {
        int self = 0;
        for (int i = 0; i < c->n_nodes && !why; i++) {
            if (c->nodes[i] == RAFT_NONE)
                why = "node id 0 in nodes";
            self += c->nodes[i] == c->id;
            for (int j = 0; j < i; j++)
                if (c->nodes[j] == c->nodes[i])
                    why = "duplicate node id";
        }
        if (!why && self != 1)
            why = "id is not in nodes";
    }
    if (why && err)
        snprintf(err, errlen, "raft config: %s", why);
    return why ? -1 : 0;
}

raft *raft_new(const raft_config *cfg, const raft_boot *boot, int64_t now_ns,
               char *err, size_t errlen)
{
    if (check_config(cfg, err, errlen) < 0)
        return NULL;
    raft *r = calloc(1, sizeof *r);
    if (!r)
        abort();
    r->cfg = *cfg;
    prng_seed(&r->rng, cfg->seed);
    r->quorum = cfg->n_nodes / 2 + 1;
    for (int i = 0; i < cfg->n_nodes; i++) {
        r->peers[i].id = cfg->nodes[i];
        if (cfg->nodes[i] == cfg->id)
            r->self_slot = i;
    }
    raft_boot empty = {0};
    if (!boot)
        boot = &empty;
    raft_log_init(&r->log, boot->snap_index, boot->snap_term);
    for (size_t i = 0; i < boot->n_entries; i++)
        raft_log_append(&r->log, boot->entries[i].term, boot->entries[i].type,
                        boot->entries[i].data, boot->entries[i].len);
    if (boot->snap_len) {
        r->snap_data = malloc(boot->snap_len);
        if (!r->snap_data)
            abort();
        memcpy(r->snap_data, boot->snap_data, boot->snap_len);
    }
    r->snap_index = boot->snap_index;
    r->snap_term = boot->snap_term;
    r->snap_len = boot->snap_len;
    r->term = r->durable_term = boot->term;
    r->vote = r->durable_vote = boot->vote;
    /* A log entry newer than the durable term (entries became durable, the
     * term file did not) means that term was reached: never go below it. */
    raft_term last_term = raft_log_term(&r->log, raft_log_last(&r->log));
    if (last_term > r->term) {
        r->term = last_term;
        r->vote = RAFT_NONE;
        r->out_state = true;
    }
    r->persisted = raft_log_last(&r->log);
    r->commit = r->applied = boot->snap_index;
    r->role = RAFT_FOLLOWER;
    r->now = now_ns;
    /* No votes for one lease period after boot: see raft_elect.c. The
     * forget-vote bug keeps no memory of voting at all, this guard included
     * (it would otherwise mostly hide the bug: by the time the guard ends,
     * the election the node voted in is usually over). */
    int64_t grace = (cfg->bugs & RAFT_BUG_FORGET_VOTE) ? 0 : cfg->lease_ns;
    r->last_leader_contact = now_ns - cfg->election_timeout_ns + grace;
    raft_reset_election_timer(r);
    return r;
}

void raft_free(raft *r)
{
    if (!r)
        return;
    raft_log_free(&r->log);
    free(r->reads);
    free(r->snap_data);
    free(r->rsnap);
    free(r->msgs);
    free(r->msg_view);
    free(r->results);
    free(r->events);
    free(r);
}

/* ---- events ------------------------------------------------------------------ */

void raft_tick(raft *r, int64_t now_ns)
{
    r->now = now_ns;
    if (r->role == RAFT_LEADER) {
        if (r->cfg.check_quorum && now_ns >= r->quorum_check_deadline) {
            int heard = 1;
            for (int i = 0; i < r->cfg.n_nodes; i++)
                if (i != r->self_slot &&
                    now_ns - r->peers[i].last_heard < r->cfg.election_timeout_ns)
                    heard++;
            if (heard < r->quorum) {
                raft_become_follower(r, r->term, RAFT_NONE);
                return;
            }
            r->quorum_check_deadline = now_ns + r->cfg.election_timeout_ns;
        }
        if (now_ns >= r->heartbeat_deadline) {
            raft_broadcast(r);
            r->heartbeat_deadline = now_ns + r->cfg.heartbeat_ns;
        }
        return;
    }
    if (now_ns >= r->election_deadline) {
        raft_start_election(r);
        r->heartbeat_deadline = now_ns + r->cfg.heartbeat_ns;
    } else if (r->role != RAFT_FOLLOWER && now_ns >= r->heartbeat_deadline) {
        /* Vote requests travel over lossy links: ask again (same term). */
        raft_resend_vote_requests(r);
        r->heartbeat_deadline = now_ns + r->cfg.heartbeat_ns;
    }
}

void raft_recv(raft *r, const raft_msg *m)
{
    if (m->to != r->cfg.id || m->from == r->cfg.id || !raft_peer_find(r, m->from))
        return;
    switch (m->type) {
    case RAFT_MSG_VOTE:
    case RAFT_MSG_PREVOTE:
        raft_on_vote(r, m);
        return;
    case RAFT_MSG_VOTE_RESP:
    case RAFT_MSG_PREVOTE_RESP:
        raft_on_vote_resp(r, m);
        return;
    default:
        break;
    }
    /* Every other message comes from a leader or goes to one. */
    if (m->term > r->term) {
        bool from_leader = m->type == RAFT_MSG_APPEND || m->type == RAFT_MSG_SNAPSHOT;
        raft_become_follower(r, m->term, from_leader ? m->from : RAFT_NONE);
    }
    switch (m->type) {
    case RAFT_MSG_APPEND: raft_on_append(r, m); break;
    case RAFT_MSG_APPEND_RESP: raft_on_append_resp(r, m); break;
    case RAFT_MSG_SNAPSHOT: raft_on_snapshot(r, m); break;
    case RAFT_MSG_SNAPSHOT_RESP: raft_on_snapshot_resp(r, m); break;
    default: break;
    }
}

int raft_propose(raft *r, uint8_t type, const void *data, size_t len,
                 raft_index *index, raft_term *term)
{
    if (type != RAFT_ENTRY_NORMAL && type != RAFT_ENTRY_NOOP)
        return RAFT_EINVAL;
    if (len > RAFT_MAX_ENTRY)
        return RAFT_ETOOBIG;
    if (r->role != RAFT_LEADER)
        return RAFT_ENOTLEADER;
    raft_append_local(r, r->term, type, data, (uint32_t)len);
    if (index)
        *index = raft_log_last(&r->log);
    if (term)
        *term = r->term;
    if (r->cfg.bugs & RAFT_BUG_ACK_BEFORE_FSYNC)
        raft_maybe_commit(r); /* counts itself before the entry is durable */
    return RAFT_OK;
}

int raft_read(raft *r, enum raft_read_mode mode, uint64_t id)
{
    return raft_read_request(r, mode, id);
}

void raft_persisted_state(raft *r, raft_term term, raft_id vote)
{
    if (term != r->term || vote != r->vote)
        return; /* an older write finished; a newer one is on its way */
    r->durable_term = term;
    r->durable_vote = vote;
    raft_state_durable(r);
}

void raft_persisted_log(raft *r, raft_index index, raft_term term)
{
    if (index <= r->persisted || index > raft_log_last(&r->log) ||
        raft_log_term(&r->log, index) != term)
        return; /* stale: that entry was replaced or is already counted */
    r->persisted = index;
    if (r->role == RAFT_LEADER)
        raft_maybe_commit(r);
    else
        raft_follower_ack(r, false);
}

int raft_snapshot_taken(raft *r, raft_index index, const void *data, size_t len)
{
    if (index > r->applied || index <= r->snap_index || index > raft_log_last(&r->log))
        return RAFT_EINVAL;
    uint8_t *copy = NULL;
    if (len) {
        copy = malloc(len);
        if (!copy)
            abort();
        memcpy(copy, data, len);
    }
    free(r->snap_data);
    r->snap_data = copy;
    r->snap_len = len;
    r->snap_term = raft_log_term(&r->log, index);
    r->snap_index = index;
    /* Keep a tail for slow followers; never drop what storage has not got. */
    raft_index upto = index > r->cfg.snapshot_trailing ? index - r->cfg.snapshot_trailing : 0;
    if (upto > r->persisted)
        upto = r->persisted;
    if (r->append_from && upto >= r->append_from)
        upto = r->append_from - 1;
    raft_log_compact(&r->log, upto);
    /* A follower in the middle of receiving the old snapshot restarts. */
    for (int i = 0; i < r->cfg.n_nodes; i++)
        r->peers[i].snap_sending = false;
    return RAFT_OK;
}

/* ---- output --------------------------------------------------------------- */

/* Fill in payload pointers of queued messages now that the log is stable
 * until raft_done; drop messages whose entries were truncated meanwhile. */
static size_t materialize_msgs(raft *r)
{
    r->msg_view = raft_grow(r->msg_view, &r->cap_view, r->n_msgs, sizeof *r->msg_view);
    size_t n = 0;
    for (size_t i = 0; i < r->n_msgs; i++) {
        raft_msg m = r->msgs[i].m;
        if (m.type == RAFT_MSG_APPEND && m.u.append.n_entries) {
            raft_index first = m.u.append.prev_index + 1;
            raft_index last = m.u.append.prev_index + m.u.append.n_entries;
            if (first <= r->log.base || last > raft_log_last(&r->log) ||
                raft_log_term(&r->log, last) != r->msgs[i].last_term)
                continue;
            m.u.append.entries = raft_log_get(&r->log, first);
        } else if (m.type == RAFT_MSG_SNAPSHOT) {
            if (m.u.snapshot.snap_index != r->snap_index ||
                m.u.snapshot.offset + m.u.snapshot.len > r->snap_len)
                continue;
            m.u.snapshot.data = r->snap_data ? r->snap_data + m.u.snapshot.offset : NULL;
        }
        r->msg_view[n++] = m;
    }
    return n;
}

const raft_out *raft_ready(raft *r)
{
    if (r->role == RAFT_LEADER) {
        raft_reads_start_round(r);
        raft_replicate_pending(r);
    }
    raft_reads_progress(r);
    raft_out *o = &r->out;
    memset(o, 0, sizeof *o);
    o->persist_state = r->out_state;
    o->term = r->term;
    o->vote = (r->cfg.bugs & RAFT_BUG_FORGET_VOTE) ? RAFT_NONE : r->vote;
    o->snapshot_install = r->out_install;
    if (r->out_install) {
        o->snap_index = r->snap_index;
        o->snap_term = r->snap_term;
        o->snap_data = r->snap_data;
        o->snap_len = r->snap_len;
    }
    o->truncate_from = r->truncate_from;
    r->out_withheld = raft_writeback_withheld(r);
    if (r->append_from && !r->out_withheld && r->append_from <= raft_log_last(&r->log)) {
        o->append = raft_log_get(&r->log, r->append_from);
        o->n_append = (size_t)(raft_log_last(&r->log) - r->append_from + 1);
    }
    o->n_msgs = materialize_msgs(r);
    o->msgs = r->msg_view;
    r->out_apply_to = r->applied;
    if (r->commit > r->applied) {
        o->apply = raft_log_get(&r->log, r->applied + 1);
        o->n_apply = (size_t)(r->commit - r->applied);
        r->out_apply_to = r->commit;
    }
    o->reads = r->results;
    o->n_reads = r->n_results;
    o->events = r->events;
    o->n_events = r->n_events;
    o->want_snapshot = r->cfg.snapshot_threshold &&
                       r->out_apply_to - r->snap_index >= r->cfg.snapshot_threshold;
    r->in_ready = true;
    return o;
}

void raft_done(raft *r)
{
    r->applied = r->out_apply_to > r->applied ? r->out_apply_to : r->applied;
    r->out_state = false;
    r->out_install = false;
    r->truncate_from = 0;
    if (!r->out_withheld)
        r->append_from = 0;
    r->out_withheld = false;
    r->n_msgs = 0;
    r->n_results = 0;
    r->n_events = 0;
    r->in_ready = false;
    memset(&r->out, 0, sizeof r->out);
}

/* Mirrors everything raft_ready produces, including the work it does
 * itself (a read round to start, entries to send, pending reads that
 * follower acknowledgements completed), so a caller may sleep whenever this
 * is false. */
bool raft_has_ready(const raft *r)
{
    return r->out_state || r->out_install || r->truncate_from ||
           (r->append_from && !raft_writeback_withheld(r)) ||
           r->n_msgs || r->n_results || r->n_events || r->commit > r->applied ||
           (r->role == RAFT_LEADER && r->read_round_wanted) || raft_reads_ready(r) ||
           raft_replicate_wanted(r);
}

/* ---- accessors ------------------------------------------------------------- */

raft_id raft_self(const raft *r) { return r->cfg.id; }
enum raft_role raft_role(const raft *r) { return r->role; }
raft_term raft_current_term(const raft *r) { return r->term; }
raft_id raft_voted_for(const raft *r) { return r->vote; }
raft_id raft_leader(const raft *r) { return r->leader; }
raft_index raft_commit_index(const raft *r) { return r->commit; }
raft_index raft_applied_index(const raft *r) { return r->applied; }
raft_index raft_last_index(const raft *r) { return raft_log_last(&r->log); }
raft_index raft_persisted_index(const raft *r) { return r->persisted; }
raft_index raft_snapshot_index(const raft *r) { return r->snap_index; }
const raft_entry *raft_entry_at(const raft *r, raft_index i) { return raft_log_get(&r->log, i); }
raft_term raft_term_at(const raft *r, raft_index i) { return raft_log_term(&r->log, i); }
