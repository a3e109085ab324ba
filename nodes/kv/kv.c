/* kv.c: the key-value state machine itself: a hash table of entries, the
 * apply function, reads, expiry scanning and snapshots.
 *
 * Table: separate chaining over a power-of-two bucket array that doubles
 * when the number of keys reaches the number of buckets, so lookups stay
 * O(1) on average. Each entry owns its key and value in one allocation
 * (key bytes followed by value bytes); a SET that changes the value
 * reallocates the entry. */
#include "kv.h"

#include <stdlib.h>
#include <string.h>

typedef struct kv_entry {
    struct kv_entry *next;   /* bucket chain */
    uint64_t hash;
    uint64_t version;        /* rev at the last write of this key */
    int64_t deadline_ms;     /* 0: no expiry */
    int64_t reported_ms;     /* local only (not replicated): last kv_collect_expired report */
    int reported;
    size_t klen, vlen;
    uint8_t bytes[];         /* key, then value */
} kv_entry;

struct kv {
    kv_entry **buckets;
    size_t nbuckets;         /* power of two */
    uint64_t count;
    uint64_t rev;
    uint64_t nttl;           /* entries with a deadline, so expiry scans can be skipped */
};

static const char *const ERR_MALFORMED = "ERR malformed command";

/* FNV-1a, 64 bit: simple and good enough for a table keyed by client data
 * in a test bed (no hostile-collision concerns). */
static uint64_t hash_bytes(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
    return h;
}
#define HASH_SEED 0xcbf29ce484222325ull

static uint64_t hash_u64(uint64_t h, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    return hash_bytes(h, b, 8);
}

kv *kv_new(void)
{
    kv *k = calloc(1, sizeof *k);
    if (!k)
        abort();
    k->nbuckets = 64;
    k->buckets = calloc(k->nbuckets, sizeof *k->buckets);
    if (!k->buckets)
        abort();
    return k;
}

static void kv_clear(kv *k)
{
    for (size_t i = 0; i < k->nbuckets; i++) {
        kv_entry *e = k->buckets[i];
        while (e) {
            kv_entry *n = e->next;
            free(e);
            e = n;
        }
        k->buckets[i] = NULL;
    }
    k->count = k->rev = k->nttl = 0;
}

void kv_free(kv *k)
{
    if (!k)
        return;
    kv_clear(k);
    free(k->buckets);
    free(k);
}

static kv_entry **kv_slot(const kv *k, const void *key, size_t klen, uint64_t h)
{
    kv_entry **pp = &k->buckets[h & (k->nbuckets - 1)];
    while (*pp && !((*pp)->hash == h && (*pp)->klen == klen &&
                    memcmp((*pp)->bytes, key, klen) == 0))
        pp = &(*pp)->next;
    return pp;
}

static kv_entry *kv_find(const kv *k, const void *key, size_t klen)
{
    return *kv_slot(k, key, klen, hash_bytes(HASH_SEED, key, klen));
}

static void kv_grow(kv *k)
{
    size_t n = k->nbuckets * 2;
    kv_entry **b = calloc(n, sizeof *b);
    if (!b)
        abort();
    for (size_t i = 0; i < k->nbuckets; i++) {
        kv_entry *e = k->buckets[i];
        while (e) {
            kv_entry *next = e->next;
            e->next = b[e->hash & (n - 1)];
            b[e->hash & (n - 1)] = e;
            e = next;
        }
    }
    free(k->buckets);
    k->buckets = b;
    k->nbuckets = n;
}

static kv_entry *entry_new(uint64_t h, const void *key, size_t klen, const void *val, size_t vlen)
{
    kv_entry *e = malloc(sizeof *e + klen + vlen);
    if (!e)
        abort();
    memset(e, 0, sizeof *e);
    e->hash = h;
    e->klen = klen;
    e->vlen = vlen;
    if (klen)
        memcpy(e->bytes, key, klen);
    if (vlen)
        memcpy(e->bytes + klen, val, vlen);
    return e;
}

/* Insert or overwrite key with val; the entry gets the next version. */
static kv_entry *kv_put(kv *k, const void *key, size_t klen, const void *val, size_t vlen,
                        int64_t deadline_ms)
{
    uint64_t h = hash_bytes(HASH_SEED, key, klen);
    kv_entry **pp = kv_slot(k, key, klen, h);
    kv_entry *old = *pp;
    kv_entry *e = entry_new(h, key, klen, val, vlen);
    if (old) {
        e->next = old->next;
        if (old->deadline_ms)
            k->nttl--;
        free(old);
    } else {
        k->count++;
    }
    *pp = e;
    e->version = ++k->rev;
    e->deadline_ms = deadline_ms;
    if (deadline_ms)
        k->nttl++;
    if (!old && k->count >= k->nbuckets)
        kv_grow(k);
    return e;
}

static int kv_remove(kv *k, const void *key, size_t klen)
{
    kv_entry **pp = kv_slot(k, key, klen, hash_bytes(HASH_SEED, key, klen));
    kv_entry *e = *pp;
    if (!e)
        return 0;
    *pp = e->next;
    if (e->deadline_ms)
        k->nttl--;
    free(e);
    k->count--;
    k->rev++;
    return 1;
}

static void reply_int(kv_reply *r, int64_t v)
{
    memset(r, 0, sizeof *r);
    r->type = KV_REPLY_INT;
    r->integer = v;
}

static void reply_type(kv_reply *r, enum kv_reply_type t)
{
    memset(r, 0, sizeof *r);
    r->type = t;
}

int kv_apply(kv *k, const uint8_t *bytes, size_t len, kv_reply *out)
{
    kv_cmd c;
    if (kv_cmd_decode(&c, bytes, len) < 0) {
        reply_type(out, KV_REPLY_ERR);
        out->data = (const uint8_t *)ERR_MALFORMED;
        out->len = strlen(ERR_MALFORMED);
        return -1;
    }
    kv_entry *e = kv_find(k, c.key, c.klen);
    switch (c.op) {
    case KV_OP_SET:
        if (((c.flags & KV_SET_NX) && e) || ((c.flags & KV_SET_XX) && !e)) {
            reply_type(out, KV_REPLY_NIL);
            break;
        }
        /* A plain SET drops an earlier TTL, as in Redis. A deadline of 0
         * would read as "none", so PX always stores at least 1. */
        kv_put(k, c.key, c.klen, c.val, c.vlen,
               (c.flags & KV_SET_PX) ? (c.deadline_ms ? c.deadline_ms : 1) : 0);
        reply_type(out, KV_REPLY_OK);
        break;
    case KV_OP_DEL:
        reply_int(out, kv_remove(k, c.key, c.klen));
        break;
    case KV_OP_CAS:
        if (e && e->vlen == c.elen && memcmp(e->bytes + e->klen, c.expect, c.elen) == 0) {
            /* CAS keeps the key's deadline: it changes the value, not its lifetime. */
            kv_put(k, c.key, c.klen, c.val, c.vlen, e->deadline_ms);
            reply_int(out, 1);
        } else {
            reply_int(out, 0);
        }
        break;
    case KV_OP_EXPIRE:
        if (e && e->version == c.version && e->deadline_ms)
            reply_int(out, kv_remove(k, c.key, c.klen));
        else
            reply_int(out, 0);
        break;
    }
    return 0;
}

void kv_get(const kv *k, const void *key, size_t klen, kv_reply *out)
{
    kv_entry *e = kv_find(k, key, klen);
    if (!e) {
        reply_type(out, KV_REPLY_NIL);
        return;
    }
    reply_type(out, KV_REPLY_BULK);
    out->data = e->bytes + e->klen;
    out->len = e->vlen;
}

uint64_t kv_version(const kv *k, const void *key, size_t klen)
{
    kv_entry *e = kv_find(k, key, klen);
    return e ? e->version : 0;
}

uint64_t kv_count(const kv *k) { return k->count; }
uint64_t kv_rev(const kv *k) { return k->rev; }

uint64_t kv_digest(const kv *k)
{
    /* Sum of per-entry hashes: independent of bucket order, so two replicas
     * whose tables grew differently (one restored from a snapshot) agree. */
    uint64_t sum = hash_u64(HASH_SEED, k->rev);
    for (size_t i = 0; i < k->nbuckets; i++)
        for (kv_entry *e = k->buckets[i]; e; e = e->next) {
            uint64_t h = hash_bytes(HASH_SEED, e->bytes, e->klen + e->vlen);
            h = hash_u64(h, e->klen);
            h = hash_u64(h, e->version);
            sum += hash_u64(h, (uint64_t)e->deadline_ms);
        }
    return sum;
}

size_t kv_collect_expired(kv *k, int64_t now_ms, int64_t retry_ms, size_t max,
                          kv_expired_fn fn, void *arg)
{
    size_t n = 0;
    if (k->nttl == 0)
        return 0;
    for (size_t i = 0; i < k->nbuckets && n < max; i++)
        for (kv_entry *e = k->buckets[i]; e && n < max; e = e->next) {
            if (!e->deadline_ms || e->deadline_ms > now_ms)
                continue;
            if (e->reported && now_ms - e->reported_ms < retry_ms)
                continue;
            e->reported = 1;
            e->reported_ms = now_ms;
            fn(e->bytes, e->klen, e->version, arg);
            n++;
        }
    return n;
}

/* --- snapshots ------------------------------------------------------------
 * "RLKV" | u32 format (1) | u64 rev | u64 count |
 * count x (u32 klen | u32 vlen | u64 version | i64 deadline | key | value) |
 * u64 FNV-1a of everything before.   All integers big endian. */

#define SNAP_MAGIC "RLKV"
#define SNAP_FORMAT 1u
#define SNAP_HEAD 24
#define SNAP_ENTRY_HEAD 24

static uint8_t *put_be(uint8_t *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--)
        *p++ = (uint8_t)(v >> (8 * i));
    return p;
}

static uint64_t get_be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

int kv_snapshot(const kv *k, uint8_t **out, size_t *len)
{
    size_t n = SNAP_HEAD + 8;
    for (size_t i = 0; i < k->nbuckets; i++)
        for (kv_entry *e = k->buckets[i]; e; e = e->next)
            n += SNAP_ENTRY_HEAD + e->klen + e->vlen;
    uint8_t *s = malloc(n), *p = s;
    if (!s)
        return -1;
    memcpy(p, SNAP_MAGIC, 4);
    p = put_be(p + 4, SNAP_FORMAT, 4);
    p = put_be(p, k->rev, 8);
    p = put_be(p, k->count, 8);
    for (size_t i = 0; i < k->nbuckets; i++)
        for (kv_entry *e = k->buckets[i]; e; e = e->next) {
            p = put_be(p, e->klen, 4);
            p = put_be(p, e->vlen, 4);
            p = put_be(p, e->version, 8);
            p = put_be(p, (uint64_t)e->deadline_ms, 8);
            memcpy(p, e->bytes, e->klen + e->vlen);
            p += e->klen + e->vlen;
        }
    p = put_be(p, hash_bytes(HASH_SEED, s, (size_t)(p - s)), 8);
    *out = s;
    *len = n;
    return 0;
}

int kv_restore(kv *k, const uint8_t *s, size_t len)
{
    if (len < SNAP_HEAD + 8 || memcmp(s, SNAP_MAGIC, 4) != 0 || get_be(s + 4, 4) != SNAP_FORMAT ||
        get_be(s + len - 8, 8) != hash_bytes(HASH_SEED, s, len - 8))
        return -1;
    uint64_t rev = get_be(s + 8, 8), count = get_be(s + 16, 8);
    const uint8_t *p = s + SNAP_HEAD, *end = s + len - 8;
    kv *t = kv_new(); /* build aside, so a bad snapshot leaves k untouched */
    for (uint64_t i = 0; i < count; i++) {
        if ((size_t)(end - p) < SNAP_ENTRY_HEAD)
            goto bad;
        size_t klen = get_be(p, 4), vlen = get_be(p + 4, 4);
        uint64_t version = get_be(p + 8, 8);
        int64_t deadline = (int64_t)get_be(p + 16, 8);
        p += SNAP_ENTRY_HEAD;
        if (klen > KV_MAX_KEY || vlen > KV_MAX_VALUE || klen + vlen > (size_t)(end - p) ||
            version == 0 || version > rev || kv_find(t, p, klen))
            goto bad;
        kv_entry *e = kv_put(t, p, klen, p + klen, vlen, deadline);
        e->version = version;
        p += klen + vlen;
    }
    if (p != end)
        goto bad;
    t->rev = rev;
    /* Swap t's contents into k. */
    kv tmp = *k;
    *k = *t;
    *t = tmp;
    kv_free(t);
    return 0;
bad:
    kv_free(t);
    return -1;
}
