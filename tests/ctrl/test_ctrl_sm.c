/* test_ctrl_sm.c: the control plane's configuration state machine and its
 * encodings (nodes/ctrl/ctrl_sm.h, ctrl.h). The control plane as a whole
 * (Raft, failure detection, leases) is exercised by tests/chain's
 * simulation with --ctrl. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ctrl.h"

static int apply(ctrl_state *s, buf *b)
{
    int rc = ctrl_state_apply(s, (const uint8_t *)buf_ptr(b), buf_size(b));
    buf_free(b);
    buf_init(b);
    return rc;
}

static void test_add_remove_keep_order(void **state)
{
    (void)state;
    ctrl_state s;
    memset(&s, 0, sizeof s);
    buf b;
    buf_init(&b);
    for (uint16_t id = 1; id <= 3; id++) {
        ctrl_cmd_add(&b, id, "127.0.0.1:7001", "127.0.0.1:6001");
        assert_int_equal(apply(&s, &b), 1);
    }
    assert_int_equal(s.epoch, 3);
    ctrl_cmd_add(&b, 2, "x", "y");                 /* already a member */
    assert_int_equal(apply(&s, &b), 0);
    ctrl_cmd_remove(&b, 2);                       /* middle */
    assert_int_equal(apply(&s, &b), 1);
    ctrl_cmd_remove(&b, 2);                       /* not a member any more */
    assert_int_equal(apply(&s, &b), 0);
    assert_int_equal(s.epoch, 4);
    chain_config cfg;
    ctrl_state_chain(&s, &cfg);
    assert_int_equal(cfg.n, 2);
    assert_int_equal(cfg.members[0], 1);
    assert_int_equal(cfg.members[1], 3);
    ctrl_cmd_add(&b, 9, "127.0.0.1:7009", "127.0.0.1:6009");   /* joins as tail */
    assert_int_equal(apply(&s, &b), 1);
    assert_int_equal(s.m[2].id, 9);
    assert_string_equal(s.m[2].client, "127.0.0.1:6009");
    buf_free(&b);
}

static void test_state_roundtrip_and_garbage(void **state)
{
    (void)state;
    ctrl_state s = { .epoch = 7, .n = 2 };
    s.m[0].id = 4;
    strcpy(s.m[0].addr, "127.0.0.1:7004");
    s.m[1].id = 5;
    buf b;
    buf_init(&b);
    ctrl_state_encode(&s, &b);
    ctrl_state t;
    assert_int_equal(ctrl_state_decode(&t, (const uint8_t *)buf_ptr(&b), buf_size(&b)), 0);
    assert_int_equal(t.epoch, 7);
    assert_int_equal(t.n, 2);
    assert_string_equal(t.m[0].addr, "127.0.0.1:7004");
    /* Every truncation is refused, and so is a trailing byte. */
    for (size_t n = 0; n < buf_size(&b); n++)
        assert_int_equal(ctrl_state_decode(&t, (const uint8_t *)buf_ptr(&b), n), -1);
    buf_append(&b, "", 1);
    assert_int_equal(ctrl_state_decode(&t, (const uint8_t *)buf_ptr(&b), buf_size(&b)), -1);
    buf_free(&b);
    /* A duplicated member is malformed. */
    s.m[1].id = 4;
    buf_init(&b);
    ctrl_state_encode(&s, &b);
    assert_int_equal(ctrl_state_decode(&t, (const uint8_t *)buf_ptr(&b), buf_size(&b)), -1);
    buf_free(&b);
    /* Unknown command, id 0, truncated command. */
    const uint8_t bad1[] = { 9, 0, 1 }, bad2[] = { CTRL_CMD_REMOVE, 0, 0 }, bad3[] = { CTRL_CMD_ADD, 0, 1, 5 };
    assert_int_equal(ctrl_state_apply(&s, bad1, sizeof bad1), -1);
    assert_int_equal(ctrl_state_apply(&s, bad2, sizeof bad2), -1);
    assert_int_equal(ctrl_state_apply(&s, bad3, sizeof bad3), -1);
}

static void test_heartbeat_roundtrip(void **state)
{
    (void)state;
    ctrl_heartbeat h = { .epoch = 3, .sent = 99, .boot = 7, .last_seq = 10, .commit_seq = 8,
                         .flags = CTRL_HB_JOIN };
    strcpy(h.addr, "127.0.0.1:7003");
    strcpy(h.client, "127.0.0.1:6003");
    buf b;
    buf_init(&b);
    ctrl_heartbeat_encode(&h, &b);
    ctrl_heartbeat g;
    assert_int_equal(ctrl_heartbeat_decode(&g, (const uint8_t *)buf_ptr(&b), buf_size(&b)), 0);
    assert_int_equal(g.sent, 99);
    assert_int_equal(g.boot, 7);
    assert_int_equal(g.flags, CTRL_HB_JOIN);
    assert_string_equal(g.client, "127.0.0.1:6003");
    assert_int_equal(ctrl_heartbeat_decode(&g, (const uint8_t *)buf_ptr(&b), buf_size(&b) - 1), -1);
    buf_free(&b);
    /* The lease leaves room for two of the longest elections. */
    assert_int_equal(ctrl_lease_ns(1000, 100), 600);
    assert_int_equal(ctrl_lease_ns(300, 100), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_remove_keep_order),
        cmocka_unit_test(test_state_roundtrip_and_garbage),
        cmocka_unit_test(test_heartbeat_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
