/* chain_read.c: client reads in the three modes, and CRAQ's version queries.
 *
 *   tail  only the tail answers, from its clean (committed) state.
 *   craq  any member answers: when the key's newest local version is clean
 *         (its dirty and clean versions are equal) the clean value is the
 *         committed one, because every member holds whatever the tail holds;
 *         otherwise the member asks the tail which version is committed and
 *         answers that version's value, which it holds either as its clean
 *         value or in a pending log entry. A member that is not caught up
 *         (it may lack committed entries) always asks.
 *   any   the newest local version, dirty or not: eventual consistency only.
 *
 * A member that just became tail after a join must not answer until it
 * holds everything its predecessor had committed (caught_up), or it would
 * serve reads older than writes already acknowledged. */
#include "chain_int.h"

#include <stdlib.h>
#include <string.h>

#include "chain_msg.h"

static int is_tail(const chain_node *c)
{
    return c->pos >= 0 && c->succ == 0;
}

/* Answer request id from kv k (GET: the value; VERSION: the version). */
static void answer(chain_node *c, uint64_t id, enum chain_req_kind kind, const kv *k,
                   const uint8_t *key, size_t klen)
{
    chain_action *a = chain_act_push(c, CHAIN_ACT_REPLY);
    a->id = id;
    a->status = CHAIN_OK;
    if (kind == CHAIN_REQ_VERSION) {
        a->reply_type = KV_REPLY_INT;
        a->integer = (int64_t)kv_version(k, key, klen);
        return;
    }
    kv_reply r;
    kv_get(k, key, klen, &r);
    a->reply_type = (int)r.type;
    if (r.type == KV_REPLY_BULK) {
        a->body = malloc(r.len ? r.len : 1);
        if (!a->body)
            abort();
        memcpy(a->body, r.data, r.len);
        a->len = r.len;
    }
}

static void send_vquery(chain_node *c, chain_query *q)
{
    q->sent_tick = c->tick;
    uint16_t tail = chain_tail_id(c);
    if (!tail || tail == c->o.id)
        return;
    buf b;
    buf_init(&b);
    chain_msg_put_u64(&b, c->cfg.epoch);
    chain_msg_put_u64(&b, q->qid);
    buf_append(&b, q->key, q->klen);
    chain_send_buf(c, tail, CHAIN_MSG_VQUERY, &b);
}

static void query_remove(chain_node *c, size_t i)
{
    free(c->q[i].key);
    c->q[i] = c->q[--c->nq];
}

void chain_read(chain_node *c, const chain_request *r)
{
    uint16_t tail = chain_tail_id(c);
    if (r->mode == CHAIN_READ_TAIL && !is_tail(c) && tail && tail != c->o.id) {
        chain_reply_error(c, r->id, CHAIN_ERR_NOTTAIL, tail);
        return;
    }
    if (c->pos < 0 || !c->synced || !c->lease) {
        chain_reply_error(c, r->id, CHAIN_ERR_NOTREADY, 0);
        return;
    }
    if (r->mode == CHAIN_READ_ANY) {
        answer(c, r->id, r->kind, c->dirty, r->data, r->len);
        return;
    }
    if (is_tail(c)) {
        if (!c->caught_up)
            chain_reply_error(c, r->id, CHAIN_ERR_NOTREADY, 0);
        else
            answer(c, r->id, r->kind, c->clean, r->data, r->len);
        return;
    }
    /* CRAQ at a member that is not the tail. */
    if (c->o.bugs & CHAIN_BUG_CRAQ_DIRTY) {
        /* Deliberate bug: the newest (possibly dirty) version is served as
         * if it were committed. */
        answer(c, r->id, r->kind, c->dirty, r->data, r->len);
        return;
    }
    /* A member still catching up (a joiner, or after its predecessor
     * changed) may lack committed entries, so its "clean" proves nothing. */
    if (c->caught_up &&
        kv_version(c->dirty, r->data, r->len) == kv_version(c->clean, r->data, r->len)) {
        answer(c, r->id, r->kind, c->clean, r->data, r->len);
        return;
    }
    if (c->nq == c->capq) {
        c->capq = c->capq ? c->capq * 2 : 8;
        c->q = realloc(c->q, c->capq * sizeof *c->q);
        if (!c->q)
            abort();
    }
    chain_query *q = &c->q[c->nq++];
    memset(q, 0, sizeof *q);
    q->qid = ++c->next_qid;
    q->rid = r->id;
    q->kind = r->kind;
    q->klen = r->len;
    q->key = malloc(r->len ? r->len : 1);
    if (!q->key)
        abort();
    memcpy(q->key, r->data, r->len);
    send_vquery(c, q);
}

void chain_on_vquery(chain_node *c, uint16_t from, uint64_t epoch, uint64_t qid,
                     const uint8_t *key, size_t klen)
{
    if (c->pos < 0 || epoch != c->cfg.epoch) {
        c->rejected++;
        return;
    }
    if (!is_tail(c) || !c->caught_up || !c->lease)
        return;   /* the asker retries, at the right tail once it knows it */
    buf b;
    buf_init(&b);
    chain_msg_put_u64(&b, c->cfg.epoch);
    chain_msg_put_u64(&b, qid);
    chain_msg_put_u64(&b, kv_version(c->clean, key, klen));
    chain_send_buf(c, from, CHAIN_MSG_VREPLY, &b);
}

/* The value key had at `version`, from a pending entry; 1 if found. */
static int find_pending_version(chain_node *c, const chain_query *q, uint64_t version,
                                chain_action *a)
{
    for (uint64_t s = c->last_seq; s > c->commit_seq && s > c->log_base; s--) {
        chain_entry *e = &c->log[c->log_first + (size_t)(s - c->log_base - 1)];
        kv_cmd kc;
        if (e->res_version != version || kv_cmd_decode(&kc, e->cmd, e->len) < 0 ||
            kc.klen != q->klen || memcmp(kc.key, q->key, q->klen) != 0)
            continue;
        if (e->res_present) {
            a->reply_type = KV_REPLY_BULK;
            a->body = malloc(e->res_len ? e->res_len : 1);
            if (!a->body)
                abort();
            memcpy(a->body, e->res_val, e->res_len);
            a->len = e->res_len;
        } else {
            a->reply_type = KV_REPLY_NIL;
        }
        return 1;
    }
    return 0;
}

void chain_on_vreply(chain_node *c, uint16_t from, uint64_t qid, uint64_t version)
{
    if (from != chain_tail_id(c))
        return;
    size_t i;
    for (i = 0; i < c->nq && c->q[i].qid != qid; i++)
        ;
    if (i == c->nq)
        return;   /* duplicate or late reply */
    chain_query *q = &c->q[i];
    if (!c->lease) {
        chain_reply_error(c, q->rid, CHAIN_ERR_NOTREADY, 0);
    } else if (q->kind == CHAIN_REQ_VERSION) {
        chain_action *a = chain_act_push(c, CHAIN_ACT_REPLY);
        a->id = q->rid;
        a->reply_type = KV_REPLY_INT;
        a->integer = (int64_t)version;
    } else if (version <= kv_version(c->clean, q->key, q->klen)) {
        /* Committed meanwhile (or newer committed): the clean value is
         * committed and was current at some moment during the read. */
        answer(c, q->rid, q->kind, c->clean, q->key, q->klen);
    } else if (version == kv_version(c->dirty, q->key, q->klen)) {
        answer(c, q->rid, q->kind, c->dirty, q->key, q->klen);
    } else {
        chain_action *a = chain_act_push(c, CHAIN_ACT_REPLY);
        a->id = q->rid;
        if (!find_pending_version(c, q, version, a)) {
            /* Cannot happen while our log is a prefix-superset of the
             * tail's; answer "retry" rather than guess. */
            a->status = CHAIN_ERR_NOTREADY;
        }
    }
    query_remove(c, i);
}

void chain_queries_tick(chain_node *c, int force)
{
    for (size_t i = 0; i < c->nq;) {
        chain_query *q = &c->q[i];
        if (c->pos < 0) {
            chain_reply_error(c, q->rid, CHAIN_ERR_NOTREADY, 0);
            query_remove(c, i);
            continue;
        }
        if (is_tail(c)) {
            if (c->caught_up && c->lease) {
                answer(c, q->rid, q->kind, c->clean, q->key, q->klen);
                query_remove(c, i);
                continue;
            }
        } else if (force || c->tick - q->sent_tick >= c->o.rto_ticks) {
            send_vquery(c, q);
        }
        i++;
    }
}

void chain_queries_free(chain_node *c)
{
    for (size_t i = 0; i < c->nq; i++)
        free(c->q[i].key);
    free(c->q);
    c->q = NULL;
    c->nq = c->capq = 0;
}
