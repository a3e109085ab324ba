/* storage_test.c: the Raft storage survives what disks do: torn writes at
 * every byte of the last record, corrupt records, interrupted term/vote
 * replacement, truncation, compaction and snapshot install. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "nodes/raft/storage.h"
#include "tests/raft/tmpdir.h"

static char dir[256];

static int setup(void **state)
{
    (void)state;
    return tmpdir_make(dir, sizeof dir, "raft-storage-");
}

static int teardown(void **state)
{
    (void)state;
    tmpdir_remove(dir);
    return 0;
}

static raft_storage *open_ok(raft_storage_info *info, size_t seg)
{
    char err[512];
    raft_storage *s = raft_storage_open(dir, RAFT_FSYNC_ALWAYS, seg, info, err, sizeof err);
    if (!s)
        fail_msg("open: %s", err);
    return s;
}

/* Entry i carries "entry-<i>" (length varies with i). */
static void append_range(raft_storage *s, raft_index from, raft_index to, raft_term term)
{
    for (raft_index i = from; i <= to; i++) {
        char p[32];
        int n = snprintf(p, sizeof p, "entry-%llu", (unsigned long long)i);
        raft_entry e = {i, term, RAFT_ENTRY_NORMAL, (uint32_t)n, (uint8_t *)p};
        assert_int_equal(raft_storage_append(s, &e, 1), 0);
    }
    assert_int_equal(raft_storage_sync(s), 0);
}

static void assert_entries(const raft_boot *b, raft_index from, raft_index to, raft_term term)
{
    assert_int_equal(b->n_entries, to >= from ? to - from + 1 : 0);
    for (size_t k = 0; k < b->n_entries; k++) {
        char p[32];
        int n = snprintf(p, sizeof p, "entry-%llu", (unsigned long long)(from + k));
        assert_int_equal(b->entries[k].index, from + k);
        assert_int_equal(b->entries[k].term, term);
        assert_int_equal(b->entries[k].len, (uint32_t)n);
        assert_memory_equal(b->entries[k].data, p, (size_t)n);
    }
}

static void test_roundtrip(void **state)
{
    (void)state;
    raft_storage_info info;
    raft_storage *s = open_ok(&info, 0);
    assert_int_equal(info.boot.term, 0);
    assert_int_equal(info.boot.n_entries, 0);
    assert_int_equal(raft_storage_save_state(s, 7, 3), 0);
    append_range(s, 1, 20, 7);
    raft_storage_close(s);
    s = open_ok(&info, 0);
    assert_int_equal(info.boot.term, 7);
    assert_int_equal(info.boot.vote, 3);
    assert_entries(&info.boot, 1, 20, 7);
    assert_int_equal(raft_storage_last_index(s), 20);
    raft_storage_close(s);
}

static void test_group_commit(void **state)
{
    (void)state;
    raft_storage_info info;
    raft_storage *s = open_ok(&info, 0);
    raft_entry e[100];
    char p[100][8];
    for (int i = 0; i < 100; i++) {
        memcpy(p[i], "payload", 8);
        e[i] = (raft_entry){(raft_index)i + 1, 1, RAFT_ENTRY_NORMAL, 8, (uint8_t *)p[i]};
    }
    uint64_t before = raft_storage_fsyncs(s);
    assert_int_equal(raft_storage_append(s, e, 100), 0);
    assert_int_equal(raft_storage_sync(s), 0);
    /* One fsync for the segment, one for the directory (a new file). */
    assert_int_equal(raft_storage_fsyncs(s) - before, 2);
    raft_storage_close(s);
}

static void test_fsync_never_skips_fsync(void **state)
{
    (void)state;
    raft_storage_info info;
    char err[512];
    raft_storage *s = raft_storage_open(dir, RAFT_FSYNC_NEVER, 0, &info, err, sizeof err);
    assert_non_null(s);
    assert_int_equal(raft_storage_save_state(s, 1, 1), 0);
    append_range(s, 1, 10, 1);
    assert_int_equal(raft_storage_fsyncs(s), 0);
    raft_storage_close(s);
    s = open_ok(&info, 0); /* the data is still there after a clean close */
    assert_entries(&info.boot, 1, 10, 1);
    raft_storage_close(s);
}

static void seg_path(raft_index first, char *out, size_t cap)
{
    snprintf(out, cap, "%s/log-%020llu", dir, (unsigned long long)first);
}

static void read_path(const char *path, uint8_t **buf, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    *buf = malloc(*len + 1);
    assert_int_equal(fread(*buf, 1, *len, f), *len);
    fclose(f);
}

static void write_path(const char *path, const uint8_t *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, len, f), len);
    fclose(f);
}

/* Record sizes: 25 header + payload + 4 crc. */
static size_t rec_size(raft_index i)
{
    char p[32];
    return 29 + (size_t)snprintf(p, sizeof p, "entry-%llu", (unsigned long long)i);
}

/* A log of entries 1..5 (term 2) in one segment; returns its path and bytes. */
static void five_entries(char *path, size_t cap, uint8_t **buf, size_t *len)
{
    raft_storage_info info;
    raft_storage *s = open_ok(&info, 0);
    append_range(s, 1, 5, 2);
    raft_storage_close(s);
    seg_path(1, path, cap);
    read_path(path, buf, len);
}

static void test_torn_last_entry_every_offset(void **state)
{
    (void)state;
    raft_storage_info info;
    raft_storage *s;
    char path[512];
    uint8_t *orig;
    size_t len;
    five_entries(path, sizeof path, &orig, &len);
    size_t last_start = len - rec_size(5);
    /* Cut anywhere inside the last record: recovers entries 1..4. */
    for (size_t cut = last_start; cut < len; cut++) {
        write_path(path, orig, cut);
        s = open_ok(&info, 0);
        assert_entries(&info.boot, 1, 4, 2);
        assert_int_equal(info.truncated_torn, cut - last_start);
        /* And the log continues cleanly after the cut. */
        append_range(s, 5, 5, 2);
        raft_storage_close(s);
        s = open_ok(&info, 0);
        assert_entries(&info.boot, 1, 5, 2);
        raft_storage_close(s);
    }
    /* A torn write can also leave garbage: flip each byte of the last record. */
    for (size_t at = last_start; at < len; at++) {
        orig[at] ^= 0x5a;
        write_path(path, orig, len);
        s = open_ok(&info, 0);
        assert_entries(&info.boot, 1, 4, 2);
        raft_storage_close(s);
        orig[at] ^= 0x5a;
    }
    free(orig);
}

static void test_corrupt_middle_is_an_error(void **state)
{
    (void)state;
    raft_storage_info info;
    raft_storage *s;
    char path[512];
    uint8_t *buf;
    size_t len;
    five_entries(path, sizeof path, &buf, &len);
    size_t second = rec_size(1);
    buf[second + 30] ^= 1; /* a payload byte of entry 2 */
    write_path(path, buf, len);
    char err[512];
    s = raft_storage_open(dir, RAFT_FSYNC_ALWAYS, 0, &info, err, sizeof err);
    assert_null(s);
    assert_non_null(strstr(err, "corrupt record"));
    free(buf);
}

static void test_state_atomic(void **state)
{
    (void)state;
    raft_storage_info info;
    raft_storage *s = open_ok(&info, 0);
    for (raft_term t = 1; t <= 5; t++)
        assert_int_equal(raft_storage_save_state(s, t, (raft_id)t), 0);
    raft_storage_close(s);
    /* A crash in the middle of a replace leaves a partial state.tmp: ignored. */
    char path[512];
    snprintf(path, sizeof path, "%s/state.tmp", dir);
    write_path(path, (const uint8_t *)"RLS1garb", 8);
    s = open_ok(&info, 0);
    assert_int_equal(info.boot.term, 5);
    assert_int_equal(info.boot.vote, 5);
    assert_int_equal(access(path, F_OK), -1); /* cleaned up */
    raft_storage_close(s);
    /* The state file itself damaged: that is corruption, refuse. */
    snprintf(path, sizeof path, "%s/state", dir);
    uint8_t *buf;
    size_t len;
    read_path(path, &buf, &len);
    buf[6] ^= 1;
    write_path(path, buf, len);
    char err[512];
    assert_null(raft_storage_open(dir, RAFT_FSYNC_ALWAYS, 0, &info, err, sizeof err));
    assert_non_null(strstr(err, "state file is corrupt"));
    free(buf);
}

static void test_truncate_and_rewrite(void **state)
{
    (void)state;
    raft_storage_info info;
    raft_storage *s = open_ok(&info, 64); /* tiny segments: truncation across files */
    append_range(s, 1, 12, 1);
    assert_int_equal(raft_storage_truncate(s, 6), 0);
    append_range(s, 6, 9, 3);
    raft_storage_close(s);
    s = open_ok(&info, 64);
    assert_int_equal(info.boot.n_entries, 9);
    assert_int_equal(info.boot.entries[4].term, 1);
    assert_int_equal(info.boot.entries[5].term, 3);
    assert_int_equal(info.boot.entries[8].index, 9);
    raft_storage_close(s);
}

static int count_segments(void)
{
    DIR *dp = opendir(dir);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(dp)))
        n += strncmp(de->d_name, "log-", 4) == 0;
    closedir(dp);
    return n;
}

static void test_compaction_keeps_log_bounded(void **state)
{
    (void)state;
    raft_storage_info info;
    raft_storage *s = open_ok(&info, 200);
    int peak = 0;
    /* Append 1000 entries, snapshotting every 100 and keeping 10 behind. */
    for (raft_index i = 1; i <= 1000; i += 100) {
        append_range(s, i, i + 99, 4);
        raft_index snap = i + 99;
        assert_int_equal(raft_storage_save_snapshot(s, snap, 4, "snap", 4, snap - 10), 0);
        int n = count_segments();
        peak = n > peak ? n : peak;
    }
    assert_true(peak <= 6); /* ~5 entries per 200-byte segment: 10 kept + the open one */
    assert_true(raft_storage_first_index(s) > 900);
    raft_storage_close(s);
    s = open_ok(&info, 200);
    assert_int_equal(info.boot.snap_index, 1000);
    assert_int_equal(info.boot.snap_len, 4);
    assert_memory_equal(info.boot.snap_data, "snap", 4);
    assert_int_equal(info.boot.n_entries, 0); /* all entries are under the snapshot */
    append_range(s, 1001, 1003, 5);
    raft_storage_close(s);
    s = open_ok(&info, 200);
    assert_int_equal(info.boot.n_entries, 3);
    assert_int_equal(info.boot.entries[0].index, 1001);
    raft_storage_close(s);
}

static void test_install_drops_log(void **state)
{
    (void)state;
    raft_storage_info info;
    raft_storage *s = open_ok(&info, 0);
    append_range(s, 1, 10, 1);
    /* A leader's snapshot at 50 (term 6) that our log does not contain. */
    assert_int_equal(raft_storage_save_snapshot(s, 50, 6, "leader", 6, 51), 0);
    assert_int_equal(raft_storage_last_index(s), 50);
    append_range(s, 51, 52, 6);
    raft_storage_close(s);
    s = open_ok(&info, 0);
    assert_int_equal(info.boot.snap_index, 50);
    assert_int_equal(info.boot.snap_term, 6);
    assert_int_equal(info.boot.n_entries, 2);
    assert_int_equal(info.boot.entries[0].index, 51);
    raft_storage_close(s);
}

static void test_append_must_continue(void **state)
{
    (void)state;
    raft_storage_info info;
    raft_storage *s = open_ok(&info, 0);
    append_range(s, 1, 3, 1);
    raft_entry e = {7, 1, RAFT_ENTRY_NORMAL, 0, NULL};
    assert_int_equal(raft_storage_append(s, &e, 1), -1);
    assert_non_null(strstr(raft_storage_error(s), "expected"));
    raft_storage_close(s);
}

static void test_crc32c_known_value(void **state)
{
    (void)state;
    /* The standard check value of CRC-32C. */
    assert_int_equal(raft_crc32c(0, "123456789", 9), 0xE3069283u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fsync_never_skips_fsync, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_last_entry_every_offset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_middle_is_an_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_state_atomic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncate_and_rewrite, setup, teardown),
        cmocka_unit_test_setup_teardown(test_compaction_keeps_log_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_install_drops_log, setup, teardown),
        cmocka_unit_test_setup_teardown(test_append_must_continue, setup, teardown),
        cmocka_unit_test(test_crc32c_known_value),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
