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

/* Its own model, written plainly and independently of checker/model_*.c
 * (so reductions inside the models, such as kv's dead strings, are tested
 * too): register states are value ids; kv states are strings kept in a
 * small table (0 = null, i + 1 = bf_str[i]). */
enum { BF_MAX = 1 << 16 };
static char bf_str[BF_MAX][64];
static uint32_t bf_slot[BF_MAX * 2]; /* open addressing: index + 1 into bf_str */
static size_t bf_nstr;

static uint64_t bf_intern(const char *str)
{
    uint64_t hs = 1469598103934665603ULL;
    for (const char *c = str; *c; c++)
        hs = (hs ^ (unsigned char)*c) * 1099511628211ULL;
    size_t i = hs & (BF_MAX * 2 - 1);
    for (; bf_slot[i]; i = (i + 1) & (BF_MAX * 2 - 1))
        if (strcmp(bf_str[bf_slot[i] - 1], str) == 0)
            return bf_slot[i];
    assert_true(bf_nstr < BF_MAX && strlen(str) < sizeof bf_str[0]);
    snprintf(bf_str[bf_nstr], sizeof bf_str[0], "%s", str);
    bf_slot[i] = (uint32_t)++bf_nstr;
    return bf_nstr;
}

/* A string value as a C string (the table's bytes need not end in NUL). */
static const char *bf_string(const history *h, uint32_t v)
{
    static char buf[64];
    assert_int_equal(h->vals[v].kind, HIST_V_STRING);
    assert_true(h->vals[v].slen < sizeof buf);
    memcpy(buf, h->vals[v].str, h->vals[v].slen);
    buf[h->vals[v].slen] = 0;
    return buf;
}

static bool bf_step(const history *h, bool kv, uint64_t s, const hist_op *o, uint64_t *nx)
{
    *nx = s;
    if (!kv) {
        if (o->f == HIST_F_READ)
            return o->type != HIST_OK || o->ret == s;
        if (o->f == HIST_F_WRITE)
            *nx = o->arg;
        if (o->f == HIST_F_CAS && s == o->arg)
            *nx = o->arg2;
        return o->f != HIST_F_CAS || o->type != HIST_OK || s == o->arg;
    }
    char buf[64];
    switch (o->f) {
    case HIST_F_READ:
        if (o->type != HIST_OK)
            return true;
        if (o->ret == HIST_NULL)
            return s == 0;
        return s != 0 && strcmp(bf_str[s - 1], bf_string(h, o->ret)) == 0;
    case HIST_F_WRITE:
        *nx = bf_intern(bf_string(h, o->arg));
        return true;
    case HIST_F_DELETE:
        *nx = 0;
        return true;
    case HIST_F_APPEND:
        snprintf(buf, sizeof buf, "%s%s", s ? bf_str[s - 1] : "", bf_string(h, o->arg));
        *nx = bf_intern(buf);
        return true;
    default:
        fail_msg("brute force: unexpected f %d", o->f);
        return false;
    }
}

typedef struct bf {
    const history *h;
    const hist_op *ops;
    uint32_t *idx;
    size_t n;
    bool kv;
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
        /* two keys at most: "k" in the low 32 bits of state, "j" in the high */
        bool hi = b->h->vals[o->key].slen == 1 && b->h->vals[o->key].str[0] == 'j';
        uint64_t nx, mine = hi ? state >> 32 : state & 0xffffffffu;
        if (!blocked && bf_step(b->h, b->kv, mine, o, &nx) &&
            bf_search(b, placed | 1u << i, hi ? (state & 0xffffffffu) | nx << 32 : (state & ~0xffffffffULL) | nx))
            return true;
    }
    return false;
}

static int brute_force(const history *h, bool kv, bool seq)
{
    hist_op *ops;
    size_t nops;
    char err[128];
    assert_int_equal(history_ops(h, &ops, &nops, err, sizeof err), 0);
    bf b = {h, ops, malloc((nops + 1) * sizeof(uint32_t)), 0, kv, seq};
    for (size_t i = 0; i < nops; i++)
        if (ops[i].type != HIST_FAIL && !(ops[i].f == HIST_F_READ && ops[i].type != HIST_OK))
            b.idx[b.n++] = (uint32_t)i;
    bf_nstr = 0;
    memset(bf_slot, 0, sizeof bf_slot);
    assert_int_equal(h->initial, HIST_NULL); /* kv: state 0 */
    bool ok = bf_search(&b, 0, kv ? 0 : (uint64_t)HIST_NULL << 32 | HIST_NULL);
    free(b.idx);
    free(ops);
    return ok ? 0 : 1;
}

/* A random tiny history of one key: 3 client slots, up to nmax ops, random
 * results (so about half are not linearizable), ok/info/fail outcomes, and
 * sometimes ops left pending at the end. kv uses appends and strings. */
static void random_history(history *h, bool kv, bool appends, int nmax, bool two_keys)
{
    const char *key[3] = {"k", "k", "k"};
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
            key[s] = two_keys && rnd(2) ? "j" : "k";
            hb_ev(h, proc[s], HIST_INVOKE, f, key[s], vs[s]);
            pending[s] = 1;
        } else {
            int r = (int)rnd(10);
            if (strcmp(fs[s], "read") == 0) {
                const char *v = kv ? kv_vals[rnd(7)] : reg_vals[rnd(4)];
                hb_ev(h, proc[s], r < 8 ? HIST_OK : HIST_FAIL, "read", key[s], r < 8 ? v : NULL);
            } else {
                int t = r < 6 ? HIST_OK : r < 8 ? HIST_INFO : HIST_FAIL;
                hb_ev(h, proc[s], t, fs[s], key[s], vs[s]);
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
static void agree_model(const char *model, bool kv, bool appends, int rounds, int nmax, bool seq,
                        bool two_keys)
{
    int counts[3] = {0, 0, 0};
    for (int i = 0; i < rounds; i++) {
        history h;
        history_init(&h);
        random_history(&h, kv, appends, nmax, two_keys);
        int want = brute_force(&h, kv, seq);
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

static void agree(bool kv, bool appends, int rounds, int nmax, bool seq, bool two_keys)
{
    agree_model(kv ? "kv" : "cas-register", kv, appends, rounds, nmax, seq, two_keys);
}

static void test_bruteforce_register(void **s) { (void)s; agree(false, false, 4000, 6, false, false); }
static void test_bruteforce_kv(void **s) { (void)s; agree(true, true, 3000, 6, false, false); }
static void test_bruteforce_kv_delete(void **s) { (void)s; agree(true, false, 3000, 6, false, false); }
static void test_bruteforce_seq_register(void **s) { (void)s; agree(false, false, 4000, 8, true, false); }
static void test_bruteforce_seq_kv(void **s) { (void)s; agree(true, true, 4000, 8, true, false); }
static void test_bruteforce_seq_kv_delete(void **s) { (void)s; agree(true, false, 3000, 8, true, false); }
/* The kv model on integer register histories (riftlab's own runs): its
 * dead integers (model_kv.c) against the plain register brute force. */
static void test_bruteforce_kv_ints(void **s) { (void)s; agree_model("kv", false, false, 4000, 6, false, false); }
static void test_bruteforce_seq_kv_ints(void **s) { (void)s; agree_model("kv", false, false, 4000, 8, true, false); }
/* Two keys: the whole-history sequential search (the exit code is its
 * verdict) against the brute force over both keys at once. */
static void test_bruteforce_seq_two_keys(void **s)
{
    (void)s;
    agree(false, false, 3000, 8, true, true);
    agree(true, true, 3000, 8, true, true);
}

/* Porcupine-like kv histories for the sequential search: unique appended
 * values, puts, several reads per process, 4 processes. A random order of
 * the ops is run on a string (so reads see what that order gives: a
 * witness), then half the time one read is changed to another read's value
 * or to a prefix of what it saw; events are written in another random
 * interleaving (real time does not matter to sequential consistency). Some
 * writes end in info (process retired). Larger than the tiny histories, so
 * the reductions that need several reads and appends per process
 * (anchors, pieces, dead strings, killers) get exercised. */
static void porcupine_like(history *h, int nops)
{
    enum { NP = 4 };
    char vals[16][64], state[512] = "", seen[16][512];
    int proc_of[16], f_of[16], nread = 0, read_at[16];
    for (int i = 0, napp = 0; i < nops; i++) {
        proc_of[i] = (int)rnd(NP);
        int k = (int)rnd(10);
        f_of[i] = k < 4 ? 0 : k < 9 ? 1 : 2; /* get, append, put */
        if (f_of[i] == 1 && ++napp > 5)
            f_of[i] = 0; /* the brute force tries every order of the appends */
        snprintf(vals[i], sizeof vals[i], "%c%d", "xyz"[f_of[i]], i % 100);
    }
    /* the witness: run the ops in index order (each process's ops are in
     * index order too) */
    for (int i = 0; i < nops; i++) {
        if (f_of[i] == 0) {
            snprintf(seen[i], sizeof seen[i], "%s", state);
            read_at[nread++] = i;
        } else if (f_of[i] == 1) {
            strcat(state, vals[i]); /* at most 12 values of <= 4 bytes */
        } else {
            strcpy(state, vals[i]);
        }
    }
    if (nread > 0 && rnd(2)) { /* corrupt one read */
        int i = read_at[rnd((uint32_t)nread)], j = read_at[rnd((uint32_t)nread)];
        if (rnd(2))
            memmove(seen[i], seen[j], sizeof seen[i]);
        else
            seen[i][strlen(seen[i]) / 2] = 0;
    }
    /* emit: repeatedly pick a process and emit its next op */
    int next[NP] = {0};
    long pid[NP] = {0, 1, 2, 3}, fresh = NP;
    for (int left = nops; left > 0;) {
        int p = (int)rnd(NP), i = next[p];
        while (i < nops && proc_of[i] != p)
            i++;
        if (i >= nops)
            continue;
        next[p] = i + 1;
        left--;
        char v[600];
        const char *f = f_of[i] == 0 ? "read" : f_of[i] == 1 ? "append" : "write";
        snprintf(v, sizeof v, "\"%s\"", f_of[i] == 0 ? seen[i] : vals[i]);
        hb_ev(h, pid[p], HIST_INVOKE, f, "k", f_of[i] == 0 ? "null" : v);
        bool info = f_of[i] != 0 && rnd(12) == 0;
        hb_ev(h, pid[p], info ? HIST_INFO : HIST_OK, f, "k", v);
        if (info)
            pid[p] = fresh++;
    }
}

static void test_bruteforce_seq_porcupine_like(void **s)
{
    (void)s;
    int counts[3] = {0, 0, 0};
    for (int i = 0; i < 1500; i++) {
        history h;
        history_init(&h);
        porcupine_like(&h, 8 + (int)rnd(5));
        int want = brute_force(&h, true, true);
        int got = hb_check(&h, "kv", CHECK_SEQUENTIAL, 0, NULL);
        if (got != want) {
            history_write_jsonl(stderr, &h);
            fail_msg("round %d: sequential search says %d, brute force %d", i, got, want);
        }
        counts[want]++;
        history_free(&h);
    }
    assert_true(counts[0] > 1500 / 10 && counts[1] > 1500 / 10);
}

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

/* p1 reads x as null after p0's write of 1 completed: a stale read */
static void stale_read(history *h)
{
    hb_ev(h, 0, HIST_INVOKE, "write", "x", "1");
    hb_ev(h, 0, HIST_OK, "write", "x", "1");
    hb_ev(h, 1, HIST_INVOKE, "read", "x", "null");
    hb_ev(h, 1, HIST_OK, "read", "x", "null");
}

static void test_sequential(void **s)
{
    (void)s;
    history h;
    json_t *r = NULL;
    /* a stale read: not linearizable, sequentially consistent */
    history_init(&h);
    stale_read(&h);
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
    stale_read(&h);
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
        cmocka_unit_test(test_bruteforce_seq_kv), cmocka_unit_test(test_bruteforce_seq_porcupine_like),
        cmocka_unit_test(test_bruteforce_seq_two_keys),
        cmocka_unit_test(test_bruteforce_kv),
        cmocka_unit_test(test_bruteforce_kv_delete), cmocka_unit_test(test_bruteforce_seq_kv_delete),
        cmocka_unit_test(test_bruteforce_kv_ints),
        cmocka_unit_test(test_bruteforce_seq_kv_ints),
        cmocka_unit_test(test_simulated_register),  cmocka_unit_test(test_sequential),
        cmocka_unit_test(test_budget_unknown),      cmocka_unit_test(test_eventual),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
