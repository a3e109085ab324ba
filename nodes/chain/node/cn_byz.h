/* cn_byz.h: chain-node's Byzantine layer (--byzantine MODE).
 *
 * The chain core stays honest; this layer rewrites what the data role
 * sends. One mode:
 *
 *   reorder-forward  UPDATEs sent downstream carry consecutive entries
 *                    swapped in pairs (1,2), (3,4), ...: entry 2k-1 goes out
 *                    with the request id and command of entry 2k and vice
 *                    versa, under the original sequence numbers. Downstream
 *                    replicas so apply the pair in the opposite order from
 *                    this node (and the head): their commit traces show
 *                    another request id at those seqs. An odd entry whose
 *                    partner does not exist yet is held back (the core
 *                    resends it) for at most CN_BYZ_HOLD_NS; after that the
 *                    pair goes out unswapped, so a lone write is not stuck.
 *                    Resends repeat the same decision for each seq.
 *
 * No I/O here: tests feed it hand-made UPDATE bodies (tests/byzantine/). */
#ifndef RIFTLAB_CN_BYZ_H
#define RIFTLAB_CN_BYZ_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

enum cn_byz_mode { CN_BYZ_NONE = 0, CN_BYZ_REORDER_FORWARD };

#define CN_BYZ_MODES "reorder-forward"
#define CN_BYZ_RING 4096                 /* entries remembered (by seq) */
#define CN_BYZ_HOLD_NS 200000000ull      /* longest an odd entry waits for its partner */

/* Mode by name, or -1. */
int cn_byz_parse(const char *name);
/* "reorder-forward"; NULL for CN_BYZ_NONE. */
const char *cn_byz_name(int mode);

/* One remembered entry (slot seq % CN_BYZ_RING). */
typedef struct cn_byz_slot {
    uint64_t seq;            /* 0: empty */
    uint64_t rid;
    uint8_t *cmd;            /* owned copy */
    uint32_t len;
    uint8_t honest;          /* this pair goes out unswapped (its partner was late) */
    uint8_t traced;          /* a swap of this seq has been traced */
    uint64_t held_since;     /* odd entry waiting for its partner: when it first waited */
} cn_byz_slot;

typedef struct cn_byz {
    int mode;
    cn_byz_slot *ring;       /* CN_BYZ_RING slots, allocated by init when mode != 0 */
    uint64_t swapped;        /* entries sent with their partner's content */
    uint64_t held;           /* times an entry was held back */
} cn_byz;

void cn_byz_init(cn_byz *b, int mode);
void cn_byz_free(cn_byz *b);

/* Rewrite an UPDATE body (chain_msg.h layout) into out, at monotonic time
 * now_ns. Returns 1 when out holds the body to send instead, 0 to send the
 * original (not an UPDATE body, or nothing to change). *first_swap gets the
 * lowest seq swapped for the first time in this message (0: none). */
int cn_byz_update(cn_byz *b, const uint8_t *body, size_t len, uint64_t now_ns, buf *out,
                  uint64_t *first_swap);

#endif
