/* eventual.c: eventual consistency (DESIGN.md "Consistency checks").
 *
 * Verdict: no read returns a value never written (out of thin air), and the
 * final reads of every key agree on a value that was not certainly
 * overwritten. Figures (not part of the verdict): stale reads, monotonic-reads
 * and read-your-writes violations per process.
 *
 * Definitions. "Certainly before": A completed before B was invoked. The
 * source of a read is the write of the value it returned (the one completing
 * last, if several wrote it; the initial value's source precedes everything).
 * A read is stale when an ok update of its key certainly followed its source
 * and certainly preceded the read; its age is how long before the read the
 * first such update completed (ms, or events when the history has no times)
 * and its version lag how many such updates there were. Final reads are reads
 * marked "final": true, or else (for keys without info updates, which may
 * take effect at any time) the reads invoked after every update completed. For keys written by append the value must be made of
 * written pieces, and the final value must contain every ok append invoked
 * after every put, delete and cas of the key completed. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "checker/checks.h"
#include "checker/hash.h"

#define T_NEVER INT64_MAX

typedef struct ev_ctx {
    const history *h;
    const hist_op *ops;
    bool times;             /* the history has real times (ns) */
} ev_ctx;

static int64_t t_of(const ev_ctx *c, uint32_t ev)
{
    return c->times ? c->h->ev[ev].time : (int64_t)ev;
}
static int64_t t_inv(const ev_ctx *c, const hist_op *o) { return t_of(c, o->inv); }
static int64_t t_cmp(const ev_ctx *c, const hist_op *o)
{
    return o->type == HIST_OK ? t_of(c, o->cmp) : T_NEVER; /* info: may take effect any time */
}

static bool is_update(const hist_op *o)
{
    return (o->f == HIST_F_WRITE || o->f == HIST_F_CAS || o->f == HIST_F_APPEND || o->f == HIST_F_DELETE) &&
           (o->type == HIST_OK || o->type == HIST_INFO);
}
static uint32_t written(const hist_op *o)
{
    return o->f == HIST_F_CAS ? o->arg2 : o->f == HIST_F_DELETE ? HIST_NULL : o->arg;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static json_t *stats(int64_t *v, size_t n, double scale)
{
    if (n == 0)
        return json_pack("{s:i,s:i,s:i}", "max", 0, "p50", 0, "p99", 0);
    qsort(v, n, sizeof *v, cmp_i64);
    return json_pack("{s:f,s:f,s:f}", "max", (double)v[n - 1] / scale, "p50", (double)v[(n - 1) / 2] / scale, "p99",
                     (double)v[(size_t)((double)(n - 1) * 0.99)] / scale);
}

/* Can string s be cut into pieces from the set (appended values, and a put
 * value at the start)? Dynamic programming over positions. */
static bool pieces_ok(const history *h, const hist_value *s, const uint32_t *pieces, size_t np)
{
    if (s->kind != HIST_V_STRING)
        return false;
    size_t n = s->slen;
    char *reach = calloc(n + 1, 1);
    reach[0] = 1;
    for (size_t i = 0; i < n; i++) {
        if (!reach[i])
            continue;
        for (size_t k = 0; k < np; k++) {
            const hist_value *p = &h->vals[pieces[k]];
            if (p->kind == HIST_V_STRING && p->slen && i + p->slen <= n && memcmp(s->str + i, p->str, p->slen) == 0)
                reach[i + p->slen] = 1;
        }
    }
    bool ok = reach[n];
    free(reach);
    return ok;
}

/* The source of a read: the writer of its value completing last among those
 * invoked before the read completed; -1 for the initial value (or none). */
static int64_t source_of(const ev_ctx *c, const uint32_t *upd, size_t nu, const hist_op *r)
{
    int64_t best = -1, bt = INT64_MIN;
    int64_t rend = t_cmp(c, r);
    for (size_t i = 0; i < nu; i++) {
        const hist_op *w = &c->ops[upd[i]];
        if (written(w) == r->ret && t_inv(c, w) < rend && t_cmp(c, w) >= bt) {
            bt = t_cmp(c, w);
            best = (int64_t)upd[i];
        }
    }
    return best;
}

/* Per-process violation counter (process -> count) as a JSON object. */
static void bump(json_t *obj, int64_t process)
{
    char k[32];
    snprintf(k, sizeof k, "%" PRId64, process);
    json_t *v = json_object_get(obj, k);
    json_object_set_new(obj, k, json_integer(v ? json_integer_value(v) + 1 : 1));
}

static int cmp_by_cmp_time(const void *a, const void *b, void *arg)
{
    const ev_ctx *c = arg;
    int64_t x = t_cmp(c, &c->ops[*(const uint32_t *)a]), y = t_cmp(c, &c->ops[*(const uint32_t *)b]);
    return x < y ? -1 : x > y;
}

json_t *eventual_check(const history *h, const hist_op *ops, size_t nops)
{
    ev_ctx c = {h, ops, h->nev > 0};
    for (size_t i = 0; i < h->nev && c.times; i++)
        c.times = h->ev[i].time != HIST_NO_TIME;
    /* Ops grouped by key (sorted by key, then op order). */
    uint64_t *pairs = malloc((nops + 1) * sizeof *pairs);
    for (size_t i = 0; i < nops; i++)
        pairs[i] = (uint64_t)ops[i].key << 32 | i;
    qsort(pairs, nops, sizeof *pairs, cmp_i64);
    json_t *thin = json_array(), *diverged = json_array(), *problems = json_array();
    json_t *mono = json_object(), *ryw = json_object();
    size_t nthin = 0, nstale = 0, checked_keys = 0;
    int64_t *ages = malloc((nops + 1) * sizeof *ages), *lags = malloc((nops + 1) * sizeof *lags);
    uint32_t *upd = malloc((nops + 1) * sizeof *upd), *okupd = malloc((nops + 1) * sizeof *okupd);
    uint32_t *pieces = malloc((nops + 1) * sizeof *pieces);
    int64_t *src = malloc((nops + 1) * sizeof *src);
    bool valid = true;
    for (size_t a = 0, b; a < nops; a = b) {
        uint32_t key = (uint32_t)(pairs[a] >> 32);
        for (b = a; b < nops && (uint32_t)(pairs[b] >> 32) == key; b++)
            ;
        size_t nu = 0, nok = 0, np = 0;
        bool append = false;
        int64_t last_update = INT64_MIN;
        for (size_t i = a; i < b; i++) {
            uint32_t oi = (uint32_t)pairs[i];
            const hist_op *o = &ops[oi];
            if (!is_update(o))
                continue;
            upd[nu++] = oi;
            if (o->type == HIST_OK)
                okupd[nok++] = oi;
            append |= o->f == HIST_F_APPEND;
            if (o->f == HIST_F_APPEND || o->f == HIST_F_WRITE)
                pieces[np++] = o->arg;
            int64_t end = o->type == HIST_OK ? t_cmp(&c, o) : t_inv(&c, o);
            if (end > last_update)
                last_update = end;
        }
        qsort_r(okupd, nok, sizeof *okupd, cmp_by_cmp_time, &c);
        /* Reads: thin air, staleness, sources. */
        uint32_t final_val = HIST_ABSENT;
        bool any_final = false, marked = false, info_update = false;
        for (size_t i = 0; i < nu; i++)
            info_update |= ops[upd[i]].type == HIST_INFO;
        for (size_t i = a; i < b; i++)
            marked |= h->ev[ops[(uint32_t)pairs[i]].inv].final;
        for (size_t i = a; i < b; i++) {
            uint32_t oi = (uint32_t)pairs[i];
            const hist_op *r = &ops[oi];
            src[oi] = -2;
            if (r->f != HIST_F_READ || r->type != HIST_OK)
                continue;
            bool initial = r->ret == h->initial || r->ret == HIST_NULL;
            int64_t s = initial ? -1 : source_of(&c, upd, nu, r);
            src[oi] = s;
            if (!initial && (append ? !pieces_ok(h, &h->vals[r->ret], pieces, np) : s < 0)) {
                nthin++;
                valid = false;
                if (json_array_size(thin) < 20)
                    json_array_append_new(thin, check_op_json(h, ops, oi));
            }
            /* Unmarked: reads after the last update, unless an info update
             * may still take effect between them (nothing to judge then). */
            bool final = marked ? h->ev[r->inv].final : !info_update && t_inv(&c, r) > last_update;
            if (final) {
                if (any_final && final_val != r->ret) {
                    valid = false;
                    json_array_append_new(diverged, check_op_json(h, ops, oi));
                }
                any_final = true;
                final_val = r->ret;
            }
            if (append || (!initial && s < 0))
                continue;
            /* Staleness: ok updates certainly after the source, certainly
             * before the read. okupd is sorted by completion time. */
            int64_t from = s < 0 ? INT64_MIN : t_cmp(&c, &ops[s]), rinv = t_inv(&c, r);
            size_t lag = 0;
            int64_t first = INT64_MAX;
            for (size_t k = nok; k-- > 0;) {
                const hist_op *u = &ops[okupd[k]];
                int64_t uc = t_cmp(&c, u);
                if (uc >= rinv)
                    continue;
                if (uc < from)
                    break;
                if (t_inv(&c, u) > from && written(u) != r->ret) {
                    lag++;
                    first = uc;
                }
            }
            if (lag) {
                ages[nstale] = rinv - first;
                lags[nstale++] = (int64_t)lag;
            }
        }
        if (any_final) {
            checked_keys++;
            /* The final value must not be certainly overwritten... */
            int64_t s = -1;
            for (size_t i = a; i < b; i++)
                if (ops[(uint32_t)pairs[i]].f == HIST_F_READ && ops[(uint32_t)pairs[i]].ret == final_val &&
                    src[(uint32_t)pairs[i]] != -2)
                    s = src[(uint32_t)pairs[i]];
            int64_t send = s < 0 ? INT64_MIN : t_cmp(&c, &ops[s]);
            for (size_t k = 0; k < nok && !append; k++)
                if ((int64_t)okupd[k] != s && t_inv(&c, &ops[okupd[k]]) > send &&
                    written(&ops[okupd[k]]) != final_val) {
                    valid = false;
                    json_array_append_new(problems, json_sprintf("key %s: final value %s was certainly overwritten",
                                                                 h->vals[key].text, h->vals[final_val].text));
                    break;
                }
            /* ...and for appends must contain every ok append that no
             * put, delete or cas may have reset (invoked after they all
             * completed). */
            int64_t reset = INT64_MIN;
            for (size_t k = 0; k < nu; k++)
                if (ops[upd[k]].f != HIST_F_APPEND && t_cmp(&c, &ops[upd[k]]) > reset)
                    reset = t_cmp(&c, &ops[upd[k]]);
            for (size_t k = 0; k < nok && append; k++) {
                const hist_value *fv = &h->vals[final_val], *p = &h->vals[ops[okupd[k]].arg];
                if (ops[okupd[k]].f == HIST_F_APPEND && p->kind == HIST_V_STRING && t_inv(&c, &ops[okupd[k]]) > reset &&
                    (fv->kind != HIST_V_STRING || !memmem(fv->str, fv->slen, p->str, p->slen))) {
                    valid = false;
                    json_array_append_new(problems, json_sprintf("key %s: the final value lost the append of %s",
                                                                 h->vals[key].text, p->text));
                    break;
                }
            }
        }
        /* Per process, in its own order: monotonic reads, read-your-writes. */
        for (size_t i = a; i < b; i++) {
            uint32_t oi = (uint32_t)pairs[i];
            const hist_op *r = &ops[oi];
            if (src[oi] == -2 || append)
                continue;
            for (size_t j = i; j-- > a;) {
                uint32_t pj = (uint32_t)pairs[j];
                const hist_op *q = &ops[pj];
                if (q->process != r->process)
                    continue;
                if (src[pj] != -2) { /* the previous read of this process */
                    int64_t s1 = src[pj], s2 = src[oi];
                    bool back = s1 >= 0 && (s2 < 0 ? true : t_cmp(&c, &ops[s2]) < t_inv(&c, &ops[s1]));
                    if (back && (s2 != -1 || r->ret == h->initial || r->ret == HIST_NULL))
                        bump(mono, r->process);
                    break;
                }
                if (is_update(q) && q->type == HIST_OK) { /* its own latest write */
                    int64_t s2 = src[oi];
                    if (s2 != (int64_t)pj && (s2 < 0 || t_cmp(&c, &ops[s2]) < t_inv(&c, q)))
                        bump(ryw, r->process);
                    break;
                }
            }
        }
    }
    json_t *r = json_object();
    json_object_set_new(r, "valid", json_boolean(valid));
    json_object_set_new(r, "thin_air_count", json_integer((json_int_t)nthin));
    json_object_set_new(r, "thin_air", thin);
    json_object_set_new(r, "convergence",
                        json_pack("{s:i,s:o}", "checked_keys", (json_int_t)checked_keys, "diverged", diverged));
    json_t *st = json_object();
    json_object_set_new(st, "count", json_integer((json_int_t)nstale));
    json_object_set_new(st, c.times ? "age_ms" : "age_events", stats(ages, nstale, c.times ? 1e6 : 1));
    json_object_set_new(st, "versions", stats(lags, nstale, 1));
    json_object_set_new(r, "stale_reads", st);
    json_object_set_new(r, "monotonic_reads", mono);
    json_object_set_new(r, "read_your_writes", ryw);
    if (nthin)
        json_array_append_new(problems, json_sprintf("%zu reads returned values never written", nthin));
    if (json_array_size(diverged))
        json_array_append_new(problems, json_string("final reads of a key disagree"));
    json_object_set_new(r, "problems", problems);
    free(pairs); free(ages); free(lags); free(upd); free(okupd); free(pieces); free(src);
    return r;
}
