/* ctrl_sm.c: the chain configuration state machine and its encodings
 * (see ctrl_sm.h). */
#include "ctrl_sm.h"

#include <string.h>

#include "chain_msg.h"

static void put_u16(buf *b, uint16_t v)
{
    uint8_t t[2] = { (uint8_t)(v >> 8), (uint8_t)v };
    buf_append(b, t, 2);
}

static void put_str(buf *b, const char *s)
{
    size_t n = strlen(s);
    if (n > CTRL_ADDR_MAX - 1)
        n = CTRL_ADDR_MAX - 1;
    uint8_t len = (uint8_t)n;
    buf_append(b, &len, 1);
    buf_append(b, s, n);
}

/* A bounds-checked reader over a byte string. */
typedef struct reader {
    const uint8_t *p;
    size_t left;
    int bad;
} reader;

static uint64_t get_n(reader *r, int bytes)
{
    if (r->bad || r->left < (size_t)bytes) {
        r->bad = 1;
        return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v = (v << 8) | r->p[i];
    r->p += bytes;
    r->left -= (size_t)bytes;
    return v;
}

static void get_str(reader *r, char out[CTRL_ADDR_MAX])
{
    size_t n = (size_t)get_n(r, 1);
    /* Addresses are text: an embedded NUL is malformed. */
    if (r->bad || n > CTRL_ADDR_MAX - 1 || n > r->left || memchr(r->p, 0, n)) {
        r->bad = 1;
        out[0] = 0;
        return;
    }
    memcpy(out, r->p, n);
    out[n] = 0;
    r->p += n;
    r->left -= n;
}

void ctrl_cmd_add(buf *b, uint16_t id, const char *addr, const char *client)
{
    uint8_t op = CTRL_CMD_ADD;
    buf_append(b, &op, 1);
    put_u16(b, id);
    put_str(b, addr ? addr : "");
    put_str(b, client ? client : "");
}

void ctrl_cmd_remove(buf *b, uint16_t id)
{
    uint8_t op = CTRL_CMD_REMOVE;
    buf_append(b, &op, 1);
    put_u16(b, id);
}

const ctrl_member *ctrl_state_find(const ctrl_state *s, uint16_t id)
{
    for (int i = 0; i < s->n; i++)
        if (s->m[i].id == id)
            return &s->m[i];
    return NULL;
}

int ctrl_state_apply(ctrl_state *s, const uint8_t *cmd, size_t len)
{
    reader r = { cmd, len, 0 };
    int op = (int)get_n(&r, 1);
    uint16_t id = (uint16_t)get_n(&r, 2);
    ctrl_member m = { .id = id };
    if (op == CTRL_CMD_ADD) {
        get_str(&r, m.addr);
        get_str(&r, m.client);
    }
    if (r.bad || r.left || id == 0 || (op != CTRL_CMD_ADD && op != CTRL_CMD_REMOVE))
        return -1;
    if (op == CTRL_CMD_ADD) {
        if (ctrl_state_find(s, id) || s->n >= CHAIN_MAX_MEMBERS)
            return 0;
        s->m[s->n++] = m;
    } else {
        int i;
        for (i = 0; i < s->n && s->m[i].id != id; i++)
            ;
        if (i == s->n)
            return 0;
        memmove(&s->m[i], &s->m[i + 1], (size_t)(s->n - i - 1) * sizeof s->m[0]);
        s->n--;
    }
    s->epoch++;
    return 1;
}

void ctrl_state_encode(const ctrl_state *s, buf *b)
{
    chain_msg_put_u64(b, s->epoch);
    put_u16(b, s->n);
    for (int i = 0; i < s->n; i++) {
        put_u16(b, s->m[i].id);
        put_str(b, s->m[i].addr);
        put_str(b, s->m[i].client);
    }
}

int ctrl_state_decode(ctrl_state *s, const uint8_t *in, size_t len)
{
    reader r = { in, len, 0 };
    memset(s, 0, sizeof *s);
    s->epoch = get_n(&r, 8);
    uint64_t n = get_n(&r, 2);
    if (r.bad || n > CHAIN_MAX_MEMBERS)
        return -1;
    for (uint64_t i = 0; i < n; i++) {
        ctrl_member *m = &s->m[i];
        m->id = (uint16_t)get_n(&r, 2);
        get_str(&r, m->addr);
        get_str(&r, m->client);
        s->n = (uint16_t)i;   /* duplicates among the earlier members are malformed */
        if (r.bad || m->id == 0 || ctrl_state_find(s, m->id))
            return -1;
    }
    s->n = (uint16_t)n;
    return r.bad || r.left ? -1 : 0;
}

void ctrl_state_chain(const ctrl_state *s, chain_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->epoch = s->epoch;
    cfg->n = s->n;
    for (int i = 0; i < s->n; i++)
        cfg->members[i] = s->m[i].id;
}
