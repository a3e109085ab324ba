/* test_chain_disk.c: the durable committed prefix of a chain member
 * (nodes/chain/chain_disk.c): recovery after a torn last record at every
 * byte offset, refusal of a corrupt record in the middle, snapshot round
 * trip, and a jump forward after a state transfer. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chain_disk.h"

/* A fresh temporary directory per test (removed in teardown). */
static char tmpdir[64];

static int setup(void **st)
{
    (void)st;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/chain-disk-%d-XXXXXX", (int)getpid());
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **st)
{
    (void)st;
    DIR *d = opendir(tmpdir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            char p[512];
            snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(tmpdir);
    return 0;
}

/* Command number i: SET k<i%7> v<i>. */
static size_t cmd_of(int i, uint8_t *out, size_t cap)
{
    char k[16], v[16];
    int kl = snprintf(k, sizeof k, "k%d", i % 7), vl = snprintf(v, sizeof v, "v%d", i);
    int n = kv_encode_set(out, cap, k, (size_t)kl, v, (size_t)vl, 0, 0);
    assert_true(n > 0);
    return (size_t)n;
}

/* Digest of a kv with commands 1..n applied (what recovery must rebuild). */
static uint64_t digest_upto(int n)
{
    kv *k = kv_new();
    for (int i = 1; i <= n; i++) {
        uint8_t c[64];
        size_t len = cmd_of(i, c, sizeof c);
        kv_reply r;
        assert_int_equal(kv_apply(k, c, len, &r), 0);
    }
    uint64_t dg = kv_digest(k);
    kv_free(k);
    return dg;
}

static void append_range(chain_disk *d, int from, int to)
{
    for (int i = from; i <= to; i++) {
        uint8_t c[64];
        size_t len = cmd_of(i, c, sizeof c);
        assert_int_equal(chain_disk_append(d, (uint64_t)i, 1, 1000u + (uint64_t)i, c, len), 0);
    }
    assert_int_equal(chain_disk_sync(d), 0);
}

static chain_disk *open_dir(kv *k, chain_disk_info *info)
{
    char err[256] = "";
    chain_disk *d = chain_disk_open(tmpdir, 1, k, info, err, sizeof err);
    if (!d)
        print_error("open: %s\n", err);
    return d;
}

/* The one log segment's path. */
static void segment_path(char *out, size_t cap)
{
    DIR *dir = opendir(tmpdir);
    assert_non_null(dir);
    struct dirent *e;
    out[0] = 0;
    while ((e = readdir(dir)) != NULL)
        if (strncmp(e->d_name, "log-", 4) == 0)
            snprintf(out, cap, "%s/%s", tmpdir, e->d_name);
    closedir(dir);
    assert_true(out[0] != 0);
}

static off_t file_size(const char *p)
{
    struct stat sb;
    assert_int_equal(stat(p, &sb), 0);
    return sb.st_size;
}

static void write_prefix(const char *p, const uint8_t *data, size_t len)
{
    int fd = open(p, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
}

static uint8_t *read_all(const char *p, size_t *len)
{
    *len = (size_t)file_size(p);
    uint8_t *b = malloc(*len);
    assert_non_null(b);
    int fd = open(p, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(read(fd, b, *len), (ssize_t)*len);
    close(fd);
    return b;
}

/* Cut the last record at every byte offset: recovery keeps exactly the
 * first N-1 entries and their state, and the log accepts seq N again. */
static void test_torn_last_record_every_offset(void **st)
{
    (void)st;
    const int n = 20;
    kv *k = kv_new();
    chain_disk_info info;
    chain_disk *d = open_dir(k, &info);
    assert_non_null(d);
    assert_int_equal(info.seq, 0);
    append_range(d, 1, n - 1);
    char seg[512];
    segment_path(seg, sizeof seg);
    off_t before = file_size(seg);
    append_range(d, n, n);
    chain_disk_close(d);
    kv_free(k);
    size_t whole_len;
    uint8_t *whole = read_all(seg, &whole_len);
    assert_true((off_t)whole_len > before);

    uint64_t want_prev = digest_upto(n - 1), want_all = digest_upto(n);
    for (size_t cut = (size_t)before; cut <= whole_len; cut++) {
        write_prefix(seg, whole, cut);
        k = kv_new();
        d = open_dir(k, &info);
        assert_non_null(d);
        if (cut == whole_len) {
            assert_int_equal(info.seq, n);
            assert_int_equal(kv_digest(k), want_all);
        } else {
            assert_int_equal(info.seq, n - 1);
            assert_int_equal(kv_digest(k), want_prev);
            assert_int_equal(info.truncated_torn, cut - (size_t)before);
            /* The torn bytes are gone: seq n can be written again. */
            assert_int_equal(chain_disk_last(d), n - 1);
        }
        chain_disk_close(d);
        kv_free(k);
    }
    free(whole);
}

/* A flipped byte inside an early record (valid records follow) is
 * corruption of acknowledged data: open must refuse, not drop it. */
static void test_corrupt_middle_record_refused(void **st)
{
    (void)st;
    kv *k = kv_new();
    chain_disk_info info;
    chain_disk *d = open_dir(k, &info);
    assert_non_null(d);
    append_range(d, 1, 10);
    chain_disk_close(d);
    kv_free(k);
    char seg[512];
    segment_path(seg, sizeof seg);
    size_t len;
    uint8_t *b = read_all(seg, &len);
    b[len / 3] ^= 0x5a;
    write_prefix(seg, b, len);
    free(b);
    k = kv_new();
    char err[256] = "";
    d = chain_disk_open(tmpdir, 1, k, &info, err, sizeof err);
    assert_null(d);
    assert_true(err[0] != 0);
    kv_free(k);
}

/* Snapshot at 30 plus log 31..45: a reopen rebuilds the state of 1..45
 * from the snapshot and replays only the 15 entries after it. */
static void test_snapshot_round_trip(void **st)
{
    (void)st;
    kv *k = kv_new();
    chain_disk_info info;
    chain_disk *d = open_dir(k, &info);
    assert_non_null(d);
    for (int i = 1; i <= 30; i++) {
        uint8_t c[64];
        size_t len = cmd_of(i, c, sizeof c);
        kv_reply r;
        assert_int_equal(kv_apply(k, c, len, &r), 0);
        assert_int_equal(chain_disk_append(d, (uint64_t)i, 2, (uint64_t)i, c, len), 0);
    }
    assert_int_equal(chain_disk_snapshot(d, k, 30), 0);
    append_range(d, 31, 45);
    chain_disk_close(d);
    kv_free(k);

    k = kv_new();
    d = open_dir(k, &info);
    assert_non_null(d);
    assert_int_equal(info.seq, 45);
    assert_int_equal(info.snap_seq, 30);
    assert_int_equal(info.replayed, 15);
    assert_int_equal(kv_digest(k), digest_upto(45));
    chain_disk_close(d);
    kv_free(k);
}

/* After a state transfer the member holds state at a seq its log never
 * had: the snapshot takes it there and the log continues after it. */
static void test_jump_forward_by_snapshot(void **st)
{
    (void)st;
    kv *k = kv_new();
    chain_disk_info info;
    chain_disk *d = open_dir(k, &info);
    assert_non_null(d);
    append_range(d, 1, 3);
    kv *other = kv_new();
    for (int i = 1; i <= 50; i++) {
        uint8_t c[64];
        size_t len = cmd_of(i, c, sizeof c);
        kv_reply r;
        kv_apply(other, c, len, &r);
    }
    assert_int_equal(chain_disk_snapshot(d, other, 50), 0);
    assert_int_equal(chain_disk_last(d), 50);
    uint8_t c[64];
    size_t len = cmd_of(51, c, sizeof c);
    assert_int_equal(chain_disk_append(d, 52, 1, 1, c, len), -1);   /* gaps refused */
    append_range(d, 51, 52);
    chain_disk_close(d);
    kv_free(k);
    kv_free(other);

    k = kv_new();
    d = open_dir(k, &info);
    assert_non_null(d);
    assert_int_equal(info.seq, 52);
    assert_int_equal(kv_digest(k), digest_upto(52));
    chain_disk_close(d);
    kv_free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_torn_last_record_every_offset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_middle_record_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_jump_forward_by_snapshot, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
