/* raft_msg.c: encoding and bounds-checked decoding of Raft message bodies
 * (the part of a datagram after the common/wire.h header).
 *
 * All integers are big endian (network order, like the wire header).
 *   VOTE, PREVOTE        term u64 | last_index u64 | last_term u64
 *   VOTE_RESP, PREVOTE_RESP  term u64 | granted u8
 *   APPEND               term | prev_index | prev_term | commit | ctx (u64 each)
 *                        | n u32 | n x (term u64 | type u8 | len u32 | payload)
 *   APPEND_RESP          term u64 | success u8 | match_index | conflict_term
 *                        | conflict_index | ctx (u64 each)
 *   SNAPSHOT             term | snap_index | snap_term | ctx | total | offset (u64 each)
 *                        | len u32 | chunk
 *   SNAPSHOT_RESP        term | snap_index | next_offset | ctx (u64 each)
 * The decoder reads through a cursor that refuses to go past the end, so
 * any input yields RAFT_OK with a message whose fields are in range, or an
 * error code; it is fuzzed by fuzz/raft/. */
#include "nodes/raft/raft.h"

#include <stdlib.h>
#include <string.h>

#define ENTRY_HEADER 13 /* term u64 + type u8 + len u32 */

typedef struct wcur {
    uint8_t *p, *end;
    bool overflow;
} wcur;

static void put(wcur *c, uint64_t v, int bytes)
{
    if (c->end - c->p < bytes) {
        c->overflow = true;
        return;
    }
    for (int i = bytes - 1; i >= 0; i--)
        *c->p++ = (uint8_t)(v >> (8 * i));
}

static void put_bytes(wcur *c, const void *d, size_t n)
{
    if ((size_t)(c->end - c->p) < n) {
        c->overflow = true;
        return;
    }
    if (n)
        memcpy(c->p, d, n);
    c->p += n;
}

size_t raft_msg_encoded_size(const raft_msg *m)
{
    size_t n = 64;
    if (m->type == RAFT_MSG_APPEND)
        for (uint32_t i = 0; i < m->u.append.n_entries; i++)
            n += ENTRY_HEADER + m->u.append.entries[i].len;
    if (m->type == RAFT_MSG_SNAPSHOT)
        n += m->u.snapshot.len;
    return n;
}

int raft_msg_encode(const raft_msg *m, uint8_t *out, size_t cap)
{
    wcur c = {out, out + cap, false};
    put(&c, m->term, 8);
    switch (m->type) {
    case RAFT_MSG_VOTE:
    case RAFT_MSG_PREVOTE:
        put(&c, m->u.vote.last_index, 8);
        put(&c, m->u.vote.last_term, 8);
        break;
    case RAFT_MSG_VOTE_RESP:
    case RAFT_MSG_PREVOTE_RESP:
        put(&c, m->u.vote_resp.granted, 1);
        break;
    case RAFT_MSG_APPEND:
        put(&c, m->u.append.prev_index, 8);
        put(&c, m->u.append.prev_term, 8);
        put(&c, m->u.append.commit, 8);
        put(&c, m->u.append.ctx, 8);
        put(&c, m->u.append.n_entries, 4);
        for (uint32_t i = 0; i < m->u.append.n_entries; i++) {
            const raft_entry *e = &m->u.append.entries[i];
            put(&c, e->term, 8);
            put(&c, e->type, 1);
            put(&c, e->len, 4);
            put_bytes(&c, e->data, e->len);
        }
        break;
    case RAFT_MSG_APPEND_RESP:
        put(&c, m->u.append_resp.success, 1);
        put(&c, m->u.append_resp.match_index, 8);
        put(&c, m->u.append_resp.conflict_term, 8);
        put(&c, m->u.append_resp.conflict_index, 8);
        put(&c, m->u.append_resp.ctx, 8);
        break;
    case RAFT_MSG_SNAPSHOT:
        put(&c, m->u.snapshot.snap_index, 8);
        put(&c, m->u.snapshot.snap_term, 8);
        put(&c, m->u.snapshot.ctx, 8);
        put(&c, m->u.snapshot.total, 8);
        put(&c, m->u.snapshot.offset, 8);
        put(&c, m->u.snapshot.len, 4);
        put_bytes(&c, m->u.snapshot.data, m->u.snapshot.len);
        break;
    case RAFT_MSG_SNAPSHOT_RESP:
        put(&c, m->u.snapshot_resp.snap_index, 8);
        put(&c, m->u.snapshot_resp.next_offset, 8);
        put(&c, m->u.snapshot_resp.ctx, 8);
        break;
    default:
        return -1;
    }
    return c.overflow ? -1 : (int)(c.p - out);
}

/* ---- decoding ---------------------------------------------------------- */

typedef struct rcur {
    const uint8_t *p, *end;
    bool short_;
} rcur;

static uint64_t get(rcur *c, int bytes)
{
    if (c->end - c->p < bytes) {
        c->short_ = true;
        c->p = c->end;
        return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v = v << 8 | *c->p++;
    return v;
}

static const uint8_t *get_bytes(rcur *c, uint64_t n)
{
    if ((uint64_t)(c->end - c->p) < n) {
        c->short_ = true;
        c->p = c->end;
        return NULL;
    }
    const uint8_t *at = c->p;
    c->p += n;
    return at;
}

static int get_bool(rcur *c, bool *out)
{
    uint64_t v = get(c, 1);
    *out = v == 1;
    return v <= 1 ? 0 : -1;
}

static int decode_entries(rcur *c, raft_msg *m)
{
    uint64_t n = get(c, 4);
    if (c->short_)
        return RAFT_EMSG_SHORT;
    if (n > (uint64_t)(c->end - c->p) / ENTRY_HEADER)
        return RAFT_EMSG_INVALID; /* cannot possibly fit: refuse before allocating */
    if (m->u.append.prev_index > UINT64_MAX - n)
        return RAFT_EMSG_INVALID;
    m->u.append.n_entries = (uint32_t)n;
    if (!n)
        return RAFT_OK;
    m->u.append.entries = calloc(n, sizeof(raft_entry));
    if (!m->u.append.entries)
        abort();
    for (uint64_t i = 0; i < n; i++) {
        raft_entry *e = &m->u.append.entries[i];
        e->index = m->u.append.prev_index + 1 + i;
        e->term = get(c, 8);
        e->type = (uint8_t)get(c, 1);
        uint64_t len = get(c, 4);
        if (c->short_)
            return RAFT_EMSG_SHORT;
        if (len > RAFT_MAX_ENTRY || e->type < RAFT_ENTRY_NORMAL || e->type > RAFT_ENTRY_CONFIG ||
            e->term == 0 || e->term > m->term)
            return RAFT_EMSG_INVALID;
        e->len = (uint32_t)len;
        e->data = (uint8_t *)get_bytes(c, len); /* points into the caller's body */
        if (c->short_)
            return RAFT_EMSG_SHORT;
        if (!len)
            e->data = NULL;
    }
    return RAFT_OK;
}

static int decode_body(rcur *c, raft_msg *m)
{
    bool bad = false;
    m->term = get(c, 8);
    switch (m->type) {
    case RAFT_MSG_VOTE:
    case RAFT_MSG_PREVOTE:
        m->u.vote.last_index = get(c, 8);
        m->u.vote.last_term = get(c, 8);
        bad = m->u.vote.last_term > m->term;
        break;
    case RAFT_MSG_VOTE_RESP:
    case RAFT_MSG_PREVOTE_RESP:
        bad = get_bool(c, &m->u.vote_resp.granted) < 0;
        break;
    case RAFT_MSG_APPEND: {
        m->u.append.prev_index = get(c, 8);
        m->u.append.prev_term = get(c, 8);
        m->u.append.commit = get(c, 8);
        m->u.append.ctx = get(c, 8);
        if (c->short_)
            return RAFT_EMSG_SHORT;
        if (m->u.append.prev_term > m->term)
            return RAFT_EMSG_INVALID;
        int rc = decode_entries(c, m);
        if (rc)
            return rc;
        break;
    }
    case RAFT_MSG_APPEND_RESP:
        bad = get_bool(c, &m->u.append_resp.success) < 0;
        m->u.append_resp.match_index = get(c, 8);
        m->u.append_resp.conflict_term = get(c, 8);
        m->u.append_resp.conflict_index = get(c, 8);
        m->u.append_resp.ctx = get(c, 8);
        break;
    case RAFT_MSG_SNAPSHOT: {
        m->u.snapshot.snap_index = get(c, 8);
        m->u.snapshot.snap_term = get(c, 8);
        m->u.snapshot.ctx = get(c, 8);
        m->u.snapshot.total = get(c, 8);
        m->u.snapshot.offset = get(c, 8);
        uint64_t len = get(c, 4);
        if (c->short_)
            return RAFT_EMSG_SHORT;
        if (len > RAFT_SNAPSHOT_CHUNK || m->u.snapshot.offset > m->u.snapshot.total ||
            len > m->u.snapshot.total - m->u.snapshot.offset ||
            m->u.snapshot.snap_term > m->term || m->u.snapshot.snap_index == 0)
            return RAFT_EMSG_INVALID;
        m->u.snapshot.len = (uint32_t)len;
        m->u.snapshot.data = (uint8_t *)get_bytes(c, len);
        break;
    }
    case RAFT_MSG_SNAPSHOT_RESP:
        m->u.snapshot_resp.snap_index = get(c, 8);
        m->u.snapshot_resp.next_offset = get(c, 8);
        m->u.snapshot_resp.ctx = get(c, 8);
        break;
    default:
        return RAFT_EMSG_TYPE;
    }
    if (c->short_)
        return RAFT_EMSG_SHORT;
    if (bad)
        return RAFT_EMSG_INVALID;
    return c->p == c->end ? RAFT_OK : RAFT_EMSG_TRAILING;
}

int raft_msg_decode(uint8_t type, raft_id from, raft_id to,
                    const uint8_t *body, size_t len, raft_msg *m)
{
    memset(m, 0, sizeof *m);
    m->type = type;
    m->from = from;
    m->to = to;
    if (type < RAFT_MSG_VOTE || type > RAFT_MSG_SNAPSHOT_RESP)
        return RAFT_EMSG_TYPE;
    if (from == RAFT_NONE || to == RAFT_NONE)
        return RAFT_EMSG_INVALID;
    if (!body)
        body = (const uint8_t *)""; /* no arithmetic on NULL, even + 0 */
    rcur c = {body, body + len, false};
    int rc = decode_body(&c, m);
    if (rc != RAFT_OK)
        raft_msg_free(m);
    return rc;
}

void raft_msg_free(raft_msg *m)
{
    if (m->type == RAFT_MSG_APPEND) {
        free(m->u.append.entries);
        m->u.append.entries = NULL;
        m->u.append.n_entries = 0;
    }
}

const char *raft_msg_type_name(int type)
{
    switch (type) {
    case RAFT_MSG_VOTE: return "vote";
    case RAFT_MSG_VOTE_RESP: return "vote-resp";
    case RAFT_MSG_PREVOTE: return "prevote";
    case RAFT_MSG_PREVOTE_RESP: return "prevote-resp";
    case RAFT_MSG_APPEND: return "append";
    case RAFT_MSG_APPEND_RESP: return "append-resp";
    case RAFT_MSG_SNAPSHOT: return "snapshot";
    case RAFT_MSG_SNAPSHOT_RESP: return "snapshot-resp";
    default: return "unknown";
    }
}
