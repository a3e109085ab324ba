/* prng.c: xoshiro256** seeded through splitmix64 (prng.h). Only integer
 * arithmetic of fixed width, so every machine produces the same sequence;
 * the floating-point helpers use only IEEE-exact operations plus libm. */
#include "prng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void prng_seed(prng *p, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        p->s[i] = splitmix64(&x);
}

uint64_t prng_derive(uint64_t seed, uint64_t stream)
{
    /* Mix the stream through its own splitmix step before combining, so
     * nearby (seed, stream) pairs give unrelated seeds. */
    uint64_t x = stream;
    uint64_t y = seed ^ splitmix64(&x);
    return splitmix64(&y);
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t prng_next(prng *p)
{
    uint64_t *s = p->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double prng_double(prng *p)
{
    /* 53 random bits scaled by 2^-53: exact in IEEE double. */
    return (double)(prng_next(p) >> 11) * 0x1.0p-53;
}

uint64_t prng_below(prng *p, uint64_t n)
{
    if (n <= 1)
        return 0;
    /* Rejection sampling: discard the top partial range so every residue
     * is equally likely. threshold = 2^64 mod n. */
    uint64_t threshold = (0 - n) % n;
    for (;;) {
        uint64_t r = prng_next(p);
        if (r >= threshold)
            return r % n;
    }
}

int prng_chance(prng *p, double probability)
{
    if (probability <= 0)
        return 0;
    if (probability >= 1)
        return 1;
    return prng_double(p) < probability;
}

double prng_normal(prng *p, double mean, double stddev)
{
    /* Box-Muller; 1 - u keeps the log argument in (0, 1]. */
    double u1 = 1.0 - prng_double(p);
    double u2 = prng_double(p);
    return mean + stddev * sqrt(-2.0 * log(u1)) * cos(2.0 * 3.14159265358979323846 * u2);
}

double prng_pareto(prng *p, double xm, double alpha)
{
    double u = 1.0 - prng_double(p); /* (0, 1] */
    return xm / pow(u, 1.0 / alpha);
}
