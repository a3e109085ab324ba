/* test_chain_core.c: the chain core's client-visible behaviour on a
 * 3-node chain over a perfect in-test network: redirects, CAS / NX /
 * versions, refused commands, BUSY, epochs, CRAQ version queries, and the
 * three reconfiguration cases. (The randomized simulation in
 * test_chain_sim.c covers faults; this pins down exact answers.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chain.h"
#include "chain_msg.h"
#include "kv.h"

#define N 4

typedef struct msg {
    uint16_t from, to;
    uint8_t type;
    uint8_t *body;
    size_t len;
} msg;

static chain_node *nodes[N + 1];
static msg queue[4096];
static size_t nq;
static int hold;                /* 1: keep messages queued (not delivered) */
static chain_action last;       /* the last REPLY seen */
static uint8_t last_body[256];

static void drain(uint16_t id)
{
    const chain_action *a;
    size_t n = chain_actions(nodes[id], &a);
    for (size_t i = 0; i < n; i++) {
        if (a[i].kind == CHAIN_ACT_SEND && nq < 4096) {
            msg *m = &queue[nq++];
            m->from = id;
            m->to = a[i].to;
            m->type = a[i].type;
            m->len = a[i].len;
            m->body = malloc(a[i].len ? a[i].len : 1);
            memcpy(m->body, a[i].body, a[i].len);
        } else if (a[i].kind == CHAIN_ACT_REPLY) {
            last = a[i];
            memset(last_body, 0, sizeof last_body);
            if (a[i].body && a[i].len < sizeof last_body)
                memcpy(last_body, a[i].body, a[i].len);
        }
    }
    chain_actions_clear(nodes[id]);
}

/* Deliver until nothing is in flight (or drop everything to a dead node). */
static void run(void)
{
    while (nq && !hold) {
        msg m = queue[0];
        memmove(queue, queue + 1, (nq - 1) * sizeof *queue);
        nq--;
        if (nodes[m.to]) {
            chain_recv(nodes[m.to], m.from, m.type, m.body, m.len);
            drain(m.to);
        }
        free(m.body);
    }
}

/* Deliver the first queued message of this type only; 1 if there was one. */
static int deliver_first(uint8_t type)
{
    for (size_t i = 0; i < nq; i++) {
        if (queue[i].type != type)
            continue;
        msg m = queue[i];
        memmove(queue + i, queue + i + 1, (nq - i - 1) * sizeof *queue);
        nq--;
        chain_recv(nodes[m.to], m.from, m.type, m.body, m.len);
        free(m.body);
        drain(m.to);
        return 1;
    }
    return 0;
}

static void configure(uint64_t epoch, int n, const uint16_t *ids)
{
    chain_config c = { .epoch = epoch, .n = (uint16_t)n };
    memcpy(c.members, ids, (size_t)n * sizeof *ids);
    for (uint16_t id = 1; id <= N; id++) {
        if (nodes[id]) {
            chain_set_config(nodes[id], &c);
            drain(id);
        }
    }
    run();
}

static int setup(void **state)
{
    (void)state;
    nq = 0;
    hold = 0;
    for (uint16_t id = 1; id <= 3; id++) {
        chain_options o = { .id = id, .max_inflight = 8 };
        nodes[id] = chain_new(&o);
    }
    const uint16_t ids[] = { 1, 2, 3 };
    configure(1, 3, ids);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (uint16_t id = 1; id <= N; id++) {
        chain_free(nodes[id]);
        nodes[id] = NULL;
    }
    for (size_t i = 0; i < nq; i++)
        free(queue[i].body);
    nq = 0;
    return 0;
}

static uint64_t next_id;

static void write_at(uint16_t id, const uint8_t *cmd, int len)
{
    chain_request r = { .id = ++next_id, .kind = CHAIN_REQ_WRITE, .data = cmd, .len = (size_t)len };
    memset(&last, 0, sizeof last);
    chain_client(nodes[id], &r);
    drain(id);
    run();
}

static void set_at(uint16_t id, const char *k, const char *v, uint8_t flags)
{
    uint8_t cmd[128];
    write_at(id, cmd, kv_encode_set(cmd, sizeof cmd, k, strlen(k), v, strlen(v), flags, 0));
}

static void read_at(uint16_t id, enum chain_req_kind kind, enum chain_read_mode mode, const char *k)
{
    chain_request r = { .id = ++next_id, .kind = kind, .mode = mode, .data = (const uint8_t *)k,
                        .len = strlen(k) };
    memset(&last, 0, sizeof last);
    chain_client(nodes[id], &r);
    drain(id);
    run();
}

static void test_redirects_and_values(void **state)
{
    (void)state;
    set_at(2, "a", "1", 0);
    assert_int_equal(last.status, CHAIN_ERR_NOTHEAD);
    assert_int_equal(last.redirect, 1);
    set_at(1, "a", "1", 0);
    assert_int_equal(last.status, CHAIN_OK);
    assert_int_equal(last.reply_type, KV_REPLY_OK);
    read_at(1, CHAIN_REQ_GET, CHAIN_READ_TAIL, "a");
    assert_int_equal(last.status, CHAIN_ERR_NOTTAIL);
    assert_int_equal(last.redirect, 3);
    read_at(3, CHAIN_REQ_GET, CHAIN_READ_TAIL, "a");
    assert_int_equal(last.reply_type, KV_REPLY_BULK);
    assert_string_equal((char *)last_body, "1");
    set_at(1, "a", "2", KV_SET_NX);             /* exists: not set */
    assert_int_equal(last.reply_type, KV_REPLY_NIL);
    uint8_t cmd[64];
    write_at(1, cmd, kv_encode_cas(cmd, sizeof cmd, "a", 1, "9", 1, "3", 1));
    assert_int_equal(last.integer, 0);
    write_at(1, cmd, kv_encode_cas(cmd, sizeof cmd, "a", 1, "1", 1, "3", 1));
    assert_int_equal(last.integer, 1);
    read_at(2, CHAIN_REQ_VERSION, CHAIN_READ_CRAQ, "a");
    assert_int_equal(last.integer, 2);
    write_at(1, cmd, kv_encode_set(cmd, sizeof cmd, "a", 1, "x", 1, KV_SET_PX, 1000));
    assert_int_equal(last.status, CHAIN_ERR_BADCMD);
    write_at(1, (const uint8_t *)"\x09", 1);
    assert_int_equal(last.status, CHAIN_ERR_BADCMD);
}

/* While a write is only dirty, CRAQ at the head asks the tail and answers
 * the committed value; `any` answers the dirty one. */
static void test_craq_dirty_key(void **state)
{
    (void)state;
    set_at(1, "k", "old", 0);
    hold = 1;
    set_at(1, "k", "new", 0);                   /* dirty at the head only */
    assert_int_equal(last.kind, 0);             /* no reply yet */
    read_at(1, CHAIN_REQ_GET, CHAIN_READ_ANY, "k");
    assert_string_equal((char *)last_body, "new");
    read_at(1, CHAIN_REQ_GET, CHAIN_READ_CRAQ, "k");
    assert_int_equal(last.kind, 0);             /* waiting for the tail */
    /* Deliver only the version query and its answer (the UPDATE stays queued). */
    assert_true(deliver_first(CHAIN_MSG_VQUERY));
    assert_true(deliver_first(CHAIN_MSG_VREPLY));
    assert_int_equal(last.status, CHAIN_OK);
    assert_string_equal((char *)last_body, "old");
    hold = 0;
    run();
    read_at(1, CHAIN_REQ_GET, CHAIN_READ_CRAQ, "k");
    assert_string_equal((char *)last_body, "new");
}

static void test_busy_and_epochs(void **state)
{
    (void)state;
    hold = 1;
    for (int i = 0; i < 8; i++)
        set_at(1, "b", "v", 0);
    set_at(1, "b", "v", 0);
    assert_int_equal(last.status, CHAIN_ERR_BUSY);
    /* Messages of epoch 1 are rejected once everyone is in epoch 2. */
    const uint16_t ids[] = { 1, 2, 3 };
    chain_config c = { .epoch = 2, .n = 3 };
    memcpy(c.members, ids, sizeof ids);
    for (uint16_t id = 1; id <= 3; id++) {
        chain_set_config(nodes[id], &c);
        drain(id);
    }
    hold = 0;
    run();
    chain_status st;
    chain_get_status(nodes[2], &st);
    assert_true(st.rejected > 0);
    /* ... and the retransmission in epoch 2 still gets everything through. */
    for (int t = 0; t < 10; t++) {
        for (uint16_t id = 1; id <= 3; id++) {
            chain_tick(nodes[id]);
            drain(id);
        }
        run();
    }
    chain_get_status(nodes[3], &st);
    assert_int_equal(st.commit_seq, 8);
}

static void test_reconfigurations(void **state)
{
    (void)state;
    set_at(1, "r", "1", 0);
    /* Middle fails, with a write the middle had but the tail had not. */
    hold = 1;
    set_at(1, "r", "2", 0);
    /* deliver the UPDATE to node 2 only, then kill it */
    assert_true(deliver_first(CHAIN_MSG_UPDATE));
    chain_free(nodes[2]);
    nodes[2] = NULL;
    hold = 0;
    const uint16_t mid[] = { 1, 3 };
    configure(2, 2, mid);                       /* node 3 reports, node 1 resends */
    assert_int_equal(last.status, CHAIN_OK);    /* the write commits */
    read_at(3, CHAIN_REQ_GET, CHAIN_READ_TAIL, "r");
    assert_string_equal((char *)last_body, "2");
    /* Tail fails: node 1 alone commits what it has. */
    chain_free(nodes[3]);
    nodes[3] = NULL;
    const uint16_t one[] = { 1 };
    configure(3, 1, one);
    set_at(1, "r", "3", 0);
    assert_int_equal(last.status, CHAIN_OK);
    /* A joiner copies the state and becomes the tail. */
    chain_options o = { .id = 4, .joining = 1 };
    nodes[4] = chain_new(&o);
    chain_config c = { .epoch = 3, .n = 1, .members = { 1 } };
    chain_set_config(nodes[4], &c);
    drain(4);
    run();
    chain_status st;
    chain_get_status(nodes[4], &st);
    assert_true(st.synced);
    const uint16_t two[] = { 1, 4 };
    configure(4, 2, two);
    read_at(4, CHAIN_REQ_GET, CHAIN_READ_TAIL, "r");
    assert_string_equal((char *)last_body, "3");
    /* Head fails: the joiner is now alone and keeps the data. */
    chain_free(nodes[1]);
    nodes[1] = NULL;
    const uint16_t last4[] = { 4 };
    configure(5, 1, last4);
    set_at(4, "r", "4", 0);
    assert_int_equal(last.status, CHAIN_OK);
    read_at(4, CHAIN_REQ_GET, CHAIN_READ_TAIL, "r");
    assert_string_equal((char *)last_body, "4");
}

/* A member removed while running keeps its committed prefix
 * (chain_rejoin_keep) and drops its uncommitted entry; added back as tail it
 * gets only the suffix resent (no snapshot: log_base unchanged). A node
 * started from a restored state (chain_restore, as with --dir) likewise
 * joins without a copy. */
static void test_rejoin_keep_and_restore(void **state)
{
    (void)state;
    set_at(1, "a", "1", 0);                     /* seq 1, committed everywhere */
    hold = 1;
    set_at(1, "a", "2", 0);
    assert_true(deliver_first(CHAIN_MSG_UPDATE)); /* node 2 has seq 2, dirty */
    hold = 0;
    const uint16_t without2[] = { 1, 3 };
    configure(2, 2, without2);                  /* node 2 falsely suspected */
    chain_rejoin_keep(nodes[2]);
    drain(2);
    chain_status st;
    chain_get_status(nodes[2], &st);
    assert_true(st.synced);
    assert_int_equal(st.commit_seq, 1);
    assert_int_equal(st.last_seq, 1);           /* the dirty entry is gone */
    set_at(1, "a", "3", 0);                     /* seq 3 on [1, 3] */
    assert_int_equal(last.status, CHAIN_OK);
    const uint16_t back[] = { 1, 3, 2 };
    configure(3, 3, back);
    chain_get_status(nodes[2], &st);
    assert_int_equal(st.commit_seq, 3);
    assert_int_equal(st.log_base, 1);           /* entries 2..3 resent, no snapshot */
    chain_status st3;
    chain_get_status(nodes[3], &st3);
    assert_int_equal(st.digest, st3.digest);
    read_at(2, CHAIN_REQ_GET, CHAIN_READ_TAIL, "a");
    assert_string_equal((char *)last_body, "3");

    /* Restored from "disk" at seq 3 (a copy of node 3's committed state). */
    chain_options o = { .id = 4, .joining = 1 };
    nodes[4] = chain_new(&o);
    uint8_t *snap;
    size_t len;
    assert_int_equal(kv_snapshot(chain_clean_state(nodes[3]), &snap, &len), 0);
    kv *restored = kv_new();
    assert_int_equal(kv_restore(restored, snap, len), 0);
    free(snap);
    chain_restore(nodes[4], restored, 3);
    const uint16_t four[] = { 1, 3, 2, 4 };
    configure(4, 4, four);
    set_at(1, "a", "4", 0);
    assert_int_equal(last.status, CHAIN_OK);
    chain_get_status(nodes[4], &st);
    assert_int_equal(st.commit_seq, 4);
    assert_int_equal(st.log_base, 3);           /* no state copy */
    read_at(4, CHAIN_REQ_GET, CHAIN_READ_TAIL, "a");
    assert_string_equal((char *)last_body, "4");
}

static void test_msg_decode_rejects_garbage(void **state)
{
    (void)state;
    chain_msg m;
    uint8_t body[64] = { 0 };
    assert_int_equal(chain_msg_decode(CHAIN_MSG_ACK, body, 23, &m), -1);
    assert_int_equal(chain_msg_decode(CHAIN_MSG_ACK, body, 24, &m), 0);
    assert_int_equal(chain_msg_decode(CHAIN_MSG_UPDATE, body, 27, &m), -1);
    body[27] = 1;   /* one entry announced, none present */
    assert_int_equal(chain_msg_decode(CHAIN_MSG_UPDATE, body, 28, &m), -1);
    assert_int_equal(chain_msg_decode(0x7f, body, 24, &m), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_redirects_and_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_craq_dirty_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_busy_and_epochs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reconfigurations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rejoin_keep_and_restore, setup, teardown),
        cmocka_unit_test(test_msg_decode_rejects_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
