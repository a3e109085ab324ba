/* cn_byz.c: the Byzantine layer around chain-node's honest core
 * (cn_byz.h says what reorder-forward does and why entries are held). */
#define _GNU_SOURCE
#include "cn_byz.h"

#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "chain_msg.h"

int cn_byz_parse(const char *name)
{
    return strcmp(name, "reorder-forward") == 0 ? CN_BYZ_REORDER_FORWARD : -1;
}

const char *cn_byz_name(int mode)
{
    return mode == CN_BYZ_REORDER_FORWARD ? "reorder-forward" : NULL;
}

void cn_byz_init(cn_byz *b, int mode)
{
    memset(b, 0, sizeof *b);
    b->mode = mode;
    if (mode) {
        b->ring = calloc(CN_BYZ_RING, sizeof *b->ring);
        if (!b->ring)
            abort();
    }
}

void cn_byz_free(cn_byz *b)
{
    for (size_t i = 0; b->ring && i < CN_BYZ_RING; i++)
        free(b->ring[i].cmd);
    free(b->ring);
    memset(b, 0, sizeof *b);
}

static cn_byz_slot *slot_of(cn_byz *b, uint64_t seq)
{
    cn_byz_slot *s = &b->ring[seq % CN_BYZ_RING];
    return s->seq == seq ? s : NULL;
}

static void remember(cn_byz *b, const chain_msg_entry *e)
{
    cn_byz_slot *s = &b->ring[e->seq % CN_BYZ_RING];
    if (s->seq == e->seq)
        return;
    free(s->cmd);
    memset(s, 0, sizeof *s);
    s->cmd = malloc(e->len ? e->len : 1);
    if (!s->cmd)
        abort();
    if (e->len)
        memcpy(s->cmd, e->cmd, e->len);
    s->len = e->len;
    s->rid = e->rid;
    s->seq = e->seq;
}

int cn_byz_update(cn_byz *b, const uint8_t *body, size_t len, uint64_t now_ns, buf *out,
                  uint64_t *first_swap)
{
    chain_msg m;
    *first_swap = 0;
    if (b->mode != CN_BYZ_REORDER_FORWARD || chain_msg_decode(CHAIN_MSG_UPDATE, body, len, &m) < 0 ||
        m.n == 0)
        return 0;
    size_t pos = 0;
    chain_msg_entry e;
    while (chain_msg_next_entry(&m, &pos, &e))
        if (e.seq)
            remember(b, &e);
    buf_reset(out);
    chain_msg_update_begin(out, m.epoch, m.a, m.b);
    uint32_t n = 0;
    pos = 0;
    while (chain_msg_next_entry(&m, &pos, &e)) {
        cn_byz_slot *self = e.seq ? slot_of(b, e.seq) : NULL;
        cn_byz_slot *partner = self ? slot_of(b, e.seq % 2 ? e.seq + 1 : e.seq - 1) : NULL;
        cn_byz_slot *odd = self && e.seq % 2 ? self : partner;
        if (self && e.seq % 2 && !partner && !self->honest) {
            /* The partner is not written yet: hold this entry (and, since
             * the receiver needs them in order, everything after it). */
            if (!self->held_since)
                self->held_since = now_ns ? now_ns : 1;
            if (now_ns - self->held_since < CN_BYZ_HOLD_NS) {
                b->held++;
                break;
            }
            self->honest = 1;   /* waited long enough: this pair stays honest */
        }
        if (!self || !partner || (odd && odd->honest)) {
            chain_msg_update_add(out, e.seq, e.rid, e.cmd, e.len);
        } else {
            chain_msg_update_add(out, e.seq, partner->rid, partner->cmd, partner->len);
            b->swapped++;
            if (!self->traced && (!*first_swap || e.seq < *first_swap))
                *first_swap = e.seq;
            self->traced = 1;
        }
        n++;
    }
    chain_msg_update_end(out, n);
    return 1;
}
