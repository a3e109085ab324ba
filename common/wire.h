/* wire.h: the node-to-node datagram format of DESIGN.md, and its HMAC tag.
 *
 * Every datagram between nodes is
 *     fixed header (WIRE_HEADER_LEN bytes, network byte order) || body || tag?
 * where the optional 16-byte tag is the first half of
 * HMAC-SHA256(key, header || body) and flag bit 0 says it is there.
 *
 * The proxy reads only the header (wire_peek); nodes decode and verify the
 * whole datagram (wire_decode). Decoding never reads outside the buffer it is
 * given, and every way a datagram can be malformed has its own error code,
 * so counters and tests can tell them apart. All functions are thread-safe
 * (each thread caches its own HMAC context for the last key it used). */
#ifndef RIFTLAB_WIRE_H
#define RIFTLAB_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define WIRE_MAGIC       0x524C /* "RL" */
#define WIRE_VERSION     1
#define WIRE_HEADER_LEN  34     /* 2+1+1+2+2+2+4+8+8+4 */
#define WIRE_TAG_LEN     16
#define WIRE_KEY_LEN     32
/* Largest datagram we send or accept (fits a UDP payload with room to spare). */
#define WIRE_MAX_DATAGRAM 65000
#define WIRE_MAX_BODY    (WIRE_MAX_DATAGRAM - WIRE_HEADER_LEN - WIRE_TAG_LEN)

#define WIRE_FLAG_AUTH   0x0001 /* a tag follows the body */

typedef struct wire_header {
    uint16_t magic;
    uint8_t  version;
    uint8_t  type;      /* per-protocol message type */
    uint16_t flags;
    uint16_t src, dst;  /* node ids */
    uint32_t cluster;   /* datagrams of another cluster are dropped */
    uint64_t seq;       /* sender's per-destination sequence number */
    uint64_t lamport;   /* sender's Lamport clock */
    uint32_t body_len;
} wire_header;

/* A shared secret for authenticated links. */
typedef struct wire_key {
    uint8_t bytes[WIRE_KEY_LEN];
} wire_key;

/* Decode results: 0 is success, every failure a distinct negative code. */
enum wire_error {
    WIRE_OK = 0,
    WIRE_ESHORT = -1,     /* fewer bytes than a header */
    WIRE_EOVERSIZE = -2,  /* datagram or declared body larger than WIRE_MAX_* */
    WIRE_EMAGIC = -3,     /* magic is not "RL" */
    WIRE_EVERSION = -4,   /* unknown version */
    WIRE_ELENGTH = -5,    /* body_len (+ tag) does not match the datagram size */
    WIRE_ENOTAG = -6,     /* a key is required but the datagram carries no tag */
    WIRE_EBADTAG = -7,    /* the tag does not verify */
    WIRE_ECLUSTER = -8,   /* another cluster's datagram */
    WIRE_ENOSPACE = -9,   /* encode: output buffer too small */
};

/* Human-readable name of a wire_error ("short datagram", ...). */
const char *wire_strerror(int err);

/* Why a node dropped a received datagram. Both node kinds count and trace
 * their rejections by these (RIFT.STATUS "rejected", trace "reject"). */
enum wire_reject {
    WIRE_REJECT_NONE = 0,
    WIRE_REJECT_BAD_TAG,       /* HMAC tag present but wrong */
    WIRE_REJECT_MISSING_TAG,   /* a key is configured, the datagram has no tag */
    WIRE_REJECT_MALFORMED,     /* bad header or length, or a body its receiver cannot read */
    WIRE_REJECT_WRONG_CLUSTER, /* another cluster's datagram */
    WIRE_REJECT_MISDIRECTED,   /* well formed, but not for us or from an unknown sender */
    WIRE_REJECT_COUNT
};
/* The reason behind a wire_decode result (WIRE_OK: none). */
enum wire_reject wire_reject_of(int wire_rc);
/* "none", "bad-tag", "missing-tag", "malformed", "wrong-cluster", "misdirected". */
const char *wire_reject_name(int reason);
/* Rejections counted by reason. */
typedef struct wire_rejects {
    uint64_t by[WIRE_REJECT_COUNT];
} wire_rejects;
/* The RIFT.STATUS object {"bad_tag":N,"missing_tag":N,"malformed":N,
 * "wrong_cluster":N,"misdirected":N}; snprintf's contract. */
int wire_rejects_json(const wire_rejects *r, char *out, size_t cap);

/* Encode header+body (+tag when key != NULL, which also sets WIRE_FLAG_AUTH
 * and fills magic/version/body_len). Returns the datagram length, or
 * WIRE_ENOSPACE / WIRE_EOVERSIZE. */
int wire_encode(uint8_t *out, size_t cap, const wire_header *h,
                const void *body, size_t body_len, const wire_key *key);

/* Decode and validate a whole datagram. With key != NULL a valid tag is
 * required (constant-time compare). With expect_cluster != 0 a datagram of
 * another cluster is WIRE_ECLUSTER. On success *body points into buf. */
int wire_decode(const uint8_t *buf, size_t len, wire_header *h,
                const uint8_t **body, const wire_key *key, uint32_t expect_cluster);

/* Read and check only the fixed header (magic, version, length bounds), as
 * the proxy does; no tag check. */
int wire_peek(const uint8_t *buf, size_t len, wire_header *h);

/* Keys: load a key file (binary 32 bytes, or 64 hex chars + optional newline).
 * Refuses files readable by group or others (mode must be 0600 or stricter).
 * Returns 0, or -1 with a message in err. */
int wire_key_load(const char *path, wire_key *key, char *err, size_t errlen);
/* Create a fresh random key file with mode 0600 (hex). Never overwrites:
 * fails if path exists. */
int wire_key_generate(const char *path, wire_key *key, char *err, size_t errlen);

#endif
