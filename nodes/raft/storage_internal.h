/* storage_internal.h: the inside of raft_storage, shared by storage.c
 * (checksums, term+vote, snapshot, atomic file replacement) and
 * storage_log.c (segments: recovery, append, truncate, compaction). */
#ifndef RIFTLAB_RAFT_STORAGE_INTERNAL_H
#define RIFTLAB_RAFT_STORAGE_INTERNAL_H

#include <stdbool.h>
#include <sys/types.h>

#include "nodes/raft/storage.h"

#define REC_MAGIC 0x31454c52u /* "RLE1" */
#define REC_HEADER 25         /* magic u32 | len u32 | index u64 | term u64 | type u8 */
#define REC_TRAILER 4         /* crc32c u32 */

/* One segment file, log-<first>: entries first .. (next segment's first - 1). */
typedef struct st_seg {
    raft_index first;
    uint64_t size;           /* bytes of valid records */
} st_seg;

/* Where a durable entry's record is. */
typedef struct st_ent {
    raft_term term;
    uint32_t seg;            /* index into segs */
    uint64_t off;
} st_ent;

struct raft_storage {
    char err[256];
    int dirfd;
    enum raft_fsync_policy policy;
    size_t segment_bytes;
    uint64_t fsyncs;

    raft_term term;
    raft_id vote;

    raft_index snap_index;
    raft_term snap_term;
    uint8_t *snap_file;      /* the whole snapshot file; data inside it */
    const uint8_t *snap_data;
    size_t snap_len;

    st_seg *segs;
    size_t n_segs, cap_segs;
    st_ent *ents;            /* entries first_index .. next_index-1 */
    size_t n_ents, cap_ents;
    raft_index first_index;
    raft_index next_index;   /* what the next append must be */
    int cur_fd;              /* last segment, open for writing; -1 if none */
    bool cur_dirty, dir_dirty;

    /* What open recovered, for raft_new (freed at the first change). */
    raft_entry *boot_entries;
    uint8_t **seg_bufs;
    size_t n_seg_bufs;
};

void st_error(raft_storage *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void st_put32(uint8_t *p, uint32_t v);
void st_put64(uint8_t *p, uint64_t v);
uint32_t st_get32(const uint8_t *p);
uint64_t st_get64(const uint8_t *p);
int st_sync_fd(raft_storage *s, int fd);
int st_replace_file(raft_storage *s, const char *name, const uint8_t *data, size_t len);
ssize_t st_read_file(raft_storage *s, const char *name, uint8_t **out);
int st_load_state(raft_storage *s);
int st_load_snapshot(raft_storage *s);

/* storage_log.c */
int st_recover_log(raft_storage *s, uint64_t *torn_bytes);
raft_term st_term_at(const raft_storage *s, raft_index i);
int st_drop_all(raft_storage *s, raft_index next);
int st_compact(raft_storage *s, raft_index keep_from);
void st_release_boot(raft_storage *s);

#endif
