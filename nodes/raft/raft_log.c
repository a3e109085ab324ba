/* raft_log.c: the Raft core's in-memory log, a growable array of entries
 * base+1 .. base+n. Payloads are owned copies. Dropping a prefix
 * (compaction after a snapshot) moves the remaining entries down; it is rare
 * and bounded by snapshot_threshold, so an array beats a ring in simplicity. */
#include "nodes/raft/raft_internal.h"

#include <stdlib.h>
#include <string.h>

void raft_log_init(raft_log *l, raft_index base, raft_term base_term)
{
    memset(l, 0, sizeof *l);
    l->base = base;
    l->base_term = base_term;
}

static void free_range(raft_log *l, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        free(l->e[i].data);
}

void raft_log_free(raft_log *l)
{
    free_range(l, 0, l->n);
    free(l->e);
    memset(l, 0, sizeof *l);
}

raft_term raft_log_term(const raft_log *l, raft_index i)
{
    if (i == l->base)
        return l->base_term;
    if (i < l->base || i > raft_log_last(l))
        return 0;
    return l->e[i - l->base - 1].term;
}

raft_entry *raft_log_get(const raft_log *l, raft_index i)
{
    if (i <= l->base || i > raft_log_last(l))
        return NULL;
    return &l->e[i - l->base - 1];
}

void raft_log_append(raft_log *l, raft_term term, uint8_t type, const void *data, uint32_t len)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->e = realloc(l->e, l->cap * sizeof *l->e);
        if (!l->e)
            abort();
    }
    raft_entry *e = &l->e[l->n++];
    e->index = l->base + l->n;
    e->term = term;
    e->type = type;
    e->len = len;
    e->data = NULL;
    if (len) {
        e->data = malloc(len);
        if (!e->data)
            abort();
        memcpy(e->data, data, len);
    }
}

void raft_log_truncate(raft_log *l, raft_index from)
{
    if (from <= l->base)
        from = l->base + 1;
    if (from > raft_log_last(l))
        return;
    size_t keep = (size_t)(from - l->base - 1);
    free_range(l, keep, l->n);
    l->n = keep;
}

void raft_log_compact(raft_log *l, raft_index upto)
{
    if (upto <= l->base)
        return;
    if (upto > raft_log_last(l))
        upto = raft_log_last(l);
    size_t drop = (size_t)(upto - l->base);
    raft_term t = raft_log_term(l, upto);
    free_range(l, 0, drop);
    memmove(l->e, l->e + drop, (l->n - drop) * sizeof *l->e);
    l->n -= drop;
    l->base = upto;
    l->base_term = t;
}

void raft_log_reset(raft_log *l, raft_index base, raft_term base_term)
{
    free_range(l, 0, l->n);
    l->n = 0;
    l->base = base;
    l->base_term = base_term;
}
