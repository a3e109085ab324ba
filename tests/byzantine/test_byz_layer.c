/* test_byz_layer.c: the Byzantine layers of raft-node (node_byz.c) and
 * chain-node (cn_byz.c) driven with hand-made messages: each mode does
 * exactly what it claims, and an honest layer changes nothing. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chain.h"
#include "chain_msg.h"
#include "cn_byz.h"
#include "node_byz.h"
#include "nodes/kv/kv.h"

static raft_msg vote_req(uint8_t type, raft_id from, raft_term term)
{
    raft_msg m = {.type = type, .from = from, .to = 1, .term = term};
    m.u.vote.last_index = 0;
    m.u.vote.last_term = 0;
    return m;
}

static void test_names(void **state)
{
    (void)state;
    assert_int_equal(node_byz_parse("double-vote"), NODE_BYZ_DOUBLE_VOTE);
    assert_int_equal(node_byz_parse("term-inflation"), NODE_BYZ_TERM_INFLATION);
    assert_int_equal(node_byz_parse("lie-append"), NODE_BYZ_LIE_APPEND);
    assert_int_equal(node_byz_parse("equivocate"), NODE_BYZ_EQUIVOCATE);
    assert_int_equal(node_byz_parse("honest"), -1);
    assert_null(node_byz_name(NODE_BYZ_NONE));
    assert_string_equal(node_byz_name(NODE_BYZ_LIE_APPEND), "lie-append");
    assert_int_equal(cn_byz_parse("reorder-forward"), CN_BYZ_REORDER_FORWARD);
    assert_int_equal(cn_byz_parse("reorder"), -1);
    assert_null(cn_byz_name(CN_BYZ_NONE));
}

/* Two candidates of one term both get a granted vote in that term, without
 * the core being asked; the core's own answers never leave. */
static void test_double_vote(void **state)
{
    (void)state;
    node_byz b;
    node_byz_init(&b, NODE_BYZ_DOUBLE_VOTE, 1);
    raft_msg core;
    for (raft_id cand = 2; cand <= 3; cand++) {
        raft_msg req = vote_req(RAFT_MSG_VOTE, cand, 7);
        unsigned act = node_byz_recv(&b, &req, &core);
        assert_int_equal(act, NODE_BYZ_PASS | NODE_BYZ_REPLY);
        assert_int_equal(b.reply.type, RAFT_MSG_VOTE_RESP);
        assert_int_equal(b.reply.from, 1);
        assert_int_equal(b.reply.to, cand);
        assert_int_equal(b.reply.term, 7);
        assert_true(b.reply.u.vote_resp.granted);
        assert_memory_equal(&core, &req, sizeof req); /* the core sees the real request */
    }
    raft_msg pre = vote_req(RAFT_MSG_PREVOTE, 3, 9), out;
    assert_int_equal(node_byz_recv(&b, &pre, &core), NODE_BYZ_PASS | NODE_BYZ_REPLY);
    assert_int_equal(b.reply.type, RAFT_MSG_PREVOTE_RESP);
    assert_true(b.reply.u.vote_resp.granted);
    raft_msg refuse = {.type = RAFT_MSG_VOTE_RESP, .from = 1, .to = 2, .term = 7};
    assert_int_equal(node_byz_send(&b, &refuse, &out), 0);
    refuse.type = RAFT_MSG_PREVOTE_RESP;
    assert_int_equal(node_byz_send(&b, &refuse, &out), 0);
    raft_msg hb = {.type = RAFT_MSG_APPEND, .from = 1, .to = 2, .term = 7};
    assert_int_equal(node_byz_send(&b, &hb, &out), 1);
    assert_int_equal(out.term, 7);
    /* Other traffic reaches the core untouched. */
    assert_int_equal(node_byz_recv(&b, &hb, &core), NODE_BYZ_PASS);
    node_byz_free(&b);
}

static void test_term_inflation(void **state)
{
    (void)state;
    node_byz b;
    node_byz_init(&b, NODE_BYZ_TERM_INFLATION, 1);
    raft_msg out;
    raft_msg m = vote_req(RAFT_MSG_VOTE, 1, 4);
    m.to = 2;
    assert_int_equal(node_byz_send(&b, &m, &out), 1);
    assert_int_equal(out.term, 4 + NODE_BYZ_TERM_BOOST);
    assert_int_equal(out.type, RAFT_MSG_VOTE);
    m.type = RAFT_MSG_APPEND_RESP;
    assert_int_equal(node_byz_send(&b, &m, &out), 1);
    assert_int_equal(out.term, 4 + NODE_BYZ_TERM_BOOST);
    node_byz_free(&b);
}

/* Three entries after index 5: the answer claims match 8 while the core
 * gets no entries at all (and an anchor that always matches). */
static void test_lie_append(void **state)
{
    (void)state;
    node_byz b;
    node_byz_init(&b, NODE_BYZ_LIE_APPEND, 2);
    uint8_t d[3] = {1, 2, 3};
    raft_entry es[3];
    for (int i = 0; i < 3; i++)
        es[i] = (raft_entry){.index = 6 + (raft_index)i, .term = 3, .type = RAFT_ENTRY_NORMAL,
                             .len = 1, .data = &d[i]};
    raft_msg m = {.type = RAFT_MSG_APPEND, .from = 1, .to = 2, .term = 3};
    m.u.append.prev_index = 5;
    m.u.append.prev_term = 2;
    m.u.append.commit = 4;
    m.u.append.ctx = 42;
    m.u.append.n_entries = 3;
    m.u.append.entries = es;
    raft_msg core, out;
    assert_int_equal(node_byz_recv(&b, &m, &core), NODE_BYZ_PASS | NODE_BYZ_REPLY);
    assert_int_equal(b.reply.type, RAFT_MSG_APPEND_RESP);
    assert_int_equal(b.reply.to, 1);
    assert_int_equal(b.reply.term, 3);
    assert_true(b.reply.u.append_resp.success);
    assert_int_equal(b.reply.u.append_resp.match_index, 8);
    assert_int_equal(b.reply.u.append_resp.ctx, 42);
    assert_int_equal(core.type, RAFT_MSG_APPEND);
    assert_int_equal(core.term, 3);
    assert_int_equal(core.u.append.n_entries, 0);
    assert_null(core.u.append.entries);
    assert_int_equal(core.u.append.prev_index, 0);
    assert_int_equal(core.u.append.prev_term, 0);
    /* The core's own (truthful) answer is dropped. */
    raft_msg truthful = {.type = RAFT_MSG_APPEND_RESP, .from = 2, .to = 1, .term = 3};
    assert_int_equal(node_byz_send(&b, &truthful, &out), 0);
    node_byz_free(&b);
}

static void decode_set(const raft_entry *e, char *val, size_t cap)
{
    kv_cmd c;
    assert_int_equal(kv_cmd_decode(&c, e->data, e->len), 0);
    assert_int_equal(c.op, KV_OP_SET);
    assert_true(c.vlen < cap);
    memcpy(val, c.val, c.vlen);
    val[c.vlen] = 0;
}

/* The same APPEND to n2 and n3: n3 (odd) gets it as is, n2 (even) gets
 * other values at the same indexes; NOOP and DEL entries are not touched. */
static void test_equivocate(void **state)
{
    (void)state;
    node_byz b;
    node_byz_init(&b, NODE_BYZ_EQUIVOCATE, 1);
    uint8_t set1[64], set2[64], del[64];
    int l1 = kv_encode_set(set1, sizeof set1, "k", 1, "7", 1, 0, 0);
    int l2 = kv_encode_set(set2, sizeof set2, "k", 1, "blue", 4, 0, 0);
    int l3 = kv_encode_del(del, sizeof del, "k", 1);
    raft_entry es[4] = {
        {.index = 1, .term = 2, .type = RAFT_ENTRY_NOOP},
        {.index = 2, .term = 2, .type = RAFT_ENTRY_NORMAL, .len = (uint32_t)l1, .data = set1},
        {.index = 3, .term = 2, .type = RAFT_ENTRY_NORMAL, .len = (uint32_t)l2, .data = set2},
        {.index = 4, .term = 2, .type = RAFT_ENTRY_NORMAL, .len = (uint32_t)l3, .data = del},
    };
    raft_msg m = {.type = RAFT_MSG_APPEND, .from = 1, .to = 3, .term = 2};
    m.u.append.n_entries = 4;
    m.u.append.entries = es;
    raft_msg out;
    assert_int_equal(node_byz_send(&b, &m, &out), 1);
    assert_ptr_equal(out.u.append.entries, es);
    m.to = 2;
    assert_int_equal(node_byz_send(&b, &m, &out), 1);
    assert_ptr_not_equal(out.u.append.entries, es);
    assert_int_equal(out.u.append.n_entries, 4);
    char v[64];
    for (int i = 0; i < 4; i++) {
        assert_int_equal(out.u.append.entries[i].index, es[i].index);
        assert_int_equal(out.u.append.entries[i].term, es[i].term);
        assert_int_equal(out.u.append.entries[i].type, es[i].type);
    }
    assert_int_equal(out.u.append.entries[0].len, 0);
    decode_set(&out.u.append.entries[1], v, sizeof v);
    assert_string_equal(v, "1000007");
    decode_set(&out.u.append.entries[2], v, sizeof v);
    assert_string_equal(v, "blue!");
    assert_int_equal(out.u.append.entries[3].len, (uint32_t)l3);
    assert_memory_equal(out.u.append.entries[3].data, del, (size_t)l3);
    /* The original entries are unchanged (they are the leader's own log). */
    decode_set(&es[1], v, sizeof v);
    assert_string_equal(v, "7");
    node_byz_free(&b);
}

/* An honest layer passes everything through unchanged. */
static void test_honest(void **state)
{
    (void)state;
    node_byz b;
    node_byz_init(&b, NODE_BYZ_NONE, 1);
    raft_msg m = vote_req(RAFT_MSG_VOTE, 2, 3), core, out;
    assert_int_equal(node_byz_recv(&b, &m, &core), NODE_BYZ_PASS);
    assert_memory_equal(&core, &m, sizeof m);
    m.type = RAFT_MSG_VOTE_RESP;
    assert_int_equal(node_byz_send(&b, &m, &out), 1);
    assert_memory_equal(&out, &m, sizeof m);
    assert_int_equal(b.actions, 0);
    node_byz_free(&b);
}

/* --- chain: reorder-forward -------------------------------------------------- */

/* An UPDATE with entries first..last (rid = 100 + seq, command "c<seq>"). */
static void make_update(buf *b, uint64_t first, uint64_t last)
{
    buf_reset(b);
    chain_msg_update_begin(b, 1, last, UINT64_MAX);
    uint32_t n = 0;
    for (uint64_t s = first; s <= last; s++, n++) {
        char cmd[16];
        int l = snprintf(cmd, sizeof cmd, "c%llu", (unsigned long long)s);
        chain_msg_update_add(b, s, 100 + s, (const uint8_t *)cmd, (uint32_t)l);
    }
    chain_msg_update_end(b, n);
}

/* Decode an UPDATE into seqs[] / rids[]; returns the entry count. */
static int read_update(const buf *b, uint64_t *seqs, uint64_t *rids, int cap)
{
    chain_msg m;
    assert_int_equal(chain_msg_decode(CHAIN_MSG_UPDATE, (const uint8_t *)buf_ptr(b), buf_size(b), &m), 0);
    size_t pos = 0;
    chain_msg_entry e;
    int n = 0;
    while (chain_msg_next_entry(&m, &pos, &e)) {
        assert_true(n < cap);
        char want[16];
        int l = snprintf(want, sizeof want, "c%llu", (unsigned long long)(e.rid - 100));
        assert_int_equal(e.len, (uint32_t)l); /* the command travels with its rid */
        assert_memory_equal(e.cmd, want, (size_t)l);
        seqs[n] = e.seq;
        rids[n++] = e.rid;
    }
    return n;
}

static void test_reorder_pairs(void **state)
{
    (void)state;
    cn_byz b;
    cn_byz_init(&b, CN_BYZ_REORDER_FORWARD);
    buf in, out;
    buf_init(&in);
    buf_init(&out);
    uint64_t seqs[8], rids[8], first;
    make_update(&in, 1, 4);
    assert_int_equal(cn_byz_update(&b, (const uint8_t *)buf_ptr(&in), buf_size(&in), 1000, &out, &first), 1);
    assert_int_equal(read_update(&out, seqs, rids, 8), 4);
    const uint64_t want_rids[4] = {102, 101, 104, 103};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(seqs[i], (uint64_t)i + 1);
        assert_int_equal(rids[i], want_rids[i]);
    }
    assert_int_equal(first, 1);
    /* A resend of 3..4 repeats the same decision; nothing new to trace. */
    make_update(&in, 3, 4);
    assert_int_equal(cn_byz_update(&b, (const uint8_t *)buf_ptr(&in), buf_size(&in), 2000, &out, &first), 1);
    assert_int_equal(read_update(&out, seqs, rids, 8), 2);
    assert_int_equal(rids[0], 104);
    assert_int_equal(rids[1], 103);
    assert_int_equal(first, 0);
    assert_int_equal(b.swapped, 6);
    buf_free(&in);
    buf_free(&out);
    cn_byz_free(&b);
}

/* 5 arrives alone: held back (the message goes out without it); when 6
 * arrives in time both go out swapped. 7 alone waits longer than
 * CN_BYZ_HOLD_NS: it goes out as is, and so does 8 later. */
static void test_reorder_hold(void **state)
{
    (void)state;
    cn_byz b;
    cn_byz_init(&b, CN_BYZ_REORDER_FORWARD);
    buf in, out;
    buf_init(&in);
    buf_init(&out);
    uint64_t seqs[8], rids[8], first, t0 = 5000000000ull;
    make_update(&in, 5, 5);
    assert_int_equal(cn_byz_update(&b, (const uint8_t *)buf_ptr(&in), buf_size(&in), t0, &out, &first), 1);
    assert_int_equal(read_update(&out, seqs, rids, 8), 0);
    assert_int_equal(b.held, 1);
    make_update(&in, 6, 6); /* the receiver has a gap at 5 and waits for the resend */
    assert_int_equal(cn_byz_update(&b, (const uint8_t *)buf_ptr(&in), buf_size(&in), t0 + 1000, &out, &first), 1);
    assert_int_equal(read_update(&out, seqs, rids, 8), 1);
    assert_int_equal(seqs[0], 6);
    assert_int_equal(rids[0], 105);
    make_update(&in, 5, 6);
    assert_int_equal(cn_byz_update(&b, (const uint8_t *)buf_ptr(&in), buf_size(&in), t0 + 2000, &out, &first), 1);
    assert_int_equal(read_update(&out, seqs, rids, 8), 2);
    assert_int_equal(rids[0], 106);
    assert_int_equal(rids[1], 105);

    make_update(&in, 7, 7);
    assert_int_equal(cn_byz_update(&b, (const uint8_t *)buf_ptr(&in), buf_size(&in), t0, &out, &first), 1);
    assert_int_equal(read_update(&out, seqs, rids, 8), 0);
    uint64_t late = t0 + CN_BYZ_HOLD_NS;
    assert_int_equal(cn_byz_update(&b, (const uint8_t *)buf_ptr(&in), buf_size(&in), late, &out, &first), 1);
    assert_int_equal(read_update(&out, seqs, rids, 8), 1);
    assert_int_equal(rids[0], 107);
    make_update(&in, 7, 8);
    assert_int_equal(cn_byz_update(&b, (const uint8_t *)buf_ptr(&in), buf_size(&in), late + 1, &out, &first), 1);
    assert_int_equal(read_update(&out, seqs, rids, 8), 2);
    assert_int_equal(rids[0], 107);
    assert_int_equal(rids[1], 108);
    buf_free(&in);
    buf_free(&out);
    cn_byz_free(&b);
}

/* Not an UPDATE, an empty one, or an honest layer: the original goes out. */
static void test_reorder_passthrough(void **state)
{
    (void)state;
    cn_byz b, honest;
    cn_byz_init(&b, CN_BYZ_REORDER_FORWARD);
    cn_byz_init(&honest, CN_BYZ_NONE);
    buf in, out;
    buf_init(&in);
    buf_init(&out);
    uint64_t first;
    make_update(&in, 1, 0); /* no entries */
    assert_int_equal(cn_byz_update(&b, (const uint8_t *)buf_ptr(&in), buf_size(&in), 1, &out, &first), 0);
    const uint8_t junk[5] = {1, 2, 3, 4, 5};
    assert_int_equal(cn_byz_update(&b, junk, sizeof junk, 1, &out, &first), 0);
    make_update(&in, 1, 2);
    assert_int_equal(cn_byz_update(&honest, (const uint8_t *)buf_ptr(&in), buf_size(&in), 1, &out, &first), 0);
    buf_free(&in);
    buf_free(&out);
    cn_byz_free(&b);
    cn_byz_free(&honest);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_double_vote),
        cmocka_unit_test(test_term_inflation),
        cmocka_unit_test(test_lie_append),
        cmocka_unit_test(test_equivocate),
        cmocka_unit_test(test_honest),
        cmocka_unit_test(test_reorder_pairs),
        cmocka_unit_test(test_reorder_hold),
        cmocka_unit_test(test_reorder_passthrough),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
