/* rules.h: faultproxy's fault-decision engine, free of sockets and clocks.
 *
 * The engine knows the nodes, the fault rules, the partition and one PRNG per
 * directed link. For every datagram that arrives on a link it decides, in a
 * fixed order and with random draws only from that link's PRNG, what happens
 * to it (proxy_decide): blackholed, rate-limited, dropped, or forwarded as one
 * or more copies, each with its own delay, possibly truncated or with bits
 * flipped. Time is passed in by the caller, so tests drive it with a fake
 * clock and the relay (relay.c) only moves bytes.
 *
 * Rules. A rule applies faults to the datagrams of the links it matches:
 * from (a node or any), to (a node or any) and type (a message type or any).
 * Setting a rule with the same (from, to, type) replaces it. When several
 * rules match a datagram the most specific one wins, and only that one:
 * a rule naming the type beats one that does not; then one naming the sender
 * beats one that does not; then one naming the receiver. An empty rule (no
 * faults) is a valid way to exempt a link from a broader rule.
 *
 * Partitions are separate from rules: the nodes are split into numbered
 * groups (0 = not in any group) and every link between two different
 * non-zero groups is blackholed whatever the rules say. */
#ifndef RIFTLAB_PROXY_RULES_H
#define RIFTLAB_PROXY_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "common/prng.h"

#define PROXY_MAX_NODES   64
#define PROXY_MAX_RULES   1024
#define PROXY_MAX_DUP     8      /* extra copies a duplicate rule may ask for */
/* Deliveries one datagram can turn into: itself, its duplicates, a replay. */
#define PROXY_MAX_COPIES  (1 + PROXY_MAX_DUP + 1)
#define PROXY_MAX_DELAY_NS (60ull * 1000000000ull) /* every delay is capped here */
#define PROXY_ANY         (-1)   /* wildcard node or type in a rule */
#define PROXY_NAME_MAX    32

enum proxy_dist { PROXY_DIST_UNIFORM, PROXY_DIST_NORMAL, PROXY_DIST_PARETO };
enum proxy_where { PROXY_WHERE_ANY, PROXY_WHERE_HEADER, PROXY_WHERE_BODY };

/* The faults of one rule. Probabilities are in [0, 1]; zero means off. */
typedef struct proxy_faults {
    int blackhole;               /* drop everything, counted as blackholed */
    double drop;
    double duplicate;            /* chance of sending `copies` extra copies */
    uint32_t copies;             /* 1..PROXY_MAX_DUP */
    uint64_t delay_ns;           /* fixed part of the delay */
    uint64_t jitter_ns;          /* spread: uniform width, normal stddev, Pareto scale */
    enum proxy_dist dist;
    double alpha;                /* Pareto shape (heavier tail when smaller) */
    double reorder;              /* chance of holding a datagram back ... */
    uint64_t hold_ns;            /* ... for this much longer, so later ones overtake it */
    double corrupt;              /* chance of flipping `bits` random bits ... */
    uint32_t bits;
    enum proxy_where where;      /* ... in the header, the body or anywhere */
    double truncate;             /* chance of cutting the datagram at a random length */
    double replay;               /* chance of sending one more copy much later ... */
    uint64_t replay_after_ns;    /* ... after between this and twice this */
    double rate_msgs;            /* token bucket: datagrams per second (0: no limit) */
    double rate_bytes;           /* and bytes per second (0: no limit) */
} proxy_faults;

typedef struct proxy_rule {
    int from, to;                /* node index or PROXY_ANY */
    int type;                    /* message type 0..255 or PROXY_ANY */
    proxy_faults f;
} proxy_rule;

/* Counters of one directed link (what PROXY.STATS reports). The engine
 * counts decisions; the relay counts what it actually sent. */
typedef struct proxy_link_stats {
    uint64_t received, forwarded, dropped, duplicated, delayed, reordered,
             corrupted, truncated, replayed, blackholed, ratelimited,
             send_errors, overflow, bytes_in, bytes_out;
} proxy_link_stats;

typedef struct proxy_link {
    prng rng;                    /* this link's own stream: prng_derive(seed, from<<16|to) */
    uint64_t arrivals;           /* datagrams decided on this link so far */
    double tok_msgs, tok_bytes;  /* token buckets of the rate limit */
    uint64_t tok_time;           /* when they were last refilled (ns) */
    proxy_link_stats st;
    /* rule index that applies to each message type (-1: none); refreshed on
     * every rule change so the fast path is one array lookup. Index 256 is
     * for datagrams that carry no riftlab header. */
    int16_t rule_for_type[257];
} proxy_link;

typedef struct proxy_node {
    char name[PROXY_NAME_MAX];   /* how commands and stats name it ("n1") */
    uint16_t id;                 /* its id in the wire header */
} proxy_node;

typedef struct proxy_engine {
    int nnodes;
    proxy_node nodes[PROXY_MAX_NODES];
    proxy_link *links;           /* nnodes * nnodes, index from * nnodes + to */
    proxy_rule *rules;           /* PROXY_MAX_RULES slots, nrules used */
    int nrules;
    uint8_t group[PROXY_MAX_NODES]; /* partition group per node, 0 = none */
    uint64_t seed;
} proxy_engine;

enum proxy_verdict_kind {
    PROXY_V_FORWARD,   /* copies[] say when each copy leaves */
    PROXY_V_DROP,
    PROXY_V_BLACKHOLE, /* a blackhole rule */
    PROXY_V_PARTITION, /* the partition cuts this link (counted as blackholed) */
    PROXY_V_RATELIMIT,
};

typedef struct proxy_verdict {
    enum proxy_verdict_kind kind;
    int ncopies;
    uint64_t delay_ns[PROXY_MAX_COPIES]; /* per copy; 0 = send at once */
    uint8_t duplicated;   /* extra copies from the duplicate fault */
    uint8_t reordered;    /* copies held back by the reorder fault */
    uint8_t replayed;     /* 1 when the last copy is a replay */
    uint32_t flipped;     /* bits flipped (0: not corrupted) */
    int truncated;        /* 1 when the datagram was cut ... */
    size_t new_len;       /* ... to this length (always set) */
} proxy_verdict;

/* nodes: names and wire ids (names and ids must be unique; checked here).
 * Returns NULL with a message in err. */
proxy_engine *proxy_engine_new(int nnodes, const proxy_node *nodes, uint64_t seed,
                               char *err, size_t errlen);
void proxy_engine_free(proxy_engine *e);

static inline proxy_link *proxy_link_at(proxy_engine *e, int from, int to)
{
    return &e->links[from * e->nnodes + to];
}

/* Node index by name ("n1") or by wire id in decimal ("1"); -1 if unknown. */
int proxy_node_lookup(const proxy_engine *e, const char *s);
/* Node index by wire id; -1 if unknown. */
int proxy_node_by_id(const proxy_engine *e, uint16_t id);

/* Reseed every link's PRNG (their streams restart). */
void proxy_engine_seed(proxy_engine *e, uint64_t seed);
/* Remove every rule and the partition, zero the statistics, reseed. */
void proxy_engine_reset(proxy_engine *e);
void proxy_faults_init(proxy_faults *f);   /* all off, with the documented defaults */
int proxy_faults_empty(const proxy_faults *f);

/* Set (add or replace) the rule for (from, to, type). -1 when the table is full. */
int proxy_rule_set(proxy_engine *e, int from, int to, int type, const proxy_faults *f);
/* Remove it; returns 1 if there was one, 0 if not. */
int proxy_rule_clear(proxy_engine *e, int from, int to, int type);
/* The rule that applies to a datagram of `type` (-1: no riftlab header) on a link, or NULL. */
const proxy_rule *proxy_rule_for(const proxy_engine *e, int from, int to, int type);

/* Partition: group[i] for each node (0 = untouched). heal = all zero. */
void proxy_partition(proxy_engine *e, const uint8_t *group);
void proxy_heal(proxy_engine *e);
int proxy_partitioned(const proxy_engine *e, int from, int to);

/* Decide the fate of one datagram of `len` bytes on link from->to at time
 * now_ns. type is the header's message type or -1 when the datagram has no
 * valid riftlab header (then only rules with type any apply, and corruption
 * "header"/"body" falls back to "any"). May change data[0..len) in place
 * (corruption) and v->new_len (truncation). Updates the link's counters. */
void proxy_decide(proxy_engine *e, int from, int to, int type, uint8_t *data, size_t len,
                  uint64_t now_ns, proxy_verdict *v);

const char *proxy_verdict_name(enum proxy_verdict_kind k);

#endif
