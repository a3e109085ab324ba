/* test_raftnode_lin.c: a Jepsen-style check of raft-node: concurrent client
 * processes read, write and CAS a few keys (linearizable mode) on a real
 * 3-node cluster while the leader is killed with SIGKILL and later
 * restarted; the history (DESIGN's history.jsonl format) must be
 * linearizable by the checker (rl_checker, kv model). Outcomes follow
 * DESIGN: a redirect or a CAS precondition is `fail`, anything that does
 * not prove the outcome (timeout, lost connection, -TIMEOUT) is `info`, and
 * a process that got `info` never invokes again. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>

#include <cmocka.h>

#include "checker/checker.h"
#include "common/buf.h"
#include "common/clock.h"
#include "common/prng.h"
#include "rn_cluster.h"

#define LIN_THREADS 4
#define LIN_KEYS 3
#define LIN_SECONDS 6

static rn_cluster C;
static pthread_mutex_t hist_mu = PTHREAD_MUTEX_INITIALIZER;
static buf hist;
static int64_t hist_index;
static uint64_t t0;
static volatile int leader_hint = -1;
static volatile int killed = -1;

static void record(int64_t process, const char *type, const char *f, int key, const char *value,
                   const char *error)
{
    pthread_mutex_lock(&hist_mu);
    buf_printf(&hist, "{\"index\":%lld,\"time\":%llu,\"process\":%lld,\"type\":\"%s\",\"f\":\"%s\","
               "\"key\":\"k%d\",\"value\":%s%s%s%s}\n",
               (long long)hist_index++, (unsigned long long)(mono_now_ns() - t0), (long long)process,
               type, f, key, value, error ? ",\"error\":\"" : "", error ? error : "", error ? "\"" : "");
    pthread_mutex_unlock(&hist_mu);
}

/* A connection to whoever we think leads (rn_wait_leader is too slow per op). */
static int connect_leader(rn_client *cl, int *node)
{
    for (int tries = 0; tries < C.n * 3; tries++) {
        int i = leader_hint >= 0 ? leader_hint : tries % C.n;
        if (i != killed && rn_connect(cl, C.nodes[i].client_port) == 0) {
            *node = i;
            return 0;
        }
        leader_hint = -1;
        usleep(20000);
    }
    return -1;
}

static void *client_thread(void *arg)
{
    int t = (int)(intptr_t)arg;
    prng p;
    prng_seed(&p, prng_derive(42, (uint64_t)t));
    int64_t process = t;
    rn_client cl = {0};
    int node = -1;
    uint64_t end = t0 + LIN_SECONDS * 1000000000ull;
    while (mono_now_ns() < end) {
        if (!cl.rc && connect_leader(&cl, &node) < 0) {
            usleep(50000);
            continue;
        }
        int key = (int)prng_below(&p, LIN_KEYS), op = (int)prng_below(&p, 3);
        int a = (int)prng_below(&p, 5), b = (int)prng_below(&p, 5);
        char ks[8], as[8], bs[8], val[32];
        snprintf(ks, sizeof ks, "k%d", key);
        snprintf(as, sizeof as, "%d", a);
        snprintf(bs, sizeof bs, "%d", b);
        const char *f = op == 0 ? "read" : op == 1 ? "write" : "cas";
        if (op == 0)
            snprintf(val, sizeof val, "null");
        else if (op == 1)
            snprintf(val, sizeof val, "%d", a);
        else
            snprintf(val, sizeof val, "[%d,%d]", a, b);
        record(process, "invoke", f, key, val, NULL);
        resp_value v;
        int rc = op == 0 ? rn_call(&cl, &v, "GET", ks, NULL)
               : op == 1 ? rn_call(&cl, &v, "SET", ks, as, NULL)
                         : rn_call(&cl, &v, "CAS", ks, as, bs, NULL);
        if (rc < 0) { /* no reply: unknown outcome */
            record(process, "info", f, key, val, "no reply");
            process += LIN_THREADS;
            rn_close(&cl);
            leader_hint = -1;
            continue;
        }
        if (v.type == RESP_ERROR) {
            int redirect = strncmp(v.str, "NOTLEADER", 9) == 0, lost = strncmp(v.str, "ERR LOST", 8) == 0;
            if (redirect || lost) {
                record(process, "fail", f, key, val, redirect ? "notleader" : "lost");
                unsigned id = 0;
                if (redirect && sscanf(v.str, "NOTLEADER %u", &id) == 1 && id >= 1 && (int)id <= C.n)
                    leader_hint = (int)id - 1;
                else
                    leader_hint = -1;
                rn_close(&cl);
            } else {
                record(process, "info", f, key, val, "error");
                process += LIN_THREADS;
            }
        } else if (op == 0) {
            char got[32];
            if (v.type == RESP_BULK)
                snprintf(got, sizeof got, "%s", v.str);
            else
                snprintf(got, sizeof got, "null");
            record(process, "ok", f, key, got, NULL);
        } else if (op == 1) {
            record(process, "ok", f, key, val, NULL);
        } else if (v.type == RESP_INTEGER && v.integer == 1) {
            record(process, "ok", f, key, val, NULL);
        } else {
            record(process, "fail", f, key, val, "precondition");
        }
        resp_value_free(&v);
        if (leader_hint < 0 && node >= 0 && cl.rc)
            leader_hint = node;
    }
    rn_close(&cl);
    return NULL;
}

static void test_linearizable_under_leader_kill(void **state)
{
    (void)state;
    rn_cluster_init(&C, 3, 1);
    C.extra[0] = "--election-timeout=300ms"; /* the defaults: fast failover */
    C.extra[1] = "--heartbeat=50ms";
    assert_int_equal(rn_cluster_start(&C), 0);
    int L = rn_wait_leader(&C, 10000, -1);
    assert_true(L >= 0);
    leader_hint = L;
    buf_init(&hist);
    t0 = mono_now_ns();
    pthread_t th[LIN_THREADS];
    for (int i = 0; i < LIN_THREADS; i++)
        pthread_create(&th[i], NULL, client_thread, (void *)(intptr_t)i);
    usleep(LIN_SECONDS * 1000000 / 3);
    killed = L;
    rn_node_kill(&C, L);
    usleep(LIN_SECONDS * 1000000 / 3);
    assert_int_equal(rn_node_start(&C, L), 0);
    killed = -1;
    for (int i = 0; i < LIN_THREADS; i++)
        pthread_join(th[i], NULL);
    rn_cluster_term_all(&C);
    rn_cluster_stop(&C);

    history h;
    history_init(&h);
    char err[512];
    assert_int_equal(history_parse_jsonl(&h, buf_ptr(&hist), buf_size(&hist), "raftnode", err, sizeof err), 0);
    check_options o;
    check_options_default(&o);
    o.model = "kv";
    o.checks = CHECK_LINEARIZABLE;
    o.budget_seconds = 60;
    json_t *r = check_history(&h, "raftnode", &o, err, sizeof err);
    if (!r)
        fail_msg("checker: %s", err);
    int code = check_exit_code(r);
    if (code != 0) {
        check_print_text(stderr, &h, r);
        FILE *f = fopen("raftnode-history.jsonl", "w");
        if (f) {
            fwrite(buf_ptr(&hist), 1, buf_size(&hist), f);
            fclose(f);
            fprintf(stderr, "history kept in raftnode-history.jsonl\n");
        }
    }
    print_message("%lld events, checker verdict %d\n", (long long)hist_index, code);
    json_decref(r);
    history_free(&h);
    buf_free(&hist);
    assert_int_equal(code, 0);
}

static int teardown(void **state)
{
    (void)state;
    rn_cluster_stop(&C);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_linearizable_under_leader_kill, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
