/* node_byz.c: the Byzantine layer around raft-node's honest core
 * (--byzantine MODE; node_byz.h says what each mode does). Nothing here
 * changes the core: it only decides which messages reach the core and the
 * network, and in what form. */
#define _GNU_SOURCE
#include "node_byz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nodes/kv/kv.h"

static const char *const byz_names[] = {NULL, "double-vote", "term-inflation", "lie-append",
                                        "equivocate"};

int node_byz_parse(const char *name)
{
    for (int i = 1; i <= NODE_BYZ_EQUIVOCATE; i++)
        if (strcmp(name, byz_names[i]) == 0)
            return i;
    return -1;
}

const char *node_byz_name(int mode)
{
    return mode > 0 && mode <= NODE_BYZ_EQUIVOCATE ? byz_names[mode] : NULL;
}

void node_byz_init(node_byz *b, int mode, raft_id self)
{
    memset(b, 0, sizeof *b);
    b->mode = mode;
    b->self = self;
    buf_init(&b->data);
}

void node_byz_free(node_byz *b)
{
    free(b->entries);
    buf_free(&b->data);
    memset(b, 0, sizeof *b);
}

unsigned node_byz_recv(node_byz *b, const raft_msg *m, raft_msg *core)
{
    *core = *m;
    if (b->mode == NODE_BYZ_DOUBLE_VOTE && (m->type == RAFT_MSG_VOTE || m->type == RAFT_MSG_PREVOTE)) {
        /* Yes to everyone, in the candidate's own term. The core still sees
         * the request so it keeps up with terms (its answer is dropped). */
        b->reply = (raft_msg){.type = m->type == RAFT_MSG_VOTE ? RAFT_MSG_VOTE_RESP : RAFT_MSG_PREVOTE_RESP,
                              .from = b->self, .to = m->from, .term = m->term};
        b->reply.u.vote_resp.granted = true;
        b->actions++;
        return NODE_BYZ_PASS | NODE_BYZ_REPLY;
    }
    if (b->mode == NODE_BYZ_LIE_APPEND && m->type == RAFT_MSG_APPEND) {
        /* "Stored, durable, matches yours": the match index a leader hopes
         * for. The core gets an empty heartbeat anchored at index 0 (which
         * always matches), so it follows the leader, stores nothing and
         * commits nothing new. */
        b->reply = (raft_msg){.type = RAFT_MSG_APPEND_RESP, .from = b->self, .to = m->from,
                              .term = m->term};
        b->reply.u.append_resp.success = true;
        b->reply.u.append_resp.match_index = m->u.append.prev_index + m->u.append.n_entries;
        b->reply.u.append_resp.ctx = m->u.append.ctx;
        core->u.append.prev_index = 0;
        core->u.append.prev_term = 0;
        core->u.append.n_entries = 0;
        core->u.append.entries = NULL;
        b->actions++;
        return NODE_BYZ_PASS | NODE_BYZ_REPLY;
    }
    return NODE_BYZ_PASS;
}

/* Decimal digits only (what register workloads write). */
static int is_number(const uint8_t *v, size_t n)
{
    if (n == 0 || n > 18)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (v[i] < '0' || v[i] > '9')
            return 0;
    return 1;
}

int node_byz_alter(const uint8_t *cmd, size_t len, buf *out)
{
    kv_cmd c;
    if (kv_cmd_decode(&c, cmd, len) < 0 || (c.op != KV_OP_SET && c.op != KV_OP_CAS))
        return 0;
    /* Another plausible value, so checkers see a wrong value rather than
     * garbage: a number is shifted, anything else gets a '!' appended. */
    buf alt;
    buf_init(&alt);
    if (is_number(c.val, c.vlen)) {
        char num[24];
        memcpy(num, c.val, c.vlen);
        num[c.vlen] = 0;
        buf_printf(&alt, "%lld", strtoll(num, NULL, 10) + NODE_BYZ_VALUE_SHIFT);
    } else {
        buf_append(&alt, c.val, c.vlen);
        buf_append(&alt, "!", 1);
    }
    c.val = (const uint8_t *)buf_ptr(&alt);
    c.vlen = buf_size(&alt);
    size_t need = kv_cmd_size(&c);
    char *dst = buf_reserve(out, need);
    int n = kv_cmd_encode(&c, (uint8_t *)dst, need);
    buf_free(&alt);
    if (n < 0)
        return 0;
    buf_commit(out, (size_t)n);
    return 1;
}

/* Equivocate: copy m's entries into b with SET/CAS values altered. Returns
 * how many were altered. */
static uint32_t alter_entries(node_byz *b, const raft_msg *m, raft_msg *out)
{
    uint32_t n = m->u.append.n_entries, altered = 0;
    if (n > b->entries_cap) {
        free(b->entries);
        b->entries = calloc(n, sizeof *b->entries);
        if (!b->entries)
            abort();
        b->entries_cap = n;
    }
    buf_reset(&b->data);
    size_t *offset = calloc(n, sizeof *offset);
    if (!offset)
        abort();
    for (uint32_t i = 0; i < n; i++) {
        const raft_entry *e = &m->u.append.entries[i];
        b->entries[i] = *e;
        offset[i] = buf_size(&b->data);
        if (e->type == RAFT_ENTRY_NORMAL && node_byz_alter(e->data, e->len, &b->data))
            altered++;
        else if (e->len)
            buf_append(&b->data, e->data, e->len);
    }
    /* Pointers only now: the buffer may have moved while it grew. */
    for (uint32_t i = 0; i < n; i++) {
        size_t end = i + 1 < n ? offset[i + 1] : buf_size(&b->data);
        b->entries[i].len = (uint32_t)(end - offset[i]);
        b->entries[i].data = b->entries[i].len ? (uint8_t *)buf_ptr(&b->data) + offset[i] : NULL;
    }
    free(offset);
    if (altered)
        out->u.append.entries = b->entries;
    return altered;
}

int node_byz_send(node_byz *b, const raft_msg *m, raft_msg *out)
{
    *out = *m;
    switch (b->mode) {
    case NODE_BYZ_DOUBLE_VOTE:
        /* The layer answers every vote request itself. */
        if (m->type == RAFT_MSG_VOTE_RESP || m->type == RAFT_MSG_PREVOTE_RESP) {
            b->actions++;
            return 0;
        }
        return 1;
    case NODE_BYZ_LIE_APPEND:
        if (m->type == RAFT_MSG_APPEND_RESP) {
            b->actions++;
            return 0;
        }
        return 1;
    case NODE_BYZ_TERM_INFLATION:
        out->term = m->term + NODE_BYZ_TERM_BOOST;
        b->actions++;
        return 1;
    case NODE_BYZ_EQUIVOCATE:
        if (m->type == RAFT_MSG_APPEND && m->to % 2 == 0 && m->u.append.n_entries > 0 &&
            alter_entries(b, m, out) > 0)
            b->actions++;
        return 1;
    default:
        return 1;
    }
}
