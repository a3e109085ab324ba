/* linear.c: the linearizability search (Wing & Gong, with Lowe's
 * just-in-time linearization and memoization, as Porcupine does it).
 *
 * The ops of one partition become a doubly linked list of call and return
 * entries in history order. Walking from the head, a call entry is an op
 * that could take effect now: if the model accepts it and the configuration
 * (set of ops done, model state) is new, it is linearized: its call and
 * return are lifted out of the list and the walk restarts at the head.
 * Reaching a return entry means that op's deadline passed without it being
 * linearized: undo the last choice and try the next candidate after it.
 * Info ops have a call and no return: they may be linearized anywhere after
 * their invocation, or never (the search ends when every completed op is
 * done). Fail ops never reach this file.
 *
 * The memo key is (state, m, bits[m/64 .. hi/64]) where m is the lowest op
 * not done and hi the highest done: every op below m is done and none above
 * hi is, so the window is exact and short (about the concurrency), not the
 * whole bitset. Its hash is a Zobrist XOR kept up to date in O(1) per step.
 *
 * Info ops under register semantics (model->info_needs_observer, and no
 * appends in the partition; delete counts as a write of null). Take any
 * valid linearization and, repeatedly: drop an info op that changes nothing
 * (a cas whose expected value is absent, a write of the current value); if
 * an info op that changed the state to v is not immediately followed by an
 * op that observes v (an ok read returning v, a cas expecting v), the next
 * op either overwrites v (a write: the info op can be dropped, since the
 * write is legal in any state) or is an info op with no effect in state v
 * (dropped), and an info op at the very end can be dropped too. Every step
 * drops only info ops, which are allowed never to happen, so a history is
 * linearizable iff it has a linearization where every info op that is kept
 * is immediately followed by an observer. The search therefore linearizes
 * an info op only as a pair (info op, observer), one macro step whose
 * resulting configuration is an ordinary one, so the memo stays exact. This
 * removes the blow-up of placing each timed-out write at every point of the
 * rest of the history (most of Porcupine's time on the etcd logs). */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "checker/hash.h"
#include "checker/memo.h"
#include "checker/search.h"

#define NIL (-1)

typedef struct lin_entry {
    uint32_t pos;           /* event index: history order */
    int32_t op;             /* local op number (0..n) */
    int32_t match;          /* call: its return entry, NIL for info ops */
    bool call;
} lin_entry;

double search_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void search_result_free(search_result *r)
{
    free(r->order);
    free(r->window);
    memset(r, 0, sizeof *r);
}

static int entry_cmp(const void *a, const void *b)
{
    const lin_entry *x = a, *y = b;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static inline uint64_t zob(uint32_t i) { return chk_mix64(i + 0x51ed27a3d6ULL); }

/* The list and the stack of one search, so the helpers stay small. */
typedef struct lin {
    lin_entry *ent;
    int32_t *next, *prev;   /* index ne is the head sentinel */
    int32_t head;
    uint64_t *bits;
    int32_t *stk_e, *stk_f;  /* f: the observer linearized with an info op, or NIL */
    uint64_t *stk_state;
    int64_t *stk_hi;
    const uint32_t *idx;
} lin;

static void lin_lift(lin *L, int32_t e)
{
    int32_t r = L->ent[e].match;
    L->next[L->prev[e]] = L->next[e];
    if (L->next[e] != NIL)
        L->prev[L->next[e]] = L->prev[e];
    if (r != NIL) {
        L->next[L->prev[r]] = L->next[r];
        if (L->next[r] != NIL)
            L->prev[L->next[r]] = L->prev[r];
    }
}

static void lin_unlift(lin *L, int32_t e)
{
    int32_t r = L->ent[e].match;
    if (r != NIL) {
        L->next[L->prev[r]] = r;
        if (L->next[r] != NIL)
            L->prev[L->next[r]] = r;
    }
    L->next[L->prev[e]] = e;
    if (L->next[e] != NIL)
        L->prev[L->next[e]] = e;
}

/* Evidence at a dead end: the order so far, the op whose return blocks,
 * and the candidates that were tried before it. */
static void lin_record(lin *L, size_t depth, int32_t stuck, search_result *out)
{
    free(out->order);
    free(out->window);
    out->order = malloc((2 * depth + 1) * sizeof *out->order);
    out->norder = 0;
    for (size_t i = 0; i < depth; i++) {
        out->order[out->norder++] = L->idx[L->ent[L->stk_e[i]].op];
        if (L->stk_f[i] != NIL)
            out->order[out->norder++] = L->idx[L->ent[L->stk_f[i]].op];
    }
    out->window = NULL;
    out->nwindow = 0;
    if (stuck == NIL)
        return;
    size_t nw = 0;
    for (int32_t e = L->next[L->head]; e != NIL && e != stuck; e = L->next[e])
        nw++;
    out->window = malloc((nw + 1) * sizeof *out->window);
    for (int32_t e = L->next[L->head]; e != NIL && e != stuck; e = L->next[e])
        if (L->ent[e].call)
            out->window[out->nwindow++] = L->idx[L->ent[e].op];
    out->stuck = L->idx[L->ent[stuck].op];
}

/* The configuration key after the ops in bits: (state, m, window words). */
static uint32_t lin_key(const lin *L, uint64_t *key, uint64_t state, size_t nm, int64_t hi)
{
    uint32_t kw = 2;
    key[0] = state;
    key[1] = nm;
    if (hi >= (int64_t)nm)
        for (size_t w = nm >> 6; w <= ((size_t)hi >> 6); w++)
            key[kw++] = L->bits[w];
    return kw;
}

/* Lowest op not done, from a known lower bound. */
static size_t lin_low(const lin *L, size_t from, size_t n)
{
    size_t w = from >> 6, nw = (n + 63) / 64;
    uint64_t x = ~L->bits[w] & (~0ULL << (from & 63));
    while (!x && ++w < nw)
        x = ~L->bits[w];
    size_t r = x ? w * 64 + (size_t)__builtin_ctzll(x) : n;
    return r < n ? r : n;
}

static inline void bit_set(uint64_t *b, uint32_t i) { b[i >> 6] |= 1ULL << (i & 63); }
static inline void bit_clear(uint64_t *b, uint32_t i) { b[i >> 6] &= ~(1ULL << (i & 63)); }

int lin_search(const history *h, const hist_op *ops, const uint32_t *idx, size_t n, const model *m,
               void *ctx, const search_budget *b, search_result *out)
{
    memset(out, 0, sizeof *out);
    out->verdict = SEARCH_TRUE;
    if (n == 0)
        return SEARCH_TRUE;
    /* The observer rule needs register semantics: no appends (an append
     * observes the value it extends without returning it). */
    bool observer_rule = m->info_needs_observer;
    for (size_t i = 0; i < n && observer_rule; i++)
        observer_rule = ops[idx[i]].f != HIST_F_APPEND;
    uint32_t *kept = NULL;
    if (observer_rule) {
        /* An info op can only be kept next to an observer of the value it
         * writes, linearized after the info op's invocation: one that
         * completes after it (or never). Info ops without any are dropped
         * before the search (they would sit in the list forever). */
        uint32_t *late = calloc(h->nvals + 1, sizeof *late); /* value -> latest observer end + 1 */
        kept = malloc(n * sizeof *kept);
        for (size_t i = 0; i < n; i++) {
            const hist_op *o = &ops[idx[i]];
            uint32_t v = o->f == HIST_F_READ ? o->ret : o->f == HIST_F_CAS ? o->arg : HIST_ABSENT;
            uint32_t end = o->type == HIST_OK ? o->cmp : UINT32_MAX - 1;
            if (v && v < h->nvals && end + 1 > late[v])
                late[v] = end + 1;
        }
        size_t nk = 0;
        for (size_t i = 0; i < n; i++) {
            const hist_op *o = &ops[idx[i]];
            uint32_t v = o->f == HIST_F_WRITE ? o->arg : o->f == HIST_F_CAS ? o->arg2
                       : o->f == HIST_F_DELETE ? HIST_NULL : HIST_ABSENT;
            if (o->type == HIST_OK || !v || v >= h->nvals || late[v] > o->inv + 1)
                kept[nk++] = idx[i];
        }
        free(late);
        idx = kept;
        n = nk;
        if (n == 0) {
            free(kept);
            return SEARCH_TRUE;
        }
    }
    lin L = {0};
    L.idx = idx;
    L.ent = malloc(2 * n * sizeof *L.ent);
    size_t ne = 0, remaining = 0;
    for (size_t i = 0; i < n; i++) {
        const hist_op *o = &ops[idx[i]];
        L.ent[ne++] = (lin_entry){o->inv, (int32_t)i, NIL, true};
        if (o->type == HIST_OK) {
            L.ent[ne++] = (lin_entry){o->cmp, (int32_t)i, NIL, false};
            remaining++;
        }
    }
    qsort(L.ent, ne, sizeof *L.ent, entry_cmp);
    int32_t *call_of = malloc(n * sizeof *call_of);
    for (size_t e = 0; e < ne; e++)
        if (L.ent[e].call)
            call_of[L.ent[e].op] = (int32_t)e;
    for (size_t e = 0; e < ne; e++)
        if (!L.ent[e].call)
            L.ent[call_of[L.ent[e].op]].match = (int32_t)e;
    free(call_of);
    L.next = malloc((ne + 1) * sizeof *L.next);
    L.prev = malloc((ne + 1) * sizeof *L.prev);
    L.head = (int32_t)ne;
    for (size_t e = 0; e < ne; e++) {
        L.next[e] = e + 1 < ne ? (int32_t)e + 1 : NIL;
        L.prev[e] = e ? (int32_t)e - 1 : L.head;
    }
    L.next[L.head] = 0;
    L.prev[L.head] = NIL;
    size_t nwords = (n + 63) / 64;
    L.bits = calloc(nwords + 1, sizeof *L.bits);
    L.stk_e = malloc(n * sizeof *L.stk_e);
    L.stk_f = malloc(n * sizeof *L.stk_f);
    L.stk_state = malloc(n * sizeof *L.stk_state);
    L.stk_hi = malloc(n * sizeof *L.stk_hi);
    uint64_t *key = malloc((nwords + 2) * sizeof *key);
    memo memo;
    memo_init(&memo, b->memo_bytes);

    uint64_t state = m->init(ctx), z = 0, steps = 0;
    size_t depth = 0, mlow = 0;
    int64_t best = -1;
    int32_t e = L.next[L.head], resume = NIL;
    int verdict = SEARCH_TRUE;
    while (remaining > 0) {
        steps++;
        if ((b->max_steps && steps > b->max_steps) ||
            ((steps & 0x3fff) == 0 && b->deadline > 0 && search_now() > b->deadline)) {
            verdict = SEARCH_UNKNOWN;
            out->reason = "search budget exhausted";
            break;
        }
        if (e != NIL && L.ent[e].call) {
            uint32_t oi = (uint32_t)L.ent[e].op;
            const hist_op *o = &ops[idx[oi]];
            uint64_t nx;
            bool pair = observer_rule && o->type != HIST_OK;
            if (!m->step(ctx, state, o, &nx) || (pair && nx == state)) {
                e = L.next[e];
                continue;
            }
            /* The partner: for an info op under register semantics, each
             * observer among the current candidates in turn; else none. */
            int32_t f = NIL;
            uint32_t fi = 0;
            uint64_t fx = nx;
            bool pushed = false;
            for (int32_t c = pair ? (resume != NIL ? resume : L.next[L.head]) : NIL;; c = L.next[c]) {
                if (pair) {
                    if (c == NIL || !L.ent[c].call)
                        break; /* observers must be candidates now */
                    if (c == e)
                        continue;
                    fi = (uint32_t)L.ent[c].op;
                    const hist_op *p = &ops[idx[fi]];
                    /* An observer depends on the value: a read or an ok cas
                     * legal in nx, or an info cas that takes effect in nx. */
                    if ((p->f != HIST_F_READ && p->f != HIST_F_CAS) || !m->step(ctx, nx, p, &fx) ||
                        (p->type != HIST_OK && fx == nx))
                        continue;
                    f = c;
                }
                bit_set(L.bits, oi);
                uint64_t z2 = z ^ zob(oi);
                int64_t hi = depth ? L.stk_hi[depth - 1] : -1;
                if ((int64_t)oi > hi)
                    hi = oi;
                if (f != NIL) {
                    bit_set(L.bits, fi);
                    z2 ^= zob(fi);
                    if ((int64_t)fi > hi)
                        hi = fi;
                }
                size_t nm = (oi == mlow || (f != NIL && fi == mlow)) ? lin_low(&L, mlow, n) : mlow;
                uint32_t kw = lin_key(&L, key, fx, nm, hi);
                if (memo_insert(&memo, chk_mix64(z2 ^ chk_mix64(fx ^ 0x9e3779b97f4a7c15ULL)), key, kw)) {
                    L.stk_e[depth] = e;
                    L.stk_f[depth] = f;
                    L.stk_state[depth] = state;
                    L.stk_hi[depth] = hi;
                    depth++;
                    state = fx;
                    z = z2;
                    mlow = nm;
                    lin_lift(&L, e);
                    remaining -= o->type == HIST_OK;
                    if (f != NIL) {
                        lin_lift(&L, f);
                        remaining -= ops[idx[fi]].type == HIST_OK;
                    }
                    pushed = true;
                    break;
                }
                bit_clear(L.bits, oi);
                if (f != NIL)
                    bit_clear(L.bits, fi);
                if (!pair)
                    break;
            }
            resume = NIL;
            e = pushed ? L.next[L.head] : L.next[e];
            continue;
        }
        /* A return entry (or the end): this branch is dead. */
        if ((int64_t)depth > best && e != NIL) {
            best = (int64_t)depth;
            lin_record(&L, depth, e, out);
        }
        if (depth == 0) {
            verdict = SEARCH_FALSE;
            break;
        }
        depth--;
        int32_t ce = L.stk_e[depth], cf = L.stk_f[depth];
        uint32_t oi = (uint32_t)L.ent[ce].op;
        state = L.stk_state[depth];
        if (cf != NIL) {
            uint32_t fi = (uint32_t)L.ent[cf].op;
            lin_unlift(&L, cf);
            bit_clear(L.bits, fi);
            z ^= zob(fi);
            if (fi < mlow)
                mlow = fi;
            remaining += ops[idx[fi]].type == HIST_OK;
            resume = L.next[cf]; /* next observer for the same info op */
        }
        lin_unlift(&L, ce);
        bit_clear(L.bits, oi);
        z ^= zob(oi);
        if (oi < mlow)
            mlow = oi;
        remaining += ops[idx[oi]].type == HIST_OK;
        e = cf != NIL ? ce : L.next[ce];
    }
    if (verdict == SEARCH_TRUE)
        lin_record(&L, depth, NIL, out);
    out->verdict = verdict;
    out->steps = steps;
    memo_free(&memo);
    free(key);
    free(L.ent);
    free(L.next);
    free(L.prev);
    free(L.bits);
    free(L.stk_e);
    free(L.stk_f);
    free(L.stk_state);
    free(L.stk_hi);
    free(kept);
    return verdict;
}
