/* kv_codec.c: the compact log encoding of kv commands.
 *
 *   byte 0   op (enum kv_op)
 *   byte 1   flags (SET: KV_SET_*; 0 otherwise)
 *   then, per op, fields as LEB128 varints; byte strings as varint length + bytes:
 *     SET     key, value [, deadline_ms zigzag varint if KV_SET_PX]
 *     DEL     key
 *     CAS     key, expected, new
 *     EXPIRE  key, version
 *
 * Varints keep a 256-byte SET at 2 + 1 + klen + 2 + 256 bytes: the log and
 * every AppendEntries carry little more than the user's bytes. */
#include "kv.h"

#include <string.h>

/* --- varints ------------------------------------------------------------- */

static size_t varint_size(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static uint8_t *varint_put(uint8_t *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

/* Returns 0 and advances *p, or -1 on truncation or a non-canonical
 * (overlong) encoding, so every command has exactly one byte form. */
static int varint_get(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*p >= end)
            return -1;
        uint8_t b = *(*p)++;
        if ((shift == 63 && b > 1) || (shift > 0 && b == 0))
            return -1;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return -1;
}

static uint64_t zigzag(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }
static int64_t unzigzag(uint64_t v) { return (int64_t)(v >> 1) ^ -(int64_t)(v & 1); }

static int bytes_get(const uint8_t **p, const uint8_t *end, size_t max,
                     const uint8_t **out, size_t *len)
{
    uint64_t n;
    if (varint_get(p, end, &n) < 0 || n > max || n > (uint64_t)(end - *p))
        return -1;
    *out = *p;
    *len = (size_t)n;
    *p += n;
    return 0;
}

/* --- commands ------------------------------------------------------------ */

static int cmd_valid(const kv_cmd *c)
{
    if (c->klen > KV_MAX_KEY || c->vlen > KV_MAX_VALUE || c->elen > KV_MAX_VALUE)
        return 0;
    switch (c->op) {
    case KV_OP_SET:
        if (c->flags & ~(KV_SET_NX | KV_SET_XX | KV_SET_PX))
            return 0;
        return (c->flags & (KV_SET_NX | KV_SET_XX)) != (KV_SET_NX | KV_SET_XX);
    case KV_OP_DEL:
    case KV_OP_CAS:
    case KV_OP_EXPIRE:
        return c->flags == 0;
    default:
        return 0;
    }
}

size_t kv_cmd_size(const kv_cmd *c)
{
    size_t n = 2 + varint_size(c->klen) + c->klen;
    switch (c->op) {
    case KV_OP_SET:
        n += varint_size(c->vlen) + c->vlen;
        if (c->flags & KV_SET_PX)
            n += varint_size(zigzag(c->deadline_ms));
        break;
    case KV_OP_CAS:
        n += varint_size(c->elen) + c->elen + varint_size(c->vlen) + c->vlen;
        break;
    case KV_OP_EXPIRE:
        n += varint_size(c->version);
        break;
    default:
        break;
    }
    return n;
}

static uint8_t *bytes_put(uint8_t *p, const uint8_t *s, size_t n)
{
    p = varint_put(p, n);
    if (n)
        memcpy(p, s, n);
    return p + n;
}

int kv_cmd_encode(const kv_cmd *c, uint8_t *out, size_t cap)
{
    if (!cmd_valid(c) || kv_cmd_size(c) > cap)
        return -1;
    uint8_t *p = out;
    *p++ = c->op;
    *p++ = c->flags;
    p = bytes_put(p, c->key, c->klen);
    switch (c->op) {
    case KV_OP_SET:
        p = bytes_put(p, c->val, c->vlen);
        if (c->flags & KV_SET_PX)
            p = varint_put(p, zigzag(c->deadline_ms));
        break;
    case KV_OP_CAS:
        p = bytes_put(p, c->expect, c->elen);
        p = bytes_put(p, c->val, c->vlen);
        break;
    case KV_OP_EXPIRE:
        p = varint_put(p, c->version);
        break;
    default:
        break;
    }
    return (int)(p - out);
}

int kv_cmd_decode(kv_cmd *c, const uint8_t *in, size_t len)
{
    memset(c, 0, sizeof *c);
    if (len < 2)
        return -1;
    const uint8_t *p = in + 2, *end = in + len;
    c->op = in[0];
    c->flags = in[1];
    if (!cmd_valid(c) || bytes_get(&p, end, KV_MAX_KEY, &c->key, &c->klen) < 0)
        return -1;
    uint64_t v;
    switch (c->op) {
    case KV_OP_SET:
        if (bytes_get(&p, end, KV_MAX_VALUE, &c->val, &c->vlen) < 0)
            return -1;
        if (c->flags & KV_SET_PX) {
            if (varint_get(&p, end, &v) < 0)
                return -1;
            c->deadline_ms = unzigzag(v);
        }
        break;
    case KV_OP_CAS:
        if (bytes_get(&p, end, KV_MAX_VALUE, &c->expect, &c->elen) < 0 ||
            bytes_get(&p, end, KV_MAX_VALUE, &c->val, &c->vlen) < 0)
            return -1;
        break;
    case KV_OP_EXPIRE:
        if (varint_get(&p, end, &c->version) < 0)
            return -1;
        break;
    default:
        break;
    }
    return p == end ? 0 : -1;
}

int kv_encode_set(uint8_t *out, size_t cap, const void *key, size_t klen,
                  const void *val, size_t vlen, uint8_t flags, int64_t deadline_ms)
{
    kv_cmd c = {.op = KV_OP_SET, .flags = flags, .key = key, .klen = klen,
                .val = val, .vlen = vlen, .deadline_ms = deadline_ms};
    return kv_cmd_encode(&c, out, cap);
}

int kv_encode_del(uint8_t *out, size_t cap, const void *key, size_t klen)
{
    kv_cmd c = {.op = KV_OP_DEL, .key = key, .klen = klen};
    return kv_cmd_encode(&c, out, cap);
}

int kv_encode_cas(uint8_t *out, size_t cap, const void *key, size_t klen,
                  const void *expect, size_t elen, const void *val, size_t vlen)
{
    kv_cmd c = {.op = KV_OP_CAS, .key = key, .klen = klen, .expect = expect,
                .elen = elen, .val = val, .vlen = vlen};
    return kv_cmd_encode(&c, out, cap);
}

int kv_encode_expire(uint8_t *out, size_t cap, const void *key, size_t klen, uint64_t version)
{
    kv_cmd c = {.op = KV_OP_EXPIRE, .key = key, .klen = klen, .version = version};
    return kv_cmd_encode(&c, out, cap);
}
