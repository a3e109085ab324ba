/* clock.h: time as each node sees it, and logical clocks.
 *
 * - mono_now_ns(): CLOCK_MONOTONIC in nanoseconds.
 * - node_clock: a node's wall of time = monotonic time plus a settable offset
 *   and a drift in parts per million, so the nemesis can skew a node
 *   (RIFT.CLOCK offset_ms drift_ppm). Drift accumulates from the moment it is
 *   set, so changing it never makes the node's clock jump.
 * - lamport: Lamport's logical clock (tick on a local event, stamp on send,
 *   merge max+1 on receive).
 * - vclock: a vector clock over at most VCLOCK_MAX nodes with the partial
 *   order before / after / equal / concurrent. */
#ifndef RIFTLAB_CLOCK_H
#define RIFTLAB_CLOCK_H

#include <stddef.h>
#include <stdint.h>

uint64_t mono_now_ns(void);

typedef struct node_clock {
    uint64_t base_mono;   /* monotonic time when offset/drift were last set */
    int64_t  base_value;  /* node time at base_mono */
    int32_t  drift_ppm;
} node_clock;

/* Starts equal to the monotonic clock. */
void node_clock_init(node_clock *c, uint64_t mono_now);
/* Node time at monotonic time mono_now (may be negative early on with a large negative offset). */
int64_t node_clock_now(const node_clock *c, uint64_t mono_now);
/* Set the offset (relative to true monotonic time) and the drift from now on. */
void node_clock_set(node_clock *c, uint64_t mono_now, int64_t offset_ns, int32_t drift_ppm);
/* Change only the drift: the node's time stays continuous at mono_now. */
void node_clock_set_drift(node_clock *c, uint64_t mono_now, int32_t drift_ppm);
/* Current offset of node time from true monotonic time (for RIFT.STATUS). */
int64_t node_clock_offset(const node_clock *c, uint64_t mono_now);

typedef struct lamport {
    uint64_t time;
} lamport;

uint64_t lamport_tick(lamport *l);                  /* local event */
uint64_t lamport_send(lamport *l);                  /* stamp for an outgoing message */
uint64_t lamport_recv(lamport *l, uint64_t remote); /* max(local, remote) + 1 */

#define VCLOCK_MAX 32

typedef struct vclock {
    uint16_t n;                /* number of entries in use */
    uint64_t c[VCLOCK_MAX];    /* c[i]: events of node i seen */
} vclock;

enum vclock_order { VCLOCK_EQUAL, VCLOCK_BEFORE, VCLOCK_AFTER, VCLOCK_CONCURRENT };

void vclock_init(vclock *v, uint16_t n);
void vclock_tick(vclock *v, uint16_t self);
void vclock_merge(vclock *v, const vclock *other);   /* pointwise max, grows n */
enum vclock_order vclock_compare(const vclock *a, const vclock *b);
/* Binary encoding: u16 n, then n u64 (big endian). Returns bytes written or -1. */
int vclock_encode(const vclock *v, uint8_t *out, size_t cap);
/* Returns bytes consumed or -1 (short, n > VCLOCK_MAX). */
int vclock_decode(vclock *v, const uint8_t *in, size_t len);
/* JSON object text {"n1":3,"n2":0,...} for traces (ShiViz style, names "n<i+1>"). */
int vclock_format_json(const vclock *v, char *out, size_t cap);

#endif
