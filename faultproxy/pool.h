/* pool.h: faultproxy's store of delayed datagrams: size-classed message
 * slots carved from large chunks, and a min-heap of slots by due time.
 *
 * Why: a delayed datagram must be copied out of the receive buffer, and the
 * queue must hold 100k of them without a malloc per message. Slots come from
 * per-class free lists; a class grows by one chunk (about 256 KiB) when its
 * list is empty, and chunks are only returned at exit, so the steady state
 * allocates nothing. The heap orders by (due, arrival order), so datagrams
 * with equal due times leave in the order they came (no accidental reorder). */
#ifndef RIFTLAB_PROXY_POOL_H
#define RIFTLAB_PROXY_POOL_H

#include <stddef.h>
#include <stdint.h>

#define POOL_CLASSES 4

typedef struct pool_slot {
    struct pool_slot *next;   /* free list link while free */
    uint64_t due;             /* monotonic ns when it leaves */
    uint64_t order;           /* tie-break: arrival order */
    uint16_t from, to;        /* node indexes */
    uint32_t len;
    uint8_t cls;              /* size class it came from */
    uint8_t data[];           /* the datagram */
} pool_slot;

typedef struct pool {
    pool_slot *free[POOL_CLASSES];
    void **chunks;            /* every chunk allocated, freed at exit */
    size_t nchunks, capchunks;
    pool_slot **heap;         /* min-heap by (due, order) */
    size_t nheap, capheap;
    size_t max_queued;        /* beyond this, pool_get fails (counted as overflow) */
    uint64_t next_order;
} pool;

void pool_init(pool *p, size_t max_queued);
void pool_free(pool *p);
/* A slot able to hold len bytes (len <= 65536), or NULL when the queue is full. */
pool_slot *pool_get(pool *p, size_t len);
void pool_put(pool *p, pool_slot *s);
/* Heap: push a filled slot; peek/pop the earliest. */
void pool_push(pool *p, pool_slot *s);
static inline pool_slot *pool_peek(const pool *p) { return p->nheap ? p->heap[0] : NULL; }
pool_slot *pool_pop(pool *p);

#endif
