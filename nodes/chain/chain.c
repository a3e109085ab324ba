/* chain.c: the chain replication protocol (writes, acknowledgements,
 * retransmission, reconfiguration, state transfer). Reads and CRAQ live in
 * chain_read.c. See chain.h for the model.
 *
 * Invariant the whole file protects: a member's log is a prefix of its
 * predecessor's log (the head's log is the longest), and a member commits
 * (applies to its clean kv) only entries the tail of the current epoch has.
 * Reconfiguration keeps it because the control plane only removes members
 * or appends a new tail, never reorders survivors, and every message carries
 * the sender's epoch: anything from another epoch is dropped. */
#include "chain_int.h"

#include <stdlib.h>
#include <string.h>

#include "chain_msg.h"

/* An UPDATE stays below this many bytes so it fits a UDP datagram. */
#define CHAIN_UPDATE_BUDGET 60000u
/* At most this many UPDATEs per resend round. */
#define CHAIN_RESEND_BATCHES 8

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (!q)
        abort();   /* like buf.h: nothing useful to do without memory */
    return q;
}

/* --- names and parsing ----------------------------------------------------- */

uint32_t chain_bug_parse(const char *name)
{
    if (!strcmp(name, "tail-early-ack"))
        return CHAIN_BUG_TAIL_EARLY_ACK;
    if (!strcmp(name, "skip-resend"))
        return CHAIN_BUG_SKIP_RESEND;
    if (!strcmp(name, "craq-dirty-read"))
        return CHAIN_BUG_CRAQ_DIRTY;
    return 0;
}

const char *chain_read_mode_name(enum chain_read_mode m)
{
    return m == CHAIN_READ_CRAQ ? "craq" : m == CHAIN_READ_ANY ? "any" : "tail";
}

int chain_read_mode_parse(const char *s, enum chain_read_mode *out)
{
    static const enum chain_read_mode all[] = { CHAIN_READ_TAIL, CHAIN_READ_CRAQ, CHAIN_READ_ANY };
    for (size_t i = 0; i < 3; i++) {
        if (!strcmp(s, chain_read_mode_name(all[i]))) {
            *out = all[i];
            return 0;
        }
    }
    return -1;
}

const char *chain_status_name(enum chain_status_code s)
{
    switch (s) {
    case CHAIN_OK: return "OK";
    case CHAIN_ERR_NOTHEAD: return "NOTHEAD";
    case CHAIN_ERR_NOTTAIL: return "NOTTAIL";
    case CHAIN_ERR_BUSY: return "BUSY";
    case CHAIN_ERR_NOTREADY: return "NOTREADY";
    case CHAIN_ERR_BADCMD: return "BADCMD";
    }
    return "?";
}

const char *chain_role_name(enum chain_role r)
{
    switch (r) {
    case CHAIN_ROLE_HEAD: return "head";
    case CHAIN_ROLE_MIDDLE: return "middle";
    case CHAIN_ROLE_TAIL: return "tail";
    case CHAIN_ROLE_SINGLE: return "single";
    case CHAIN_ROLE_OUT: break;
    }
    return "out";
}

int chain_config_index(const chain_config *cfg, uint16_t id)
{
    for (int i = 0; i < cfg->n && i < CHAIN_MAX_MEMBERS; i++)
        if (cfg->members[i] == id)
            return i;
    return -1;
}

uint16_t chain_head_id(const chain_node *c)
{
    return c->cfg.n ? c->cfg.members[0] : 0;
}

uint16_t chain_tail_id(const chain_node *c)
{
    return c->cfg.n ? c->cfg.members[c->cfg.n - 1] : 0;
}

/* --- actions ---------------------------------------------------------------- */

chain_action *chain_act_push(chain_node *c, enum chain_action_kind kind)
{
    if (c->nacts == c->capacts) {
        c->capacts = c->capacts ? c->capacts * 2 : 16;
        c->acts = xrealloc(c->acts, c->capacts * sizeof *c->acts);
    }
    chain_action *a = &c->acts[c->nacts++];
    memset(a, 0, sizeof *a);
    a->kind = kind;
    return a;
}

/* Queue b's bytes as a message; takes the buffer over (b is left empty). */
void chain_send_buf(chain_node *c, uint16_t to, uint8_t type, buf *b)
{
    chain_action *a = chain_act_push(c, CHAIN_ACT_SEND);
    a->to = to;
    a->type = type;
    a->len = buf_size(b);
    a->body = xrealloc(NULL, a->len ? a->len : 1);
    memcpy(a->body, buf_ptr(b), a->len);
    buf_free(b);
}

void chain_reply_error(chain_node *c, uint64_t id, enum chain_status_code st, uint16_t redirect)
{
    chain_action *a = chain_act_push(c, CHAIN_ACT_REPLY);
    a->id = id;
    a->status = st;
    a->redirect = redirect;
}

size_t chain_actions(const chain_node *c, const chain_action **out)
{
    *out = c->acts;
    return c->nacts;
}

void chain_actions_clear(chain_node *c)
{
    for (size_t i = 0; i < c->nacts; i++)
        free(c->acts[i].body);
    c->nacts = 0;
}

/* --- the log ------------------------------------------------------------------ */

static chain_entry *entry_at(chain_node *c, uint64_t seq)
{
    return &c->log[c->log_first + (size_t)(seq - c->log_base - 1)];
}

static void entry_free(chain_entry *e)
{
    free(e->cmd);
    free(e->res_val);
}

void chain_log_clear(chain_node *c)
{
    for (size_t i = 0; i < c->log_count; i++)
        entry_free(&c->log[c->log_first + i]);
    c->log_first = c->log_count = 0;
}

/* Drop committed entries beyond the retention window (kept for resends to
 * a successor that reports an old position). */
static void log_trim(chain_node *c)
{
    while (c->commit_seq > c->log_base + c->o.log_retain && c->log_count > 0) {
        entry_free(&c->log[c->log_first]);
        c->log_first++;
        c->log_count--;
        c->log_base++;
    }
}

/* Append entry last_seq+1, apply it to the dirty state and trace it. */
static void accept_entry(chain_node *c, uint64_t rid, const uint8_t *cmd, uint32_t len, int waiting)
{
    if (c->log_first + c->log_count == c->log_cap) {
        if (c->log_first > 0) {
            memmove(c->log, c->log + c->log_first, c->log_count * sizeof *c->log);
            c->log_first = 0;
        } else {
            c->log_cap = c->log_cap ? c->log_cap * 2 : 64;
            c->log = xrealloc(c->log, c->log_cap * sizeof *c->log);
        }
    }
    chain_entry *e = &c->log[c->log_first + c->log_count++];
    memset(e, 0, sizeof *e);
    e->seq = ++c->last_seq;
    e->rid = rid;
    e->len = len;
    e->cmd = xrealloc(NULL, len ? len : 1);
    memcpy(e->cmd, cmd, len);
    e->waiting = waiting;

    kv_reply r;
    kv_apply(c->dirty, cmd, len, &r);
    kv_cmd kc;
    if (kv_cmd_decode(&kc, cmd, len) == 0) {
        e->res_version = kv_version(c->dirty, kc.key, kc.klen);
        kv_get(c->dirty, kc.key, kc.klen, &r);
        if (r.type == KV_REPLY_BULK) {
            e->res_present = 1;
            e->res_len = r.len;
            e->res_val = xrealloc(NULL, r.len ? r.len : 1);
            memcpy(e->res_val, r.data, r.len);
        }
    }
    chain_action *a = chain_act_push(c, CHAIN_ACT_ACCEPT);
    a->seq = e->seq;
    a->id = rid;
}

/* Commit every entry up to `upto` (bounded by what we have): apply it to
 * the clean state, answer the client if we are the head that took it. */
static void advance_commit(chain_node *c, uint64_t upto)
{
    if (upto > c->last_seq)
        upto = c->last_seq;
    while (c->commit_seq < upto) {
        chain_entry *e = entry_at(c, c->commit_seq + 1);
        kv_reply r;
        kv_apply(c->clean, e->cmd, e->len, &r);
        c->commit_seq = e->seq;
        chain_action *a = chain_act_push(c, CHAIN_ACT_COMMIT);
        a->seq = e->seq;
        a->id = e->rid;
        if (c->o.commit_data) {
            a->body = xrealloc(NULL, e->len ? e->len : 1);
            memcpy(a->body, e->cmd, e->len);
            a->len = e->len;
            a->epoch = c->cfg.epoch;
        }
        if (e->waiting) {
            e->waiting = 0;
            a = chain_act_push(c, CHAIN_ACT_REPLY);
            a->id = e->rid;
            a->seq = e->seq;
            a->status = CHAIN_OK;
            a->reply_type = (int)r.type;
            a->integer = r.integer;
        }
    }
    log_trim(c);
}

/* --- sending ----------------------------------------------------------------- */

static int is_tail(const chain_node *c)
{
    return c->pos >= 0 && c->succ == 0;
}

/* ACK to the predecessor: what we received and what is committed. */
void chain_send_ack(chain_node *c)
{
    if (c->pos < 0 || !c->pred)
        return;
    uint64_t commit = c->commit_seq;
    /* Deliberate bug: a middle node claims commitment of what it merely
     * received, so the head answers before the tail has the write. */
    if ((c->o.bugs & CHAIN_BUG_TAIL_EARLY_ACK) && c->succ)
        commit = c->last_seq;
    buf b;
    buf_init(&b);
    chain_msg_ack(&b, c->cfg.epoch, c->synced ? c->last_seq : 0, commit);
    chain_send_buf(c, c->pred, CHAIN_MSG_ACK, &b);
}

/* Send entries from..to (inclusive) to the successor in UPDATEs of at most
 * `batch` entries and CHAIN_UPDATE_BUDGET bytes; at most `max_msgs`
 * messages. An empty range still sends one UPDATE: it tells a new
 * successor our last/commit so it knows it is caught up. */
static void send_range(chain_node *c, uint64_t from, uint64_t to, int max_msgs)
{
    if (!c->succ)
        return;
    uint64_t s = from;
    int msgs = 0;
    do {
        buf b;
        buf_init(&b);
        /* The catch-up bound: a successor that holds our last entry holds
         * everything ever committed, but only if we do ourselves. */
        chain_msg_update_begin(&b, c->cfg.epoch, c->last_seq, c->caught_up ? c->last_seq : UINT64_MAX);
        uint32_t n = 0;
        while (s <= to && n < c->o.batch) {
            chain_entry *e = entry_at(c, s);
            if (n > 0 && buf_size(&b) + CHAIN_MSG_ENTRY_HDR + e->len > CHAIN_UPDATE_BUDGET)
                break;
            chain_msg_update_add(&b, e->seq, e->rid, e->cmd, e->len);
            n++;
            s++;
        }
        chain_msg_update_end(&b, n);
        chain_send_buf(c, c->succ, CHAIN_MSG_UPDATE, &b);
        msgs++;
    } while (s <= to && msgs < max_msgs);
}

/* Bring the successor up to date from succ_recv: entries we still have,
 * or our committed state when it is behind our trimmed log. */
static void resend(chain_node *c)
{
    c->last_resend = c->tick;
    if (c->succ_recv < c->log_base) {
        chain_snap_send(c, c->succ);
        return;
    }
    if (c->succ_recv < c->last_seq)
        c->resent += c->last_seq - c->succ_recv;
    send_range(c, c->succ_recv + 1, c->last_seq, CHAIN_RESEND_BATCHES);
}

/* --- lifecycle ------------------------------------------------------------------ */

chain_node *chain_new(const chain_options *o)
{
    if (!o || o->id == 0)
        return NULL;
    chain_node *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->o = *o;
    if (!c->o.rto_ticks)
        c->o.rto_ticks = 3;
    if (!c->o.batch)
        c->o.batch = 64;
    if (!c->o.max_inflight)
        c->o.max_inflight = 4096;
    if (!c->o.log_retain)
        c->o.log_retain = 1024;
    if (!c->o.snap_chunk)
        c->o.snap_chunk = 48 * 1024;
    c->pos = -1;
    c->clean = kv_new();
    c->dirty = kv_new();
    if (!c->clean || !c->dirty) {
        chain_free(c);
        return NULL;
    }
    c->lease = 1;
    c->synced = !o->joining;
    c->caught_up = !o->joining;
    return c;
}

void chain_free(chain_node *c)
{
    if (!c)
        return;
    chain_actions_clear(c);
    free(c->acts);
    chain_log_clear(c);
    free(c->log);
    chain_queries_free(c);
    chain_snap_free(c);
    kv_free(c->clean);
    kv_free(c->dirty);
    free(c);
}

/* --- events --------------------------------------------------------------------- */

static void request_snapshot(chain_node *c)
{
    uint16_t tail = chain_tail_id(c);
    if (!tail || tail == c->o.id)
        return;
    c->last_snap_req = c->tick;
    buf b;
    buf_init(&b);
    chain_msg_put_u64(&b, c->cfg.epoch);
    chain_send_buf(c, tail, CHAIN_MSG_SNAP_REQ, &b);
}

void chain_set_config(chain_node *c, const chain_config *cfg)
{
    if (cfg->epoch <= c->cfg.epoch || cfg->n > CHAIN_MAX_MEMBERS)
        return;
    uint16_t old_pred = c->pred, old_succ = c->succ;
    int was_member = c->pos >= 0;
    c->cfg = *cfg;
    c->pos = chain_config_index(cfg, c->o.id);
    c->pred = c->pos > 0 ? cfg->members[c->pos - 1] : 0;
    c->succ = c->pos >= 0 && c->pos + 1 < cfg->n ? cfg->members[c->pos + 1] : 0;
    if (c->pos < 0) {
        if (!c->synced)
            request_snapshot(c);
        chain_queries_tick(c, 1);   /* fails pending reads: we are out */
        return;
    }
    if (!was_member || c->succ != old_succ) {
        c->succ_known = 0;
        c->succ_replaced = was_member && old_succ != 0 && c->succ != 0;
        c->last_progress = c->tick;
    }
    if (!was_member || c->pred != old_pred)
        c->caught_up = c->synced && c->pred == 0;
    /* Tail failure: the predecessor becomes tail and everything it holds is
     * now at the tail, hence committed. */
    if (is_tail(c) && c->synced) {
        advance_commit(c, c->last_seq);
        if (c->pred == 0)
            c->caught_up = 1;
    }
    /* The report: tell the (possibly new) predecessor what we have. */
    chain_send_ack(c);
    chain_queries_tick(c, 1);
}

void chain_reject(chain_node *c, uint16_t from, uint64_t epoch)
{
    c->rejected++;
    chain_action *a = chain_act_push(c, CHAIN_ACT_REJECT);
    a->to = from;
    a->epoch = epoch;
}

static void on_update(chain_node *c, uint16_t from, const chain_msg *m)
{
    if (c->pos < 0 || from != c->pred || m->epoch != c->cfg.epoch) {
        chain_reject(c, from, m->epoch);
        return;
    }
    if (!c->synced)
        return;   /* waiting for a snapshot; our ACKs say recv 0 */
    uint64_t first_new = c->last_seq + 1;
    size_t pos = 0;
    chain_msg_entry e;
    while (chain_msg_next_entry(m, &pos, &e)) {
        if (e.seq <= c->last_seq)
            continue;          /* duplicate */
        if (e.seq != c->last_seq + 1)
            break;             /* gap: the predecessor resends */
        accept_entry(c, e.rid, e.cmd, e.len, 0);
    }
    if (c->last_seq >= first_new) {
        if (c->succ)
            send_range(c, first_new, c->last_seq, 1 << 30);
        else
            advance_commit(c, c->last_seq);
    }
    if (!c->caught_up && m->b != UINT64_MAX && c->last_seq >= m->b)
        c->caught_up = 1;
    chain_send_ack(c);
}

static void on_ack(chain_node *c, uint16_t from, const chain_msg *m)
{
    if (c->pos < 0 || from != c->succ || m->epoch != c->cfg.epoch) {
        chain_reject(c, from, m->epoch);
        return;
    }
    /* A successor never holds more than we do; a larger claim is garbage. */
    uint64_t recv = m->a < c->last_seq ? m->a : c->last_seq;
    if (!c->succ_known) {
        c->succ_known = 1;
        c->last_progress = c->tick;
        if ((c->o.bugs & CHAIN_BUG_SKIP_RESEND) && c->succ_replaced) {
            /* Deliberate bug: assume the new successor got everything the
             * failed one had, so what it missed is never sent again. */
            c->succ_recv = c->last_seq;
        } else {
            c->succ_recv = recv;
            resend(c);
        }
    } else if (recv > c->succ_recv) {
        c->succ_recv = recv;
        c->last_progress = c->tick;
    }
    uint64_t commit = m->b < recv ? m->b : recv;
    if (commit > c->commit_seq) {
        advance_commit(c, commit);
        chain_send_ack(c);
    }
}

void chain_recv(chain_node *c, uint16_t from, uint8_t type, const uint8_t *body, size_t len)
{
    chain_msg m;
    if (chain_msg_decode(type, body, len, &m) < 0)
        return;
    switch (type) {
    case CHAIN_MSG_UPDATE:
        on_update(c, from, &m);
        break;
    case CHAIN_MSG_ACK:
        on_ack(c, from, &m);
        break;
    case CHAIN_MSG_VQUERY:
        chain_on_vquery(c, from, m.epoch, m.a, m.data, m.data_len);
        break;
    case CHAIN_MSG_VREPLY:
        if (c->pos < 0 || m.epoch != c->cfg.epoch) {
            chain_reject(c, from, m.epoch);
            break;
        }
        chain_on_vreply(c, from, m.a, m.b);
        break;
    case CHAIN_MSG_SNAP_REQ:
        if (c->synced)
            chain_snap_send(c, from);
        break;
    case CHAIN_MSG_SNAP:
        chain_snap_recv(c, from, &m);
        break;
    default:
        break;
    }
}

void chain_tick(chain_node *c)
{
    c->tick++;
    if (c->pos < 0) {
        if (!c->synced && c->tick - c->last_snap_req >= c->o.rto_ticks)
            request_snapshot(c);
        return;
    }
    /* Keepalive ACK: repeats the report if it was lost and carries commit
     * progress the predecessor may have missed. */
    chain_send_ack(c);
    if (c->succ && c->succ_known && c->succ_recv < c->last_seq &&
        c->tick - c->last_progress >= c->o.rto_ticks &&
        c->tick - c->last_resend >= c->o.rto_ticks)
        resend(c);
    chain_queries_tick(c, 0);
}

/* A write at the head: sequence it, forward it, answer on commit. */
static void client_write(chain_node *c, const chain_request *r)
{
    if (c->pos != 0 || !c->synced || !c->lease) {
        uint16_t head = chain_head_id(c);
        chain_reply_error(c, r->id, head && head != c->o.id ? CHAIN_ERR_NOTHEAD : CHAIN_ERR_NOTREADY,
                          head);
        return;
    }
    kv_cmd kc;
    if (r->len > UINT32_MAX || kv_cmd_decode(&kc, r->data, r->len) < 0 || kc.op == KV_OP_EXPIRE ||
        (kc.op == KV_OP_SET && (kc.flags & KV_SET_PX))) {
        chain_reply_error(c, r->id, CHAIN_ERR_BADCMD, 0);
        return;
    }
    if (c->last_seq - c->commit_seq >= c->o.max_inflight) {
        chain_reply_error(c, r->id, CHAIN_ERR_BUSY, 0);
        return;
    }
    accept_entry(c, r->id, r->data, (uint32_t)r->len, 1);
    if (c->succ)
        send_range(c, c->last_seq, c->last_seq, 1);
    else
        advance_commit(c, c->last_seq);
}

void chain_client(chain_node *c, const chain_request *r)
{
    if (r->kind == CHAIN_REQ_WRITE)
        client_write(c, r);
    else
        chain_read(c, r);
}

void chain_get_status(const chain_node *c, chain_status *s)
{
    memset(s, 0, sizeof *s);
    s->id = c->o.id;
    s->epoch = c->cfg.epoch;
    s->position = c->pos;
    if (c->pos < 0)
        s->role = CHAIN_ROLE_OUT;
    else if (!c->pred && !c->succ)
        s->role = CHAIN_ROLE_SINGLE;
    else if (!c->pred)
        s->role = CHAIN_ROLE_HEAD;
    else if (!c->succ)
        s->role = CHAIN_ROLE_TAIL;
    else
        s->role = CHAIN_ROLE_MIDDLE;
    s->head = chain_head_id(c);
    s->tail = chain_tail_id(c);
    s->pred = c->pred;
    s->succ = c->succ;
    s->last_seq = c->last_seq;
    s->commit_seq = c->commit_seq;
    s->log_base = c->log_base;
    s->synced = c->synced;
    s->caught_up = c->caught_up;
    s->rejected = c->rejected;
    s->resent = c->resent;
    s->digest = kv_digest(c->clean);
}

void chain_rejoin(chain_node *c)
{
    chain_log_clear(c);
    chain_snap_free(c);
    c->log_base = c->last_seq = c->commit_seq = 0;
    kv *clean = kv_new(), *dirty = kv_new();
    if (!clean || !dirty)
        abort();
    kv_free(c->clean);
    kv_free(c->dirty);
    c->clean = clean;
    c->dirty = dirty;
    c->synced = c->caught_up = 0;
    c->o.joining = 1;
    if (c->pos < 0)
        request_snapshot(c);
}

/* Replace the dirty state by a copy of the clean one. */
static void dirty_from_clean(chain_node *c)
{
    uint8_t *snap;
    size_t len;
    if (kv_snapshot(c->clean, &snap, &len) < 0 || kv_restore(c->dirty, snap, len) < 0)
        abort();
    free(snap);
}

void chain_rejoin_keep(chain_node *c)
{
    if (!c->synced) {
        chain_rejoin(c);
        return;
    }
    chain_log_clear(c);
    chain_snap_free(c);
    c->log_base = c->last_seq = c->commit_seq;
    dirty_from_clean(c);
    c->caught_up = 0;
    c->o.joining = 1;
}

void chain_restore(chain_node *c, kv *state, uint64_t seq)
{
    chain_log_clear(c);
    kv_free(c->clean);
    c->clean = state;
    dirty_from_clean(c);
    c->log_base = c->last_seq = c->commit_seq = seq;
    c->synced = 1;
    c->caught_up = 0;
    c->o.joining = 1;
}

const kv *chain_clean_state(const chain_node *c)
{
    return c->clean;
}

void chain_set_lease(chain_node *c, int held)
{
    c->lease = held;
}

const chain_config *chain_get_config(const chain_node *c)
{
    return &c->cfg;
}
