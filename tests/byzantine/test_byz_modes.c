/* test_byz_modes.c: every --byzantine mode observably does what it claims,
 * with the real binaries on loopback.
 *
 * raft-node: one real node (id 1) whose peers 2 and 3 are sockets of this
 * test, which sends it hand-made Raft messages and reads what it answers.
 * chain-node: a chain of three real data nodes whose middle one forwards
 * with reorder-forward; the head's and the tail's commit traces differ. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "byz_peer.h"
#include "node_byz.h"
#include "common/clock.h"
#include "ctrl.h"
#include "nodes/kv/kv.h"
#include "rn_cluster.h"

static rn_cluster C;
static int fake[2] = {-1, -1}; /* sockets of fake peers 2 and 3 */
static uint8_t rbuf[WIRE_MAX_DATAGRAM + 1];

/* Start node 1 with these extra flags; peers 2 and 3 are this test. */
static int start_node(const char *mode, const char *election, const char *heartbeat)
{
    rn_cluster_init(&C, 3, 0);
    static char f1[64], f2[64], f3[64];
    snprintf(f1, sizeof f1, "--byzantine=%s", mode);
    snprintf(f2, sizeof f2, "--election-timeout=%s", election);
    snprintf(f3, sizeof f3, "--heartbeat=%s", heartbeat);
    C.extra[0] = f1;
    C.extra[1] = f2;
    C.extra[2] = f3;
    C.extra[3] = NULL;
    for (int i = 0; i < 2; i++)
        if ((fake[i] = byz_udp_bind(C.nodes[i + 1].udp_port)) < 0)
            return -1;
    return rn_node_start(&C, 0);
}

static int teardown(void **state)
{
    (void)state;
    for (int i = 0; i < 2; i++) {
        if (fake[i] >= 0)
            close(fake[i]);
        fake[i] = -1;
    }
    rn_cluster_stop(&C);
    return 0;
}

/* The next message of `type` node 1 sends to fake peer i (0: n2, 1: n3). */
static int expect(int i, uint8_t type, raft_msg *m)
{
    uint64_t end = mono_now_ns() + 5000000000ull;
    while (mono_now_ns() < end) {
        if (byz_recv_raft(fake[i], 200, rbuf, sizeof rbuf, m) != 1)
            continue;
        if (m->type == type)
            return 1;
        raft_msg_free(m);
    }
    return 0;
}

static void trace_path(char *out, size_t cap)
{
    snprintf(out, cap, "%s/trace-1.jsonl", C.dir);
}

/* Two candidates of term 5 each get a granted vote; the trace shows both. */
static void test_double_vote(void **state)
{
    (void)state;
    assert_int_equal(start_node("double-vote", "20s", "1s"), 0);
    for (int i = 0; i < 2; i++) {
        raft_msg req = {.type = RAFT_MSG_VOTE, .from = (raft_id)(i + 2), .to = 1, .term = 5};
        assert_int_equal(byz_send_raft(fake[i], C.nodes[0].udp_port, &req, NULL), 0);
        raft_msg resp;
        assert_true(expect(i, RAFT_MSG_VOTE_RESP, &resp));
        assert_int_equal(resp.term, 5);
        assert_true(resp.u.vote_resp.granted);
        raft_msg_free(&resp);
    }
    assert_int_equal(rn_node_term(&C, 0, 10000), 0);
    char tp[256];
    trace_path(tp, sizeof tp);
    assert_int_equal(byz_trace_count(tp, "\"kind\":\"vote\"", "\"term\":5", NULL), 2);
    assert_int_equal(byz_trace_count(tp, "\"kind\":\"vote\"", "\"for\":2,", NULL), 1);
    assert_int_equal(byz_trace_count(tp, "\"kind\":\"vote\"", "\"for\":3,", NULL), 1);
    assert_int_equal(byz_trace_count(tp, "\"kind\":\"start\"", "\"byzantine\":\"double-vote\"", NULL), 1);
}

/* It follows a leader of term 1, but answers it with term 1000001. */
static void test_term_inflation(void **state)
{
    (void)state;
    assert_int_equal(start_node("term-inflation", "20s", "1s"), 0);
    raft_msg hb = {.type = RAFT_MSG_APPEND, .from = 2, .to = 1, .term = 1};
    assert_int_equal(byz_send_raft(fake[0], C.nodes[0].udp_port, &hb, NULL), 0);
    raft_msg resp;
    assert_true(expect(0, RAFT_MSG_APPEND_RESP, &resp));
    assert_int_equal(resp.term, 1 + NODE_BYZ_TERM_BOOST);
    raft_msg_free(&resp);
}

/* Three entries acknowledged as stored (match 3), none in its log. */
static void test_lie_append(void **state)
{
    (void)state;
    assert_int_equal(start_node("lie-append", "20s", "1s"), 0);
    raft_entry es[3];
    for (int i = 0; i < 3; i++)
        es[i] = (raft_entry){.index = (raft_index)i + 1, .term = 1, .type = RAFT_ENTRY_NOOP};
    raft_msg app = {.type = RAFT_MSG_APPEND, .from = 2, .to = 1, .term = 1};
    app.u.append.n_entries = 3;
    app.u.append.entries = es;
    app.u.append.commit = 3;
    assert_int_equal(byz_send_raft(fake[0], C.nodes[0].udp_port, &app, NULL), 0);
    raft_msg resp;
    assert_true(expect(0, RAFT_MSG_APPEND_RESP, &resp));
    assert_true(resp.u.append_resp.success);
    assert_int_equal(resp.u.append_resp.match_index, 3);
    raft_msg_free(&resp);
    long long last = -1, commit = -1;
    assert_int_equal(rn_status_field(&C, 0, "last_index", &last), 0);
    assert_int_equal(rn_status_field(&C, 0, "commit", &commit), 0);
    assert_int_equal(last, 0);
    assert_int_equal(commit, 0);
    assert_int_equal(rn_node_term(&C, 0, 10000), 0);
    char tp[256];
    trace_path(tp, sizeof tp);
    assert_int_equal(byz_trace_count(tp, "\"kind\":\"byz\"", "\"action\":\"ack-unstored\"", "\"index\":3", NULL), 1);
    assert_int_equal(byz_trace_count(tp, "\"kind\":\"append\"", NULL), 0);
}

/* The SET value of an entry, or -1 if e is not a SET. */
static int set_value(const raft_entry *e, char *out, size_t cap)
{
    kv_cmd c;
    if (e->type != RAFT_ENTRY_NORMAL || kv_cmd_decode(&c, e->data, e->len) < 0 || c.op != KV_OP_SET ||
        c.vlen >= cap)
        return -1;
    memcpy(out, c.val, c.vlen);
    out[c.vlen] = 0;
    return 0;
}

/* Node 1 wins an election the fake peers vote in, takes SET k 7, and
 * replicates it as 7 to n3 but as 1000007 to n2, at one index and term. */
static void test_equivocate(void **state)
{
    (void)state;
    assert_int_equal(start_node("equivocate", "200ms", "30ms"), 0);
    char val[2][32] = {"", ""};
    raft_index at[2] = {0, 0};
    raft_term term_at[2] = {0, 0};
    rn_client cl;
    int sent = 0;
    assert_int_equal(rn_connect(&cl, C.nodes[0].client_port), 0);
    uint64_t end = mono_now_ns() + 20000000000ull;
    while ((!at[0] || !at[1]) && mono_now_ns() < end) {
        for (int i = 0; i < 2; i++) {
            raft_msg m, r;
            if (byz_recv_raft(fake[i], 20, rbuf, sizeof rbuf, &m) != 1)
                continue;
            r = (raft_msg){.from = (raft_id)(i + 2), .to = 1, .term = m.term};
            if (m.type == RAFT_MSG_VOTE || m.type == RAFT_MSG_PREVOTE) {
                r.type = m.type == RAFT_MSG_VOTE ? RAFT_MSG_VOTE_RESP : RAFT_MSG_PREVOTE_RESP;
                r.u.vote_resp.granted = true;
                byz_send_raft(fake[i], C.nodes[0].udp_port, &r, NULL);
            } else if (m.type == RAFT_MSG_APPEND) {
                for (uint32_t k = 0; k < m.u.append.n_entries && !at[i]; k++)
                    if (set_value(&m.u.append.entries[k], val[i], sizeof val[i]) == 0) {
                        at[i] = m.u.append.entries[k].index;
                        term_at[i] = m.u.append.entries[k].term;
                    }
                r.type = RAFT_MSG_APPEND_RESP;
                r.u.append_resp.success = true;
                r.u.append_resp.match_index = m.u.append.prev_index + m.u.append.n_entries;
                r.u.append_resp.ctx = m.u.append.ctx;
                byz_send_raft(fake[i], C.nodes[0].udp_port, &r, NULL);
                if (!sent) { /* it leads: the write goes in once */
                    const char *set[] = {"SET", "k", "7"};
                    rn_append(&cl, 3, set);
                    assert_int_equal(rn_flush(&cl), 0);
                    sent = 1;
                }
            }
            raft_msg_free(&m);
        }
    }
    rn_close(&cl);
    assert_true(at[0] > 0 && at[1] > 0);
    assert_int_equal(at[0], at[1]);
    assert_int_equal(term_at[0], term_at[1]);
    assert_string_equal(val[0], "1000007"); /* n2: even id, the altered value */
    assert_string_equal(val[1], "7");
    assert_int_equal(rn_node_term(&C, 0, 10000), 0);
    char tp[256];
    trace_path(tp, sizeof tp);
    assert_true(byz_trace_count(tp, "\"kind\":\"byz\"", "\"action\":\"equivocate\"", "\"peer\":\"n2\"", NULL) > 0);
    assert_int_equal(byz_trace_count(tp, "\"kind\":\"byz\"", "\"peer\":\"n3\"", NULL), 0);
}

/* --- chain-node: reorder-forward ----------------------------------------------- */

static pid_t chain_pid[3];

static int chain_teardown(void **state)
{
    for (int i = 0; i < 3; i++) {
        byz_stop(chain_pid[i]);
        chain_pid[i] = 0;
    }
    return teardown(state);
}

/* One command to a RESP port (connect, call, close). */
static int rn_call_port(int port, resp_value *out, const char *cmd)
{
    rn_client cl;
    if (rn_connect(&cl, port) < 0)
        return -1;
    int rc = rn_call(&cl, out, cmd, NULL);
    rn_close(&cl);
    return rc;
}

/* seq -> rid of the commit events in a chain-node trace (rid 0: none). */
static void chain_commits(const char *path, unsigned long long *rid, int max)
{
    memset(rid, 0, sizeof *rid * (size_t)(max + 1));
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        unsigned long long seq, r;
        const char *p = strstr(line, "\"kind\":\"commit\"");
        const char *q = p ? strstr(line, "\"seq\":") : NULL;
        if (q && sscanf(q, "\"seq\":%llu,\"rid\":%llu", &seq, &r) == 2 && seq <= (unsigned long long)max)
            rid[seq] = r;
    }
    fclose(f);
}

/* Head n1 -> n2 (reorder-forward) -> tail n3. Four writes in flight: the
 * tail commits seqs 1..4 with the request ids of 2,1,4,3. */
static void test_reorder_forward(void **state)
{
    (void)state;
    /* rn_cluster only picks free ports and a scratch directory here (removed
     * in teardown): entries 0..2 for the chain nodes, 3 for control node 9. */
    rn_cluster_init(&C, 4, 0);
    const char *bin = getenv("RIFTLAB_BIN");
    char path[512], peers[3][64], ctrlpeer[64], args[3][4][200], logs[3][300];
    snprintf(path, sizeof path, "%s/chain-node", bin ? bin : ".");
    /* A silent control node 9 (this test's socket): the chain stays in epoch 1. */
    int p9 = C.nodes[3].udp_port, udp[3], client[3];
    fake[0] = byz_udp_bind(p9);
    assert_true(fake[0] >= 0);
    snprintf(ctrlpeer, sizeof ctrlpeer, "--peer=9=127.0.0.1:%d", p9);
    for (int i = 0; i < 3; i++) {
        udp[i] = C.nodes[i].udp_port;
        client[i] = C.nodes[i].client_port;
        snprintf(peers[i], sizeof peers[i], "--peer=%d=127.0.0.1:%d", i + 1, udp[i]);
    }
    for (int i = 0; i < 3; i++) {
        snprintf(args[i][0], sizeof args[i][0], "--id=%d", i + 1);
        snprintf(args[i][1], sizeof args[i][1], "--listen=127.0.0.1:%d", udp[i]);
        snprintf(args[i][2], sizeof args[i][2], "--client=127.0.0.1:%d", client[i]);
        snprintf(args[i][3], sizeof args[i][3], "--trace=%s/chain-%d.jsonl", C.dir, i + 1);
        snprintf(logs[i], sizeof logs[i], "%s/chain-%d.log", C.dir, i + 1);
        const char *argv[] = {path, "--role=data", args[i][0], args[i][1], args[i][2], args[i][3],
                              "--ctrl=9", "--data=1,2,3", ctrlpeer, peers[0], peers[1], peers[2],
                              "--log-level=warn", i == 1 ? "--byzantine=reorder-forward" : NULL, NULL};
        chain_pid[i] = byz_spawn(argv, logs[i]);
        assert_true(chain_pid[i] > 0);
    }
    for (int i = 0; i < 3; i++)
        assert_int_equal(byz_wait_ping(client[i], chain_pid[i], 10000), 0);
    /* Play the control plane's leader until the head holds a read lease
     * (writes need one too): answer every heartbeat with its HB_ACK. */
    uint64_t end = mono_now_ns() + 10000000000ull;
    int lease = 0;
    while (!lease && mono_now_ns() < end) {
        wire_header h;
        const uint8_t *body;
        size_t len;
        int port;
        ctrl_heartbeat hb;
        while (byz_recv_raw(fake[0], 50, rbuf, sizeof rbuf, &h, &body, &len, &port) == 1)
            if (h.type == CTRL_MSG_HEARTBEAT && ctrl_heartbeat_decode(&hb, body, len) == 0) {
                buf ack;
                buf_init(&ack);
                ctrl_hb_ack_encode(hb.epoch, hb.sent, &ack);
                uint8_t d[256];
                int dl = byz_datagram(d, sizeof d, CTRL_MSG_HB_ACK, 9, h.src, 1, 0, buf_ptr(&ack),
                                      buf_size(&ack), NULL);
                buf_free(&ack);
                assert_true(dl > 0);
                byz_udp_send(fake[0], port, d, (size_t)dl);
            }
        resp_value st;
        if (rn_call_port(client[0], &st, "RIFT.STATUS") == 0) {
            lease = st.type == RESP_BULK && strstr(st.str, "\"lease\":true") != NULL;
            resp_value_free(&st);
        }
    }
    assert_true(lease);
    rn_client cl;
    assert_int_equal(rn_connect(&cl, client[0]), 0);
    const char *keys[4] = {"a", "b", "c", "d"};
    for (int k = 0; k < 4; k++) {
        const char *set[] = {"SET", keys[k], "1"};
        rn_append(&cl, 3, set);
    }
    assert_int_equal(rn_flush(&cl), 0);
    for (int k = 0; k < 4; k++) {
        resp_value v;
        assert_int_equal(rn_read(&cl, &v), 0);
        assert_int_equal(v.type, RESP_SIMPLE);
        resp_value_free(&v);
    }
    rn_close(&cl);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(byz_stop(chain_pid[i]), 0);
        chain_pid[i] = 0;
    }
    unsigned long long head[5], tail[5];
    char tp[300];
    snprintf(tp, sizeof tp, "%s/chain-1.jsonl", C.dir);
    chain_commits(tp, head, 4);
    snprintf(tp, sizeof tp, "%s/chain-3.jsonl", C.dir);
    chain_commits(tp, tail, 4);
    for (int s = 1; s <= 4; s++) {
        assert_true(head[s] != 0);
        int partner = s % 2 ? s + 1 : s - 1;
        assert_int_equal(tail[s], head[partner]);
        assert_true(tail[s] != head[s]);
    }
    snprintf(tp, sizeof tp, "%s/chain-2.jsonl", C.dir);
    assert_true(byz_trace_count(tp, "\"kind\":\"byz\"", "\"action\":\"swap\"", NULL) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_double_vote, teardown),
        cmocka_unit_test_teardown(test_term_inflation, teardown),
        cmocka_unit_test_teardown(test_lie_append, teardown),
        cmocka_unit_test_teardown(test_equivocate, teardown),
        cmocka_unit_test_teardown(test_reorder_forward, chain_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
