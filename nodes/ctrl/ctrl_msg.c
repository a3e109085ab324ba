#define _GNU_SOURCE
/* ctrl_msg.c: bodies of the control plane's own messages (HEARTBEAT,
 * HB_ACK; CONFIG is ctrl_state_encode). Layouts in ctrl.h. */
#include "ctrl.h"

#include <string.h>

#include "chain_msg.h"

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

static void put_str(buf *b, const char *s)
{
    size_t n = strnlen(s, CTRL_ADDR_MAX - 1);
    uint8_t len = (uint8_t)n;
    buf_append(b, &len, 1);
    buf_append(b, s, n);
}

/* Reads a u8-length string at *off; returns -1 if it does not fit. */
static int get_str(const uint8_t *in, size_t len, size_t *off, char out[CTRL_ADDR_MAX])
{
    if (*off >= len)
        return -1;
    size_t n = in[(*off)++];
    if (n > CTRL_ADDR_MAX - 1 || n > len - *off || memchr(in + *off, 0, n))
        return -1;   /* too long, truncated, or not text */
    memcpy(out, in + *off, n);
    out[n] = 0;
    *off += n;
    return 0;
}

void ctrl_heartbeat_encode(const ctrl_heartbeat *h, buf *b)
{
    chain_msg_put_u64(b, h->epoch);
    chain_msg_put_u64(b, h->sent);
    chain_msg_put_u64(b, h->boot);
    chain_msg_put_u64(b, h->last_seq);
    chain_msg_put_u64(b, h->commit_seq);
    buf_append(b, &h->flags, 1);
    put_str(b, h->addr);
    put_str(b, h->client);
}

int ctrl_heartbeat_decode(ctrl_heartbeat *h, const uint8_t *in, size_t len)
{
    memset(h, 0, sizeof *h);
    if (len < 41)
        return -1;
    h->epoch = get_u64(in);
    h->sent = get_u64(in + 8);
    h->boot = get_u64(in + 16);
    h->last_seq = get_u64(in + 24);
    h->commit_seq = get_u64(in + 32);
    h->flags = in[40];
    size_t off = 41;
    if (get_str(in, len, &off, h->addr) < 0 || get_str(in, len, &off, h->client) < 0)
        return -1;
    return off == len ? 0 : -1;
}

void ctrl_hb_ack_encode(uint64_t epoch, uint64_t sent, buf *b)
{
    chain_msg_put_u64(b, epoch);
    chain_msg_put_u64(b, sent);
}

int ctrl_hb_ack_decode(const uint8_t *in, size_t len, uint64_t *epoch, uint64_t *sent)
{
    if (len != 16)
        return -1;
    *epoch = get_u64(in);
    *sent = get_u64(in + 8);
    return 0;
}
