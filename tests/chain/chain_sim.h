/* chain_sim.h: a deterministic simulation of a whole chain (members,
 * joiners, a configuration master, clients) in one process over a simulated
 * fair-loss network, driven by one seed.
 *
 * Each run: 3-5 members, clients writing unique values and reading in the
 * allowed modes, random crashes of head / middle / tail nodes, joins of new
 * tails, dropped / duplicated / delayed (so reordered) messages; then a
 * quiet phase without faults. It checks, while running and at the end:
 *   - every member commits sequence numbers in order, and a sequence number
 *     means the same write on every node that commits it (the applied
 *     sequence of every replica is a prefix of one order: the head's);
 *   - no acknowledged write is lost; no write reported failed commits;
 *   - after the quiet phase all members hold the same committed state;
 *   - reads (in the checked modes) are linearizable (chain_sim_check.c). */
#ifndef RIFTLAB_CHAIN_SIM_H
#define RIFTLAB_CHAIN_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "chain.h"

#define SIM_MODE_BIT(m) (1u << (m))

typedef struct sim_opts {
    uint64_t seed;
    uint32_t bugs;          /* CHAIN_BUG_* given to every node */
    uint32_t modes;         /* read modes clients use (SIM_MODE_BIT) */
    int ctrl;               /* 1: the real control plane (3 Raft nodes, heartbeats,
                               leases) instead of the in-test master; adds pauses
                               (false suspicions) and a control node crash */
    int no_lease;           /* ctrl mode: members ignore read leases (to show why they exist) */
    int verbose;            /* print every client operation and reconfiguration */
} sim_opts;

typedef struct sim_result {
    int ok;                 /* 1: every check passed */
    char why[512];          /* the first violation */
    uint64_t ops, writes_ok, reads_ok, crashes, joins, epochs, committed, pauses,
             false_suspicions;
} sim_result;

void chain_sim_run(const sim_opts *o, sim_result *r);

/* --- the linearizability check (chain_sim_check.c) ------------------------ */

enum sim_op_status { SIM_PENDING, SIM_OK, SIM_INFO, SIM_FAIL };

/* One client operation. Writes write the value `rid` (unique); reads record
 * the rid they saw (0: the key was absent). Times are a global event counter. */
typedef struct sim_op {
    int is_write;
    int key;
    uint64_t rid;           /* this operation's id (index + 1) */
    uint64_t value;         /* read: the rid observed */
    uint64_t inv, resp;     /* resp: UINT64_MAX if never answered */
    enum sim_op_status status;
    enum chain_read_mode mode;
    uint16_t node;
    int client;
} sim_op;

/* Check per key that the ok reads and the writes (ok or info) are
 * linearizable with the writes in commit order (order[1..n_order] are rids).
 * Reads in modes outside `modes` are ignored. Returns 1, or 0 with why. */
int chain_sim_check(const sim_op *ops, size_t nops, const uint64_t *order, size_t n_order,
                    int nkeys, uint32_t modes, char *why, size_t cap);

#endif
