/* raft_elect.c: leader election: follower/pre-candidate/candidate
 * transitions, pre-vote, RequestVote and its answers.
 *
 * Safety rests on three rules here:
 *  - one vote per term, and a vote is only announced once it is durable
 *    (raft_state_durable sends the delayed grant), so a crash cannot make a
 *    node vote twice in a term;
 *  - a candidate counts its own vote only once that vote is durable;
 *  - the up-to-date check: grant only to a candidate whose last entry has a
 *    higher term, or the same term and at least our index.
 * Liveness/stability:
 *  - pre-vote: a node whose election timer fires first asks "would you vote
 *    for me in term+1?" without changing anyone's term, so a node that was
 *    partitioned away cannot inflate terms and depose a healthy leader;
 *  - with check_quorum, a node that heard from a leader within the minimum
 *    election timeout ignores (pre)vote requests entirely ("leader
 *    stickiness"), which is also what makes leader leases meaningful. A
 *    freshly booted node ignores them for one lease period (lease_ns), so a
 *    restarted node cannot at once help elect someone while an old
 *    leader's lease (that it acknowledged before crashing) may still run.
 *  - candidates re-send their requests every heartbeat to members that
 *    have not answered (links lose messages). */
#include "nodes/raft/raft_internal.h"

#include <string.h>

static void role_event(raft *r)
{
    raft_event_add(r, RAFT_EV_ROLE, r->leader, r->term, raft_log_last(&r->log));
}

static void clear_votes(raft *r)
{
    for (int i = 0; i < r->cfg.n_nodes; i++) {
        r->peers[i].granted = false;
        r->peers[i].responded = false;
    }
}

void raft_become_follower(raft *r, raft_term term, raft_id leader)
{
    enum raft_role old_role = r->role;
    raft_id old_leader = r->leader;
    if (term > r->term) {
        r->term = term;
        r->vote = RAFT_NONE;
        r->out_state = true;
        r->pending_grant = RAFT_NONE;
        r->verified = 0;
        r->acked = 0;
        r->leader_ctx = 0;
        old_leader = RAFT_NONE;
    }
    r->role = RAFT_FOLLOWER;
    r->leader = leader;
    r->self_vote_durable = false;
    if (leader != RAFT_NONE)
        r->last_leader_contact = r->now;
    if (old_role == RAFT_LEADER)
        raft_reads_fail_all(r);
    raft_reset_election_timer(r);
    if (old_role != RAFT_FOLLOWER || leader != old_leader)
        role_event(r);
}

static void send_vote_requests(raft *r, uint8_t type, raft_term term)
{
    raft_index last = raft_log_last(&r->log);
    for (int i = 0; i < r->cfg.n_nodes; i++) {
        if (i == r->self_slot || r->peers[i].responded)
            continue;
        raft_msg m = {.type = type, .to = r->peers[i].id, .term = term};
        m.u.vote.last_index = last;
        m.u.vote.last_term = raft_log_term(&r->log, last);
        raft_send(r, &m, 0);
    }
}

static void tally(raft *r);

void raft_resend_vote_requests(raft *r)
{
    if (r->role == RAFT_PRECANDIDATE)
        send_vote_requests(r, RAFT_MSG_PREVOTE, r->term + 1);
    else if (r->role == RAFT_CANDIDATE)
        send_vote_requests(r, RAFT_MSG_VOTE, r->term);
}

/* Real election: new term, vote for ourselves, ask everyone. */
static void campaign(raft *r)
{
    r->term++;
    r->vote = r->cfg.id;
    r->out_state = true;
    r->role = RAFT_CANDIDATE;
    r->leader = RAFT_NONE;
    r->pending_grant = RAFT_NONE;
    r->verified = r->acked = 0;
    r->leader_ctx = 0;
    /* Our own vote counts once it is durable (raft_state_durable); the
     * forget-vote bug does not wait (it never makes the vote durable). */
    r->self_vote_durable = (r->cfg.bugs & RAFT_BUG_FORGET_VOTE) != 0;
    clear_votes(r);
    raft_reset_election_timer(r);
    role_event(r);
    send_vote_requests(r, RAFT_MSG_VOTE, r->term);
    tally(r);
}

void raft_start_election(raft *r)
{
    if (!r->cfg.pre_vote || r->cfg.n_nodes == 1) {
        campaign(r);
        return;
    }
    r->role = RAFT_PRECANDIDATE;
    r->leader = RAFT_NONE;
    clear_votes(r);
    r->peers[r->self_slot].granted = true;
    raft_reset_election_timer(r);
    role_event(r);
    send_vote_requests(r, RAFT_MSG_PREVOTE, r->term + 1);
}

static void tally(raft *r)
{
    int granted = 0;
    for (int i = 0; i < r->cfg.n_nodes; i++) {
        if (i == r->self_slot)
            granted += r->role == RAFT_PRECANDIDATE || r->self_vote_durable;
        else
            granted += r->peers[i].granted;
    }
    if (granted < r->quorum)
        return;
    if (r->role == RAFT_PRECANDIDATE)
        campaign(r);
    else if (r->role == RAFT_CANDIDATE)
        raft_become_leader(r);
}

static bool log_up_to_date(const raft *r, const raft_msg *m)
{
    if (r->cfg.bugs & RAFT_BUG_NO_LOG_CHECK)
        return true;
    raft_index last = raft_log_last(&r->log);
    raft_term last_term = raft_log_term(&r->log, last);
    return m->u.vote.last_term > last_term ||
           (m->u.vote.last_term == last_term && m->u.vote.last_index >= last);
}

static void answer(raft *r, const raft_msg *req, raft_term term, bool granted)
{
    uint8_t type = req->type == RAFT_MSG_PREVOTE ? RAFT_MSG_PREVOTE_RESP : RAFT_MSG_VOTE_RESP;
    raft_msg m = {.type = type, .to = req->from, .term = term};
    m.u.vote_resp.granted = granted;
    raft_send(r, &m, 0);
}

void raft_on_vote(raft *r, const raft_msg *m)
{
    bool pre = m->type == RAFT_MSG_PREVOTE;
    if (m->term > r->term && r->cfg.check_quorum &&
        (r->role == RAFT_LEADER || r->now - r->last_leader_contact < r->cfg.election_timeout_ns))
        return; /* leader stickiness: we have a live leader; no answer at all */
    if (m->term < r->term) {
        answer(r, m, r->term, false);
        return;
    }
    bool ok = log_up_to_date(r, m);
    if (pre) {
        /* Nothing changes here: no term, no vote, no timer. */
        bool grant = ok && (m->term > r->term ||
                            (r->leader == RAFT_NONE && (r->vote == RAFT_NONE || r->vote == m->from)));
        answer(r, m, grant ? m->term : r->term, grant);
        return;
    }
    if (m->term > r->term)
        raft_become_follower(r, m->term, RAFT_NONE);
    if (!ok || (r->vote != RAFT_NONE && r->vote != m->from)) {
        answer(r, m, r->term, false);
        return;
    }
    if (r->vote != m->from) {
        r->vote = m->from;
        r->out_state = true;
        raft_event_add(r, RAFT_EV_VOTE_GRANTED, m->from, r->term, raft_log_last(&r->log));
    }
    raft_reset_election_timer(r);
    bool durable = r->durable_term == r->term && r->durable_vote == m->from;
    if (durable || (r->cfg.bugs & RAFT_BUG_FORGET_VOTE))
        answer(r, m, r->term, true);
    else
        r->pending_grant = m->from; /* answered by raft_state_durable */
}

void raft_on_vote_resp(raft *r, const raft_msg *m)
{
    bool pre = m->type == RAFT_MSG_PREVOTE_RESP;
    /* A granted pre-vote carries the term we would campaign in, not a newer
     * term someone is in; anything else newer makes us a follower. */
    if (m->term > r->term && !(pre && m->u.vote_resp.granted && m->term == r->term + 1)) {
        raft_become_follower(r, m->term, RAFT_NONE);
        return;
    }
    if (pre ? (r->role != RAFT_PRECANDIDATE || m->term != r->term + 1)
            : (r->role != RAFT_CANDIDATE || m->term != r->term))
        return;
    raft_peer *p = raft_peer_find(r, m->from);
    p->responded = true;
    p->granted = m->u.vote_resp.granted;
    tally(r);
}

void raft_state_durable(raft *r)
{
    if (r->pending_grant != RAFT_NONE && r->durable_vote == r->pending_grant) {
        raft_msg req;
        memset(&req, 0, sizeof req);
        req.type = RAFT_MSG_VOTE;
        req.from = r->pending_grant;
        answer(r, &req, r->term, true);
        r->pending_grant = RAFT_NONE;
    }
    if (r->role == RAFT_CANDIDATE && r->durable_vote == r->cfg.id && !r->self_vote_durable) {
        r->self_vote_durable = true;
        tally(r);
    }
}
