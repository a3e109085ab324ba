/* chain_disk.h: the durable committed prefix of one chain member.
 *
 * A chain member's committed state is a sequence of kv commands numbered
 * 1..commit_seq. chain_disk keeps that sequence on disk so a restarted
 * member (`chain-node --dir DIR`) comes back with everything it had
 * committed. It is a thin layer over the Raft storage (nodes/raft/storage.h)
 * rather than a second log format: a committed entry is stored as a Raft log
 * entry whose index is its sequence number, whose term is the epoch it was
 * committed in, and whose payload is `u64 request id | kv command`; the
 * kv snapshot (kv_snapshot) is the Raft storage snapshot. That storage
 * already checksums every record (crc32c), truncates a torn last record at
 * open, refuses corruption in the middle of the log, and replaces the
 * snapshot atomically (tmp, fsync, rename, fsync dir).
 *
 * Only COMMITTED entries are written: a member's dirty (uncommitted) entries
 * may be discarded by a reconfiguration and are not worth keeping; what the
 * disk guarantees is the committed prefix. */
#ifndef RIFTLAB_CHAIN_DISK_H
#define RIFTLAB_CHAIN_DISK_H

#include <stddef.h>
#include <stdint.h>

#include "kv.h"

typedef struct chain_disk chain_disk;

/* What chain_disk_open recovered. */
typedef struct chain_disk_info {
    uint64_t seq;            /* last durable committed sequence number (0: empty) */
    uint64_t snap_seq;       /* sequence number the snapshot covers (0: none) */
    uint64_t replayed;       /* log entries applied on top of the snapshot */
    uint64_t truncated_torn; /* bytes of a torn last record cut off */
} chain_disk_info;

/* Opens (creating if needed) dir and rebuilds `state` (a fresh kv) from the
 * snapshot plus the log. fsync_always: 1 = every chain_disk_sync fsyncs,
 * 0 = never (unsafe on power loss, safe on process kill). Returns NULL and
 * a reason in err on failure (corruption, unreadable dir, bad snapshot). */
chain_disk *chain_disk_open(const char *dir, int fsync_always, kv *state,
                            chain_disk_info *info, char *err, size_t errlen);
void chain_disk_close(chain_disk *d);

/* Write committed entry seq (must be chain_disk_last()+1). Durable only
 * after chain_disk_sync: callers batch a tick's commits, then sync once
 * (group commit) before acknowledging them. Returns 0 or -1. */
int chain_disk_append(chain_disk *d, uint64_t seq, uint64_t epoch, uint64_t req_id,
                      const uint8_t *cmd, size_t len);
int chain_disk_sync(chain_disk *d);

/* Save `state` as the snapshot covering 1..seq (durable on return) and drop
 * log segments it makes unnecessary. Also the way to jump forward: after a
 * state transfer installed seq > chain_disk_last()+1 the log restarts there. */
int chain_disk_snapshot(chain_disk *d, const kv *state, uint64_t seq);

uint64_t chain_disk_last(const chain_disk *d);
uint64_t chain_disk_fsyncs(const chain_disk *d);
const char *chain_disk_error(const chain_disk *d);

#endif
