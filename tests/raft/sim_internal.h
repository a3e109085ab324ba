/* sim_internal.h: the simulated world shared by sim.c (events, network,
 * disks, nodes, nemesis), sim_check.c (the oracle and the invariants) and
 * sim_client.c (clients and the register state machine). */
#ifndef RIFTLAB_TESTS_RAFT_SIM_INTERNAL_H
#define RIFTLAB_TESTS_RAFT_SIM_INTERNAL_H

#include <stddef.h>

#include "common/prng.h"
#include "tests/raft/sim.h"

#define SIM_MAXN 5
#define SIM_KEYS 8
#define SIM_PAYLOAD 24
#define SIM_SNAP_BYTES (SIM_KEYS * 8)
#define SIM_MAX_CLIENTS 8

/* A log entry as the simulation keeps it (payloads are small). */
typedef struct sim_rec {
    raft_term term;
    uint8_t type;
    uint8_t len;
    uint8_t data[SIM_PAYLOAD];
} sim_rec;

/* A log with a hash chain: chain[i] hashes entries 1..i, so two logs with
 * equal chain values at i are identical up to i (log matching in O(1)).
 * Slot i holds index i; slot 0 is unused (chain[0] = 0). */
typedef struct sim_log {
    sim_rec *rec;
    uint64_t *chain;
    size_t n, cap;       /* last index, capacity in slots */
} sim_log;

void sim_log_reserve(sim_log *l, size_t last);
void sim_log_set(sim_log *l, raft_index i, const sim_rec *r); /* n = i, chain updated */
void sim_log_free(sim_log *l);

/* One pending disk write (not yet fsynced). */
enum { OP_STATE, OP_TRUNC, OP_APPEND, OP_SNAP, OP_INSTALL };
typedef struct sim_op {
    uint8_t kind;
    raft_term term;
    raft_id vote;
    raft_index index;
    sim_rec rec;
    uint8_t snap[SIM_SNAP_BYTES];
} sim_op;

/* A node's disk: durable contents plus writes waiting for an fsync. The
 * durable log keeps every slot (entries at or below snap_index are
 * superseded by the snapshot: a boot ignores them). */
typedef struct sim_disk {
    raft_term term;
    raft_id vote;
    sim_log log;
    raft_index snap_index;
    raft_term snap_term;
    uint8_t snap[SIM_SNAP_BYTES];
    sim_op *ops;
    size_t n_ops, cap_ops;
    uint64_t ops_done;   /* sequence number of ops[0] */
    bool sync_pending;
} sim_disk;

typedef struct sim_pending_write {
    int client;
    uint64_t op;
    raft_index index;
    raft_term term;
} sim_pending_write;

typedef struct sim_node {
    raft_id id;
    bool up;
    uint64_t incarnation;   /* bumps at each crash: stale ticks/syncs are ignored */
    raft *r;
    uint64_t kv[SIM_KEYS];  /* the register state machine */
    raft_index sm_applied;
    int32_t drift_ppm;
    int64_t clock_offset;
    sim_disk disk;
    sim_log mirror;         /* the core's log as told through raft_out */
    raft_index seen_commit;
    int seen_role;
    raft_term seen_term;
    sim_pending_write *pw;
    size_t n_pw, cap_pw;
} sim_node;

typedef struct sim_client {
    bool busy;
    uint64_t op;            /* sequence of this client's current op */
    bool is_write;
    int node;
    int key;
    uint64_t value;
    raft_index min_index;   /* oracle commit when the read was invoked */
    raft_id guess;          /* leader it believes in */
} sim_client;

enum { EV_TICK, EV_DELIVER, EV_SYNC, EV_CLIENT, EV_CLIENT_TIMEOUT, EV_FAULT, EV_RESTART };
typedef struct sim_ev {
    int64_t t;
    uint64_t seq;
    uint8_t kind, node, from, type;
    uint64_t a, b;          /* kind-specific (incarnation, upto, client, op) */
    uint8_t *buf;
    size_t len;
} sim_ev;

typedef struct sim_world {
    sim_options o;
    sim_result *res;
    int64_t now;
    uint64_t seq;
    prng net, nemesis, disk, clients;
    sim_ev *heap;
    size_t n_heap, cap_heap;
    sim_node nodes[SIM_MAXN];
    bool blocked[SIM_MAXN][SIM_MAXN];
    sim_client cl[SIM_MAX_CLIENTS];
    /* The oracle: the committed log as first seen committed anywhere. */
    sim_log oracle;
    bool *acked;            /* acked[i]: a client was told index i succeeded */
    size_t cap_acked;
    raft_id *leader_of;     /* leader_of[term] */
    size_t cap_leader_of;
    bool failed;
    bool faults_on;
} sim_world;

/* sim.c */
void sim_schedule(sim_world *w, int64_t at, uint8_t kind, int node, uint64_t a, uint64_t b);
int64_t sim_node_now(const sim_world *w, const sim_node *n);
void sim_drain(sim_world *w, sim_node *n);
void sim_fail(sim_world *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sim_log_trace(const sim_world *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* sim_check.c */
uint64_t sim_rec_hash(const sim_rec *r);
void sim_check_append(sim_world *w, sim_node *n, raft_index i); /* log matching */
void sim_check_apply(sim_world *w, sim_node *n, raft_index i);  /* state machine safety */
void sim_check_step(sim_world *w);                             /* after every event */
void sim_check_final(sim_world *w);
void sim_mirror_from_oracle(sim_world *w, sim_node *n, raft_index upto);

/* sim_client.c */
void sim_client_event(sim_world *w, int c);
void sim_client_timeout(sim_world *w, int c, uint64_t op);
void sim_sm_apply(sim_world *w, sim_node *n, const raft_entry *e);
void sim_read_result(sim_world *w, sim_node *n, const raft_read_result *rr);
void sim_client_node_lost(sim_world *w, sim_node *n);

#endif
