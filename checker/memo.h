/* memo.h: the searches' set of configurations already explored.
 *
 * A key is a short array of 64-bit words (a model state plus an encoding of
 * which operations are done); the caller supplies its hash. Keys live back
 * to back in one arena ([length][words...]) and the table is open
 * addressing over (hash, offset) pairs, so a lookup touches one slot line
 * and one key. The memo only prunes: when it reaches its memory limit it
 * stops remembering new keys, which costs time but never changes a verdict. */
#ifndef RIFTLAB_CHECKER_MEMO_H
#define RIFTLAB_CHECKER_MEMO_H

#include <stddef.h>
#include <stdint.h>

typedef struct memo_slot {
    uint64_t hash;
    uint64_t off;           /* offset + 1 into the arena; 0 = empty */
} memo_slot;

typedef struct memo {
    memo_slot *slots;
    size_t mask, n;
    uint64_t *arena;
    size_t used, cap;
    size_t limit_words;     /* arena size at which it stops growing */
    int full;
} memo;

void memo_init(memo *m, size_t limit_bytes);
void memo_free(memo *m);
/* 1 if the key was new (and is now remembered), 0 if it was there. */
int memo_insert(memo *m, uint64_t hash, const uint64_t *key, uint32_t nwords);

#endif
