/* test_wire.c: the datagram codec round-trips, and every malformed datagram
 * gets its own error code; key files are refused when others can read them. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/wire.h"

static const wire_header sample = {
    .type = 7, .src = 1, .dst = 2, .cluster = 0xC0FFEE, .seq = 0x0102030405060708ULL,
    .lamport = 99, .flags = 0x10};
static wire_key key1, key2;

static int make(uint8_t *out, size_t cap, const char *body, const wire_key *key)
{
    return wire_encode(out, cap, &sample, body, strlen(body), key);
}

static void test_round_trip(void **state)
{
    (void)state;
    uint8_t d[256];
    int n = make(d, sizeof d, "hello", NULL);
    assert_int_equal(n, WIRE_HEADER_LEN + 5);
    assert_int_equal(d[0], 0x52);
    assert_int_equal(d[1], 0x4C);
    wire_header h;
    const uint8_t *body;
    assert_int_equal(wire_decode(d, (size_t)n, &h, &body, NULL, 0xC0FFEE), WIRE_OK);
    assert_int_equal(h.magic, WIRE_MAGIC);
    assert_int_equal(h.version, WIRE_VERSION);
    assert_int_equal(h.type, 7);
    assert_int_equal(h.flags, 0x10);
    assert_int_equal(h.src, 1);
    assert_int_equal(h.dst, 2);
    assert_true(h.seq == 0x0102030405060708ULL);
    assert_true(h.lamport == 99);
    assert_int_equal(h.body_len, 5);
    assert_memory_equal(body, "hello", 5);
    /* Field offsets are those of DESIGN.md (seq big endian at 14). */
    assert_int_equal(d[14], 1);
    assert_int_equal(d[21], 8);

    n = make(d, sizeof d, "hello", &key1);
    assert_int_equal(n, WIRE_HEADER_LEN + 5 + WIRE_TAG_LEN);
    assert_int_equal(wire_decode(d, (size_t)n, &h, &body, &key1, 0), WIRE_OK);
    assert_int_equal(h.flags, 0x10 | WIRE_FLAG_AUTH);
    /* The tag is HMAC-SHA256's first 16 bytes (expected values computed
     * independently with Python's hmac module), also when the cached
     * context switches keys and back. */
    static const uint8_t tag1[16] = {0x04, 0x92, 0xbc, 0x08, 0x11, 0x04, 0x21, 0x71,
                                     0x64, 0x9e, 0xdf, 0xad, 0x37, 0x19, 0xdc, 0xfe};
    static const uint8_t tag2[16] = {0xff, 0xa5, 0x5b, 0x49, 0xea, 0x6c, 0xe8, 0x33,
                                     0x83, 0x39, 0x8f, 0xda, 0x24, 0x2a, 0xe6, 0x6a};
    assert_memory_equal(d + n - 16, tag1, 16);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(make(d, sizeof d, "hello", &key2), n);
        assert_memory_equal(d + n - 16, tag2, 16);
        assert_int_equal(make(d, sizeof d, "hello", &key1), n);
        assert_memory_equal(d + n - 16, tag1, 16);
    }
    /* Without a key the tag is carried but not checked; the proxy peeks. */
    assert_int_equal(wire_decode(d, (size_t)n, &h, &body, NULL, 0), WIRE_OK);
    assert_int_equal(wire_peek(d, (size_t)n, &h), WIRE_OK);
    /* An empty body is fine. */
    n = make(d, sizeof d, "", &key1);
    assert_int_equal(wire_decode(d, (size_t)n, &h, &body, &key1, 0), WIRE_OK);
    assert_int_equal(h.body_len, 0);
}

static void test_short_and_oversized(void **state)
{
    (void)state;
    static uint8_t d[WIRE_MAX_DATAGRAM + 2];
    wire_header h;
    int n = make(d, sizeof d, "x", NULL);
    for (int len = 0; len < WIRE_HEADER_LEN; len++)
        assert_int_equal(wire_decode(d, (size_t)len, &h, NULL, NULL, 0), WIRE_ESHORT);
    assert_int_equal(wire_decode(d, WIRE_MAX_DATAGRAM + 1, &h, NULL, NULL, 0), WIRE_EOVERSIZE);
    /* A declared body above the maximum, whatever the real size. */
    d[30] = 0x7f;
    assert_int_equal(wire_decode(d, (size_t)n, &h, NULL, NULL, 0), WIRE_EOVERSIZE);
    /* The largest body encodes and decodes; one more byte does not encode. */
    static uint8_t body[WIRE_MAX_BODY + 1];
    n = wire_encode(d, sizeof d, &sample, body, WIRE_MAX_BODY, &key1);
    assert_int_equal(n, WIRE_MAX_DATAGRAM);
    assert_int_equal(wire_decode(d, (size_t)n, &h, NULL, &key1, 0), WIRE_OK);
    assert_int_equal(wire_encode(d, sizeof d, &sample, body, WIRE_MAX_BODY + 1, NULL), WIRE_EOVERSIZE);
}

static void test_magic_version(void **state)
{
    (void)state;
    uint8_t d[64];
    wire_header h;
    int n = make(d, sizeof d, "abc", NULL);
    d[1] ^= 1;
    assert_int_equal(wire_decode(d, (size_t)n, &h, NULL, NULL, 0), WIRE_EMAGIC);
    assert_int_equal(wire_peek(d, (size_t)n, &h), WIRE_EMAGIC);
    d[1] ^= 1;
    d[2] = 2;
    assert_int_equal(wire_decode(d, (size_t)n, &h, NULL, NULL, 0), WIRE_EVERSION);
    d[2] = 0;
    assert_int_equal(wire_peek(d, (size_t)n, &h), WIRE_EVERSION);
}

static void test_length_mismatch_both_ways(void **state)
{
    (void)state;
    uint8_t d[64];
    wire_header h;
    int n = make(d, sizeof d, "abc", NULL);
    /* Datagram longer than header + body_len. */
    assert_int_equal(wire_decode(d, (size_t)n + 1, &h, NULL, NULL, 0), WIRE_ELENGTH);
    /* Datagram shorter (truncated body). */
    assert_int_equal(wire_decode(d, (size_t)n - 1, &h, NULL, NULL, 0), WIRE_ELENGTH);
    /* body_len says more / less than there is. */
    d[33] = 4;
    assert_int_equal(wire_decode(d, (size_t)n, &h, NULL, NULL, 0), WIRE_ELENGTH);
    d[33] = 2;
    assert_int_equal(wire_decode(d, (size_t)n, &h, NULL, NULL, 0), WIRE_ELENGTH);
    /* The auth flag without room for a tag. */
    d[33] = 3;
    d[5] |= WIRE_FLAG_AUTH;
    assert_int_equal(wire_decode(d, (size_t)n, &h, NULL, NULL, 0), WIRE_ELENGTH);
    /* A truncated tag. */
    n = make(d, sizeof d, "abc", &key1);
    assert_int_equal(wire_decode(d, (size_t)n - 1, &h, NULL, &key1, 0), WIRE_ELENGTH);
}

static void test_tags(void **state)
{
    (void)state;
    uint8_t d[64];
    wire_header h;
    int n = make(d, sizeof d, "abc", NULL);
    assert_int_equal(wire_decode(d, (size_t)n, &h, NULL, &key1, 0), WIRE_ENOTAG);
    n = make(d, sizeof d, "abc", &key1);
    assert_int_equal(wire_decode(d, (size_t)n, &h, NULL, &key2, 0), WIRE_EBADTAG);
    d[n - 1] ^= 0x80;
    assert_int_equal(wire_decode(d, (size_t)n, &h, NULL, &key1, 0), WIRE_EBADTAG);
    d[n - 1] ^= 0x80;
    /* Flipping any single bit anywhere makes the datagram fail. Bits in the
     * signed fields and the tag give EBADTAG; bits in magic/version/length
     * fields are caught earlier with their own codes. */
    for (int i = 0; i < n * 8; i++) {
        d[i / 8] ^= (uint8_t)(1u << (i % 8));
        int rc = wire_decode(d, (size_t)n, &h, NULL, &key1, 0);
        assert_int_not_equal(rc, WIRE_OK);
        int byte = i / 8;
        int header_structural = byte < 3 || (byte >= 30 && byte < 34) || (byte == 5 && i % 8 == 0);
        if (!header_structural)
            assert_int_equal(rc, WIRE_EBADTAG);
        d[i / 8] ^= (uint8_t)(1u << (i % 8));
    }
    assert_int_equal(wire_decode(d, (size_t)n, &h, NULL, &key1, 0), WIRE_OK);
}

static void test_cluster(void **state)
{
    (void)state;
    uint8_t d[64];
    wire_header h;
    int n = make(d, sizeof d, "abc", &key1);
    assert_int_equal(wire_decode(d, (size_t)n, &h, NULL, &key1, 0xC0FFEF), WIRE_ECLUSTER);
    assert_int_equal(wire_decode(d, (size_t)n, &h, NULL, NULL, 0xC0FFEF), WIRE_ECLUSTER);
    assert_int_equal(wire_decode(d, (size_t)n, &h, NULL, &key1, 0), WIRE_OK);
}

static void test_encode_no_space(void **state)
{
    (void)state;
    uint8_t d[64];
    assert_int_equal(wire_encode(d, WIRE_HEADER_LEN + 2, &sample, "abc", 3, NULL), WIRE_ENOSPACE);
    assert_int_equal(wire_encode(d, WIRE_HEADER_LEN + 3, &sample, "abc", 3, NULL), WIRE_HEADER_LEN + 3);
    assert_int_equal(wire_encode(d, WIRE_HEADER_LEN + 3 + WIRE_TAG_LEN - 1, &sample, "abc", 3, &key1),
                     WIRE_ENOSPACE);
    assert_int_equal(wire_encode(d, 0, &sample, NULL, 0, NULL), WIRE_ENOSPACE);
    for (int e = WIRE_ENOSPACE; e <= WIRE_OK; e++)
        assert_non_null(wire_strerror(e));
    assert_string_equal(wire_strerror(WIRE_EBADTAG), "bad tag");
}

/* Threads with different keys each keep their own cached HMAC context. */
static void *tag_worker(void *arg)
{
    wire_key k;
    memset(k.bytes, (int)(intptr_t)arg, sizeof k.bytes);
    uint8_t d[128];
    wire_header h;
    for (int i = 0; i < 2000; i++) {
        int n = make(d, sizeof d, "payload", &k);
        if (wire_decode(d, (size_t)n, &h, NULL, &k, 0) != WIRE_OK ||
            wire_decode(d, (size_t)n, &h, NULL, i % 2 ? &key1 : &key2, 0) != WIRE_EBADTAG)
            return (void *)1;
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, tag_worker, (void *)(intptr_t)(10 + i)), 0);
    for (int i = 0; i < 4; i++) {
        void *rc;
        pthread_join(th[i], &rc);
        assert_null(rc);
    }
}

static char tmpdir[64];

static void write_file(const char *path, const void *data, size_t n, mode_t mode)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
}

/* Every decode failure maps to one rejection reason, named as the nodes'
 * traces and RIFT.STATUS show it. */
static void test_reject_reasons(void **state)
{
    (void)state;
    assert_int_equal(wire_reject_of(WIRE_OK), WIRE_REJECT_NONE);
    assert_int_equal(wire_reject_of(WIRE_EBADTAG), WIRE_REJECT_BAD_TAG);
    assert_int_equal(wire_reject_of(WIRE_ENOTAG), WIRE_REJECT_MISSING_TAG);
    assert_int_equal(wire_reject_of(WIRE_ECLUSTER), WIRE_REJECT_WRONG_CLUSTER);
    int malformed[] = {WIRE_ESHORT, WIRE_EOVERSIZE, WIRE_EMAGIC, WIRE_EVERSION, WIRE_ELENGTH};
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++)
        assert_int_equal(wire_reject_of(malformed[i]), WIRE_REJECT_MALFORMED);
    assert_string_equal(wire_reject_name(WIRE_REJECT_BAD_TAG), "bad-tag");
    assert_string_equal(wire_reject_name(WIRE_REJECT_MISDIRECTED), "misdirected");
    assert_string_equal(wire_reject_name(WIRE_REJECT_COUNT), "unknown");
    assert_string_equal(wire_reject_name(-1), "unknown");
    wire_rejects r = {{0}};
    r.by[WIRE_REJECT_BAD_TAG] = 3;
    r.by[WIRE_REJECT_MISSING_TAG] = 1;
    r.by[WIRE_REJECT_MALFORMED] = 4;
    r.by[WIRE_REJECT_WRONG_CLUSTER] = 1;
    r.by[WIRE_REJECT_MISDIRECTED] = 5;
    char j[256];
    int n = wire_rejects_json(&r, j, sizeof j);
    assert_int_equal(n, (int)strlen(j));
    assert_string_equal(j, "{\"bad_tag\":3,\"missing_tag\":1,\"malformed\":4,"
                           "\"wrong_cluster\":1,\"misdirected\":5}");
}

static void test_key_files(void **state)
{
    (void)state;
    char path[128], err[256];
    wire_key k;
    snprintf(path, sizeof path, "%s/hex.key", tmpdir);
    const char *hex = "000102030405060708090a0b0c0d0e0f101112131415161718191A1B1C1D1E1F\n";
    write_file(path, hex, strlen(hex), 0600);
    assert_int_equal(wire_key_load(path, &k, err, sizeof err), 0);
    for (int i = 0; i < WIRE_KEY_LEN; i++)
        assert_int_equal(k.bytes[i], i);
    /* Group- or other-readable: refused, and the message says why. */
    assert_int_equal(chmod(path, 0640), 0);
    assert_int_equal(wire_key_load(path, &k, err, sizeof err), -1);
    assert_non_null(strstr(err, "mode 0640"));
    assert_int_equal(chmod(path, 0604), 0);
    assert_int_equal(wire_key_load(path, &k, err, sizeof err), -1);
    assert_int_equal(chmod(path, 0400), 0);
    assert_int_equal(wire_key_load(path, &k, err, sizeof err), 0);

    snprintf(path, sizeof path, "%s/raw.key", tmpdir);
    uint8_t raw[WIRE_KEY_LEN];
    memset(raw, 0xAB, sizeof raw);
    write_file(path, raw, sizeof raw, 0600);
    assert_int_equal(wire_key_load(path, &k, err, sizeof err), 0);
    assert_memory_equal(k.bytes, raw, sizeof raw);

    snprintf(path, sizeof path, "%s/bad.key", tmpdir);
    write_file(path, "zz", 2, 0600);
    assert_int_equal(wire_key_load(path, &k, err, sizeof err), -1);
    assert_non_null(strstr(err, "32 raw bytes or 64 hex digits"));
    char badhex[65];
    memset(badhex, 'g', 64);
    badhex[64] = '\0';
    write_file(path, badhex, 64, 0600);
    assert_int_equal(wire_key_load(path, &k, err, sizeof err), -1);

    snprintf(path, sizeof path, "%s/missing.key", tmpdir);
    assert_int_equal(wire_key_load(path, &k, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot open"));

    /* Generate: mode 0600, loads back to the same key, refuses to overwrite. */
    snprintf(path, sizeof path, "%s/gen.key", tmpdir);
    wire_key g, back;
    assert_int_equal(wire_key_generate(path, &g, err, sizeof err), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(wire_key_load(path, &back, err, sizeof err), 0);
    assert_memory_equal(g.bytes, back.bytes, WIRE_KEY_LEN);
    assert_int_equal(wire_key_generate(path, &g, err, sizeof err), -1);
}

static int setup(void **state)
{
    (void)state;
    memset(key1.bytes, 1, sizeof key1.bytes);
    memset(key2.bytes, 2, sizeof key2.bytes);
    snprintf(tmpdir, sizeof tmpdir, "/tmp/rl-test-wire-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    static const char *const names[] = {"hex.key", "raw.key", "bad.key", "gen.key"};
    char path[128];
    for (size_t i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/%s", tmpdir, names[i]);
        unlink(path);
    }
    return rmdir(tmpdir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_short_and_oversized),
        cmocka_unit_test(test_magic_version),
        cmocka_unit_test(test_length_mismatch_both_ways),
        cmocka_unit_test(test_tags),
        cmocka_unit_test(test_cluster),
        cmocka_unit_test(test_encode_no_space),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_key_files),
        cmocka_unit_test(test_reject_reasons),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
