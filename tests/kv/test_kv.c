/* test_kv.c: unit tests of the kv state machine (nodes/kv): every command,
 * its edge cases, the log encoding, versions as fencing tokens, replicated
 * expiry, determinism across replicas, and snapshot round trips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kv.h"

static uint8_t cmd[1 << 16];

static kv_reply apply_ok(kv *k, int len)
{
    kv_reply r;
    assert_true(len > 0);
    assert_int_equal(kv_apply(k, cmd, (size_t)len, &r), 0);
    return r;
}

static kv_reply set(kv *k, const char *key, const char *val, uint8_t flags, int64_t deadline)
{
    return apply_ok(k, kv_encode_set(cmd, sizeof cmd, key, strlen(key), val, strlen(val), flags, deadline));
}

static kv_reply del(kv *k, const char *key)
{
    return apply_ok(k, kv_encode_del(cmd, sizeof cmd, key, strlen(key)));
}

static kv_reply cas(kv *k, const char *key, const char *expect, const char *val)
{
    return apply_ok(k, kv_encode_cas(cmd, sizeof cmd, key, strlen(key), expect, strlen(expect),
                                     val, strlen(val)));
}

static kv_reply expire(kv *k, const char *key, uint64_t version)
{
    return apply_ok(k, kv_encode_expire(cmd, sizeof cmd, key, strlen(key), version));
}

/* What collect() saw last. */
struct seen {
    char key[8];
    uint64_t version;
    int n;
};

static void collect(const uint8_t *key, size_t klen, uint64_t version, void *arg)
{
    struct seen *s = arg;
    assert_true(klen < sizeof s->key);
    memcpy(s->key, key, klen);
    s->key[klen] = 0;
    s->version = version;
    s->n++;
}

static void assert_value(kv *k, const char *key, const char *want)
{
    kv_reply r;
    kv_get(k, key, strlen(key), &r);
    if (!want) {
        assert_int_equal(r.type, KV_REPLY_NIL);
        return;
    }
    assert_int_equal(r.type, KV_REPLY_BULK);
    assert_int_equal(r.len, strlen(want));
    assert_memory_equal(r.data, want, r.len);
}

static void test_set_get_del(void **state)
{
    (void)state;
    kv *k = kv_new();
    assert_value(k, "a", NULL);
    assert_int_equal(set(k, "a", "1", 0, 0).type, KV_REPLY_OK);
    assert_value(k, "a", "1");
    assert_int_equal(set(k, "a", "22", 0, 0).type, KV_REPLY_OK);
    assert_value(k, "a", "22");
    assert_int_equal(kv_count(k), 1);
    kv_reply r = del(k, "a");
    assert_int_equal(r.type, KV_REPLY_INT);
    assert_int_equal(r.integer, 1);
    assert_value(k, "a", NULL);
    assert_int_equal(del(k, "a").integer, 0);
    assert_int_equal(kv_count(k), 0);
    /* empty key and empty value are ordinary byte strings */
    assert_int_equal(set(k, "", "", 0, 0).type, KV_REPLY_OK);
    assert_value(k, "", "");
    /* binary data with NULs */
    uint8_t key[3] = {0, 1, 0}, val[4] = {0, 0, 7, 0};
    apply_ok(k, kv_encode_set(cmd, sizeof cmd, key, 3, val, 4, 0, 0));
    kv_reply g;
    kv_get(k, key, 3, &g);
    assert_int_equal(g.len, 4);
    assert_memory_equal(g.data, val, 4);
    kv_free(k);
}

static void test_set_nx_xx(void **state)
{
    (void)state;
    kv *k = kv_new();
    assert_int_equal(set(k, "a", "1", KV_SET_XX, 0).type, KV_REPLY_NIL);
    assert_value(k, "a", NULL);
    assert_int_equal(set(k, "a", "1", KV_SET_NX, 0).type, KV_REPLY_OK);
    assert_int_equal(set(k, "a", "2", KV_SET_NX, 0).type, KV_REPLY_NIL);
    assert_value(k, "a", "1");
    assert_int_equal(set(k, "a", "3", KV_SET_XX, 0).type, KV_REPLY_OK);
    assert_value(k, "a", "3");
    /* a failed NX does not consume a version */
    uint64_t v = kv_version(k, "a", 1), rev = kv_rev(k);
    set(k, "a", "x", KV_SET_NX, 0);
    assert_int_equal(kv_version(k, "a", 1), v);
    assert_int_equal(kv_rev(k), rev);
    /* NX together with XX cannot be encoded */
    assert_int_equal(kv_encode_set(cmd, sizeof cmd, "a", 1, "b", 1, KV_SET_NX | KV_SET_XX, 0), -1);
    kv_free(k);
}

static void test_cas(void **state)
{
    (void)state;
    kv *k = kv_new();
    assert_int_equal(cas(k, "a", "", "1").integer, 0); /* missing key never matches */
    assert_value(k, "a", NULL);
    set(k, "a", "1", 0, 0);
    assert_int_equal(cas(k, "a", "2", "3").integer, 0);
    assert_value(k, "a", "1");
    uint64_t v = kv_version(k, "a", 1);
    kv_reply r = cas(k, "a", "1", "3");
    assert_int_equal(r.type, KV_REPLY_INT);
    assert_int_equal(r.integer, 1);
    assert_value(k, "a", "3");
    assert_true(kv_version(k, "a", 1) > v);
    /* expected must match exactly, also in length */
    assert_int_equal(cas(k, "a", "33", "4").integer, 0);
    assert_int_equal(cas(k, "a", "", "4").integer, 0);
    kv_free(k);
}

static void test_versions_fencing(void **state)
{
    (void)state;
    kv *k = kv_new();
    assert_int_equal(kv_version(k, "a", 1), 0);
    set(k, "a", "1", 0, 0);
    uint64_t v1 = kv_version(k, "a", 1);
    assert_true(v1 > 0);
    set(k, "b", "1", 0, 0);
    set(k, "a", "2", 0, 0);
    uint64_t v2 = kv_version(k, "a", 1);
    assert_true(v2 > v1);
    del(k, "a");
    assert_int_equal(kv_version(k, "a", 1), 0);
    set(k, "a", "1", 0, 0);
    uint64_t v3 = kv_version(k, "a", 1);
    assert_true(v3 > v2); /* re-created key: above every earlier version */
    assert_int_equal(kv_rev(k), v3);
    kv_free(k);
}

static void test_expiry(void **state)
{
    (void)state;
    kv *k = kv_new();
    set(k, "t", "1", KV_SET_PX, 1000);
    set(k, "u", "1", KV_SET_PX, 5000);
    set(k, "p", "1", 0, 0);
    struct seen seen = {{0}, 0, 0};
    /* nothing due yet */
    assert_int_equal(kv_collect_expired(k, 999, 100, 10, collect, &seen), 0);
    assert_int_equal(kv_collect_expired(k, 1000, 100, 10, collect, &seen), 1);
    assert_string_equal(seen.key, "t");
    assert_int_equal(seen.version, kv_version(k, "t", 1));
    /* not reported again within retry_ms, again after it */
    assert_int_equal(kv_collect_expired(k, 1050, 100, 10, collect, &seen), 0);
    assert_int_equal(kv_collect_expired(k, 1100, 100, 10, collect, &seen), 1);
    /* an EXPIRE for an older version does nothing (the key was re-set) */
    uint64_t old = seen.version;
    set(k, "t", "2", KV_SET_PX, 3000);
    assert_int_equal(expire(k, "t", old).integer, 0);
    assert_value(k, "t", "2");
    /* the current version expires */
    assert_int_equal(expire(k, "t", kv_version(k, "t", 1)).integer, 1);
    assert_value(k, "t", NULL);
    /* a key without a deadline is never expired, even with its version */
    assert_int_equal(expire(k, "p", kv_version(k, "p", 1)).integer, 0);
    assert_value(k, "p", "1");
    /* plain SET clears the TTL; CAS keeps it */
    set(k, "u", "2", 0, 0);
    assert_int_equal(kv_collect_expired(k, 99999, 0, 10, collect, &seen), 0);
    set(k, "c", "1", KV_SET_PX, 10);
    cas(k, "c", "1", "2");
    assert_int_equal(kv_collect_expired(k, 10, 0, 10, collect, &seen), 1);
    assert_string_equal(seen.key, "c");
    /* max bounds the report */
    set(k, "d", "1", KV_SET_PX, 5);
    set(k, "e", "1", KV_SET_PX, 5);
    assert_int_equal(kv_collect_expired(k, 20, 0, 1, collect, &seen), 1);
    kv_free(k);
}


static void test_codec(void **state)
{
    (void)state;
    kv_cmd c, d;
    memset(&c, 0, sizeof c);
    c.op = KV_OP_SET;
    c.flags = KV_SET_PX | KV_SET_XX;
    c.key = (const uint8_t *)"key";
    c.klen = 3;
    c.val = (const uint8_t *)"value";
    c.vlen = 5;
    c.deadline_ms = -123456789;
    int n = kv_cmd_encode(&c, cmd, sizeof cmd);
    assert_int_equal(n, (int)kv_cmd_size(&c));
    assert_int_equal(kv_cmd_decode(&d, cmd, (size_t)n), 0);
    assert_int_equal(d.op, KV_OP_SET);
    assert_int_equal(d.flags, c.flags);
    assert_int_equal(d.deadline_ms, c.deadline_ms);
    assert_memory_equal(d.key, "key", 3);
    assert_memory_equal(d.val, "value", 5);
    /* a 256-byte SET costs little more than its bytes */
    char big[256];
    memset(big, 'x', sizeof big);
    n = kv_encode_set(cmd, sizeof cmd, "k00000001", 9, big, sizeof big, 0, 0);
    assert_true(n <= 2 + 1 + 9 + 2 + 256);
    /* every truncation and trailing garbage is rejected */
    for (int i = 0; i < n; i++)
        assert_int_equal(kv_cmd_decode(&d, cmd, (size_t)i), -1);
    cmd[n] = 0;
    assert_int_equal(kv_cmd_decode(&d, cmd, (size_t)n + 1), -1);
    /* unknown op / flags */
    n = kv_encode_del(cmd, sizeof cmd, "a", 1);
    cmd[0] = 99;
    assert_int_equal(kv_cmd_decode(&d, cmd, (size_t)n), -1);
    cmd[0] = KV_OP_DEL;
    cmd[1] = 1;
    assert_int_equal(kv_cmd_decode(&d, cmd, (size_t)n), -1);
    /* too small an output buffer */
    assert_int_equal(kv_encode_set(cmd, 5, "key", 3, "value", 5, 0, 0), -1);
    /* CAS and EXPIRE round trip */
    n = kv_encode_cas(cmd, sizeof cmd, "k", 1, "e", 1, "nn", 2);
    assert_int_equal(kv_cmd_decode(&d, cmd, (size_t)n), 0);
    assert_int_equal(d.elen, 1);
    assert_int_equal(d.vlen, 2);
    n = kv_encode_expire(cmd, sizeof cmd, "k", 1, UINT64_MAX);
    assert_int_equal(kv_cmd_decode(&d, cmd, (size_t)n), 0);
    assert_true(d.version == UINT64_MAX);
}

static void test_malformed_apply(void **state)
{
    (void)state;
    kv *k = kv_new();
    set(k, "a", "1", 0, 0);
    uint64_t dg = kv_digest(k);
    uint8_t junk[] = {7, 0, 1, 'a'};
    kv_reply r;
    assert_int_equal(kv_apply(k, junk, sizeof junk, &r), -1);
    assert_int_equal(r.type, KV_REPLY_ERR);
    assert_true(r.len > 0);
    assert_int_equal(kv_apply(k, junk, 0, &r), -1);
    assert_true(kv_digest(k) == dg);
    kv_free(k);
}

/* A seeded random command stream applied to two replicas (one snapshotted
 * and restored midway) must end in the same state with the same replies. */
static uint64_t rnd_state = 42;
static uint64_t rnd(void)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return rnd_state;
}

static int random_cmd(uint8_t *out, size_t cap)
{
    char key[8], val[8], exp[8];
    snprintf(key, sizeof key, "k%u", (unsigned)(rnd() % 50));
    snprintf(val, sizeof val, "%u", (unsigned)(rnd() % 4));
    snprintf(exp, sizeof exp, "%u", (unsigned)(rnd() % 4));
    switch (rnd() % 5) {
    case 0: return kv_encode_set(out, cap, key, strlen(key), val, strlen(val), 0, 0);
    case 1: return kv_encode_set(out, cap, key, strlen(key), val, strlen(val),
                                 (uint8_t)(KV_SET_PX | (rnd() % 3 == 0 ? KV_SET_NX : 0)),
                                 (int64_t)(rnd() % 100));
    case 2: return kv_encode_del(out, cap, key, strlen(key));
    case 3: return kv_encode_cas(out, cap, key, strlen(key), exp, strlen(exp), val, strlen(val));
    default: return kv_encode_expire(out, cap, key, strlen(key), rnd() % 200);
    }
}

static void test_determinism_and_snapshot(void **state)
{
    (void)state;
    kv *a = kv_new(), *b = kv_new();
    for (int i = 0; i < 5000; i++) {
        int n = random_cmd(cmd, sizeof cmd);
        kv_reply ra, rb;
        assert_int_equal(kv_apply(a, cmd, (size_t)n, &ra), 0);
        assert_int_equal(kv_apply(b, cmd, (size_t)n, &rb), 0);
        assert_int_equal(ra.type, rb.type);
        assert_true(ra.integer == rb.integer);
        if (i == 2500) { /* b restarts from a snapshot of a */
            uint8_t *s;
            size_t len;
            assert_int_equal(kv_snapshot(a, &s, &len), 0);
            kv_free(b);
            b = kv_new();
            assert_int_equal(kv_restore(b, s, len), 0);
            free(s);
            assert_true(kv_digest(a) == kv_digest(b));
        }
    }
    assert_true(kv_digest(a) == kv_digest(b));
    assert_int_equal(kv_count(a), kv_count(b));
    assert_true(kv_rev(a) == kv_rev(b));
    kv_free(a);
    kv_free(b);
}

static void test_snapshot_round_trip(void **state)
{
    (void)state;
    kv *a = kv_new();
    char key[16], val[300];
    memset(val, 'v', sizeof val);
    for (int i = 0; i < 1000; i++) { /* enough keys to grow the table */
        snprintf(key, sizeof key, "key%d", i);
        apply_ok(a, kv_encode_set(cmd, sizeof cmd, key, strlen(key), val, (size_t)(i % 300),
                                  i % 7 == 0 ? KV_SET_PX : 0, 1000 + i));
    }
    del(a, "key5");
    uint8_t *s;
    size_t len;
    assert_int_equal(kv_snapshot(a, &s, &len), 0);
    kv *b = kv_new();
    set(b, "junk", "x", 0, 0); /* restore replaces, not merges */
    assert_int_equal(kv_restore(b, s, len), 0);
    assert_true(kv_digest(a) == kv_digest(b));
    assert_int_equal(kv_count(b), 999);
    assert_value(b, "junk", NULL);
    assert_value(b, "key5", NULL);
    assert_true(kv_version(b, "key10", 5) == kv_version(a, "key10", 5));
    /* expiry survives: key7 has a deadline of 1007 */
    struct seen seen = {{0}, 0, 0};
    assert_true(kv_collect_expired(b, 1007, 0, 1000, collect, &seen) >= 1);
    /* writes after a restore continue above the restored versions */
    set(b, "new", "1", 0, 0);
    assert_true(kv_version(b, "new", 3) > kv_rev(a));
    /* any corruption or truncation is refused and leaves the state alone */
    uint64_t dg = kv_digest(b);
    for (size_t i = 0; i < len; i += 97) {
        s[i] ^= 0x40;
        assert_int_equal(kv_restore(b, s, len), -1);
        s[i] ^= 0x40;
    }
    assert_int_equal(kv_restore(b, s, len - 1), -1);
    assert_int_equal(kv_restore(b, s, 3), -1);
    assert_true(kv_digest(b) == dg);
    free(s);
    /* empty state round trip */
    kv *e = kv_new(), *f = kv_new();
    assert_int_equal(kv_snapshot(e, &s, &len), 0);
    assert_int_equal(kv_restore(f, s, len), 0);
    assert_true(kv_digest(e) == kv_digest(f));
    free(s);
    kv_free(e);
    kv_free(f);
    kv_free(a);
    kv_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_get_del),
        cmocka_unit_test(test_set_nx_xx),
        cmocka_unit_test(test_cas),
        cmocka_unit_test(test_versions_fencing),
        cmocka_unit_test(test_expiry),
        cmocka_unit_test(test_codec),
        cmocka_unit_test(test_malformed_apply),
        cmocka_unit_test(test_determinism_and_snapshot),
        cmocka_unit_test(test_snapshot_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
