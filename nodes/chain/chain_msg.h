/* chain_msg.h: bodies of the chain protocol's datagrams (after the wire
 * header of common/wire.h, whose `type` is an enum chain_msg_type).
 *
 * All integers are big-endian. Every body starts with the sender's epoch.
 *   UPDATE   epoch u64, sender_last u64, catchup u64, n u32,
 *            n x { seq u64, rid u64, len u32, kv command bytes }
 *   ACK      epoch u64, recv u64, commit u64
 *   VQUERY   epoch u64, qid u64, key bytes (rest of the body)
 *   VREPLY   epoch u64, qid u64, version u64
 *   SNAP_REQ epoch u64
 *   SNAP     epoch u64, seq u64, total u32, offset u32, a chunk of the kv
 *            snapshot (bytes offset.. of total; rest of the body)
 * `catchup` is the sender's last_seq when the sender holds everything ever
 * committed (it is "caught up"), else UINT64_MAX: a receiver holding at
 * least that much is caught up too (see chain.c).
 * Decoding checks every length against the body and never reads past it. */
#ifndef RIFTLAB_CHAIN_MSG_H
#define RIFTLAB_CHAIN_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

typedef struct chain_msg_entry {
    uint64_t seq, rid;
    const uint8_t *cmd;
    uint32_t len;
} chain_msg_entry;

/* A decoded body; pointers refer to the buffer it was decoded from. */
typedef struct chain_msg {
    uint8_t type;
    uint64_t epoch;
    uint64_t a, b;            /* UPDATE: last, catchup; ACK: recv, commit;
                                 VQUERY/VREPLY: qid, (VREPLY) version; SNAP: seq */
    uint32_t n;               /* UPDATE: entries */
    uint32_t total, offset;   /* SNAP: snapshot size, this chunk's place */
    const uint8_t *data;      /* UPDATE: first entry; VQUERY: key; SNAP: snapshot */
    size_t data_len;
} chain_msg;

/* 0, or -1 if the body is malformed for its type (or the type unknown). */
int chain_msg_decode(uint8_t type, const uint8_t *body, size_t len, chain_msg *m);
/* Iterate UPDATE entries: *pos starts at 0. Returns 1 and fills e, or 0 at the end. */
int chain_msg_next_entry(const chain_msg *m, size_t *pos, chain_msg_entry *e);

/* Encoders append to b (start with an empty buf). */
void chain_msg_put_u64(buf *b, uint64_t v);
void chain_msg_put_u32(buf *b, uint32_t v);
void chain_msg_update_begin(buf *b, uint64_t epoch, uint64_t last, uint64_t commit);
void chain_msg_update_add(buf *b, uint64_t seq, uint64_t rid, const uint8_t *cmd, uint32_t len);
/* Writes the entry count at its place in the header. */
void chain_msg_update_end(buf *b, uint32_t n);
void chain_msg_ack(buf *b, uint64_t epoch, uint64_t recv, uint64_t commit);

#define CHAIN_MSG_UPDATE_HDR 28   /* epoch + last + commit + n */
#define CHAIN_MSG_ENTRY_HDR  20   /* seq + rid + len */

#endif
