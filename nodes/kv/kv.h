/* kv.h: the replicated key-value state machine (shared by Raft and chain
 * replication).
 *
 * A kv is a deterministic map from byte-string keys to byte-string values.
 * Writes reach it only as encoded commands (kv_cmd_encode), which the
 * replication layer puts in its log and every replica applies in the same
 * order with kv_apply; the same sequence of commands gives every replica the
 * same state and the same replies. Nothing in here reads a clock, a socket
 * or a random number.
 *
 * Versions. The kv keeps one counter, `rev`, that grows by one on every write
 * that changes the state (SET, a successful CAS, a DEL or EXPIRE that removed
 * a key). A key's version is the value of rev when it was last written, so
 * versions are monotonic per key and never repeat, also across delete and
 * re-create: a re-created key gets a version above every version the key had
 * before. That makes VERSION usable as a fencing token. A missing key has
 * version 0.
 *
 * Expiry (SET ... PX ms). The proposer turns the relative TTL into an
 * absolute deadline by its own clock and puts it in the command. Replicas
 * never compare deadlines with their clocks; the leader (or chain head) asks
 * kv_collect_expired which keys are past the deadline by its clock and
 * proposes an EXPIRE command for each, carrying the key's version so that an
 * EXPIRE racing with a newer SET of the key does nothing. Every replica thus
 * removes the same keys at the same log position. Until that entry applies,
 * an expired key is still readable. */
#ifndef RIFTLAB_KV_H
#define RIFTLAB_KV_H

#include <stddef.h>
#include <stdint.h>

enum kv_op {
    KV_OP_SET = 1,
    KV_OP_DEL = 2,
    KV_OP_CAS = 3,
    KV_OP_EXPIRE = 4,
};

/* SET flags */
#define KV_SET_NX 0x01 /* only if the key does not exist */
#define KV_SET_XX 0x02 /* only if the key exists */
#define KV_SET_PX 0x04 /* deadline_ms is set */

#define KV_MAX_KEY   (64u << 10)  /* bytes */
#define KV_MAX_VALUE (8u << 20)

/* A decoded command. Pointers refer to the buffer it was decoded from. */
typedef struct kv_cmd {
    uint8_t op;                       /* enum kv_op */
    uint8_t flags;                    /* SET: KV_SET_* */
    const uint8_t *key;
    size_t klen;
    const uint8_t *val;               /* SET: the value; CAS: the new value */
    size_t vlen;
    const uint8_t *expect;            /* CAS: the expected current value */
    size_t elen;
    int64_t deadline_ms;              /* SET with KV_SET_PX: absolute, proposer's clock */
    uint64_t version;                 /* EXPIRE: applies only to this version */
} kv_cmd;

/* Bytes kv_cmd_encode needs for c. */
size_t kv_cmd_size(const kv_cmd *c);
/* Compact log encoding: op, flags, then varint-length-prefixed fields.
 * Returns the length written, or -1 if cap is too small or c is invalid. */
int kv_cmd_encode(const kv_cmd *c, uint8_t *out, size_t cap);
/* Strict decode (unknown op/flags, NX with XX, truncation or trailing bytes
 * are errors). Returns 0 or -1. */
int kv_cmd_decode(kv_cmd *c, const uint8_t *in, size_t len);

enum kv_reply_type {
    KV_REPLY_OK,     /* +OK */
    KV_REPLY_NIL,    /* null bulk */
    KV_REPLY_INT,    /* integer */
    KV_REPLY_BULK,   /* bytes */
    KV_REPLY_ERR,    /* error text (a static string) */
};

/* What a command answers. BULK data points into the kv and stays valid
 * until the next call that changes the kv. */
typedef struct kv_reply {
    enum kv_reply_type type;
    int64_t integer;
    const uint8_t *data;
    size_t len;
} kv_reply;

typedef struct kv kv;

kv *kv_new(void);
void kv_free(kv *k);

/* Apply one encoded command. Returns 0, or -1 for a malformed command (the
 * state is unchanged and the reply is an ERR). Replies:
 *   SET     OK, or NIL when NX/XX was not met
 *   DEL     INT 1 if a key was removed, else 0
 *   CAS     INT 1 if the value was expected and is now new, else 0
 *   EXPIRE  INT 1 if the key was removed, else 0 */
int kv_apply(kv *k, const uint8_t *cmd, size_t len, kv_reply *out);

/* Reads (not replicated). */
void kv_get(const kv *k, const void *key, size_t klen, kv_reply *out);
uint64_t kv_version(const kv *k, const void *key, size_t klen);
uint64_t kv_count(const kv *k);     /* live keys */
uint64_t kv_rev(const kv *k);       /* the write counter (highest version given) */
/* An order-independent digest of the whole state (keys, values, versions,
 * deadlines, rev): equal on replicas that applied the same commands. */
uint64_t kv_digest(const kv *k);

/* Keys whose deadline is <= now_ms, for the leader to propose EXPIRE.
 * Calls fn for at most max keys. A key reported once is not reported again
 * for retry_ms (by now_ms), so a leader scanning often does not flood its
 * log while the first EXPIRE commits; it is reported again if that EXPIRE
 * was lost. Returns how many were reported. */
typedef void (*kv_expired_fn)(const uint8_t *key, size_t klen, uint64_t version, void *arg);
size_t kv_collect_expired(kv *k, int64_t now_ms, int64_t retry_ms, size_t max,
                          kv_expired_fn fn, void *arg);

/* Snapshot of the whole state (malloc'd into *out; caller frees).
 * Returns 0 or -1 (out of memory). */
int kv_snapshot(const kv *k, uint8_t **out, size_t *len);
/* Replace the state with a snapshot. Returns 0, or -1 if the snapshot is
 * malformed (the state is then unchanged). */
int kv_restore(kv *k, const uint8_t *snap, size_t len);

/* Convenience encoders used by servers and tests (return the length or -1). */
int kv_encode_set(uint8_t *out, size_t cap, const void *key, size_t klen,
                  const void *val, size_t vlen, uint8_t flags, int64_t deadline_ms);
int kv_encode_del(uint8_t *out, size_t cap, const void *key, size_t klen);
int kv_encode_cas(uint8_t *out, size_t cap, const void *key, size_t klen,
                  const void *expect, size_t elen, const void *val, size_t vlen);
int kv_encode_expire(uint8_t *out, size_t cap, const void *key, size_t klen, uint64_t version);

#endif
