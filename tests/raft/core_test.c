/* core_test.c: unit tests of the Raft core's individual rules, driven by
 * hand (messages routed one by one), and of the message codec. The
 * simulation (sim_*) checks the whole; these pin down each mechanism. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nodes/raft/raft.h"

#define MS 1000000LL

/* ---- a tiny hand-driven harness ---------------------------------------------- */

#define QMAX 256
typedef struct qmsg {
    uint8_t type;
    raft_id from, to;
    uint8_t body[2048];
    int len;
} qmsg;

typedef struct node {
    raft *r;
    bool state_dirty;
    raft_term st_term;
    raft_id st_vote;
    raft_index last_written;
    raft_term last_written_term;
} node;

static qmsg q[QMAX];
static int nq;
static raft_read_result reads[16];
static int nreads;

/* config.snapshot_ok for the nodes mk() makes (NULL: none). */
static bool (*mk_snapshot_ok)(void *arg, const uint8_t *data, size_t len);

static raft *mk(raft_id id, int n, unsigned bugs, const raft_boot *boot)
{
    raft_config c;
    raft_config_default(&c);
    c.id = id;
    c.n_nodes = (uint16_t)n;
    for (int i = 0; i < n; i++)
        c.nodes[i] = (raft_id)(i + 1);
    c.seed = id;
    c.heartbeat_ns = 10 * MS;
    c.election_timeout_ns = 100 * MS;
    c.lease_ns = 0; /* no boot grace in these tests */
    c.bugs = bugs;
    c.snapshot_ok = mk_snapshot_ok;
    char err[128];
    raft *r = raft_new(&c, boot, 0, err, sizeof err);
    if (!r)
        fail_msg("%s", err);
    return r;
}

/* A message with only its header set; the test fills in the body. */
static raft_msg msg(uint8_t type, raft_id from, raft_id to, raft_term term)
{
    raft_msg m;
    memset(&m, 0, sizeof m);
    m.type = type;
    m.from = from;
    m.to = to;
    m.term = term;
    return m;
}

/* Collect the output: queue messages, remember writes; durable only on sync(). */
static void drain(node *x)
{
    const raft_out *o = raft_ready(x->r);
    if (o->persist_state) {
        x->state_dirty = true;
        x->st_term = o->term;
        x->st_vote = o->vote;
    }
    if (o->n_append) {
        x->last_written = o->append[o->n_append - 1].index;
        x->last_written_term = o->append[o->n_append - 1].term;
    }
    for (size_t i = 0; i < o->n_msgs; i++) {
        assert_true(nq < QMAX);
        qmsg *m = &q[nq++];
        m->type = o->msgs[i].type;
        m->from = o->msgs[i].from;
        m->to = o->msgs[i].to;
        m->len = raft_msg_encode(&o->msgs[i], m->body, sizeof m->body);
        assert_true(m->len > 0);
    }
    for (size_t i = 0; i < o->n_reads && nreads < 16; i++)
        reads[nreads++] = o->reads[i];
    raft_done(x->r);
}

static void sync_node(node *x)
{
    if (x->state_dirty)
        raft_persisted_state(x->r, x->st_term, x->st_vote);
    x->state_dirty = false;
    if (x->last_written)
        raft_persisted_log(x->r, x->last_written, x->last_written_term);
    drain(x);
}

/* Deliver queued messages (those to `only`, or all when 0), in order. */
static int deliver(node *nodes, int n, raft_id only)
{
    int delivered = 0;
    qmsg cur[QMAX];
    int ncur = nq;
    memcpy(cur, q, sizeof(qmsg) * (size_t)nq);
    nq = 0;
    for (int i = 0; i < ncur; i++) {
        if ((only && cur[i].to != only) || cur[i].to > n) {
            q[nq++] = cur[i];
            continue;
        }
        raft_msg m;
        assert_int_equal(raft_msg_decode(cur[i].type, cur[i].from, cur[i].to, cur[i].body,
                                         (size_t)cur[i].len, &m), RAFT_OK);
        raft_recv(nodes[cur[i].to - 1].r, &m);
        raft_msg_free(&m);
        drain(&nodes[cur[i].to - 1]);
        delivered++;
    }
    return delivered;
}

static void drop_all(void)
{
    nq = 0;
}

static int count(uint8_t type, raft_id to)
{
    int c = 0;
    for (int i = 0; i < nq; i++)
        c += q[i].type == type && (!to || q[i].to == to);
    return c;
}

static void setup_cluster(node *nodes, int n, unsigned bugs)
{
    memset(nodes, 0, sizeof(node) * (size_t)n);
    nq = 0;
    nreads = 0;
    for (int i = 0; i < n; i++)
        nodes[i].r = mk((raft_id)(i + 1), n, bugs, NULL);
}

static void free_cluster(node *nodes, int n)
{
    for (int i = 0; i < n; i++)
        raft_free(nodes[i].r);
}

/* Make node 1 leader of a 3-node cluster with every step durable. */
static void elect_1(node *nodes, int n, int64_t *now)
{
    *now = 250 * MS; /* past any election timeout of node 1 */
    raft_tick(nodes[0].r, *now);
    drain(&nodes[0]);
    for (int round = 0; round < 6 && raft_role(nodes[0].r) != RAFT_LEADER; round++) {
        deliver(nodes, n, 0);
        for (int i = 0; i < n; i++)
            sync_node(&nodes[i]);
    }
    assert_int_equal(raft_role(nodes[0].r), RAFT_LEADER);
    for (int round = 0; round < 4; round++) { /* replicate and commit the no-op */
        deliver(nodes, n, 0);
        for (int i = 0; i < n; i++)
            sync_node(&nodes[i]);
    }
}

/* A 3-node cluster led by node 1, with nothing in flight. */
static int64_t leader_cluster(node *nodes, unsigned bugs)
{
    int64_t now;
    setup_cluster(nodes, 3, bugs);
    elect_1(nodes, 3, &now);
    drop_all();
    nreads = 0;
    return now;
}

/* ---- tests ------------------------------------------------------------------------------ */

static void test_single_node_commits_after_fsync(void **s)
{
    (void)s;
    node x = {0};
    x.r = mk(1, 1, 0, NULL);
    raft_tick(x.r, 300 * MS);
    drain(&x);
    assert_int_equal(raft_role(x.r), RAFT_CANDIDATE); /* vote not durable yet */
    sync_node(&x);
    assert_int_equal(raft_role(x.r), RAFT_LEADER);
    raft_index idx;
    assert_int_equal(raft_propose(x.r, RAFT_ENTRY_NORMAL, "a", 1, &idx, NULL), RAFT_OK);
    drain(&x);
    assert_true(raft_commit_index(x.r) < idx); /* not durable: not committed */
    sync_node(&x);
    assert_int_equal(raft_commit_index(x.r), idx);
    raft_free(x.r);
}

static void test_vote_answered_only_when_durable(void **s)
{
    (void)s;
    node nodes[3];
    setup_cluster(nodes, 3, 0);
    raft_tick(nodes[0].r, 250 * MS);
    drain(&nodes[0]);
    deliver(nodes, 3, 0); /* pre-votes granted */
    deliver(nodes, 3, 1);
    assert_int_equal(raft_role(nodes[0].r), RAFT_CANDIDATE);
    deliver(nodes, 3, 2); /* VOTE reaches node 2: it votes, but must not say so yet */
    assert_int_equal(raft_voted_for(nodes[1].r), 1);
    assert_int_equal(count(RAFT_MSG_VOTE_RESP, 1), 0);
    sync_node(&nodes[1]);
    assert_int_equal(count(RAFT_MSG_VOTE_RESP, 1), 1);
    free_cluster(nodes, 3);
}

static void test_forget_vote_bug_answers_at_once(void **s)
{
    (void)s;
    node nodes[3];
    setup_cluster(nodes, 3, RAFT_BUG_FORGET_VOTE);
    raft_tick(nodes[0].r, 250 * MS);
    drain(&nodes[0]);
    deliver(nodes, 3, 0);
    deliver(nodes, 3, 1);
    deliver(nodes, 3, 2);
    assert_int_equal(count(RAFT_MSG_VOTE_RESP, 1), 1);
    assert_int_equal(nodes[1].st_vote, RAFT_NONE); /* what it would persist */
    free_cluster(nodes, 3);
}

static void test_prevote_keeps_terms(void **s)
{
    (void)s;
    node nodes[3];
    int64_t now = leader_cluster(nodes, 0);
    raft_term t = raft_current_term(nodes[0].r);
    /* Node 3 is cut off and times out again and again: its term never moves. */
    for (int i = 1; i <= 10; i++) {
        raft_tick(nodes[2].r, now + i * 300 * MS);
        drain(&nodes[2]);
    }
    drop_all();
    assert_int_equal(raft_current_term(nodes[2].r), t);
    assert_int_equal(raft_role(nodes[2].r), RAFT_PRECANDIDATE);
    free_cluster(nodes, 3);
}

static void test_check_quorum_steps_down(void **s)
{
    (void)s;
    node nodes[3];
    int64_t now = leader_cluster(nodes, 0);
    raft_term t = raft_current_term(nodes[0].r);
    int i = 1;
    for (; i <= 30 && raft_role(nodes[0].r) == RAFT_LEADER; i++) { /* nobody answers */
        raft_tick(nodes[0].r, now + i * 10 * MS);
        drain(&nodes[0]);
        drop_all();
    }
    assert_int_equal(raft_role(nodes[0].r), RAFT_FOLLOWER);
    assert_true(i <= 21); /* within two election timeouts */
    assert_int_equal(raft_current_term(nodes[0].r), t);
    free_cluster(nodes, 3);
}

static void test_fast_backtracking_hint(void **s)
{
    (void)s;
    /* Follower log: terms 1 1 2 2 2; the leader's has term 3 at index 3. */
    raft_entry e[5];
    raft_term terms[5] = {1, 1, 2, 2, 2};
    for (int i = 0; i < 5; i++)
        e[i] = (raft_entry){(raft_index)i + 1, terms[i], RAFT_ENTRY_NORMAL, 0, NULL};
    raft_boot b = {.term = 3, .entries = e, .n_entries = 5};
    raft *f = mk(2, 3, 0, &b);
    raft_msg m = msg(RAFT_MSG_APPEND, 1, 2, 3);
    m.u.append.prev_index = 5;
    m.u.append.prev_term = 3;
    raft_recv(f, &m);
    const raft_out *o = raft_ready(f);
    assert_int_equal(o->n_msgs, 1);
    assert_int_equal(o->msgs[0].type, RAFT_MSG_APPEND_RESP);
    assert_false(o->msgs[0].u.append_resp.success);
    assert_int_equal(o->msgs[0].u.append_resp.conflict_term, 2);
    assert_int_equal(o->msgs[0].u.append_resp.conflict_index, 3); /* first index of term 2 */
    raft_done(f);
    raft_free(f);
}

static void test_up_to_date_vote_restriction(void **s)
{
    (void)s;
    raft_entry e = {1, 2, RAFT_ENTRY_NORMAL, 0, NULL};
    raft_boot b = {.term = 2, .entries = &e, .n_entries = 1};
    for (int bug = 0; bug <= 1; bug++) {
        raft *v = mk(2, 3, bug ? RAFT_BUG_NO_LOG_CHECK : 0, &b);
        raft_msg m = msg(RAFT_MSG_VOTE, 3, 2, 3);
        m.u.vote.last_index = 5;
        m.u.vote.last_term = 1; /* longer log, older last term: not up to date */
        raft_recv(v, &m);
        assert_int_equal(raft_voted_for(v), bug ? 3 : RAFT_NONE);
        raft_ready(v);
        raft_done(v);
        raft_free(v);
    }
}

static void test_read_index_needs_majority_round(void **s)
{
    (void)s;
    node nodes[3];
    leader_cluster(nodes, 0);
    assert_int_equal(raft_read(nodes[0].r, RAFT_READ_LINEARIZABLE, 42), RAFT_OK);
    drain(&nodes[0]);
    assert_int_equal(nreads, 0); /* no answer before the round */
    assert_true(count(RAFT_MSG_APPEND, 0) >= 2);
    deliver(nodes, 3, 2); /* node 2 hears the round and acknowledges */
    deliver(nodes, 3, 1);
    assert_int_equal(nreads, 1);
    assert_int_equal(reads[0].id, 42);
    assert_int_equal(reads[0].status, RAFT_OK);
    assert_int_equal(reads[0].index, raft_commit_index(nodes[0].r));
    /* A follower says where the leader is. */
    nreads = 0;
    raft_read(nodes[1].r, RAFT_READ_LINEARIZABLE, 7);
    drain(&nodes[1]);
    assert_int_equal(reads[0].status, RAFT_ENOTLEADER);
    assert_int_equal(reads[0].leader, 1);
    free_cluster(nodes, 3);
}

/* raft_has_ready must report a ReadIndex round that follower
 * acknowledgements completed: the read result is only produced inside
 * raft_ready, and a driver that sleeps while has_ready is false would
 * otherwise hold the read until some unrelated event. */
static void test_has_ready_after_round_acks(void **s)
{
    (void)s;
    node nodes[3];
    leader_cluster(nodes, 0);
    nreads = 0;
    assert_int_equal(raft_read(nodes[0].r, RAFT_READ_LINEARIZABLE, 9), RAFT_OK);
    drain(&nodes[0]);
    assert_int_equal(nreads, 0);
    assert_false(raft_has_ready(nodes[0].r));
    deliver(nodes, 3, 2); /* node 2 acknowledges the round */
    /* Hand node 2's acknowledgements to the leader without draining it. */
    int acks = 0;
    for (int i = 0; i < nq; i++) {
        if (q[i].to != 1)
            continue;
        raft_msg m;
        assert_int_equal(raft_msg_decode(q[i].type, q[i].from, q[i].to, q[i].body,
                                         (size_t)q[i].len, &m), RAFT_OK);
        raft_recv(nodes[0].r, &m);
        raft_msg_free(&m);
        acks++;
    }
    drop_all();
    assert_true(acks > 0);
    assert_true(raft_has_ready(nodes[0].r));
    drain(&nodes[0]);
    assert_int_equal(nreads, 1);
    assert_int_equal(reads[0].id, 9);
    assert_int_equal(reads[0].status, RAFT_OK);
    drop_all();
    assert_false(raft_has_ready(nodes[0].r));
    free_cluster(nodes, 3);
}

static void test_stale_read_bug_skips_round(void **s)
{
    (void)s;
    node nodes[3];
    leader_cluster(nodes, RAFT_BUG_STALE_READ);
    raft_read(nodes[0].r, RAFT_READ_LINEARIZABLE, 1);
    drain(&nodes[0]);
    assert_int_equal(nreads, 1);
    free_cluster(nodes, 3);
}

/* Figure 8: a leader must not commit an entry of an earlier term by
 * counting replicas; with commit-old-term it does. */
static void test_commit_only_current_term(void **s)
{
    (void)s;
    for (int bug = 0; bug <= 1; bug++) {
        /* Leader (term 4) holds index 2 from term 2 that node 2 lacks. */
        raft_entry le[2] = {{1, 1, RAFT_ENTRY_NORMAL, 0, NULL}, {2, 2, RAFT_ENTRY_NORMAL, 0, NULL}};
        raft_boot lb = {.term = 3, .entries = le, .n_entries = 2};
        raft_boot fb = {.term = 3, .entries = le, .n_entries = 1};
        node nodes[3];
        memset(nodes, 0, sizeof nodes);
        nq = 0;
        unsigned bits = bug ? RAFT_BUG_COMMIT_OLD_TERM : 0;
        nodes[0].r = mk(1, 3, bits, &lb);
        nodes[1].r = mk(2, 3, bits, &fb);
        nodes[2].r = mk(3, 3, bits, &fb);
        /* Node 1 wins term 4 (its log is longer), appends its no-op at 3. */
        raft_tick(nodes[0].r, 250 * MS);
        drain(&nodes[0]);
        for (int r = 0; r < 4 && raft_role(nodes[0].r) != RAFT_LEADER; r++) {
            deliver(nodes, 3, 0);
            for (int i = 0; i < 3; i++)
                sync_node(&nodes[i]);
        }
        assert_int_equal(raft_role(nodes[0].r), RAFT_LEADER);
        sync_node(&nodes[0]);
        /* Hand node 2 exactly entry 2 (term 2) and let it acknowledge: a
         * majority holds index 2, but its term is not the leader's. */
        drop_all();
        raft_entry e2 = {2, 2, RAFT_ENTRY_NORMAL, 0, NULL};
        raft_msg m = msg(RAFT_MSG_APPEND, 1, 2, raft_current_term(nodes[0].r));
        m.u.append.prev_index = 1;
        m.u.append.prev_term = 1;
        m.u.append.n_entries = 1;
        m.u.append.entries = &e2;
        raft_recv(nodes[1].r, &m);
        drain(&nodes[1]);
        sync_node(&nodes[1]);
        deliver(nodes, 3, 1);
        assert_int_equal(raft_commit_index(nodes[0].r), bug ? 2 : 0);
        free_cluster(nodes, 3);
    }
}

static void test_ack_waits_for_fsync(void **s)
{
    (void)s;
    for (int bug = 0; bug <= 1; bug++) {
        node nodes[3];
        leader_cluster(nodes, bug ? RAFT_BUG_ACK_BEFORE_FSYNC : 0);
        raft_index idx;
        raft_propose(nodes[0].r, RAFT_ENTRY_NORMAL, "x", 1, &idx, NULL);
        drain(&nodes[0]);
        deliver(nodes, 3, 2); /* node 2 writes it but has not fsynced */
        deliver(nodes, 3, 1);
        /* Neither the leader nor node 2 fsynced: committed only with the bug. */
        assert_int_equal(raft_commit_index(nodes[0].r) >= idx, bug);
        free_cluster(nodes, 3);
    }
}

/* ack-before-fsync hands new entries to storage only once the oldest has
 * waited RAFT_BUG_WRITEBACK_NS (a volatile write cache); the correct core
 * hands every entry out in the next raft_ready. */
static void test_ack_before_fsync_writes_back(void **s)
{
    (void)s;
    for (int bug = 0; bug <= 1; bug++) {
        node nodes[3];
        leader_cluster(nodes, bug ? RAFT_BUG_ACK_BEFORE_FSYNC : 0);
        int64_t now = 250 * MS; /* elect_1's clock: the no-op was appended then */
        raft_index idx;
        assert_int_equal(raft_propose(nodes[0].r, RAFT_ENTRY_NORMAL, "x", 1, &idx, NULL), RAFT_OK);
        drain(&nodes[0]);
        assert_int_equal(nodes[0].last_written == idx, !bug);
        raft_tick(nodes[0].r, now + RAFT_BUG_WRITEBACK_NS - 1);
        drain(&nodes[0]);
        assert_int_equal(nodes[0].last_written == idx, !bug);
        raft_tick(nodes[0].r, now + RAFT_BUG_WRITEBACK_NS);
        assert_true(!bug || raft_has_ready(nodes[0].r)); /* due: the idle node flushes */
        drain(&nodes[0]);
        assert_int_equal(nodes[0].last_written, idx);
        free_cluster(nodes, 3);
    }
}

/* ---- codec ------------------------------------------------------------------------------- */

static void test_codec_roundtrip_and_truncation(void **s)
{
    (void)s;
    raft_entry e[2] = {{8, 3, RAFT_ENTRY_NORMAL, 3, (uint8_t *)"abc"}, {9, 3, RAFT_ENTRY_NOOP, 0, NULL}};
    raft_msg ms[8];
    memset(ms, 0, sizeof ms);
    for (int i = 0; i < 8; i++) {
        ms[i].type = (uint8_t)(i + 1);
        ms[i].from = 1;
        ms[i].to = 2;
        ms[i].term = 3;
    }
    ms[0].u.vote.last_index = 7;
    ms[0].u.vote.last_term = 2;
    ms[1].u.vote_resp.granted = true;
    ms[4].u.append.prev_index = 7;
    ms[4].u.append.prev_term = 2;
    ms[4].u.append.commit = 6;
    ms[4].u.append.ctx = 99;
    ms[4].u.append.n_entries = 2;
    ms[4].u.append.entries = e;
    ms[5].u.append_resp.match_index = 9;
    ms[5].u.append_resp.success = true;
    ms[6].u.snapshot.snap_index = 5;
    ms[6].u.snapshot.total = 10;
    ms[6].u.snapshot.offset = 4;
    ms[6].u.snapshot.len = 3;
    ms[6].u.snapshot.data = (uint8_t *)"xyz";
    ms[7].u.snapshot_resp.next_offset = 7;
    for (int i = 0; i < 8; i++) {
        uint8_t buf[512], again[512];
        int n = raft_msg_encode(&ms[i], buf, sizeof buf);
        assert_true(n > 0);
        assert_true((size_t)n <= raft_msg_encoded_size(&ms[i]));
        raft_msg d;
        assert_int_equal(raft_msg_decode(ms[i].type, 1, 2, buf, (size_t)n, &d), RAFT_OK);
        assert_int_equal(raft_msg_encode(&d, again, sizeof again), n);
        assert_memory_equal(buf, again, (size_t)n);
        raft_msg_free(&d);
        for (int cut = 0; cut < n; cut++) /* every prefix is an error, never a crash */
            assert_int_not_equal(raft_msg_decode(ms[i].type, 1, 2, buf, (size_t)cut, &d), RAFT_OK);
        buf[n] = 0;
        assert_int_equal(raft_msg_decode(ms[i].type, 1, 2, buf, (size_t)n + 1, &d), RAFT_EMSG_TRAILING);
        assert_int_equal(raft_msg_encode(&ms[i], buf, (size_t)n - 1), -1);
    }
    raft_msg d;
    uint8_t z[32] = {0};
    assert_int_equal(raft_msg_decode(0x42, 1, 2, z, sizeof z, &d), RAFT_EMSG_TYPE);
    assert_int_equal(raft_msg_decode(RAFT_MSG_VOTE, 0, 2, z, 24, &d), RAFT_EMSG_INVALID);
    z[8] = 2; /* granted = 2 */
    assert_int_equal(raft_msg_decode(RAFT_MSG_VOTE_RESP, 1, 2, z, 9, &d), RAFT_EMSG_INVALID);
}

/* A snapshot the state machine cannot restore (config.snapshot_ok) is
 * dropped, and the leader asked to start over; a good one is installed. */
static int snapshot_checks;
static bool snapshot_ok_if_good(void *arg, const uint8_t *data, size_t len)
{
    (void)arg;
    snapshot_checks++;
    return len == 4 && memcmp(data, "good", 4) == 0;
}

static void test_snapshot_checked_before_install(void **s)
{
    (void)s;
    mk_snapshot_ok = snapshot_ok_if_good;
    raft *r = mk(2, 3, 0, NULL);
    mk_snapshot_ok = NULL;
    raft_msg m = msg(RAFT_MSG_SNAPSHOT, 1, 2, 1);
    m.u.snapshot.snap_index = 5;
    m.u.snapshot.snap_term = 1;
    m.u.snapshot.total = 4;
    m.u.snapshot.len = 4;
    uint8_t bad[] = "bad!", fine[] = "good";
    m.u.snapshot.data = bad;
    for (int good = 0; good <= 1; good++) {
        if (good)
            m.u.snapshot.data = fine;
        raft_recv(r, &m);
        const raft_out *o = raft_ready(r);
        assert_int_equal(o->snapshot_install, good);
        bool answered = false;
        for (size_t i = 0; i < o->n_msgs; i++)
            if (o->msgs[i].type == RAFT_MSG_SNAPSHOT_RESP) {
                assert_int_equal(o->msgs[i].u.snapshot_resp.next_offset, good ? 4 : 0);
                answered = true;
            }
        assert_true(answered);
        raft_done(r);
        assert_int_equal(raft_snapshot_index(r), good ? 5 : 0);
    }
    assert_int_equal(snapshot_checks, 2);
    raft_free(r);
}

static void test_names_and_config(void **s)
{
    (void)s;
    assert_int_equal(raft_bug_parse("figure-eight"), 0);
    unsigned all = 0;
    const char *names[] = {"stale-read", "commit-old-term", "no-log-check", "forget-vote",
                           "ack-before-fsync"};
    for (int i = 0; i < 5; i++) {
        unsigned b = raft_bug_parse(names[i]);
        assert_int_not_equal(b, 0);
        assert_string_equal(raft_bug_name(b), names[i]);
        all |= b;
    }
    assert_int_equal(__builtin_popcount(all), 5);
    raft_config c;
    raft_config_default(&c);
    c.id = 4;
    c.n_nodes = 3;
    c.nodes[0] = 1;
    c.nodes[1] = 2;
    c.nodes[2] = 3;
    char err[128];
    assert_null(raft_new(&c, NULL, 0, err, sizeof err));
    assert_non_null(strstr(err, "not in nodes"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_node_commits_after_fsync),
        cmocka_unit_test(test_vote_answered_only_when_durable),
        cmocka_unit_test(test_forget_vote_bug_answers_at_once),
        cmocka_unit_test(test_prevote_keeps_terms),
        cmocka_unit_test(test_check_quorum_steps_down),
        cmocka_unit_test(test_fast_backtracking_hint),
        cmocka_unit_test(test_up_to_date_vote_restriction),
        cmocka_unit_test(test_read_index_needs_majority_round),
        cmocka_unit_test(test_has_ready_after_round_acks),
        cmocka_unit_test(test_stale_read_bug_skips_round),
        cmocka_unit_test(test_commit_only_current_term),
        cmocka_unit_test(test_ack_waits_for_fsync),
        cmocka_unit_test(test_ack_before_fsync_writes_back),
        cmocka_unit_test(test_codec_roundtrip_and_truncation),
        cmocka_unit_test(test_snapshot_checked_before_install),
        cmocka_unit_test(test_names_and_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
