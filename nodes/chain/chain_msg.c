/* chain_msg.c: encode and decode chain protocol bodies (see chain_msg.h). */
#include "chain_msg.h"

#include <string.h>

#include "chain.h"

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

static uint32_t get_u32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

void chain_msg_put_u64(buf *b, uint64_t v)
{
    uint8_t t[8];
    for (int i = 7; i >= 0; i--) {
        t[i] = (uint8_t)v;
        v >>= 8;
    }
    buf_append(b, t, 8);
}

void chain_msg_put_u32(buf *b, uint32_t v)
{
    uint8_t t[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
    buf_append(b, t, 4);
}

void chain_msg_update_begin(buf *b, uint64_t epoch, uint64_t last, uint64_t commit)
{
    chain_msg_put_u64(b, epoch);
    chain_msg_put_u64(b, last);
    chain_msg_put_u64(b, commit);
    chain_msg_put_u32(b, 0);
}

void chain_msg_update_add(buf *b, uint64_t seq, uint64_t rid, const uint8_t *cmd, uint32_t len)
{
    chain_msg_put_u64(b, seq);
    chain_msg_put_u64(b, rid);
    chain_msg_put_u32(b, len);
    buf_append(b, cmd, len);
}

void chain_msg_update_end(buf *b, uint32_t n)
{
    uint8_t *p = (uint8_t *)b->data + b->start + 24;
    p[0] = (uint8_t)(n >> 24);
    p[1] = (uint8_t)(n >> 16);
    p[2] = (uint8_t)(n >> 8);
    p[3] = (uint8_t)n;
}

void chain_msg_ack(buf *b, uint64_t epoch, uint64_t recv, uint64_t commit)
{
    chain_msg_put_u64(b, epoch);
    chain_msg_put_u64(b, recv);
    chain_msg_put_u64(b, commit);
}

int chain_msg_next_entry(const chain_msg *m, size_t *pos, chain_msg_entry *e)
{
    if (*pos + CHAIN_MSG_ENTRY_HDR > m->data_len)
        return 0;
    const uint8_t *p = m->data + *pos;
    uint32_t len = get_u32(p + 16);
    if (len > m->data_len - *pos - CHAIN_MSG_ENTRY_HDR)
        return 0;
    e->seq = get_u64(p);
    e->rid = get_u64(p + 8);
    e->len = len;
    e->cmd = p + CHAIN_MSG_ENTRY_HDR;
    *pos += CHAIN_MSG_ENTRY_HDR + (size_t)len;
    return 1;
}

int chain_msg_decode(uint8_t type, const uint8_t *body, size_t len, chain_msg *m)
{
    memset(m, 0, sizeof *m);
    m->type = type;
    if (len < 8)
        return -1;
    m->epoch = get_u64(body);
    switch (type) {
    case CHAIN_MSG_UPDATE: {
        if (len < CHAIN_MSG_UPDATE_HDR)
            return -1;
        m->a = get_u64(body + 8);
        m->b = get_u64(body + 16);
        m->n = get_u32(body + 24);
        m->data = body + CHAIN_MSG_UPDATE_HDR;
        m->data_len = len - CHAIN_MSG_UPDATE_HDR;
        /* Walk the entries once so users can iterate without checks, and
         * insist that they are consecutive and fill the body exactly. */
        size_t pos = 0;
        chain_msg_entry e, prev = { 0 };
        for (uint32_t i = 0; i < m->n; i++) {
            if (!chain_msg_next_entry(m, &pos, &e))
                return -1;
            if (e.seq == 0 || (i > 0 && e.seq != prev.seq + 1))
                return -1;
            prev = e;
        }
        return pos == m->data_len ? 0 : -1;
    }
    case CHAIN_MSG_ACK:
    case CHAIN_MSG_VREPLY:   /* both: epoch, two u64 */
        if (len != 24)
            return -1;
        m->a = get_u64(body + 8);
        m->b = get_u64(body + 16);
        return 0;
    case CHAIN_MSG_VQUERY:   /* epoch, qid, key to the end */
        if (len < 16)
            return -1;
        m->a = get_u64(body + 8);
        m->data = body + 16;
        m->data_len = len - 16;
        return 0;
    case CHAIN_MSG_SNAP:
        if (len < 24)
            return -1;
        m->a = get_u64(body + 8);
        m->total = get_u32(body + 16);
        m->offset = get_u32(body + 20);
        m->data = body + 24;
        m->data_len = len - 24;
        return m->offset <= m->total && m->data_len <= m->total - m->offset ? 0 : -1;
    case CHAIN_MSG_SNAP_REQ:
        return len == 8 ? 0 : -1;
    default:
        return -1;
    }
}
