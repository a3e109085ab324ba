/* memo.c: open-addressing set of word-array keys (see memo.h). */
#include "checker/memo.h"

#include <stdlib.h>
#include <string.h>

void memo_init(memo *m, size_t limit_bytes)
{
    memset(m, 0, sizeof *m);
    m->mask = 1023;
    m->slots = calloc(m->mask + 1, sizeof *m->slots);
    m->cap = 4096;
    m->arena = malloc(m->cap * sizeof *m->arena);
    m->limit_words = limit_bytes / sizeof(uint64_t);
    if (!m->slots || !m->arena)
        abort();
}

void memo_free(memo *m)
{
    free(m->slots);
    free(m->arena);
    memset(m, 0, sizeof *m);
}

static void memo_rehash(memo *m)
{
    size_t mask = m->mask * 2 + 1;
    memo_slot *s = calloc(mask + 1, sizeof *s);
    if (!s)
        abort();
    for (size_t i = 0; i <= m->mask; i++) {
        if (!m->slots[i].off)
            continue;
        size_t j = m->slots[i].hash & mask;
        while (s[j].off)
            j = (j + 1) & mask;
        s[j] = m->slots[i];
    }
    free(m->slots);
    m->slots = s;
    m->mask = mask;
}

int memo_insert(memo *m, uint64_t hash, const uint64_t *key, uint32_t nwords)
{
    size_t i = hash & m->mask;
    for (; m->slots[i].off; i = (i + 1) & m->mask) {
        if (m->slots[i].hash != hash)
            continue;
        const uint64_t *k = m->arena + m->slots[i].off - 1;
        if (k[0] == nwords && memcmp(k + 1, key, nwords * sizeof *key) == 0)
            return 0;
    }
    if (m->full)
        return 1;
    if (m->used + nwords + 1 > m->cap) {
        size_t cap = m->cap;
        while (m->used + nwords + 1 > cap)
            cap *= 2;
        if (cap > m->limit_words && m->used + nwords + 1 > m->limit_words) {
            m->full = 1; /* stop remembering: still exact, only slower */
            return 1;
        }
        uint64_t *a = realloc(m->arena, cap * sizeof *a);
        if (!a) {
            m->full = 1;
            return 1;
        }
        m->arena = a;
        m->cap = cap;
    }
    m->arena[m->used] = nwords;
    memcpy(m->arena + m->used + 1, key, nwords * sizeof *key);
    m->slots[i].hash = hash;
    m->slots[i].off = m->used + 1;
    m->used += nwords + 1;
    if (++m->n * 2 > m->mask)
        memo_rehash(m);
    return 1;
}
