/* invariants_raft.c: the Raft invariants over trace events (see
 * invariants.h for the list). Each check copies the events it needs into
 * a small array, sorts it, and walks groups; nothing is quadratic in the
 * number of events (only the prefix check is per pair of nodes).
 *
 * Guilty nodes come from evidence only: a node with two votes in one term;
 * the single leader of a term whose entries disagree at one (index, term)
 * (it sent both: an equivocating leader); a node whose acknowledgement is
 * not backed by its own append/snapshot events (it lied about storing).
 * Where an entry was lost (state machine safety, leader completeness) the
 * liar whose unbacked acknowledgement covered it, else the double voter
 * that elected the later leader, is named; otherwise nobody. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "checker/invariants_int.h"

#define INV_FLUSH_MARGIN_NS 500000000ll   /* see check_acks */

/* An entry as some node's commit or apply event showed it. */
typedef struct rentry {
    uint64_t index, term, hash;
    int64_t t;
    uint16_t node;
    uint8_t apply;
} rentry;

typedef struct rleader {   /* a `role` leader event; also used for votes (peer) */
    uint64_t term;
    int64_t t;
    uint16_t node, peer;
} rleader;

typedef struct span {      /* indexes [lo, hi] a node stored */
    uint16_t node;
    uint64_t lo, hi;
} span;

typedef struct rctx {
    inv_run *r;
    rleader *leaders;      /* by term, time */
    size_t nleaders;
    rleader *dvotes;       /* (node, term) of nodes that voted twice in a term */
    size_t ndvotes;
    rleader *unbacked;     /* acks not backed by the follower's log: the follower as node, */
    uint64_t *unbacked_match; /* the leader as peer, the ack's term; its match here */
    size_t nunbacked;
    rentry *ents;          /* commits and applies */
    size_t nents;
    uint16_t fa_node;      /* first_append's last answer (fa_inc 0: none) */
    int fa_inc;
    uint64_t fa_lo;
} rctx;

static int cmp_leader(const void *a, const void *b)
{
    const rleader *x = a, *y = b;
    int c = INV_CMP(x->term, y->term);
    return c ? c : INV_CMP(x->t, y->t);
}

static int cmp_vote(const void *a, const void *b)
{
    const rleader *x = a, *y = b;
    int c = INV_CMP(x->node, y->node);
    if (!c)
        c = INV_CMP(x->term, y->term);
    return c ? c : INV_CMP(x->t, y->t);
}

static int cmp_entry_it(const void *a, const void *b)   /* index, term, time */
{
    const rentry *x = a, *y = b;
    int c = INV_CMP(x->index, y->index);
    if (!c)
        c = INV_CMP(x->term, y->term);
    return c ? c : INV_CMP(x->t, y->t);
}

static int cmp_entry_nt(const void *a, const void *b)   /* node, index, time */
{
    const rentry *x = a, *y = b;
    int c = INV_CMP(x->node, y->node);
    if (!c)
        c = INV_CMP(x->index, y->index);
    return c ? c : INV_CMP(x->t, y->t);
}

static int cmp_entry_t(const void *a, const void *b)    /* index, time */
{
    const rentry *x = a, *y = b;
    int c = INV_CMP(x->index, y->index);
    return c ? c : INV_CMP(x->t, y->t);
}

static int cmp_span(const void *a, const void *b)
{
    const span *x = a, *y = b;
    int c = INV_CMP(x->node, y->node);
    return c ? c : INV_CMP(x->lo, y->lo);
}

/* qsort, but never with a NULL array (empty lists are never allocated). */
static void sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
    if (n > 1)
        qsort(base, n, size, cmp);
}

/* The single node that was leader of term, or INV_NONE (none or several). */
static uint16_t leader_of(const rctx *c, uint64_t term)
{
    size_t lo = 0, hi = c->nleaders;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c->leaders[mid].term < term)
            lo = mid + 1;
        else
            hi = mid;
    }
    uint16_t who = INV_NONE;
    for (size_t i = lo; i < c->nleaders && c->leaders[i].term == term; i++) {
        if (who != INV_NONE && who != c->leaders[i].node)
            return INV_NONE;
        who = c->leaders[i].node;
    }
    return who;
}

static uint16_t double_voter(const rctx *c, uint64_t term)
{
    for (size_t i = 0; i < c->ndvotes; i++)
        if (c->dvotes[i].term == term)
            return c->dvotes[i].node;
    return INV_NONE;
}

/* Who made one term's entries disagree: its single leader (it sent both),
 * else, when the term had several leaders, the node that voted twice in
 * it. why: the explanation, ending in "(guilty: X)". */
static uint16_t term_culprit(const rctx *c, uint64_t term, char *why, size_t len)
{
    uint16_t ld = leader_of(c, term), dv = double_voter(c, term);
    if (ld != INV_NONE && c->r->unauth && dv == INV_NONE) {
        snprintf(why, len, "leader %s of term %" PRIu64 " sent both, or unauthenticated links "
                 "altered one copy in transit (guilty: unproven)", inv_name(c->r, ld), term);
        return INV_NONE;
    }
    if (ld != INV_NONE && !c->r->unauth)
        snprintf(why, len, "leader %s of term %" PRIu64 " sent both (guilty: %s)", inv_name(c->r, ld),
                 term, inv_name(c->r, ld));
    else if (dv != INV_NONE)
        snprintf(why, len, "term %" PRIu64 " had several leaders, elected with %s's double vote "
                 "(guilty: %s)", term, inv_name(c->r, dv), inv_name(c->r, dv));
    else
        snprintf(why, len, "no single leader of term %" PRIu64 " in the traces (guilty: unknown)", term);
    return ld != INV_NONE && !c->r->unauth ? ld : dv;
}

/* A follower whose unbacked ack in `term` covered `index`. */
static uint16_t liar_for(const rctx *c, uint64_t term, uint64_t index)
{
    if (c->r->unauth)   /* an unauthenticated ack proves nothing against its sender */
        return INV_NONE;
    for (size_t i = 0; i < c->nunbacked; i++)
        if (c->unbacked[i].term == term && c->unbacked_match[i] >= index)
            return c->unbacked[i].node;
    return INV_NONE;
}

static void check_votes(rctx *c)
{
    inv_run *r = c->r;
    rleader *v = NULL;
    size_t n = 0, cap = 0;
    for (size_t i = 0; i < r->nev; i++)
        if (r->ev[i].kind == IK_VOTE) {
            v = inv_grow(v, n, &cap, sizeof *v);
            v[n++] = (rleader){r->ev[i].a, r->ev[i].t, r->ev[i].node, r->ev[i].peer};
        }
    sort(v, n, sizeof *v, cmp_vote);
    size_t dcap = 0;
    for (size_t i = 0; i < n; i++) {
        r->checked[INV_VOTE_ONCE]++;
        size_t j = i + 1;
        while (j < n && v[j].node == v[i].node && v[j].term == v[i].term && v[j].peer == v[i].peer)
            j++;
        if (j < n && v[j].node == v[i].node && v[j].term == v[i].term) {
            uint16_t nodes[3] = {v[i].node, v[i].peer, v[j].peer};
            inv_violation(r, INV_VOTE_ONCE, &v[i].term, NULL, nodes, 3, v[i].node, v[j].t,
                          "%s voted twice in term %" PRIu64 ": for %s at %.3fs and for %s at "
                          "%.3fs (guilty: %s)", inv_name(r, v[i].node), v[i].term,
                          inv_name(r, v[i].peer), v[i].t / 1e9, inv_name(r, v[j].peer),
                          v[j].t / 1e9, inv_name(r, v[i].node));
            c->dvotes = inv_grow(c->dvotes, c->ndvotes, &dcap, sizeof *c->dvotes);
            c->dvotes[c->ndvotes++] = v[i];
        }
        /* skip the rest of this (node, term) */
        while (j < n && v[j].node == v[i].node && v[j].term == v[i].term)
            j++;
        i = j - 1;
    }
    r->applicable[INV_VOTE_ONCE] = n > 0;
    free(v);
}

static void check_election(rctx *c)
{
    inv_run *r = c->r;
    size_t cap = 0;
    for (size_t i = 0; i < r->nev; i++)
        if (r->ev[i].kind == IK_ROLE && !strcmp(r->ev[i].role, "leader")) {
            c->leaders = inv_grow(c->leaders, c->nleaders, &cap, sizeof *c->leaders);
            c->leaders[c->nleaders++] = (rleader){r->ev[i].a, r->ev[i].t, r->ev[i].node, INV_NONE};
        }
    sort(c->leaders, c->nleaders, sizeof *c->leaders, cmp_leader);
    rleader *l = c->leaders;
    for (size_t i = 0; i < c->nleaders;) {
        size_t j = i;
        while (j < c->nleaders && l[j].term == l[i].term && l[j].node == l[i].node)
            j++;
        r->checked[INV_ELECTION]++;
        if (j < c->nleaders && l[j].term == l[i].term) {
            uint16_t dv = double_voter(c, l[i].term);
            uint16_t nodes[3] = {l[i].node, l[j].node, dv};
            char why[96];
            if (dv != INV_NONE)
                snprintf(why, sizeof why, "%s voted twice in that term (guilty: %s)", inv_name(r, dv),
                         inv_name(r, dv));
            else
                snprintf(why, sizeof why, "no node's trace shows two votes in it (guilty: unknown)");
            inv_violation(r, INV_ELECTION, &l[i].term, NULL, nodes, 3, dv, l[j].t,
                          "two leaders in term %" PRIu64 ": %s at %.3fs and %s at %.3fs; %s",
                          l[i].term, inv_name(r, l[i].node), l[i].t / 1e9, inv_name(r, l[j].node),
                          l[j].t / 1e9, why);
        }
        while (j < c->nleaders && l[j].term == l[i].term)
            j++;
        i = j;
    }
    r->applicable[INV_ELECTION] = c->nleaders > 0;
}

/* The lowest index node appended in incarnation inc (UINT64_MAX: none).
 * The last answer is cached: unbacked acks come in runs from one node. */
static uint64_t first_append(rctx *c, uint16_t node, int inc)
{
    const inv_run *r = c->r;
    if (c->fa_inc == inc + 1 && c->fa_node == node)
        return c->fa_lo;
    uint64_t lo = UINT64_MAX;
    for (size_t i = 0; i < r->nev; i++)
        if (r->ev[i].kind == IK_APPEND && r->ev[i].node == node && r->ev[i].inc == inc &&
            r->ev[i].a >= 1 && r->ev[i].a < lo)
            lo = r->ev[i].a;
    c->fa_node = node, c->fa_inc = inc + 1, c->fa_lo = lo;
    return lo;
}

/* Acknowledged means stored: each ack{from X, match I} on a leader must be
 * covered by X's own append or snapshot events. */
static void check_acks(rctx *c)
{
    inv_run *r = c->r;
    span *sp = NULL;
    size_t n = 0, cap = 0;
    for (size_t i = 0; i < r->nev; i++) {
        const inv_ev *e = &r->ev[i];
        span s;
        if (e->kind == IK_APPEND && e->a >= 1 && e->b >= e->a)
            s = (span){e->node, e->a, e->b};
        else if (e->kind == IK_SNAPSHOT && e->a >= 1)
            s = (span){e->node, 1, e->a};
        else
            continue;
        sp = inv_grow(sp, n, &cap, sizeof *sp);
        sp[n++] = s;
    }
    sort(sp, n, sizeof *sp, cmp_span);
    /* merge overlapping or adjacent spans of one node */
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (m && sp[m - 1].node == sp[i].node && sp[i].lo <= sp[m - 1].hi + 1) {
            if (sp[i].hi > sp[m - 1].hi)
                sp[m - 1].hi = sp[i].hi;
        } else {
            sp[m++] = sp[i];
        }
    }
    uint8_t reported[INV_MAX_NODES] = {0};
    size_t ucap = 0, mcap = 0;
    for (size_t i = 0; i < r->nev; i++) {
        const inv_ev *e = &r->ev[i];
        if (e->kind != IK_ACK || e->peer == INV_NONE)
            continue;
        r->applicable[INV_ACK_STORED] = 1;
        const inv_node *x = &r->nodes[e->peer];
        if (e->b == 0 || !x->traced)
            continue;
        r->checked[INV_ACK_STORED]++;
        int covered = 0;
        for (size_t k = 0; k < m && !covered; k++)   /* spans are few per node */
            covered = sp[k].node == e->peer && sp[k].lo <= e->b && e->b <= sp[k].hi;
        if (covered)
            continue;
        /* Unbacked only if X's incarnation alive then wrote something
         * well after it: otherwise its last events may have died unflushed
         * (buffered up to 100 ms), and each incarnation's placement on the
         * run's timeline is off by its start-up time (a few ms; more on a
         * throttled CPU). */
        int k = -1;
        for (int q = 0; q < x->ninc; q++)
            if (x->inc_base[q] <= e->t)
                k = q;
        if (k < 0 || x->inc_last[k] <= e->t + INV_FLUSH_MARGIN_NS)
            continue;
        /* A restarted node also holds what it recovered from disk, which
         * its earlier incarnation may have appended in events that died
         * unflushed with it: judge only indexes at or above the first one
         * this incarnation appended itself (everything above is traced). */
        if (k > 0 && e->b < first_append(c, e->peer, k))
            continue;
        c->unbacked = inv_grow(c->unbacked, c->nunbacked, &ucap, sizeof *c->unbacked);
        c->unbacked_match = inv_grow(c->unbacked_match, c->nunbacked, &mcap, sizeof *c->unbacked_match);
        c->unbacked[c->nunbacked] = (rleader){e->a, e->t, e->peer, e->node};
        c->unbacked_match[c->nunbacked++] = e->b;
        if (reported[e->peer])
            continue;   /* one violation per liar; its other unbacked acks are kept above */
        reported[e->peer] = 1;
        uint16_t nodes[2] = {e->peer, e->node};
        char who[128];
        if (r->unauth)
            snprintf(who, sizeof who, "; unauthenticated links may have altered the ack in "
                     "transit (guilty: unproven)");
        else
            snprintf(who, sizeof who, "(guilty: %s)", inv_name(r, e->peer));
        inv_violation(r, INV_ACK_STORED, &e->a, &e->b, nodes, 2, r->unauth ? INV_NONE : e->peer,
                      e->t, "%s acknowledged index %" PRIu64 " (term %" PRIu64 ") to leader %s at "
                      "%.3fs, but no append or snapshot in its trace covers that index%s%s",
                      inv_name(r, e->peer), e->b, e->a, inv_name(r, e->node), e->t / 1e9,
                      r->unauth ? "" : " ", who);
    }
    free(sp);
}

static void collect_entries(rctx *c)
{
    inv_run *r = c->r;
    size_t cap = 0;
    for (size_t i = 0; i < r->nev; i++) {
        const inv_ev *e = &r->ev[i];
        if ((e->kind != IK_COMMIT && e->kind != IK_APPLY) || !e->c || !e->a)
            continue;
        c->ents = inv_grow(c->ents, c->nents, &cap, sizeof *c->ents);
        c->ents[c->nents++] = (rentry){e->a, e->b, e->c, e->t, e->node, e->kind == IK_APPLY};
    }
}

/* Same (index, term) -> same hash. */
static void check_matching(rctx *c)
{
    inv_run *r = c->r;
    rentry *e = c->ents;
    sort(e, c->nents, sizeof *e, cmp_entry_it);
    for (size_t i = 0; i < c->nents;) {
        size_t j = i, bad = SIZE_MAX;
        for (; j < c->nents && e[j].index == e[i].index && e[j].term == e[i].term; j++)
            if (bad == SIZE_MAX && e[j].hash != e[i].hash)
                bad = j;
        r->checked[INV_LOG_MATCHING]++;
        if (bad != SIZE_MAX) {
            char h1[16], h2[16], why[160];
            uint16_t ld = term_culprit(c, e[i].term, why, sizeof why);
            uint16_t nodes[3] = {e[i].node, e[bad].node, ld};
            inv_short_hash(h1, e[i].hash), inv_short_hash(h2, e[bad].hash);
            inv_violation(r, INV_LOG_MATCHING, &e[i].term, &e[i].index, nodes, 3, ld, e[bad].t,
                          "log matching broken at index %" PRIu64 " (term %" PRIu64 "): %s has %s, "
                          "%s has %s; %s", e[i].index, e[i].term, inv_name(r, e[i].node), h1,
                          inv_name(r, e[bad].node), h2, why);
        }
        i = j;
    }
    r->applicable[INV_LOG_MATCHING] = c->nents > 0;
}

/* Same (index, term) and hash on two nodes -> the same entries below it
 * (where both logs show one). Entries of one term that differ are log
 * matching's own case above; this adds the ones whose terms differ. */
static void check_prefix(rctx *c, const size_t *from, const size_t *to)
{
    inv_run *r = c->r;
    const rentry *e = c->ents;   /* sorted by node, index, one per (node, index) */
    for (int a = 0; a < r->nnodes; a++)
        for (int b = a + 1; b < r->nnodes; b++) {
            size_t i = from[a], j = from[b];
            const rentry *diff = NULL, *diffb = NULL;
            while (i < to[a] && j < to[b]) {
                if (e[i].index < e[j].index) { i++; continue; }
                if (e[j].index < e[i].index) { j++; continue; }
                if (e[i].term != e[j].term) {
                    diff = &e[i], diffb = &e[j];
                } else if (e[i].hash == e[j].hash && diff) {
                    uint16_t ld = leader_of(c, e[i].term);
                    uint16_t nodes[3] = {(uint16_t)a, (uint16_t)b, ld};
                    inv_violation(r, INV_LOG_MATCHING, &e[i].term, &diff->index, nodes, 3, ld,
                                  e[i].t > e[j].t ? e[i].t : e[j].t,
                                  "log matching (prefix) broken: %s and %s agree at index %" PRIu64
                                  " (term %" PRIu64 ") but differ at index %" PRIu64 " (terms %"
                                  PRIu64 " and %" PRIu64 ") (guilty: %s, leader of term %" PRIu64 ")",
                                  inv_name(r, (uint16_t)a), inv_name(r, (uint16_t)b), e[i].index,
                                  e[i].term, diff->index, diff->term, diffb->term,
                                  ld != INV_NONE ? inv_name(r, ld) : "unknown", e[i].term);
                    break;
                }
                i++, j++;
            }
        }
}

/* Why an entry committed or applied first at index was lost: the liar whose
 * unbacked ack covered it, else a double voter of the later term. */
static uint16_t loss_culprit(const rctx *c, uint64_t index, uint64_t old_term, uint64_t new_term)
{
    uint16_t g = liar_for(c, old_term, index);
    return g != INV_NONE ? g : double_voter(c, new_term);
}

static void culprit_text(const rctx *c, uint16_t g, uint64_t index, uint64_t old_term, char *out,
                         size_t len)
{
    if (g == INV_NONE)
        snprintf(out, len, "nothing in the traces explains the loss (guilty: unknown)");
    else if (liar_for(c, old_term, index) == g)
        snprintf(out, len, "%s acknowledged it without storing it (guilty: %s)", inv_name(c->r, g),
                 inv_name(c->r, g));
    else
        snprintf(out, len, "%s voted twice in the later term (guilty: %s)", inv_name(c->r, g),
                 inv_name(c->r, g));
}

/* State machine safety (applies) and leader completeness (commits against
 * every later leader's commits and applies), over entries sorted by index
 * and time; per-node lookups go through the (node, index) order. */
static void check_safety(rctx *c, const rentry *byn, const size_t *from, const size_t *to)
{
    inv_run *r = c->r;
    rentry *e = c->ents;
    sort(e, c->nents, sizeof *e, cmp_entry_t);
    uint64_t maxlead[INV_MAX_NODES] = {0};
    for (size_t i = 0; i < c->nleaders; i++)
        if (c->leaders[i].term > maxlead[c->leaders[i].node])
            maxlead[c->leaders[i].node] = c->leaders[i].term;
    for (size_t i = 0; i < c->nents;) {
        size_t j = i;
        while (j < c->nents && e[j].index == e[i].index)
            j++;
        const rentry *fa = NULL, *fc = NULL;
        for (size_t k = i; k < j; k++) {
            if (e[k].apply && !fa)
                fa = &e[k];
            if (!e[k].apply && !fc)
                fc = &e[k];
        }
        if (fa) {
            r->checked[INV_SM_SAFETY]++;
            for (size_t k = i; k < j; k++)
                if (e[k].apply && e[k].hash != fa->hash) {
                    char h1[16], h2[16], why[160];
                    uint16_t g;
                    if (fa->term == e[k].term)
                        g = term_culprit(c, fa->term, why, sizeof why);
                    else
                        g = loss_culprit(c, fa->index, fa->term, e[k].term),
                        culprit_text(c, g, fa->index, fa->term, why, sizeof why);
                    uint16_t nodes[2] = {fa->node, e[k].node};
                    inv_short_hash(h1, fa->hash), inv_short_hash(h2, e[k].hash);
                    inv_violation(r, INV_SM_SAFETY, &e[k].term, &fa->index, nodes, 2, g, e[k].t,
                                  "different entries applied at index %" PRIu64 ": %s applied %s "
                                  "(term %" PRIu64 ") at %.3fs, %s applied %s (term %" PRIu64 ") at "
                                  "%.3fs; %s", fa->index, inv_name(r, fa->node), h1, fa->term,
                                  fa->t / 1e9, inv_name(r, e[k].node), h2, e[k].term, e[k].t / 1e9, why);
                    break;
                }
        }
        if (fc) {
            r->checked[INV_LEADER_COMPLETE]++;
            for (int L = 0; L < r->nnodes; L++) {
                if (maxlead[L] <= fc->term)
                    continue;
                const rentry *x = NULL;   /* L's entry at this index */
                size_t lo = from[L], hi = to[L];
                while (lo < hi) {
                    size_t mid = (lo + hi) / 2;
                    if (byn[mid].index < fc->index)
                        lo = mid + 1;
                    else
                        hi = mid;
                }
                if (lo < to[L] && byn[lo].index == fc->index)
                    x = &byn[lo];
                if (!x || x->hash == fc->hash)
                    continue;
                uint16_t g = loss_culprit(c, fc->index, fc->term, maxlead[L]);
                uint16_t nodes[2] = {fc->node, (uint16_t)L};
                char h1[16], h2[16], why[128];
                inv_short_hash(h1, fc->hash), inv_short_hash(h2, x->hash);
                culprit_text(c, g, fc->index, fc->term, why, sizeof why);
                inv_violation(r, INV_LEADER_COMPLETE, &maxlead[L], &fc->index, nodes, 2, g,
                              x->t > fc->t ? x->t : fc->t,
                              "entry %s (term %" PRIu64 ") committed at index %" PRIu64 " by %s at "
                              "%.3fs is missing from leader %s of term %" PRIu64 ", which has %s "
                              "there; %s", h1, fc->term, fc->index, inv_name(r, fc->node),
                              fc->t / 1e9, inv_name(r, (uint16_t)L), maxlead[L], h2, why);
                break;
            }
        }
        i = j;
    }
    r->applicable[INV_SM_SAFETY] = r->checked[INV_SM_SAFETY] > 0;
    r->applicable[INV_LEADER_COMPLETE] = r->checked[INV_LEADER_COMPLETE] > 0;
}

void inv_check_raft(inv_run *r)
{
    rctx c = {.r = r};
    check_votes(&c);
    check_election(&c);
    check_acks(&c);
    collect_entries(&c);
    check_matching(&c);
    /* One entry per (node, index), the first seen, for the per-node checks. */
    rentry *byn = malloc((c.nents ? c.nents : 1) * sizeof *byn);
    if (!byn)
        abort();
    if (c.nents)
        memcpy(byn, c.ents, c.nents * sizeof *byn);
    sort(byn, c.nents, sizeof *byn, cmp_entry_nt);
    size_t m = 0;
    for (size_t i = 0; i < c.nents; i++)
        if (!m || byn[m - 1].node != byn[i].node || byn[m - 1].index != byn[i].index)
            byn[m++] = byn[i];
    size_t from[INV_MAX_NODES] = {0}, to[INV_MAX_NODES] = {0};
    for (size_t i = m; i-- > 0;)
        from[byn[i].node] = i;
    for (size_t i = 0; i < m; i++)
        to[byn[i].node] = i + 1;
    rentry *keep = c.ents;
    c.ents = byn;
    size_t keepn = c.nents;
    c.nents = m;
    check_prefix(&c, from, to);
    c.ents = keep;
    c.nents = keepn;
    check_safety(&c, byn, from, to);
    free(byn);
    free(c.leaders);
    free(c.dvotes);
    free(c.unbacked);
    free(c.unbacked_match);
    free(c.ents);
}
