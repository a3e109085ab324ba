/* sequential.c: the sequential-consistency search.
 *
 * Sequential consistency needs one total order that respects each
 * process's own order and the model, with no real-time constraint. So the
 * configuration is just how far each process has got (a vector of
 * positions) plus the model state of every partition touched; a depth-first
 * search picks which process goes next, memoizing configurations already
 * shown to be dead ends. An info op (the last op of its process, in
 * Jepsen's discipline) may be applied or skipped. Given several keys at
 * once, ops of different keys still share the processes' orders, which is
 * why the whole-history answer can differ from the per-key ones (sequential
 * consistency is not compositional). */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "checker/hash.h"
#include "checker/memo.h"
#include "checker/search.h"

/* Dense numbering of 64-bit labels (processes, keys). */
typedef struct dense {
    uint64_t *keys;
    uint32_t *vals;
    size_t mask;
    uint32_t n;
} dense;

static uint32_t dense_get(dense *d, uint64_t key)
{
    size_t i = chk_mix64(key) & d->mask;
    while (d->vals[i] && d->keys[i] != key)
        i = (i + 1) & d->mask;
    if (!d->vals[i]) {
        d->keys[i] = key;
        d->vals[i] = ++d->n;
    }
    return d->vals[i] - 1;
}

static void dense_init(dense *d, size_t n)
{
    d->mask = 15;
    while (d->mask < n * 2)
        d->mask = d->mask * 2 + 1;
    d->keys = calloc(d->mask + 1, sizeof *d->keys);
    d->vals = calloc(d->mask + 1, sizeof *d->vals);
    d->n = 0;
    if (!d->keys || !d->vals)
        abort();
}

static inline uint64_t zpos(uint32_t p, uint32_t pos) { return chk_mix64(((uint64_t)p << 32 | pos) + 0x7f4a7c15ULL); }
static inline uint64_t zst(uint32_t k, uint64_t s) { return chk_mix64(s * 0x9e3779b97f4a7c15ULL + k + 1); }

int seq_search(const history *h, const hist_op *ops, const uint32_t *idx, size_t n, const model *m,
               void *ctx, const search_budget *b, search_result *out)
{
    (void)h;
    memset(out, 0, sizeof *out);
    out->verdict = SEARCH_TRUE;
    if (n == 0)
        return SEARCH_TRUE;
    dense procs, parts;
    dense_init(&procs, n);
    dense_init(&parts, n);
    uint32_t *pof = malloc(n * sizeof *pof), *kof = malloc(n * sizeof *kof);
    size_t remaining = 0;
    for (size_t i = 0; i < n; i++) {
        pof[i] = dense_get(&procs, (uint64_t)ops[idx[i]].process);
        kof[i] = dense_get(&parts, m->partition(&ops[idx[i]]));
        remaining += ops[idx[i]].type == HIST_OK;
    }
    uint32_t P = procs.n, K = parts.n;
    /* Each process's ops, in its own order: plist[start[p] .. start[p]+len[p]). */
    uint32_t *start = calloc(P + 1, sizeof *start), *len = calloc(P, sizeof *len);
    uint32_t *pos = calloc(P, sizeof *pos), *plist = malloc(n * sizeof *plist);
    uint32_t *cand = malloc((P + 1) * sizeof *cand);
    for (size_t i = 0; i < n; i++)
        start[pof[i] + 1]++;
    for (uint32_t p = 0; p < P; p++)
        start[p + 1] += start[p];
    for (size_t i = 0; i < n; i++)
        plist[start[pof[i]] + len[pof[i]]++] = (uint32_t)i;
    uint64_t *states = malloc(K * sizeof *states);
    uint64_t zp = 0, zs = 0;
    for (uint32_t k = 0; k < K; k++) {
        states[k] = m->init(ctx);
        zs ^= zst(k, states[k]);
    }
    for (uint32_t p = 0; p < P; p++)
        zp ^= zpos(p, 0);
    size_t pw = (P + 1) / 2, nkey = pw + K;
    uint64_t *key = malloc(nkey * sizeof *key);
    uint32_t *cnext = calloc(n + 1, sizeof *cnext), *applied = malloc((n + 1) * sizeof *applied);
    uint64_t *prev = malloc((n + 1) * sizeof *prev);
    memo memo;
    memo_init(&memo, b->memo_bytes);
    size_t depth = 0;
    uint64_t steps = 0;
    int verdict = SEARCH_TRUE;
    while (remaining > 0) {
        if (++steps, (b->max_steps && steps > b->max_steps) ||
                         ((steps & 0x3fff) == 0 && b->deadline > 0 && search_now() > b->deadline)) {
            verdict = SEARCH_UNKNOWN;
            out->reason = "search budget exhausted";
            break;
        }
        bool found = false;
        /* Candidates: processes with ops left, earliest next invocation
         * first, so a history that is close to linearizable is accepted
         * without backtracking (the order is recomputed the same way when
         * the search comes back to this node). */
        uint32_t nc = 0;
        for (uint32_t p = 0; p < P; p++) {
            if (pos[p] >= len[p])
                continue;
            uint32_t j = nc++, inv = ops[idx[plist[start[p] + pos[p]]]].inv;
            while (j > 0 && ops[idx[plist[start[cand[j - 1]] + pos[cand[j - 1]]]]].inv > inv) {
                cand[j] = cand[j - 1];
                j--;
            }
            cand[j] = p;
        }
        for (uint32_t c = cnext[depth]; c < 2 * nc && !found; c++) {
            uint32_t p = cand[c >> 1], alt = c & 1;
            uint32_t oi = plist[start[p] + pos[p]], k = kof[oi];
            const hist_op *o = &ops[idx[oi]];
            if (alt && o->type == HIST_OK)
                continue; /* only an info op may be left out */
            uint64_t s = states[k], nx = s;
            if (!alt && !m->step(ctx, s, o, &nx))
                continue;
            zp ^= zpos(p, pos[p]) ^ zpos(p, pos[p] + 1);
            zs ^= zst(k, s) ^ zst(k, nx);
            pos[p]++;
            states[k] = nx;
            memset(key, 0, pw * sizeof *key);
            for (uint32_t q = 0; q < P; q++)
                key[q >> 1] |= (uint64_t)pos[q] << (32 * (q & 1));
            memcpy(key + pw, states, K * sizeof *states);
            if (memo_insert(&memo, chk_mix64(zp ^ zs), key, (uint32_t)nkey)) {
                cnext[depth] = c + 1;
                applied[depth] = p << 1 | alt;
                prev[depth] = s;
                if (!alt && o->type == HIST_OK)
                    remaining--;
                cnext[++depth] = 0;
                found = true;
            } else {
                pos[p]--;
                states[k] = s;
                zp ^= zpos(p, pos[p]) ^ zpos(p, pos[p] + 1);
                zs ^= zst(k, s) ^ zst(k, nx);
            }
        }
        if (found)
            continue;
        if (depth == 0) {
            verdict = SEARCH_FALSE;
            break;
        }
        depth--;
        uint32_t c = applied[depth], p = c >> 1;
        pos[p]--;
        uint32_t oi = plist[start[p] + pos[p]], k = kof[oi];
        zp ^= zpos(p, pos[p]) ^ zpos(p, pos[p] + 1);
        zs ^= zst(k, states[k]) ^ zst(k, prev[depth]);
        states[k] = prev[depth];
        if (!(c & 1) && ops[idx[oi]].type == HIST_OK)
            remaining++;
    }
    if (verdict == SEARCH_TRUE) {
        out->order = malloc((depth + 1) * sizeof *out->order);
        /* Replay the choices to list the ops applied, in order. */
        memset(pos, 0, P * sizeof *pos);
        for (size_t d = 0; d < depth; d++) {
            uint32_t p = applied[d] >> 1, oi = plist[start[p] + pos[p]++];
            if (!(applied[d] & 1))
                out->order[out->norder++] = idx[oi];
        }
    }
    out->verdict = verdict;
    out->steps = steps;
    memo_free(&memo);
    free(procs.keys); free(procs.vals); free(parts.keys); free(parts.vals);
    free(cand); free(pof); free(kof); free(start); free(len); free(pos); free(plist);
    free(states); free(key); free(cnext); free(applied); free(prev);
    return verdict;
}
