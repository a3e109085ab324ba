/* node_storage_fallback.c: a simple implementation of nodes/raft/storage.h,
 * compiled into raft-node only while the real one (nodes/raft/storage.c)
 * is absent, so the server can be built and tested on its own.
 *
 *   <dir>/state     u64 term | u16 vote | u32 crc        (tmp + fsync + rename + fsync dir)
 *   <dir>/snapshot  u64 index | u64 term | u64 len | bytes | u32 crc   (same)
 *   <dir>/log       records: u32 len | u64 index | u64 term | u8 type | payload | u32 crc
 *
 * Every entry also stays in memory (the log is bounded by compaction), with
 * its file offset, so truncation is one ftruncate. Recovery cuts the log at
 * the first record that is short or fails its checksum (a torn write). All
 * integers little endian; crc = raft_crc32c over the record before it. */
#define _GNU_SOURCE
#include "nodes/raft/storage.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/errf.h"

struct raft_storage {
    char dir[512];
    int always;               /* fsync policy */
    int log_fd, dir_fd;
    raft_entry *e;            /* entries in the log file, consecutive */
    uint64_t *off;            /* file offset of e[i]'s record */
    size_t n, cap;
    uint64_t end;             /* log file size */
    int dirty;                /* written since the last sync */
    raft_index snap_index;
    raft_term snap_term;
    uint8_t *snap;
    size_t snap_len;
    uint64_t fsyncs;
    char err[1024];
};

uint32_t raft_crc32c(uint32_t crc, const void *data, size_t len)
{
    const uint8_t *p = data;
    crc = ~crc;
    while (len--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1u)));
    }
    return ~crc;
}

static void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static int fail(raft_storage *s, const char *what)
{
    snprintf(s->err, sizeof s->err, "%s: %s", what, strerror(errno));
    return -1;
}

static int do_sync(raft_storage *s, int fd)
{
    if (!s->always)
        return 0;
    s->fsyncs++;
    return fdatasync(fd);
}

/* Replace <dir>/name with data atomically (and durably with fsync always). */
static int write_atomic(raft_storage *s, const char *name, const void *data, size_t len)
{
    char tmp[600], path[600];
    snprintf(tmp, sizeof tmp, "%s/%s.tmp", s->dir, name);
    snprintf(path, sizeof path, "%s/%s", s->dir, name);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return fail(s, tmp);
    int ok = write(fd, data, len) == (ssize_t)len && do_sync(s, fd) == 0;
    close(fd);
    if (!ok || rename(tmp, path) < 0 || do_sync(s, s->dir_fd) < 0)
        return fail(s, path);
    return 0;
}

static void entries_free(raft_storage *s, size_t from)
{
    for (size_t i = from; i < s->n; i++)
        free(s->e[i].data);
    s->n = from < s->n ? from : s->n;
}

static void entry_push(raft_storage *s, const raft_entry *e, uint64_t off)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 256;
        s->e = realloc(s->e, s->cap * sizeof *s->e);
        s->off = realloc(s->off, s->cap * sizeof *s->off);
        if (!s->e || !s->off)
            abort();
    }
    raft_entry *d = &s->e[s->n];
    *d = *e;
    d->data = NULL;
    if (e->len) {
        d->data = malloc(e->len);
        if (!d->data)
            abort();
        memcpy(d->data, e->data, e->len);
    }
    s->off[s->n++] = off;
}

#define REC_HEAD 21 /* len 4, index 8, term 8, type 1 */

static uint8_t *read_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    uint8_t *b = malloc((size_t)st.st_size + 1);
    if (!b || read(fd, b, (size_t)st.st_size) != st.st_size) {
        free(b);
        close(fd);
        return NULL;
    }
    close(fd);
    *len = (size_t)st.st_size;
    return b;
}

static int load(raft_storage *s, raft_storage_info *info, char *err, size_t errlen)
{
    char path[600];
    size_t len;
    uint8_t *b;
    snprintf(path, sizeof path, "%s/state", s->dir);
    if ((b = read_file(path, &len))) {
        if (len != 14 || get_le(b + 10, 4) != raft_crc32c(0, b, 10)) {
            free(b);
            return errf(err, errlen, "%s: damaged", path);
        }
        info->boot.term = get_le(b, 8);
        info->boot.vote = (raft_id)get_le(b + 8, 2);
        free(b);
    }
    snprintf(path, sizeof path, "%s/snapshot", s->dir);
    if ((b = read_file(path, &len))) {
        if (len < 28 || get_le(b + 16, 8) != len - 28 || get_le(b + len - 4, 4) != raft_crc32c(0, b, len - 4)) {
            free(b);
            return errf(err, errlen, "%s: damaged", path);
        }
        s->snap_index = get_le(b, 8);
        s->snap_term = get_le(b + 8, 8);
        s->snap_len = len - 28;
        s->snap = malloc(s->snap_len + 1);
        memcpy(s->snap, b + 24, s->snap_len);
        free(b);
    }
    snprintf(path, sizeof path, "%s/log", s->dir);
    b = read_file(path, &len);
    size_t pos = 0;
    while (b && len - pos >= REC_HEAD + 4) {
        const uint8_t *r = b + pos;
        uint64_t plen = get_le(r, 4);
        if (plen > RAFT_MAX_ENTRY || len - pos < REC_HEAD + plen + 4 ||
            get_le(r + REC_HEAD + plen, 4) != raft_crc32c(0, r, REC_HEAD + plen))
            break;
        raft_entry e = {.index = get_le(r + 4, 8), .term = get_le(r + 12, 8), .type = r[20],
                        .len = (uint32_t)plen, .data = (uint8_t *)r + REC_HEAD};
        if (s->n && e.index != s->e[s->n - 1].index + 1)
            break;
        entry_push(s, &e, pos);
        pos += REC_HEAD + plen + 4;
    }
    free(b);
    s->log_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (s->log_fd < 0)
        return errf(err, errlen, "%s: %s", path, strerror(errno));
    if (b && pos < len) { /* a torn tail */
        info->truncated_torn = len - pos;
        if (ftruncate(s->log_fd, (off_t)pos) < 0)
            return errf(err, errlen, "%s: truncate: %s", path, strerror(errno));
    }
    s->end = pos;
    size_t skip = 0; /* entries the snapshot covers are not part of the boot log */
    while (skip < s->n && s->e[skip].index <= s->snap_index)
        skip++;
    if (skip < s->n && s->e[skip].index != s->snap_index + 1)
        return errf(err, errlen, "%s: gap between snapshot %llu and log", path,
                    (unsigned long long)s->snap_index);
    info->boot.snap_index = s->snap_index;
    info->boot.snap_term = s->snap_term;
    info->boot.snap_data = s->snap;
    info->boot.snap_len = s->snap_len;
    info->boot.entries = s->n ? s->e + skip : NULL;
    info->boot.n_entries = s->n - skip;
    return 0;
}

raft_storage *raft_storage_open(const char *dir, enum raft_fsync_policy policy, size_t segment_bytes,
                                raft_storage_info *info, char *err, size_t errlen)
{
    (void)segment_bytes;
    memset(info, 0, sizeof *info);
    raft_storage *s = calloc(1, sizeof *s);
    if (!s)
        abort();
    snprintf(s->dir, sizeof s->dir, "%s", dir);
    s->always = policy == RAFT_FSYNC_ALWAYS;
    s->log_fd = -1;
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        errf(err, errlen, "%s: %s", dir, strerror(errno));
        free(s);
        return NULL;
    }
    s->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s->dir_fd < 0 || load(s, info, err, errlen) < 0) {
        if (s->dir_fd < 0)
            errf(err, errlen, "%s: %s", dir, strerror(errno));
        raft_storage_close(s);
        return NULL;
    }
    return s;
}

void raft_storage_close(raft_storage *s)
{
    if (!s)
        return;
    entries_free(s, 0);
    free(s->e);
    free(s->off);
    free(s->snap);
    if (s->log_fd >= 0)
        close(s->log_fd);
    if (s->dir_fd >= 0)
        close(s->dir_fd);
    free(s);
}

int raft_storage_save_state(raft_storage *s, raft_term term, raft_id vote)
{
    uint8_t b[14];
    put_le(b, term, 8);
    put_le(b + 8, vote, 2);
    put_le(b + 10, raft_crc32c(0, b, 10), 4);
    return write_atomic(s, "state", b, sizeof b);
}

int raft_storage_truncate(raft_storage *s, raft_index from)
{
    size_t i = 0;
    while (i < s->n && s->e[i].index < from)
        i++;
    if (i == s->n)
        return 0;
    if (ftruncate(s->log_fd, (off_t)s->off[i]) < 0)
        return fail(s, "truncate log");
    s->end = s->off[i];
    entries_free(s, i);
    s->dirty = 1;
    return 0;
}

int raft_storage_append(raft_storage *s, const raft_entry *e, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        uint8_t head[REC_HEAD], tail[4];
        put_le(head, e[k].len, 4);
        put_le(head + 4, e[k].index, 8);
        put_le(head + 12, e[k].term, 8);
        head[20] = e[k].type;
        uint32_t crc = raft_crc32c(raft_crc32c(0, head, REC_HEAD), e[k].data, e[k].len);
        put_le(tail, crc, 4);
        if (pwrite(s->log_fd, head, REC_HEAD, (off_t)s->end) != REC_HEAD ||
            (e[k].len && pwrite(s->log_fd, e[k].data, e[k].len, (off_t)(s->end + REC_HEAD)) != (ssize_t)e[k].len) ||
            pwrite(s->log_fd, tail, 4, (off_t)(s->end + REC_HEAD + e[k].len)) != 4)
            return fail(s, "append log");
        entry_push(s, &e[k], s->end);
        s->end += REC_HEAD + e[k].len + 4;
    }
    s->dirty = 1;
    return 0;
}

int raft_storage_sync(raft_storage *s)
{
    if (!s->dirty)
        return 0;
    s->dirty = 0;
    return do_sync(s, s->log_fd) < 0 ? fail(s, "fsync log") : 0;
}

int raft_storage_save_snapshot(raft_storage *s, raft_index index, raft_term term, const void *data,
                               size_t len, raft_index keep_from)
{
    uint8_t *b = malloc(len + 28);
    if (!b)
        abort();
    put_le(b, index, 8);
    put_le(b + 8, term, 8);
    put_le(b + 16, len, 8);
    memcpy(b + 24, data, len);
    put_le(b + 24 + len, raft_crc32c(0, b, 24 + len), 4);
    int rc = write_atomic(s, "snapshot", b, len + 28);
    free(b);
    if (rc < 0)
        return -1;
    free(s->snap);
    s->snap = NULL;
    s->snap_index = index;
    s->snap_term = term;
    int have = s->n && s->e[0].index <= index && s->e[s->n - 1].index >= index;
    size_t drop = 0;
    while (have && drop < s->n && s->e[drop].index < keep_from)
        drop++;
    if (have && drop == 0)
        return 0;
    /* Rewrite the log with what is kept (all of it goes when the snapshot
     * is not ours: an installed leader snapshot). */
    size_t from = have ? drop : s->n;
    raft_entry *keep = s->n ? s->e + from : NULL;
    size_t nkeep = s->n - from;
    char tmp[600], path[600];
    snprintf(tmp, sizeof tmp, "%s/log.tmp", s->dir);
    snprintf(path, sizeof path, "%s/log", s->dir);
    raft_storage t = *s; /* write through a scratch storage on log.tmp */
    t.log_fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    t.e = NULL, t.off = NULL, t.n = t.cap = 0, t.end = 0;
    if (t.log_fd < 0)
        return fail(s, tmp);
    if (raft_storage_append(&t, keep, nkeep) < 0 || do_sync(s, t.log_fd) < 0 || rename(tmp, path) < 0 ||
        do_sync(s, s->dir_fd) < 0) {
        entries_free(&t, 0);
        free(t.e), free(t.off);
        close(t.log_fd);
        return fail(s, "compact log");
    }
    entries_free(s, 0);
    free(s->e), free(s->off);
    close(s->log_fd);
    s->e = t.e, s->off = t.off, s->n = t.n, s->cap = t.cap, s->end = t.end, s->log_fd = t.log_fd;
    return 0;
}

raft_index raft_storage_first_index(const raft_storage *s) { return s->n ? s->e[0].index : 0; }
raft_index raft_storage_last_index(const raft_storage *s) { return s->n ? s->e[s->n - 1].index : s->snap_index; }
uint64_t raft_storage_fsyncs(const raft_storage *s) { return s->fsyncs; }
const char *raft_storage_error(const raft_storage *s) { return s->err; }
