/* rules.c: the fault-decision engine of faultproxy (see rules.h). Pure logic:
 * no sockets, no clock reads; every random draw comes from the link's PRNG
 * in a fixed order, so the same seed, rules and arrivals give the same
 * decisions. */
#include "rules.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/wire.h"

void proxy_faults_init(proxy_faults *f)
{
    memset(f, 0, sizeof *f);
    f->copies = 1;
    f->dist = PROXY_DIST_UNIFORM;
    f->alpha = 1.5;
    f->bits = 1;
    f->where = PROXY_WHERE_ANY;
    f->hold_ns = 10ull * 1000000;          /* 10ms */
    f->replay_after_ns = 100ull * 1000000; /* 100ms */
}

int proxy_faults_empty(const proxy_faults *f)
{
    return !f->blackhole && f->drop == 0 && f->duplicate == 0 && f->delay_ns == 0 &&
           f->jitter_ns == 0 && f->reorder == 0 && f->corrupt == 0 && f->truncate == 0 &&
           f->replay == 0 && f->rate_msgs == 0 && f->rate_bytes == 0;
}

proxy_engine *proxy_engine_new(int nnodes, const proxy_node *nodes, uint64_t seed,
                               char *err, size_t errlen)
{
    if (nnodes < 1 || nnodes > PROXY_MAX_NODES) {
        snprintf(err, errlen, "need 1 to %d nodes, got %d", PROXY_MAX_NODES, nnodes);
        return NULL;
    }
    for (int i = 0; i < nnodes; i++) {
        if (nodes[i].name[0] == '\0' || strcmp(nodes[i].name, "*") == 0) {
            snprintf(err, errlen, "node %d has no usable name", i);
            return NULL;
        }
        for (int j = 0; j < i; j++) {
            if (nodes[i].id == nodes[j].id || strcmp(nodes[i].name, nodes[j].name) == 0) {
                snprintf(err, errlen, "nodes %s and %s share a name or an id",
                         nodes[j].name, nodes[i].name);
                return NULL;
            }
        }
    }
    proxy_engine *e = calloc(1, sizeof *e);
    if (!e)
        abort();
    e->nnodes = nnodes;
    memcpy(e->nodes, nodes, sizeof(proxy_node) * (size_t)nnodes);
    e->links = calloc((size_t)nnodes * (size_t)nnodes, sizeof *e->links);
    e->rules = calloc(PROXY_MAX_RULES, sizeof *e->rules);
    if (!e->links || !e->rules)
        abort();
    proxy_engine_reset(e);
    proxy_engine_seed(e, seed);
    return e;
}

void proxy_engine_free(proxy_engine *e)
{
    if (!e)
        return;
    free(e->links);
    free(e->rules);
    free(e);
}

int proxy_node_by_id(const proxy_engine *e, uint16_t id)
{
    for (int i = 0; i < e->nnodes; i++)
        if (e->nodes[i].id == id)
            return i;
    return -1;
}

int proxy_node_lookup(const proxy_engine *e, const char *s)
{
    for (int i = 0; i < e->nnodes; i++)
        if (strcmp(e->nodes[i].name, s) == 0)
            return i;
    /* A plain decimal wire id. */
    if (*s == '\0' || strlen(s) > 5)
        return -1;
    unsigned v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (unsigned)(*p - '0');
    }
    return v > 0xFFFF ? -1 : proxy_node_by_id(e, (uint16_t)v);
}

void proxy_engine_seed(proxy_engine *e, uint64_t seed)
{
    e->seed = seed;
    for (int i = 0; i < e->nnodes; i++)
        for (int j = 0; j < e->nnodes; j++) {
            /* The stream is named by wire ids, not table positions, so a
             * link keeps its stream whatever order the nodes were listed in. */
            uint64_t stream = (uint64_t)e->nodes[i].id << 16 | e->nodes[j].id;
            proxy_link *l = proxy_link_at(e, i, j);
            prng_seed(&l->rng, prng_derive(seed, stream));
            l->arrivals = 0;
        }
}

/* Which rule applies to each (link, type): see the precedence in rules.h. */
static int rule_rank(const proxy_rule *r)
{
    return (r->type != PROXY_ANY) * 4 + (r->from != PROXY_ANY) * 2 + (r->to != PROXY_ANY);
}

static int rule_matches_link(const proxy_rule *r, int from, int to)
{
    return (r->from == PROXY_ANY || r->from == from) && (r->to == PROXY_ANY || r->to == to);
}

static void rules_resolve(proxy_engine *e)
{
    for (int from = 0; from < e->nnodes; from++)
        for (int to = 0; to < e->nnodes; to++) {
            proxy_link *l = proxy_link_at(e, from, to);
            int best = -1;
            for (int k = 0; k < e->nrules; k++) {
                const proxy_rule *r = &e->rules[k];
                if (r->type == PROXY_ANY && rule_matches_link(r, from, to) &&
                    (best < 0 || rule_rank(r) > rule_rank(&e->rules[best])))
                    best = k;
            }
            for (int t = 0; t < 257; t++)
                l->rule_for_type[t] = (int16_t)best;
            for (int k = 0; k < e->nrules; k++) {
                const proxy_rule *r = &e->rules[k];
                if (r->type == PROXY_ANY || !rule_matches_link(r, from, to))
                    continue;
                int cur = l->rule_for_type[r->type];
                if (cur < 0 || rule_rank(r) > rule_rank(&e->rules[cur]))
                    l->rule_for_type[r->type] = (int16_t)k;
            }
        }
}

void proxy_engine_reset(proxy_engine *e)
{
    e->nrules = 0;
    memset(e->group, 0, sizeof e->group);
    for (int i = 0; i < e->nnodes * e->nnodes; i++) {
        memset(&e->links[i].st, 0, sizeof e->links[i].st);
        e->links[i].tok_time = 0;
    }
    rules_resolve(e);
    proxy_engine_seed(e, e->seed);
}

static int rule_find(const proxy_engine *e, int from, int to, int type)
{
    for (int k = 0; k < e->nrules; k++)
        if (e->rules[k].from == from && e->rules[k].to == to && e->rules[k].type == type)
            return k;
    return -1;
}

int proxy_rule_set(proxy_engine *e, int from, int to, int type, const proxy_faults *f)
{
    int k = rule_find(e, from, to, type);
    if (k < 0) {
        if (e->nrules >= PROXY_MAX_RULES)
            return -1;
        k = e->nrules++;
    }
    e->rules[k] = (proxy_rule){.from = from, .to = to, .type = type, .f = *f};
    /* A changed rate starts with a full bucket rather than inherited debt. */
    for (int i = 0; i < e->nnodes * e->nnodes; i++)
        e->links[i].tok_time = 0;
    rules_resolve(e);
    return 0;
}

int proxy_rule_clear(proxy_engine *e, int from, int to, int type)
{
    int k = rule_find(e, from, to, type);
    if (k < 0)
        return 0;
    memmove(&e->rules[k], &e->rules[k + 1], sizeof(proxy_rule) * (size_t)(e->nrules - k - 1));
    e->nrules--;
    rules_resolve(e);
    return 1;
}

const proxy_rule *proxy_rule_for(const proxy_engine *e, int from, int to, int type)
{
    const proxy_link *l = &e->links[from * e->nnodes + to];
    int k = l->rule_for_type[type < 0 ? 256 : type];
    return k < 0 ? NULL : &e->rules[k];
}

void proxy_partition(proxy_engine *e, const uint8_t *group)
{
    memcpy(e->group, group, (size_t)e->nnodes);
}

void proxy_heal(proxy_engine *e)
{
    memset(e->group, 0, sizeof e->group);
}

int proxy_partitioned(const proxy_engine *e, int from, int to)
{
    return e->group[from] && e->group[to] && e->group[from] != e->group[to];
}

/* Token buckets hold at most one second's worth, refilled by elapsed time. */
static int rate_allows(proxy_link *l, const proxy_faults *f, size_t len, uint64_t now)
{
    if (f->rate_msgs <= 0 && f->rate_bytes <= 0)
        return 1;
    if (l->tok_time == 0) {
        l->tok_msgs = f->rate_msgs;
        l->tok_bytes = f->rate_bytes;
    } else if (now > l->tok_time) {
        double dt = (double)(now - l->tok_time) / 1e9;
        l->tok_msgs = fmin(f->rate_msgs, l->tok_msgs + dt * f->rate_msgs);
        l->tok_bytes = fmin(f->rate_bytes, l->tok_bytes + dt * f->rate_bytes);
    }
    l->tok_time = now ? now : 1;
    if ((f->rate_msgs > 0 && l->tok_msgs < 1) || (f->rate_bytes > 0 && l->tok_bytes < (double)len))
        return 0;
    if (f->rate_msgs > 0)
        l->tok_msgs -= 1;
    if (f->rate_bytes > 0)
        l->tok_bytes -= (double)len;
    return 1;
}

static uint64_t clamp_delay(double ns)
{
    if (!(ns > 0))
        return 0;
    if (ns >= (double)PROXY_MAX_DELAY_NS)
        return PROXY_MAX_DELAY_NS;
    return (uint64_t)ns;
}

static uint64_t sample_delay(prng *p, const proxy_faults *f)
{
    double base = (double)f->delay_ns, j = (double)f->jitter_ns;
    if (f->jitter_ns == 0)
        return clamp_delay(base);
    switch (f->dist) {
    case PROXY_DIST_NORMAL:
        return clamp_delay(prng_normal(p, base, j));
    case PROXY_DIST_PARETO:
        /* Pareto(xm = jitter) starts at xm; shift it so the minimum is `delay`. */
        return clamp_delay(base + prng_pareto(p, j, f->alpha) - j);
    case PROXY_DIST_UNIFORM:
    default:
        return clamp_delay(base + prng_double(p) * j);
    }
}

static void corrupt_bits(prng *p, const proxy_faults *f, int type, uint8_t *data, size_t len,
                         proxy_verdict *v)
{
    size_t lo = 0, hi = len;
    if (type >= 0 && len >= WIRE_HEADER_LEN) {
        if (f->where == PROXY_WHERE_HEADER)
            hi = WIRE_HEADER_LEN;
        else if (f->where == PROXY_WHERE_BODY)
            lo = WIRE_HEADER_LEN;
    }
    if (hi <= lo)
        return;    /* a body fault on a datagram without a body: nothing to flip */
    uint64_t nbits = (uint64_t)(hi - lo) * 8;
    for (uint32_t b = 0; b < f->bits; b++) {
        uint64_t bit = prng_below(p, nbits);
        data[lo + bit / 8] ^= (uint8_t)(1u << (bit % 8));
        v->flipped++;
    }
}

void proxy_decide(proxy_engine *e, int from, int to, int type, uint8_t *data, size_t len,
                  uint64_t now_ns, proxy_verdict *v)
{
    proxy_link *l = proxy_link_at(e, from, to);
    memset(v, 0, sizeof *v);
    v->new_len = len;
    l->arrivals++;
    l->st.received++;
    l->st.bytes_in += len;

    if (proxy_partitioned(e, from, to)) {
        v->kind = PROXY_V_PARTITION;
        l->st.blackholed++;
        return;
    }
    const proxy_rule *r = proxy_rule_for(e, from, to, type);
    if (!r) {
        v->kind = PROXY_V_FORWARD;
        v->ncopies = 1;
        return;
    }
    const proxy_faults *f = &r->f;
    prng *p = &l->rng;
    if (f->blackhole) {
        v->kind = PROXY_V_BLACKHOLE;
        l->st.blackholed++;
        return;
    }
    if (!rate_allows(l, f, len, now_ns)) {
        v->kind = PROXY_V_RATELIMIT;
        l->st.ratelimited++;
        return;
    }
    if (f->drop > 0 && prng_chance(p, f->drop)) {
        v->kind = PROXY_V_DROP;
        l->st.dropped++;
        return;
    }
    v->kind = PROXY_V_FORWARD;
    if (f->truncate > 0 && len > 0 && prng_chance(p, f->truncate)) {
        v->truncated = 1;
        v->new_len = (size_t)prng_below(p, len);
        l->st.truncated++;
    }
    if (f->corrupt > 0 && v->new_len > 0 && prng_chance(p, f->corrupt)) {
        corrupt_bits(p, f, type, data, v->new_len, v);
        if (v->flipped)
            l->st.corrupted++;
    }
    v->ncopies = 1;
    if (f->duplicate > 0 && prng_chance(p, f->duplicate)) {
        v->duplicated = (uint8_t)f->copies;
        v->ncopies += (int)f->copies;
        l->st.duplicated += f->copies;
    }
    for (int c = 0; c < v->ncopies; c++) {
        uint64_t d = sample_delay(p, f);
        if (f->reorder > 0 && prng_chance(p, f->reorder)) {
            d = clamp_delay((double)d + (double)f->hold_ns);
            v->reordered++;
            l->st.reordered++;
        }
        v->delay_ns[c] = d;
        if (d)
            l->st.delayed++;
    }
    if (f->replay > 0 && prng_chance(p, f->replay)) {
        double after = (double)f->replay_after_ns;
        v->delay_ns[v->ncopies++] = clamp_delay(after + prng_double(p) * after);
        v->replayed = 1;
        l->st.replayed++;
    }
}

const char *proxy_verdict_name(enum proxy_verdict_kind k)
{
    switch (k) {
    case PROXY_V_FORWARD: return "forward";
    case PROXY_V_DROP: return "drop";
    case PROXY_V_BLACKHOLE: return "blackhole";
    case PROXY_V_PARTITION: return "partition";
    case PROXY_V_RATELIMIT: return "ratelimit";
    }
    return "?";
}
