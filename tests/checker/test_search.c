/* test_search.c: the searches against a brute-force checker on thousands of
 * tiny random histories, linearizable-by-construction histories from a
 * simulated register (and the same with one read corrupted), sequential and
 * eventual examples with known answers, and budget -> unknown. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "checker/model.h"
#include "hbuild.h"

static uint64_t rng = 88172645463325252ULL;
static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

/* ---- brute force: every order of every subset of info ops ---- */

typedef struct bf {
    const hist_op *ops;
    uint32_t *idx;
    size_t n;
    const model *m;
    void *ctx;
    bool seq; /* sequential: process order instead of real time */
} bf;

static bool bf_search(const bf *b, uint32_t placed, uint64_t state)
{
    bool done = true;
    for (size_t i = 0; i < b->n; i++)
        if (!(placed >> i & 1) && b->ops[b->idx[i]].type == HIST_OK)
            done = false;
    if (done)
        return true;
    for (size_t i = 0; i < b->n; i++) {
        if (placed >> i & 1)
            continue;
        const hist_op *o = &b->ops[b->idx[i]];
        bool blocked = false; /* an unplaced ok op that completed before o began */
        for (size_t j = 0; j < b->n && !blocked; j++) {
            const hist_op *p = &b->ops[b->idx[j]];
            if (b->seq) /* an earlier ok op of the process unplaced, or a later one placed */
                blocked = j != i && p->process == o->process &&
                          ((j < i && !(placed >> j & 1) && p->type == HIST_OK) || (j > i && (placed >> j & 1)));
            else
                blocked = j != i && !(placed >> j & 1) && p->type == HIST_OK && p->cmp < o->inv;
        }
        uint64_t nx;
        if (!blocked && b->m->step(b->ctx, state, o, &nx) && bf_search(b, placed | 1u << i, nx))
            return true;
    }
    return false;
}

static int brute_force(const history *h, const char *model_name, bool seq)
{
    hist_op *ops;
    size_t nops;
    char err[128];
    assert_int_equal(history_ops(h, &ops, &nops, err, sizeof err), 0);
    bf b = {ops, malloc((nops + 1) * sizeof(uint32_t)), 0, model_find(model_name), NULL, seq};
    for (size_t i = 0; i < nops; i++)
        if (ops[i].type != HIST_FAIL && !(ops[i].f == HIST_F_READ && ops[i].type != HIST_OK))
            b.idx[b.n++] = (uint32_t)i;
    b.ctx = b.m->ctx_new(h);
    bool ok = bf_search(&b, 0, b.m->init(b.ctx));
    b.m->ctx_free(b.ctx);
    free(b.idx);
    free(ops);
    return ok ? 0 : 1;
}

/* A random tiny history of one key: 3 client slots, up to nmax ops, random
 * results (so about half are not linearizable), ok/info/fail outcomes, and
 * sometimes ops left pending at the end. kv uses appends and strings. */
static void random_history(history *h, bool kv, bool appends, int nmax)
{
    static const char *const reg_vals[] = {"null", "0", "1", "2"};
    static const char *const kv_vals[] = {"null", "\"\"", "\"a\"", "\"b\"", "\"ab\"", "\"ba\"", "\"aa\""};
    long proc[3] = {0, 1, 2}, next_proc = 3;
    int pending[3] = {0}, started = 0;
    char fs[3][8], vs[3][16];
    for (int guard = 0; guard < 100; guard++) {
        int s = (int)rnd(3);
        if (!pending[s]) {
            if (started >= nmax)
                continue;
            started++;
            int k = (int)rnd(3);
            const char *f = k == 0 ? "read" : k == 1 ? (kv && appends ? "append" : kv ? "delete" : "write") : (kv ? "write" : "cas");
            if (kv)
                snprintf(vs[s], sizeof vs[s], "%s", k == 0 ? "null" : rnd(2) ? "\"a\"" : "\"b\"");
            else if (k == 2)
                snprintf(vs[s], sizeof vs[s], "[%u,%u]", rnd(3), rnd(3));
            else
                snprintf(vs[s], sizeof vs[s], "%s", k == 0 ? "null" : reg_vals[1 + rnd(3)]);
            snprintf(fs[s], sizeof fs[s], "%s", f);
            hb_ev(h, proc[s], HIST_INVOKE, f, "k", vs[s]);
            pending[s] = 1;
        } else {
            int r = (int)rnd(10);
            if (strcmp(fs[s], "read") == 0) {
                const char *v = kv ? kv_vals[rnd(7)] : reg_vals[rnd(4)];
                hb_ev(h, proc[s], r < 8 ? HIST_OK : HIST_FAIL, "read", "k", r < 8 ? v : NULL);
            } else {
                int t = r < 6 ? HIST_OK : r < 8 ? HIST_INFO : HIST_FAIL;
                hb_ev(h, proc[s], t, fs[s], "k", vs[s]);
                if (t == HIST_INFO)
                    proc[s] = next_proc++; /* Jepsen retires a crashed process */
            }
            pending[s] = 0;
        }
        if (started >= nmax && !pending[0] && !pending[1] && !pending[2])
            break;
    }
}

/* The search against the brute force: linearizability (real-time order),
 * or sequential consistency (process order; one key, so the per-key and
 * whole-history answers are the same, and with no budget given the answer
 * must never be unknown). */
static void agree(bool kv, bool appends, int rounds, int nmax, bool seq)
{
    const char *model = kv ? "kv" : "cas-register";
    int counts[3] = {0, 0, 0};
    for (int i = 0; i < rounds; i++) {
        history h;
        history_init(&h);
        random_history(&h, kv, appends, nmax);
        int want = brute_force(&h, model, seq);
        int got = hb_check(&h, model, seq ? CHECK_SEQUENTIAL : CHECK_LINEARIZABLE, 0, NULL);
        if (got != want) {
            history_write_jsonl(stderr, &h);
            fail_msg("round %d: %s search says %d, brute force %d", i, seq ? "sequential" : "linearizability",
                     got, want);
        }
        counts[want]++;
        history_free(&h);
    }
    /* both answers must be well represented, or the test proves little */
    assert_true(counts[0] > rounds / 20 && counts[1] > rounds / 20);
}

static void test_bruteforce_register(void **s) { (void)s; agree(false, false, 4000, 6, false); }
static void test_bruteforce_kv(void **s) { (void)s; agree(true, true, 3000, 6, false); }
static void test_bruteforce_kv_delete(void **s) { (void)s; agree(true, false, 3000, 6, false); }
static void test_bruteforce_seq_register(void **s) { (void)s; agree(false, false, 4000, 8, true); }
static void test_bruteforce_seq_kv(void **s) { (void)s; agree(true, true, 4000, 8, true); }
static void test_bruteforce_seq_kv_delete(void **s) { (void)s; agree(true, false, 3000, 8, true); }

/* ---- a simulated concurrent register: linearizable by construction ---- */

static void simulated(history *h, int nproc, int nops, bool corrupt)
{
    long proc[16];
    int phase[16] = {0}; /* 0 idle, 1 invoked, 2 took effect */
    char f[16][8], v[16][48], res[16][24];
    long reg = -1, next_val = 0, next_proc = nproc;
    int started = 0, reads = 0;
    for (int p = 0; p < nproc; p++)
        proc[p] = p;
    for (;;) {
        bool busy = false;
        for (int p = 0; p < nproc; p++)
            busy |= phase[p] != 0;
        if (started >= nops && !busy)
            break;
        int p = (int)rnd((uint32_t)nproc);
        if (phase[p] == 0) {
            if (started >= nops)
                continue;
            started++;
            int k = (int)rnd(3);
            snprintf(f[p], sizeof f[p], "%s", k == 0 ? "read" : k == 1 ? "write" : "cas");
            if (k == 0)
                snprintf(v[p], sizeof v[p], "null");
            else if (k == 1)
                snprintf(v[p], sizeof v[p], "%ld", next_val++);
            else
                snprintf(v[p], sizeof v[p], "[%ld,%ld]", rnd(2) && reg >= 0 ? reg : (next_val ? next_val - 1 : 0), next_val), next_val++;
            hb_ev(h, proc[p], HIST_INVOKE, f[p], "r", v[p]);
            phase[p] = 1;
        } else if (phase[p] == 1) { /* the linearization point */
            if (f[p][0] == 'r') {
                if (reg < 0)
                    snprintf(res[p], sizeof res[p], "null");
                else
                    snprintf(res[p], sizeof res[p], "%ld", reg);
            } else if (f[p][0] == 'w') {
                reg = atol(v[p]);
                snprintf(res[p], sizeof res[p], "ok");
            } else {
                long a, b;
                sscanf(v[p], "[%ld,%ld]", &a, &b);
                snprintf(res[p], sizeof res[p], "%s", reg == a ? "ok" : "fail");
                if (reg == a)
                    reg = b;
            }
            phase[p] = 2;
        } else {
            if (f[p][0] == 'r') {
                reads++;
                bool bad = corrupt && reads == 3;
                hb_ev(h, proc[p], HIST_OK, "read", "r", bad ? "99999" : res[p]);
            } else if (rnd(8) == 0) { /* a timeout: it happened, the client cannot know */
                hb_ev(h, proc[p], HIST_INFO, f[p], "r", v[p]);
                proc[p] = next_proc++;
            } else {
                hb_ev(h, proc[p], strcmp(res[p], "ok") == 0 ? HIST_OK : HIST_FAIL, f[p], "r", v[p]);
            }
            phase[p] = 0;
        }
    }
}

static void test_simulated_register(void **s)
{
    (void)s;
    for (int i = 0; i < 60; i++) {
        history h;
        history_init(&h);
        simulated(&h, 2 + i % 6, 60 + i * 4, false);
        assert_int_equal(hb_check(&h, "cas-register", CHECK_LINEARIZABLE | CHECK_SEQUENTIAL, 0, NULL), 0);
        history_free(&h);
        history_init(&h);
        simulated(&h, 2 + i % 6, 60 + i * 4, true);
        json_t *r = NULL;
        assert_int_equal(hb_check(&h, "cas-register", CHECK_LINEARIZABLE | CHECK_EVENTUAL, 0, &r), 1);
        json_t *ev = json_object_get(json_object_get(r, "checks"), "eventual");
        assert_int_equal(json_integer_value(json_object_get(ev, "thin_air_count")), 1);
        json_decref(r);
        history_free(&h);
    }
}

/* ---- sequential consistency ---- */

static void test_sequential(void **s)
{
    (void)s;
    history h;
    json_t *r = NULL;
    /* a stale read: not linearizable, sequentially consistent */
    history_init(&h);
    hb_ev(&h, 0, HIST_INVOKE, "write", "x", "1");
    hb_ev(&h, 0, HIST_OK, "write", "x", "1");
    hb_ev(&h, 1, HIST_INVOKE, "read", "x", "null");
    hb_ev(&h, 1, HIST_OK, "read", "x", "null");
    assert_int_equal(hb_check(&h, "register", CHECK_LINEARIZABLE | CHECK_SEQUENTIAL, 0, &r), 1);
    assert_string_equal(json_string_value(json_object_get(r, "strongest")), "sequential");
    json_decref(r);
    history_free(&h);
    /* p1 sees 2 then 1 while p0 wrote 1 then 2: not sequential */
    history_init(&h);
    hb_ev(&h, 0, HIST_INVOKE, "write", "x", "1");
    hb_ev(&h, 0, HIST_OK, "write", "x", "1");
    hb_ev(&h, 0, HIST_INVOKE, "write", "x", "2");
    hb_ev(&h, 0, HIST_OK, "write", "x", "2");
    hb_ev(&h, 1, HIST_INVOKE, "read", "x", "null");
    hb_ev(&h, 1, HIST_OK, "read", "x", "2");
    hb_ev(&h, 1, HIST_INVOKE, "read", "x", "null");
    hb_ev(&h, 1, HIST_OK, "read", "x", "1");
    assert_int_equal(hb_check(&h, "register", CHECK_SEQUENTIAL, 0, NULL), 1);
    history_free(&h);
    /* per key fine, whole history not (each process misses the other's write) */
    history_init(&h);
    hb_ev(&h, 0, HIST_INVOKE, "write", "x", "1");
    hb_ev(&h, 0, HIST_OK, "write", "x", "1");
    hb_ev(&h, 1, HIST_INVOKE, "write", "y", "1");
    hb_ev(&h, 1, HIST_OK, "write", "y", "1");
    hb_ev(&h, 0, HIST_INVOKE, "read", "y", "null");
    hb_ev(&h, 0, HIST_OK, "read", "y", "null");
    hb_ev(&h, 1, HIST_INVOKE, "read", "x", "null");
    hb_ev(&h, 1, HIST_OK, "read", "x", "null");
    assert_int_equal(hb_check(&h, "register", CHECK_SEQUENTIAL, 0, &r), 1);
    json_t *seq = json_object_get(json_object_get(r, "checks"), "sequential");
    assert_true(json_is_true(json_object_get(json_object_get(seq, "per_key"), "valid")));
    assert_true(json_is_false(json_object_get(json_object_get(seq, "whole"), "valid")));
    json_decref(r);
    history_free(&h);
    /* a stale read on x (not linearizable, so the whole history needs a
     * search) and a write on y: with a budget of one step the whole-history
     * answer is unknown (exit 2), while the per-key answer ignores the
     * budget and is given */
    history_init(&h);
    hb_ev(&h, 0, HIST_INVOKE, "write", "x", "1");
    hb_ev(&h, 0, HIST_OK, "write", "x", "1");
    hb_ev(&h, 1, HIST_INVOKE, "read", "x", "null");
    hb_ev(&h, 1, HIST_OK, "read", "x", "null");
    hb_ev(&h, 2, HIST_INVOKE, "write", "y", "1");
    hb_ev(&h, 2, HIST_OK, "write", "y", "1");
    assert_int_equal(hb_check(&h, "register", CHECK_SEQUENTIAL, 1, &r), 2);
    seq = json_object_get(json_object_get(r, "checks"), "sequential");
    assert_true(json_is_true(json_object_get(json_object_get(seq, "per_key"), "valid")));
    assert_non_null(json_object_get(json_object_get(seq, "whole"), "reason"));
    json_decref(r);
    assert_int_equal(hb_check(&h, "register", CHECK_SEQUENTIAL, 0, NULL), 0);
    history_free(&h);
}

static void test_budget_unknown(void **s)
{
    (void)s;
    history h;
    history_init(&h);
    simulated(&h, 5, 200, false);
    json_t *r = NULL;
    assert_int_equal(hb_check(&h, "cas-register", CHECK_LINEARIZABLE, 1, &r), 2);
    json_t *lin = json_object_get(json_object_get(r, "checks"), "linearizable");
    assert_string_equal(json_string_value(json_object_get(lin, "valid")), "unknown");
    assert_non_null(json_object_get(lin, "reason"));
    assert_true(json_is_null(json_object_get(r, "strongest")));
    json_decref(r);
    history_free(&h);
}

/* ---- eventual consistency ---- */

static void timed(history *h, long p, int type, const char *f, const char *v, int64_t ms)
{
    hb_ev(h, p, type, f, "x", v);
    h->ev[h->nev - 1].time = ms * 1000000;
}

static void test_eventual(void **s)
{
    (void)s;
    history h;
    history_init(&h);
    timed(&h, 0, HIST_INVOKE, "write", "1", 0);
    timed(&h, 0, HIST_OK, "write", "1", 10);
    timed(&h, 0, HIST_INVOKE, "write", "2", 20);
    timed(&h, 0, HIST_OK, "write", "2", 30);
    timed(&h, 1, HIST_INVOKE, "read", "null", 40);
    timed(&h, 1, HIST_OK, "read", "2", 45);
    timed(&h, 1, HIST_INVOKE, "read", "null", 50); /* stale by 20 ms, 1 version; goes backwards */
    timed(&h, 1, HIST_OK, "read", "1", 55);
    timed(&h, 0, HIST_INVOKE, "read", "null", 60); /* p0 misses its own write */
    timed(&h, 0, HIST_OK, "read", "1", 65);
    timed(&h, 2, HIST_INVOKE, "read", "null", 70); /* final reads: 2 and 1 disagree */
    timed(&h, 2, HIST_OK, "read", "2", 75);
    json_t *r = NULL;
    assert_int_equal(hb_check(&h, "register", CHECK_EVENTUAL, 0, &r), 1);
    json_t *ev = json_object_get(json_object_get(r, "checks"), "eventual");
    json_t *st = json_object_get(ev, "stale_reads");
    assert_int_equal(json_integer_value(json_object_get(st, "count")), 2);
    assert_true(json_real_value(json_object_get(json_object_get(st, "age_ms"), "max")) == 30.0);
    assert_true(json_real_value(json_object_get(json_object_get(st, "versions"), "max")) == 1.0);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(ev, "monotonic_reads"), "1")), 1);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(ev, "read_your_writes"), "0")), 1);
    assert_int_equal(json_integer_value(json_object_get(ev, "thin_air_count")), 0);
    assert_true(json_array_size(json_object_get(json_object_get(ev, "convergence"), "diverged")) > 0);
    json_decref(r);
    history_free(&h);
    /* converged, nothing stale: valid */
    history_init(&h);
    timed(&h, 0, HIST_INVOKE, "write", "1", 0);
    timed(&h, 0, HIST_OK, "write", "1", 10);
    timed(&h, 1, HIST_INVOKE, "read", "null", 20);
    timed(&h, 1, HIST_OK, "read", "1", 25);
    timed(&h, 2, HIST_INVOKE, "read", "null", 30);
    timed(&h, 2, HIST_OK, "read", "1", 35);
    assert_int_equal(hb_check(&h, "register", CHECK_EVENTUAL | CHECK_LINEARIZABLE, 0, &r), 0);
    assert_string_equal(json_string_value(json_object_get(r, "strongest")), "linearizable");
    json_decref(r);
    history_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bruteforce_register), cmocka_unit_test(test_bruteforce_seq_register),
        cmocka_unit_test(test_bruteforce_seq_kv), cmocka_unit_test(test_bruteforce_kv),
        cmocka_unit_test(test_bruteforce_kv_delete), cmocka_unit_test(test_bruteforce_seq_kv_delete),
        cmocka_unit_test(test_simulated_register),  cmocka_unit_test(test_sequential),
        cmocka_unit_test(test_budget_unknown),      cmocka_unit_test(test_eventual),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
