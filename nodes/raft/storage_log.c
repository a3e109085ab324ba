/* storage_log.c: the Raft log as segment files (log-<first index>, 20
 * digits), plus opening and closing the whole data directory.
 *
 * Recovery policy (documented in docs/raft.md):
 *  - a record that is cut short or fails its checksum at the end of the
 *    LAST segment, with no valid record after it, is a torn write: the file
 *    is truncated there and the entries before it survive;
 *  - any other bad record (in an earlier segment, or followed by valid
 *    records) is corruption of data that was already durable and maybe
 *    acknowledged: opening fails with an error naming file and offset. An
 *    operator then decides (wipe the node and let it catch up from the
 *    leader); silently dropping acknowledged entries could lose writes. */
#define _GNU_SOURCE
#include "nodes/raft/storage_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void seg_name(raft_index first, char *out, size_t cap)
{
    snprintf(out, cap, "log-%020" PRIu64, first);
}

raft_term st_term_at(const raft_storage *s, raft_index i)
{
    if (s->n_ents && i >= s->first_index && i < s->next_index)
        return s->ents[i - s->first_index].term;
    return i == s->snap_index ? s->snap_term : 0;
}

raft_index raft_storage_first_index(const raft_storage *s)
{
    return s->n_ents ? s->first_index : s->next_index;
}

raft_index raft_storage_last_index(const raft_storage *s) { return s->next_index - 1; }
uint64_t raft_storage_fsyncs(const raft_storage *s) { return s->fsyncs; }
const char *raft_storage_error(const raft_storage *s) { return s->err; }

void st_release_boot(raft_storage *s)
{
    free(s->boot_entries);
    s->boot_entries = NULL;
    for (size_t i = 0; i < s->n_seg_bufs; i++)
        free(s->seg_bufs[i]);
    free(s->seg_bufs);
    s->seg_bufs = NULL;
    s->n_seg_bufs = 0;
}

static void push_seg(raft_storage *s, raft_index first, uint64_t size)
{
    if (s->n_segs == s->cap_segs) {
        s->cap_segs = s->cap_segs ? 2 * s->cap_segs : 16;
        s->segs = realloc(s->segs, s->cap_segs * sizeof *s->segs);
        if (!s->segs)
            abort();
    }
    s->segs[s->n_segs++] = (st_seg){first, size};
}

static void push_ent(raft_storage *s, raft_index index, raft_term term, uint32_t seg, uint64_t off)
{
    if (s->n_ents == s->cap_ents) {
        s->cap_ents = s->cap_ents ? 2 * s->cap_ents : 1024;
        s->ents = realloc(s->ents, s->cap_ents * sizeof *s->ents);
        if (!s->ents)
            abort();
    }
    if (!s->n_ents)
        s->first_index = index;
    s->ents[s->n_ents++] = (st_ent){term, seg, off};
    s->next_index = index + 1;
}

/* Parses the record at off; returns its length or 0 if it is not valid. */
static size_t parse_rec(const uint8_t *b, size_t size, size_t off, raft_entry *e)
{
    if (size - off < REC_HEADER + REC_TRAILER || st_get32(b + off) != REC_MAGIC)
        return 0;
    uint32_t len = st_get32(b + off + 4);
    if (len > RAFT_MAX_ENTRY || size - off - REC_HEADER - REC_TRAILER < len)
        return 0;
    size_t body = REC_HEADER + len;
    if (st_get32(b + off + body) != raft_crc32c(0, b + off, body))
        return 0;
    e->index = st_get64(b + off + 8);
    e->term = st_get64(b + off + 16);
    e->type = b[off + 24];
    e->len = len;
    e->data = len ? (uint8_t *)b + off + REC_HEADER : NULL;
    return body + REC_TRAILER;
}

static bool valid_record_after(const uint8_t *b, size_t size, size_t off)
{
    raft_entry e;
    for (size_t p = off + 1; p + REC_HEADER + REC_TRAILER <= size; p++)
        if (parse_rec(b, size, p, &e))
            return true;
    return false;
}

static int cmp_index(const void *a, const void *b)
{
    raft_index x = *(const raft_index *)a, y = *(const raft_index *)b;
    return x < y ? -1 : x > y;
}

static int list_segments(raft_storage *s, raft_index **out, size_t *n)
{
    int fd = dup(s->dirfd);
    DIR *d = fd < 0 ? NULL : fdopendir(fd);
    if (!d) {
        st_error(s, "list directory: %s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    size_t cap = 16;
    *out = malloc(cap * sizeof **out);
    *n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *p = de->d_name;
        if (strncmp(p, "log-", 4) != 0 || strlen(p) != 24 || strspn(p + 4, "0123456789") != 20)
            continue;
        if (*n == cap)
            *out = realloc(*out, (cap *= 2) * sizeof **out);
        (*out)[(*n)++] = strtoull(p + 4, NULL, 10);
    }
    closedir(d);
    qsort(*out, *n, sizeof **out, cmp_index);
    return 0;
}

/* Reads one segment; appends its entries. Returns 0, or -1 on corruption. */
static int recover_segment(raft_storage *s, raft_index first, bool last, uint64_t *torn)
{
    char name[32];
    seg_name(first, name, sizeof name);
    uint8_t *b;
    ssize_t n = st_read_file(s, name, &b);
    if (n < 0)
        return -1;
    size_t size = (size_t)n, off = 0;
    if (s->n_ents && first != s->next_index) {
        st_error(s, "%s does not continue the log (expected index %" PRIu64 ")", name, s->next_index);
        free(b);
        return -1;
    }
    uint32_t seg = (uint32_t)s->n_segs;
    while (off < size) {
        raft_entry e;
        size_t len = parse_rec(b, size, off, &e);
        if (!len) {
            if (!last || valid_record_after(b, size, off)) {
                st_error(s, "%s: corrupt record at offset %zu (valid data follows: refusing "
                         "to drop durable entries)", name, off);
                free(b);
                return -1;
            }
            /* Torn tail: cut it off for good. */
            int fd = openat(s->dirfd, name, O_WRONLY | O_CLOEXEC);
            if (fd < 0 || ftruncate(fd, (off_t)off) < 0 || st_sync_fd(s, fd) < 0) {
                st_error(s, "truncate torn %s: %s", name, strerror(errno));
                if (fd >= 0)
                    close(fd);
                free(b);
                return -1;
            }
            close(fd);
            *torn = size - off;
            size = off;
            break;
        }
        raft_index want = s->n_ents ? s->next_index : first;
        if (e.index != want) {
            st_error(s, "%s: entry %" PRIu64 " where %" PRIu64 " was expected", name, e.index, want);
            free(b);
            return -1;
        }
        push_ent(s, e.index, e.term, seg, off);
        off += len;
    }
    if (!size) { /* nothing valid in it: remove it */
        unlinkat(s->dirfd, name, 0);
        s->dir_dirty = true;
        free(b);
        return 0;
    }
    push_seg(s, first, size);
    s->seg_bufs = realloc(s->seg_bufs, (s->n_seg_bufs + 1) * sizeof *s->seg_bufs);
    s->seg_bufs[s->n_seg_bufs++] = b;
    return 0;
}

static int open_last_segment(raft_storage *s)
{
    if (s->cur_fd >= 0)
        close(s->cur_fd);
    s->cur_fd = -1;
    if (!s->n_segs)
        return 0;
    char name[32];
    seg_name(s->segs[s->n_segs - 1].first, name, sizeof name);
    s->cur_fd = openat(s->dirfd, name, O_WRONLY | O_CLOEXEC);
    if (s->cur_fd < 0) {
        st_error(s, "open %s: %s", name, strerror(errno));
        return -1;
    }
    return 0;
}

int st_recover_log(raft_storage *s, uint64_t *torn)
{
    raft_index *firsts;
    size_t n;
    if (list_segments(s, &firsts, &n) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = recover_segment(s, firsts[i], i + 1 == n, torn);
    free(firsts);
    if (rc < 0)
        return -1;
    if (!s->n_ents) {
        s->next_index = s->snap_index + 1;
    } else if (s->first_index > s->snap_index + 1) {
        st_error(s, "log starts at %" PRIu64 " but the snapshot ends at %" PRIu64,
                 s->first_index, s->snap_index);
        return -1;
    } else if (s->next_index <= s->snap_index) {
        /* The whole log lies under the snapshot: start after it. */
        if (st_drop_all(s, s->snap_index + 1) < 0)
            return -1;
    }
    return open_last_segment(s);
}

static int delete_segment(raft_storage *s, size_t k)
{
    char name[32];
    seg_name(s->segs[k].first, name, sizeof name);
    if (unlinkat(s->dirfd, name, 0) < 0 && errno != ENOENT) {
        st_error(s, "unlink %s: %s", name, strerror(errno));
        return -1;
    }
    s->dir_dirty = true;
    return 0;
}

int st_drop_all(raft_storage *s, raft_index next)
{
    for (size_t k = 0; k < s->n_segs; k++)
        if (delete_segment(s, k) < 0)
            return -1;
    s->n_segs = 0;
    s->n_ents = 0;
    s->next_index = next;
    if (s->cur_fd >= 0)
        close(s->cur_fd);
    s->cur_fd = -1;
    s->cur_dirty = false;
    return st_sync_fd(s, s->dirfd);
}

int st_compact(raft_storage *s, raft_index keep_from)
{
    size_t drop = 0;
    /* Whole segments only, and never the one being written. */
    while (drop + 1 < s->n_segs && s->segs[drop + 1].first <= keep_from) {
        if (delete_segment(s, drop) < 0)
            return -1;
        drop++;
    }
    if (!drop)
        return 0;
    raft_index new_first = s->segs[drop].first;
    size_t gone = (size_t)(new_first - s->first_index);
    memmove(s->ents, s->ents + gone, (s->n_ents - gone) * sizeof *s->ents);
    s->n_ents -= gone;
    for (size_t i = 0; i < s->n_ents; i++)
        s->ents[i].seg -= (uint32_t)drop;
    memmove(s->segs, s->segs + drop, (s->n_segs - drop) * sizeof *s->segs);
    s->n_segs -= drop;
    s->first_index = new_first;
    return st_sync_fd(s, s->dirfd);
}

int raft_storage_truncate(raft_storage *s, raft_index from)
{
    st_release_boot(s);
    if (from >= s->next_index)
        return 0;
    if (!s->n_ents || from <= s->first_index)
        return st_drop_all(s, from);
    const st_ent *e = &s->ents[from - s->first_index];
    size_t k = e->seg;
    for (size_t j = k + 1; j < s->n_segs; j++)
        if (delete_segment(s, j) < 0)
            return -1;
    s->n_segs = k + 1;
    s->segs[k].size = e->off;
    s->n_ents = (size_t)(from - s->first_index);
    s->next_index = from;
    if (open_last_segment(s) < 0)
        return -1;
    if (ftruncate(s->cur_fd, (off_t)e->off) < 0) {
        st_error(s, "truncate log: %s", strerror(errno));
        return -1;
    }
    s->cur_dirty = true;
    return 0;
}

static int write_all(raft_storage *s, const uint8_t *p, size_t len, uint64_t off)
{
    while (len) {
        ssize_t n = pwrite(s->cur_fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            st_error(s, "write log: %s", n < 0 ? strerror(errno) : "short write");
            return -1;
        }
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    s->cur_dirty = true;
    return 0;
}

static int new_segment(raft_storage *s, raft_index first)
{
    if (s->cur_fd >= 0) {
        if (s->cur_dirty && st_sync_fd(s, s->cur_fd) < 0)
            return -1;
        close(s->cur_fd);
        s->cur_dirty = false;
    }
    char name[32];
    seg_name(first, name, sizeof name);
    s->cur_fd = openat(s->dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (s->cur_fd < 0) {
        st_error(s, "create %s: %s", name, strerror(errno));
        return -1;
    }
    push_seg(s, first, 0);
    s->dir_dirty = true;
    return 0;
}

int raft_storage_append(raft_storage *s, const raft_entry *e, size_t n)
{
    st_release_boot(s);
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (e[i].index != s->next_index || e[i].len > RAFT_MAX_ENTRY) {
            st_error(s, "append of entry %" PRIu64 " where %" PRIu64 " was expected",
                     e[i].index, s->next_index);
            rc = -1;
            break;
        }
        if (!s->n_segs || s->segs[s->n_segs - 1].size + len >= s->segment_bytes) {
            if (len && write_all(s, buf, len, s->segs[s->n_segs - 1].size) < 0) {
                rc = -1;
                break;
            }
            if (s->n_segs)
                s->segs[s->n_segs - 1].size += len;
            len = 0;
            if (new_segment(s, e[i].index) < 0) {
                rc = -1;
                break;
            }
        }
        size_t need = REC_HEADER + e[i].len + REC_TRAILER;
        if (len + need > cap) {
            cap = (len + need) * 2;
            buf = realloc(buf, cap);
            if (!buf)
                abort();
        }
        uint8_t *r = buf + len;
        st_put32(r, REC_MAGIC);
        st_put32(r + 4, e[i].len);
        st_put64(r + 8, e[i].index);
        st_put64(r + 16, e[i].term);
        r[24] = e[i].type;
        if (e[i].len)
            memcpy(r + REC_HEADER, e[i].data, e[i].len);
        st_put32(r + REC_HEADER + e[i].len, raft_crc32c(0, r, REC_HEADER + e[i].len));
        push_ent(s, e[i].index, e[i].term, (uint32_t)(s->n_segs - 1),
                 s->segs[s->n_segs - 1].size + len);
        len += need;
    }
    if (rc == 0 && len) {
        rc = write_all(s, buf, len, s->segs[s->n_segs - 1].size);
        if (rc == 0)
            s->segs[s->n_segs - 1].size += len;
    }
    free(buf);
    return rc;
}

int raft_storage_sync(raft_storage *s)
{
    if (s->cur_dirty && s->cur_fd >= 0) {
        if (st_sync_fd(s, s->cur_fd) < 0)
            return -1;
        s->cur_dirty = false;
    }
    if (s->dir_dirty) {
        if (st_sync_fd(s, s->dirfd) < 0)
            return -1;
        s->dir_dirty = false;
    }
    return 0;
}

raft_storage *raft_storage_open(const char *dir, enum raft_fsync_policy policy,
                                size_t segment_bytes, raft_storage_info *info,
                                char *err, size_t errlen)
{
    raft_storage *s = calloc(1, sizeof *s);
    if (!s)
        abort();
    s->policy = policy;
    s->segment_bytes = segment_bytes ? segment_bytes : 8u << 20;
    s->cur_fd = -1;
    s->next_index = 1;
    memset(info, 0, sizeof *info);
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        st_error(s, "mkdir %s: %s", dir, strerror(errno));
        s->dirfd = -1;
        goto fail;
    }
    s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s->dirfd < 0) {
        st_error(s, "open %s: %s", dir, strerror(errno));
        goto fail;
    }
    unlinkat(s->dirfd, "state.tmp", 0); /* a crash during a replace leaves these */
    unlinkat(s->dirfd, "snapshot.tmp", 0);
    uint64_t torn = 0;
    if (st_load_state(s) < 0 || st_load_snapshot(s) < 0 || st_recover_log(s, &torn) < 0)
        goto fail;
    raft_boot *b = &info->boot;
    b->term = s->term;
    b->vote = s->vote;
    b->snap_index = s->snap_index;
    b->snap_term = s->snap_term;
    b->snap_data = s->snap_data;
    b->snap_len = s->snap_len;
    raft_index from = s->snap_index + 1 > s->first_index ? s->snap_index + 1 : s->first_index;
    if (s->n_ents && from < s->next_index) {
        size_t count = (size_t)(s->next_index - from);
        s->boot_entries = calloc(count, sizeof *s->boot_entries);
        if (!s->boot_entries)
            abort();
        for (size_t i = 0; i < count; i++) {
            const st_ent *e = &s->ents[from - s->first_index + i];
            raft_entry *out = &s->boot_entries[i];
            parse_rec(s->seg_bufs[e->seg], s->segs[e->seg].size, (size_t)e->off, out);
        }
        b->entries = s->boot_entries;
        b->n_entries = count;
    }
    info->truncated_torn = torn;
    return s;
fail:
    if (err)
        snprintf(err, errlen, "raft storage %s: %s", dir, s->err);
    raft_storage_close(s);
    return NULL;
}

void raft_storage_close(raft_storage *s)
{
    if (!s)
        return;
    st_release_boot(s);
    if (s->cur_fd >= 0)
        close(s->cur_fd);
    if (s->dirfd >= 0)
        close(s->dirfd);
    free(s->snap_file);
    free(s->segs);
    free(s->ents);
    free(s);
}
