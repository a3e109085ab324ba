/* prng.h: a seeded pseudo-random generator that gives the same sequence on
 * every machine (xoshiro256** seeded through splitmix64; no libc rand()).
 *
 * Reproducibility in riftlab rests on this: a run seed, combined with a
 * stream id (a link, a client, the nemesis) by prng_derive, gives each
 * decision-maker its own independent, repeatable stream. */
#ifndef RIFTLAB_PRNG_H
#define RIFTLAB_PRNG_H

#include <stdint.h>

typedef struct prng {
    uint64_t s[4];
} prng;

void prng_seed(prng *p, uint64_t seed);
/* A seed for sub-stream `stream` of `seed` (e.g. link i->j: stream = i<<16|j). */
uint64_t prng_derive(uint64_t seed, uint64_t stream);
uint64_t prng_next(prng *p);
double prng_double(prng *p);                  /* uniform in [0, 1) */
uint64_t prng_below(prng *p, uint64_t n);     /* uniform in [0, n), unbiased; n > 0 */
int prng_chance(prng *p, double probability); /* 1 with that probability */
double prng_normal(prng *p, double mean, double stddev);
/* Pareto with scale xm > 0 and shape alpha > 0 (heavy tail). */
double prng_pareto(prng *p, double xm, double alpha);

#endif
