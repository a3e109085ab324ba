/* gen_history.c: writes a linearizable-by-construction kv history.jsonl for
 * the checker benchmark: `checker-gen-history OPS PROCESSES [KEYS] [SEED]`.
 *
 * Each client process invokes an op on a random key, the op takes effect
 * on the simulated store at a random later moment, and completes later
 * still; 1% of writes and cas time out (info) and their process retires, as
 * in Jepsen. Times are nanoseconds, 1-20 us apart. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;
static uint64_t rnd(uint64_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state % n;
}

typedef struct client {
    int64_t id;
    int phase;              /* 0 idle, 1 invoked, 2 took effect */
    int f;                  /* 0 read, 1 write, 2 cas */
    int key;
    int64_t a, b, result;   /* write: a; cas: a -> b; read: result */
    int ok;
} client;

int main(int argc, char **argv)
{
    if (argc < 3 || strcmp(argv[1], "--help") == 0) {
        fprintf(stderr, "usage: checker-gen-history OPS PROCESSES [KEYS] [SEED] > history.jsonl\n");
        return argc < 3 ? 254 : 0;
    }
    long nops = atol(argv[1]), np = atol(argv[2]), nk = argc > 3 ? atol(argv[3]) : 8;
    if (argc > 4)
        rng_state ^= strtoull(argv[4], NULL, 10) * 0x2545F4914F6CDD1DULL;
    if (nops <= 0 || np <= 0 || nk <= 0) {
        fprintf(stderr, "checker-gen-history: OPS, PROCESSES and KEYS must be positive\n");
        return 254;
    }
    client *c = calloc((size_t)np, sizeof *c);
    int64_t *reg = malloc((size_t)nk * sizeof *reg), next_val = 0, next_id = np, t = 0, index = 0;
    for (long k = 0; k < nk; k++)
        reg[k] = -1; /* null */
    for (long p = 0; p < np; p++)
        c[p].id = p;
    long started = 0, busy = 0;
    char val[64];
    while (started < nops || busy > 0) {
        client *x = &c[rnd((uint64_t)np)];
        t += 1000 + (int64_t)rnd(19000);
        if (x->phase == 0) {
            if (started >= nops)
                continue;
            started++;
            busy++;
            uint64_t r = rnd(100);
            x->f = r < 50 ? 0 : r < 85 ? 1 : 2;
            x->key = (int)rnd((uint64_t)nk);
            if (x->f == 0)
                snprintf(val, sizeof val, "null");
            else if (x->f == 1)
                snprintf(val, sizeof val, "%" PRId64, x->a = next_val++);
            else {
                x->a = rnd(2) && reg[x->key] >= 0 ? reg[x->key] : next_val - 1;
                x->b = next_val++;
                snprintf(val, sizeof val, "[%" PRId64 ",%" PRId64 "]", x->a, x->b);
            }
            static const char *const fs[] = {"read", "write", "cas"};
            printf("{\"index\":%" PRId64 ",\"time\":%" PRId64 ",\"process\":%" PRId64
                   ",\"type\":\"invoke\",\"f\":\"%s\",\"key\":\"k%d\",\"value\":%s}\n",
                   index++, t, x->id, fs[x->f], x->key, val);
            x->phase = 1;
        } else if (x->phase == 1) { /* the linearization point */
            if (x->f == 0)
                x->result = reg[x->key];
            else if (x->f == 1)
                reg[x->key] = x->a;
            else if ((x->ok = reg[x->key] == x->a))
                reg[x->key] = x->b;
            x->ok = x->f != 2 || x->ok;
            x->phase = 2;
        } else {
            static const char *const fs[] = {"read", "write", "cas"};
            const char *type = x->ok ? "ok" : "fail";
            int info = x->f != 0 && rnd(100) == 0;
            if (info)
                type = "info";
            if (x->f == 0 && x->result < 0)
                snprintf(val, sizeof val, "null");
            else if (x->f == 0)
                snprintf(val, sizeof val, "%" PRId64, x->result);
            else if (x->f == 1)
                snprintf(val, sizeof val, "%" PRId64, x->a);
            else
                snprintf(val, sizeof val, "[%" PRId64 ",%" PRId64 "]", x->a, x->b);
            printf("{\"index\":%" PRId64 ",\"time\":%" PRId64 ",\"process\":%" PRId64
                   ",\"type\":\"%s\",\"f\":\"%s\",\"key\":\"k%d\",\"value\":%s}\n",
                   index++, t, x->id, type, fs[x->f], x->key, val);
            if (info)
                x->id = next_id++;
            x->phase = 0;
            busy--;
        }
    }
    free(c);
    free(reg);
    return 0;
}
