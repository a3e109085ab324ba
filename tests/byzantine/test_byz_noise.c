/* test_byz_noise.c: real raft-node and chain-node processes under
 * corrupted, truncated, random and forged datagrams (a bounded, seeded
 * flood on loopback).
 *
 * Without authentication (--key absent) the nodes may act on forged
 * messages but must stay up and keep answering PING (the sanitizer build
 * runs the same flood under ASan/UBSan). With an HMAC key every bad
 * datagram is dropped and counted exactly by reason in RIFT.STATUS
 * "rejected", and each one is a "reject" trace event with that reason. */
#define _GNU_SOURCE
#include <jansson.h>
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
#include "chain_msg.h"
#include "common/prng.h"
#include "ctrl.h"
#include "nodes/kv/kv.h"
#include "rn_cluster.h"

#define FLOOD 300 /* datagrams per kind of damage */

static rn_cluster C;      /* raft-node 1 (peers 2, 3 silent), or just ports and a dir */
static pid_t chain_pid;
static int sock = -1;
static uint8_t dgram[WIRE_MAX_DATAGRAM];

/* What a protocol under test looks like: the node's UDP and RESP ports,
 * its message types, and sample valid bodies to damage. */
typedef struct target {
    int udp, client;
    uint16_t self, peer;            /* the node's id; a configured peer's id */
    const uint8_t *types;
    int ntypes;
    buf samples[4];                 /* valid bodies of types[0..3] */
} target;

static int teardown(void **state)
{
    target *t = *state;
    if (chain_pid)
        byz_stop(chain_pid);
    chain_pid = 0;
    if (sock >= 0)
        close(sock);
    sock = -1;
    rn_cluster_stop(&C);
    for (int i = 0; t && i < 4; i++)
        buf_free(&t->samples[i]);
    free(t);
    *state = NULL;
    return 0;
}

static void send_dgram(const target *t, uint8_t type, uint16_t src, uint16_t dst, uint32_t cluster,
                       const void *body, size_t len, const wire_key *key)
{
    static uint64_t seq;
    int dl = byz_datagram(dgram, sizeof dgram, type, src, dst, cluster, seq++, body, len, key);
    assert_true(dl > 0);
    assert_int_equal(byz_udp_send(sock, t->udp, dgram, (size_t)dl), 0);
}

static void expect_pong(const target *t, pid_t pid)
{
    assert_int_equal(byz_wait_ping(t->client, pid, 10000), 0);
}

/* Random bytes of random length (mostly shorter than a header, some longer). */
static void flood_random(const target *t, prng *p)
{
    for (int i = 0; i < FLOOD; i++) {
        size_t len = prng_below(p, 120);
        for (size_t k = 0; k < len; k++)
            dgram[k] = (uint8_t)prng_next(p);
        if (len > 4 && prng_below(p, 2)) { /* half of them look like our magic */
            dgram[0] = 0x52, dgram[1] = 0x4c, dgram[2] = 1;
        }
        byz_udp_send(sock, t->udp, dgram, len);
    }
}

/* Valid samples with bit flips, or cut short, or with random bodies under
 * a valid header: these reach the protocol decoders. */
static void flood_damaged(const target *t, prng *p)
{
    static uint8_t tmp[WIRE_MAX_DATAGRAM];
    for (int i = 0; i < FLOOD; i++) {
        const buf *s = &t->samples[prng_below(p, 4)];
        uint8_t type = t->types[prng_below(p, (uint64_t)t->ntypes)];
        int dl = byz_datagram(tmp, sizeof tmp, type, t->peer, t->self, 1, (uint64_t)i, buf_ptr(s),
                              buf_size(s), NULL);
        assert_true(dl > 0);
        switch (prng_below(p, 3)) {
        case 0: /* flip 1..3 bits anywhere */
            for (uint64_t f = 0, nf = 1 + prng_below(p, 3); f < nf; f++)
                tmp[prng_below(p, (uint64_t)dl)] ^= (uint8_t)(1u << prng_below(p, 8));
            byz_udp_send(sock, t->udp, tmp, (size_t)dl);
            break;
        case 1: /* truncated */
            byz_udp_send(sock, t->udp, tmp, prng_below(p, (uint64_t)dl));
            break;
        default: { /* a random body under a valid header */
            uint8_t body[96];
            size_t len = prng_below(p, sizeof body);
            for (size_t k = 0; k < len; k++)
                body[k] = (uint8_t)prng_next(p);
            send_dgram(t, type, t->peer, t->self, 1, body, len, NULL);
        }
        }
    }
}

/* A JSON integer at path "a" or "a.b" of RIFT.STATUS; -1 if absent. */
static long long status_int(const target *t, const char *outer, const char *inner)
{
    rn_client cl;
    resp_value v;
    long long out = -1;
    if (rn_connect(&cl, t->client) < 0)
        return -1;
    if (rn_call(&cl, &v, "RIFT.STATUS", NULL) == 0 && v.type == RESP_BULK) {
        json_t *root = json_loads(v.str, 0, NULL);
        json_t *j = root ? json_object_get(root, outer) : NULL;
        if (j && inner)
            j = json_object_get(j, inner);
        if (json_is_integer(j))
            out = json_integer_value(j);
        json_decref(root);
    }
    if (v.type)
        resp_value_free(&v);
    rn_close(&cl);
    return out;
}

/* Without a key: random, damaged, then forged (well-formed, absurd) traffic;
 * the node answers PING after each. */
static void run_unauthenticated(target *t, pid_t *pidp, void (*forge)(const target *, prng *))
{
    pid_t pid = *pidp;
    prng p;
    prng_seed(&p, 0xb42);
    expect_pong(t, pid);
    flood_random(t, &p);
    expect_pong(t, pid);
    flood_damaged(t, &p);
    expect_pong(t, pid);
    forge(t, &p);
    expect_pong(t, pid);
    assert_true(byz_alive(pid));
    assert_true(status_int(t, "rejected", "malformed") > 0);
    *pidp = 0;
    assert_int_equal(byz_stop(pid), 0); /* clean exit (and no leak report under ASan) */
}

/* With a key: each reason in exact numbers, in STATUS and in the trace. */
static void run_authenticated(target *t, pid_t *pidp, const char *key_file, const char *trace)
{
    pid_t pid = *pidp;
    wire_key key;
    char err[256];
    assert_int_equal(wire_key_load(key_file, &key, err, sizeof err), 0);
    const buf *s = &t->samples[0];
    const uint8_t one = 0;
    const int n = 50;
    expect_pong(t, pid);
    for (int i = 0; i < n; i++) {
        send_dgram(t, t->types[0], t->peer, t->self, 1, buf_ptr(s), buf_size(s), NULL); /* no tag */
        int dl = byz_datagram(dgram, sizeof dgram, t->types[0], t->peer, t->self, 1, 0, buf_ptr(s),
                              buf_size(s), &key);
        dgram[dl - 1 - i % WIRE_TAG_LEN] ^= 0x40;                                         /* bad tag */
        byz_udp_send(sock, t->udp, dgram, (size_t)dl);
        send_dgram(t, t->types[0], t->peer, t->self, 7, buf_ptr(s), buf_size(s), &key);   /* cluster 7 */
        send_dgram(t, t->types[0], t->peer, t->self, 1, &one, 1, &key);                   /* body too short */
        send_dgram(t, t->types[0], t->peer, 30, 1, buf_ptr(s), buf_size(s), &key);        /* not for it */
        byz_udp_send(sock, t->udp, "RL", 2);                                              /* no header */
    }
    expect_pong(t, pid);
    assert_int_equal(status_int(t, "rejected", "missing_tag"), n);
    assert_int_equal(status_int(t, "rejected", "bad_tag"), n);
    assert_int_equal(status_int(t, "rejected", "wrong_cluster"), n);
    assert_int_equal(status_int(t, "rejected", "malformed"), 2 * n);
    assert_int_equal(status_int(t, "rejected", "misdirected"), n);
    *pidp = 0;
    assert_int_equal(byz_stop(pid), 0); /* flushes the trace */
    const char *reasons[] = {"missing-tag", "bad-tag", "wrong-cluster", "misdirected"};
    char r[64];
    for (int i = 0; i < 4; i++) {
        snprintf(r, sizeof r, "\"reason\":\"%s\"", reasons[i]);
        assert_int_equal(byz_trace_count(trace, "\"kind\":\"reject\"", r, "\"from\":\"n", NULL), n);
    }
    assert_int_equal(byz_trace_count(trace, "\"kind\":\"reject\"", "\"reason\":\"malformed\"", NULL), 2 * n);
    assert_int_equal(byz_trace_count(trace, "\"kind\":\"reject\"", "\"from\":\"unknown\"", NULL), n);
}

/* --- raft-node ------------------------------------------------------------------ */

static const uint8_t raft_types[] = {RAFT_MSG_VOTE, RAFT_MSG_VOTE_RESP, RAFT_MSG_PREVOTE,
                                     RAFT_MSG_PREVOTE_RESP, RAFT_MSG_APPEND, RAFT_MSG_APPEND_RESP,
                                     RAFT_MSG_SNAPSHOT, RAFT_MSG_SNAPSHOT_RESP, 0x00, 0x0f, 0x21, 0xff};

static void raft_sample(buf *b, const raft_msg *m)
{
    uint8_t body[512];
    int len = raft_msg_encode(m, body, sizeof body);
    assert_true(len > 0);
    buf_append(b, body, (size_t)len);
}

/* The node under test is C's node 1 (ports); the test sends from `sock`. */
static target *target_new(uint16_t peer, const uint8_t *types, int ntypes)
{
    target *t = calloc(1, sizeof *t);
    assert_non_null(t);
    sock = byz_udp_bind(0);
    assert_true(sock >= 0);
    t->udp = C.nodes[0].udp_port;
    t->client = C.nodes[0].client_port;
    t->self = 1;
    t->peer = peer;
    t->types = types;
    t->ntypes = ntypes;
    for (int i = 0; i < 4; i++)
        buf_init(&t->samples[i]);
    return t;
}

static target *raft_target(int key)
{
    rn_cluster_init(&C, 3, key);
    assert_int_equal(rn_node_start(&C, 0), 0);
    target *t = target_new(2, raft_types, (int)sizeof raft_types);
    uint8_t cmd[64];
    int cl = kv_encode_set(cmd, sizeof cmd, "k", 1, "v", 1, 0, 0);
    raft_entry es[2] = {{.index = 1, .term = 1, .type = RAFT_ENTRY_NORMAL, .len = (uint32_t)cl, .data = cmd},
                        {.index = 2, .term = 1, .type = RAFT_ENTRY_NOOP}};
    raft_msg m = {.type = RAFT_MSG_APPEND, .from = 2, .to = 1, .term = 1};
    m.u.append.n_entries = 2;
    m.u.append.entries = es;
    m.u.append.commit = 2;
    raft_sample(&t->samples[0], &m);
    m = (raft_msg){.type = RAFT_MSG_VOTE, .from = 2, .to = 1, .term = 3};
    raft_sample(&t->samples[1], &m);
    m = (raft_msg){.type = RAFT_MSG_APPEND_RESP, .from = 2, .to = 1, .term = 1};
    m.u.append_resp.success = true;
    m.u.append_resp.match_index = 2;
    raft_sample(&t->samples[2], &m);
    m = (raft_msg){.type = RAFT_MSG_SNAPSHOT, .from = 2, .to = 1, .term = 1};
    m.u.snapshot.snap_index = 5;
    m.u.snapshot.snap_term = 1;
    m.u.snapshot.total = 100;
    m.u.snapshot.len = 4;
    m.u.snapshot.data = (uint8_t *)"abcd";
    raft_sample(&t->samples[3], &m);
    return t;
}

/* Encode m and send it to the target, unauthenticated. */
static void raft_send_forged(const target *t, const raft_msg *m)
{
    buf b;
    buf_init(&b);
    raft_sample(&b, m);
    send_dgram(t, m->type, m->from, m->to, 1, buf_ptr(&b), buf_size(&b), NULL);
    buf_free(&b);
}

/* Well-formed Raft messages no honest peer would send: absurd terms,
 * indexes far past any log, a snapshot chunk far past its end. */
static void raft_forge(const target *t, prng *p)
{
    for (int i = 0; i < FLOOD; i++) {
        /* Terms stay below 2^63: RIFT.STATUS prints the node's term, and
         * JSON readers (jansson: the runner, this test) stop at int64. */
        raft_msg m = {.from = t->peer, .to = t->self, .term = prng_next(p) >> (1 + prng_below(p, 63))};
        switch (i % 4) {
        case 0:
            m.type = RAFT_MSG_APPEND;
            m.u.append.prev_index = prng_next(p) >> prng_below(p, 64);
            m.u.append.prev_term = prng_next(p);
            m.u.append.commit = UINT64_MAX - prng_below(p, 3);
            break;
        case 1:
            m.type = RAFT_MSG_APPEND_RESP;
            m.u.append_resp.success = prng_below(p, 2);
            m.u.append_resp.match_index = prng_next(p);
            m.u.append_resp.conflict_index = prng_next(p);
            m.u.append_resp.conflict_term = prng_next(p);
            break;
        case 2:
            m.type = prng_below(p, 2) ? RAFT_MSG_VOTE : RAFT_MSG_PREVOTE;
            m.u.vote.last_index = prng_next(p);
            m.u.vote.last_term = prng_next(p);
            break;
        default:
            m.type = RAFT_MSG_SNAPSHOT_RESP;
            m.u.snapshot_resp.snap_index = prng_next(p);
            m.u.snapshot_resp.next_offset = prng_next(p);
            break;
        }
        raft_send_forged(t, &m);
    }
    /* A whole snapshot of garbage from a "leader" of a term above any the
     * flood set: the state machine cannot restore it, so the node drops it
     * before install (raft.h, snapshot_ok) instead of stopping. */
    uint8_t junk[48];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (uint8_t)prng_next(p);
    raft_msg m = {.type = RAFT_MSG_SNAPSHOT, .from = t->peer, .to = t->self, .term = INT64_MAX};
    m.u.snapshot.snap_index = 1u << 20;
    m.u.snapshot.snap_term = INT64_MAX;
    m.u.snapshot.total = sizeof junk;
    m.u.snapshot.len = sizeof junk;
    m.u.snapshot.data = junk;
    raft_send_forged(t, &m);
}

static void test_raft_noise_unauthenticated(void **state)
{
    target *t = raft_target(0);
    *state = t;
    run_unauthenticated(t, &C.nodes[0].pid, raft_forge);
}

static void test_raft_noise_hmac(void **state)
{
    target *t = raft_target(1);
    *state = t;
    char trace[300];
    snprintf(trace, sizeof trace, "%s/trace-1.jsonl", C.dir);
    run_authenticated(t, &C.nodes[0].pid, C.nodes[0].key_file, trace);
}

/* --- chain-node ----------------------------------------------------------------- */

static const uint8_t chain_types[] = {CHAIN_MSG_UPDATE, CHAIN_MSG_ACK, CHAIN_MSG_VQUERY, CHAIN_MSG_VREPLY,
                                      CHAIN_MSG_SNAP_REQ, CHAIN_MSG_SNAP, CTRL_MSG_HEARTBEAT,
                                      CTRL_MSG_HB_ACK, CTRL_MSG_CONFIG, RAFT_MSG_APPEND, 0x00, 0xff};

/* A single-member chain (data node 1) whose control node 9 is silent. */
static target *chain_target(int key)
{
    rn_cluster_init(&C, 2, key); /* ports, a directory, maybe a key file */
    target *t = target_new(9, chain_types, (int)sizeof chain_types);
    const char *bin = getenv("RIFTLAB_BIN");
    char path[512], listen[64], client[64], peer[64], trace[300], log[300], keyf[300];
    snprintf(path, sizeof path, "%s/chain-node", bin ? bin : ".");
    snprintf(listen, sizeof listen, "--listen=127.0.0.1:%d", t->udp);
    snprintf(client, sizeof client, "--client=127.0.0.1:%d", t->client);
    snprintf(peer, sizeof peer, "--peer=9=127.0.0.1:%d", C.nodes[1].udp_port);
    snprintf(trace, sizeof trace, "--trace=%s/trace-1.jsonl", C.dir);
    snprintf(log, sizeof log, "%s/chain-1.log", C.dir);
    snprintf(keyf, sizeof keyf, "--key=%s", C.nodes[0].key_file);
    const char *argv[] = {path, "--role=data", "--id=1", listen, client, "--ctrl=9", "--data=1", peer,
                          trace, "--log-level=warn", key ? keyf : NULL, NULL};
    chain_pid = byz_spawn(argv, log);
    assert_true(chain_pid > 0);
    chain_msg_update_begin(&t->samples[0], 1, 2, UINT64_MAX);
    uint8_t cmd[64];
    int cl = kv_encode_set(cmd, sizeof cmd, "k", 1, "v", 1, 0, 0);
    chain_msg_update_add(&t->samples[0], 1, 77, cmd, (uint32_t)cl);
    chain_msg_update_add(&t->samples[0], 2, 78, cmd, (uint32_t)cl);
    chain_msg_update_end(&t->samples[0], 2);
    chain_msg_ack(&t->samples[1], 1, 5, 5);
    ctrl_hb_ack_encode(1, 12345, &t->samples[2]);
    ctrl_heartbeat hb = {.epoch = 1, .sent = 1, .boot = 2, .last_seq = 3, .commit_seq = 3};
    snprintf(hb.addr, sizeof hb.addr, "127.0.0.1:1");
    ctrl_heartbeat_encode(&hb, &t->samples[3]);
    return t;
}

/* Well-formed chain messages with absurd fields. */
static void chain_forge(const target *t, prng *p)
{
    for (int i = 0; i < FLOOD; i++) {
        buf b;
        buf_init(&b);
        uint8_t type;
        uint64_t epoch = prng_below(p, 2) ? 1 : prng_next(p);
        switch (i % 4) {
        case 0:
            type = CHAIN_MSG_UPDATE;
            chain_msg_update_begin(&b, epoch, prng_next(p), prng_next(p));
            chain_msg_update_add(&b, prng_next(p) >> prng_below(p, 64), prng_next(p), (const uint8_t *)"x", 1);
            chain_msg_update_end(&b, 1);
            break;
        case 1:
            type = CHAIN_MSG_ACK;
            chain_msg_ack(&b, epoch, prng_next(p), prng_next(p));
            break;
        case 2:
            type = CHAIN_MSG_SNAP;
            chain_msg_put_u64(&b, epoch);
            chain_msg_put_u64(&b, prng_next(p));
            chain_msg_put_u32(&b, (uint32_t)prng_next(p));
            chain_msg_put_u32(&b, (uint32_t)prng_next(p));
            buf_append(&b, "chunk", 5);
            break;
        default:
            type = CTRL_MSG_HB_ACK;
            ctrl_hb_ack_encode(epoch, prng_next(p), &b);
            break;
        }
        send_dgram(t, type, t->peer, t->self, 1, buf_ptr(&b), buf_size(&b), NULL);
        buf_free(&b);
    }
}

static void test_chain_noise_unauthenticated(void **state)
{
    target *t = chain_target(0);
    *state = t;
    run_unauthenticated(t, &chain_pid, chain_forge);
}

static void test_chain_noise_hmac(void **state)
{
    target *t = chain_target(1);
    *state = t;
    char trace[300];
    snprintf(trace, sizeof trace, "%s/trace-1.jsonl", C.dir);
    run_authenticated(t, &chain_pid, C.nodes[0].key_file, trace);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_raft_noise_unauthenticated, teardown),
        cmocka_unit_test_teardown(test_raft_noise_hmac, teardown),
        cmocka_unit_test_teardown(test_chain_noise_unauthenticated, teardown),
        cmocka_unit_test_teardown(test_chain_noise_hmac, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
