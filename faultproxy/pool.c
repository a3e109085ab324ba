/* pool.c: message slots and the delay heap of faultproxy (see pool.h). */
#include "pool.h"

#include <stdlib.h>
#include <string.h>

/* Payload capacity of each class: small protocol messages, typical ones,
 * batched appends, and the largest UDP datagram. */
static const size_t class_size[POOL_CLASSES] = {256, 2048, 16384, 65536};
#define CHUNK_BYTES (256u << 10)

void pool_init(pool *p, size_t max_queued)
{
    memset(p, 0, sizeof *p);
    p->max_queued = max_queued;
}

void pool_free(pool *p)
{
    for (size_t i = 0; i < p->nchunks; i++)
        free(p->chunks[i]);
    free(p->chunks);
    free(p->heap);
    memset(p, 0, sizeof *p);
}

static size_t slot_bytes(int cls)
{
    /* Keep slots 8-byte aligned. */
    return (sizeof(pool_slot) + class_size[cls] + 7) & ~(size_t)7;
}

static void *xrealloc(void *ptr, size_t n)
{
    void *q = realloc(ptr, n);
    if (!q)
        abort();
    return q;
}

static void grow_class(pool *p, int cls)
{
    size_t sb = slot_bytes(cls), n = CHUNK_BYTES / sb;
    if (n < 4)
        n = 4;
    char *chunk = malloc(n * sb);
    if (!chunk)
        abort();
    if (p->nchunks == p->capchunks) {
        p->capchunks = p->capchunks ? p->capchunks * 2 : 16;
        p->chunks = xrealloc(p->chunks, p->capchunks * sizeof *p->chunks);
    }
    p->chunks[p->nchunks++] = chunk;
    for (size_t i = 0; i < n; i++) {
        pool_slot *s = (pool_slot *)(chunk + i * sb);
        s->cls = (uint8_t)cls;
        s->next = p->free[cls];
        p->free[cls] = s;
    }
}

pool_slot *pool_get(pool *p, size_t len)
{
    if (p->nheap >= p->max_queued)
        return NULL;
    int cls = 0;
    while (cls < POOL_CLASSES && class_size[cls] < len)
        cls++;
    if (cls == POOL_CLASSES)
        return NULL;
    if (!p->free[cls])
        grow_class(p, cls);
    pool_slot *s = p->free[cls];
    p->free[cls] = s->next;
    s->len = (uint32_t)len;
    return s;
}

void pool_put(pool *p, pool_slot *s)
{
    s->next = p->free[s->cls];
    p->free[s->cls] = s;
}

static int before(const pool_slot *a, const pool_slot *b)
{
    return a->due < b->due || (a->due == b->due && a->order < b->order);
}

void pool_push(pool *p, pool_slot *s)
{
    if (p->nheap == p->capheap) {
        p->capheap = p->capheap ? p->capheap * 2 : 1024;
        p->heap = xrealloc(p->heap, p->capheap * sizeof *p->heap);
    }
    s->order = p->next_order++;
    size_t i = p->nheap++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before(s, p->heap[parent]))
            break;
        p->heap[i] = p->heap[parent];
        i = parent;
    }
    p->heap[i] = s;
}

pool_slot *pool_pop(pool *p)
{
    if (p->nheap == 0)
        return NULL;
    pool_slot *top = p->heap[0], *last = p->heap[--p->nheap];
    size_t i = 0, n = p->nheap;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && before(p->heap[c + 1], p->heap[c]))
            c++;
        if (!before(p->heap[c], last))
            break;
        p->heap[i] = p->heap[c];
        i = c;
    }
    if (n)
        p->heap[i] = last;
    return top;
}
