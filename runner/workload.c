/* workload.c: the client threads (see workload.h): register and kv
 * operations (read / write / cas / delete by the scenario's mix) and the
 * lease workload (a lock by SET NX PX, read-modify-write of a shared
 * counter, unfenced SET or fenced CAS, release by DEL). */
#define _GNU_SOURCE
#include "workload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/prng.h"

#define NS_MS 1000000ull
#define PRNG_STREAM_CLIENT 0x10000u

typedef struct wclient {
    run *r;
    workload *w;
    int idx;
    int process;
    prng p;
    rclient c;
    int node;                  /* node this client talks to now */
    int connected_fd;          /* fd when CONSISTENCY was last sent */
    atomic_ullong pause_ns;    /* lease: a pending client pause */
    atomic_int holding;        /* lease: holds the lock now */
    int64_t writes;            /* writes issued (unique values) */
    pthread_t t;
} wclient;

struct workload {
    run *r;
    atomic_ullong pending_pause;   /* lease: pause the next client to take the lock */
    uint64_t until_ns;
    int n;
    wclient *c;
};

enum wl_op workload_pick_op(const scenario *s, double u)
{
    if (u < s->workload.mix_read)
        return WL_READ;
    u -= s->workload.mix_read;
    if (u < s->workload.mix_write)
        return WL_WRITE;
    u -= s->workload.mix_write;
    if (u < s->workload.mix_cas || s->workload.mix_delete <= 0)
        return WL_CAS;
    return WL_DELETE;
}

long workload_redirect(const char *err)
{
    if (!err)
        return -1;
    const char *p = NULL;
    if (!strncmp(err, "NOTLEADER", 9))
        p = err + 9;
    else if (!strncmp(err, "NOTHEAD", 7) || !strncmp(err, "NOTTAIL", 7))
        p = err + 7;
    if (!p)
        return -1;
    while (*p == ' ')
        p++;
    char *end;
    long id = strtol(p, &end, 10);
    if (end == p)
        return 0;
    return id < 0 ? 0 : id;
}

static const char *consistency_of(const scenario *s)
{
    return scn_read_name(s->system.read);
}

static void sleep_ns(uint64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull)};
    nanosleep(&ts, NULL);
}

static int initial_node(wclient *c)
{
    run *r = c->r;
    switch (r->s->workload.target) {
    case SCN_CLIENT_PINNED: return c->idx % r->nnodes;
    case SCN_CLIENT_RANDOM: return (int)prng_below(&c->p, (uint64_t)r->nnodes);
    default: {
        int l = atomic_load(&r->leader);
        return l >= 0 ? l : c->idx % r->nnodes;
    }
    }
}

/* One request with redirects. Returns an rclient result; on OK the reply is
 * in *v. A redirect (or an unknown leader) retries until the deadline. */
static int request(wclient *c, uint64_t deadline, resp_value *v, int argc, const char **argv)
{
    run *r = c->r;
    for (int hop = 0;; hop++) {
        uint64_t now = mono_now_ns();
        if (now >= deadline)
            return hop ? RCLIENT_NOTSENT : RCLIENT_TIMEOUT;
        run_node *n = &r->nodes[c->node];
        rclient_retarget(&c->c, n->addr, n->client_port);
        if (c->c.fd < 0 || c->c.fd != c->connected_fd) {
            /* Fresh connection: set its read mode first (nothing is executed yet). */
            resp_value m;
            const char *cargv[] = {"CONSISTENCY", consistency_of(r->s)};
            int rc = rclient_call(&c->c, deadline - now, &m, 2, cargv);
            if (rc != RCLIENT_OK) {
                if (r->s->workload.target == SCN_CLIENT_LEADER || r->s->workload.target == SCN_CLIENT_RANDOM)
                    c->node = (c->node + 1) % r->nnodes;   /* try another node */
                if (rc == RCLIENT_NOTSENT)
                    sleep_ns(20 * NS_MS);
                if (mono_now_ns() >= deadline)
                    return RCLIENT_NOTSENT;
                continue;
            }
            resp_value_free(&m);
            c->connected_fd = c->c.fd;
        }
        int rc = rclient_call(&c->c, deadline - mono_now_ns(), v, argc, argv);
        if (rc != RCLIENT_OK)
            return rc;
        long to = v->type == RESP_ERROR ? workload_redirect(v->str) : -1;
        if (to < 0 || r->s->workload.target == SCN_CLIENT_PINNED || hop >= 8)
            return RCLIENT_OK;
        /* Proven not executed: follow the redirect and try again. */
        resp_value_free(v);
        int idx = cluster_node_by_id(r, to);
        if (idx >= 0) {
            c->node = idx;
            atomic_store(&r->leader, idx);
        } else {
            c->node = (c->node + 1) % r->nnodes;
            sleep_ns(50 * NS_MS);   /* election running: give it a moment */
        }
    }
}

/* Value of a GET reply as JSON (integers stay integers). */
static json_t *reply_value(const resp_value *v)
{
    if (v->type != RESP_BULK)
        return json_null();
    char *end;
    long long x = strtoll(v->str, &end, 10);
    return (*end || !v->len) ? json_string(v->str) : json_integer(x);
}

/* Complete op from an rclient result + reply. `ok_fn` decides for a normal reply. */
typedef int (*judge_fn)(const resp_value *v, json_t **value, const char **error);

static void finish(wclient *c, size_t op, int rc, resp_value *v, judge_fn judge, int64_t written)
{
    run *r = c->r;
    char node[16];
    snprintf(node, sizeof node, "n%d", c->node + 1);
    if (rc == RCLIENT_NOTSENT) {
        hrec_complete(&r->h, op, HREC_FAIL, NULL, NULL, "unreachable", INT64_MIN);
        return;
    }
    if (rc != RCLIENT_OK) {
        hrec_complete(&r->h, op, HREC_INFO, NULL, node,
                      rc == RCLIENT_TIMEOUT ? "timeout" : "connection lost", INT64_MIN);
        c->process += r->s->workload.clients;   /* an info ends the process */
        return;
    }
    if (v->type == RESP_ERROR) {
        long redir = workload_redirect(v->str);
        /* A redirect, -BUSY or -NOTREADY proves nothing happened; anything
         * else (-TIMEOUT, -ERR) may have. */
        if (redir >= 0 || !strncmp(v->str, "BUSY", 4) || !strncmp(v->str, "NOTREADY", 8))
            hrec_complete(&r->h, op, HREC_FAIL, NULL, node, v->str, INT64_MIN);
        else {
            hrec_complete(&r->h, op, HREC_INFO, NULL, node, v->str, INT64_MIN);
            c->process += r->s->workload.clients;
        }
        resp_value_free(v);
        return;
    }
    json_t *value = NULL;
    const char *error = NULL;
    int type = judge(v, &value, &error);
    hrec_complete(&r->h, op, type, value, node, error, type == HREC_OK ? written : INT64_MIN);
    resp_value_free(v);
}

static int judge_read(const resp_value *v, json_t **value, const char **error)
{
    (void)error;
    *value = reply_value(v);
    return HREC_OK;
}

static int judge_done(const resp_value *v, json_t **value, const char **error)
{
    (void)value;
    if (v->type == RESP_NIL) {   /* SET NX/XX not met */
        *error = "precondition";
        return HREC_FAIL;
    }
    return HREC_OK;
}

static int judge_cas(const resp_value *v, json_t **value, const char **error)
{
    (void)value;
    if (v->type == RESP_INTEGER && v->integer == 1)
        return HREC_OK;
    *error = "precondition";
    return HREC_FAIL;
}

static void register_op(wclient *c)
{
    run *r = c->r;
    const scenario *s = r->s;
    char key[24], a[24], b[24];
    run_key_name((int)prng_below(&c->p, (uint64_t)s->workload.keys), key, sizeof key);
    uint64_t deadline = mono_now_ns() + s->workload.timeout_ns;
    resp_value v;
    int64_t x = (int64_t)prng_below(&c->p, 5), y = (int64_t)prng_below(&c->p, 5);
    /* Without CAS nothing needs values to collide: every write gets a value
     * of its own, so a read names the write it saw and the checkers' search
     * stays small. With CAS, small values (0..4) let CAS succeed often. */
    if (s->workload.mix_cas <= 0)
        x = 5 + (int64_t)c->idx + (int64_t)s->workload.clients * (int64_t)c->writes++;
    snprintf(a, sizeof a, "%lld", (long long)x);
    snprintf(b, sizeof b, "%lld", (long long)y);
    const char *mode = consistency_of(s);
    switch (workload_pick_op(s, prng_double(&c->p))) {
    case WL_READ: {
        size_t op = hrec_invoke(&r->h, c->process, "read", key, NULL, mode, 0);
        const char *argv[] = {"GET", key};
        int rc = request(c, deadline, &v, 2, argv);
        finish(c, op, rc, &v, judge_read, INT64_MIN);
        break;
    }
    case WL_WRITE: {
        size_t op = hrec_invoke(&r->h, c->process, "write", key, json_integer(x), mode, 0);
        const char *argv[] = {"SET", key, a};
        int rc = request(c, deadline, &v, 3, argv);
        finish(c, op, rc, &v, judge_done, x);
        break;
    }
    case WL_CAS: {
        json_t *pair = json_pack("[II]", (json_int_t)x, (json_int_t)y);
        size_t op = hrec_invoke(&r->h, c->process, "cas", key, pair, mode, 0);
        const char *argv[] = {"CAS", key, a, b};
        int rc = request(c, deadline, &v, 4, argv);
        finish(c, op, rc, &v, judge_cas, y);
        break;
    }
    case WL_DELETE: {
        size_t op = hrec_invoke(&r->h, c->process, "delete", key, NULL, mode, 0);
        const char *argv[] = {"DEL", key};
        int rc = request(c, deadline, &v, 2, argv);
        finish(c, op, rc, &v, judge_done, INT64_MIN);
        break;
    }
    }
}

/* Lease workload: one round of lock, read, (hold), write, release. */
static void lease_round(wclient *c)
{
    run *r = c->r;
    const scenario *s = r->s;
    const char *mode = consistency_of(s);
    char token[32], ms[24];
    snprintf(token, sizeof token, "c%d-p%d", c->idx, c->process);
    snprintf(ms, sizeof ms, "%llu", (unsigned long long)(s->workload.lease_ns / NS_MS));
    resp_value v;
    size_t op = hrec_invoke(&r->h, c->process, "acquire", "lock", json_string(token), mode, 0);
    const char *acq[] = {"SET", "lock", token, "NX", "PX", ms};
    int rc = request(c, mono_now_ns() + s->workload.timeout_ns, &v, 6, acq);
    int got = rc == RCLIENT_OK && v.type == RESP_SIMPLE;
    int proc_before = c->process;
    finish(c, op, rc, &v, judge_done, INT64_MIN);
    if (!got || c->process != proc_before)
        return;
    atomic_store(&c->holding, 1);
    uint64_t pend = atomic_exchange(&c->w->pending_pause, 0);
    if (pend)
        atomic_store(&c->pause_ns, pend);
    op = hrec_invoke(&r->h, c->process, "read", "counter", NULL, mode, 0);
    const char *get[] = {"GET", "counter"};
    rc = request(c, mono_now_ns() + s->workload.timeout_ns, &v, 2, get);
    long long cur = 0;
    int have = rc == RCLIENT_OK && (v.type == RESP_BULK || v.type == RESP_NIL);
    if (have && v.type == RESP_BULK)
        cur = strtoll(v.str, NULL, 10);
    finish(c, op, rc, &v, judge_read, INT64_MIN);
    if (have && c->process == proc_before) {
        sleep_ns(s->workload.hold_ns);
        uint64_t pause = atomic_exchange(&c->pause_ns, 0);
        if (pause)
            sleep_ns(pause);   /* the client's "GC pause": its lease may expire meanwhile */
        char old[24], nw[24];
        snprintf(old, sizeof old, "%lld", cur);
        snprintf(nw, sizeof nw, "%lld", cur + 1);
        uint64_t dl = mono_now_ns() + s->workload.timeout_ns;
        if (s->workload.fenced) {
            /* Fenced: the write only lands if the counter is still what we read. */
            /* The runner sets the counter to 0 before the clients start. */
            json_t *pair = json_pack("[II]", (json_int_t)cur, (json_int_t)(cur + 1));
            op = hrec_invoke(&r->h, c->process, "cas", "counter", pair, mode, 0);
            const char *cas[] = {"CAS", "counter", old, nw};
            rc = request(c, dl, &v, 4, cas);
            finish(c, op, rc, &v, judge_cas, cur + 1);
        } else {
            op = hrec_invoke(&r->h, c->process, "write", "counter", json_integer(cur + 1), mode, 0);
            const char *set[] = {"SET", "counter", nw};
            rc = request(c, dl, &v, 3, set);
            finish(c, op, rc, &v, judge_done, cur + 1);
        }
    }
    atomic_store(&c->holding, 0);
    if (c->process != proc_before)
        return;
    op = hrec_invoke(&r->h, c->process, "release", "lock", json_string(token), mode, 0);
    const char *del[] = {"DEL", "lock"};
    rc = request(c, mono_now_ns() + s->workload.timeout_ns, &v, 2, del);
    finish(c, op, rc, &v, judge_done, INT64_MIN);
}

int workload_pace(uint64_t *next, uint64_t now, uint64_t interval, prng *p)
{
    if (!interval)
        return 1;
    if (now - *next <= interval) {
        *next += interval;
        return 1;
    }
    /* A stall: never burst to catch up. Nor go on at once: clients that
     * stalled together (no leader, a partition) would all start at the same
     * instant and then move in step for the rest of the run, every op of
     * theirs reaching the leader in one batch. A random point of the next
     * interval spreads them out again, as their random first ops did. */
    *next = now + prng_below(p, interval);
    return 0;
}

static void *client_main(void *arg)
{
    wclient *c = arg;
    run *r = c->r;
    const scenario *s = r->s;
    /* Each client's share of the rate; 0 = as fast as replies come. */
    uint64_t interval = s->workload.rate > 0
                            ? (uint64_t)(1e9 * s->workload.clients / s->workload.rate) : 0;
    uint64_t next = mono_now_ns() + (interval ? prng_below(&c->p, interval) : 0);
    c->node = initial_node(c);
    while (!atomic_load(&r->stop) && (uint64_t)hrec_now(&r->h) < c->w->until_ns) {
        uint64_t now = mono_now_ns();
        if (now < next) {
            uint64_t d = next - now;
            sleep_ns(d > 50 * NS_MS ? 50 * NS_MS : d);
            continue;
        }
        if (!workload_pace(&next, now, interval, &c->p))
            continue;
        if (s->workload.target == SCN_CLIENT_RANDOM)
            c->node = (int)prng_below(&c->p, (uint64_t)r->nnodes);
        else if (s->workload.target == SCN_CLIENT_LEADER && atomic_load(&r->leader) >= 0)
            c->node = atomic_load(&r->leader);
        if (s->workload.kind == SCN_WL_LEASE)
            lease_round(c);
        else
            register_op(c);
    }
    rclient_close(&c->c);
    return NULL;
}

workload *workload_start(run *r, uint64_t until_ns)
{
    workload *w = calloc(1, sizeof *w);
    if (!w)
        abort();
    w->r = r;
    w->until_ns = until_ns;
    w->n = r->s->workload.clients;
    w->c = calloc((size_t)w->n, sizeof *w->c);
    if (!w->c)
        abort();
    for (int i = 0; i < w->n; i++) {
        wclient *c = &w->c[i];
        c->r = r, c->w = w, c->idx = i, c->process = i;
        c->connected_fd = -1;
        prng_seed(&c->p, prng_derive(r->seed, PRNG_STREAM_CLIENT + (uint64_t)i));
        rclient_init(&c->c, &r->be, 0, "127.0.0.1", 0);
        if (pthread_create(&c->t, NULL, client_main, c) != 0)
            abort();
    }
    return w;
}

void workload_join(workload *w)
{
    if (!w)
        return;
    for (int i = 0; i < w->n; i++)
        pthread_join(w->c[i].t, NULL);
    free(w->c);
    free(w);
}

int workload_pause_client(workload *w, uint64_t ns)
{
    for (int i = 0; i < w->n; i++)
        if (atomic_load(&w->c[i].holding)) {
            atomic_store(&w->c[i].pause_ns, ns);
            return i;
        }
    /* Nobody holds the lock right now: pause whoever takes it next. */
    atomic_store(&w->pending_pause, ns);
    return -1;
}
