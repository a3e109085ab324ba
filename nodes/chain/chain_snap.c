/* chain_snap.c: state transfer, the committed state of one member copied
 * to another: to a joiner before it is added (SNAP_REQ from the joiner), or
 * to a successor that reports a position older than the sender's trimmed
 * log.
 *
 * A snapshot is the rl_kv snapshot of the sender's clean state plus the
 * sequence number it covers, cut into chunks that fit a datagram. Links lose
 * and reorder datagrams, so the sender keeps the snapshot it last cut and
 * sends the same bytes again on every retry while they are still useful
 * (younger than a few retransmission periods and not older than its log,
 * so the receiver can catch up from there); the receiver keeps the chunks
 * that extend what it has in order and installs the snapshot once whole. */
#include "chain_int.h"

#include <stdlib.h>
#include <string.h>

#include "chain_msg.h"

/* Snapshots are refused above this size (a u32 offset, and sanity). */
#define CHAIN_SNAP_MAX (1u << 30)

void chain_snap_free(chain_node *c)
{
    free(c->snap_out);
    free(c->snap_in);
    c->snap_out = c->snap_in = NULL;
    c->has_snap_out = 0;
    c->snap_in_total = c->snap_in_have = 0;
}

void chain_snap_send(chain_node *c, uint16_t to)
{
    int fresh = c->has_snap_out && c->tick - c->snap_out_tick <= 10ull * c->o.rto_ticks &&
                c->snap_out_seq >= c->log_base;
    if (!fresh) {
        uint8_t *snap;
        size_t len;
        if (kv_snapshot(c->clean, &snap, &len) < 0 || len > CHAIN_SNAP_MAX) {
            free(snap);
            return;
        }
        free(c->snap_out);
        c->snap_out = snap;
        c->snap_out_len = len;
        c->snap_out_seq = c->commit_seq;
        c->snap_out_tick = c->tick;
        c->has_snap_out = 1;
    }
    size_t off = 0;
    do {
        size_t n = c->snap_out_len - off;
        if (n > c->o.snap_chunk)
            n = c->o.snap_chunk;
        buf b;
        buf_init(&b);
        chain_msg_put_u64(&b, c->cfg.epoch);
        chain_msg_put_u64(&b, c->snap_out_seq);
        chain_msg_put_u32(&b, (uint32_t)c->snap_out_len);
        chain_msg_put_u32(&b, (uint32_t)off);
        buf_append(&b, c->snap_out + off, n);
        chain_send_buf(c, to, CHAIN_MSG_SNAP, &b);
        off += n;
    } while (off < c->snap_out_len);
}

/* The whole snapshot arrived: replace our state with it. */
static void install(chain_node *c)
{
    /* The same bytes restore both kvs or neither (a malformed snapshot
     * leaves the state unchanged). */
    if (kv_restore(c->clean, c->snap_in, c->snap_in_total) < 0)
        return;
    kv_restore(c->dirty, c->snap_in, c->snap_in_total);
    chain_log_clear(c);
    c->log_base = c->last_seq = c->commit_seq = c->snap_in_seq;
    c->synced = 1;
    chain_action *a = chain_act_push(c, CHAIN_ACT_SNAPSHOT);
    a->seq = c->snap_in_seq;
    if (c->pos >= 0) {
        if (!c->pred)
            c->caught_up = 1;
        chain_send_ack(c);
    }
}

void chain_snap_recv(chain_node *c, uint16_t from, const chain_msg *m)
{
    /* A member takes state only from its predecessor in its epoch; a node
     * outside the chain (a joiner) from whoever it asked. */
    if (c->pos >= 0 && (from != c->pred || m->epoch != c->cfg.epoch)) {
        chain_reject(c, from, m->epoch);
        return;
    }
    if (c->synced && m->a <= c->last_seq)
        return;   /* nothing new */
    if (m->total > CHAIN_SNAP_MAX)
        return;
    if (!c->snap_in || c->snap_in_seq != m->a || c->snap_in_total != m->total ||
        c->snap_in_from != from) {
        free(c->snap_in);
        c->snap_in = malloc(1);
        if (!c->snap_in)
            abort();
        c->snap_in_seq = m->a;
        c->snap_in_total = m->total;
        c->snap_in_from = from;
        c->snap_in_have = 0;
    }
    if (m->offset != c->snap_in_have)
        return;   /* out of order: the sender's next retry fills the gap */
    /* Grow with what actually arrived: an announced size costs nothing. */
    uint8_t *grown = realloc(c->snap_in, c->snap_in_have + m->data_len + 1);
    if (!grown)
        abort();
    c->snap_in = grown;
    memcpy(c->snap_in + c->snap_in_have, m->data, m->data_len);
    c->snap_in_have += m->data_len;
    if (c->snap_in_have == c->snap_in_total) {
        install(c);
        free(c->snap_in);
        c->snap_in = NULL;
    }
}
