/* ctrl.c: a control plane node: the Raft core driving the configuration
 * state machine, plus the leader's failure detector (see ctrl.h). */
#include "ctrl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CTRL_MAX_SEEN 64

/* What this node knows about a chain node from its heartbeats. Local to
 * each control node (not replicated): only the leader acts on it. */
typedef struct ctrl_seen {
    uint16_t id;
    int64_t heard;        /* last heartbeat (or the start of our leadership) */
    int64_t removing;     /* when we proposed to remove it (0: never) */
    int64_t adding;       /* when we proposed to add it (0: never) */
    int join;             /* it asked to join */
    uint64_t boot;        /* the incarnation we know (0: none yet) */
    char addr[CTRL_ADDR_MAX], client[CTRL_ADDR_MAX];
} ctrl_seen;

struct ctrl_node {
    ctrl_options o;
    raft *r;
    ctrl_state st;
    ctrl_seen seen[CTRL_MAX_SEEN];
    int nseen;
    int was_leader;
    int64_t now;
    uint64_t removals;
    ctrl_send *out;
    size_t nout, capout;
};

int64_t ctrl_lease_ns(int64_t detect_ns, int64_t raft_election_ns)
{
    /* An election timeout is drawn from [t, 2t): allow two of the longest. */
    int64_t lease = detect_ns - 4 * raft_election_ns;
    return lease > 0 ? lease : 0;
}

static void push(ctrl_node *c, uint16_t to, uint8_t type, buf *b)
{
    if (c->nout == c->capout) {
        c->capout = c->capout ? c->capout * 2 : 16;
        c->out = realloc(c->out, c->capout * sizeof *c->out);
        if (!c->out)
            abort();
    }
    ctrl_send *s = &c->out[c->nout++];
    s->to = to;
    s->type = type;
    s->len = buf_size(b);
    s->body = malloc(s->len ? s->len : 1);
    if (!s->body)
        abort();
    memcpy(s->body, buf_ptr(b), s->len);
    buf_free(b);
}

static void send_config(ctrl_node *c, uint16_t to)
{
    buf b;
    buf_init(&b);
    ctrl_state_encode(&c->st, &b);
    push(c, to, CTRL_MSG_CONFIG, &b);
}

static ctrl_seen *seen_get(ctrl_node *c, uint16_t id)
{
    for (int i = 0; i < c->nseen; i++)
        if (c->seen[i].id == id)
            return &c->seen[i];
    if (c->nseen == CTRL_MAX_SEEN)
        return NULL;
    ctrl_seen *s = &c->seen[c->nseen++];
    memset(s, 0, sizeof *s);
    s->id = id;
    s->heard = c->now;
    return s;
}

/* Carry out everything Raft asked for: storage is memory, so it is
 * acknowledged at once; messages go to the outbox; committed commands
 * change the configuration, which the leader then pushes. */
static void process_ready(ctrl_node *c)
{
    while (raft_has_ready(c->r)) {
        const raft_out *o = raft_ready(c->r);
        int persist = o->persist_state;
        raft_term term = o->term;
        raft_id vote = o->vote;
        raft_index last = 0, snap = 0;
        raft_term last_term = 0, snap_term = 0;
        if (o->snapshot_install) {
            ctrl_state s;
            if (ctrl_state_decode(&s, o->snap_data, o->snap_len) == 0)
                c->st = s;
            snap = o->snap_index;
            snap_term = o->snap_term;
        }
        if (o->n_append) {
            last = o->append[o->n_append - 1].index;
            last_term = o->append[o->n_append - 1].term;
        }
        for (size_t i = 0; i < o->n_msgs; i++) {
            const raft_msg *m = &o->msgs[i];
            buf b;
            buf_init(&b);
            size_t cap = raft_msg_encoded_size(m);
            int n = raft_msg_encode(m, (uint8_t *)buf_reserve(&b, cap), cap);
            if (n < 0) {
                buf_free(&b);
                continue;
            }
            buf_commit(&b, (size_t)n);
            push(c, m->to, m->type, &b);
        }
        int changed = 0;
        for (size_t i = 0; i < o->n_apply; i++)
            if (o->apply[i].type == RAFT_ENTRY_NORMAL &&
                ctrl_state_apply(&c->st, o->apply[i].data, o->apply[i].len) == 1)
                changed = 1;
        raft_done(c->r);
        if (persist)
            raft_persisted_state(c->r, term, vote);
        if (snap)
            raft_persisted_log(c->r, snap, snap_term);
        if (last)
            raft_persisted_log(c->r, last, last_term);
        if (changed && raft_role(c->r) == RAFT_LEADER) {
            for (int i = 0; i < c->st.n; i++)
                send_config(c, c->st.m[i].id);
            for (int i = 0; i < c->nseen; i++)
                if (c->seen[i].join && !ctrl_state_find(&c->st, c->seen[i].id))
                    send_config(c, c->seen[i].id);
        }
    }
}

ctrl_node *ctrl_new(const ctrl_options *o, int64_t now_ns, char *err, size_t errlen)
{
    raft_config rc;
    raft_config_default(&rc);
    rc.id = o->id;
    rc.n_nodes = o->n_ctrl;
    memcpy(rc.nodes, o->ctrl, sizeof rc.nodes);
    rc.seed = o->seed;
    if (o->raft_heartbeat_ns)
        rc.heartbeat_ns = o->raft_heartbeat_ns;
    if (o->raft_election_ns) {
        rc.election_timeout_ns = o->raft_election_ns;
        rc.lease_ns = 0;
    }
    rc.snapshot_threshold = 0;   /* the configuration log stays tiny */
    if (o->detect_ns <= 0) {
        snprintf(err, errlen, "detection timeout must be positive");
        return NULL;
    }
    ctrl_node *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->o = *o;
    c->st = o->initial;
    c->now = now_ns;
    c->r = raft_new(&rc, NULL, now_ns, err, errlen);
    if (!c->r) {
        free(c);
        return NULL;
    }
    return c;
}

void ctrl_free(ctrl_node *c)
{
    if (!c)
        return;
    ctrl_outbox_clear(c);
    free(c->out);
    raft_free(c->r);
    free(c);
}

static void propose(ctrl_node *c, buf *b)
{
    raft_index idx;
    raft_term term;
    raft_propose(c->r, RAFT_ENTRY_NORMAL, buf_ptr(b), buf_size(b), &idx, &term);
    buf_free(b);
}

/* The leader's failure detector and join handling. */
static void leader_duties(ctrl_node *c)
{
    if (raft_role(c->r) != RAFT_LEADER) {
        c->was_leader = 0;
        return;
    }
    if (!c->was_leader) {
        /* A new leader has not been listening: give everyone a full
         * detection period from now (this is also what bounds leases). */
        c->was_leader = 1;
        for (int i = 0; i < c->nseen; i++)
            c->seen[i].heard = c->now;
    }
    for (int i = 0; i < c->st.n && c->st.n > 1; i++) {
        ctrl_seen *s = seen_get(c, c->st.m[i].id);
        if (!s || c->now - s->heard <= c->o.detect_ns ||
            (s->removing && c->now - s->removing <= c->o.detect_ns))
            continue;
        s->removing = c->now;
        c->removals++;
        buf b;
        buf_init(&b);
        ctrl_cmd_remove(&b, s->id);
        propose(c, &b);
    }
    for (int i = 0; i < c->nseen; i++) {
        ctrl_seen *s = &c->seen[i];
        if (!s->join || ctrl_state_find(&c->st, s->id) || c->now - s->heard > c->o.detect_ns ||
            (s->adding && c->now - s->adding <= c->o.detect_ns))
            continue;
        s->adding = c->now;
        buf b;
        buf_init(&b);
        ctrl_cmd_add(&b, s->id, s->addr, s->client);
        propose(c, &b);
    }
}

void ctrl_tick(ctrl_node *c, int64_t now_ns)
{
    c->now = now_ns;
    raft_tick(c->r, now_ns);
    process_ready(c);
    leader_duties(c);
    process_ready(c);
}

/* Is our applied configuration the newest committed one? A new leader only
 * knows once an entry of its own term (its no-op) has committed and been
 * applied; before that it may still list a member its predecessor already
 * removed, and must grant no leases on that basis. */
static int state_current(const ctrl_node *c)
{
    raft_index commit = raft_commit_index(c->r);
    return raft_applied_index(c->r) == commit &&
           raft_term_at(c->r, commit) == raft_current_term(c->r);
}

static void on_heartbeat(ctrl_node *c, uint16_t from, const uint8_t *body, size_t len)
{
    ctrl_heartbeat h;
    if (from == 0 || ctrl_heartbeat_decode(&h, body, len) < 0)
        return;
    ctrl_seen *s = seen_get(c, from);
    if (!s)
        return;
    int member = ctrl_state_find(&c->st, from) != NULL;
    /* A member we already proposed to remove gets no lease: the removal
     * may commit any moment. */
    if (!member)
        s->removing = 0;   /* its removal is done; a later ADD starts afresh */
    int removing = member && s->removing && c->now - s->removing <= c->o.detect_ns;
    /* A member asking to join, or heartbeating with a new incarnation,
     * restarted without its state: it does not count as alive, so it is
     * removed and can then join afresh. A non-member's incarnation is
     * simply recorded (it is the one that will be added). */
    if (!member || !s->boot)
        s->boot = h.boot;
    int lost_state = member && ((h.flags & CTRL_HB_JOIN) || h.boot != s->boot);
    if (!lost_state)
        s->heard = c->now;
    s->join = (h.flags & CTRL_HB_JOIN) && !member;
    snprintf(s->addr, sizeof s->addr, "%s", h.addr);
    snprintf(s->client, sizeof s->client, "%s", h.client);
    if (raft_role(c->r) == RAFT_LEADER && member && !removing && !lost_state && state_current(c)) {
        buf b;
        buf_init(&b);
        ctrl_hb_ack_encode(c->st.epoch, h.sent, &b);
        push(c, from, CTRL_MSG_HB_ACK, &b);
    }
    if (h.epoch < c->st.epoch)
        send_config(c, from);   /* polling fallback */
}

void ctrl_recv(ctrl_node *c, uint16_t from, uint8_t type, const uint8_t *body, size_t len,
               int64_t now_ns)
{
    c->now = now_ns;
    if (type >= 0x01 && type <= 0x0f) {
        raft_msg m;
        memset(&m, 0, sizeof m);
        if (raft_msg_decode(type, from, c->o.id, body, len, &m) == RAFT_OK)
            raft_recv(c->r, &m);
        raft_msg_free(&m);
        process_ready(c);
    } else if (type == CTRL_MSG_HEARTBEAT) {
        on_heartbeat(c, from, body, len);
    }
}

size_t ctrl_outbox(const ctrl_node *c, const ctrl_send **out)
{
    *out = c->out;
    return c->nout;
}

void ctrl_outbox_clear(ctrl_node *c)
{
    for (size_t i = 0; i < c->nout; i++)
        free(c->out[i].body);
    c->nout = 0;
}

const ctrl_state *ctrl_get_state(const ctrl_node *c)
{
    return &c->st;
}

int ctrl_is_leader(const ctrl_node *c)
{
    return raft_role(c->r) == RAFT_LEADER;
}

raft_id ctrl_leader(const ctrl_node *c)
{
    return raft_leader(c->r);
}

uint64_t ctrl_removals(const ctrl_node *c)
{
    return c->removals;
}
