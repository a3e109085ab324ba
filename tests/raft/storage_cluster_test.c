/* storage_cluster_test.c: the core and the real storage together, driven
 * the way raft.h tells a caller to (install, persist state, truncate,
 * append, sync, report, send, apply), with restarts from disk, a wiped node
 * that must catch up through a snapshot, and log compaction. All nodes must
 * end with the same state machine and storage must agree with the core. */
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

#include "nodes/raft/storage.h"
#include "tests/raft/tmpdir.h"

#define N 3
#define MS 1000000LL

typedef struct cnode {
    char dir[320];
    raft_storage *st;
    raft *r;
    uint64_t sm;          /* state machine: a hash over applied payloads */
    raft_index applied;
} cnode;

static cnode nodes[N];
static char root[256];

/* Datagrams in flight, delivered in order by pump(). */
typedef struct dgram {
    uint8_t type;
    raft_id from, to;
    uint8_t *body;
    int len;
} dgram;
static dgram *net;
static size_t n_net, cap_net;

static uint64_t fold(uint64_t h, const raft_entry *e)
{
    for (uint32_t i = 0; i < e->len; i++)
        h = (h ^ e->data[i]) * 1099511628211ULL;
    return h ^ e->index;
}

static void boot(int i, int64_t now)
{
    cnode *x = &nodes[i];
    raft_storage_info info;
    char err[512];
    x->st = raft_storage_open(x->dir, RAFT_FSYNC_NEVER, 512, &info, err, sizeof err);
    if (!x->st)
        fail_msg("%s", err);
    raft_config c;
    raft_config_default(&c);
    c.id = (raft_id)(i + 1);
    c.n_nodes = N;
    for (int k = 0; k < N; k++)
        c.nodes[k] = (raft_id)(k + 1);
    c.seed = (uint64_t)i + 1;
    c.heartbeat_ns = 10 * MS;
    c.election_timeout_ns = 100 * MS;
    c.lease_ns = 0;
    c.snapshot_threshold = 40;
    c.snapshot_trailing = 5;
    x->r = raft_new(&c, &info.boot, now, err, sizeof err);
    if (!x->r)
        fail_msg("%s", err);
    x->sm = 0;
    if (info.boot.snap_len == 8)
        memcpy(&x->sm, info.boot.snap_data, 8);
    x->applied = info.boot.snap_index;
}

static void halt(int i)
{
    raft_free(nodes[i].r);
    raft_storage_close(nodes[i].st);
    nodes[i].r = NULL;
    nodes[i].st = NULL;
}

static void drive(int i)
{
    cnode *x = &nodes[i];
    if (!x->r)
        return;
    const raft_out *o = raft_ready(x->r);
    raft_index snap_i = 0;
    raft_term snap_t = 0;
    if (o->snapshot_install) {
        assert_int_equal(o->snap_len, 8);
        memcpy(&x->sm, o->snap_data, 8);
        x->applied = o->snap_index;
        assert_int_equal(raft_storage_save_snapshot(x->st, o->snap_index, o->snap_term,
                                                    o->snap_data, o->snap_len, o->snap_index + 1), 0);
        snap_i = o->snap_index;
        snap_t = o->snap_term;
    }
    if (o->persist_state)
        assert_int_equal(raft_storage_save_state(x->st, o->term, o->vote), 0);
    if (o->truncate_from)
        assert_int_equal(raft_storage_truncate(x->st, o->truncate_from), 0);
    if (o->n_append)
        assert_int_equal(raft_storage_append(x->st, o->append, o->n_append), 0);
    for (size_t k = 0; k < o->n_msgs; k++) {
        if (n_net == cap_net) {
            cap_net = cap_net ? 2 * cap_net : 256;
            net = realloc(net, cap_net * sizeof *net);
        }
        dgram *d = &net[n_net++];
        d->type = o->msgs[k].type;
        d->from = o->msgs[k].from;
        d->to = o->msgs[k].to;
        d->body = malloc(raft_msg_encoded_size(&o->msgs[k]));
        d->len = raft_msg_encode(&o->msgs[k], d->body, raft_msg_encoded_size(&o->msgs[k]));
        assert_true(d->len > 0);
    }
    for (size_t k = 0; k < o->n_apply; k++) {
        assert_int_equal(o->apply[k].index, x->applied + 1);
        x->sm = fold(x->sm, &o->apply[k]);
        x->applied = o->apply[k].index;
    }
    bool want = o->want_snapshot;
    raft_term term = o->term;
    raft_id vote = o->vote;
    bool ps = o->persist_state;
    raft_done(x->r);
    assert_int_equal(raft_storage_sync(x->st), 0);
    if (ps)
        raft_persisted_state(x->r, term, vote);
    if (snap_i)
        raft_persisted_log(x->r, snap_i, snap_t);
    raft_index last = raft_storage_last_index(x->st);
    if (last)
        raft_persisted_log(x->r, last, raft_term_at(x->r, last));
    if (want && x->applied > raft_snapshot_index(x->r)) {
        raft_index at = x->applied;
        raft_term t = raft_term_at(x->r, at);
        assert_int_equal(raft_snapshot_taken(x->r, at, &x->sm, 8), RAFT_OK);
        assert_int_equal(raft_storage_save_snapshot(x->st, at, t, &x->sm, 8, at - 5 + 1), 0);
    }
}

/* Deliver everything in flight (and what that produces) a few rounds. */
static void pump(void)
{
    for (int round = 0; round < 50 && n_net; round++) {
        dgram *batch = net;
        size_t nb = n_net;
        net = NULL;
        n_net = cap_net = 0;
        for (size_t k = 0; k < nb; k++) {
            cnode *x = &nodes[batch[k].to - 1];
            if (x->r) {
                raft_msg m;
                assert_int_equal(raft_msg_decode(batch[k].type, batch[k].from, batch[k].to,
                                                 batch[k].body, (size_t)batch[k].len, &m), RAFT_OK);
                raft_recv(x->r, &m);
                raft_msg_free(&m);
                drive(batch[k].to - 1);
            }
            free(batch[k].body);
        }
        free(batch);
    }
}

static int64_t now;

static void tick_all(int times)
{
    for (int t = 0; t < times; t++) {
        now += 5 * MS;
        for (int i = 0; i < N; i++)
            if (nodes[i].r) {
                raft_tick(nodes[i].r, now);
                drive(i);
            }
        pump();
    }
}

static int leader(void)
{
    for (int i = 0; i < N; i++)
        if (nodes[i].r && raft_role(nodes[i].r) == RAFT_LEADER)
            return i;
    return -1;
}

static void write_some(int count)
{
    for (int k = 0; k < count; k++) {
        int l = leader();
        for (int tries = 0; l < 0 && tries < 100; tries++) {
            tick_all(1);
            l = leader();
        }
        assert_true(l >= 0);
        char p[32];
        int n = snprintf(p, sizeof p, "cmd-%d", k);
        assert_int_equal(raft_propose(nodes[l].r, RAFT_ENTRY_NORMAL, p, (size_t)n, NULL, NULL), RAFT_OK);
        drive(l);
        pump();
    }
    tick_all(10);
}

static int setup(void **s)
{
    (void)s;
    return tmpdir_make(root, sizeof root, "raft-cluster-");
}

/* Runs also when the test fails: nothing is left behind. */
static int teardown(void **s)
{
    (void)s;
    for (int i = 0; i < N; i++)
        if (nodes[i].r)
            halt(i);
    for (size_t k = 0; k < n_net; k++)
        free(net[k].body);
    free(net);
    net = NULL;
    n_net = cap_net = 0;
    tmpdir_remove(root);
    return 0;
}

static void test_restarts_and_catch_up(void **s)
{
    (void)s;
    for (int i = 0; i < N; i++) {
        snprintf(nodes[i].dir, sizeof nodes[i].dir, "%s/n%d", root, i + 1);
        boot(i, 0);
    }
    tick_all(60);
    write_some(100);
    /* Restart every node from its disk, one at a time. */
    for (int i = 0; i < N; i++) {
        halt(i);
        tick_all(5);
        boot(i, now);
        write_some(20);
    }
    /* Wipe one node completely: it must come back through a snapshot. */
    int victim = (leader() + 1) % N;
    halt(victim);
    tmpdir_remove(nodes[victim].dir);
    write_some(100);
    boot(victim, now);
    tick_all(100);
    int l = leader();
    assert_true(l >= 0);
    raft_index c = raft_commit_index(nodes[l].r);
    assert_true(c >= 240);
    for (int i = 0; i < N; i++) {
        assert_int_equal(nodes[i].applied, c);
        assert_true(nodes[i].sm == nodes[l].sm);
        assert_int_equal(raft_storage_last_index(nodes[i].st), raft_last_index(nodes[i].r));
        /* Compaction kept the durable log short. */
        assert_true(raft_storage_last_index(nodes[i].st) - raft_storage_first_index(nodes[i].st) < 120);
    }
    assert_true(raft_snapshot_index(nodes[victim].r) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_restarts_and_catch_up, setup, teardown)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
