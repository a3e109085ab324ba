/* test_raftnode.c: integration tests of the raft-node binary: three real
 * processes on 127.0.0.1 (free ports, a temp dir), driven over RESP.
 *   redis-style commands, pipelining, -NOTLEADER redirects, CONSISTENCY
 *   modes, RIFT.STATUS, HMAC mismatch dropped and counted, and the "Done
 *   when" test: kill -9 of the leader under client load loses no
 *   acknowledged write and a new leader takes over.
 * With the argument `valgrind` it instead runs a short session with every
 * node under valgrind and checks they exit cleanly with no leaks or errors. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/clock.h"
#include "common/wire.h"
#include "nodes/raft/raft.h"
#include "rn_cluster.h"

static rn_cluster C;

/* Nodes must shut down cleanly (exit 0) on SIGTERM: in the sanitizer build
 * that is where leak reports would turn into a non-zero exit. */
static int teardown(void **state)
{
    (void)state;
    int bad = rn_cluster_term_all(&C);
    if (bad) { /* keep the logs to look at */
        char kept[160];
        snprintf(kept, sizeof kept, "%s.failed", C.dir);
        if (rename(C.dir, kept) == 0)
            fprintf(stderr, "logs kept in %s\n", kept);
    }
    rn_cluster_stop(&C);
    return bad ? -1 : 0;
}

static int start3(void **state, int key)
{
    (void)state;
    rn_cluster_init(&C, 3, key);
    if (rn_cluster_start(&C) < 0) {
        rn_cluster_stop(&C);
        return -1;
    }
    return 0;
}

static int setup(void **state) { return start3(state, 0); }

/* Small snapshots, so the kill test also covers compaction and a restarted
 * node catching up through InstallSnapshot. */
static int setup_snap(void **state)
{
    (void)state;
    rn_cluster_init(&C, 3, 0);
    C.extra[0] = "--snapshot-entries=300";
    C.extra[1] = "--election-timeout=300ms"; /* the defaults: failover speed as shipped */
    C.extra[2] = "--heartbeat=50ms";
    if (rn_cluster_start(&C) < 0) {
        rn_cluster_stop(&C);
        return -1;
    }
    return 0;
}
static int setup_key(void **state) { return start3(state, 1); }

static void assert_simple(const resp_value *v, const char *s)
{
    if (v->type != RESP_SIMPLE)
        fail_msg("expected +%s, got type %d '%s'", s, v->type, v->str ? v->str : "");
    assert_string_equal(v->str, s);
}

static void assert_bulk(const resp_value *v, const char *s)
{
    if (v->type != RESP_BULK)
        fail_msg("expected bulk '%s', got type %d '%s'", s, v->type, v->str ? v->str : "");
    assert_int_equal(v->len, strlen(s));
    assert_memory_equal(v->str, s, v->len);
}

static void assert_int_reply(const resp_value *v, long long n)
{
    if (v->type != RESP_INTEGER)
        fail_msg("expected :%lld, got type %d '%s'", n, v->type, v->str ? v->str : "");
    assert_int_equal(v->integer, n);
}

/* call on client and check the reply with fn; frees it */
#define CALL(cl, ...) do { resp_value v_; assert_int_equal(rn_call((cl), &v_, __VA_ARGS__, NULL), 0); last = v_; } while (0)

/* Wait for a leader; connect cl to it and fl to a follower. */
static void connect_pair(int *L, int *F, rn_client *cl, rn_client *fl)
{
    *L = rn_wait_leader(&C, 10000, -1);
    assert_true(*L >= 0);
    *F = (*L + 1) % 3;
    assert_int_equal(rn_connect(cl, C.nodes[*L].client_port), 0);
    assert_int_equal(rn_connect(fl, C.nodes[*F].client_port), 0);
}

static void test_commands_and_redirect(void **state)
{
    (void)state;
    int L, F;
    rn_client cl, fl;
    resp_value last;
    connect_pair(&L, &F, &cl, &fl);
    CALL(&cl, "PING"); assert_simple(&last, "PONG"); resp_value_free(&last);
    CALL(&cl, "SET", "k1", "v1"); assert_simple(&last, "OK"); resp_value_free(&last);
    CALL(&cl, "GET", "k1"); assert_bulk(&last, "v1"); resp_value_free(&last);
    CALL(&cl, "GET", "nope"); assert_int_equal(last.type, RESP_NIL); resp_value_free(&last);
    CALL(&cl, "SET", "k1", "x", "NX"); assert_int_equal(last.type, RESP_NIL); resp_value_free(&last);
    CALL(&cl, "SET", "k2", "x", "XX"); assert_int_equal(last.type, RESP_NIL); resp_value_free(&last);
    CALL(&cl, "VERSION", "k1");
    assert_int_equal(last.type, RESP_INTEGER);
    long long v1 = last.integer;
    assert_true(v1 > 0);
    resp_value_free(&last);
    CALL(&cl, "CAS", "k1", "wrong", "v2"); assert_int_reply(&last, 0); resp_value_free(&last);
    CALL(&cl, "CAS", "k1", "v1", "v2"); assert_int_reply(&last, 1); resp_value_free(&last);
    CALL(&cl, "GET", "k1"); assert_bulk(&last, "v2"); resp_value_free(&last);
    CALL(&cl, "VERSION", "k1");
    assert_true(last.integer > v1);
    resp_value_free(&last);
    CALL(&cl, "DEL", "k1"); assert_int_reply(&last, 1); resp_value_free(&last);
    CALL(&cl, "GET", "k1"); assert_int_equal(last.type, RESP_NIL); resp_value_free(&last);
    CALL(&cl, "SET", "k1"); assert_int_equal(last.type, RESP_ERROR); resp_value_free(&last);
    CALL(&cl, "SET", "k1", "v", "PX", "0"); assert_int_equal(last.type, RESP_ERROR); resp_value_free(&last);
    CALL(&cl, "BOGUS"); assert_int_equal(last.type, RESP_ERROR); resp_value_free(&last);
    CALL(&cl, "INFO"); assert_int_equal(last.type, RESP_BULK);
    assert_non_null(strstr(last.str, "role:leader")); resp_value_free(&last);

    /* TTL: gone after the leader's expiry entry applies (bounded wait) */
    CALL(&cl, "SET", "ttl", "x", "PX", "100"); assert_simple(&last, "OK"); resp_value_free(&last);
    int gone = 0;
    for (int i = 0; i < 100 && !gone; i++) {
        usleep(20000);
        CALL(&cl, "GET", "ttl");
        gone = last.type == RESP_NIL;
        resp_value_free(&last);
    }
    assert_true(gone);

    /* pipelining: 200 commands in one write, replies in order */
    for (int i = 0; i < 200; i++) {
        char key[16], val[16];
        snprintf(key, sizeof key, "p%d", i / 2); /* one SET then one GET per key */
        snprintf(val, sizeof val, "%d", i);
        const char *argv[3] = {i % 2 ? "GET" : "SET", key, val};
        rn_append(&cl, i % 2 ? 2 : 3, argv);
    }
    assert_int_equal(rn_flush(&cl), 0);
    for (int i = 0; i < 200; i++) {
        resp_value v;
        assert_int_equal(rn_read(&cl, &v), 0);
        if (i % 2 == 0) {
            assert_simple(&v, "OK");
        } else { /* a GET sees the SET just before it on the same connection */
            char want[16];
            snprintf(want, sizeof want, "%d", i - 1);
            assert_bulk(&v, want);
        }
        resp_value_free(&v);
    }

    /* a follower redirects writes and linearizable reads to the leader */
    char want[64];
    snprintf(want, sizeof want, "NOTLEADER %d 127.0.0.1:%d", C.nodes[L].id, C.nodes[L].client_port);
    CALL(&fl, "SET", "k", "v"); assert_int_equal(last.type, RESP_ERROR);
    assert_string_equal(last.str, want); resp_value_free(&last);
    CALL(&fl, "GET", "k"); assert_int_equal(last.type, RESP_ERROR);
    assert_string_equal(last.str, want); resp_value_free(&last);

    /* RIFT.STATUS */
    char role[32];
    long long term = 0, writes = 0;
    assert_int_equal(rn_status(&C, L, role, sizeof role, &term, "writes_ok", &writes), 0);
    assert_string_equal(role, "leader");
    assert_true(term >= 1);
    assert_true(writes >= 100);
    assert_int_equal(rn_status(&C, F, role, sizeof role, NULL, NULL, NULL), 0);
    assert_string_equal(role, "follower");
    rn_close(&cl);
    rn_close(&fl);

    /* trace events with both clocks (flushed within ~100 ms) */
    usleep(400000);
    char path[256], line[1024];
    snprintf(path, sizeof path, "%s/trace-%d.jsonl", C.dir, C.nodes[L].id);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    int kinds[4] = {0, 0, 0, 0};
    const char *names[4] = {"\"kind\":\"role\"", "\"kind\":\"commit\"", "\"kind\":\"apply\"",
                            "\"kind\":\"append\""};
    while (fgets(line, sizeof line, f)) {
        assert_non_null(strstr(line, "\"lamport\":"));
        assert_non_null(strstr(line, "\"vc\":{"));
        for (int k = 0; k < 4; k++)
            kinds[k] += strstr(line, names[k]) != NULL;
        if (strstr(line, names[1]))
            assert_non_null(strstr(line, "\"hash\":\""));
    }
    fclose(f);
    for (int k = 0; k < 4; k++)
        assert_true(kinds[k] > 0);
}

static void test_consistency_modes(void **state)
{
    (void)state;
    int L, F;
    rn_client cl, fl;
    resp_value last;
    connect_pair(&L, &F, &cl, &fl);
    CALL(&cl, "SET", "m", "1"); assert_simple(&last, "OK"); resp_value_free(&last);
    CALL(&cl, "CONSISTENCY"); assert_bulk(&last, "linearizable"); resp_value_free(&last);
    CALL(&cl, "CONSISTENCY", "lease"); assert_simple(&last, "OK"); resp_value_free(&last);
    CALL(&cl, "GET", "m"); assert_bulk(&last, "1"); resp_value_free(&last);
    CALL(&cl, "CONSISTENCY", "strong"); assert_int_equal(last.type, RESP_ERROR); resp_value_free(&last);
    /* sequential and eventual answer on a follower from its applied state */
    const char *modes[2] = {"sequential", "eventual"};
    for (int m = 0; m < 2; m++) {
        CALL(&fl, "CONSISTENCY", modes[m]); assert_simple(&last, "OK"); resp_value_free(&last);
        int seen = 0;
        for (int i = 0; i < 100 && !seen; i++) {
            CALL(&fl, "GET", "m");
            assert_true(last.type == RESP_BULK || last.type == RESP_NIL);
            seen = last.type == RESP_BULK;
            resp_value_free(&last);
            if (!seen)
                usleep(20000);
        }
        assert_true(seen);
        /* writes still go to the leader */
        CALL(&fl, "SET", "m", "2"); assert_int_equal(last.type, RESP_ERROR);
        assert_non_null(strstr(last.str, "NOTLEADER")); resp_value_free(&last);
    }
    CALL(&fl, "CONSISTENCY", "lease"); assert_simple(&last, "OK"); resp_value_free(&last);
    CALL(&fl, "GET", "m"); assert_int_equal(last.type, RESP_ERROR);
    assert_non_null(strstr(last.str, "NOTLEADER")); resp_value_free(&last);
    rn_close(&cl);
    rn_close(&fl);
}

/* Node 3 has another key: its datagrams are dropped and counted by 1 and 2
 * and theirs by it; 1 and 2 still form a majority. */
static int setup_bad_key(void **state)
{
    (void)state;
    rn_cluster_init(&C, 3, 1);
    char err[256];
    wire_key k;
    snprintf(C.nodes[2].key_file, sizeof C.nodes[2].key_file, "%s/other.key", C.dir);
    if (wire_key_generate(C.nodes[2].key_file, &k, err, sizeof err) < 0 || rn_cluster_start(&C) < 0) {
        rn_cluster_stop(&C);
        return -1;
    }
    return 0;
}

static void test_hmac_mismatch(void **state)
{
    (void)state;
    int L = rn_wait_leader(&C, 10000, 2);
    assert_true(L == 0 || L == 1);
    resp_value last;
    rn_client cl;
    assert_int_equal(rn_connect(&cl, C.nodes[L].client_port), 0);
    CALL(&cl, "SET", "h", "1"); assert_simple(&last, "OK"); resp_value_free(&last);
    rn_close(&cl);
    /* node 3 campaigns (pre-votes) once its election timer runs out, and
     * the leader's heartbeats reach node 3: wait until both sides counted a
     * rejected datagram. Polled against a deadline rather than a fixed
     * number of sleeps, because under valgrind or on a busy machine node 3's
     * first campaign can come several election timeouts late. */
    long long bad3 = 0, badL = 0;
    char role[32] = "";
    uint64_t end = mono_now_ns() + 60000000000ull; /* bounded: 60 s at most */
    while ((badL == 0 || bad3 == 0) && mono_now_ns() < end) {
        assert_int_equal(rn_status(&C, L, role, sizeof role, NULL, "auth_failures", &badL), 0);
        assert_int_equal(rn_status(&C, 2, role, sizeof role, NULL, "auth_failures", &bad3), 0);
        if (badL == 0 || bad3 == 0)
            usleep(50000);
    }
    assert_true(bad3 > 0);
    assert_true(badL > 0);
    assert_string_not_equal(role, "");
    /* node 3 never got the write */
    assert_int_equal(rn_call_node(&C, 2, &last, "CONSISTENCY", "eventual", NULL), 0);
    resp_value_free(&last);
    rn_client c3;
    assert_int_equal(rn_connect(&c3, C.nodes[2].client_port), 0);
    CALL(&c3, "CONSISTENCY", "eventual"); resp_value_free(&last);
    CALL(&c3, "GET", "h"); assert_int_equal(last.type, RESP_NIL); resp_value_free(&last);
    rn_close(&c3);

    /* Hand-made datagrams to the leader: garbage is `malformed`, another
     * cluster's is `other_cluster`, an untagged one is an auth failure. */
    long long mal0 = 0, oc0 = 0, auth0 = 0, mal1 = 0, oc1 = 0, auth1 = 0;
    rn_status(&C, L, role, sizeof role, NULL, "malformed", &mal0);
    rn_status(&C, L, role, sizeof role, NULL, "other_cluster", &oc0);
    rn_status(&C, L, role, sizeof role, NULL, "auth_failures", &auth0);
    wire_key key;
    char err[256];
    assert_int_equal(wire_key_load(C.nodes[0].key_file, &key, err, sizeof err), 0);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)C.nodes[L].udp_port)};
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    uint8_t junk[40], d[200];
    memset(junk, 0x5a, sizeof junk);
    sendto(fd, junk, sizeof junk, 0, (struct sockaddr *)&to, sizeof to);
    wire_header h = {.type = 5, .src = (uint16_t)C.nodes[(L + 1) % 2].id, .dst = (uint16_t)C.nodes[L].id,
                     .cluster = 99};
    int n = wire_encode(d, sizeof d, &h, "x", 1, &key);
    assert_true(n > 0);
    sendto(fd, d, (size_t)n, 0, (struct sockaddr *)&to, sizeof to);
    h.cluster = 1;
    n = wire_encode(d, sizeof d, &h, "x", 1, NULL);
    assert_true(n > 0);
    sendto(fd, d, (size_t)n, 0, (struct sockaddr *)&to, sizeof to);
    close(fd);
    usleep(200000);
    rn_status(&C, L, role, sizeof role, NULL, "malformed", &mal1);
    rn_status(&C, L, role, sizeof role, NULL, "other_cluster", &oc1);
    rn_status(&C, L, role, sizeof role, NULL, "auth_failures", &auth1);
    assert_true(mal1 > mal0);
    assert_true(oc1 > oc0);
    assert_true(auth1 > auth0);
}

/* A snapshot that does not restore into the key/value state is dropped
 * before install (raft.h, snapshot_ok): a node that installed it would
 * count it applied and then could not serve it. A hand-made InstallSnapshot
 * (a newer term, one chunk of garbage) to a follower: it takes the newer
 * term (so it read the message), keeps running, installs nothing. */
static void test_bad_snapshot_dropped(void **state)
{
    (void)state;
    int L = rn_wait_leader(&C, 10000, -1);
    assert_true(L >= 0);
    int F = (L + 1) % 3, other = (L + 2) % 3;
    long long term = 0;
    char role[32];
    assert_int_equal(rn_status(&C, F, role, sizeof role, &term, NULL, NULL), 0);
    uint8_t junk[64], body[256], d[512];
    memset(junk, 0xa5, sizeof junk);
    raft_msg m;
    memset(&m, 0, sizeof m);
    m.type = RAFT_MSG_SNAPSHOT;
    m.from = (raft_id)C.nodes[other].id;
    m.to = (raft_id)C.nodes[F].id;
    m.term = (raft_term)term + 5;
    m.u.snapshot.snap_index = 1000000;
    m.u.snapshot.snap_term = (raft_term)term + 5;
    m.u.snapshot.total = sizeof junk;
    m.u.snapshot.len = sizeof junk;
    m.u.snapshot.data = junk;
    vclock vc;
    memset(&vc, 0, sizeof vc);
    int vl = vclock_encode(&vc, body, sizeof body);
    assert_true(vl >= 0);
    int bl = raft_msg_encode(&m, body + vl, sizeof body - (size_t)vl);
    assert_true(bl > 0);
    wire_header h = {.type = RAFT_MSG_SNAPSHOT, .src = (uint16_t)C.nodes[other].id,
                     .dst = (uint16_t)C.nodes[F].id, .cluster = 1};
    int n = wire_encode(d, sizeof d, &h, body, (size_t)(vl + bl), NULL);
    assert_true(n > 0);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)C.nodes[F].udp_port)};
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    /* Bounded: resend until the follower has taken the newer term. */
    long long now_term = term, installed = -1;
    uint64_t end = mono_now_ns() + 20000000000ull;
    while (now_term < term + 5 && mono_now_ns() < end) {
        sendto(fd, d, (size_t)n, 0, (struct sockaddr *)&to, sizeof to);
        usleep(50000);
        assert_int_equal(waitpid(C.nodes[F].pid, NULL, WNOHANG), 0);   /* still running */
        assert_int_equal(rn_status(&C, F, role, sizeof role, &now_term, NULL, NULL), 0);
    }
    close(fd);
    assert_true(now_term >= term + 5);
    assert_int_equal(rn_status(&C, F, role, sizeof role, NULL, "snapshots_installed", &installed), 0);
    assert_int_equal(installed, 0);
    assert_int_equal(waitpid(C.nodes[F].pid, NULL, WNOHANG), 0);
}

/* The "Done when" test: pipelined writes to the leader, kill -9 of the
 * leader midway, keep writing to whoever leads next; afterwards every
 * acknowledged write must be readable (linearizable) from the new leader. */
#define KL_KEYS 4000
static void test_kill_leader(void **state)
{
    (void)state;
    static unsigned char acked[KL_KEYS];
    memset(acked, 0, sizeof acked);
    int L = rn_wait_leader(&C, 10000, -1), killed = -1;
    assert_true(L >= 0);
    int next = 0, n_acked = 0;
    uint64_t killed_at = 0, new_leader_after = 0;
    uint64_t end = mono_now_ns() + 20000000000ull; /* bounded: 20 s at most */
    while (next < KL_KEYS && mono_now_ns() < end) {
        if (killed < 0 && next >= KL_KEYS / 3) {
            rn_node_kill(&C, L);
            killed = L;
            killed_at = mono_now_ns();
        }
        int cur = rn_wait_leader(&C, 5000, killed);
        if (cur < 0)
            continue;
        if (killed >= 0 && !new_leader_after)
            new_leader_after = mono_now_ns() - killed_at;
        rn_client cl;
        if (rn_connect(&cl, C.nodes[cur].client_port) < 0)
            continue;
        /* a batch of 16 pipelined SETs */
        int first = next, count = next + 16 <= KL_KEYS ? 16 : KL_KEYS - next;
        for (int i = 0; i < count; i++) {
            char key[16], val[16];
            snprintf(key, sizeof key, "kl%d", first + i);
            snprintf(val, sizeof val, "v%d", first + i);
            const char *argv[3] = {"SET", key, val};
            rn_append(&cl, 3, argv);
        }
        int ok = rn_flush(&cl) == 0;
        for (int i = 0; ok && i < count; i++) {
            resp_value v;
            if (rn_read(&cl, &v) < 0)
                break;
            if (v.type == RESP_SIMPLE && strcmp(v.str, "OK") == 0) {
                acked[first + i] = 1;
                n_acked++;
            }
            resp_value_free(&v);
        }
        next += count;
        rn_close(&cl);
        /* leave the killed leader's slot open a while before the kill */
        if (killed < 0 && next >= KL_KEYS / 3 - 16)
            usleep(1000);
    }
    assert_true(killed >= 0);
    assert_true(new_leader_after > 0);
    print_message("new leader %.0f ms after kill -9 of n%d; %d of %d writes acknowledged\n",
                  new_leader_after / 1e6, C.nodes[killed].id, n_acked, next);
    assert_true(n_acked > KL_KEYS / 2);
    int cur = -1;
    rn_client cl = {0};
    int lost = 0;
    for (int i = 0; i < KL_KEYS; i++) {
        if (!acked[i])
            continue;
        char key[16], val[16];
        snprintf(key, sizeof key, "kl%d", i);
        snprintf(val, sizeof val, "v%d", i);
        resp_value v;
        assert_int_equal(rn_call_leader(&C, &cl, &cur, &v, "GET", key, NULL), 0);
        if (v.type != RESP_BULK || strcmp(v.str, val) != 0) {
            if (lost++ < 5)
                print_message("lost acknowledged write %s: got type %d '%s'\n", key, v.type,
                              v.str ? v.str : "");
        }
        resp_value_free(&v);
    }
    rn_close(&cl);
    assert_int_equal(lost, 0);
    /* the killed node comes back (from its own data directory) and catches
     * up: eventually it holds the last acknowledged write */
    assert_int_equal(rn_node_start(&C, killed), 0);
    int last = KL_KEYS - 1;
    while (last >= 0 && !acked[last])
        last--;
    assert_true(last >= 0);
    char key[16], val[16];
    snprintf(key, sizeof key, "kl%d", last);
    snprintf(val, sizeof val, "v%d", last);
    rn_client kc;
    assert_int_equal(rn_connect(&kc, C.nodes[killed].client_port), 0);
    resp_value v;
    assert_int_equal(rn_call(&kc, &v, "CONSISTENCY", "eventual", NULL), 0);
    resp_value_free(&v);
    int caught_up = 0;
    for (int i = 0; i < 250 && !caught_up; i++) { /* at most ~5 s */
        assert_int_equal(rn_call(&kc, &v, "GET", key, NULL), 0);
        caught_up = v.type == RESP_BULK && strcmp(v.str, val) == 0;
        resp_value_free(&v);
        if (!caught_up)
            usleep(20000);
    }
    rn_close(&kc);
    assert_true(caught_up);
    long long snaps = 0;
    char role[32];
    assert_int_equal(rn_status(&C, cur, role, sizeof role, NULL, "snapshots_taken", &snaps), 0);
    assert_true(snaps > 0);
    /* the leader compacted past what the restarted node had: it caught up
     * from the leader's snapshot */
    assert_int_equal(rn_status(&C, killed, role, sizeof role, NULL, "snapshots_installed", &snaps), 0);
    assert_true(snaps > 0);
}

/* Every node killed with SIGKILL and restarted: acknowledged writes survive
 * (term, vote and log were durable before the acknowledgement). */
static void test_restart_all(void **state)
{
    (void)state;
    int L = rn_wait_leader(&C, 10000, -1);
    assert_true(L >= 0);
    rn_client cl;
    resp_value last;
    assert_int_equal(rn_connect(&cl, C.nodes[L].client_port), 0);
    for (int i = 0; i < 50; i++) {
        char key[16];
        snprintf(key, sizeof key, "r%d", i);
        CALL(&cl, "SET", key, key);
        assert_simple(&last, "OK");
        resp_value_free(&last);
    }
    rn_close(&cl);
    for (int i = 0; i < C.n; i++)
        rn_node_kill(&C, i);
    assert_int_equal(rn_cluster_start(&C), 0);
    L = rn_wait_leader(&C, 10000, -1);
    assert_true(L >= 0);
    assert_int_equal(rn_connect(&cl, C.nodes[L].client_port), 0);
    for (int i = 0; i < 50; i++) {
        char key[16];
        snprintf(key, sizeof key, "r%d", i);
        CALL(&cl, "GET", key);
        assert_bulk(&last, key);
        resp_value_free(&last);
    }
    rn_close(&cl);
}

/* Usage errors exit 254 with a message; --help exits 0. */
static int run_node(const char *const *args)
{
    char path[512];
    const char *bin = getenv("RIFTLAB_BIN");
    snprintf(path, sizeof path, "%s/raft-node", bin ? bin : ".");
    const char *argv[16];
    int a = 0;
    argv[a++] = path;
    for (int i = 0; args[i] && a < 15; i++)
        argv[a++] = args[i];
    argv[a] = NULL;
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        dup2(fd, 1);
        dup2(fd, 2);
        execv(path, (char *const *)argv);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_flags(void **state)
{
    (void)state;
    const char *help[] = {"--help", NULL};
    assert_int_equal(run_node(help), 0);
    const char *missing[] = {"--id", "1", NULL};
    assert_int_equal(run_node(missing), 254);
    const char *bad_addr[] = {"--id", "1", "--listen", "127.0.0.1:99999", "--client", "127.0.0.1:1", NULL};
    assert_int_equal(run_node(bad_addr), 254);
    const char *bad_bug[] = {"--id", "1", "--listen", "127.0.0.1:1", "--client", "127.0.0.1:2",
                             "--bug", "no-such-bug", NULL};
    assert_int_equal(run_node(bad_bug), 254);
    const char *bad_fsync[] = {"--id", "1", "--listen", "127.0.0.1:1", "--client", "127.0.0.1:2",
                               "--fsync", "sometimes", NULL};
    assert_int_equal(run_node(bad_fsync), 254);
    const char *self_peer[] = {"--id", "1", "--listen", "127.0.0.1:1", "--client", "127.0.0.1:2",
                               "--peer", "1=127.0.0.1:3", NULL};
    assert_int_equal(run_node(self_peer), 254);
    const char *bad_dur[] = {"--id", "1", "--listen", "127.0.0.1:1", "--client", "127.0.0.1:2",
                             "--heartbeat", "200ms", "--election-timeout", "300ms", NULL};
    assert_int_equal(run_node(bad_dur), 254);
    const char *extra[] = {"--id", "1", "--listen", "127.0.0.1:1", "--client", "127.0.0.1:2", "junk", NULL};
    assert_int_equal(run_node(extra), 254);
}

/* valgrind mode: every node under valgrind; a few writes; SIGTERM; each
 * must exit 0 (valgrind --error-exitcode=1 turns errors and leaks into 1). */
static int valgrind_main(void)
{
#ifdef RN_SANITIZED
    return 77; /* valgrind cannot run ASan binaries; the sanitizers cover this build */
#endif
    if (access("/usr/bin/valgrind", X_OK) != 0)
        return 77;
    rn_cluster_init(&C, 3, 1);
    static const char *vg[] = {"/usr/bin/valgrind", "--quiet", "--leak-check=full",
                               "--show-leak-kinds=definite,indirect,possible",
                               "--errors-for-leak-kinds=definite,indirect,possible",
                               "--error-exitcode=1", NULL};
    memcpy(C.wrapper, vg, sizeof vg);
    /* valgrind slows the nodes down many times: slower timers keep the
     * leader stable (later flags override rn_cluster's defaults). */
    C.extra[0] = "--election-timeout=2s";
    C.extra[1] = "--heartbeat=200ms";
    C.extra[2] = "--snapshot-entries=20"; /* exercise snapshots and compaction too */
    int rc = 1, ok = 0;
    if (rn_cluster_start(&C) < 0) {
        fprintf(stderr, "valgrind: cluster did not start\n");
        goto out;
    }
    for (int i = 0; i < 50; i++) {
        int L = rn_wait_leader(&C, 30000, -1);
        rn_client cl;
        if (L < 0 || rn_connect(&cl, C.nodes[L].client_port) < 0)
            continue;
        char key[16];
        snprintf(key, sizeof key, "vg%d", i);
        resp_value v;
        if (rn_call(&cl, &v, "SET", key, "x", i % 5 ? NULL : "PX", "50", NULL) == 0) {
            ok += v.type == RESP_SIMPLE;
            resp_value_free(&v);
        }
        if (rn_call(&cl, &v, "GET", key, NULL) == 0)
            resp_value_free(&v);
        rn_close(&cl);
    }
    if (ok < 25) {
        fprintf(stderr, "valgrind: only %d of 50 writes succeeded\n", ok);
        goto out;
    }
    rc = rn_cluster_term_all(&C) ? 1 : 0;
out:
    if (rc != 0) { /* keep the logs for a look: move the directory aside */
        char kept[160];
        snprintf(kept, sizeof kept, "%s.failed", C.dir);
        if (rename(C.dir, kept) == 0)
            fprintf(stderr, "valgrind: logs kept in %s\n", kept);
    }
    rn_cluster_stop(&C);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "valgrind") == 0)
        return valgrind_main();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_commands_and_redirect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_consistency_modes, setup_key, teardown),
        cmocka_unit_test_setup_teardown(test_hmac_mismatch, setup_bad_key, teardown),
        cmocka_unit_test_setup_teardown(test_bad_snapshot_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kill_leader, setup_snap, teardown),
        cmocka_unit_test_setup_teardown(test_restart_all, setup, teardown),
        cmocka_unit_test(test_flags),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
