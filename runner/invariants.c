/* invariants.c: trace invariants (see invariants.h). Traces are read line
 * by line with jansson; a malformed line is skipped and counted (a node
 * killed mid-write leaves a torn last line), never fatal. */
#define _GNU_SOURCE
#include "invariants.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INV_MAX_VIOLATIONS 20

typedef struct kv64 {
    uint64_t k;          /* term or index */
    uint64_t v;          /* leader node+1, or hash */
    int node;
} kv64;

/* First value seen per key (term -> leader, index -> hash); open
 * addressing, because traces can hold 100k applies. */
typedef struct htab {
    kv64 *slots;
    size_t mask, used;
} htab;

static void ht_init(htab *h)
{
    h->mask = 1023;
    h->used = 0;
    h->slots = calloc(h->mask + 1, sizeof *h->slots);
    if (!h->slots)
        abort();
}

static kv64 *ht_put(htab *h, uint64_t k, uint64_t v, int node, int *existed);
static void ht_grow(htab *h)
{
    htab n = {.mask = h->mask * 2 + 1};
    n.slots = calloc(n.mask + 1, sizeof *n.slots);
    if (!n.slots)
        abort();
    for (size_t i = 0; i <= h->mask; i++)
        if (h->slots[i].v) {
            int e;
            ht_put(&n, h->slots[i].k, h->slots[i].v, h->slots[i].node, &e);
        }
    free(h->slots);
    *h = n;
}

/* v must be non-zero (0 marks an empty slot). */
static kv64 *ht_put(htab *h, uint64_t k, uint64_t v, int node, int *existed)
{
    if ((h->used + 1) * 2 > h->mask)
        ht_grow(h);
    size_t i = (size_t)(k * 0x9E3779B97F4A7C15ull) & h->mask;
    while (h->slots[i].v && h->slots[i].k != k)
        i = (i + 1) & h->mask;
    *existed = h->slots[i].v != 0;
    if (!*existed) {
        h->slots[i] = (kv64){k, v, node};
        h->used++;
    }
    return &h->slots[i];
}

static void violation(json_t *list, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void violation(json_t *list, const char *fmt, ...)
{
    if (json_array_size(list) >= INV_MAX_VIOLATIONS)
        return;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_array_append_new(list, json_string(msg));
}

static uint64_t hash_of(json_t *e)
{
    const char *h = json_string_value(json_object_get(e, "hash"));
    uint64_t v = h ? strtoull(h, NULL, 16) : 0;
    return v ? v : 1;   /* 0 is the empty-slot marker */
}

void invariants_check(const char *run_dir, int nodes, int64_t starts[][16], const int *nstarts,
                      inv_result *out)
{
    memset(out, 0, sizeof *out);
    json_t *viol = json_array();
    htab leaders, commits, applies;
    ht_init(&leaders), ht_init(&commits), ht_init(&applies);
    size_t cap = 0;
    int files = 0;
    uint64_t events = 0, torn = 0;
    for (int i = 0; i < nodes; i++) {
        char path[1200];
        snprintf(path, sizeof path, "%s/nodes/n%d.trace.jsonl", run_dir, i + 1);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        files++;
        char *line = NULL;
        size_t lcap = 0;
        int incarnation = 0;
        int64_t last_time = -1;
        while (getline(&line, &lcap, f) > 0) {
            json_t *e = json_loads(line, 0, NULL);
            if (!e) {
                torn++;
                continue;
            }
            events++;
            const char *ev = json_string_value(json_object_get(e, "event"));
            int64_t t = json_integer_value(json_object_get(e, "time"));
            if (last_time >= 0 && t < last_time)
                incarnation++;   /* time went back: the node was restarted */
            last_time = t;
            uint64_t term = (uint64_t)json_integer_value(json_object_get(e, "term"));
            uint64_t index = (uint64_t)json_integer_value(json_object_get(e, "index"));
            if (!json_object_get(e, "index")) {
                /* chain-node: the commit of sequence number `seq` is write `rid`. */
                index = (uint64_t)json_integer_value(json_object_get(e, "seq"));
                if (json_is_integer(json_object_get(e, "rid")))
                    json_object_set_new(e, "hash", json_sprintf("%llx", (unsigned long long)
                                                                json_integer_value(json_object_get(e, "rid"))));
            }
            if (ev && !strcmp(ev, "config")) {
                ev = "role";   /* chain membership: head / middle / tail as a role */
                term = (uint64_t)json_integer_value(json_object_get(e, "epoch"));
            }
            int existed;
            if (ev && !strcmp(ev, "role")) {
                const char *role = json_string_value(json_object_get(e, "role"));
                if (out->nroles == cap) {
                    cap = cap ? cap * 2 : 256;
                    out->roles = realloc(out->roles, cap * sizeof *out->roles);
                    if (!out->roles)
                        abort();
                }
                inv_role *r = &out->roles[out->nroles++];
                r->node = i;
                snprintf(r->role, sizeof r->role, "%s", role ? role : "?");
                r->term = term;
                int64_t base = 0;
                if (starts && nstarts && nstarts[i] > 0)
                    base = starts[i][incarnation < nstarts[i] ? incarnation : nstarts[i] - 1];
                r->t0 = base + t;
                if (role && !strcmp(role, "leader")) {
                    kv64 *s = ht_put(&leaders, term, (uint64_t)i + 1, i, &existed);
                    if (existed && s->v != (uint64_t)i + 1)
                        violation(viol, "two leaders in term %" PRIu64 ": n%d and n%d", term,
                                  (int)s->v, i + 1);
                }
            } else if (ev && (!strcmp(ev, "commit") || !strcmp(ev, "apply")) && index) {
                int apply = ev[0] == 'a';
                uint64_t h = hash_of(e);
                kv64 *s = ht_put(apply ? &applies : &commits, index, h, i, &existed);
                if (existed && s->v != h)
                    violation(viol, "n%d and n%d %s different entries at index %" PRIu64,
                              s->node + 1, i + 1, apply ? "applied" : "committed", index);
            }
            json_decref(e);
        }
        free(line);
        fclose(f);
    }
    out->valid = files == 0 ? 2 : json_array_size(viol) ? 0 : 1;
    out->detail = json_pack("{s:o,s:i,s:I,s:I,s:I,s:o}", "valid",
                            out->valid == 2 ? json_string("unknown") : json_boolean(out->valid),
                            "trace_files", files, "events", (json_int_t)events, "torn_lines",
                            (json_int_t)torn, "terms_with_leader", (json_int_t)leaders.used,
                            "violations", viol);
    if (files == 0)
        json_object_set_new(out->detail, "why", json_string("no trace files"));
    free(leaders.slots), free(commits.slots), free(applies.slots);
}

void invariants_free(inv_result *r)
{
    json_decref(r->detail);
    free(r->roles);
    memset(r, 0, sizeof *r);
}
