/* sequential.c: the sequential-consistency search.
 *
 * Sequential consistency needs one total order that respects each
 * process's own order and the model, with no real-time constraint. So the
 * configuration is just how far each process has got (a vector of
 * positions) plus the model state of every partition touched; a depth-first
 * search picks which process goes next, memoizing configurations already
 * shown to be dead ends (the memo key is that configuration, not a set of
 * ops: two orders that bring every process to the same point and the
 * models to the same states are the same problem from there on). Given
 * several keys at once, ops of different keys still share the processes'
 * orders, which is why the whole-history answer can differ from the per-key
 * ones (sequential consistency is not compositional).
 *
 * Five reductions keep the search small; none changes a verdict:
 *
 * - Pooled info ops. An info op may be applied or skipped. One that ends
 *   its process (Jepsen's discipline) is never required and, with no
 *   real-time constraint, can be applied at any later point; so once its
 *   process reaches it, it goes into a pool of its class (same f, key and
 *   arguments, and same process when the model looks at processes: such ops
 *   are interchangeable; so are killers, below, whatever their arguments)
 *   and the configuration records only how many of each class were used. Without that, every subset of the crashed
 *   processes' ops would be a separate configuration. A pooled op that
 *   would change nothing is not applied (having it unused is never worse).
 *
 * - Reads first. If some process's next op is an ok read that is legal in
 *   the current state, it is the only choice tried. Why that loses nothing:
 *   take any valid completion t of the current prefix. No op of that
 *   process comes before the read r in t (r is its next op), so moving r to
 *   the front of t keeps every process's order; r is legal there (it fits
 *   the current state) and leaves every state as it is, and removing it
 *   from its old place changes no state either, so every other op of t sees
 *   exactly the state it saw before. Hence a completion exists after r iff
 *   one exists at all. (A write of the value already there is not moved:
 *   earlier, it would no longer overwrite what came in between.)
 *
 * - Killers first. Some ops leave, from any state, one and the same state
 *   that no ok read or cas can see (model->kills: kv's appends and puts of
 *   strings no read of the key contains, which lead to its dead state). If
 *   the state already is that one and some process's next op is a killer,
 *   applying it changes nothing, and it is the only choice tried. Why that
 *   loses nothing: in any valid completion t, move the killer k to the
 *   front. Up to k's old place every op sees the same states as before (k
 *   changed nothing). From there to the next reset, t had the dead state,
 *   so no ok read or cas is in that stretch, only appends and info ops;
 *   without k those run on another state, which nobody reads, and an info
 *   cas that did nothing in t can be left out. From the reset on the states
 *   are the same again. (Info ops are never required, so that is allowed.)
 *   On Porcupine's kv logs the appends no one ever reads otherwise make
 *   every subset of them a configuration of its own.
 *
 * - Info ops only before an observer (register semantics: models with
 *   info_needs_observer, partitions without appends). A pooled op that
 *   changes the state to v is applied only if an op that can observe v is
 *   ready to come next: some process's next op is an ok read or ok cas
 *   legal in v, or a pooled info cas takes effect in v. Why that loses
 *   nothing: in a valid completion t, take an applied pooled op w and the
 *   op x after it on its key. If x observes v (a read or ok cas legal in v,
 *   an info cas that acts on v), x was ready when w was applied: every op
 *   before x in t was placed, so x is its process's next op (or pooled). If
 *   not (a reset, an info op that does nothing in v), leave w out, and also
 *   every info op up to the next reset that would now act differently
 *   (info ops are never required): nothing up to that reset looked at v,
 *   so every ok op there is still legal, and from the reset on the states
 *   are as before. Repeating this keeps only pooled ops right before an
 *   observer. Without the rule, every subset of hundreds of timed-out
 *   writes whose values some read saw is a configuration of its own.
 *
 * - Dead reads (models with reach/reset/follows, seq_alive below). Each
 *   process's next ok read r must still be reachable from the current
 *   state: r fits it, or appends that are still to come (their processes
 *   have not gone past them) can extend it step by step to what r saw, or
 *   a reset (write, cas, delete) still to come leaves a state from which
 *   that holds. Likewise each later read of the process from its anchor,
 *   the process's last earlier op on the key that pins the state (a read:
 *   what it saw; a reset: what it left; an append: the state ends with it,
 *   model->follows). If a read cannot be reached, no completion exists and
 *   the configuration is dropped at once instead of being explored to the
 *   end. Every test here is a relaxation (it may keep a hopeless
 *   configuration, never drop a good one). This is what makes Porcupine's
 *   50-client kv logs finish: a wrong append order or a put too early is
 *   refused when it is made, not after every interleaving behind it.
 *
 * No step or time limit is imposed here (the caller's budget may add one);
 * the memo's memory is bounded, and reaching that bound ends the search as
 * unknown with the reason, since without the memo it could run for ever. */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "checker/hash.h"
#include "checker/memo.h"
#include "checker/search.h"

#define SEQ_NONE UINT32_MAX
#define SEQ_UNKNOWN_STATE UINT64_MAX

/* Dense numbering of 64-bit labels (processes, keys, classes). */
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

static void dense_free(dense *d)
{
    free(d->keys);
    free(d->vals);
}

/* One cached list of seq_pieces: for base state b and read r, the list at
 * rl[off - 1 ..] (off = 0: empty slot). */
typedef struct seq_pslot {
    uint64_t b;
    uint32_t r, off;
} seq_pslot;

/* The search's data. Ops are numbered 0..n by their place in idx; plist
 * lists each process's ops in its own order: process p's are
 * plist[start[p] .. start[p] + len[p]), plus, when tcls[p] != 0, a pooled
 * info op at plist[start[p] + len[p]]. */
typedef struct seq {
    const hist_op *ops;
    const uint32_t *idx;
    const model *m;
    void *ctx;
    uint32_t P, K, C;
    uint32_t *pof, *kof;        /* per op: process, partition */
    uint32_t *start, *len, *pos, *plist;
    uint32_t *rank;             /* per op: its place in its process's list */
    uint32_t *tcls;             /* per process: pooled op's class + 1, or 0 */
    uint32_t *reached, *used;   /* per class: processes at their pooled op, ops applied */
    uint32_t *crep;             /* per class: one of its ops */
    uint64_t *states;           /* per partition */
    uint64_t zp, zs;            /* Zobrist hashes of positions + used counts, of states */
    /* Dead-read pruning: nread[x] is the plist place of the next ok read at
     * or after plist place x in the same process (SEQ_NONE: none). The
     * resets that can lead to the read at op i are rl[roff[i] - 1 ..] up to
     * a SEQ_NONE, computed the first time they are needed (roff[i] = 0). */
    bool prune;
    uint32_t *nread, *roff, *rl;
    size_t rn, rcap;
    /* For an ok read at op i: anchor[i] is the process's last ok op before
     * it that pins something about the state (a read, a reset, an append;
     * SEQ_NONE: none), and pairok[i] whether, with no reset in between, the
     * read can follow its anchor (model->follows); if not, a reset must
     * still be possible between them. isreset[i]: op i can reset the state. */
    uint32_t *anchor;
    bool *pairok, *isreset;
    uint8_t *kill;              /* per op: model->kills, 0 not asked yet, 1 yes, 2 no */
    bool *obsrule;              /* per partition: pooled ops need an observer (below) */
    uint64_t *rstate;           /* per ok read: the state it saw (a write of its value) */
    uint32_t *wstart, *wop;     /* reset ops by partition: wop[wstart[k] .. wstart[k + 1]) */
    uint64_t *wafter;           /* and the state each leaves */
    seq_pslot *pmap;            /* seq_pieces' cache */
    size_t pmask, pn;
} seq;

static inline uint64_t zpos(uint32_t p, uint32_t pos) { return chk_mix64(((uint64_t)p << 32 | pos) + 0x7f4a7c15ULL); }
static inline uint64_t zst(uint32_t k, uint64_t s) { return chk_mix64(s * 0x9e3779b97f4a7c15ULL + k + 1); }

static void seq_rl_push(seq *S, uint32_t v)
{
    if (S->rn == S->rcap) {
        S->rcap = S->rcap ? S->rcap * 2 : 256;
        S->rl = realloc(S->rl, S->rcap * sizeof *S->rl);
        if (!S->rl)
            abort();
    }
    S->rl[S->rn++] = v;
}

/* The reset ops that could leave a state from which the read at op r is
 * reachable: same partition, and not after r in r's own process. */
static const uint32_t *seq_resets(seq *S, uint32_t r)
{
    if (!S->roff[r]) {
        size_t off = S->rn;
        const hist_op *ro = &S->ops[S->idx[r]];
        uint32_t k = S->kof[r];
        for (uint32_t j = S->wstart[k]; j < S->wstart[k + 1]; j++) {
            uint32_t w = S->wop[j];
            if ((S->pof[w] != S->pof[r] || S->rank[w] < S->rank[r]) && S->m->reach(S->ctx, S->wafter[j], ro))
                seq_rl_push(S, w);
        }
        seq_rl_push(S, SEQ_NONE);
        S->roff[r] = (uint32_t)off + 1;
    }
    return S->rl + S->roff[r] - 1;
}

/* Is op e (of r's partition) still possible before the read r, and after
 * rank lo of r's own process (SEQ_NONE: no bound)? Its process must not
 * have gone past it (a pooled op counts as always possible: optimistic). */
static bool seq_open(const seq *S, uint32_t e, uint32_t r, uint32_t lo)
{
    uint32_t q = S->pof[e];
    if (S->pos[q] > S->rank[e])
        return false;
    return q != S->pof[r] || (S->rank[e] < S->rank[r] && (lo == SEQ_NONE || S->rank[e] > lo));
}

/* The appends e of r's partition such that r is still reachable from the
 * state step(b, e): computed once per (b, r) (b is a canonical state). */
static const uint32_t *seq_pieces(seq *S, uint64_t b, uint32_t r)
{
    uint64_t h = chk_mix64(b ^ chk_mix64(r + 1));
    size_t i = h & S->pmask;
    for (; S->pmap[i].off; i = (i + 1) & S->pmask)
        if (S->pmap[i].b == b && S->pmap[i].r == r)
            return S->rl + S->pmap[i].off - 1;
    size_t off = S->rn;
    const hist_op *ro = &S->ops[S->idx[r]];
    for (uint32_t e = 0; e < S->start[S->P]; e++) {
        uint64_t nx;
        const hist_op *eo = &S->ops[S->idx[e]];
        if (S->kof[e] == S->kof[r] && eo->f == HIST_F_APPEND && S->m->step(S->ctx, b, eo, &nx) &&
            S->m->reach(S->ctx, nx, ro))
            seq_rl_push(S, e);
    }
    seq_rl_push(S, SEQ_NONE);
    S->pmap[i] = (seq_pslot){b, r, (uint32_t)off + 1};
    if (++S->pn * 2 > S->pmask) { /* grow */
        size_t om = S->pmask;
        seq_pslot *old = S->pmap;
        S->pmask = om * 2 + 1;
        S->pmap = calloc(S->pmask + 1, sizeof *S->pmap);
        if (!S->pmap)
            abort();
        for (size_t j = 0; j <= om; j++)
            if (old[j].off) {
                size_t k = chk_mix64(old[j].b ^ chk_mix64(old[j].r + 1)) & S->pmask;
                while (S->pmap[k].off)
                    k = (k + 1) & S->pmask;
                S->pmap[k] = old[j];
            }
        free(old);
    }
    return S->rl + off;
}

/* Can the read r follow state b with no reset in between (after rank lo of
 * r's process)? It fits b now, or b can be extended to it by appends that
 * are still possible (each may be counted more than once: optimistic). A
 * depth-first walk over the states on the way, given up (answering true)
 * after SEQ_FROM_WORK of them. */
#define SEQ_FROM_WORK 64
static bool seq_from_walk(seq *S, uint64_t b, uint32_t r, uint32_t lo, int *work)
{
    const hist_op *ro = &S->ops[S->idx[r]];
    uint64_t nx;
    if (S->m->step(S->ctx, b, ro, &nx) || --*work < 0)
        return true;
    if (!S->m->reach(S->ctx, b, ro))
        return false;
    for (const uint32_t *e = seq_pieces(S, b, r); *e != SEQ_NONE; e++)
        if (seq_open(S, *e, r, lo) && S->m->step(S->ctx, b, &S->ops[S->idx[*e]], &nx) &&
            seq_from_walk(S, nx, r, lo, work))
            return true;
    return false;
}

static bool seq_from(seq *S, uint64_t b, uint32_t r, uint32_t lo)
{
    int work = SEQ_FROM_WORK;
    return seq_from_walk(S, b, r, lo, &work);
}

/* Is there a reset that can still run before the read r (and after rank
 * lo of r's process) from which r can be reached? */
static bool seq_reset_left(seq *S, uint32_t r, uint32_t lo)
{
    for (const uint32_t *w = seq_resets(S, r); *w != SEQ_NONE; w++) {
        uint64_t after;
        if (seq_open(S, *w, r, lo) && S->m->reset(S->ctx, &S->ops[S->idx[*w]], &after) &&
            seq_from(S, after, r, S->pof[*w] == S->pof[r] ? S->rank[*w] : lo))
            return true;
    }
    return false;
}

/* Can every process's remaining ok reads still happen? Its next read must
 * be reachable from the current state, and each remaining read from its
 * anchor if that is still ahead; either way, or from a reset that can still
 * come in between. "Reachable" asks the model (reach) and that an append
 * that extends the state towards the read is still possible. (A `true` may
 * be optimistic; a `false` is certain.) The anchored pairs change only
 * when some process goes past a reset or an append; then the next `ahead`
 * later reads of each process are checked too (all of them once at the
 * start, which finds reads no order can satisfy; a few after each step,
 * since checking every read at every step costs more than it prunes on
 * long histories). */
#define SEQ_AHEAD 4
static bool seq_alive(seq *S, uint32_t ahead)
{
    for (uint32_t p = 0; p < S->P; p++) {
        if (S->pos[p] >= S->len[p])
            continue;
        uint32_t x = S->nread[S->start[p] + S->pos[p]];
        if (x == SEQ_NONE)
            continue;
        uint32_t r = S->plist[x], lo = S->pos[p] ? S->pos[p] - 1 : SEQ_NONE;
        if (!seq_from(S, S->states[S->kof[r]], r, lo) && !seq_reset_left(S, r, lo))
            return false;
        for (uint32_t end = S->start[p] + S->len[p], left = ahead;; left--) {
            uint32_t a = S->anchor[r];
            if (a != SEQ_NONE && S->rank[a] >= S->pos[p]) {
                const hist_op *ao = &S->ops[S->idx[a]];
                uint64_t base;
                bool known = ao->f == HIST_F_READ ? (base = S->rstate[a]) != SEQ_UNKNOWN_STATE
                                                  : S->m->reset(S->ctx, ao, &base);
                bool ok = known ? seq_from(S, base, r, S->rank[a]) : S->pairok[r];
                if (!ok && !seq_reset_left(S, r, S->rank[a]))
                    return false;
            }
            if (!left || x + 1 >= end || (x = S->nread[x + 1]) == SEQ_NONE)
                break;
            r = S->plist[x];
        }
    }
    return true;
}

static bool seq_kills(seq *S, uint32_t i)
{
    if (!S->m->kills)
        return false;
    if (!S->kill[i])
        S->kill[i] = S->m->kills(S->ctx, &S->ops[S->idx[i]]) ? 1 : 2;
    return S->kill[i] == 1;
}

/* Is an op that can observe state s of partition k ready to come next? */
static bool seq_observed(seq *S, uint32_t k, uint64_t s)
{
    uint64_t nx;
    for (uint32_t p = 0; p < S->P; p++) {
        if (S->pos[p] >= S->len[p])
            continue;
        uint32_t oi = S->plist[S->start[p] + S->pos[p]];
        const hist_op *o = &S->ops[S->idx[oi]];
        if (S->kof[oi] == k && o->type == HIST_OK && (o->f == HIST_F_READ || o->f == HIST_F_CAS) &&
            S->m->step(S->ctx, s, o, &nx))
            return true;
    }
    for (uint32_t j = 0; j < S->C; j++) {
        uint32_t oi = S->crep[j];
        const hist_op *o = &S->ops[S->idx[oi]];
        if (S->used[j] < S->reached[j] && S->kof[oi] == k && o->f == HIST_F_CAS &&
            S->m->step(S->ctx, s, o, &nx) && nx != s)
            return true;
    }
    return false;
}

/* One move forward (d = 1) or back (d = -1) of v: v < P is process v (its
 * position moves; reaching its pooled op makes that op available), v >= P
 * is pooled class v - P (its used count moves). */
static void seq_move(seq *S, uint32_t v, int d)
{
    if (v >= S->P) {
        uint32_t j = v - S->P;
        S->zp ^= zst(0x80000000u | j, S->used[j]);
        S->used[j] += (uint32_t)d;
        S->zp ^= zst(0x80000000u | j, S->used[j]);
        return;
    }
    if (d < 0 && S->tcls[v] && S->pos[v] == S->len[v])
        S->reached[S->tcls[v] - 1]--;
    S->zp ^= zpos(v, S->pos[v]);
    S->pos[v] += (uint32_t)d;
    S->zp ^= zpos(v, S->pos[v]);
    if (d > 0 && S->tcls[v] && S->pos[v] == S->len[v])
        S->reached[S->tcls[v] - 1]++;
}

static void seq_set_state(seq *S, uint32_t k, uint64_t s)
{
    S->zs ^= zst(k, S->states[k]) ^ zst(k, s);
    S->states[k] = s;
}

/* Processes, partitions, each process's list, pooled classes, read links. */
static void seq_build(seq *S, size_t n)
{
    const hist_op *ops = S->ops;
    dense procs, parts, pairs, classes;
    dense_init(&procs, n);
    dense_init(&parts, n);
    S->pof = malloc(n * sizeof *S->pof);
    S->kof = malloc(n * sizeof *S->kof);
    for (size_t i = 0; i < n; i++) {
        S->pof[i] = dense_get(&procs, (uint64_t)ops[S->idx[i]].process);
        S->kof[i] = dense_get(&parts, S->m->partition(&ops[S->idx[i]]));
    }
    uint32_t P = S->P = procs.n;
    S->K = parts.n;
    S->start = calloc(P + 1, sizeof *S->start);
    S->len = calloc(P, sizeof *S->len);
    S->pos = calloc(P, sizeof *S->pos);
    S->plist = malloc(n * sizeof *S->plist);
    S->rank = malloc(n * sizeof *S->rank);
    for (size_t i = 0; i < n; i++)
        S->start[S->pof[i] + 1]++;
    for (uint32_t p = 0; p < P; p++)
        S->start[p + 1] += S->start[p];
    for (size_t i = 0; i < n; i++) {
        uint32_t p = S->pof[i];
        S->rank[i] = S->len[p];
        S->plist[S->start[p] + S->len[p]++] = (uint32_t)i;
    }
    /* Classes are numbered exactly (no hashing of the tuple): first the
     * (arg, arg2) pair, then (key, pair, f), then the process if the model
     * tells processes apart (a mutex's holder). Killers of one key and f
     * (model->kills: they leave the same dead state from any state, so
     * they are interchangeable whatever their arguments) share one pair:
     * hundreds of timed-out writes of values no read sees are then one
     * class with a count, not hundreds whose every subset is a
     * configuration. */
    S->kill = calloc(n + 1, sizeof *S->kill);
    /* The observer rule needs register semantics: no appends (an append
     * observes the state it extends without returning it), as linear.c. */
    S->obsrule = malloc((S->K + 1) * sizeof *S->obsrule);
    for (uint32_t k = 0; k <= S->K; k++)
        S->obsrule[k] = S->m->info_needs_observer;
    for (size_t i = 0; i < n; i++)
        if (ops[S->idx[i]].f == HIST_F_APPEND)
            S->obsrule[S->kof[i]] = false;
    dense_init(&pairs, P);
    dense_init(&classes, P);
    S->tcls = calloc(P + 1, sizeof *S->tcls);
    for (uint32_t p = 0; p < P; p++) {
        uint32_t last = S->plist[S->start[p] + S->len[p] - 1];
        const hist_op *o = &ops[S->idx[last]];
        if (o->type != HIST_INFO)
            continue;
        uint64_t pr = dense_get(&pairs, seq_kills(S, last) ? UINT64_MAX : (uint64_t)o->arg << 32 | o->arg2);
        uint64_t ck = (uint64_t)o->key << 32 | pr << 3 | o->f;
        if (S->m->step_uses_process)
            ck = dense_get(&pairs, ck) | (uint64_t)(p + 1) << 32;
        S->tcls[p] = dense_get(&classes, ck) + 1;
        S->len[p]--;
    }
    uint32_t C = S->C = classes.n;
    S->reached = calloc(C + 1, sizeof *S->reached);
    S->used = calloc(C + 1, sizeof *S->used);
    S->crep = calloc(C + 1, sizeof *S->crep);
    for (uint32_t p = 0; p < P; p++)
        if (S->tcls[p]) {
            S->crep[S->tcls[p] - 1] = S->plist[S->start[p] + S->len[p]];
            if (S->len[p] == 0)
                S->reached[S->tcls[p] - 1]++;
        }
    S->prune = S->m->reach && S->m->reset && S->m->follows;
    S->nread = malloc((n + 1) * sizeof *S->nread);
    S->roff = calloc(n + 1, sizeof *S->roff);
    S->anchor = malloc((n + 1) * sizeof *S->anchor);
    S->pairok = calloc(n + 1, sizeof *S->pairok);
    S->isreset = calloc(n + 1, sizeof *S->isreset);
    S->rstate = calloc(n + 1, sizeof *S->rstate);
    S->pmask = 1023;
    S->pmap = calloc(S->pmask + 1, sizeof *S->pmap);
    uint32_t *lastk = malloc((S->K + 1) * sizeof *lastk), *stamp = calloc(S->K + 1, sizeof *stamp);
    for (uint32_t p = 0; S->prune && p < P; p++) {
        uint32_t next = SEQ_NONE;
        for (uint32_t x = S->start[p + 1]; x-- > S->start[p];) {
            const hist_op *o = &ops[S->idx[S->plist[x]]];
            if (o->type == HIST_OK && o->f == HIST_F_READ)
                next = x;
            S->nread[x] = next;
        }
        /* anchors are per partition: other keys' ops say nothing */
        for (uint32_t x = S->start[p]; x < S->start[p + 1]; x++) {
            uint32_t i = S->plist[x], k = S->kof[i];
            const hist_op *o = &ops[S->idx[i]];
            uint64_t after;
            S->isreset[i] = S->m->reset(S->ctx, o, &after);
            if (o->type != HIST_OK)
                continue;
            if (stamp[k] != p + 1) {
                stamp[k] = p + 1;
                lastk[k] = SEQ_NONE;
            }
            uint32_t last = lastk[k];
            if (o->f == HIST_F_READ) {
                /* what it saw: the state a write of its value leaves */
                hist_op w = {.f = HIST_F_WRITE, .type = HIST_OK, .key = o->key, .arg = o->ret};
                if (!S->m->reset(S->ctx, &w, &S->rstate[i]))
                    S->rstate[i] = SEQ_UNKNOWN_STATE;
                S->anchor[i] = last;
                S->pairok[i] = last == SEQ_NONE || S->m->follows(S->ctx, &ops[S->idx[last]], o);
            }
            if (o->f == HIST_F_READ || o->f == HIST_F_APPEND || S->isreset[i])
                lastk[k] = i;
        }
    }
    free(lastk);
    free(stamp);
    /* the reset ops of each partition, for seq_resets */
    S->wstart = calloc(S->K + 2, sizeof *S->wstart);
    S->wop = malloc((n + 1) * sizeof *S->wop);
    S->wafter = malloc((n + 1) * sizeof *S->wafter);
    for (size_t i = 0; i < n; i++)
        S->wstart[S->kof[i] + 2] += S->isreset[i];
    for (uint32_t k = 0; k < S->K; k++)
        S->wstart[k + 2] += S->wstart[k + 1];
    for (uint32_t i = 0; i < n; i++)
        if (S->isreset[i]) {
            uint32_t j = S->wstart[S->kof[i] + 1]++;
            S->wop[j] = i;
            S->m->reset(S->ctx, &ops[S->idx[i]], &S->wafter[j]);
        }
    S->states = malloc((S->K + 1) * sizeof *S->states);
    for (uint32_t k = 0; k < S->K; k++) {
        S->states[k] = S->m->init(S->ctx);
        S->zs ^= zst(k, S->states[k]);
    }
    for (uint32_t p = 0; p < P; p++)
        S->zp ^= zpos(p, 0);
    dense_free(&procs);
    dense_free(&parts);
    dense_free(&pairs);
    dense_free(&classes);
}

static void seq_free(seq *S)
{
    free(S->pof); free(S->kof); free(S->start); free(S->len); free(S->pos);
    free(S->plist); free(S->rank); free(S->tcls); free(S->reached); free(S->used);
    free(S->crep); free(S->states); free(S->nread); free(S->roff); free(S->rl);
    free(S->anchor); free(S->pairok); free(S->isreset); free(S->kill); free(S->obsrule); free(S->rstate); free(S->pmap);
    free(S->wstart); free(S->wop); free(S->wafter);
}

/* The memo key of the current configuration: positions (two per word),
 * states, used counts (two per word). */
static void seq_key(const seq *S, uint64_t *key)
{
    size_t pw = (S->P + 1) / 2, cw = (S->C + 1) / 2;
    memset(key, 0, pw * sizeof *key);
    for (uint32_t q = 0; q < S->P; q++)
        key[q >> 1] |= (uint64_t)S->pos[q] << (32 * (q & 1));
    memcpy(key + pw, S->states, S->K * sizeof *S->states);
    memset(key + pw + S->K, 0, cw * sizeof *key);
    for (uint32_t j = 0; j < S->C; j++)
        key[pw + S->K + (j >> 1)] |= (uint64_t)S->used[j] << (32 * (j & 1));
}

/* The ops applied along the choices (the order found): a pooled choice
 * takes an unused op of its class whose process has reached it (any one
 * will do: they are interchangeable). */
static void seq_order(seq *S, const uint32_t *applied, size_t depth, search_result *out)
{
    out->order = malloc((depth + 1) * sizeof *out->order);
    memset(S->pos, 0, S->P * sizeof *S->pos);
    bool *taken = calloc(S->P + 1, sizeof *taken);
    for (size_t d = 0; d < depth; d++) {
        uint32_t c = applied[d];
        if (c >= 2 * S->P) {
            for (uint32_t p = 0; p < S->P; p++)
                if (S->tcls[p] == c - 2 * S->P + 1 && S->pos[p] == S->len[p] && !taken[p]) {
                    taken[p] = true;
                    out->order[out->norder++] = S->idx[S->plist[S->start[p] + S->len[p]]];
                    break;
                }
            continue;
        }
        uint32_t p = c >> 1, oi = S->plist[S->start[p] + S->pos[p]++];
        if (!(c & 1))
            out->order[out->norder++] = S->idx[oi];
    }
    free(taken);
}

int seq_search(const history *h, const hist_op *ops, const uint32_t *idx, size_t n, const model *m,
               void *ctx, const search_budget *b, search_result *out)
{
    (void)h;
    memset(out, 0, sizeof *out);
    out->verdict = SEARCH_TRUE;
    if (n == 0)
        return SEARCH_TRUE;
    seq S;
    memset(&S, 0, sizeof S);
    S.ops = ops;
    S.idx = idx;
    S.m = m;
    S.ctx = ctx;
    seq_build(&S, n);
    uint32_t P = S.P, C = S.C;
    size_t remaining = 0;
    for (size_t i = 0; i < n; i++)
        remaining += ops[idx[i]].type == HIST_OK;
    size_t nkey = (P + 1) / 2 + S.K + (C + 1) / 2;
    uint64_t *key = malloc(nkey * sizeof *key);
    uint32_t *cand = malloc((P + 1) * sizeof *cand);
    uint32_t *cnext = calloc(n + 1, sizeof *cnext), *applied = malloc((n + 1) * sizeof *applied);
    uint64_t *prev = malloc((n + 1) * sizeof *prev);
    memo memo;
    memo_init(&memo, b->memo_bytes);
    size_t depth = 0;
    uint64_t steps = 0;
    int verdict = SEARCH_TRUE;
    if (S.prune && !seq_alive(&S, UINT32_MAX))
        remaining = 0, verdict = SEARCH_FALSE;
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
            if (S.pos[p] >= S.len[p])
                continue;
            uint32_t j = nc++, inv = ops[idx[S.plist[S.start[p] + S.pos[p]]]].inv;
            while (j > 0 && ops[idx[S.plist[S.start[cand[j - 1]] + S.pos[cand[j - 1]]]]].inv > inv) {
                cand[j] = cand[j - 1];
                j--;
            }
            cand[j] = p;
        }
        /* Choices 0 .. 2nc-1: process cand[c/2] applies (or, c odd, skips)
         * its next op; 2nc + j: a pooled op of class j is applied. A read
         * that fits is forced (see the top of the file). */
        uint32_t lo = cnext[depth], hi = 2 * nc + C;
        bool forced = false;
        for (uint32_t i = 0; lo == 0 && i < nc; i++) {
            uint32_t oi = S.plist[S.start[cand[i]] + S.pos[cand[i]]];
            const hist_op *o = &ops[idx[oi]];
            uint64_t nx;
            if (!m->step(ctx, S.states[S.kof[oi]], o, &nx) || nx != S.states[S.kof[oi]])
                continue;
            if ((o->type == HIST_OK && o->f == HIST_F_READ) || seq_kills(&S, oi)) {
                lo = 2 * i;
                hi = lo + 1;
                forced = true;
                break;
            }
        }
        for (uint32_t c = lo; c < hi && !found; c++) {
            uint32_t p = 0, alt = 0, oi, mv;
            bool pool = c >= 2 * nc;
            if (pool) {
                if (S.used[c - 2 * nc] >= S.reached[c - 2 * nc])
                    continue;
                oi = S.crep[c - 2 * nc];
                mv = P + (c - 2 * nc);
            } else {
                p = cand[c >> 1];
                alt = c & 1;
                oi = S.plist[S.start[p] + S.pos[p]];
                mv = p;
            }
            uint32_t k = S.kof[oi];
            const hist_op *o = &ops[idx[oi]];
            if (alt && o->type == HIST_OK)
                continue; /* only an info op may be left out */
            uint64_t s = S.states[k], nx = s;
            if (!alt && !m->step(ctx, s, o, &nx))
                continue;
            if (pool && nx == s)
                continue; /* a pooled op that changes nothing need not be used */
            if (pool && S.obsrule[k] && !seq_observed(&S, k, nx))
                continue; /* nothing could see what it leaves (top of the file) */
            seq_move(&S, mv, 1);
            seq_set_state(&S, k, nx);
            bool fresh = false;
            if (!S.prune || seq_alive(&S, !pool && o->f != HIST_F_READ ? SEQ_AHEAD : 0)) {
                seq_key(&S, key);
                fresh = memo_insert(&memo, chk_mix64(S.zp ^ S.zs), key, (uint32_t)nkey);
            }
            if (fresh) {
                cnext[depth] = forced ? 2 * nc + C : c + 1;
                applied[depth] = pool ? 2 * P + (c - 2 * nc) : (p << 1 | alt);
                prev[depth] = s;
                if (!pool && !alt && o->type == HIST_OK)
                    remaining--;
                cnext[++depth] = 0;
                found = true;
            } else {
                seq_move(&S, mv, -1);
                seq_set_state(&S, k, s);
            }
        }
        if (memo.full) {
            /* Without the memo the search could run for ever: stop. */
            verdict = SEARCH_UNKNOWN;
            out->reason = "memo memory limit reached";
            break;
        }
        if (found)
            continue;
        if (depth == 0) {
            verdict = SEARCH_FALSE;
            break;
        }
        depth--;
        uint32_t c = applied[depth], oi;
        if (c >= 2 * P) {
            seq_move(&S, P + (c - 2 * P), -1);
            oi = S.crep[c - 2 * P];
        } else {
            seq_move(&S, c >> 1, -1);
            oi = S.plist[S.start[c >> 1] + S.pos[c >> 1]];
        }
        seq_set_state(&S, S.kof[oi], prev[depth]);
        if (c < 2 * P && !(c & 1) && ops[idx[oi]].type == HIST_OK)
            remaining++;
    }
    if (verdict == SEARCH_TRUE)
        seq_order(&S, applied, depth, out);
    out->verdict = verdict;
    out->steps = steps;
    memo_free(&memo);
    seq_free(&S);
    free(key); free(cand); free(cnext); free(applied); free(prev);
    return verdict;
}
