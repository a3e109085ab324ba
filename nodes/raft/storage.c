/* storage.c: durable Raft state in a data directory (see storage.h for the
 * files and the record format).
 *
 * Why CRC32C per record and not a cryptographic hash: the threat is a torn
 * write (power loss in the middle of an append) or a flipped bit, not an
 * adversary editing the disk. CRC32C detects every burst error up to 32
 * bits and any odd number of flipped bits, costs 4 bytes, and runs at memory
 * speed in a few lines of table-driven code; SHA-256 would be ~10x slower
 * per byte on the commit path for no protection we need (authenticity of
 * peers' messages is the wire HMAC's job).
 *
 * In memory we keep, per durable entry, its term and where its record
 * starts (segment, offset), so truncation and compaction know where to cut
 * without reading the files again. */
#define _GNU_SOURCE
#include "nodes/raft/storage.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nodes/raft/storage_internal.h"

/* ---- crc32c (Castagnoli, reflected 0x82F63B78) ---------------------------- */

uint32_t raft_crc32c(uint32_t crc, const void *data, size_t len)
{
    static uint32_t table[256];
    static int ready;
    if (!ready) { /* idempotent, so a benign race between threads is harmless */
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++)
                c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
            table[i] = c;
        }
        ready = 1;
    }
    const uint8_t *p = data;
    crc = ~crc;
    while (len--)
        crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

/* ---- small helpers ----------------------------------------------------------- */

void st_error(raft_storage *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, sizeof s->err, fmt, ap);
    va_end(ap);
}

void st_put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

void st_put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

uint32_t st_get32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

uint64_t st_get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

int st_sync_fd(raft_storage *s, int fd)
{
    if (s->policy == RAFT_FSYNC_NEVER)
        return 0;
    s->fsyncs++;
    if (fdatasync(fd) < 0) {
        st_error(s, "fsync: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* Write `len` bytes to dir/name atomically: name.tmp, fsync, rename, fsync dir. */
int st_replace_file(raft_storage *s, const char *name, const uint8_t *data, size_t len)
{
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%s.tmp", name);
    int fd = openat(s->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        st_error(s, "create %s: %s", tmp, strerror(errno));
        return -1;
    }
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, data + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            st_error(s, "write %s: %s", tmp, n < 0 ? strerror(errno) : "short write");
            close(fd);
            return -1;
        }
        done += (size_t)n;
    }
    if (st_sync_fd(s, fd) < 0) {
        close(fd);
        return -1;
    }
    close(fd);
    if (renameat(s->dirfd, tmp, s->dirfd, name) < 0) {
        st_error(s, "rename %s: %s", tmp, strerror(errno));
        return -1;
    }
    return st_sync_fd(s, s->dirfd);
}

/* Read a whole small file; returns its length, -1 if absent (ENOENT), -2 on error. */
ssize_t st_read_file(raft_storage *s, const char *name, uint8_t **out)
{
    *out = NULL;
    int fd = openat(s->dirfd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return -1;
        st_error(s, "open %s: %s", name, strerror(errno));
        return -2;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        st_error(s, "stat %s: %s", name, strerror(errno));
        close(fd);
        return -2;
    }
    size_t len = (size_t)st.st_size, done = 0;
    uint8_t *buf = malloc(len + 1);
    if (!buf)
        abort();
    while (done < len) {
        ssize_t n = read(fd, buf + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    close(fd);
    if (done != len) {
        st_error(s, "read %s: short read", name);
        free(buf);
        return -2;
    }
    *out = buf;
    return (ssize_t)len;
}

/* ---- term + vote ----------------------------------------------------------------- */

#define STATE_MAGIC 0x31534c52u /* "RLS1" */
#define STATE_LEN 18            /* magic u32 | term u64 | vote u16 | crc u32 */

int raft_storage_save_state(raft_storage *s, raft_term term, raft_id vote)
{
    uint8_t b[STATE_LEN];
    st_put32(b, STATE_MAGIC);
    st_put64(b + 4, term);
    b[12] = (uint8_t)vote;
    b[13] = (uint8_t)(vote >> 8);
    st_put32(b + 14, raft_crc32c(0, b, 14));
    if (st_replace_file(s, "state", b, sizeof b) < 0)
        return -1;
    s->term = term;
    s->vote = vote;
    return 0;
}

int st_load_state(raft_storage *s)
{
    uint8_t *b;
    ssize_t n = st_read_file(s, "state", &b);
    if (n == -1)
        return 0; /* fresh node */
    if (n < 0)
        return -1;
    int rc = 0;
    if (n != STATE_LEN || st_get32(b) != STATE_MAGIC || st_get32(b + 14) != raft_crc32c(0, b, 14)) {
        /* Written atomically: a bad file is real corruption, not a torn write. */
        st_error(s, "state file is corrupt (%zd bytes)", n);
        rc = -1;
    } else {
        s->term = st_get64(b + 4);
        s->vote = (raft_id)(b[12] | b[13] << 8);
    }
    free(b);
    return rc;
}

/* ---- snapshot ------------------------------------------------------------------------ */

#define SNAP_MAGIC 0x31504c52u /* "RLP1" */
#define SNAP_HEADER 28         /* magic u32 | index u64 | term u64 | len u64 */

int st_load_snapshot(raft_storage *s)
{
    uint8_t *b;
    ssize_t n = st_read_file(s, "snapshot", &b);
    if (n == -1)
        return 0;
    if (n < 0)
        return -1;
    if (n < SNAP_HEADER + 4 || st_get32(b) != SNAP_MAGIC ||
        st_get64(b + 20) != (uint64_t)n - SNAP_HEADER - 4 ||
        st_get32(b + n - 4) != raft_crc32c(0, b, (size_t)n - 4)) {
        st_error(s, "snapshot file is corrupt (%zd bytes)", n);
        free(b);
        return -1;
    }
    s->snap_index = st_get64(b + 4);
    s->snap_term = st_get64(b + 12);
    s->snap_len = (size_t)n - SNAP_HEADER - 4;
    s->snap_file = b; /* data at b + SNAP_HEADER */
    s->snap_data = b + SNAP_HEADER;
    return 0;
}

int raft_storage_save_snapshot(raft_storage *s, raft_index index, raft_term term,
                               const void *data, size_t len, raft_index keep_from)
{
    st_release_boot(s);
    size_t total = SNAP_HEADER + len + 4;
    uint8_t *b = malloc(total);
    if (!b)
        abort();
    st_put32(b, SNAP_MAGIC);
    st_put64(b + 4, index);
    st_put64(b + 12, term);
    st_put64(b + 20, len);
    if (len)
        memcpy(b + SNAP_HEADER, data, len);
    st_put32(b + total - 4, raft_crc32c(0, b, total - 4));
    int rc = st_replace_file(s, "snapshot", b, total);
    free(s->snap_file);
    s->snap_file = NULL;
    s->snap_data = NULL;
    if (rc < 0) {
        free(b);
        return -1;
    }
    s->snap_file = b;
    s->snap_data = b + SNAP_HEADER;
    s->snap_index = index;
    s->snap_term = term;
    s->snap_len = len;
    /* The log must continue the snapshot; otherwise (a leader's snapshot
     * that replaces a diverged or short log) it all goes. */
    if (raft_storage_last_index(s) < index || st_term_at(s, index) != term)
        return st_drop_all(s, index + 1);
    if (keep_from > index + 1)
        keep_from = index + 1;
    return st_compact(s, keep_from);
}
