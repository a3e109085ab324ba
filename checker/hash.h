/* hash.h: the small, fast hash functions of the checker (value interning,
 * memo keys, model states). Not cryptographic: collisions are always
 * resolved by comparing the full keys. */
#ifndef RIFTLAB_CHECKER_HASH_H
#define RIFTLAB_CHECKER_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* splitmix64's finaliser: a good 64-bit mixer for integers. */
static inline uint64_t chk_mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

/* Bytes, 8 at a time (memcpy keeps it alignment- and UBSan-clean). */
static inline uint64_t chk_hash_bytes(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ (n * 0x100000001b3ULL);
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = chk_mix64(h ^ w);
        s += 8;
        n -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, s, n);
    return chk_mix64(h ^ w ^ ((uint64_t)n << 56));
}

#endif
