/* check.c: check_history(): a history in, DESIGN's result object out.
 *
 * Pairs the events into ops, drops what constrains nothing (failed ops,
 * reads that never returned), splits the rest by the model's partition
 * (each key is checked alone: linearizability is compositional) and runs
 * the checks asked for: linearizability per key, sequential consistency
 * per key and over the whole history, eventual consistency. */
#define _GNU_SOURCE
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "checker/checker.h"
#include "checker/checks.h"
#include "checker/search.h"

void check_options_default(check_options *o)
{
    memset(o, 0, sizeof *o);
    o->checks = CHECK_LINEARIZABLE;
    o->memo_bytes = (size_t)512 << 20;
}

json_t *check_verdict_json(int v)
{
    return v == SEARCH_TRUE ? json_true() : v == SEARCH_FALSE ? json_false() : json_string("unknown");
}

static json_t *value_json(const history *h, uint32_t id)
{
    if (!id)
        return json_null();
    json_t *j = json_loadb(h->vals[id].text, h->vals[id].len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    return j ? j : json_null();
}

json_t *check_op_json(const history *h, const hist_op *ops, uint32_t i)
{
    const hist_op *o = &ops[i];
    const hist_event *inv = &h->ev[o->inv];
    json_t *j = json_object();
    json_object_set_new(j, "op", json_integer(i));
    json_object_set_new(j, "process", json_integer(o->process));
    json_object_set_new(j, "f", value_json(h, inv->fname));
    if (o->key)
        json_object_set_new(j, "key", value_json(h, o->key));
    uint32_t v = o->f == HIST_F_READ ? (o->type == HIST_OK ? o->ret : HIST_ABSENT) : inv->value;
    json_object_set_new(j, "value", value_json(h, v));
    json_object_set_new(j, "type", json_string(o->cmp == HIST_NO_COMPLETION ? "pending" : history_type_name(o->type)));
    json_object_set_new(j, "line", json_integer(inv->line));
    json_object_set_new(j, "end_line", o->cmp == HIST_NO_COMPLETION ? json_null() : json_integer(h->ev[o->cmp].line));
    return j;
}

static json_t *ops_json(const history *h, const hist_op *ops, const uint32_t *list, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, check_op_json(h, ops, list[i]));
    return a;
}

/* The ops of each partition, in invocation order. */
typedef struct parts {
    uint32_t *sel;          /* selected op indices grouped by partition */
    size_t nsel;
    size_t *start;          /* partition p: sel[start[p] .. start[p+1]) */
    uint32_t *key;          /* partition p's key (value id) */
    size_t n;
} parts;

static int key_cmp(const void *a, const void *b)
{
    const uint64_t *x = a, *y = b;
    return *x < *y ? -1 : *x > *y;
}

static void parts_build(parts *P, const hist_op *ops, size_t nops, const model *m)
{
    /* Sort (partition << 32 | op) pairs: groups by partition, keeps op order. */
    uint64_t *pairs = malloc((nops + 1) * sizeof *pairs);
    size_t n = 0;
    for (size_t i = 0; i < nops; i++) {
        const hist_op *o = &ops[i];
        if (o->type == HIST_FAIL || (o->f == HIST_F_READ && o->type != HIST_OK))
            continue; /* did not happen, or constrains nothing */
        pairs[n++] = (uint64_t)m->partition(o) << 32 | i;
    }
    qsort(pairs, n, sizeof *pairs, key_cmp);
    P->sel = malloc((n + 1) * sizeof *P->sel);
    P->start = malloc((n + 2) * sizeof *P->start);
    P->key = malloc((n + 1) * sizeof *P->key);
    P->nsel = n;
    P->n = 0;
    for (size_t i = 0; i < n; i++) {
        P->sel[i] = (uint32_t)pairs[i];
        if (i == 0 || pairs[i] >> 32 != pairs[i - 1] >> 32) {
            P->start[P->n] = i;
            P->key[P->n++] = (uint32_t)(pairs[i] >> 32);
        }
    }
    P->start[P->n] = n;
    free(pairs);
}

static void parts_free(parts *P)
{
    free(P->sel);
    free(P->start);
    free(P->key);
}

/* Without --budget, the whole-history sequential search still stops
 * (unknown) after SEQ_DEFAULT_STEPS steps: it may need an exponential
 * search and a run must end. Linearizability and the per-key sequential
 * searches have no default limit. LIN_FIRST_STEPS bounds the quick
 * linearizability try before a per-key sequential search. */
#define SEQ_DEFAULT_STEPS 200000ULL
#define LIN_FIRST_STEPS (1ULL << 16)

static void budget_of(const check_options *o, search_budget *b)
{
    b->max_steps = o->budget_steps;
    b->deadline = o->budget_seconds > 0 ? search_now() + o->budget_seconds : 0;
    b->memo_bytes = o->memo_bytes ? o->memo_bytes : (size_t)512 << 20;
}

static int worse(int a, int b) /* false beats unknown beats true */
{
    if (a == SEARCH_FALSE || b == SEARCH_FALSE)
        return SEARCH_FALSE;
    return a == SEARCH_UNKNOWN || b == SEARCH_UNKNOWN ? SEARCH_UNKNOWN : SEARCH_TRUE;
}

/* Partitions are searched in rounds with a growing step allowance
 * (iterative deepening over partitions): one false partition decides the
 * verdict, so a hard but valid partition must not hold up an easy failing
 * one (Porcupine gets the same effect by running partitions in parallel).
 * Restarting a search with four times the steps costs at most 4/3 extra. */
static json_t *check_linearizable(const history *h, const hist_op *ops, const parts *P, const model *m,
                                  void *ctx, const check_options *o, int *verdict, int *per)
{
    json_t *r = json_object(), *failing = json_array();
    int v = SEARCH_TRUE;
    uint64_t steps = 0, round = 1 << 16;
    size_t npending = P->n, checked = 0;
    uint32_t *pending = malloc((P->n + 1) * sizeof *pending);
    for (size_t p = 0; p < P->n; p++) {
        pending[p] = (uint32_t)p;
        per[p] = SEARCH_UNKNOWN;
    }
    search_budget b;
    budget_of(o, &b);
    while (npending > 0 && v != SEARCH_FALSE) {
        size_t keep = 0;
        bool last = o->budget_steps && round >= o->budget_steps;
        for (size_t i = 0; i < npending && v != SEARCH_FALSE; i++) {
            size_t p = pending[i];
            search_budget rb = b;
            rb.max_steps = o->budget_steps && o->budget_steps <= round ? o->budget_steps : round;
            search_result sr;
            lin_search(h, ops, P->sel + P->start[p], P->start[p + 1] - P->start[p], m, ctx, &rb, &sr);
            steps += sr.steps;
            bool out_of_time = b.deadline > 0 && search_now() > b.deadline;
            if (sr.verdict == SEARCH_UNKNOWN && !last && !out_of_time) {
                pending[keep++] = (uint32_t)p; /* next round, with more steps */
            } else {
                checked++;
                per[p] = sr.verdict;
                v = worse(v, sr.verdict);
                if (sr.verdict == SEARCH_FALSE && P->key[p])
                    json_array_append_new(failing, value_json(h, P->key[p]));
                if (sr.verdict == SEARCH_FALSE) {
                    json_object_set_new(r, "key", value_json(h, P->key[p]));
                    json_object_set_new(r, "stuck", check_op_json(h, ops, sr.stuck));
                    json_object_set_new(r, "window", ops_json(h, ops, sr.window, sr.nwindow));
                    json_object_set_new(r, "prefix", ops_json(h, ops, sr.order, sr.norder));
                }
                if (sr.verdict == SEARCH_UNKNOWN && !json_object_get(r, "reason"))
                    json_object_set_new(r, "reason", json_string("search budget exhausted (see --budget)"));
            }
            search_result_free(&sr);
        }
        npending = keep;
        round *= 4;
    }
    free(pending);
    json_object_set_new(r, "valid", check_verdict_json(v));
    json_object_set_new(r, "partitions", json_integer((json_int_t)P->n));
    json_object_set_new(r, "partitions_checked", json_integer((json_int_t)checked));
    json_object_set_new(r, "failing_keys", failing);
    json_object_set_new(r, "steps", json_integer((json_int_t)steps));
    *verdict = v;
    return r;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Linearizable implies sequentially consistent (the linearization is a
 * witness), per key and, by compositionality, for the whole history; the
 * searches run only where linearizability did not already answer. */
static json_t *check_sequential(const history *h, const hist_op *ops, const parts *P, const model *m,
                                void *ctx, const check_options *o, const int *lin, int *verdict)
{
    json_t *r = json_object(), *per = json_object(), *whole = json_object(), *failing = json_array();
    int vk = SEARCH_TRUE;
    const char *why = NULL;
    size_t nlin = 0; /* keys known to be linearizable */
    uint64_t steps = 0;
    for (size_t p = 0; p < P->n; p++) {
        if (lin && lin[p] == SEARCH_TRUE) {
            nlin++;
            continue;
        }
        const uint32_t *sel = P->sel + P->start[p];
        size_t nsel = P->start[p + 1] - P->start[p];
        search_budget b;
        budget_of(o, &b);
        search_result sr;
        if (!lin || lin[p] == SEARCH_UNKNOWN) {
            /* Linearizability was not asked, or stopped at another key's
             * failure: try it first, briefly (it is usually much faster),
             * since a linearizable key is sequentially consistent. */
            b.max_steps = LIN_FIRST_STEPS;
            b.deadline = 0;
            int lv = lin_search(h, ops, sel, nsel, m, ctx, &b, &sr);
            search_result_free(&sr);
            if (lv == SEARCH_TRUE) {
                nlin++;
                continue;
            }
        }
        /* The per-key answer is always given (issue 3): no step or time
         * limit, --budget or not; the reductions in sequential.c keep it
         * small. Only the memo's memory is bounded (unknown, with why). */
        b.max_steps = 0;
        b.deadline = 0;
        seq_search(h, ops, sel, nsel, m, ctx, &b, &sr);
        steps += sr.steps;
        vk = worse(vk, sr.verdict);
        if (sr.verdict == SEARCH_FALSE)
            json_array_append_new(failing, value_json(h, P->key[p]));
        if (sr.verdict == SEARCH_UNKNOWN && !why)
            why = sr.reason;
        search_result_free(&sr);
    }
    if (why)
        json_object_set_new(per, "reason", json_string(why));
    json_object_set_new(per, "steps", json_integer((json_int_t)steps));
    json_object_set_new(per, "valid", check_verdict_json(vk));
    json_object_set_new(per, "failing_keys", failing);
    int vw;
    if (vk == SEARCH_FALSE) {
        vw = SEARCH_FALSE; /* a whole-history order would give every key one */
        json_object_set_new(whole, "reason", json_string("a key is not sequentially consistent on its own"));
    } else if (P->n <= 1 || nlin == P->n) {
        vw = vk; /* one key, or all linearizable (then so is the whole) */
        if (vk == SEARCH_UNKNOWN)
            json_object_set_new(whole, "reason", json_string(why));
    } else {
        /* All partitions at once: the ops must be in invocation order. */
        uint32_t *all = malloc((P->nsel + 1) * sizeof *all);
        memcpy(all, P->sel, P->nsel * sizeof *all);
        qsort(all, P->nsel, sizeof *all, cmp_u32);
        search_budget b;
        budget_of(o, &b);
        if (!o->budget_steps && !o->budget_seconds)
            b.max_steps = SEQ_DEFAULT_STEPS;
        search_result sr;
        vw = seq_search(h, ops, all, P->nsel, m, ctx, &b, &sr);
        if (vw == SEARCH_UNKNOWN)
            json_object_set_new(whole, "reason", json_string(sr.reason && strcmp(sr.reason, "search budget exhausted")
                                                                 ? sr.reason : "search budget exhausted (see --budget)"));
        json_object_set_new(whole, "steps", json_integer((json_int_t)sr.steps));
        search_result_free(&sr);
        free(all);
    }
    json_object_set_new(whole, "valid", check_verdict_json(vw));
    json_object_set_new(r, "valid", check_verdict_json(vw));
    json_object_set_new(r, "per_key", per);
    json_object_set_new(r, "whole", whole);
    *verdict = vw;
    return r;
}

json_t *check_history(const history *h, const char *file, const check_options *o, char *err, size_t errlen)
{
    double t0 = search_now();
    const char *mname = o->model ? o->model : history_natural_model(h);
    const model *m = model_find(mname);
    if (!m) {
        snprintf(err, errlen, "unknown model '%s' (use register, kv, cas-register or mutex)", mname);
        return NULL;
    }
    hist_op *ops;
    size_t nops;
    char why[256];
    if (history_ops(h, &ops, &nops, why, sizeof why)) {
        snprintf(err, errlen, "%s:%s", file, why + 5); /* why is "line N: ..." */
        return NULL;
    }
    for (size_t i = 0; i < nops; i++)
        if (!m->accepts((hist_f)ops[i].f)) {
            const hist_event *e = &h->ev[ops[i].inv];
            snprintf(err, errlen, "%s:%u: the %s model cannot check f %s", file, e->line, m->name,
                     h->vals[e->fname].text);
            free(ops);
            return NULL;
        }
    parts P;
    parts_build(&P, ops, nops, m);
    void *ctx = m->ctx_new(h);
    json_t *r = json_object(), *checks = json_object();
    json_object_set_new(r, "file", json_string(file));
    json_object_set_new(r, "format", json_string(h->format));
    json_object_set_new(r, "model", json_string(m->name));
    json_object_set_new(r, "ops", json_integer((json_int_t)nops));
    int lin = -1, seq = -1, ev = -1;
    int *per = malloc((P.n + 1) * sizeof *per);
    if (o->checks & CHECK_LINEARIZABLE)
        json_object_set_new(checks, "linearizable", check_linearizable(h, ops, &P, m, ctx, o, &lin, per));
    if (o->checks & CHECK_SEQUENTIAL)
        json_object_set_new(checks, "sequential",
                            check_sequential(h, ops, &P, m, ctx, o, lin >= 0 ? per : NULL, &seq));
    free(per);
    if (o->checks & CHECK_EVENTUAL) {
        json_t *e = eventual_check(h, ops, nops);
        json_t *v = json_object_get(e, "valid");
        ev = json_is_true(v) ? SEARCH_TRUE : json_is_false(v) ? SEARCH_FALSE : SEARCH_UNKNOWN;
        json_object_set_new(checks, "eventual", e);
    }
    int all = SEARCH_TRUE;
    for (int i = 0, vs[3] = {lin, seq, ev}; i < 3; i++)
        if (vs[i] >= 0)
            all = worse(all, vs[i]);
    const char *strongest = lin == SEARCH_TRUE ? "linearizable" : seq == SEARCH_TRUE ? "sequential"
                          : ev == SEARCH_TRUE ? "eventual" : NULL;
    json_object_set_new(r, "valid", check_verdict_json(all));
    json_object_set_new(r, "strongest", strongest ? json_string(strongest) : json_null());
    json_object_set_new(r, "checks", checks);
    json_object_set_new(r, "time_ms", json_real(round((search_now() - t0) * 1e6) / 1e3));
    m->ctx_free(ctx);
    parts_free(&P);
    free(ops);
    return r;
}

int check_exit_code(const json_t *r)
{
    json_t *v = json_object_get(r, "valid");
    return json_is_true(v) ? 0 : json_is_false(v) ? 1 : 2;
}
