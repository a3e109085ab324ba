/* chain_sim.c: the deterministic chain simulation (see chain_sim.h).
 *
 * Time advances in ticks. In one tick: due messages are delivered in a
 * seeded random order, faults may strike (crash, join), the configuration
 * master reacts (removes crashed members after a detection delay, appends
 * joiners that hold a snapshot), clients time out or invoke, and every live
 * node ticks. Every decision comes from one prng seeded by the run's seed,
 * so a seed replays exactly.
 *
 * Two ways to configure the chain: the in-test master (removes a crashed
 * member after a random detection delay, pushes each epoch to every live
 * node at once), or the real control plane (opts.ctrl): three ctrl nodes
 * (nodes/ctrl, on the Raft core) on the same faulty network, chain nodes
 * sending heartbeats and holding read leases, clients with a stale view of
 * the configuration, and pauses that make the control plane remove live
 * members (false suspicions). */
#include "chain_sim.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/prng.h"
#include "ctrl.h"
#include "kv.h"

#define SIM_NODES     16     /* node ids 1..16 over a run (joiners get new ids) */
#define SIM_CLIENTS   5
#define SIM_KEYS      3
#define SIM_FAULT_TICKS 400  /* faults and new operations only before this */
#define SIM_QUIET_TICKS 300  /* then a quiet phase to converge */
#define SIM_TIMEOUT   40     /* client timeout, ticks */
#define SIM_CTRL      3      /* control nodes, ids SIM_NODES+1 .. */
#define SIM_CTRL_ID(i) ((uint16_t)(SIM_NODES + 1 + (i)))
#define SIM_TICK_NS   1000000LL   /* a tick is 1 ms for the control plane's clocks */
#define SIM_HB_TICKS  3      /* chain heartbeat period */
#define SIM_DETECT_TICKS 60  /* control plane detection timeout */
#define SIM_ELECT_TICKS  10  /* control plane Raft election timeout */
#define SIM_VIEW_TICKS   20  /* clients refresh their view of the configuration */

typedef struct sim_msg {
    uint64_t at;
    uint16_t from, to;
    uint8_t type;
    uint8_t *body;
    size_t len;
} sim_msg;

typedef struct sim_node {
    chain_node *c;           /* NULL: never existed or crashed */
    int joining;             /* started as a joiner and not yet added */
    uint64_t crashed_at;     /* tick of the crash (0: alive or never existed) */
    uint64_t detect_at;      /* when the master notices the crash */
    uint64_t next_commit;    /* the sequence number this node must commit next */
    uint64_t paused_until;   /* ctrl mode: not running before this tick */
    uint64_t lease_until;    /* ctrl mode: may serve reads before this tick */
    int was_member;          /* ctrl mode: rejoin when removed while running */
} sim_node;

typedef struct sim_client {
    int busy;
    size_t op;               /* index into ops */
    uint64_t deadline;
} sim_client;

typedef struct sim {
    sim_opts o;
    sim_result *r;
    prng rng;
    uint64_t tick, ev;
    double drop, dup;
    int maxdelay;
    sim_node nodes[SIM_NODES + 1];
    uint16_t next_id;
    chain_config cfg;         /* the newest committed configuration */
    chain_config view;        /* ctrl mode: what clients believe (refreshed now and then) */
    ctrl_node *ctrl[SIM_CTRL];
    int ctrl_crashed;
    sim_msg *msgs;
    size_t nmsgs, capmsgs;
    sim_op *ops;
    size_t nops, capops;
    sim_client clients[SIM_CLIENTS];
    uint64_t *order;          /* order[seq] = rid committed at seq (0: none yet) */
    size_t n_order, cap_order;
} sim;

static void fail(sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(sim *s, const char *fmt, ...)
{
    if (!s->r->ok)
        return;
    s->r->ok = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->r->why, sizeof s->r->why, fmt, ap);
    va_end(ap);
}

static void say(sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(sim *s, const char *fmt, ...)
{
    if (!s->o.verbose)
        return;
    va_list ap;
    va_start(ap, fmt);
    printf("[t=%" PRIu64 "] ", s->tick);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
}

static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return p;
    while (*cap < need)
        *cap = *cap ? *cap * 2 : 64;
    p = realloc(p, *cap * size);
    if (!p)
        abort();
    return p;
}

/* --- committed order ------------------------------------------------------ */

static void on_commit(sim *s, uint16_t id, uint64_t seq, uint64_t rid)
{
    sim_node *n = &s->nodes[id];
    say(s, "n%u commits seq %" PRIu64 " (op %" PRIu64 ")", id, seq, rid);
    if (seq != n->next_commit)
        fail(s, "n%u committed seq %" PRIu64 " but its next was %" PRIu64, id, seq, n->next_commit);
    n->next_commit = seq + 1;
    if (seq > s->n_order) {
        if (seq != s->n_order + 1) {
            fail(s, "n%u committed seq %" PRIu64 " before anyone committed %zu", id, seq,
                 s->n_order + 1);
            return;
        }
        s->order = grow(s->order, &s->cap_order, seq + 1, sizeof *s->order);
        s->order[seq] = rid;
        s->n_order = seq;
    } else if (s->order[seq] != rid) {
        fail(s, "n%u committed write %" PRIu64 " at seq %" PRIu64 " where another node committed %" PRIu64
             " (not a prefix of one order)", id, rid, seq, s->order[seq]);
    }
}

/* --- actions ---------------------------------------------------------------- */

static void client_done(sim *s, size_t opi, const chain_action *a)
{
    sim_op *op = &s->ops[opi];
    sim_client *cl = &s->clients[op->client];
    if (op->status != SIM_PENDING)
        return;
    op->resp = ++s->ev;
    if (a->status != CHAIN_OK) {
        /* Every error the core gives before sequencing proves nothing happened. */
        op->status = op->is_write ? SIM_FAIL : SIM_INFO;
        op->resp = UINT64_MAX;
    } else {
        op->status = SIM_OK;
        if (op->is_write) {
            s->r->writes_ok++;
        } else {
            s->r->reads_ok++;
            if (a->reply_type == KV_REPLY_BULK) {
                char tmp[32];
                size_t n = a->len < sizeof tmp - 1 ? a->len : sizeof tmp - 1;
                memcpy(tmp, a->body, n);
                tmp[n] = 0;
                op->value = strtoull(tmp, NULL, 10);
            }
        }
    }
    say(s, "op %" PRIu64 " %s k%d at n%u -> %s %s value=%" PRIu64, op->rid, op->is_write ? "write" : "read",
        op->key, op->node, chain_status_name(a->status), op->is_write ? "" : chain_read_mode_name(op->mode),
        op->is_write ? op->rid : op->value);
    if (cl->busy && cl->op == opi)
        cl->busy = 0;
}

/* Put a datagram on the simulated network: maybe dropped, maybe
 * duplicated, each copy delayed 1..maxdelay ticks (so reordered). */
static void enqueue(sim *s, uint16_t from, uint16_t to, uint8_t type, const uint8_t *body, size_t len)
{
    if (prng_chance(&s->rng, s->drop))
        return;
    int copies = 1 + prng_chance(&s->rng, s->dup);
    for (int k = 0; k < copies; k++) {
        s->msgs = grow(s->msgs, &s->capmsgs, s->nmsgs + 1, sizeof *s->msgs);
        sim_msg *m = &s->msgs[s->nmsgs++];
        m->at = s->tick + 1 + prng_below(&s->rng, (uint64_t)s->maxdelay);
        m->from = from;
        m->to = to;
        m->type = type;
        m->len = len;
        m->body = malloc(len ? len : 1);
        memcpy(m->body, body, len);
    }
}

static void drain(sim *s, uint16_t id)
{
    chain_node *c = s->nodes[id].c;
    const chain_action *acts;
    size_t n = chain_actions(c, &acts);
    for (size_t i = 0; i < n; i++) {
        const chain_action *a = &acts[i];
        switch (a->kind) {
        case CHAIN_ACT_SEND:
            enqueue(s, id, a->to, a->type, a->body, a->len);
            break;
        case CHAIN_ACT_REPLY:
            if (a->id >= 1 && a->id <= s->nops && s->ops[a->id - 1].node == id)
                client_done(s, (size_t)a->id - 1, a);
            break;
        case CHAIN_ACT_COMMIT:
            on_commit(s, id, a->seq, a->id);
            break;
        case CHAIN_ACT_SNAPSHOT:
            if (a->seq > s->n_order)
                fail(s, "n%u installed a snapshot at seq %" PRIu64 " beyond the committed %zu",
                     id, a->seq, s->n_order);
            say(s, "n%u installs a snapshot at seq %" PRIu64, id, a->seq);
            s->nodes[id].next_commit = a->seq + 1;
            break;
        default:
            break;
        }
    }
    chain_actions_clear(c);
}

/* --- nodes, crashes, the configuration master ------------------------------- */

static chain_node *node_new(sim *s, uint16_t id, int joining)
{
    chain_options o = { .id = id, .bugs = s->o.bugs, .rto_ticks = 3, .batch = 16,
                        .max_inflight = 256, .log_retain = 8, .joining = joining,
                        .snap_chunk = 48 };   /* tiny chunks: state transfer in pieces */
    s->nodes[id].c = chain_new(&o);
    s->nodes[id].joining = joining;
    s->nodes[id].next_commit = 1;
    return s->nodes[id].c;
}

/* " n1 n2 n3" for the verbose log. */
static const char *config_text(const chain_config *cfg, char *text, size_t cap)
{
    size_t off = 0;
    text[0] = 0;
    for (int i = 0; i < cfg->n && off < cap; i++)
        off += (size_t)snprintf(text + off, cap - off, " n%u", cfg->members[i]);
    return text;
}

static void push_config(sim *s)
{
    char text[128];
    say(s, "config epoch %" PRIu64 ":%s", s->cfg.epoch, config_text(&s->cfg, text, sizeof text));
    s->r->epochs = s->cfg.epoch;
    for (uint16_t id = 1; id <= SIM_NODES; id++) {
        if (s->nodes[id].c) {
            chain_set_config(s->nodes[id].c, &s->cfg);
            drain(s, id);
        }
    }
}

static int alive(const sim *s, uint16_t id)
{
    return s->nodes[id].c != NULL;
}

static int running(const sim *s, uint16_t id);
static int trusted(const sim *s, uint16_t id);

/* A member we count on to keep the data: running, and not paused lately
 * (a pause may still get it removed by the control plane, which for the
 * chain is the same as a crash). */
static int trusted(const sim *s, uint16_t id)
{
    const sim_node *n = &s->nodes[id];
    return running(s, id) && (n->paused_until == 0 || s->tick > n->paused_until + 2 * SIM_DETECT_TICKS);
}

/* May `id` crash (or pause) without losing what only it holds? Chain
 * replication survives any failure but that of the last holder of the
 * committed state: after it, the first trusted member must remain and hold
 * everything committed (synced and caught up). */
static int may_crash(sim *s, uint16_t id)
{
    for (int i = 0; i < s->cfg.n; i++) {
        uint16_t m = s->cfg.members[i];
        if (m == id || !trusted(s, m))
            continue;
        chain_status st;
        chain_get_status(s->nodes[m].c, &st);
        return st.synced && st.caught_up;
    }
    return 0;
}

static void crash(sim *s, uint16_t id)
{
    sim_node *n = &s->nodes[id];
    say(s, "crash n%u", id);
    chain_free(n->c);
    n->c = NULL;
    n->crashed_at = s->tick;
    n->detect_at = s->tick + 1 + prng_below(&s->rng, 10);
    s->r->crashes++;
    /* Its clients learn nothing more: writes end unknown, reads are dropped. */
    for (int i = 0; i < SIM_CLIENTS; i++) {
        sim_client *cl = &s->clients[i];
        if (cl->busy && s->ops[cl->op].node == id) {
            s->ops[cl->op].status = SIM_INFO;
            cl->busy = 0;
        }
    }
}

static void master_step(sim *s)
{
    int changed = 0;
    chain_config next = s->cfg;
    next.n = 0;
    for (int i = 0; i < s->cfg.n; i++) {
        uint16_t id = s->cfg.members[i];
        if (!alive(s, id) && s->tick >= s->nodes[id].detect_at)
            changed = 1;
        else
            next.members[next.n++] = id;
    }
    for (uint16_t id = 1; id <= SIM_NODES; id++) {
        sim_node *n = &s->nodes[id];
        if (!n->c || !n->joining || next.n >= CHAIN_MAX_MEMBERS)
            continue;
        chain_status st;
        chain_get_status(n->c, &st);
        if (st.synced) {
            n->joining = 0;
            next.members[next.n++] = id;
            changed = 1;
            s->r->joins++;
        }
    }
    if (changed) {
        next.epoch = s->cfg.epoch + 1;
        s->cfg = next;
        push_config(s);
    }
}

/* --- the real control plane (ctrl mode) ------------------------------------ */

static int running(const sim *s, uint16_t id)
{
    return s->nodes[id].c != NULL && s->nodes[id].paused_until <= s->tick;
}

static void drain_ctrl(sim *s, int i)
{
    const ctrl_send *out;
    size_t n = ctrl_outbox(s->ctrl[i], &out);
    for (size_t k = 0; k < n; k++)
        enqueue(s, SIM_CTRL_ID(i), out[k].to, out[k].type, out[k].body, out[k].len);
    ctrl_outbox_clear(s->ctrl[i]);
}

static void ctrl_start(sim *s)
{
    ctrl_options o;
    memset(&o, 0, sizeof o);
    o.n_ctrl = SIM_CTRL;
    for (int i = 0; i < SIM_CTRL; i++)
        o.ctrl[i] = SIM_CTRL_ID(i);
    o.raft_heartbeat_ns = 2 * SIM_TICK_NS;
    o.raft_election_ns = SIM_ELECT_TICKS * SIM_TICK_NS;
    o.detect_ns = SIM_DETECT_TICKS * SIM_TICK_NS;
    o.initial.epoch = s->cfg.epoch;
    o.initial.n = s->cfg.n;
    for (int i = 0; i < s->cfg.n; i++)
        o.initial.m[i].id = s->cfg.members[i];
    for (int i = 0; i < SIM_CTRL; i++) {
        char err[128];
        o.id = SIM_CTRL_ID(i);
        o.seed = prng_derive(s->o.seed, o.id);
        s->ctrl[i] = ctrl_new(&o, 0, err, sizeof err);
        if (!s->ctrl[i])
            fail(s, "ctrl_new: %s", err);
    }
}

/* A datagram from the control plane to chain node id. */
static void chain_from_ctrl(sim *s, uint16_t id, const sim_msg *m)
{
    sim_node *n = &s->nodes[id];
    if (m->type == CTRL_MSG_CONFIG) {
        ctrl_state st;
        chain_config cfg;
        if (ctrl_state_decode(&st, m->body, m->len) == 0) {
            ctrl_state_chain(&st, &cfg);
            chain_set_config(n->c, &cfg);
            drain(s, id);
            chain_status cs;
            chain_get_status(n->c, &cs);
            if (cs.position >= 0) {
                n->was_member = 1;
            } else if (n->was_member && cs.epoch == cfg.epoch) {
                /* Removed while running (a false suspicion): join again. */
                say(s, "n%u was removed while running: rejoins", id);
                chain_rejoin(n->c);
                drain(s, id);
                n->was_member = 0;
                n->joining = 1;
                n->next_commit = 1;
            }
        }
    } else if (m->type == CTRL_MSG_HB_ACK) {
        uint64_t epoch, sent;
        uint64_t lease = (uint64_t)(ctrl_lease_ns(SIM_DETECT_TICKS * SIM_TICK_NS,
                                                  SIM_ELECT_TICKS * SIM_TICK_NS) / SIM_TICK_NS);
        if (ctrl_hb_ack_decode(m->body, m->len, &epoch, &sent) == 0 && sent + lease > n->lease_until)
            n->lease_until = sent + lease;
    }
}

static void ctrl_step(sim *s)
{
    int64_t now = (int64_t)s->tick * SIM_TICK_NS;
    for (int i = 0; i < SIM_CTRL; i++) {
        if (s->ctrl[i]) {
            ctrl_tick(s->ctrl[i], now);
            drain_ctrl(s, i);
        }
    }
    for (int i = 0; i < SIM_CTRL; i++) {
        if (s->ctrl[i] && ctrl_get_state(s->ctrl[i])->epoch > s->cfg.epoch) {
            chain_config old = s->cfg;
            ctrl_state_chain(ctrl_get_state(s->ctrl[i]), &s->cfg);
            for (int k = 0; k < old.n; k++)
                if (alive(s, old.members[k]) && chain_config_index(&s->cfg, old.members[k]) < 0)
                    s->r->false_suspicions++;   /* removed while alive (paused) */
            char text[128];
            say(s, "control plane committed epoch %" PRIu64 ":%s", s->cfg.epoch,
                config_text(&s->cfg, text, sizeof text));
            s->r->epochs = s->cfg.epoch;
        }
    }
    if (s->tick % SIM_VIEW_TICKS == 0)
        s->view = s->cfg;
    for (uint16_t id = 1; id <= SIM_NODES; id++) {
        sim_node *n = &s->nodes[id];
        if (!running(s, id))
            continue;
        chain_status st;
        chain_get_status(n->c, &st);
        if (n->joining && chain_config_index(&s->cfg, id) >= 0) {
            n->joining = 0;
            s->r->joins++;
        }
        chain_set_lease(n->c, s->o.no_lease || s->tick < n->lease_until);
        if (s->tick % SIM_HB_TICKS != id % SIM_HB_TICKS)
            continue;
        ctrl_heartbeat h = { .epoch = st.epoch, .sent = s->tick, .boot = id, .last_seq = st.last_seq,
                             .commit_seq = st.commit_seq };
        if (n->joining && st.synced && st.position < 0)
            h.flags = CTRL_HB_JOIN;
        buf b;
        buf_init(&b);
        ctrl_heartbeat_encode(&h, &b);
        for (int i = 0; i < SIM_CTRL; i++)
            enqueue(s, id, SIM_CTRL_ID(i), CTRL_MSG_HEARTBEAT, (const uint8_t *)buf_ptr(&b), buf_size(&b));
        buf_free(&b);
    }
}

static void ctrl_faults(sim *s)
{
    /* A pause longer than the detection timeout gets a live member removed. */
    if (prng_chance(&s->rng, 0.006) && s->cfg.n > 0) {
        uint16_t id = s->cfg.members[prng_below(&s->rng, s->cfg.n)];
        if (running(s, id) && may_crash(s, id)) {
            s->nodes[id].paused_until = s->tick + 20 + prng_below(&s->rng, 80);
            say(s, "pause n%u until %" PRIu64, id, s->nodes[id].paused_until);
            s->r->pauses++;
        }
    }
    if (!s->ctrl_crashed && prng_chance(&s->rng, 0.002)) {
        int i = (int)prng_below(&s->rng, SIM_CTRL);
        say(s, "crash control node %u", SIM_CTRL_ID(i));
        ctrl_free(s->ctrl[i]);
        s->ctrl[i] = NULL;
        s->ctrl_crashed = 1;
    }
}

static void faults(sim *s)
{
    if (s->o.ctrl)
        ctrl_faults(s);
    if (prng_chance(&s->rng, 0.012) && s->cfg.n > 0) {
        uint16_t id = s->cfg.members[prng_below(&s->rng, s->cfg.n)];
        if (alive(s, id) && may_crash(s, id))
            crash(s, id);
    }
    if (prng_chance(&s->rng, 0.01) && s->next_id <= SIM_NODES) {
        int joiners = 0, live = 0;
        for (uint16_t id = 1; id <= SIM_NODES; id++) {
            joiners += s->nodes[id].c && s->nodes[id].joining;
            live += s->nodes[id].c != NULL;
        }
        if (!joiners && live < 6) {
            uint16_t id = s->next_id++;
            say(s, "start joiner n%u", id);
            chain_set_config(node_new(s, id, 1), &s->cfg);
            drain(s, id);
        }
    }
}

/* --- clients ----------------------------------------------------------------- */

static void client_invoke(sim *s, int ci)
{
    const chain_config *v = s->o.ctrl ? &s->view : &s->cfg;
    if (v->n == 0)
        return;
    s->ops = grow(s->ops, &s->capops, s->nops + 1, sizeof *s->ops);
    size_t opi = s->nops++;
    sim_op *op = &s->ops[opi];
    memset(op, 0, sizeof *op);
    op->rid = opi + 1;
    op->client = ci;
    op->key = (int)prng_below(&s->rng, SIM_KEYS);
    op->is_write = prng_chance(&s->rng, 0.5);
    op->resp = UINT64_MAX;
    s->r->ops++;
    char key[8], val[24];
    snprintf(key, sizeof key, "k%d", op->key);
    uint8_t cmd[128];
    chain_request rq = { .id = op->rid };
    if (op->is_write) {
        snprintf(val, sizeof val, "%" PRIu64, op->rid);
        int len = kv_encode_set(cmd, sizeof cmd, key, strlen(key), val, strlen(val), 0, 0);
        rq.kind = CHAIN_REQ_WRITE;
        rq.data = cmd;
        rq.len = (size_t)len;
        op->node = v->members[0];
    } else {
        uint32_t modes = s->o.modes;
        do
            op->mode = (enum chain_read_mode)prng_below(&s->rng, 3);
        while (!(modes & SIM_MODE_BIT(op->mode)));
        rq.kind = CHAIN_REQ_GET;
        rq.mode = op->mode;
        rq.data = (const uint8_t *)key;
        rq.len = strlen(key);
        op->node = op->mode == CHAIN_READ_TAIL ? v->members[v->n - 1]
                                               : v->members[prng_below(&s->rng, v->n)];
    }
    op->inv = ++s->ev;
    if (!alive(s, op->node)) {
        /* Connection refused: certainly not executed. */
        op->status = op->is_write ? SIM_FAIL : SIM_INFO;
        return;
    }
    s->clients[ci].busy = 1;
    s->clients[ci].op = opi;
    s->clients[ci].deadline = s->tick + SIM_TIMEOUT;
    if (!running(s, op->node))
        return;   /* paused: the request hangs until the client times out */
    chain_client(s->nodes[op->node].c, &rq);
    drain(s, op->node);
}

static void clients_step(sim *s, int may_invoke)
{
    for (int i = 0; i < SIM_CLIENTS; i++) {
        sim_client *cl = &s->clients[i];
        if (cl->busy && s->tick >= cl->deadline) {
            s->ops[cl->op].status = SIM_INFO;   /* timeout: unknown */
            cl->busy = 0;
        }
        if (!cl->busy && may_invoke && s->cfg.n > 0 && prng_chance(&s->rng, 0.3))
            client_invoke(s, i);
    }
}

/* --- the run ------------------------------------------------------------------- */

static void deliver_due(sim *s)
{
    /* Collect due messages, shuffle them, deliver. */
    size_t ndue = 0;
    for (size_t i = 0; i < s->nmsgs; i++) {
        if (s->msgs[i].at <= s->tick) {
            sim_msg t = s->msgs[ndue];
            s->msgs[ndue] = s->msgs[i];
            s->msgs[i] = t;
            ndue++;
        }
    }
    for (size_t i = ndue; i > 1; i--) {
        size_t j = prng_below(&s->rng, i);
        sim_msg t = s->msgs[i - 1];
        s->msgs[i - 1] = s->msgs[j];
        s->msgs[j] = t;
    }
    if (ndue == 0)
        return;
    sim_msg *due = malloc(ndue * sizeof *due);
    memcpy(due, s->msgs, ndue * sizeof *due);
    memmove(s->msgs, s->msgs + ndue, (s->nmsgs - ndue) * sizeof *s->msgs);
    s->nmsgs -= ndue;
    for (size_t i = 0; i < ndue; i++) {
        sim_msg *m = &due[i];
        if (m->to > SIM_NODES && m->to <= SIM_NODES + SIM_CTRL && s->ctrl[m->to - SIM_NODES - 1]) {
            int ci = m->to - SIM_NODES - 1;
            ctrl_recv(s->ctrl[ci], m->from, m->type, m->body, m->len, (int64_t)s->tick * SIM_TICK_NS);
            drain_ctrl(s, ci);
        } else if (m->to >= 1 && m->to <= SIM_NODES && alive(s, m->to) && !running(s, m->to)) {
            /* Paused: it reads the datagram when it resumes. */
            s->msgs = grow(s->msgs, &s->capmsgs, s->nmsgs + 1, sizeof *s->msgs);
            m->at = s->nodes[m->to].paused_until;
            s->msgs[s->nmsgs++] = *m;
            continue;
        } else if (m->to >= 1 && m->to <= SIM_NODES && alive(s, m->to)) {
            if (m->type == CTRL_MSG_CONFIG || m->type == CTRL_MSG_HB_ACK) {
                chain_from_ctrl(s, m->to, m);
            } else {
                chain_recv(s->nodes[m->to].c, m->from, m->type, m->body, m->len);
                drain(s, m->to);
            }
        }
        free(m->body);
    }
    free(due);
}

static void final_checks(sim *s)
{
    uint64_t digest = 0;
    int first = 1;
    for (int i = 0; i < s->cfg.n; i++) {
        uint16_t id = s->cfg.members[i];
        if (!alive(s, id))
            continue;
        chain_status st;
        chain_get_status(s->nodes[id].c, &st);
        if (!st.synced || st.last_seq != s->n_order || st.commit_seq != s->n_order) {
            fail(s, "after the quiet phase n%u (%s) has last=%" PRIu64 " commit=%" PRIu64
                 " but %zu writes are committed: the chain did not converge",
                 id, chain_role_name(st.role), st.last_seq, st.commit_seq, s->n_order);
            return;
        }
        if (!first && st.digest != digest) {
            fail(s, "n%u's state differs from the other members'", id);
            return;
        }
        digest = st.digest;
        first = 0;
    }
    char why[512];
    uint32_t modes = s->o.modes;
    if (!chain_sim_check(s->ops, s->nops, s->order, s->n_order, SIM_KEYS, modes, why, sizeof why))
        fail(s, "%s", why);
}

void chain_sim_run(const sim_opts *o, sim_result *r)
{
    sim *s = calloc(1, sizeof *s);
    memset(r, 0, sizeof *r);
    r->ok = 1;
    s->o = *o;
    s->r = r;
    prng_seed(&s->rng, o->seed);
    s->drop = prng_double(&s->rng) * 0.15;
    s->dup = prng_double(&s->rng) * 0.05;
    s->maxdelay = 1 + (int)prng_below(&s->rng, 5);
    int n = 3 + (int)prng_below(&s->rng, 3);
    s->cfg.epoch = 1;
    for (uint16_t id = 1; id <= n; id++) {
        node_new(s, id, 0);
        s->nodes[id].was_member = 1;
        s->cfg.members[s->cfg.n++] = id;
    }
    s->next_id = (uint16_t)(n + 1);
    say(s, "seed %" PRIu64 ": %d nodes, drop %.3f dup %.3f delay 1..%d", o->seed, n, s->drop,
        s->dup, s->maxdelay);
    push_config(s);
    s->view = s->cfg;
    if (o->ctrl)
        ctrl_start(s);
    for (s->tick = 1; s->tick <= SIM_FAULT_TICKS + SIM_QUIET_TICKS && r->ok; s->tick++) {
        int faulty = s->tick <= SIM_FAULT_TICKS;
        if (!faulty) {
            s->drop = 0;
            s->dup = 0;
        }
        deliver_due(s);
        if (faulty)
            faults(s);
        if (o->ctrl)
            ctrl_step(s);
        else
            master_step(s);
        clients_step(s, faulty);
        for (uint16_t id = 1; id <= SIM_NODES; id++) {
            if (running(s, id)) {
                chain_tick(s->nodes[id].c);
                drain(s, id);
            }
        }
    }
    for (int i = 0; i < SIM_CLIENTS; i++)
        if (s->clients[i].busy)
            s->ops[s->clients[i].op].status = SIM_INFO;
    if (r->ok)
        final_checks(s);
    r->committed = s->n_order;
    for (uint16_t id = 1; id <= SIM_NODES; id++)
        chain_free(s->nodes[id].c);
    for (int i = 0; i < SIM_CTRL; i++)
        ctrl_free(s->ctrl[i]);
    for (size_t i = 0; i < s->nmsgs; i++)
        free(s->msgs[i].body);
    free(s->msgs);
    free(s->ops);
    free(s->order);
    free(s);
}
