/* invariants_chain.c: chain replication's invariants over trace events.
 *
 * chain_order: every replica commits the head's order, i.e. one rid per
 * seq on every node. When two differ, the chain of the configuration in
 * force (members in order, head first; before any `config` event the data
 * nodes in name order, as the runner starts them) is walked from the head:
 * the first replica whose rid differs from its nearest upstream replica's
 * got it from that upstream replica, which is named guilty (it forwarded
 * a different order than it committed itself: reorder-forward).
 *
 * chain_acked_kept: an update is acknowledged once any replica commits it
 * (a commit follows the tail's acknowledgement). Every member of every
 * later epoch must have it: a receive or commit of that seq with that rid,
 * or a snapshot past it. A member lacks it when it committed another rid
 * at that seq, or committed beyond the seq without it; a member with no
 * evidence either way (it joined late, the run ended) is not judged. The
 * first member in chain order that lacks it is named guilty. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "checker/invariants_int.h"

typedef struct centry {
    uint64_t seq, rid;
    int64_t t;
    uint16_t node;
    uint8_t commit;
} centry;

static int cmp_seq_t(const void *a, const void *b)
{
    const centry *x = a, *y = b;
    int c = INV_CMP(x->seq, y->seq);
    return c ? c : INV_CMP(x->t, y->t);
}

static int cmp_node_seq(const void *a, const void *b)
{
    const centry *x = a, *y = b;
    int c = INV_CMP(x->node, y->node);
    return c ? c : cmp_seq_t(a, b);
}

typedef struct cctx {
    inv_run *r;
    centry *byn;               /* receives and commits by node, seq */
    size_t n, from[INV_MAX_NODES], to[INV_MAX_NODES];
    uint64_t snap[INV_MAX_NODES], maxcommit[INV_MAX_NODES];
    const inv_ev **cfg;        /* config events by time */
    size_t ncfg;
    uint16_t order[INV_MAX_NODES];   /* default chain: traced nodes by name */
    int norder;
} cctx;

static void rid_text(char *out, size_t len, uint64_t rid)
{
    snprintf(out, len, "%" PRIu64 ":%" PRIu64, rid >> 48, rid & (uint64_t)0xffffffffffff);
}

/* The chain in force at time t: members in order (head first). */
static const uint16_t *chain_at(const cctx *c, int64_t t, int *n, uint64_t *epoch)
{
    const inv_ev *best = NULL;
    for (size_t i = 0; i < c->ncfg && c->cfg[i]->t <= t; i++)
        if (c->cfg[i]->nmembers && (!best || c->cfg[i]->a >= best->a))
            best = c->cfg[i];
    if (!best) {
        *n = c->norder;
        *epoch = 1;
        return c->order;
    }
    *n = best->nmembers;
    *epoch = best->a;
    return c->r->members + best->mfirst;
}

/* The first of node's entries at or after seq. */
static size_t first_at(const cctx *c, uint16_t node, uint64_t seq)
{
    size_t lo = c->from[node], hi = c->to[node];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c->byn[mid].seq < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Node's rid at seq (a commit's; else a receive's unless commits_only). */
static uint64_t rid_at(const cctx *c, uint16_t node, uint64_t seq, int commits_only, int *found)
{
    size_t lo = first_at(c, node, seq);
    uint64_t rid = 0;
    *found = 0;
    for (size_t i = lo; i < c->to[node] && c->byn[i].seq == seq; i++)
        if (c->byn[i].commit || !commits_only) {
            if (!*found || c->byn[i].commit)
                rid = c->byn[i].rid;
            *found = 1;
        }
    return rid;
}

/* Does node have (seq, rid)? 1 yes, 0 lacks it, -1 no evidence either way. */
static int has_update(const cctx *c, uint16_t node, uint64_t seq, uint64_t rid)
{
    if (c->snap[node] >= seq)
        return 1;
    for (size_t i = first_at(c, node, seq); i < c->to[node] && c->byn[i].seq == seq; i++)
        if (c->byn[i].rid == rid)
            return 1;
    int found;
    rid_at(c, node, seq, 1, &found);
    return found || c->maxcommit[node] > seq ? 0 : -1;
}

static void check_order(cctx *c, const centry *e, size_t n)
{
    inv_run *r = c->r;
    for (size_t i = 0; i < n;) {
        size_t j = i, bad = SIZE_MAX;
        for (; j < n && e[j].seq == e[i].seq; j++)
            if (bad == SIZE_MAX && e[j].rid != e[i].rid)
                bad = j;
        r->checked[INV_CHAIN_ORDER]++;
        if (bad != SIZE_MAX) {
            int nm;
            uint64_t epoch;
            const uint16_t *m = chain_at(c, e[bad].t, &nm, &epoch);
            uint16_t up = INV_NONE, down = INV_NONE;
            uint64_t uprid = 0, downrid = 0;
            for (int k = 0; k < nm; k++) {
                int found;
                uint64_t rid = rid_at(c, m[k], e[i].seq, 1, &found);
                if (!found)
                    continue;
                if (up != INV_NONE && rid != uprid) {
                    down = m[k], downrid = rid;
                    break;
                }
                up = m[k], uprid = rid;
            }
            char r1[48], r2[48];
            if (down != INV_NONE) {
                uint16_t nodes[2] = {up, down};
                rid_text(r1, sizeof r1, uprid), rid_text(r2, sizeof r2, downrid);
                char who[128];
                if (r->unauth)
                    snprintf(who, sizeof who, "%s forwarded what it did not commit itself, or "
                             "unauthenticated links altered it (guilty: unproven)", inv_name(r, up));
                else
                    snprintf(who, sizeof who, "%s forwarded what it did not commit itself (guilty: %s)",
                             inv_name(r, up), inv_name(r, up));
                inv_violation(r, INV_CHAIN_ORDER, &epoch, &e[i].seq, nodes, 2,
                              r->unauth ? INV_NONE : up, e[bad].t,
                              "chain order broken at seq %" PRIu64 " (epoch %" PRIu64 "): %s committed "
                              "rid %s, its upstream %s committed rid %s; %s", e[i].seq, epoch,
                              inv_name(r, down), r2, inv_name(r, up), r1, who);
            } else {
                uint16_t nodes[2] = {e[i].node, e[bad].node};
                rid_text(r1, sizeof r1, e[i].rid), rid_text(r2, sizeof r2, e[bad].rid);
                inv_violation(r, INV_CHAIN_ORDER, NULL, &e[i].seq, nodes, 2, INV_NONE, e[bad].t,
                              "chain order broken at seq %" PRIu64 ": %s committed rid %s, %s "
                              "committed rid %s (not neighbours in a known chain: guilty unknown)",
                              e[i].seq, inv_name(r, e[i].node), r1, inv_name(r, e[bad].node), r2);
            }
        }
        i = j;
    }
    r->applicable[INV_CHAIN_ORDER] = n > 0;
}

/* The epoch node was in at time t (its own latest config before t; 1 before any). */
static uint64_t epoch_of(const cctx *c, uint16_t node, int64_t t)
{
    uint64_t ep = 1;
    for (size_t i = 0; i < c->ncfg && c->cfg[i]->t <= t; i++)
        if (c->cfg[i]->node == node && c->cfg[i]->a > ep)
            ep = c->cfg[i]->a;
    return ep;
}

static void check_kept(cctx *c, const centry *e, size_t n)
{
    inv_run *r = c->r;
    /* One configuration per epoch: its first config event with members. */
    const inv_ev **ep = calloc(c->ncfg + 1, sizeof *ep);
    size_t nep = 0;
    if (!ep)
        abort();
    for (size_t i = 0; i < c->ncfg; i++) {
        size_t k = 0;
        while (k < nep && ep[k]->a != c->cfg[i]->a)
            k++;
        if (k == nep && c->cfg[i]->nmembers)
            ep[nep++] = c->cfg[i];
    }
    for (size_t i = 0; i < n;) {
        size_t j = i;
        const centry *ack = NULL;
        for (; j < n && e[j].seq == e[i].seq; j++)
            if (e[j].commit && !ack)
                ack = &e[j];
        i = j;
        if (!ack)
            continue;
        uint64_t acked_in = epoch_of(c, ack->node, ack->t);
        int done = 0;
        for (size_t k = 0; k < nep && !done; k++) {
            if (ep[k]->a <= acked_in)
                continue;
            r->checked[INV_CHAIN_KEPT]++;
            const uint16_t *m = r->members + ep[k]->mfirst;
            for (int q = 0; q < ep[k]->nmembers && !done; q++) {
                if (m[q] >= r->nnodes || !r->nodes[m[q]].traced || has_update(c, m[q], ack->seq, ack->rid))
                    continue;
                char rid[48];
                rid_text(rid, sizeof rid, ack->rid);
                uint16_t nodes[2] = {m[q], ack->node};
                inv_violation(r, INV_CHAIN_KEPT, &ep[k]->a, &ack->seq, nodes, 2, m[q], ep[k]->t,
                              "acknowledged update seq %" PRIu64 " (rid %s, committed by %s at %.3fs "
                              "in epoch %" PRIu64 ") is missing from %s, a member of epoch %" PRIu64
                              " (guilty: %s)", ack->seq, rid, inv_name(r, ack->node), ack->t / 1e9,
                              acked_in, inv_name(r, m[q]), ep[k]->a, inv_name(r, m[q]));
                done = 1;
            }
        }
    }
    r->applicable[INV_CHAIN_KEPT] = nep > 0 && n > 0;
    free(ep);
}

static int cmp_cfg(const void *a, const void *b)
{
    const inv_ev *x = *(const inv_ev *const *)a, *y = *(const inv_ev *const *)b;
    return INV_CMP(x->t, y->t);
}

static int cmp_name(const void *a, const void *b, void *arg)
{
    const inv_run *r = arg;
    return inv_name_order(r->nodes[*(const uint16_t *)a].name, r->nodes[*(const uint16_t *)b].name);
}

void inv_check_chain(inv_run *r)
{
    cctx *c = calloc(1, sizeof *c);
    centry *e = malloc((r->nev ? r->nev : 1) * sizeof *e);
    c->cfg = malloc((r->nev ? r->nev : 1) * sizeof *c->cfg);
    if (!c || !e || !c->cfg)
        abort();
    c->r = r;
    size_t n = 0;
    for (size_t i = 0; i < r->nev; i++) {
        const inv_ev *v = &r->ev[i];
        if (v->kind == IK_CRECEIVE || v->kind == IK_CCOMMIT) {
            e[n++] = (centry){v->a, v->b, v->t, v->node, v->kind == IK_CCOMMIT};
            if (v->kind == IK_CCOMMIT && v->a > c->maxcommit[v->node])
                c->maxcommit[v->node] = v->a;
        } else if (v->kind == IK_CSNAPSHOT && v->a > c->snap[v->node]) {
            c->snap[v->node] = v->a;
        } else if (v->kind == IK_CONFIG) {
            c->cfg[c->ncfg++] = v;
        }
    }
    qsort(c->cfg, c->ncfg, sizeof *c->cfg, cmp_cfg);
    for (int i = 0; i < r->nnodes; i++)
        if (r->nodes[i].traced)
            c->order[c->norder++] = (uint16_t)i;
    qsort_r(c->order, (size_t)c->norder, sizeof *c->order, cmp_name, r);
    /* per-node lookups */
    c->byn = malloc((n ? n : 1) * sizeof *c->byn);
    if (!c->byn)
        abort();
    memcpy(c->byn, e, n * sizeof *e);
    qsort(c->byn, n, sizeof *c->byn, cmp_node_seq);
    c->n = n;
    for (size_t i = n; i-- > 0;)
        c->from[c->byn[i].node] = i;
    for (size_t i = 0; i < n; i++)
        c->to[c->byn[i].node] = i + 1;
    /* commits only, by seq and time */
    size_t nc = 0;
    for (size_t i = 0; i < n; i++)
        if (e[i].commit)
            e[nc++] = e[i];
    qsort(e, nc, sizeof *e, cmp_seq_t);
    check_order(c, e, nc);
    check_kept(c, e, nc);
    free(c->byn);
    free(c->cfg);
    free(c);
    free(e);
}
