/* chain_disk.c: the durable committed prefix of a chain member, stored with
 * the Raft storage (see chain_disk.h for the mapping and why). */
#define _GNU_SOURCE
#include "chain_disk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nodes/raft/storage.h"

struct chain_disk {
    raft_storage *st;
    uint64_t last;       /* last committed seq on disk (written; durable after sync) */
};

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

chain_disk *chain_disk_open(const char *dir, int fsync_always, kv *state,
                            chain_disk_info *info, char *err, size_t errlen)
{
    memset(info, 0, sizeof *info);
    raft_storage_info ri;
    raft_storage *st = raft_storage_open(dir, fsync_always ? RAFT_FSYNC_ALWAYS : RAFT_FSYNC_NEVER,
                                         0, &ri, err, errlen);
    if (!st)
        return NULL;
    const raft_boot *b = &ri.boot;
    if (b->snap_index > 0 && kv_restore(state, b->snap_data, b->snap_len) < 0) {
        snprintf(err, errlen, "%s: snapshot at seq %llu is not a kv snapshot", dir,
                 (unsigned long long)b->snap_index);
        raft_storage_close(st);
        return NULL;
    }
    uint64_t seq = b->snap_index;
    for (size_t i = 0; i < b->n_entries; i++) {
        const raft_entry *e = &b->entries[i];
        kv_reply r;
        /* Every stored entry was applied once already, so a malformed one
         * means the disk holds something we never wrote. */
        if (e->index != seq + 1 || e->len < 8 || kv_apply(state, e->data + 8, e->len - 8, &r) < 0) {
            snprintf(err, errlen, "%s: bad committed entry at seq %llu", dir,
                     (unsigned long long)e->index);
            raft_storage_close(st);
            return NULL;
        }
        seq = e->index;
    }
    chain_disk *d = calloc(1, sizeof *d);
    if (!d)
        abort();
    d->st = st;
    d->last = seq;
    info->seq = seq;
    info->snap_seq = b->snap_index;
    info->replayed = b->n_entries;
    info->truncated_torn = ri.truncated_torn;
    return d;
}

void chain_disk_close(chain_disk *d)
{
    if (!d)
        return;
    raft_storage_close(d->st);
    free(d);
}

int chain_disk_append(chain_disk *d, uint64_t seq, uint64_t epoch, uint64_t req_id,
                      const uint8_t *cmd, size_t len)
{
    if (seq != d->last + 1 || len > RAFT_MAX_ENTRY - 8)
        return -1;
    uint8_t *p = malloc(len + 8);
    if (!p)
        abort();
    put_u64(p, req_id);
    memcpy(p + 8, cmd, len);
    raft_entry e = { .index = seq, .term = epoch ? epoch : 1, .type = RAFT_ENTRY_NORMAL,
                     .len = (uint32_t)(len + 8), .data = p };
    int rc = raft_storage_append(d->st, &e, 1);
    free(p);
    if (rc == 0)
        d->last = seq;
    return rc;
}

int chain_disk_sync(chain_disk *d)
{
    return raft_storage_sync(d->st);
}

int chain_disk_snapshot(chain_disk *d, const kv *state, uint64_t seq)
{
    uint8_t *snap;
    size_t len;
    if (kv_snapshot(state, &snap, &len) < 0)
        return -1;
    /* Everything up to seq must be durable before the snapshot may replace
     * the segments holding it. The term only matters to Raft; use 1. */
    int rc = raft_storage_sync(d->st);
    if (rc == 0)
        rc = raft_storage_save_snapshot(d->st, seq, 1, snap, len, seq + 1);
    free(snap);
    if (rc == 0 && seq > d->last)
        d->last = seq;
    return rc;
}

uint64_t chain_disk_last(const chain_disk *d)
{
    return d->last;
}

uint64_t chain_disk_fsyncs(const chain_disk *d)
{
    return raft_storage_fsyncs(d->st);
}

const char *chain_disk_error(const chain_disk *d)
{
    return raft_storage_error(d->st);
}
