/* storage.h: durable state of one Raft node in a data directory.
 *
 *   <dir>/state          term + vote, replaced atomically
 *                        (write state.tmp, fsync, rename, fsync dir)
 *   <dir>/log-<first>    log segments: entries with a checksum each, named by
 *                        the index of their first entry (20 digits)
 *   <dir>/snapshot       the latest snapshot (index, term, bytes, checksum),
 *                        replaced atomically like `state`
 *
 * Record format of a segment entry (little endian):
 *   u32 magic "RLE1" | u32 payload len | u64 index | u64 term | u8 type |
 *   payload | u32 crc32c(everything before it in the record)
 * Recovery reads segments in order; a record that is cut short or whose
 * checksum fails at the END of the last segment is a torn write and is cut
 * off (the file is truncated there). A bad record followed by more valid
 * data, or anywhere but the last segment, is corruption of data that was
 * once durable: raft_storage_open fails (never silently drops acknowledged
 * entries). See docs/raft.md.
 *
 * Log writes are batched: raft_storage_append/truncate write to the files,
 * raft_storage_sync makes the whole batch durable with one fsync of the
 * segment (plus one of the directory if a segment was created): group
 * commit. save_state and save_snapshot are durable on return (they replace
 * a whole file atomically). With RAFT_FSYNC_NEVER nothing
 * is ever fsynced (a deliberate, unsafe option: fast, loses data on power
 * loss / kill of the machine, not on process kill). */
#ifndef RIFTLAB_RAFT_STORAGE_H
#define RIFTLAB_RAFT_STORAGE_H

#include <stddef.h>
#include <stdint.h>

#include "nodes/raft/raft.h"

enum raft_fsync_policy { RAFT_FSYNC_ALWAYS = 0, RAFT_FSYNC_NEVER = 1 };

typedef struct raft_storage raft_storage;

/* Everything found on disk; pointers owned by the storage until the next
 * call that changes it (raft_storage_load fills a raft_boot for raft_new). */
typedef struct raft_storage_info {
    raft_boot boot;
    uint64_t truncated_torn;    /* bytes cut off a torn tail at open (0 if none) */
} raft_storage_info;

/* Opens (creating if needed) the data directory and recovers it.
 * Returns NULL and a reason in err on failure (unreadable dir, corruption
 * in the middle of the log, bad snapshot). segment_bytes: start a new
 * segment file past this size (0: default 8 MiB). */
raft_storage *raft_storage_open(const char *dir, enum raft_fsync_policy policy,
                                size_t segment_bytes, raft_storage_info *info,
                                char *err, size_t errlen);
void raft_storage_close(raft_storage *s);

/* Replace term+vote atomically (durable on return unless policy is never). */
int raft_storage_save_state(raft_storage *s, raft_term term, raft_id vote);
/* Drop entries with index >= from (written; durable at the next sync). */
int raft_storage_truncate(raft_storage *s, raft_index from);
/* Append entries (consecutive, following the last one); durable at the next sync. */
int raft_storage_append(raft_storage *s, const raft_entry *e, size_t n);
/* One fsync for everything written since the last sync (group commit). */
int raft_storage_sync(raft_storage *s);
/* Save a snapshot ending at index/term atomically, then delete whole
 * segments that lie entirely at or below keep_from - 1 (log compaction; the
 * log keeps entries >= keep_from). If the log does not contain index (an
 * installed leader snapshot), the whole log is dropped. */
int raft_storage_save_snapshot(raft_storage *s, raft_index index, raft_term term,
                               const void *data, size_t len, raft_index keep_from);

/* Counters for RIFT.STATUS. */
raft_index raft_storage_first_index(const raft_storage *s);
raft_index raft_storage_last_index(const raft_storage *s);
uint64_t raft_storage_fsyncs(const raft_storage *s);
const char *raft_storage_error(const raft_storage *s); /* last error text */

/* crc32c (Castagnoli), software; exposed for tests. */
uint32_t raft_crc32c(uint32_t crc, const void *data, size_t len);

#endif
