/* model_kv.c: a key-value store; each key is a cas-register that also has
 * delete and append (Porcupine's kv logs: get/put/append on strings).
 *
 * Appended strings can be long (hundreds of bytes) and the search builds a
 * new one at every append it tries, so strings are never materialised. A
 * string state is a node of a trie: (parent node, appended value), with the
 * string's length and polynomial hash kept in the node and updated in O(1)
 * (h(s+v) = h(s)*B^|v| + h(v), mod 2^64). Nodes are interned by (parent,
 * value), so an append is one hash lookup. A read compares length and hash
 * first and, only when they match, the actual bytes (walking the chain),
 * caching the answer: hash collisions cost time, never a wrong verdict.
 *
 * Handles: a non-string value (null, an integer) is its value id; a string
 * is KV_STR | node. Node 1 is "" (the root). Two different paths to the same
 * string (put "ab" vs. append "a","b") are different handles: that only
 * costs memo hits, since reads compare contents.
 *
 * Dead strings. A string state of a key that is not a prefix of any value
 * an ok read of that key returned, nor of any value a cas of that key
 * expects, can never again be seen: appends keep it a non-prefix, reads and
 * ok cas ops fail on it, an info cas leaves it, a reset replaces it. So all
 * such states behave the same from there on, and the model maps them to one
 * handle, KV_DEAD. The searches then see one state where the orders of
 * appends that a later put hides would each have made a new string (the
 * blow-up of the sequential search on Porcupine's 50-client logs). Whether
 * a string is a prefix is looked up by fingerprint (key, length, hash) in a
 * set of every prefix of those values: a collision can only keep a string
 * alive, never kill a live one. The set is skipped (nothing is dead) when
 * the values are too long in total (KV_LIVE_MAX bytes).
 *
 * A non-string value (an integer) written to a key is dead too when no ok
 * read of the key returns it, no cas of the key expects it (model_seen),
 * and its text is no live prefix (an append would turn it into a string
 * starting with its text). Register-style histories (riftlab's own runs,
 * integers only) get the same collapse of unseen timed-out writes. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "checker/hash.h"
#include "checker/model.h"

#define KV_STR (1ULL << 40)
#define KV_DEAD KV_STR /* node 0: a string no read or cas of its key can see */
#define KV_B 0x100000001b3ULL
#define KV_LIVE_MAX ((size_t)1 << 23)

typedef struct kv_node {
    uint32_t parent, vid;   /* root: parent 0 */
    uint64_t len, hash;
    uint32_t live_key;      /* kv_canon's last answer: for key live_key - 1 ... */
    bool live;              /* ... the string is live */
} kv_node;

typedef struct kv_ctx {
    const history *h;
    kv_node *nodes;
    uint32_t nnodes, capnodes;
    uint64_t *vhash, *vpow;  /* per value id: hash of its bytes, B^len */
    uint64_t *vnode;         /* per value id: handle of write(v) (0: not yet) */
    uint64_t *map;           /* (key, result) pairs: appends and read checks */
    size_t mmask, mn;
    uint64_t **vpref;        /* per value id: hashes of its prefixes (made on demand) */
    uint64_t *live;          /* fingerprints of live prefixes (0: empty); NULL: not used */
    size_t lmask;
    uint64_t *seen;          /* sorted distinct (key << 32 | value) read or cas-expected strings */
    size_t nseen;
    model_seen vseen;        /* every value read or cas-expected, per key (non-strings) */
} kv_ctx;

static void kv_seg(const history *h, uint32_t vid, const char **p, size_t *n)
{
    const hist_value *v = &h->vals[vid];
    *p = v->kind == HIST_V_STRING ? v->str : v->text;
    *n = v->kind == HIST_V_STRING ? v->slen : v->len;
}

static uint64_t kv_fp(uint32_t key, uint64_t len, uint64_t hash)
{
    return chk_mix64(hash ^ chk_mix64(len * 0x9e3779b97f4a7c15ULL + key)) | 1;
}

static void kv_live_add(kv_ctx *c, uint64_t fp)
{
    size_t i = fp & c->lmask;
    while (c->live[i] && c->live[i] != fp)
        i = (i + 1) & c->lmask;
    c->live[i] = fp;
}

static int kv_u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The live set: every prefix of every distinct (key, string) that an ok
 * read returned or a cas expects; and, from the same ops, vseen. */
static void kv_live_build(kv_ctx *c)
{
    const history *h = c->h;
    hist_op *ops;
    size_t nops, n = 0, total = 0;
    char err[8];
    if (history_ops(h, &ops, &nops, err, sizeof err)) {
        c->vseen.all = true;
        return;
    }
    model_seen_init_ops(&c->vseen, ops, nops);
    uint64_t *kv = malloc((nops + 1) * sizeof *kv);
    if (!kv)
        abort();
    for (size_t i = 0; i < nops; i++) {
        uint32_t v = ops[i].f == HIST_F_READ && ops[i].type == HIST_OK ? ops[i].ret
                   : ops[i].f == HIST_F_CAS ? ops[i].arg : 0;
        if (v && h->vals[v].kind == HIST_V_STRING)
            kv[n++] = (uint64_t)ops[i].key << 32 | v;
    }
    free(ops);
    qsort(kv, n, sizeof *kv, kv_u64_cmp);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || kv[i] != kv[i - 1]) {
            kv[m++] = kv[i];
            total += h->vals[(uint32_t)kv[i]].slen + 1;
        }
    if (total <= KV_LIVE_MAX) {
        for (c->lmask = 1023; c->lmask < total * 2; c->lmask = c->lmask * 2 + 1)
            ;
        c->live = calloc(c->lmask + 1, sizeof *c->live);
        if (!c->live)
            abort();
        for (size_t i = 0; i < m; i++) {
            const hist_value *v = &h->vals[(uint32_t)kv[i]];
            uint64_t hs = 0;
            kv_live_add(c, kv_fp((uint32_t)(kv[i] >> 32), 0, 0));
            for (uint32_t j = 0; j < v->slen; j++) {
                hs = hs * KV_B + (unsigned char)v->str[j] + 1;
                kv_live_add(c, kv_fp((uint32_t)(kv[i] >> 32), j + 1, hs));
            }
        }
        c->seen = kv;
        c->nseen = m;
        return;
    }
    free(kv);
}

static void *kv_ctx_new(const history *h)
{
    kv_ctx *c = calloc(1, sizeof *c);
    c->h = h;
    c->vhash = malloc(h->nvals * sizeof *c->vhash);
    c->vpow = malloc(h->nvals * sizeof *c->vpow);
    c->vnode = calloc(h->nvals, sizeof *c->vnode);
    c->vpref = calloc(h->nvals, sizeof *c->vpref);
    c->capnodes = 1024;
    c->nodes = malloc(c->capnodes * sizeof *c->nodes);
    c->mmask = 4095;
    c->map = calloc((c->mmask + 1) * 2, sizeof *c->map);
    if (!c || !c->vhash || !c->vpow || !c->vnode || !c->vpref || !c->nodes || !c->map)
        abort();
    for (uint32_t v = 1; v < h->nvals; v++) {
        const char *p;
        size_t n;
        kv_seg(h, v, &p, &n);
        uint64_t hs = 0, pw = 1;
        for (size_t i = 0; i < n; i++) {
            hs = hs * KV_B + (unsigned char)p[i] + 1;
            pw *= KV_B;
        }
        c->vhash[v] = hs;
        c->vpow[v] = pw;
    }
    c->nodes[0] = (kv_node){0, 0, 0, 0, 0, false};
    c->nodes[1] = (kv_node){0, 0, 0, 0, 0, false}; /* the root: "" */
    c->nnodes = 2;
    kv_live_build(c);
    return c;
}

static void kv_ctx_free(void *ctx)
{
    kv_ctx *c = ctx;
    free(c->vhash);
    free(c->vpow);
    free(c->vnode);
    for (uint32_t v = 0; v < c->h->nvals; v++)
        free(c->vpref[v]);
    free(c->vpref);
    free(c->live);
    free(c->seen);
    model_seen_free(&c->vseen);
    free(c->nodes);
    free(c->map);
    free(c);
}

/* The map: open addressing over 64-bit keys (never 0) to 64-bit results. */
static uint64_t *kv_slot(kv_ctx *c, uint64_t key)
{
    size_t i = chk_mix64(key) & c->mmask;
    while (c->map[2 * i] && c->map[2 * i] != key)
        i = (i + 1) & c->mmask;
    return &c->map[2 * i];
}

static void kv_put(kv_ctx *c, uint64_t *slot, uint64_t key, uint64_t val)
{
    slot[0] = key;
    slot[1] = val;
    if (++c->mn * 2 <= c->mmask)
        return;
    uint64_t *old = c->map;
    size_t omask = c->mmask;
    c->mmask = c->mmask * 2 + 1;
    c->map = calloc((c->mmask + 1) * 2, sizeof *c->map);
    if (!c->map)
        abort();
    for (size_t i = 0; i <= omask; i++)
        if (old[2 * i]) {
            uint64_t *s = kv_slot(c, old[2 * i]);
            s[0] = old[2 * i];
            s[1] = old[2 * i + 1];
        }
    free(old);
}

/* Appending vid to string node `node`: the interned child. */
static uint32_t kv_child(kv_ctx *c, uint32_t node, uint32_t vid)
{
    uint64_t key = (uint64_t)node << 32 | vid; /* node >= 1: never 0 */
    uint64_t *slot = kv_slot(c, key);
    if (slot[0])
        return (uint32_t)slot[1];
    if (c->nnodes == c->capnodes) {
        c->nodes = realloc(c->nodes, (c->capnodes *= 2) * sizeof *c->nodes);
        if (!c->nodes)
            abort();
    }
    const kv_node *p = &c->nodes[node];
    uint32_t id = c->nnodes++;
    const char *s;
    size_t n;
    kv_seg(c->h, vid, &s, &n);
    c->nodes[id] = (kv_node){node, vid, p->len + n, p->hash * c->vpow[vid] + c->vhash[vid], 0, false};
    kv_put(c, slot, key, id);
    return id;
}

/* Does the string of node equal the bytes of value r? Walks the chain. */
static bool kv_same(kv_ctx *c, uint32_t node, uint32_t r)
{
    const char *rs;
    size_t rn;
    kv_seg(c->h, r, &rs, &rn);
    size_t end = rn;
    for (; node > 1; node = c->nodes[node].parent) {
        const char *s;
        size_t n;
        kv_seg(c->h, c->nodes[node].vid, &s, &n);
        if (n > end || memcmp(rs + end - n, s, n) != 0)
            return false;
        end -= n;
    }
    return end == 0;
}

static bool kv_read_ok(kv_ctx *c, uint64_t state, uint32_t r)
{
    const hist_value *v = &c->h->vals[r];
    if (state == KV_DEAD)
        return false;
    if (!(state & KV_STR))
        return v->kind != HIST_V_STRING && state == r;
    if (v->kind != HIST_V_STRING)
        return false;
    const kv_node *n = &c->nodes[(uint32_t)state];
    if (n->len != v->slen || n->hash != c->vhash[r])
        return false;
    uint64_t key = (uint64_t)r << 40 | (uint32_t)state | 1ULL << 63; /* distinct from append keys */
    uint64_t *slot = kv_slot(c, key);
    if (slot[0])
        return slot[1] != 0;
    bool same = kv_same(c, (uint32_t)state, r);
    kv_put(c, slot, key, same);
    return same;
}

static uint64_t kv_value(kv_ctx *c, uint32_t vid)
{
    if (c->h->vals[vid].kind != HIST_V_STRING)
        return vid;
    if (!c->vnode[vid])
        c->vnode[vid] = KV_STR | (c->h->vals[vid].slen ? kv_child(c, 1, vid) : 1);
    return c->vnode[vid];
}

/* A string state of key that no read or cas can see becomes KV_DEAD. */
static uint64_t kv_canon(kv_ctx *c, uint32_t key, uint64_t s)
{
    if (!c->live || !(s & KV_STR) || s == KV_DEAD)
        return s;
    kv_node *n = &c->nodes[(uint32_t)s];
    if (n->live_key != key + 1) { /* one answer per node is kept: usually its only key */
        uint64_t fp = kv_fp(key, n->len, n->hash);
        size_t i = fp & c->lmask;
        while (c->live[i] && c->live[i] != fp)
            i = (i + 1) & c->lmask;
        n->live = c->live[i] == fp;
        n->live_key = key + 1;
    }
    return n->live ? s : KV_DEAD;
}

/* The state after writing value vid to key: kv_value, with dead values
 * (strings and non-strings, see the top of the file) made KV_DEAD. */
static uint64_t kv_written(kv_ctx *c, uint32_t key, uint32_t vid)
{
    uint64_t s = kv_value(c, vid);
    if (s & KV_STR)
        return kv_canon(c, key, s);
    if (!c->live || vid == HIST_NULL || model_seen_has(&c->vseen, key, vid))
        return s;
    return kv_canon(c, key, KV_STR | kv_child(c, 1, vid)) == KV_DEAD ? KV_DEAD : s;
}

static uint64_t kv_init(void *ctx)
{
    kv_ctx *c = ctx;
    return kv_value(c, c->h->initial);
}

static bool kv_step(void *ctx, uint64_t s, const hist_op *o, uint64_t *next)
{
    kv_ctx *c = ctx;
    *next = s;
    switch (o->f) {
    case HIST_F_READ:
        return o->type != HIST_OK || kv_read_ok(c, s, o->ret);
    case HIST_F_WRITE:
        *next = kv_written(c, o->key, o->arg);
        return true;
    case HIST_F_DELETE:
        *next = HIST_NULL;
        return true;
    case HIST_F_APPEND:
        if (s == KV_DEAD)
            return true;
        if (!(s & KV_STR)) /* null appends to "", another value to its text */
            s = s == HIST_NULL ? (KV_STR | 1) : KV_STR | kv_child(c, 1, (uint32_t)s);
        *next = kv_canon(c, o->key, KV_STR | kv_child(c, (uint32_t)s, o->arg));
        return true;
    case HIST_F_CAS: {
        bool match = (s & KV_STR) ? kv_read_ok(c, s, o->arg) : s == o->arg;
        if (match)
            *next = kv_written(c, o->key, o->arg2);
        return match || o->type != HIST_OK;
    }
    default:
        return false;
    }
}

/* Could appends alone turn s into the value the ok read r returned? Appends
 * only extend a string (null counts as "", another value as its text), so
 * the read's string must start with s's. Compared by length and prefix hash
 * only: a collision can only answer true wrongly, which model.h allows. */
static bool kv_reach(void *ctx, uint64_t s, const hist_op *r)
{
    kv_ctx *c = ctx;
    const hist_value *v = &c->h->vals[r->ret];
    if (v->kind != HIST_V_STRING)
        return s == r->ret;
    if (s == HIST_NULL)
        return true;
    if (s == KV_DEAD)
        return false;
    uint32_t node = s & KV_STR ? (uint32_t)s : kv_child(c, 1, (uint32_t)s);
    const kv_node *n = &c->nodes[node];
    if (n->len > v->slen)
        return false;
    if (!c->vpref[r->ret]) {
        uint64_t *pf = malloc(((size_t)v->slen + 1) * sizeof *pf);
        if (!pf)
            abort();
        pf[0] = 0;
        for (uint32_t i = 0; i < v->slen; i++)
            pf[i + 1] = pf[i] * KV_B + (unsigned char)v->str[i] + 1;
        c->vpref[r->ret] = pf;
    }
    return c->vpref[r->ret][n->len] == n->hash;
}

static bool kv_reset(void *ctx, const hist_op *w, uint64_t *after)
{
    kv_ctx *c = ctx;
    switch (w->f) {
    case HIST_F_WRITE:
        *after = kv_written(c, w->key, w->arg);
        return true;
    case HIST_F_CAS:
        *after = kv_written(c, w->key, w->arg2);
        return true;
    case HIST_F_DELETE:
        *after = HIST_NULL;
        return true;
    default:
        return false;
    }
}

/* After a read or a reset, appends only extend the state (kv_reach). After
 * an append of A the state ends with A and appends only extend it, so a
 * string read must contain A (a memmem test: exact, no hashing). */
static bool kv_follows(void *ctx, const hist_op *w, const hist_op *r)
{
    kv_ctx *c = ctx;
    uint64_t after;
    if (w->f == HIST_F_READ)
        return kv_reach(c, kv_value(c, w->ret), r);
    if (w->f != HIST_F_APPEND)
        return kv_reset(c, w, &after) && kv_reach(c, after, r);
    const hist_value *v = &c->h->vals[r->ret];
    const char *a;
    size_t an;
    kv_seg(c->h, w->arg, &a, &an);
    return v->kind == HIST_V_STRING && (an == 0 || (v->slen >= an && memmem(v->str, v->slen, a, an) != NULL));
}

/* A put of a dead value, or an append of a string that no read or cas
 * value of its key contains (then every state it makes is dead: a prefix
 * of such a value ending in it would contain it). */
static bool kv_kills(void *ctx, const hist_op *o)
{
    kv_ctx *c = ctx;
    if (!c->live || (o->f != HIST_F_WRITE && o->f != HIST_F_APPEND))
        return false;
    if (o->f == HIST_F_WRITE)
        return kv_written(c, o->key, o->arg) == KV_DEAD;
    const char *a;
    size_t an, lo = 0, hi = c->nseen;
    kv_seg(c->h, o->arg, &a, &an);
    if (an == 0)
        return false;
    while (lo < hi) { /* the first seen entry of the key */
        size_t mid = lo + (hi - lo) / 2;
        if (c->seen[mid] >> 32 < o->key)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < c->nseen && c->seen[lo] >> 32 == o->key; lo++) {
        const hist_value *v = &c->h->vals[(uint32_t)c->seen[lo]];
        if (v->slen >= an && memmem(v->str, v->slen, a, an))
            return false;
    }
    return true;
}

static uint64_t kv_hash(void *ctx, uint64_t s)
{
    kv_ctx *c = ctx;
    return s & KV_STR ? c->nodes[(uint32_t)s].hash : chk_mix64(s);
}

static void kv_describe(void *ctx, uint64_t s, FILE *out)
{
    kv_ctx *c = ctx;
    if (!(s & KV_STR)) {
        fputs(c->h->vals[s].text, out);
        return;
    }
    if (s == KV_DEAD) {
        fputs("(a string no later read can see)", out);
        return;
    }
    /* Segments are linked from the end: collect them, print in order. */
    uint32_t depth = 0, *chain = NULL;
    for (uint32_t n = (uint32_t)s; n > 1; n = c->nodes[n].parent)
        depth++;
    chain = malloc((depth + 1) * sizeof *chain);
    uint32_t i = depth;
    for (uint32_t n = (uint32_t)s; n > 1; n = c->nodes[n].parent)
        chain[--i] = c->nodes[n].vid;
    fputc('"', out);
    for (i = 0; i < depth; i++) {
        const char *p;
        size_t n;
        kv_seg(c->h, chain[i], &p, &n);
        fwrite(p, 1, n, out);
    }
    fputc('"', out);
    free(chain);
}

static bool kv_accepts(hist_f f)
{
    return f == HIST_F_READ || f == HIST_F_WRITE || f == HIST_F_CAS || f == HIST_F_DELETE || f == HIST_F_APPEND;
}

const model model_kv = {
    "kv", kv_ctx_new, kv_ctx_free, kv_init, kv_step, model_equal_id, kv_hash,
    kv_describe, model_partition_by_key, kv_accepts, true, false, kv_reach, kv_reset, kv_follows, kv_kills,
};
